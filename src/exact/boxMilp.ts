import { ActmaxError } from '../errors.js';
import { shallowInput, shallowValue, type ShallowProblem } from './bnb/shallow.js';
import type { ExactContext, SolverAnswer } from './context.js';
import { WARM_MIP_OPTIONS, type HighsSolver } from './highs.js';
import { forwardValues } from './network.js';
import { exactObjectiveValue } from './objective.js';
import { shallowMilp } from './shallowMilp.js';

/** Feasibility slack for the linear constraints of a MILP solution (they sit on them). */
const ROW_TOL = 1e-7;
/** The floor row is lowered by this (relative) so "infeasible" proves the box below the floor with room for HiGHS's tolerances. */
const FLOOR_MARGIN = 1e-6;

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
export async function solveShallowByMilp(ctx: ExactContext, p: ShallowProblem, solver: HighsSolver, floor?: number): Promise<SolverAnswer> {
  const lowered = floor === undefined ? undefined : floor - FLOOR_MARGIN * Math.max(1, Math.abs(floor));
  const milp = shallowMilp(p, lowered);
  // With a floor the MILP is there to prove the box below it: primal heuristics only cost time.
  const solverOptions = lowered !== undefined ? { ...WARM_MIP_OPTIONS, ...ctx.options.solverOptions } : ctx.options.solverOptions;
  const out = await solver.solveMip(milp, { timeLimit: ctx.timeLimit, gapTolerance: Math.max(ctx.gapTolerance, 1e-6), signal: ctx.options.signal, solverOptions });
  const encoding = { columns: milp.columns.length, rows: milp.rows.length, binaries: milp.stats.binaries, integers: milp.stats.integers, unstable: milp.stats.unstable, stable: 0, withoutBinary: milp.stats.withoutBinary, tightened: 0, boundsSeconds: 0 };
  const base = { method: 'milp' as const, nodes: out.nodes, solveSeconds: out.seconds, encoding, bnb: null };
  if (out.status === 'infeasible') {
    // Below the floor everywhere (or no point at all): closed, the floor bounds it.
    if (lowered !== undefined) return { ...base, x: null, solverValue: null, bound: floor!, proven: true, infeasible: null };
    return { ...base, x: null, solverValue: null, bound: null, proven: false, infeasible: 'the constraints admit no input (HiGHS proved the MILP infeasible)' };
  }
  if (out.status === 'unbounded') throw new ActmaxError('internal-check', `exact mode: HiGHS reports a box's MILP unbounded for ${ctx.name}, but every variable is bounded`);
  let x: Float64Array | null = null, solverValue: number | null = null;
  if (out.colValue) {
    const s = Float64Array.from({ length: p.n }, (_, i) => Math.min(1, Math.max(0, out.colValue![i])));
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

function rowsHold(p: ShallowProblem, s: Float64Array): boolean {
  for (let k = 0; k < p.rows; k++) {
    let lhs = 0;
    for (let i = 0; i < p.n; i++) lhs += p.A[k * p.n + i] * s[i];
    if (lhs > p.r[k] + ROW_TOL * (1 + Math.abs(p.r[k]))) return false;
  }
  return true;
}
