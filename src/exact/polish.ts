import { isActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints } from '../constraints/index.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { formatObjective } from '../objectives/format.js';
import { inThreadExecutor, type NodeExecutor } from './bnb/executor.js';
import { DEFAULT_EFFORT } from './bnb/node.js';
import { shallowInput, shallowProblem, type ShallowProblem } from './bnb/shallow.js';
import { acquireExecutors, acquireIdleExecutors, defaultThreads, releaseExecutors } from './bnb/threads.js';
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
 *    the best two get a short ascent (bnb/explore.ts).
 *
 * Targets are independent: with several, they are shared among the idle worker threads of the
 * branch-and-bound's pool.
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
  /**
   * Worker threads: a number starts that many; by default the pool's idle workers are used when
   * there are 4 targets or more (none is started: that costs more than a polish), else the calling thread.
   */
  threads?: number;
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
  // Which targets it applies to, and their problems.
  const targets: PolishTargetReport[] = specs.map((spec) => ({ objective: formatObjective(spec), before: null, after: null, lps: 0, skipped: null }));
  const jobs: Array<{ t: number; problem: ShallowProblem; value: (s: Float64Array) => number }> = [];
  specs.forEach((spec, t) => {
    try {
      const obj = exactObjective(model, net, spec);
      const r = shallowProblem(net, obj, rc);
      if ('reason' in r) targets[t].skipped = r.reason;
      else jobs.push({ t, problem: r.problem, value: (s) => exactObjectiveValue(obj, forwardValues(net, shallowInput(r.problem, s))) });
    } catch (e) {
      if (!isActmaxError(e)) throw e;
      targets[t].skipped = e.message;
    }
  });
  if (jobs.length === 0) return { improved, summary: { applied: false, reason: targets[0]?.skipped ?? 'nothing to polish', targets } };

  const workers =
    options.threads !== undefined ? (options.threads > 0 ? acquireExecutors(Math.min(options.threads, jobs.length)) : [])
    : jobs.length >= 4 ? acquireIdleExecutors(Math.min(defaultThreads(), jobs.length)) : [];
  const stop = new Int32Array(typeof SharedArrayBuffer === 'function' && workers.length > 0 ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
  const onAbort = () => Atomics.store(stop, 0, 1);
  options.signal?.addEventListener('abort', onAbort);
  try {
    let executors: NodeExecutor[] = workers;
    if (executors.length === 0) {
      // The polish is an extra: where HiGHS cannot be loaded (a page that does not serve it), skip it.
      let highs: Awaited<ReturnType<typeof loadHighsHere>>;
      try {
        highs = await loadHighsHere();
      } catch (e) {
        return skip(`the LP solver (HiGHS) could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
      }
      executors = [inThreadExecutor(highs)];
    }
    let next = 0;
    const work = async (ex: NodeExecutor) => {
      while (next < jobs.length && !options.signal?.aborted) {
        const job = jobs[next++];
        const p = job.problem;
        const x = inputs[job.t];
        const s = Float64Array.from(p.features, (f, i) => (p.span[i] > 0 ? Math.min(1, Math.max(0, (x[f] - p.lo[i]) / p.span[i])) : 0));
        await ex.init(p, DEFAULT_EFFORT, stop);
        const r = await ex.explore(s, { lps: options.lps ?? 30, timeLimit: options.timeLimit ?? 30 });
        const before = job.value(s);
        const after = job.value(r.s);
        if (after > before) improved[job.t] = shallowInput(p, r.s);
        targets[job.t] = { ...targets[job.t], before, after: Math.max(before, after), lps: r.lps };
      }
      await ex.release();
    };
    await Promise.all(executors.map(work));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    releaseExecutors(workers);
  }
  const applied = targets.some((r) => r.skipped === null && r.before !== null);
  return { improved, summary: { applied, reason: applied ? null : (targets.find((r) => r.skipped)?.skipped ?? 'interrupted'), targets } };
}
