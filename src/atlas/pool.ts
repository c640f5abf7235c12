import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ActmaxError, type ActmaxErrorCode } from '../errors.js';
import { prebuiltModule } from '../prebuilt.js';
import type { AtlasSettings, BatchResult, PlannedBatch } from './types.js';

/** What every thread of a pool is started with. */
export interface ThreadSetup {
  /** Model path or URL, as `loadModel` takes it. */
  source: string;
  backend: string;
  /** The plan's model digest; a thread whose model differs refuses to run. */
  digest?: string;
  /** Most units per maximize call (a worker's --max-batch). */
  maxUnits?: number;
  /** Name recorded in results (default host:pid). */
  label?: string;
  /** onnxruntime intra-op threads per batch (default ATLAS_INTRA_OP_THREADS, 1). */
  intraOpThreads?: number;
}

/** A message to a thread. */
export type ThreadRequest =
  | { type: 'load'; id: number }
  | { type: 'stop'; id: number }
  | { type: 'run'; id: number; batch: PlannedBatch; settings: AtlasSettings & { atlasId: string }; digest?: string };

/** A thread's answer. */
export interface ThreadReply {
  id: number;
  loaded?: boolean;
  /** The answer to `stop`: no batch runs any more. */
  stopped?: boolean;
  result?: BatchResult;
  error?: { message: string; actmax: boolean; code?: string; stack?: string };
}

/** Threads that each hold the model and run batches. */
export interface ThreadPool {
  readonly size: number;
  /** Load the model in every thread (errors surface here rather than with the first batch). */
  ready(): Promise<void>;
  /**
   * Run a batch on the next free thread; an abort ends its thread (started again for the next
   * batch). With `digest`, a thread whose model has another digest refuses the batch.
   */
  run(batch: PlannedBatch, settings: AtlasSettings & { atlasId: string }, signal?: AbortSignal, digest?: string): Promise<BatchResult>;
  close(): Promise<void>;
}

// Eval'd script that runs as CommonJS or as an ES module (execArgv such as --input-type is
// inherited): it loads the thread module, through tsx when running from the TypeScript sources.
const BOOT = String.raw`
import('node:worker_threads').then(({ workerData, parentPort }) => {
  const load = workerData.tsx ? import(workerData.tsx).then((t) => t.tsImport(workerData.entry, workerData.entry)) : import(workerData.entry);
  load.catch((e) => parentPort.postMessage({ id: -1, error: { message: String((e && e.stack) || e), actmax: false } }));
});
`;

function threadEntry(): { entry: string; tsx?: string } {
  // From the TypeScript sources (tsx, vitest) the module URL's path ends in .ts (tsx may add a query).
  const fromSources = new URL(import.meta.url).pathname.endsWith('.ts');
  const entry = new URL(fromSources ? './thread.ts' : './thread.js', import.meta.url).href;
  if (!fromSources) return { entry };
  const prebuilt = prebuiltModule(entry);
  if (prebuilt) return { entry: prebuilt };
  // tsx's ESM entry (its CommonJS one cannot register the loader inside a worker).
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return { entry, tsx: pathToFileURL(path.join(path.dirname(pkgFile), pkg.exports['./esm/api'].import.default)).href };
}

