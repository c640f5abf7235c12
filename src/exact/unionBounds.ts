import type { Highs } from 'highs';
import { polishInRegion } from './bnb/polish.js';
import { RegionLp } from './bnb/regionLp.js';
import { shallowInput, type ShallowProblem } from './bnb/shallow.js';
import { nearRows, rowsHold } from './boxMilp.js';
import { floorRanges, type LpRunner } from './floorRanges.js';
import { reluCuts } from './reluCuts.js';
import { shallowMilp } from './shallowMilp.js';
import type { HighsSolver } from './highs.js';
import { forwardValues } from './network.js';
import { exactObjectiveValue } from './objective.js';
import { unitRanges, type CodePolytope, type UnitRanges } from './polytopeBound.js';
import type { Placed, UnionBox } from './union.js';

/*
 * A union's per-box work besides its solves (src/exact/union.ts): bounds over each box's
 * polytope, incumbents from them, and the tightening of a box before its long MILP.
 */

/** Rounds of range LPs when a box is tightened (each from the ranges of the last). */
const TIGHTEN_ROUNDS = 2;

/**
 * Tighten a box before its long MILP: the ranges of the units the objective gains from (c_j > 0:
 * the ones with a binary and a chord) over the box's triangle relaxation, on the rows with the
 * least slack at its LP maximiser and, with an incumbent, where the objective reaches it
 * (src/exact/floorRanges.ts; the LPs run in the lane's solver thread, so two lanes tighten at
 * once); then the box's polytope bound again with them. Returns the box's bound (maybe now below
 * the incumbent: the box closes without a MILP; ranges under a floor hold only where the
 * objective reaches it, so the bound is at least the floor); its MILP then runs with the tighter
 * big-M constants.
 *
 * @example
 * if ((await tightenBox(poly, solver, box, loweredFloor(incumbent), 30)) <= incumbent) console.log('closed');
 */
export async function tightenBox(poly: CodePolytope, solver: HighsSolver, box: UnionBox, floor: number | null, seconds: number, signal?: AbortSignal): Promise<number> {
  const p = box.shallow();
  if (!p || p.m === 0) return box.bound;
  const run: LpRunner = (rows, lo, hi, costs) => solver.solveLps(rows, lo, hi, costs, seconds, signal);
  const range = await floorRanges(run, box.lpPoint ? nearRows(p, box.lpPoint) : p, box.range ?? unitRanges(p), floor ?? -Infinity, TIGHTEN_ROUNDS);
  return rebound(poly, box, p, range, floor);
}

/**
 * A box's bound from its MILP's LP relaxation with root cuts of the ideal ReLU formulation
 * (src/exact/reluCuts.ts; this thread, ≈ 15 LPs over the rows with the least slack at the box's LP
 * maximiser and the box's ranges so far). With ranges tightened under `floor` the bound holds only
 * where the objective reaches it, so the box's bound becomes max(floor, the cut bound). Measured
 * on the bundled model's prior after the floor-cut ranges: it closes 41 more of Dress's 100 boxes
 * and 6 more of Sandal's, at ≈ 0.2 s a box.
 *
 * @example
 * if (cutBound(poly, box, loweredFloor(incumbent)) <= incumbent) console.log('closed');
 */
export function cutBound(poly: CodePolytope, box: UnionBox, floor: number | null): number {
  const p = box.shallow();
  if (!p || p.m === 0) return box.bound;
  const q = box.lpPoint ? nearRows(p, box.lpPoint) : p;
  const { bound } = reluCuts(poly.highs, q, shallowMilp(q, undefined, box.range ?? unitRanges(p)));
  if (bound === null) return box.bound;
  // HiGHS's LP optimum, not certified from duals: a margin for its tolerances.
  const capped = Math.max(floor ?? -Infinity, bound + CUT_MARGIN * (1 + Math.abs(bound)));
  box.bound = Math.min(box.bound, capped);
  return box.bound;
}

/** Added to a cut LP's bound (relative): HiGHS's LP tolerances are 1e-7. */
const CUT_MARGIN = 1e-6;

/** The box's polytope bound with `range` (at least `floor`), its new ranges and LP maximiser. */
function rebound(poly: CodePolytope, box: UnionBox, p: ShallowProblem, range: UnitRanges, floor: number | null): number {
  const tight = poly.bound(p, 2, range);
  box.range = range;
  const bound = floor === null ? tight.bound : Math.max(floor, tight.bound);
  if (bound < box.bound) {
    box.bound = bound;
    if (tight.s) box.lpPoint = tight.s;
  }
  return box.bound;
}

