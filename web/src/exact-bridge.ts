/**
 * The compute worker's link to the exact maximiser (src/exact/). The web build swaps the MILP's
 * Node worker thread for a nested Web Worker (solver-thread.browser.ts, chosen by an alias in
 * web/vite.config.ts) that loads `highs/highs.mjs` and `highs/highs.wasm`; the branch-and-bound
 * runs in this compute worker itself (no threads), with HiGHS loaded here for its region LPs.
 */
import { maximizeExact, setHighsLocation, type ActmaxModel, type ExactProgress, type ExactResult } from 'actmax/browser';
import type { ExactRequest } from './messages.js';

/** Progress of an exact solve: phase, best value found, proven upper bound, relative gap (the library's type). */
export type { ExactProgress };

/** The end of an exact solve: the library's result (structured-cloneable). */
export type ExactOutcome = ExactResult;

/**
 * Is the exact solver usable here? It needs Web Workers inside the compute worker.
 *
 * @example if (!exactAvailable()) showMessage()
 */
export function exactAvailable(): boolean {
  return typeof Worker === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function';
}

/**
 * Where the page serves the `highs` files (a folder URL with highs.mjs and highs.wasm).
 *
 * @example
 * configureExact(new URL('highs/', document.baseURI).href);
 */
export function configureExact(highsFolderUrl: string): void {
  setHighsLocation(highsFolderUrl);
}

/**
 * Run the exact solver on one target. An abort stops the solve and returns the best input so far
 * (status `time-limit`, `interrupted: true`). Unsupported objectives, constraints or layers throw
 * the library's one-line ActmaxError (`unsupported`).
 *
 * @example
 * const outcome = await runExact(model, request, signal, (p) => show(p));
 */
export async function runExact(model: ActmaxModel, req: ExactRequest, signal: AbortSignal, onProgress: (p: ExactProgress) => void): Promise<ExactOutcome> {
  const result = await maximizeExact(model, req.target, {
    constraints: req.constraints,
    timeLimit: req.timeLimit,
    ...(req.start ? { warmStart: req.start } : {}),
    signal,
    onProgress: (p) => onProgress({ phase: p.phase, incumbent: p.incumbent, bound: p.bound, gap: p.gap, nodes: p.nodes, seconds: p.seconds }),
  });
  return result;
}
