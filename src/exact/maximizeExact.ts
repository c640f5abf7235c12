import { ActmaxError, isActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints, type ResolvedConstraints } from '../constraints/index.js';
import { resolveInputIndex } from '../objectives/compile.js';
import type { ActmaxModel } from '../model/types.js';
import { asObjective, type Objective } from '../objectives/objective.js';
import { formatObjective } from '../objectives/format.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { maximize } from '../optimize/maximize.js';
import { finishAnswer } from './answer.js';
import { solveByBnb } from './bnbPath.js';
import { shallowProblem } from './bnb/shallow.js';
import type { ExactContext } from './context.js';
import { joinInputConstraints, type ExactInputSet } from './inputs.js';
import { solveByMilp } from './milpPath.js';
import { extractNetwork, forwardValues, type PLNetwork } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';
import type { ExactMethodChoice, ExactOptions, ExactResult } from './types.js';
import { milpProblem, type MilpProblem } from './prior.js';
import type { ExactObjective } from './encode.js';
import type { SubspacePrior } from '../prior/types.js';
import { boxContext, liftUnion, placeStart, solveUnion, unionPriors } from './union.js';

export type { ExactProgress, ExactOptions, ExactEncodingInfo, ExactResult, ExactMethod, ExactMethodChoice, BnbInfo } from './types.js';
export { tightenBounds } from './milpPath.js';

/**
 * The exact maximum of a linear objective (logit, margin, neuron, …) of a piecewise-linear network
 * over the constraint set. Networks with one hidden ReLU layer, a linear objective and box or
 * linear constraints go to a branch-and-bound with certified SDP bounds (src/exact/bnb/, worker
 * threads); everything else to mixed-integer programming with HiGHS (`method` forces either).
 * Returns the best input, its value and a proven upper bound: `optimal` when they meet (within
 * `gapTolerance`; the branch-and-bound prunes at a relative 1e-6 at least), `time-limit`
 * otherwise. Every returned input is re-evaluated in TF.js and in float64; a disagreement throws
 * `internal-check`, never an `optimal`.
 *
 * With several model inputs, those named in `optimize` (default: all) become the MILP's input
 * variables, each under its own constraints; the others are constants given in `inputs`.
 *
 * Throws ActmaxError `unsupported` for networks with non-piecewise-linear hidden layers, for
 * objectives that are not linear in the network's values, and for L2 balls.
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');
 * const res = await maximizeExact(model, logit(3), { constraints: [linf(image, 0.005)], timeLimit: 30 });
 * res.status // 'optimal'
 * console.log(res.value, res.upperBound); // equal: the value is proven to be the maximum
 * // A model with inputs a and b: { optimize: ['a'], inputs: { b: [0.2, 0.4] } } holds b and optimises a.
 */
export async function maximizeExact(model: ActmaxModel, objective: Objective | ObjectiveSpec, options: ExactOptions = {}): Promise<ExactResult> {
  const run = exactRun(model, objective, options);
  // Held inputs enter as float32, the value TF.js sees.
  const inputNet = extractNetwork(model, { optimize: run.optimize, fixed: run.fixed });
  let parts: ResolvedConstraints[];
  let rc: ExactInputSet;
  try {
    parts = run.optimize.map((i) => resolveConstraints(run.constraints, model.inputs[i], i));
    rc = joinInputConstraints(parts);
  } catch (e) {
    if (isActmaxError(e) && e.code === 'infeasible') return run.empty('infeasible', e.message);
    throw e;
  }
  if (rc.l2.length > 0) throw new ActmaxError('unsupported', 'exact mode cannot use an L2 ball (it is not linear); use an L∞ or L1 ball, or gradient search');
  // A prior whose code set is a union of boxes: the maximum over the boxes (src/exact/union.ts).
  const priors = unionPriors(parts);
  return priors ? overUnion(run, inputNet, parts, rc, priors) : overOneSet(run, inputNet, parts, rc);
}

/** One exact maximisation's checked options and what every route shares. */
interface ExactRun {
  model: ActmaxModel;
  spec: ObjectiveSpec;
  name: string;
  options: ExactOptions;
  constraints: Constraint[];
  timeLimit: number;
  gapTolerance: number;
  method: ExactMethodChoice;
  /** Inputs optimised (the solvers' variables) and held (constants in the network). */
  optimize: number[];
  fixed: Map<number, Float32Array>;
  seconds: () => number;
  progress: ExactContext['progress'];
  /** A result without an answer (no solver ran), with its status and message. */
  empty(status: ExactResult['status'], message: string): ExactResult;
}

