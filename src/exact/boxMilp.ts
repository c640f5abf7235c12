import { ActmaxError } from '../errors.js';
import { shallowInput, shallowValue, type ShallowProblem } from './bnb/shallow.js';
import type { ExactContext, SolverAnswer } from './context.js';
import { WARM_MIP_OPTIONS, type HighsSolver } from './highs.js';
import { forwardValues } from './network.js';
import { exactObjectiveValue } from './objective.js';
import { shallowMilp } from './shallowMilp.js';
import type { Milp } from './encode.js';
import type { UnitRanges } from './polytopeBound.js';

/** The floor row is lowered by this (relative) so "infeasible" proves the box below the floor with room for HiGHS's tolerances. */
const FLOOR_MARGIN = 1e-6;

/**
 * The floor a box's MILP gets for an incumbent `value`: a little below it, so HiGHS's tolerances
 * cannot close a box that holds a point as good.
 *
 * @example
 * loweredFloor(13.2) // 13.2 − 1.32e-5
 */
export function loweredFloor(value: number): number {
  return value - FLOOR_MARGIN * Math.max(1, Math.abs(value));
}

/** Feasibility slack for the linear constraints of a MILP solution (they sit on them). */
const ROW_TOL = 1e-7;

/**
 * One box of a union solved as the compact MILP of its shallow form (src/exact/shallowMilp.ts):
 * the code and the units, the pixel rows, and the incumbent as a floor row. Used where the rows
 * confine the code (a data prior): the branch-and-bound's SDP bounds see only the code box.
 * HiGHS proving the floored MILP infeasible closes the box below the floor (`x` null, proven);
 * a point it finds counts only after a float64 forward pass and a check of the rows.
 *
 * @example
 * const answer = await solveShallowByMilp(boxCtx, problem, solver, incumbent);
 */
export async function solveShallowByMilp(ctx: ExactContext, p: ShallowProblem, solver: HighsSolver, floor?: number, range?: UnitRanges, stopAtSolution = false): Promise<SolverAnswer> {
  const lowered = floor === undefined ? undefined : loweredFloor(floor);
  const milp = shallowMilp(p, lowered, range);
  // With a floor the MILP is there to prove the box below it: primal heuristics only cost time.
  const solverOptions = lowered !== undefined ? { ...WARM_MIP_OPTIONS, ...ctx.options.solverOptions } : ctx.options.solverOptions;
  const out = await solver.solveMip(milp, { timeLimit: ctx.timeLimit, gapTolerance: Math.max(ctx.gapTolerance, 1e-6), signal: ctx.options.signal, solverOptions, stopAtSolution });
  const base = { method: 'milp' as const, nodes: out.nodes, solveSeconds: out.seconds, encoding: milpEncoding(milp), bnb: null };
  if (out.status === 'infeasible') {
    // Below the floor everywhere (or no point at all): closed, the floor bounds it.
    if (lowered !== undefined) return { ...base, x: null, solverValue: null, bound: floor!, proven: true, infeasible: null };
    return { ...base, x: null, solverValue: null, bound: null, proven: false, infeasible: 'the constraints admit no input (HiGHS proved the MILP infeasible)' };
  }
  if (out.status === 'unbounded') throw new ActmaxError('internal-check', `exact mode: HiGHS reports a box's MILP unbounded for ${ctx.name}, but every variable is bounded`);
  let x: Float64Array | null = null, solverValue: number | null = null;
  if (out.colValue) {
    const s = codePoint(p, out.colValue);
    if (rowsHold(p, s)) {
      x = shallowInput(p, s);
      solverValue = shallowValue(p, s);
      const value = exactObjectiveValue(ctx.obj, forwardValues(ctx.net, x));
      if (Math.abs(value - solverValue) > 1e-6 * Math.max(1, Math.abs(value))) {
        throw new ActmaxError('internal-check', `exact mode: a box's MILP point gives ${solverValue} for ${ctx.name}, the float64 forward pass ${value}`);
      }
    }
  }
  const bound = out.bound === null ? null : Math.max(out.bound, lowered ?? -Infinity);
  return { ...base, x, solverValue, bound, proven: out.status === 'optimal' && x !== null, infeasible: null };
}

