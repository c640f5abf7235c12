import { isActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints } from '../constraints/index.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { formatObjective } from '../objectives/format.js';
import { unitNorms } from './bnb/lagrange.js';
import { NodeSolver } from './bnb/node.js';
import { climbVertex, polishInRegion } from './bnb/polish.js';
import { RegionLp } from './bnb/regionLp.js';
import { rootNode } from './bnb/search.js';
import { shallowInput, shallowProblem, shallowValue, type ShallowProblem } from './bnb/shallow.js';
import { loadHighsHere } from './highs-here.js';
import { joinInputConstraints } from './inputs.js';
import { extractNetwork, forwardValues, type PLNetwork } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';

/**
 * The polish of gradient-search answers for networks with one hidden ReLU layer, a linear
 * objective and box or linear constraints (gradient search's end-of-run step, and the exact
 * solver's incumbents): LPs over activation regions, which are exact inside a region.
 *
 * 1. From the answer: the convex–concave ascent (an LP per step) and single-unit flips into the
 *    neighbouring regions (bnb/polish.ts).
 * 2. Gradient search can settle in a basin far from the maximum (class 1 of the bundled model:
 *    every restart ends near 40.4, the maximum is 41.04 at an input 141 pixel-units away). A few
 *    sweeps of the root SDP relaxation and random-hyperplane roundings of it give starting points
 *    in other basins; hill climbing over box vertices (no LP) takes each to a local optimum, and
 *    the best two get a short ascent.
 */

/** Options of {@link polishAnswers}. */
export interface PolishAnswersOptions {
  constraints?: Constraint[];
  /** Optimised model inputs (indices) and the values of the others, as in `maximize`. */
  optimize?: number[];
  fixed?: Map<number, Float32Array>;
  /**
   * LPs per target (default 30). The budget is counted in LPs, not seconds, so that the same
   * input always polishes to the same answer; `timeLimit` (seconds per target, default 5) is only
   * a safety stop.
   */
  lps?: number;
  timeLimit?: number;
  signal?: AbortSignal;
}

/** What the polish did for one target. */
export interface PolishTargetReport {
  objective: string;
  /** Objective before and after (float64) and LPs solved; null when it did not apply. */
  before: number | null;
  after: number | null;
  lps: number;
  /** Why it did not apply to this target (e.g. a margin objective), else null. */
  skipped: string | null;
}

/** What the polish did, or why it did not apply. */
export interface PolishSummary {
  applied: boolean;
  /** Why not, when it did not apply. */
  reason: string | null;
  targets: PolishTargetReport[];
}

/** Roundings of the root relaxation tried per target. */
const ROUNDINGS = 8;

/**
 * Polish one answer per target. `inputs[t]` holds target t's optimised inputs concatenated (in
 * `optimize` order); the result holds a better input (or null) per target, each checked by a
 * float64 forward pass through the network.
 *
 * @example
 * const { improved, summary } = await polishAnswers(model, [{ kind: 'logit', index: 1 }], [x]);
 * if (improved[0]) console.log(summary.targets[0].before, '→', summary.targets[0].after);
 */
