import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { prebuiltModule } from '../../prebuilt.js';
import type { NodeExecutor } from './executor.js';

/**
 * Worker threads for the branch-and-bound (Node). The web build aliases this file to
 * threads.browser.ts, which offers none (the solver then runs in the calling thread).
 *
 * Workers are kept in a small pool between solves (starting one loads the solver and HiGHS, about
 * a second from TypeScript sources) and do not keep the process alive while idle.
 */

/** How many worker threads a solve should use by default: the cores, at most 8. @example defaultThreads() // 2 here */
export function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cores));
}

const idle: WorkerExecutor[] = [];

/**
 * Take `count` worker executors from the pool (starting new ones as needed); give them back with
 * {@link releaseExecutors}.
 *
 * @example
 * const exs = acquireExecutors(2);
 * try { … } finally { releaseExecutors(exs); }
 */
export function acquireExecutors(count: number): NodeExecutor[] {
  const out: WorkerExecutor[] = [];
  while (out.length < count) out.push(idle.pop() ?? new WorkerExecutor());
  return out;
}

/**
 * Take up to `count` workers that are already running and idle (none is started): for short jobs
 * that would not win back a worker's start-up (≈1 s from TypeScript sources).
 *
 * @example
 * const exs = acquireIdleExecutors(2); // [] in a fresh process
 */
export function acquireIdleExecutors(count: number): NodeExecutor[] {
  const out: WorkerExecutor[] = [];
  while (out.length < count && idle.length > 0) out.push(idle.pop()!);
  return out;
}

/** Return executors to the pool (broken ones are dropped). @example releaseExecutors(exs) */
export function releaseExecutors(exs: NodeExecutor[]): void {
  for (const e of exs) {
    if (e instanceof WorkerExecutor && !e.broken) idle.push(e);
  }
}

/** Worker threads are available here. @example if (threadsAvailable()) … */
export function threadsAvailable(): boolean {
  return true;
}

/** The worker's entry and, when running from TypeScript sources, how to load it. */
function workerSource(): { source: string; workerData: Record<string, string> } {
  const self = import.meta.url;
  // tsx's loaders may add a query to module URLs (e.g. ?tsx-namespace=…): look at the path alone.
  const fromSources = new URL(self).pathname.endsWith('.ts');
  const prebuilt = fromSources ? prebuiltModule(new URL('./worker.ts', self).href) : undefined;
  if (fromSources && !prebuilt) {
    // Sources run through tsx (dev, tests): the worker registers tsx before importing its entry.
    const require = createRequire(self);
    const tsxRoot = path.dirname(require.resolve('tsx/package.json'));
    const api = pathToFileURL(path.join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
    const entry = new URL('./worker.ts', self).href;
    return {
      source: `const { workerData } = require('node:worker_threads');
import(workerData.api).then(({ register }) => { register(); return import(workerData.entry); }).catch((e) => { console.error(e); process.exit(1); });`,
      workerData: { api, entry },
    };
  }
  const entry = prebuilt ?? new URL('./worker.js', self).href;
  return { source: `const { workerData } = require('node:worker_threads'); import(workerData.entry).catch((e) => { console.error(e); process.exit(1); });`, workerData: { entry } };
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class WorkerExecutor implements NodeExecutor {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  broken = false;

  constructor() {
    const { source, workerData } = workerSource();
    this.worker = new Worker(source, { eval: true, workerData });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; ok: boolean; result?: unknown; message?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`bnb worker: ${m.message}`));
    });
    const fail = (e: Error) => {
      this.broken = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`bnb worker exited (code ${code})`)));
  }

  private request<T>(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.broken) return Promise.reject(new Error('bnb worker: not running'));
    const id = this.nextId++;
    // A request in flight keeps the process alive until its answer arrives.
    this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  init(problem: Parameters<NodeExecutor['init']>[0], effort: Parameters<NodeExecutor['init']>[1], stop: Int32Array): Promise<void> {
    return this.request({ type: 'init', problem, effort, stop: stop.buffer });
  }

  run(node: Parameters<NodeExecutor['run']>[0], target: number): ReturnType<NodeExecutor['run']> {
    return this.request({ type: 'run', node, target });
  }

  polish(s: Float64Array, options: Parameters<NodeExecutor['polish']>[1]): ReturnType<NodeExecutor['polish']> {
    return this.request({ type: 'polish', s, options });
  }

  explore(s: Float64Array, options: Parameters<NodeExecutor['explore']>[1]): ReturnType<NodeExecutor['explore']> {
    return this.request({ type: 'explore', s, options });
  }

  release(): Promise<void> {
    return this.request({ type: 'release' });
  }
}