/** A compact MILP's size, as a box's answer reports it. */
function milpEncoding(milp: Milp) {
  const { binaries, integers, unstable, withoutBinary } = milp.stats;
  return { columns: milp.columns.length, rows: milp.rows.length, binaries, integers, unstable, stable: 0, withoutBinary, tightened: 0, boundsSeconds: 0 };
}

/** The code s of a solver's columns (its first n), clamped into [0, 1]. */
function codePoint(p: ShallowProblem, colValue: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: p.n }, (_, i) => Math.min(1, Math.max(0, colValue[i])));
}

/**
 * Whether s satisfies every row of p within HiGHS's feasibility tolerance (relative 1e-7): a
 * solver's point sits on its rows.
 *
 * @example
 * if (rowsHold(problem, lpPoint)) console.log('a point of the box');
 */
export function rowsHold(p: ShallowProblem, s: Float64Array): boolean {
  return brokenRows(p, s).length === 0;
}

/** Pixel rows a box's first MILP keeps: those with the least slack at the box's LP maximiser. */
const FIRST_ROWS = 200;

/**
 * {@link solveShallowByMilp} on a relaxation of the box that keeps only its rows with the least
 * slack at `near` (a point of the box's polytope, e.g. its LP maximiser): a floored MILP over
 * fewer rows proves the box below the floor as surely (it relaxes the box) and, measured on the
 * bundled model's prior, 2–2.5× faster. A point it finds that breaks a left-out row brings the
 * rows it breaks in, and the MILP runs again in the time left; a point that keeps every row is the
 * box's (and optimal for it when proven: the relaxation's optimum lies in the box).
 *
 * With a floor, two things keep the rounds that only find missing rows short: the rows the
 * floored LP relaxation breaks come in first ({@link discoverRows}), and each MILP stops at its
 * first point above the floor until one keeps every row (from then on the box's MILP runs to
 * its optimum). Measured on Dress's hardest box (47 binaries, floor = the class's maximum): a
 * first MILP that ran 58 s to find a point breaking 55 rows, then 53 s to prove the box, becomes
 * LP rounds of 0.1 s and one 47–59 s proof.
 *
 * @example
 * const answer = await solveShallowByMilpRows(boxCtx, problem, solver, incumbent, lpPoint); // firstRows: 200 by default
 */
export async function solveShallowByMilpRows(ctx: ExactContext, p: ShallowProblem, solver: HighsSolver, floor: number | undefined, near: Float64Array | null, firstRows = FIRST_ROWS, range?: UnitRanges): Promise<SolverAnswer> {
  if (!near || p.rows <= firstRows) return solveShallowByMilp(ctx, p, solver, floor, range);
  const keep = new Set(leastSlack(p, near, firstRows));
  const t0 = performance.now();
  const left = () => ctx.timeLimit - (performance.now() - t0) / 1000;
  if (floor !== undefined) {
    const closed = await discoverRows(ctx, p, solver, floor, keep, range, left);
    if (closed) return closed;
  }
  let stopAtSolution = floor !== undefined;
  for (;;) {
    const ans = await solveShallowByMilp({ ...ctx, timeLimit: Math.max(left(), 0.01) }, withRows(p, [...keep]), solver, floor, range, stopAtSolution);
    if (!ans.x) return ans;
    const broken = brokenRows(p, shallowPoint(p, ans.x));
    if (broken.length === 0 && !stopAtSolution) return ans;
    if (left() <= 0 || ctx.options.signal?.aborted) return broken.length === 0 ? ans : { ...ans, x: null, solverValue: null, proven: false };
    // A point of the box above the floor: from now on the MILP runs to the box's optimum.
    if (broken.length === 0) stopAtSolution = false;
    for (const k of broken) keep.add(k);
  }
}

