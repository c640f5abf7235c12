import { ActmaxError, isActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints, residuals, type ResolvedConstraints } from '../constraints/index.js';
import { resolveInputIndex } from '../objectives/compile.js';
import { createTfjsEngine } from '../engine/tfjs.js';
import type { ActmaxModel } from '../model/types.js';
import { asObjective, type Objective } from '../objectives/objective.js';
import { formatObjective } from '../objectives/format.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { maximize } from '../optimize/maximize.js';
import { depths, exprBounds, intervalBounds, isUnstable, nonlinearSources, type Bounds } from './bounds.js';
import { encode, startSolution, type ExactObjective, type Milp } from './encode.js';
import { HighsSolver, type SolveOutcome } from './highs.js';
import { joinInputConstraints, type ExactInputSet } from './inputs.js';
import { extractNetwork, forwardValues, type PLNetwork } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';

/** Progress of an exact maximisation, passed to `onProgress`. */
export interface ExactProgress {
  phase: 'warm-start' | 'bounds' | 'solve';
  /** Best verified objective value so far (null before the first). */
  incumbent: number | null;
  /** Proven upper bound on the maximum (null while unknown). */
  bound: number | null;
  /** (bound − incumbent) / |incumbent|. */
  gap: number | null;
  nodes: number;
  /** Seconds since the call started. */
  seconds: number;
}

/** Options of {@link maximizeExact}. */
export interface ExactOptions {
  constraints?: Constraint[];
  /** Seconds for the MILP solve (default 60). Bound tightening and the warm start come on top. */
  timeLimit?: number;
  /** Stop when (bound − value)/|value| ≤ this, reported as `optimal` (default 0: a full proof). */
  gapTolerance?: number;
  /**
   * Start the solver from a good input: `true` (default) runs gradient search first; an input
   * (flat; the optimised inputs concatenated in order) is used as given; `false` starts cold; an object sets the gradient search's budget.
   */
  warmStart?: boolean | ArrayLike<number> | { steps?: number; restarts?: number; seed?: number };
  /** Seconds for LP bound tightening, or false to skip it (default: up to 20 % of timeLimit, at most 30 s). */
  tighten?: number | false;
  onProgress?: (p: ExactProgress) => void;
  /** Extra HiGHS options, e.g. `{ mip_heuristic_effort: 0.2 }` (names as in HiGHS; unknown names throw). */
  solverOptions?: Record<string, number | string | boolean>;
  /** Abort: the solve stops and the best input so far is returned (`interrupted: true`). */
  signal?: AbortSignal;
  /** Model inputs to optimise, by name or index (default: all); the others are constants. */
  optimize?: Array<string | number>;
  /** Values of the inputs that are not optimised (flat), by input name. */
  inputs?: Record<string, ArrayLike<number>>;
}

/** Size of the MILP and how it was built. */
export interface ExactEncodingInfo {
  columns: number;
  rows: number;
  binaries: number;
  integers: number;
  unstable: number;
  stable: number;
  /** Unstable units encoded without a binary (the objective cannot gain from them). */
  withoutBinary: number;
  /** Pre-activations whose bounds LP tightening improved, and the seconds it took. */
  tightened: number;
  boundsSeconds: number;
}

/**
 * The answer of {@link maximizeExact}. `value` is the objective at `input`, computed in float64
 * and checked against TF.js; `upperBound` is proven: no feasible input does better.
 */
