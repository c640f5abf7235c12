/**
 * The worker's link to the exact MILP maximiser (src/exact/, HiGHS in WebAssembly). This build
 * does not contain the exact solver yet, so `exactAvailable()` is false and the page says so
 * instead of showing a result; wiring it means filling in `runExact` with `maximizeExact`.
 */
import type { ActmaxModel } from '../../src/model/types.js';
import type { ExactRequest } from './messages.js';

/** Progress of an exact solve: best value found, proven upper bound, relative gap. */
export interface ExactProgress {
  incumbent: number | null;
  bound: number | null;
  gap: number | null;
  seconds: number;
}

/** The end of an exact solve. */
export interface ExactOutcome extends ExactProgress {
  status: string;
  value: number | null;
  input: number[] | null;
  outputs: number[] | null;
}

/** Is the exact solver part of this build? @example if (!exactAvailable()) showMessage() */
export function exactAvailable(): boolean {
  return false;
}

/**
 * Run the exact solver on one target. Only call when {@link exactAvailable} is true.
 *
 * @example
 * const outcome = await runExact(model, request, signal, (p) => show(p));
 */
export async function runExact(_model: ActmaxModel, _req: ExactRequest, _signal: AbortSignal, _onProgress: (p: ExactProgress) => void): Promise<ExactOutcome> {
  throw new Error('the exact solver is not available in this build');
}