function toError(e: NonNullable<ThreadReply['error']>): Error {
  if (e.actmax) return new ActmaxError((e.code ?? 'internal-check') as ActmaxErrorCode, e.message);
  const err = new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

type Pending = Map<number, { resolve(r: ThreadReply): void; reject(e: Error): void }>;

/** How long a stopped thread may take to leave its step before it is ended anyway. */
const STOP_GRACE_MS = 10_000;

/**
 * Stop a thread: ask it to abort its run (it leaves at the next step), wait for it to say so,
 * then end it. Ending a thread while onnxruntime runs inside it would abort the whole process.
 */
async function stopThread(worker: Worker): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, STOP_GRACE_MS);
    worker.on('message', (reply: ThreadReply) => {
      if (reply.stopped) {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  worker.postMessage({ type: 'stop', id: -2 } satisfies ThreadRequest);
  await stopped;
  await worker.terminate();
}

/** One thread (started on first use, again after an abort or a crash) and its open requests. */
class Slot {
  private current: { worker: Worker; pending: Pending } | null = null;
  constructor(private readonly setup: ThreadSetup) {}

  private start(): { worker: Worker; pending: Pending } {
    const { entry, tsx } = threadEntry();
    const worker = new Worker(BOOT, { eval: true, workerData: { ...this.setup, entry, tsx } });
    const pending: Pending = new Map();
    const fail = (e: Error) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    const me = { worker, pending };
    worker.on('message', (reply: ThreadReply) => {
      if (reply.id === -1) return fail(toError(reply.error!));
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      p?.resolve(reply);
    });
    worker.on('error', (e: Error) => fail(e));
    worker.on('exit', (code) => {
      if (this.current === me) this.current = null;
      fail(new Error(`an atlas thread stopped (exit code ${code})`));
    });
    return me;
  }

  request(msg: ThreadRequest, signal?: AbortSignal): Promise<ThreadReply> {
    this.current ??= this.start();
    const me = this.current;
    return new Promise<ThreadReply>((resolve, reject) => {
      const onAbort = () => {
        me.pending.delete(msg.id);
        reject(new ActmaxError('aborted', 'the batch was stopped'));
        if (this.current === me) this.current = null;
        void stopThread(me.worker);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      me.pending.set(msg.id, {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      me.worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    const me = this.current;
    this.current = null;
    if (me) await me.worker.terminate();
  }
}

/**
 * Start `threads` worker threads that each load the model once and run atlas batches: the local
 * cores without Redis (TF.js's WASM backend is single-threaded in Node, so threads are how a
 * second core helps), and the compute side of a queue worker (its main thread stays free to renew
 * job locks).
 *
 * @example
 * const pool = startThreadPool(2, { source: 'model.keras', backend: 'wasm', digest: plan.modelDigest });
 * const result = await pool.run(plan.batches[0], { ...plan.settings, atlasId: plan.atlasId });
 * await pool.close();
 */
export function startThreadPool(threads: number, setup: ThreadSetup): ThreadPool {
  if (!Number.isInteger(threads) || threads < 1) throw new ActmaxError('bad-option', `threads must be an integer ≥ 1, got ${threads}`);
  if (setup.intraOpThreads !== undefined && !(Number.isInteger(setup.intraOpThreads) && setup.intraOpThreads >= 1)) throw new ActmaxError('bad-option', `intra-op threads must be an integer ≥ 1, got ${setup.intraOpThreads}`);
  const slots = Array.from({ length: threads }, () => new Slot(setup));
  const free = [...slots];
  const waiting: Array<(s: Slot) => void> = [];
  let nextId = 1;
  const acquire = () => new Promise<Slot>((resolve) => (free.length ? resolve(free.pop()!) : waiting.push(resolve)));
  const release = (s: Slot) => (waiting.length ? waiting.shift()!(s) : free.push(s));
  const ask = async (slot: Slot, msg: ThreadRequest, signal?: AbortSignal) => {
    const reply = await slot.request(msg, signal);
    if (reply.error) throw toError(reply.error);
    return reply;
  };
  return {
    size: threads,
    async ready() {
      await Promise.all(slots.map((s) => ask(s, { type: 'load', id: nextId++ })));
    },
    async run(batch, settings, signal, digest) {
      const slot = await acquire();
      try {
        if (signal?.aborted) throw new ActmaxError('aborted', 'the batch was stopped');
        return (await ask(slot, { type: 'run', id: nextId++, batch, settings, digest }, signal)).result!;
      } finally {
        release(slot);
      }
    },
    async close() {
      await Promise.all(slots.map((s) => s.close()));
    },
  };
}