/** Rounds of the floored LP relaxation that bring in the rows it breaks (it settles in 1–3). */
const DISCOVERY_ROUNDS = 8;

/**
 * Brings into `keep` the rows of p that the floored LP relaxation of the kept ones breaks, until
 * it breaks none (or after {@link DISCOVERY_ROUNDS}); cheap next to a MILP round, which would
 * otherwise search a branch-and-bound tree only to find such a point. Returns the box closed
 * when the relaxation has no point above the floor, else null.
 */
async function discoverRows(ctx: ExactContext, p: ShallowProblem, solver: HighsSolver, floor: number, keep: Set<number>, range: UnitRanges | undefined, left: () => number): Promise<SolverAnswer | null> {
  for (let round = 0; round < DISCOVERY_ROUNDS && left() > 0; round++) {
    const milp = shallowMilp(withRows(p, [...keep]), loweredFloor(floor), range);
    const lp = { ...milp, columns: milp.columns.map((c) => ({ ...c, integer: false })) };
    const out = await solver.solveMip(lp, { timeLimit: Math.max(left(), 0.01), gapTolerance: 0, signal: ctx.options.signal });
    if (out.status === 'infeasible') {
      const encoding = { ...milpEncoding(milp), binaries: 0, integers: 0, withoutBinary: milp.stats.unstable };
      return { method: 'milp', nodes: 0, solveSeconds: out.seconds, encoding, bnb: null, x: null, solverValue: null, bound: floor, proven: true, infeasible: null };
    }
    if (!out.colValue) return null;
    const broken = brokenRows(p, codePoint(p, out.colValue));
    if (broken.length === 0) return null;
    for (const k of broken) keep.add(k);
  }
  return null;
}

/**
 * p with only its `count` rows of least slack at `near` (a relaxation of p: what holds over it
 * holds over p), or p itself when it has no more rows than that.
 *
 * @example
 * const looser = nearRows(problem, box.lpPoint, 200); // looser.rows ≤ 200
 */
export function nearRows(p: ShallowProblem, near: Float64Array, count = FIRST_ROWS): ShallowProblem {
  return p.rows <= count ? p : withRows(p, leastSlack(p, near, count));
}

/** The `count` rows of p with the least slack at s. */
function leastSlack(p: ShallowProblem, s: Float64Array, count: number): number[] {
  const slack = Array.from({ length: p.rows }, (_, k) => ({ k, v: p.r[k] - rowValue(p, k, s) }));
  return slack.sort((a, b) => a.v - b.v).slice(0, count).map((o) => o.k);
}

/** p with only the listed rows. */
function withRows(p: ShallowProblem, rows: number[]): ShallowProblem {
  const A = new Float64Array(rows.length * p.n);
  rows.forEach((k, t) => A.set(p.A.subarray(k * p.n, (k + 1) * p.n), t * p.n));
  return { ...p, A, r: Float64Array.from(rows, (k) => p.r[k]), rows: rows.length };
}

/** Rows of p that s breaks (beyond the feasibility slack). */
function brokenRows(p: ShallowProblem, s: Float64Array): number[] {
  const out: number[] = [];
  for (let k = 0; k < p.rows; k++) if (rowValue(p, k, s) > p.r[k] + ROW_TOL * (1 + Math.abs(p.r[k]))) out.push(k);
  return out;
}

function rowValue(p: ShallowProblem, k: number, s: ArrayLike<number>): number {
  let lhs = 0;
  for (let i = 0; i < p.n; i++) lhs += p.A[k * p.n + i] * s[i];
  return lhs;
}

/** The point s of the rescaled box for a network input x (inverse of shallowInput). */
function shallowPoint(p: ShallowProblem, x: Float64Array): Float64Array {
  return Float64Array.from(p.features, (f, i) => (x[f] - p.lo[i]) / p.span[i]);
}

