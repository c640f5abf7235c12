import type * as Ort from 'onnxruntime-node';
import { ActmaxError } from '../../errors.js';

/*
 * The browser twin of runtime.ts (package.json "browser"): onnxruntime-web. WebAssembly with SIMD,
 * on several threads when the page is cross-origin isolated (`actmax serve` sends the COOP/COEP
 * headers), and the WebGPU execution provider when the browser has a GPU adapter (its build is
 * loaded only then). Its WebAssembly is fetched next to the bundled module (bundlers emit it as an
 * asset), or from {@link setOnnxLocation}'s prefix.
 *
 * onnxruntime-web has ONE thread pool for every session, sized by `env.wasm.numThreads` when the
 * runtime starts; a session's `intraOpNumThreads` is ignored. So the pool is sized here, once, and
 * the engine's name reports that size. Its threads spin while they wait for work (the WebAssembly
 * build cannot turn that off), so a thread per logical core competes with the thread that drives
 * the steps: the default is onnxruntime-web's own, half the logical cores (at most 4). Measured in
 * headless Chromium on 2 busy cores (bundled model, 6 rows): 2 threads ran at half the rate of 1. Each `session.run` costs a few milliseconds of fixed work
 * in WebAssembly (far more than onnxruntime-node's), so small problems run many fused steps per
 * call ({@link stepsPerCall}).
 */

/** The onnxruntime module (onnxruntime-web here; the same API as onnxruntime-node). */
export type OrtModule = typeof Ort;

/** Most WebAssembly threads used: more only adds wake-up and join costs at the playground's batch sizes. */
const MAX_THREADS = 4;

/** Where the WebAssembly files are, when not next to the bundled module (the bundler's default). */
let prefix: string | null = null;
let requestedThreads: number | null = null;
let gpu = false;
let threads = 1;
let ortPromise: Promise<OrtModule | null> | null = null;

/**
 * Where onnxruntime-web's WebAssembly files are served (a URL prefix ending in `/`); call before
 * the first model is compiled.
 *
 * @example
 * setOnnxLocation('/assets/ort/'); // the page serves ort-wasm*.wasm and .mjs there
 */
export function setOnnxLocation(url: string): void {
  prefix = url;
}

/**
 * How many WebAssembly threads onnxruntime-web may use (1–4); call before the first model is
 * compiled. Default: half the browser's logical cores (`navigator.hardwareConcurrency`), rounded
 * up, at most 4, when the page is cross-origin isolated; a page that is not isolated always runs
 * on one thread.
 *
 * @example
 * setOnnxThreads(1); // e.g. to compare against the threaded default
 */
export function setOnnxThreads(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_THREADS) throw new ActmaxError('bad-option', `onnx threads must be a whole number from 1 to ${MAX_THREADS}, not ${count}`);
  requestedThreads = count;
}

async function hasGpu(): Promise<boolean> {
  const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator;
  if (!nav?.gpu) return false;
  try {
    return (await nav.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** The thread pool's size: the requested count or half the logical cores (capped), when SharedArrayBuffer is there. */
function poolSize(): number {
  const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (!scope.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(MAX_THREADS, requestedThreads ?? Math.ceil((scope.navigator?.hardwareConcurrency ?? 1) / 2)));
}

/**
 * Load onnxruntime-web (WebGPU build when a GPU adapter exists, else the WebAssembly-only build);
 * null when it cannot start.
 *
 * @example
 * if (await loadOnnxRuntime()) console.log('ONNX engine available');
 */
export function loadOnnxRuntime(): Promise<OrtModule | null> {
  ortPromise ??= (async () => {
    try {
      gpu = await hasGpu();
      const mod = (gpu ? await import('onnxruntime-web') : await import('onnxruntime-web/wasm')) as unknown as OrtModule & { env: { wasm: Record<string, unknown>; logLevel?: string } };
      threads = poolSize();
      if (prefix) mod.env.wasm.wasmPaths = prefix;
      mod.env.wasm.numThreads = threads;
      mod.env.logLevel = 'error';
      return mod;
    } catch {
      return null;
    }
  })();
  return ortPromise;
}

/**
 * Session options for generated graphs in the browser. `_wanted` (the Node twin's intra-op
 * threads) has no effect here: every session shares the runtime's one pool. The memory arena and
 * memory pattern are asked for explicitly (onnxruntime-web leaves both off unless told).
 *
 * @example
 * const session = await ort.InferenceSession.create(bytes, sessionOptions(1));
 */
export function sessionOptions(_wanted: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: gpu ? ['webgpu', 'wasm'] : ['wasm'],
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: !gpu,
    logSeverityLevel: 3,
  } as Ort.InferenceSession.SessionOptions;
}

/** The engine's name in results: `onnx-web-wasm-4t` (the runtime's thread pool), `onnx-web-webgpu`. @example engineName(1) */
export function engineName(_wanted: number): string {
  return gpu ? 'onnx-web-webgpu' : `onnx-web-wasm-${threads}t`;
}

/**
 * Fused steps per `session.run` for a problem of `values` variables (rows × features): many for
 * small problems, where the call's fixed cost in WebAssembly outweighs the steps (measured in
 * headless Chromium on the bundled model, 6 rows: 25 steps per call ≈ 0.7–1.1 ms of CPU per step,
 * 250 ≈ 0.5 ms);
 * undefined leaves the default.
 *
 * @example
 * stepsPerCall(6 * 784) // 250
 */
export function stepsPerCall(values: number): number | undefined {
  return values <= 20_000 ? 250 : values <= 100_000 ? 50 : undefined;
}
