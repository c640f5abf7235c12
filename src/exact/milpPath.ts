import { ActmaxError, isActmaxError } from '../errors.js';
import { depths, exprBounds, intervalBounds, isUnstable, nonlinearSources, type Bounds } from './bounds.js';
import type { ExactContext, SolverAnswer } from './context.js';
import { encode, startSolution, type ExactObjective, type Milp } from './encode.js';
import { HighsSolver } from './highs.js';
import type { ExactInputSet } from './inputs.js';
import { forwardValues, type PLNetwork } from './network.js';
import { exactObjectiveValue } from './objective.js';

const REL_TOL = 1e-5;
const close = (a: number, b: number) => Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * The MILP route of the exact maximiser: interval bounds, LP tightening of deeper layers where it
 * pays, the big-M encoding, and HiGHS in a worker thread, started from the warm start.
 *
 * @example
 * const answer = await solveByMilp(ctx);
 */
export async function solveByMilp(ctx: ExactContext): Promise<SolverAnswer> {
  const { net, rc, obj, options, timeLimit, gapTolerance, start, progress } = ctx;
  const solver = await HighsSolver.start();
  try {
    const tb = performance.now();
    let bounds = intervalBounds(net, rc.lo, rc.hi, ctx.problem.known);
    const budget = options.tighten === false ? 0 : (options.tighten ?? Math.min(30, 0.2 * timeLimit));
    let tightened = 0;
    if (budget > 0) {
      progress({ phase: 'bounds', incumbent: start?.value ?? null, bound: null, gap: null, nodes: 0 });
      const r = await tightenBounds(net, rc, bounds, solver, budget, options.signal, ctx.problem.known);
      bounds = r.bounds;
      tightened = r.tightened;
    }
    const boundsSeconds = (performance.now() - tb) / 1000;

    let milp: Milp;
    try {
      milp = encode(net, rc, bounds, obj);
    } catch (e) {
      if (isActmaxError(e) && e.code === 'infeasible') return { ...nothing('milp'), infeasible: e.message };
      throw e;
    }
    const encoding = {
      columns: milp.columns.length, rows: milp.rows.length, binaries: milp.stats.binaries, integers: milp.stats.integers,
      unstable: milp.stats.unstable, stable: milp.stats.stable, withoutBinary: milp.stats.withoutBinary, tightened, boundsSeconds,
    };
    const iaBound = objectiveIntervalBound(obj, bounds);
    const startCols = start ? startSolution(milp, forwardValues(net, start.x)) : undefined;
    let best = start?.value ?? null;
    const outcome = await solver.solveMip(milp, {
      timeLimit,
      gapTolerance,
      start: startCols,
      signal: options.signal,
      solverOptions: options.solverOptions,
      onProgress: (p) => {
        const bound = p.bound === null ? iaBound : Math.min(p.bound, iaBound);
        const inc = p.incumbent === null ? best : Math.max(best ?? -Infinity, p.incumbent);
        progress({ phase: 'solve', incumbent: inc, bound, gap: gapOf(inc, bound), nodes: p.nodes });
      },
      onIncumbent: (v) => {
        best = Math.max(best ?? -Infinity, v);
      },
    });
    const base = { method: 'milp' as const, nodes: outcome.nodes, solveSeconds: outcome.seconds, encoding, bnb: null };
    if (outcome.status === 'infeasible') return { ...nothing('milp'), ...base, infeasible: 'the constraints admit no input (HiGHS proved the MILP infeasible)' };
    if (outcome.status === 'unbounded') throw new ActmaxError('internal-check', `exact mode: HiGHS reports the MILP unbounded for ${ctx.name}, but every variable is bounded`);

    let x: Float64Array | null = null;
    let solverValue: number | null = null;
    if (outcome.colValue) {
      x = Float64Array.from(milp.inputCols, (c, i) => Math.min(rc.hi[i], Math.max(rc.lo[i], outcome.colValue![c])));
      solverValue = outcome.objective;
      const value = exactObjectiveValue(obj, forwardValues(net, x));
      if (solverValue !== null) {
        const tol = REL_TOL * Math.max(1, Math.abs(value), Math.abs(solverValue));
        // The MILP value is the network's, up to units encoded without a binary (which can only understate it).
        if (solverValue > value + tol || (outcome.status === 'optimal' && !close(solverValue, value))) {
          throw new ActmaxError('internal-check', `exact mode: the MILP says ${ctx.name} = ${solverValue} at its solution, the float64 forward pass gives ${value}`);
        }
      }
    }
    return { ...base, x, solverValue, bound: Math.min(outcome.bound ?? Infinity, iaBound), proven: outcome.status === 'optimal', infeasible: null };
  } finally {
    await solver.close();
  }
}