export interface ExactResult {
  status: 'optimal' | 'time-limit' | 'infeasible' | 'unsupported';
  objective: string;
  spec: ObjectiveSpec;
  value: number | null;
  upperBound: number | null;
  /** (upperBound − value) / |value|; 0 when proven optimal. */
  gap: number | null;
  input: number[];
  shape: number[];
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  residuals: Record<string, number>;
  /** Branch-and-bound nodes and seconds in the MILP solver. */
  nodes: number;
  solveSeconds: number;
  totalSeconds: number;
  /** The warm start's objective value, when there was one. */
  warmStartValue: number | null;
  /** Whether the returned input came from the MILP solver or is the warm start. */
  source: 'milp' | 'warm-start' | null;
  /** True when `signal` stopped the solve. */
  interrupted: boolean;
  encoding: ExactEncodingInfo | null;
  /** The objective at `input` three ways: TF.js (float32), float64 forward pass, the MILP's own value. */
  check: { tfjs: number; float64: number; milp: number | null } | null;
  /** Why the answer is what it is, in one line. */
  message: string;
}

const REL_TOL = 1e-5;
const close = (a: number, b: number) => Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * The exact maximum of a linear objective (logit, margin, neuron, …) of a piecewise-linear network
 * over the constraint set, by mixed-integer programming with HiGHS. Returns the best input, its
 * value and a proven upper bound: `optimal` when they meet (within `gapTolerance`), `time-limit`
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
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const spec = asObjective(objective).spec;
  const name = formatObjective(spec);
  const timeLimit = options.timeLimit ?? 60;
  if (!(timeLimit > 0)) throw new ActmaxError('bad-option', `timeLimit must be a positive number of seconds, got ${options.timeLimit}`);
  const gapTolerance = options.gapTolerance ?? 0;
  if (!(gapTolerance >= 0)) throw new ActmaxError('bad-option', `gapTolerance must be ≥ 0, got ${options.gapTolerance}`);
  const constraints = options.constraints ?? [];
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
  const info = model.inputs[optimize[0]];
  const base = { objective: name, spec, shape: info.shape, totalSeconds: 0, interrupted: false };
  const empty = (status: ExactResult['status'], message: string, extra: Partial<ExactResult> = {}): ExactResult => ({
    ...base, status, value: null, upperBound: null, gap: null, input: [], inputs: {}, outputs: {}, residuals: {}, nodes: 0, solveSeconds: 0,
    warmStartValue: null, source: null, encoding: null, check: null, message, ...extra, totalSeconds: seconds(),
  });

  // Held inputs enter as float32, the value TF.js sees.
  const net = extractNetwork(model, { optimize, fixed });
  const obj = exactObjective(model, net, spec);
  let parts: ResolvedConstraints[];
  let rc: ExactInputSet;
  try {
    parts = optimize.map((i) => resolveConstraints(constraints, model.inputs[i], i));
    rc = joinInputConstraints(parts);
  } catch (e) {
    if (isActmaxError(e) && e.code === 'infeasible') return empty('infeasible', e.message);
    throw e;
  }
  if (rc.l2.length > 0) throw new ActmaxError('unsupported', 'exact mode cannot use an L2 ball (it is not linear); use an L∞ or L1 ball, or gradient search');

  const progress = (p: Omit<ExactProgress, 'seconds'>) => options.onProgress?.({ ...p, seconds: seconds() });

  // 1. Warm start: a good feasible input, so the solver has an incumbent from the first second.
  let start: { x: Float64Array; value: number } | null = null;
  if (options.warmStart !== false) {
    progress({ phase: 'warm-start', incumbent: null, bound: null, gap: null, nodes: 0 });
    let x0: ArrayLike<number> | null = null;
    const given = options.warmStart;
    if (given !== undefined && given !== true && typeof given === 'object' && 'length' in given) {
      if (given.length !== rc.n) throw new ActmaxError('bad-input', `the warm start has ${given.length} values; ${optimize.length > 1 ? `inputs ${net.inputParts.map((p) => `"${p.name}"`).join(' + ')} need` : `input "${info.name}" needs`} ${rc.n}`);
      x0 = given;
    } else {
      const budget = given !== undefined && given !== true && typeof given === 'object' ? (given as { steps?: number; restarts?: number; seed?: number }) : {};
      try {
        const inputs = Object.fromEntries([...fixed].map(([i, v]) => [model.inputs[i].name, v]));
        const res = await maximize(model, spec, { constraints, optimize, inputs, steps: budget.steps ?? 300, restarts: budget.restarts ?? 8, seed: budget.seed ?? 0, signal: options.signal });
        x0 = net.inputParts.flatMap((p) => res.results[0].inputs[p.name]);
      } catch (e) {
        if (!isActmaxError(e)) throw e;
        if (e.code === 'infeasible') return empty('infeasible', e.message);
      }
    }
    if (x0) {
      const x = Float64Array.from(x0, (v, i) => Math.min(rc.hi[i], Math.max(rc.lo[i], v)));
      start = { x, value: exactObjectiveValue(obj, forwardValues(net, x)) };
    }
  }

  // 2. Bounds: interval arithmetic, then LP tightening of deeper layers where it pays.
  const solver = await HighsSolver.start();
  try {
    const tb = performance.now();
    let bounds = intervalBounds(net, rc.lo, rc.hi);
    const budget = options.tighten === false ? 0 : (options.tighten ?? Math.min(30, 0.2 * timeLimit));
    let tightened = 0;
    if (budget > 0) {
      progress({ phase: 'bounds', incumbent: start?.value ?? null, bound: null, gap: null, nodes: 0 });
      const r = await tightenBounds(net, rc, bounds, solver, budget, options.signal);
      bounds = r.bounds;
      tightened = r.tightened;
    }
    const boundsSeconds = (performance.now() - tb) / 1000;

    // 3. Encode and solve.
    let milp: Milp;
    try {
      milp = encode(net, rc, bounds, obj);
    } catch (e) {
      if (isActmaxError(e) && e.code === 'infeasible') return empty('infeasible', e.message);
      throw e;
    }
    const encoding: ExactEncodingInfo = {
      columns: milp.columns.length, rows: milp.rows.length, binaries: milp.stats.binaries, integers: milp.stats.integers,
      unstable: milp.stats.unstable, stable: milp.stats.stable, withoutBinary: milp.stats.withoutBinary, tightened, boundsSeconds,
    };
    const iaBound = objectiveIntervalBound(obj, bounds);
    const startCols = start ? startSolution(milp, forwardValues(net, start.x)) : undefined;
    let best = start?.value ?? null;
    const outcome: SolveOutcome = await solver.solveMip(milp, {
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
    const interrupted = !!options.signal?.aborted;

    if (outcome.status === 'infeasible') {
      return empty('infeasible', 'the constraints admit no input (HiGHS proved the MILP infeasible)', { nodes: outcome.nodes, solveSeconds: outcome.seconds, encoding });
    }
    if (outcome.status === 'unbounded') throw new ActmaxError('internal-check', `exact mode: HiGHS reports the MILP unbounded for ${name}, but every variable is bounded`);

    // 4. The answer: the MILP's input (or the warm start if it is better), checked three ways.
    let x: Float64Array | null = null;
    let source: ExactResult['source'] = null;
    let milpValue: number | null = null;
    if (outcome.colValue) {
      x = Float64Array.from(milp.inputCols, (c, i) => Math.min(rc.hi[i], Math.max(rc.lo[i], outcome.colValue![c])));
      source = 'milp';
      milpValue = outcome.objective;
    }
    let value = x ? exactObjectiveValue(obj, forwardValues(net, x)) : -Infinity;
    if (milpValue !== null && x) {
      const tol = REL_TOL * Math.max(1, Math.abs(value), Math.abs(milpValue));
      // The MILP value is the network's, up to units encoded without a binary (which can only understate it).
      if (milpValue > value + tol || (outcome.status === 'optimal' && !close(milpValue, value))) {
        throw new ActmaxError('internal-check', `exact mode: the MILP says ${name} = ${milpValue} at its solution, the float64 forward pass gives ${value}`);
      }
    }
    if (start && start.value > value) {
      x = start.x;
      value = start.value;
      source = 'warm-start';
    }
    if (!x) return empty('time-limit', `no feasible input found in ${timeLimit} s`, { nodes: outcome.nodes, solveSeconds: outcome.seconds, encoding, interrupted, upperBound: Math.min(outcome.bound ?? Infinity, iaBound) });

    // Re-evaluate with TF.js (the reference engine, float32).
    const engine = await createTfjsEngine({ model, targets: [spec], rowsPerTarget: 1, optimize, fixed });
    let tfjsValue: number;
    const outputs: Record<string, number[]> = {};
    const slices = net.inputParts.map((p) => x!.subarray(p.offset, p.offset + p.size));
    try {
      const ev = await engine.evaluate(slices.map((s) => Float32Array.from(s)));
      tfjsValue = ev.values[0];
      model.outputs.forEach((o, k) => (outputs[o.name] = Array.from(ev.outputs[k])));
    } finally {
      engine.dispose();
    }
    if (!close(tfjsValue, value)) {
      throw new ActmaxError('internal-check', `exact mode: TF.js gives ${name} = ${tfjsValue} at the exact answer, the float64 forward pass ${value}`);
    }

    let upperBound = Math.min(outcome.bound ?? Infinity, iaBound);
    const tol = REL_TOL * Math.max(1, Math.abs(value));
    if (value > upperBound + tol) {
      throw new ActmaxError('internal-check', `exact mode: the proven bound ${upperBound} for ${name} is below the value ${value} of a feasible input`);
    }
    upperBound = Math.max(upperBound, value);
    const optimal = outcome.status === 'optimal' && !interrupted;
    const gap = optimal ? Math.max(0, gapOf(value, upperBound) ?? 0) : gapOf(value, upperBound);
    const status: ExactResult['status'] = optimal ? 'optimal' : 'time-limit';
    const inputs: Record<string, number[]> = {};
    const res: Record<string, number> = {};
    net.inputParts.forEach((p, k) => {
      inputs[p.name] = Array.from(slices[k]);
      for (const [key, v] of Object.entries(residuals(slices[k], parts[k]))) res[optimize.length > 1 ? `${p.name}.${key}` : key] = v;
    });
    const input = inputs[info.name];
    return {
      ...base,
      status,
      value,
      upperBound,
      gap,
      input,
      inputs,
      outputs,
      residuals: res,
      nodes: outcome.nodes,
      solveSeconds: outcome.seconds,
      totalSeconds: seconds(),
      warmStartValue: start?.value ?? null,
      source,
      interrupted,
      encoding,
      check: { tfjs: tfjsValue, float64: value, milp: milpValue },
      message: optimal
        ? gapTolerance > 0 ? `optimal within a relative gap of ${gapTolerance}` : 'proven optimal'
        : interrupted ? `interrupted; best value ${value}, proven bound ${upperBound}` : `time limit of ${timeLimit} s reached; best value ${value}, proven bound ${upperBound}`,
    };
  } finally {
    await solver.close();
  }
}

/** (bound − value)/|value|, the gap HiGHS reports; Infinity when value is 0 and the bound is above. */
function gapOf(value: number | null, bound: number | null): number | null {
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
export async function tightenBounds(net: PLNetwork, rc: ExactInputSet, start: Bounds, solver: HighsSolver, budgetSeconds: number, signal?: AbortSignal): Promise<{ bounds: Bounds; tightened: number }> {
  const t0 = performance.now();
  const dep = depths(net);
  const boxOnly = rc.l1.length === 0 && rc.linear.length === 0 && rc.oneHot.length === 0;
  const sources = nonlinearSources(net);
  const maxDepth = sources.reduce((m, s) => Math.max(m, dep[s]), 0);
  const known: Bounds = { lo: new Float64Array(net.vars.length).fill(-Infinity), hi: new Float64Array(net.vars.length).fill(Infinity) };
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
