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

/**
 * What a stepwise session needs besides its network graph (stepwise.ts builds it): the pictures
 * (rows of h×w, one channel), the shift draws' reach P and fill, the TV gradient's weights and
 * constant (null: no TV), Adam's constants and the clip bounds per feature, and the kernels.
 */
export interface StepwiseSpec {
  rows: number;
  h: number;
  w: number;
  P: number;
  fill: number;
  tv: { wW2: number; wH2: number; K: Float32Array; maskW: Float32Array; maskH: Float32Array } | null;
  b1: number;
  b2: number;
  eps: number;
  lo: Float32Array;
  hi: Float32Array;
  wasm: Uint8Array;
}

/** A worker thread holding sessions; `release` ends it (and its sessions). */
export interface ShardThread {
  open(model: Uint8Array, options: Ort.InferenceSession.SessionOptions): Promise<ShardSession>;
  /**
   * A session that takes the fused ascent graph's feeds and gives its outputs, running each step
   * as one call of `model` (the network's value and input gradient) between WebAssembly kernels
   * for the shifts, the TV gradient, Adam and the clip (stepwise.ts says when it applies).
   */
  openStepwise(model: Uint8Array, options: Ort.InferenceSession.SessionOptions, spec: StepwiseSpec): Promise<ShardSession>;
  release(): void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const sessions = new Map();
// The stepwise session: the fused ascent's feeds in, its outputs out, one network call a step.
async function stepwise(net, spec) {
  const { rows, h, w, P, fill, tv, b1, b2, eps } = spec;
  const n = h * w, B = rows * n * 4;
  const { instance } = await WebAssembly.instantiate(spec.wasm);
  const k = instance.exports;
  let top = 64;
  const alloc = (bytes) => { const at = top; top += (bytes + 64 + 63) & ~63; return at; };
  const X = alloc(B + 4 * w), J = alloc(B), G = alloc(B), D = alloc(B), M = alloc(B), V = alloc(B);
  const C = alloc(4 * (n + 4)), CV = alloc(4 * (n + w)), MW = alloc(4 * n), MH = alloc(4 * n), K = alloc(4 * n);
  const LO = alloc(4 * n), HI = alloc(4 * n), AL = alloc(4 * rows), IDS = alloc(4 * rows);
  const have = k.memory.buffer.byteLength;
  if (top > have) k.memory.grow(Math.ceil((top - have) / 65536));
  const f32 = (at, len) => new Float32Array(k.memory.buffer, at, len);
  const x = f32(X, rows * n), j = f32(J, rows * n), g = f32(G, rows * n), m = f32(M, rows * n), v = f32(V, rows * n);
  const alphas = f32(AL, rows), ids = new Int32Array(k.memory.buffer, IDS, rows);
  f32(LO, n).set(spec.lo);
  f32(HI, n).set(spec.hi);
  if (tv) {
    f32(MW, n).set(tv.maskW);
    f32(MH, n).set(tv.maskH);
    f32(K, n).set(tv.K);
  }
  return async (feeds) => {
    const steps = feeds.alpha0.dims[0];
    x.set(feeds.x0.data);
    m.set(feeds.m0.data);
    v.set(feeds.v0.data);
    // The feeds are this thread's own copies: best-so-far is kept in them.
    const bestX = feeds.best_x0.data, bestV = feeds.best_value.data;
    const values = new Float32Array(steps * rows), best = new Float32Array(steps * rows), bad = new Float32Array(rows);
    const draws = feeds.draws0.data, alpha = feeds.alpha0.data;
    // The network reads the shifted rows and writes the gradient in the kernels' memory: no copies.
    const input = new ort.Tensor('float32', j, [rows, n]);
    const valueOut = new Float32Array(rows);
    const fetches = { value: new ort.Tensor('float32', valueOut, [rows]), grad0: new ort.Tensor('float32', g, [rows, n]) };
    for (let s = 0; s < steps; s++) {
      ids.set(draws.subarray(s * rows, (s + 1) * rows));
      k.shiftRows(X, J, IDS, rows, h, w, P, 1, fill);
      await net.run({ x0: input }, fetches);
      const value = valueOut;
      // Best so far before the update (NaN never wins); v·0 is NaN exactly when v is not finite.
      for (let r = 0; r < rows; r++) {
        const val = value[r];
        values[s * rows + r] = val;
        bad[r] += val * 0;
        if (val > bestV[r]) {
          bestV[r] = val;
          bestX.set(x.subarray(r * n, (r + 1) * n), r * n);
        }
        best[s * rows + r] = bestV[r];
      }
      k.shiftRows(G, D, IDS, rows, h, w, P, -1, 0);
      if (tv) k.tvAdd(X, D, rows, h, w, C, CV, MW, MH, K, tv.wW2, tv.wH2);
      alphas.set(alpha.subarray(s * rows, (s + 1) * rows));
      k.adamClip(X, D, M, V, AL, LO, HI, rows, n, b1, b2, eps);
    }
    // A non-finite gradient leaves v non-finite for good.
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let i = r * n; i < (r + 1) * n; i++) sum += v[i];
      bad[r] += sum;
    }
    const T = (data, dims) => ({ type: 'float32', data, dims });
    return {
      x0_out: T(x.slice(), [rows, n]), m0_out: T(m.slice(), [rows, n]), v0_out: T(v.slice(), [rows, n]), best_x0_out: T(bestX, [rows, n]),
      best_value_out: T(bestV, [rows]), values: T(values, [steps, rows]), best: T(best, [steps, rows]), bad: T(bad, [rows]),
    };
  };
}
parentPort.on('message', async (m) => {
  try {
    if (m.kind === 'open' || m.kind === 'openStepwise') {
      const session = await ort.InferenceSession.create(m.bytes, m.options);
      sessions.set(m.session, m.kind === 'open' ? session : { stepwise: await stepwise(session, m.spec) });
      parentPort.postMessage({ id: m.id, ok: true });
      return;
    }
    const held = sessions.get(m.session);
    let out;
    if (held.stepwise) out = await held.stepwise(m.feeds);
    else {
      const feeds = {};
      for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, t.data, t.dims);
      out = await held.run(feeds);
    }
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
  const opened = async (kind: 'open' | 'openStepwise', model: Uint8Array, options: Ort.InferenceSession.SessionOptions, spec?: StepwiseSpec): Promise<ShardSession> => {
    const session = sessions++;
    await call({ kind, session, bytes: model, options, spec });
    return { run: (feeds) => call<Record<string, WireTensor>>({ kind: 'run', session, feeds }, Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer)) };
  };
  return {
    open: (model, options) => opened('open', model, options),
    openStepwise: (model, options, spec) => opened('openStepwise', model, options, spec),
    release: () => void worker.terminate(),
  };
}
