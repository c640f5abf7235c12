import type { Constraint } from '../constraints/constraint.js';
import { polishAnswers, type PolishSummary } from '../exact/polish.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';

/** What {@link polishBestRows} reads and updates of a run: each row's best input and value. */
export interface BestRows {
  /** Per optimised input: rows × size, target-major (restarts rows per target). */
  bestX: Float32Array[];
  bestValue: Float64Array;
  restarts: number;
  sizes: number[];
}

/**
 * Gradient search's end-of-run polish (exact/polish.ts): the best row of each target is replaced
 * by the polished input when that is better (inputs stay float32, as the engine sees them).
 * Returns what the polish did; targets it does not apply to are left as they are.
 *
 * @example
 * const polish = await polishBestRows(model, targets, rows, { constraints, optimize, fixed });
 */
export async function polishBestRows(
  model: ActmaxModel,
  targets: ObjectiveSpec[],
  rows: BestRows,
  o: { constraints: Constraint[]; optimize: number[]; fixed: Map<number, Float32Array>; signal?: AbortSignal; lps?: number },
): Promise<PolishSummary> {
  const { bestX, bestValue, restarts, sizes } = rows;
  const winners = targets.map((_, t) => {
    let best = t * restarts;
    for (let r = t * restarts; r < (t + 1) * restarts; r++) if (bestValue[r] > bestValue[best]) best = r;
    return best;
  });
  const inputs = winners.map((r) => {
    const x = new Float64Array(sizes.reduce((a, b) => a + b, 0));
    let o = 0;
    bestX.forEach((xs, k) => {
      x.set(xs.subarray(r * sizes[k], (r + 1) * sizes[k]), o);
      o += sizes[k];
    });
    return x;
  });
  const { improved, summary } = await polishAnswers(model, targets, inputs, { constraints: o.constraints, optimize: o.optimize, fixed: o.fixed, signal: o.signal, lps: o.lps });
  improved.forEach((x, t) => {
    if (!x) return;
    const r = winners[t];
    let off = 0;
    bestX.forEach((xs, k) => {
      xs.set(x.subarray(off, off + sizes[k]), r * sizes[k]);
      off += sizes[k];
    });
    bestValue[r] = summary.targets[t].after ?? bestValue[r];
  });
  return summary;
}