/** The options checked (one `bad-option`/`bad-input` line each), the held inputs read. */
function exactRun(model: ActmaxModel, objective: Objective | ObjectiveSpec, options: ExactOptions): ExactRun {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const spec = asObjective(objective).spec;
  const name = formatObjective(spec);
  const timeLimit = options.timeLimit ?? 60;
  if (!(timeLimit > 0)) throw new ActmaxError('bad-option', `timeLimit must be a positive number of seconds, got ${options.timeLimit}`);
  const gapTolerance = options.gapTolerance ?? 0;
  if (!(gapTolerance >= 0)) throw new ActmaxError('bad-option', `gapTolerance must be ≥ 0, got ${options.gapTolerance}`);
  // Which inputs are optimised (MILP variables), which are held (constants in the network).
  const optimize = (options.optimize ?? model.inputs.map((_, i) => i)).map((o) => resolveInputIndex(model, o));
  if (optimize.length === 0) throw new ActmaxError('bad-option', 'no input to optimise');
  if (new Set(optimize).size !== optimize.length) throw new ActmaxError('bad-option', `an input is named twice in optimize: ${optimize.map((i) => model.inputs[i].name).join(', ')}`);
  const fixed = new Map<number, Float32Array>();
  model.inputs.forEach((inp, i) => {
    if (optimize.includes(i)) return;
    const given = options.inputs?.[inp.name];
    if (!given) throw new ActmaxError('bad-input', `input "${inp.name}" is not optimised, so its value must be given (--input FILE with a "${inp.name}" entry)`);
    const n = inp.shape.reduce((a, b) => a * b, 1);
    if (given.length !== n) throw new ActmaxError('bad-input', `input "${inp.name}" needs ${n} values, got ${given.length}`);
    if (!Array.from(given).every(Number.isFinite)) throw new ActmaxError('bad-input', `input "${inp.name}" holds a value that is not a finite number`);
    fixed.set(i, Float32Array.from(given));
  });
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'bnb' && method !== 'milp') throw new ActmaxError('bad-option', `method must be auto, bnb or milp, got ${String(method)}`);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 0)) throw new ActmaxError('bad-option', `threads must be an integer ≥ 0, got ${options.threads}`);
  const base = { objective: name, spec, shape: model.inputs[optimize[0]].shape, totalSeconds: 0, interrupted: false };
  return {
    model, spec, name, options, constraints: options.constraints ?? [], timeLimit, gapTolerance, method, optimize, fixed, seconds,
    progress: (p) => options.onProgress?.({ ...p, seconds: seconds() }),
    empty: (status, message) => ({
      ...base, status, value: null, upperBound: null, gap: null, input: [], inputs: {}, outputs: {}, residuals: {}, nodes: 0, solveSeconds: 0,
      method: options.method === 'bnb' ? 'bnb' : 'milp', methodReason: 'no solver ran', bnb: null,
      warmStartValue: null, source: null, encoding: null, check: null, message, totalSeconds: seconds(),
    }),
  };
}

/** The solvers' shared context for a problem. */
function contextOf(run: ExactRun, inputNet: PLNetwork, parts: ResolvedConstraints[], problem: MilpProblem, obj: ExactObjective): ExactContext {
  const { model, spec, name, optimize, fixed, options, timeLimit, gapTolerance, progress, seconds } = run;
  return { model, spec, name, net: problem.net, obj, rc: problem.set, problem, inputParts: inputNet.inputParts, parts, optimize, fixed, options, timeLimit, gapTolerance, start: null, progress, seconds };
}

/** A warm start by gradient search (or the one given), in the inputs. */
function warmFor(run: ExactRun, inputNet: PLNetwork, rc: ExactInputSet): Promise<Float64Array | null | 'infeasible'> {
  return warmStart(run.model, run.spec, run.options, inputNet, rc, { optimize: run.optimize, fixed: run.fixed, constraints: run.constraints, progress: run.progress });
}

/** The maximum over a prior's union of code boxes: each box lifted, the boxes solved as one search (union.ts). */
async function overUnion(run: ExactRun, inputNet: PLNetwork, parts: ResolvedConstraints[], rc: ExactInputSet, priors: SubspacePrior[]): Promise<ExactResult> {
  const boxes = liftUnion({ model: run.model, spec: run.spec, net: inputNet, rc }, priors, run.method);
  // Each box's polished LP maximiser is the union's incumbent (unionBounds.ts): on the bundled
  // model's prior better than gradient search (Pullover 13.1995 against 11.72) and 4.9 s sooner,
  // so gradient search runs only when asked for (true, a budget, or an input).
  const x0 = run.options.warmStart === undefined ? null : await warmFor(run, inputNet, rc);
  if (x0 === 'infeasible') return run.empty('infeasible', 'the constraints admit no input');
  const placed = x0 ? placeStart(boxes, priors, x0, rc.lo, rc.hi) : null;
  const first = boxes[placed?.box ?? 0];
  const ctx0 = contextOf(run, inputNet, parts, first.problem, first.obj);
  const { box, answer, boxes: info } = await solveUnion(ctx0, boxes, placed);
  const why = `a union of ${boxes.length} code boxes: the largest of their maxima (${info.pruned} closed by their interval or polytope bound, ${info.solved} by a solve, ${info.open.length} open; ${info.tightened} with their units' ranges tightened by LP)`;
  return finishAnswer(boxContext(ctx0, boxes[box], run.timeLimit, placed), answer, why);
}