export async function polishAnswers(model: ActmaxModel, specs: ObjectiveSpec[], inputs: ArrayLike<number>[], options: PolishAnswersOptions = {}): Promise<{ improved: Array<Float64Array | null>; summary: PolishSummary }> {
  const improved: Array<Float64Array | null> = specs.map(() => null);
  const skip = (reason: string) => ({ improved, summary: { applied: false, reason, targets: [] } });
  const optimize = options.optimize ?? model.inputs.map((_, i) => i);
  let net: PLNetwork;
  let rc: ReturnType<typeof joinInputConstraints>;
  try {
    net = extractNetwork(model, { optimize, fixed: options.fixed });
    rc = joinInputConstraints(optimize.map((i) => resolveConstraints(options.constraints ?? [], model.inputs[i], i)));
  } catch (e) {
    if (isActmaxError(e)) return skip(e.message);
    throw e;
  }
  const targets: PolishTargetReport[] = [];
  for (let t = 0; t < specs.length && !options.signal?.aborted; t++) {
    const objective = formatObjective(specs[t]);
    let obj: ReturnType<typeof exactObjective>;
    let problem: ShallowProblem;
    try {
      obj = exactObjective(model, net, specs[t]);
      const r = shallowProblem(net, obj, rc);
      if ('reason' in r) {
        targets.push({ objective, before: null, after: null, lps: 0, skipped: r.reason });
        continue;
      }
      problem = r.problem;
    } catch (e) {
      if (!isActmaxError(e)) throw e;
      targets.push({ objective, before: null, after: null, lps: 0, skipped: e.message });
      continue;
    }
    const highs = await loadHighsHere();
    const value = (s: Float64Array) => exactObjectiveValue(obj, forwardValues(net, shallowInput(problem, s)));
    const r = polishOne(highs, problem, inputs[t], options.lps ?? 30, options.timeLimit ?? 30);
    const before = value(r.start);
    const after = value(r.best);
    if (after > before) improved[t] = shallowInput(problem, r.best);
    targets.push({ objective, before, after: Math.max(before, after), lps: r.lps, skipped: null });
  }
  const applied = targets.some((r) => r.skipped === null);
  return { improved, summary: { applied, reason: applied ? null : (targets[0]?.skipped ?? 'interrupted'), targets } };
}

/**
 * The ascent (with flips) from x; on box-only problems also hill climbing over vertices from x
 * and from roundings of the root relaxation, then short ascents from the best two vertices.
 */
function polishOne(highs: Awaited<ReturnType<typeof loadHighsHere>>, p: ShallowProblem, x: ArrayLike<number>, maxLps: number, timeLimit: number): { start: Float64Array; best: Float64Array; lps: number; seconds: number } {
  const t0 = performance.now();
  const left = () => timeLimit - (performance.now() - t0) / 1000;
  const start = Float64Array.from(p.features, (f, i) => (p.span[i] > 0 ? Math.min(1, Math.max(0, (x[f] - p.lo[i]) / p.span[i])) : 0));
  const lp = new RegionLp(highs, p, false);
  try {
    let best: Float64Array = start;
    let bestValue = shallowValue(p, start), lps = 0;
    const consider = (s: Float64Array, flips: number, budget: number) => {
      budget = Math.min(maxLps - lps, budget);
      if (left() <= 0 || budget <= 0) return;
      const r = polishInRegion(p, lp, s, { timeLimit: left(), flips, maxLps: budget });
      lps += r.lps;
      if (r.value > bestValue) {
        best = r.s;
        bestValue = r.value;
      }
    };
    if (p.rows > 0) {
      // Vertices may break the linear constraints: the LP ascent from x alone.
      consider(start, 12, maxLps);
    } else {
      const norms = unitNorms(p);
      const solver = new NodeSolver(p, norms, { maxSweeps: 30, rootSweeps: 30, stall: 0.1, rootStall: 0.01, window: 4, etaRoot: 0.5, eta: 0.3 });
      solver.bound(rootNode(p, norms), -Infinity, (s) => solver.sdp.value(s), false);
      const starts: Float64Array[] = [start];
      for (let k = 0; k < ROUNDINGS; k++) {
        const s = new Float64Array(p.n);
        solver.roundOnce(s);
        starts.push(s);
      }
      const climbed = starts.map((s) => climbVertex(p, s)).sort((u, v) => v.value - u.value);
      consider(start, 2, Math.ceil(maxLps / 3));
      for (const c of climbed.slice(0, 2)) consider(c.s, 2, Math.ceil(maxLps / 3));
    }
    return { start, best, lps, seconds: (performance.now() - t0) / 1000 };
  } finally {
    lp.dispose();
  }
}