/** An answer with nothing found yet. @example return { ...nothing('milp'), infeasible: 'no input' }; */
export function nothing(method: SolverAnswer['method']): SolverAnswer {
  return { method, x: null, solverValue: null, bound: null, proven: false, nodes: 0, solveSeconds: 0, encoding: null, bnb: null, infeasible: null };
}

/** (bound − value)/|value|, the gap HiGHS reports; Infinity when value is 0 and the bound is above. @example gapOf(40, 41) // 0.025 */
export function gapOf(value: number | null, bound: number | null): number | null {
  if (value === null || bound === null || !Number.isFinite(bound)) return null;
  const d = Math.max(0, bound - value);
  if (d === 0) return 0;
  return Math.abs(value) > 0 ? d / Math.abs(value) : Infinity;
}

/** An upper bound on the objective from the variable bounds alone. */
function objectiveIntervalBound(obj: ExactObjective, b: Bounds): number {
  let ub = exprBounds(obj.linear, b)[1];
  for (const m of obj.margins) ub -= m.weight * Math.max(...m.others.map((e) => exprBounds(e, b)[0]));
  return ub;
}

/**
 * LP-based bound tightening, depth by depth: the min and max of each unstable pre-activation
 * over the LP relaxation of everything before it. Skips the first layer when the input set is a
 * box (interval arithmetic is already exact there). Stops when the time budget is spent.
 *
 * @example
 * const { bounds } = await tightenBounds(net, rc, intervalBounds(net, rc.lo, rc.hi), solver, 5);
 */
export async function tightenBounds(net: PLNetwork, rc: ExactInputSet, start: Bounds, solver: HighsSolver, budgetSeconds: number, signal?: AbortSignal, given?: Bounds): Promise<{ bounds: Bounds; tightened: number }> {
  const t0 = performance.now();
  const dep = depths(net);
  const boxOnly = rc.l1.length === 0 && rc.linear.length === 0 && rc.oneHot.length === 0;
  const sources = nonlinearSources(net);
  const maxDepth = sources.reduce((m, s) => Math.max(m, dep[s]), 0);
  // `given`: bounds the constraints imply (e.g. a prior's input box), kept through every pass.
  const known: Bounds = given ? { lo: Float64Array.from(given.lo), hi: Float64Array.from(given.hi) } : { lo: new Float64Array(net.vars.length).fill(-Infinity), hi: new Float64Array(net.vars.length).fill(Infinity) };
  let bounds = start;
  let tightened = 0;
  for (let d = boxOnly ? 1 : 0; d <= maxDepth; d++) {
    const left = budgetSeconds - (performance.now() - t0) / 1000;
    if (left <= 0 || signal?.aborted) break;
    const targets = sources.filter((s) => dep[s] === d && net.vars[s].kind === 'affine' && isUnstable(net, bounds, s));
    if (targets.length === 0) continue;
    const upTo = Math.max(...targets) + 1;
    const milp = encode(net, rc, bounds, null, { relax: true, upTo });
    const r = await solver.solveBounds(milp, targets.map((v) => milp.varCol[v]), left, signal);
    targets.forEach((v, k) => {
      if (k >= r.done) return;
      // LP tolerances: loosen by a hair so the bounds stay valid.
      const slack = (x: number) => 1e-6 * (1 + Math.abs(x));
      const lo = r.lo[k] - slack(r.lo[k]), hi = r.hi[k] + slack(r.hi[k]);
      if (lo > bounds.lo[v] + 1e-9 || hi < bounds.hi[v] - 1e-9) tightened++;
      known.lo[v] = Math.max(bounds.lo[v], lo);
      known.hi[v] = Math.min(bounds.hi[v], hi);
    });
    bounds = intervalBounds(net, rc.lo, rc.hi, known);
  }
  return { bounds, tightened };
}