/**
 * Each box's bound over its polytope (the pixel box in the code, src/exact/polytopeBound.ts) for
 * the boxes whose bound still beats the incumbent, by decreasing bound: two LPs per box (α
 * re-chosen at the first LP's maximiser). One HiGHS LP serves all boxes, warm-started from box to
 * box, its rows entering by row generation. These bounds come before any box is solved: where the
 * pixel box is what confines the code, they are far below the interval and SDP bounds (which see
 * the code box only), so they prune boxes and order the others. Every LP's maximiser is a point of
 * the prior's set: the best, evaluated in float64 through the network, is returned as an
 * incumbent. Boxes without a branch-and-bound form (the MILP route) keep their interval bound.
 */
export function polytopeBounds(poly: CodePolytope, boxes: UnionBox[], target: () => number, seconds: number, spent: () => number, signal?: AbortSignal): Placed | null {
  let found: Placed | null = null;
  for (const box of [...boxes].sort((a, b) => b.bound - a.bound)) {
    if (spent() > seconds || signal?.aborted) break;
    if (box.bound <= Math.max(target(), found ? (found as Placed).value : -Infinity)) continue;
    const p = box.shallow();
    if (!p || p.m === 0) continue;
    const out = poly.bound(p, 2);
    box.bound = Math.min(box.bound, out.bound);
    box.lpPoint = out.s;
    if (!out.s || !rowsHold(p, out.s)) continue;
    const z = shallowInput(p, out.s);
    const value = exactObjectiveValue(box.obj, forwardValues(box.problem.net, z));
    box.lpValue = value;
    if (!found || value > found.value) found = { box: box.index, x: z, value };
  }
  return found;
}

/** Boxes polished for an incumbent before any solve (those whose LP maximisers score highest), and LPs per box. */
const POLISH_BOXES = 20;
export const POLISH_LPS = 40;

/**
 * Incumbents from the boxes' LP maximisers, before any box is solved: each box's polytope LP
 * maximiser (a point of the prior's set, from {@link polytopeBounds}) improved by LPs over
 * activation regions (src/exact/bnb/polish.ts), for the {@link POLISH_BOXES} boxes whose maximiser
 * scores highest (the objective there) among those whose bound still beats the incumbent. A
 * floored MILP proves a box below a higher floor much faster, so the true maximum found early
 * speeds every solve after it. Measured on the bundled model's prior (≈ 0.1 s a box): for every
 * class the polish of those 20 boxes gives the proven maximum (Sandal: the best value known), as
 * the polish of all 100 does; the 20 of largest bound missed it for Trouser (its box ranks 39th by
 * bound, 1st by its maximiser: 12.69 instead of 13.5585) and Dress (22nd: 10.18 instead of 10.41).
 * Pullover's maximum (13.1995, box 29) comes out of its LP maximiser (12.22), where the box solves
 * reached it only after 33 s. The LP budget, not the clock, bounds each polish, so the same
 * problem gives the same incumbent.
 *
 * @example
 * const found = polishBoxes(poly.highs, boxes, target, 60, spent); // found?.value ≥ every polished box's start
 */
export function polishBoxes(highs: Highs, boxes: UnionBox[], target: () => number, seconds: number, spent: () => number, signal?: AbortSignal): Placed | null {
  let found: Placed | null = null;
  const order = boxes.filter((b) => b.lpPoint && b.lpValue !== undefined).sort((a, b) => b.lpValue! - a.lpValue! || b.bound - a.bound).slice(0, POLISH_BOXES);
  for (const box of order) {
    if (spent() > seconds || signal?.aborted) break;
    if (box.bound <= Math.max(target(), found ? (found as Placed).value : -Infinity)) continue;
    const p = box.shallow();
    if (!p || p.m === 0) continue;
    const s = polishInBox(highs, p, box.lpPoint!);
    if (!s) continue;
    const z = shallowInput(p, s);
    const value = exactObjectiveValue(box.obj, forwardValues(box.problem.net, z));
    if (!found || value > found.value) found = { box: box.index, x: z, value };
  }
  return found;
}

/**
 * A point s of a box's problem (its code rescaled to [0, 1]) improved by LPs over activation
 * regions (the convex–concave ascent and single-unit flips of src/exact/bnb/polish.ts) within the
 * problem's rows; null when the result breaks a row beyond HiGHS's tolerance. The LP budget
 * (`lps`), not the clock, bounds it, so the same start gives the same point.
 *
 * @example
 * const s = polishInBox(highs, box.shallow()!, box.lpPoint!); // shallowValue(p, s) ≥ shallowValue(p, box.lpPoint)
 */
export function polishInBox(highs: Highs, p: ShallowProblem, start: Float64Array, lps = POLISH_LPS): Float64Array | null {
  const lp = new RegionLp(highs, p, false);
  try {
    // The LP budget bounds the polish (≈ 0.1 s at 40 LPs); the clock only as a safety stop, far
    // enough that a busy machine still gets the same point.
    const { s } = polishInRegion(p, lp, start, { maxLps: lps, timeLimit: 20 });
    return rowsHold(p, s) ? s : null;
  } finally {
    lp.dispose();
  }
}
