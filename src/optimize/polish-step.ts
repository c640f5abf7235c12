import type { Constraint } from '../constraints/constraint.js';
import { projectInPlace, type ResolvedConstraints } from '../constraints/index.js';
import { polishAnswers, type PolishSummary } from '../exact/polish.js';
import { polishCodes } from '../exact/priorPolish.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';

/** What {@link polishBestRows} reads and updates of a run: each row's best input and value. */
export interface BestRows {
  /** Per optimised input: rows × size, target-major (restarts rows per target). */
  bestX: Float32Array[];
  bestValue: Float64Array;
  restarts: number;
  sizes: number[];
  /** Each optimised input's constraints (float32 rows are projected onto them again). */
  resolved: ResolvedConstraints[];
}

/**
 * Gradient search's end-of-run polish (exact/polish.ts): the best row of each target is replaced
 * by the polished input when that is better by more than float32 rounding can take back (inputs
 * stay float32, as the engine sees them, and are projected onto the constraints again, as every
 * gradient step is). Returns what the polish did; targets it does not apply to are left as they are.
 *
 * @example
 * const polish = await polishBestRows(model, targets, rows, { constraints, optimize, fixed });
 */
export async function polishBestRows(
  model: ActmaxModel,
  targets: ObjectiveSpec[],
  rows: BestRows,
  o: { constraints: Constraint[]; optimize: number[]; fixed: Map<number, Float32Array>; signal?: AbortSignal; lps?: number; prior?: boolean },
): Promise<PolishSummary> {
  const { bestX, bestValue, restarts, sizes, resolved } = rows;
  const winners = targets.map((_, t) => {
    let best = t * restarts;
    for (let r = t * restarts; r < (t + 1) * restarts; r++) if (bestValue[r] > bestValue[best]) best = r;
    return best;
  });
  // Rows that never had a finite value stay as they are (maximize reports that).
  const live = winners.map((r) => Number.isFinite(bestValue[r]));
  if (!live.some(Boolean)) return { applied: false, reason: 'no finite value to polish', targets: [] };
  const inputs = winners.map((r) => {
    const x = new Float64Array(sizes.reduce((a, b) => a + b, 0));
    let o = 0;
    bestX.forEach((xs, k) => {
      x.set(xs.subarray(r * sizes[k], (r + 1) * sizes[k]), o);
      o += sizes[k];
    });
    return x;
  });
  // Under a data prior the rows hold its codes: the polish works in the code (exact/priorPolish.ts).
  const polish = o.prior ? polishCodes : polishAnswers;
  const { improved, summary } = await polish(model, targets, inputs, { constraints: o.constraints, optimize: o.optimize, fixed: o.fixed, signal: o.signal, lps: o.lps });
  improved.forEach((x, t) => {
    const polished = summary.targets[t];
    if (!polished) return; // nothing polished for this target (the summary says why)
    const { before, after } = polished;
    if (!x || !live[t] || before === null || after === null || !(after > before + 1e-6 * Math.max(1, Math.abs(before)))) return;
    // The engine computes in float32: a value beyond its range would come back as Infinity.
    if (!Number.isFinite(Math.fround(after))) return;
    const r = winners[t];
    let off = 0;
    bestX.forEach((xs, k) => {
      const row = xs.subarray(r * sizes[k], (r + 1) * sizes[k]);
      row.set(x.subarray(off, off + sizes[k]));
      projectInPlace(row, 1, resolved[k]);
      off += sizes[k];
    });
    bestValue[r] = after;
  });
  return summary;
}
