import type * as Ort from 'onnxruntime-node';

/** The onnxruntime module (Node's native one, or onnxruntime-web in a browser). */
export type OrtModule = typeof Ort;
let ortPromise: Promise<OrtModule | null> | null = null;

/**
 * Load `onnxruntime-node` if it is installed (it is an optional dependency); null otherwise.
 *
 * @example
 * if (await loadOnnxRuntime()) console.log('native engine available');
 */
export function loadOnnxRuntime(): Promise<OrtModule | null> {
  ortPromise ??= (async () => {
    try {
      const name = 'onnxruntime-node';
      const mod = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
      return mod.InferenceSession ? mod : (mod.default ?? null);
    } catch {
      return null;
    }
  })();
  return ortPromise;
}

/**
 * Session options for generated graphs: `threads` intra-op threads, sequential execution, all
 * graph optimisations. Two or more threads spin between ops (onnxruntime's default): the fused
 * step graphs run dozens of short ops per step, and waking parked threads for each cost the
 * image-defaults path 10–15 % (measured, batch 1000, 2 cores). One thread has no pool to spin;
 * the atlas's parallel workers run one thread each, so they never spin against each other.
 *
 * @example
 * const session = await ort.InferenceSession.create(bytes, sessionOptions(2));
 */
export function sessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: threads > 1 ? '1' : '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** The engine's name in results: `onnx-2t` for onnxruntime-node on 2 threads. @example engineName(2) // 'onnx-2t' */
export function engineName(threads: number): string {
  return `onnx-${threads}t`;
}

/**
 * Where onnxruntime-web finds its WebAssembly files; nothing to do in Node (the browser twin
 * sets it).
 *
 * @example
 * setOnnxLocation('/ort/');
 */
export function setOnnxLocation(_url: string): void {}

/**
 * Fused steps per call the runtime prefers for a problem of `values` variables; undefined: the
 * fused loop's default (onnxruntime-node's calls are cheap). The browser twin asks for more.
 *
 * @example
 * stepsPerCall(6 * 784) // undefined
 */
export function stepsPerCall(_values: number): number | undefined {
  return undefined;
}