/** The maximum over one constraint set: the branch-and-bound where it applies, else the MILP. */
async function overOneSet(run: ExactRun, inputNet: PLNetwork, parts: ResolvedConstraints[], rc: ExactInputSet): Promise<ExactResult> {
  // The solvers' variables: the input, or a subspace prior's code z (src/exact/prior.ts).
  const problem = milpProblem(inputNet, parts, rc);
  const net = problem.net;
  const obj = exactObjective(run.model, net, run.spec);

  // 1. The solver: branch-and-bound where it applies, else the MILP.
  const shallow = run.method === 'milp' ? null : shallowProblem(net, obj, problem.set);
  if (run.method === 'bnb' && shallow && 'reason' in shallow) {
    throw new ActmaxError('unsupported', `exact mode: the branch-and-bound needs one hidden ReLU layer, a linear objective, and box or linear constraints; here ${shallow.reason} (use method milp)`);
  }
  const bnb = shallow && 'problem' in shallow ? shallow.problem : null;

  // 2. Warm start: a good feasible input (gradient search with its polish, which often reaches the
  // optimum), so the solver has a strong incumbent early. The branch-and-bound does not wait for
  // it: its tree runs meanwhile, and the start, when it arrives, is offered and polished again.
  const warm = warmFor(run, inputNet, rc).then((x): { x: Float64Array; value: number } | null | 'infeasible' => {
    if (x === null || x === 'infeasible') return x;
    // In the solvers' variables (a prior's code when there is one).
    const v = problem.toVariables(x);
    return { x: v, value: exactObjectiveValue(obj, forwardValues(net, v)) };
  });
  const ctx = contextOf(run, inputNet, parts, problem, obj);
  if (bnb) {
    const started = warm.then((w) => (w === 'infeasible' ? null : w));
    const answer = await solveByBnb(ctx, bnb, started);
    return finishAnswer({ ...ctx, start: await started }, answer, 'one hidden ReLU layer, a linear objective and linear constraints: branch-and-bound');
  }
  const start = await warm;
  if (start === 'infeasible') return run.empty('infeasible', 'the constraints admit no input');

  // 3. Solve, then check the answer three ways.
  const why = shallow && 'reason' in shallow ? `the MILP, since ${shallow.reason}` : 'the MILP, as asked';
  return finishAnswer({ ...ctx, start }, await solveByMilp({ ...ctx, start }), why);
}

/** The warm start's input (clamped into the bounds), null for none, or 'infeasible'. */
async function warmStart(
  model: ActmaxModel,
  spec: ObjectiveSpec,
  options: ExactOptions,
  net: PLNetwork,
  rc: ExactInputSet,
  o: { optimize: number[]; fixed: Map<number, Float32Array>; constraints: Constraint[]; progress: ExactContext['progress'] },
): Promise<Float64Array | null | 'infeasible'> {
  if (options.warmStart === false) return null;
  o.progress({ phase: 'warm-start', incumbent: null, bound: null, gap: null, nodes: 0 });
  let x0: ArrayLike<number> | null = null;
  const given = options.warmStart;
  if (given !== undefined && given !== true && typeof given === 'object' && 'length' in given) {
    if (given.length !== rc.n) {
      const info = model.inputs[o.optimize[0]];
      throw new ActmaxError('bad-input', `the warm start has ${given.length} values; ${o.optimize.length > 1 ? `inputs ${net.inputParts.map((p) => `"${p.name}"`).join(' + ')} need` : `input "${info.name}" needs`} ${rc.n}`);
    }
    x0 = given;
  } else {
    const budget = given !== undefined && given !== true && typeof given === 'object' ? (given as { steps?: number; restarts?: number; seed?: number }) : {};
    try {
      const inputs = Object.fromEntries([...o.fixed].map(([i, v]) => [model.inputs[i].name, v]));
      const res = await maximize(model, spec, { constraints: o.constraints, optimize: o.optimize, inputs, steps: budget.steps ?? 300, restarts: budget.restarts ?? 8, seed: budget.seed ?? 0, signal: options.signal });
      x0 = net.inputParts.flatMap((p) => res.results[0].inputs[p.name]);
    } catch (e) {
      if (!isActmaxError(e)) throw e;
      if (e.code === 'infeasible') return 'infeasible';
    }
  }
  if (!x0) return null;
  return Float64Array.from(x0, (v, i) => Math.min(rc.hi[i], Math.max(rc.lo[i], v)));
}
