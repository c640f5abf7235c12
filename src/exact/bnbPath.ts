import { ActmaxError } from '../errors.js';
import type { ExactContext, SolverAnswer } from './context.js';
import { gapOf } from './milpPath.js';
import { forwardValues } from './network.js';
import { exactObjectiveValue } from './objective.js';
import { shallowInput, shallowValue, type ShallowProblem } from './bnb/shallow.js';
import { solveBnb } from './bnb/solve.js';

/**
 * Smallest relative gap the branch-and-bound prunes at: its bounds carry floating-point margins,
 * so a node exactly at the incumbent could otherwise never be closed.
 */
export const MIN_PRUNE_TOLERANCE = 1e-6;

/** Feasibility slack for the linear constraints of a candidate (LP solutions sit on them). */
const ROW_TOL = 1e-7;

/**
 * The branch-and-bound route of the exact maximiser (one hidden ReLU layer, linear objective,
 * box and linear constraints): polish the warm start, bound the root, split the tree over the
 * worker threads. Candidates count only after a float64 forward pass through the network and a
 * check of the linear constraints. `floor` is a value reached elsewhere (another box of a union):
 * a tree it closes without a point of its own is proven (`x` null, `bound` its largest pruned bound).
 *
 * @example
 * const answer = await solveByBnb(ctx, problem, warmStartPromise);
 */
export async function solveByBnb(ctx: ExactContext, p: ShallowProblem, start: Promise<{ x: Float64Array; value: number } | null>, floor?: number): Promise<SolverAnswer> {
  const { net, obj, options } = ctx;
  const validate = (s: Float64Array): number => {
    for (let k = 0; k < p.rows; k++) {
      let lhs = 0;
      for (let i = 0; i < p.n; i++) lhs += p.A[k * p.n + i] * s[i];
      if (lhs > p.r[k] + ROW_TOL * (1 + Math.abs(p.r[k]))) return -Infinity;
    }
    return exactObjectiveValue(obj, forwardValues(net, shallowInput(p, s)));
  };
  const toS = (x: Float64Array) => Float64Array.from(p.features, (f, i) => (p.span[i] > 0 ? Math.min(1, Math.max(0, (x[f] - p.lo[i]) / p.span[i])) : 0));
  const pruneTolerance = Math.max(ctx.gapTolerance, MIN_PRUNE_TOLERANCE);
  const t0 = performance.now();
  const startedAt = ctx.seconds();
  const out = await solveBnb(p, {
    timeLimit: ctx.timeLimit,
    gapTolerance: pruneTolerance,
    signal: options.signal,
    start: start.then((w) => (w ? toS(w.x) : null)),
    validate,
    threads: options.threads,
    floor,
    onProgress: (q) => ctx.progress({ phase: q.phase === 'root' ? 'bounds' : 'solve', incumbent: q.incumbent, bound: q.bound, gap: gapOf(q.incumbent, q.bound), nodes: q.nodes }),
  });
  const solveSeconds = (performance.now() - t0) / 1000;
  let branchUnits = 0;
  for (let j = 0; j < p.m; j++) if (p.c[j] > 0) branchUnits++;
  const bnb = {
    units: p.m, branchUnits, rootBound: out.rootBound, rootSeconds: startedAt + out.rootSeconds, leaves: out.leaves, sweeps: out.sweeps,
    threads: out.threads, polish: out.polish, pruneTolerance,
  };
  const base = { method: 'bnb' as const, nodes: out.nodes, solveSeconds, encoding: null, bnb };
  if (out.status === 'infeasible') {
    return { ...base, x: null, solverValue: null, bound: null, proven: false, infeasible: 'the constraints admit no input (every region\'s LP is infeasible)' };
  }
  const x = out.best ? shallowInput(p, out.best.s) : null;
  const solverValue = out.best ? shallowValue(p, out.best.s) : null;
  if (out.best && solverValue !== null && Math.abs(solverValue - out.best.value) > 1e-6 * Math.max(1, Math.abs(solverValue))) {
    throw new ActmaxError('internal-check', `exact mode: the branch-and-bound's own value ${solverValue} for ${ctx.name} differs from the float64 forward pass ${out.best.value}`);
  }
  return { ...base, x, solverValue, bound: out.bound, proven: out.status === 'optimal', infeasible: null };
}
