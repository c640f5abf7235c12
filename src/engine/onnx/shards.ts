import os from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';

/*
 * Sessions in worker threads (Node), for data parallelism: one worker thread per core, each
 * holding the sessions of its runs of rows on one intra-op thread each and running them one after
 * another. The fused step graphs run dozens of short ops a step; one session on two intra-op
 * threads synchronises its threads after every op, single-threaded sessions in two threads never
 * do; and small runs keep each op's tensors in the core's cache. The browser twin
 * (shards.browser.ts) has none: onnxruntime-web threads itself.
 *
 * The worker is plain JavaScript run from a string: it needs only onnxruntime-node, no sources.
 */

/** A tensor as it crosses to a worker and back. */
export interface WireTensor {
  type: Ort.Tensor.Type;
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  dims: readonly number[];
}

/** One session in a worker thread. */
export interface ShardSession {
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>>;
}

/** A worker thread holding sessions; `release` ends it (and its sessions). */
export interface ShardThread {
  open(model: Uint8Array, options: Ort.InferenceSession.SessionOptions): Promise<ShardSession>;
  release(): void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const sessions = new Map();
parentPort.on('message', async (m) => {
  try {
    if (m.kind === 'open') {
      sessions.set(m.session, await ort.InferenceSession.create(m.bytes, m.options));
      parentPort.postMessage({ id: m.id, ok: true });
      return;
    }
    const feeds = {};
    for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, t.data, t.dims);
    const out = await sessions.get(m.session).run(feeds);
    const result = {};
    const transfer = [];
    for (const [k, t] of Object.entries(out)) {
      // Handed over without a copy where the output owns its whole buffer (onnxruntime's do), else
      // a copy that does.
      const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && !transfer.includes(t.data.buffer);
      const data = whole ? t.data : t.data.slice();
      result[k] = { type: t.type, data, dims: t.dims };
      transfer.push(data.buffer);
    }
    parentPort.postMessage({ id: m.id, ok: true, result }, transfer);
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, message: String((e && e.message) || e) });
  }
});
`;

/** Whether sessions can run in worker threads here (Node: yes). @example shardsAvailable() // true */
export function shardsAvailable(): boolean {
  return true;
}

/**
 * Worker threads runs of rows may use by default: the cores, at most 8 (as the exact solver's
 * branch-and-bound).
 *
 * @example
 * shardCores() // 2 on a 2-core machine
 */
export function shardCores(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cores));
}

/**
 * A new worker thread for sessions (each opened with one intra-op thread: that is the point).
 *
 * @example
 * const thread = openShardThread();
 * const s = await thread.open(encodeModel(def), sessionOptions(1));
 * const out = await s.run({ x: { type: 'float32', data: x, dims: [rows, 784] } });
 * thread.release();
 */
export function openShardThread(): ShardThread {
  const ort = createRequire(import.meta.url).resolve('onnxruntime-node');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ort } });
  worker.unref();
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 1;
  let sessions = 0;
  let failure: Error | null = null;
  const failAll = (e: Error) => {
    failure = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', (m: { id: number; ok: boolean; result?: unknown; message?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`onnxruntime (shard thread): ${m.message}`));
  });
  worker.on('error', (e: Error) => failAll(e));
  worker.on('exit', (code) => failAll(new Error(`onnxruntime shard thread exited (code ${code})`)));
  const call = <T>(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ id, ...message }, transfer);
    });
  return {
    async open(model, options) {
      const session = sessions++;
      await call({ kind: 'open', session, bytes: model, options });
      return { run: (feeds) => call<Record<string, WireTensor>>({ kind: 'run', session, feeds }, Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer)) };
    },
    release: () => void worker.terminate(),
  };
}
