import type * as Ort from 'onnxruntime-node';

/*
 * The browser twin of runtime.ts (package.json "browser"): onnxruntime-web. WebAssembly with SIMD,
 * on several threads when the page is cross-origin isolated (`actmax serve` sends the COOP/COEP
 * headers), and the WebGPU execution provider when the browser has a GPU adapter (its build is
 * loaded only then). Its WebAssembly is fetched next to the bundled module (bundlers emit it as an
 * asset), or from {@link setOnnxLocation}'s prefix.
 */

/** The onnxruntime module (onnxruntime-web here; the same API as onnxruntime-node). */
export type OrtModule = typeof Ort;

/** Where the WebAssembly files are, when not next to the bundled module (the bundler's default). */
let prefix: string | null = null;
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

async function hasGpu(): Promise<boolean> {
  const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator;
  if (!nav?.gpu) return false;
  try {
    return (await nav.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
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
      const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
      threads = scope.crossOriginIsolated ? Math.max(1, Math.min(4, scope.navigator?.hardwareConcurrency ?? 1)) : 1;
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
 * Session options for generated graphs in the browser: up to `wanted` of the runtime's threads
 * (small batches run faster on one: waking WebAssembly threads costs more than their ops).
 *
 * @example
 * const session = await ort.InferenceSession.create(bytes, sessionOptions(1));
 */
export function sessionOptions(wanted: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: gpu ? ['webgpu', 'wasm'] : ['wasm'],
    intraOpNumThreads: Math.max(1, Math.min(wanted, threads)),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  } as Ort.InferenceSession.SessionOptions;
}

/** The engine's name in results: `onnx-web-wasm-2t`, `onnx-web-webgpu`. @example engineName(1) */
export function engineName(wanted: number): string {
  return gpu ? 'onnx-web-webgpu' : `onnx-web-wasm-${Math.max(1, Math.min(wanted, threads))}t`;
}
