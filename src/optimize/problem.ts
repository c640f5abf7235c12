import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { projectInPlace, resolveConstraints, type ResolvedConstraints } from '../constraints/index.js';
import type { EngineRequest } from '../engine/engine.js';
import type { ActmaxModel, InputInfo } from '../model/types.js';
import { asObjective, type Objective } from '../objectives/objective.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { resolveInputIndex } from '../objectives/terms.js';
import { initParamRow, invertParamRow, type ParamPlan } from '../param/param.js';
import { toPicture } from '../param/layout.js';
import { createPriorParam, type PriorParameterisation } from '../prior/param.js';
import type { ImageOptions } from '../pipeline/defaults.js';
import { resolvePipeline, type ResolvedPipeline } from '../pipeline/resolve.js';
import type { OptimizerName } from './optimizers.js';
import { Rng } from './rng.js';

/*
 * A maximisation as plain data, checked once: targets × restarts rows, the optimised inputs with
 * their constraints and parameterisations, the image pipeline, the optimiser and the starting
 * points. Every engine compiles the same Problem (its `request`); `maximize` only drives it.
 */

/** How to start: random in the box, one constant, or a given input (flat, one example). */
export type InitSpec = 'random' | { constant: number } | { input: number[] | Float32Array };

/** One optimised input. */
export interface ProblemInput {
  /** Index among the model's inputs. */
  index: number;
  info: InputInfo;
  /** Variables per row (the parameters p when a parameterisation renders the input). */
  size: number;
  /** Features of the model input itself. */
  inputSize: number;
  param: ParamPlan | null;
  /** Constraints of the variables (the input's, or none for parameters). */
  constraints: ResolvedConstraints;
  /** Constraints of the model input itself (for residuals). */
  inputConstraints: ResolvedConstraints;
  /** `lr` is in units of the input's range: the step multiplier. */
  stepScale: number;
  /** A data prior's exact projection of codes onto its set (after every step and start). */
  project?: (x: Float32Array, rows: number) => void;
  /** A data prior's code side (its boxes, when it is a union, and which box each row keeps to). */
  prior?: PriorParameterisation;
  /** A random start row of the variables (parameterisations; a prior's code is projected). */
  initRow?: (rng: Rng, row: Float32Array) => void;
}

/** The settings `maximize` reads (see MaximizeOptions). */
export interface ProblemOptions {
  steps?: number;
  restarts?: number;
  optimizer?: OptimizerName;
  lr?: number;
  schedule?: 'cosine' | 'constant';
  seed?: number;
  init?: InitSpec;
  constraints?: Constraint[];
  optimize?: Array<string | number>;
  inputs?: Record<string, number[] | Float32Array>;
  image?: ImageOptions | 'auto';
}

/** A checked maximisation. */
export interface Problem {
  model: ActmaxModel;
  targets: ObjectiveSpec[];
  steps: number;
  restarts: number;
  rows: number;
  seed: number;
  optimizer: OptimizerName;
  lr: number;
  schedule: 'cosine' | 'constant';
  inputs: ProblemInput[];
  /** The image pipeline, when something in it applies. */
  pipeline: ResolvedPipeline | null;
  /** What engines compile. */
  request: EngineRequest;
  /** Starting variables per optimised input (rows × size). */
  start: Float32Array[];
  /** The stream that re-initialises rows gone non-finite (continues after the starts). */
  rng: Rng;
  /** Step size of step `s` (schedule applied), in units of the input's range. */
  lrAt(step: number): number;
  /** Start row `r` of variables `x` of input k again from a random feasible point. */
  reinitRow(k: number, x: Float32Array, r: number): void;
  /** The constraints as given (the end-of-run polish reads them). */
  constraints: Constraint[];
}

/** Default step sizes, in units of the input's range. */
export const DEFAULT_LR: Record<OptimizerName, number> = { adam: 0.1, sgd: 0.01, normalized: 0.5, sign: 0.02 };

function toSpecs(objective: Objective | ObjectiveSpec | Array<Objective | ObjectiveSpec>): ObjectiveSpec[] {
  const list = Array.isArray(objective) ? objective : [objective];
  if (list.length === 0) throw new ActmaxError('bad-spec', 'no objective given; e.g. logit:0');
  return list.map((o) => asObjective(o).spec);
}

function intOption(name: string, v: number | undefined, dflt: number, min: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min) throw new ActmaxError('bad-option', `${name} must be an integer ≥ ${min}, got ${v}`);
  return x;
}

function checkFinite(name: string, v: ArrayLike<number>): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new ActmaxError('bad-input', `${name} contains NaN or Infinity at position ${i}; give finite numbers`);
  }
}

/** Typical width of the feasible box, so `lr` is in units of the input's range. */
function rangeScale(rc: ResolvedConstraints): number {
  let s = 0, c = 0;
  for (let i = 0; i < rc.lo.length; i++) {
    const w = rc.hi[i] - rc.lo[i];
    if (w > 0 && Number.isFinite(w)) { s += w; c++; }
  }
  return c ? s / c : 1;
}

/**
 * Check everything `maximize` was given and resolve it into a Problem: targets, held and
 * optimised inputs, constraints, the image pipeline and the seeded starting points.
 *
 * @example
 * const p = buildProblem(model, logit(1), { steps: 50, restarts: 4, image: 'auto' }); // p.rows = 4
 */
export function buildProblem(model: ActmaxModel, objective: Objective | ObjectiveSpec | Array<Objective | ObjectiveSpec>, options: ProblemOptions = {}): Problem {
  const targets = toSpecs(objective);
  const steps = intOption('steps', options.steps, 150, 0);
  const restarts = intOption('restarts', options.restarts, 6, 1);
  const seed = intOption('seed', options.seed, 0, 0);
  const optimizer = options.optimizer ?? 'adam';
  if (!(optimizer in DEFAULT_LR)) throw new ActmaxError('bad-option', `unknown optimizer "${optimizer}"; choose adam, sgd, normalized or sign`);
  const lr = options.lr ?? DEFAULT_LR[optimizer];
  if (!(lr > 0) || !Number.isFinite(lr)) throw new ActmaxError('bad-option', `lr must be a positive number, got ${options.lr}`);
  const schedule = options.schedule ?? 'cosine';
  const constraints = options.constraints ?? [];
  const rows = targets.length * restarts;

  const optimize = (options.optimize ?? model.inputs.map((_, i) => i)).map((o) => resolveInputIndex(model, o));
  if (optimize.length === 0) throw new ActmaxError('bad-option', 'no input to optimise');
  const fixed = heldInputs(model, optimize, options.inputs);
  // A data prior is a parameterisation, so it makes a pipeline even without image settings.
  const withPrior = constraints.some((c) => c.kind === 'prior');
  const resolved = options.image || withPrior ? resolvePipeline(model, optimize, options.image ?? 'auto', { constraints }) : null;
  // A pipeline that changes nothing (e.g. 'auto' on a tabular input) is left out, so any engine can run.
  const pipeline = resolved?.active ? resolved : null;

  const rng = new Rng(seed);
  const init = options.init ?? 'random';
  const inputs: ProblemInput[] = [];
  const start = optimize.map((index, k) => {
    const info = model.inputs[index];
    const inputSize = info.shape.reduce((a, b) => a * b, 1);
    const param = pipeline?.spec.inputs[k].param ?? null;
    const given = startingInput(init, k, inputSize, info.name);
    // Masks without a reference keep the given starting input.
    const keep = typeof init === 'object' && 'input' in init && !param ? (given ?? undefined) : undefined;
    const inputConstraints = resolveConstraints(constraints, { name: info.name, shape: info.shape, range: info.range }, index, keep);
    const constraintsOfVars = param ? resolveConstraints([], { name: `${info.name} (parameters)`, shape: [param.size], range: [-Infinity, Infinity] }, index) : inputConstraints;
    const size = param ? param.size : inputSize;
    const prior = param?.kind === 'prior' ? priorCode(param, model) : null;
    const initRow = prior ? prior.init : param ? (g: Rng, row: Float32Array) => initParamRow(param, g, row) : undefined;
    inputs.push({ index, info, size, inputSize, param, constraints: constraintsOfVars, inputConstraints, stepScale: param ? param.stepScale : rangeScale(inputConstraints), ...(prior ? { project: prior.project, prior } : {}), ...(initRow ? { initRow } : {}) });
    const x = new Float32Array(rows * size);
    if (param) {
      // Parameters render pictures: a channels-first start is read as one.
      const first = !given ? null : prior ? prior.invert(given) : invertParamRow(param, pipeline!.spec.inputs[k].channelsFirst ? toPicture(given, info) : given);
      const row = new Float32Array(size);
      for (let r = 0; r < rows; r++) {
        if (first && r % restarts === 0) row.set(first);
        else initRow!(rng, row);
        x.set(row, r * size);
      }
      prior?.project(x, rows);
      return x;
    }
    const ref = referenceOf(constraints, model, index);
    for (let r = 0; r < rows; r++) fillRow(x, r, size, inputConstraints, init, r % restarts === 0 ? keep : undefined, rng, r % restarts === 0 ? ref : undefined);
    projectInPlace(x, rows, inputConstraints);
    return x;
  });

  return {
    model, targets, steps, restarts, rows, seed, optimizer, lr, schedule, inputs, pipeline, start, rng,
    constraints,
    request: { model, targets, rowsPerTarget: restarts, optimize, fixed, steps, ...(pipeline ? { pipeline: pipeline.spec } : {}) },
    lrAt: (step) => (schedule === 'constant' ? lr : lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / Math.max(1, steps))))),
    reinitRow(k, x, r) {
      const inp = inputs[k];
      const row = x.subarray(r * inp.size, (r + 1) * inp.size);
      if (inp.initRow) inp.initRow(rng, row);
      else {
        fillRow(x, r, inp.size, inp.constraints, 'random', undefined, rng, undefined);
        projectInPlace(row, 1, inp.constraints);
      }
    },
  };
}

/** The values of the inputs that are not optimised, checked. */
function heldInputs(model: ActmaxModel, optimize: number[], given: Record<string, number[] | Float32Array> | undefined): Map<number, Float32Array> {
  const fixed = new Map<number, Float32Array>();
  model.inputs.forEach((info, i) => {
    if (optimize.includes(i)) return;
    const v = given?.[info.name];
    if (!v) throw new ActmaxError('bad-input', `input "${info.name}" is not optimised, so its value must be given (--input FILE with a "${info.name}" entry)`);
    const n = info.shape.reduce((a, b) => a * b, 1);
    if (v.length !== n) throw new ActmaxError('bad-input', `input "${info.name}" needs ${n} values, got ${v.length}`);
    checkFinite(`input "${info.name}"`, v);
    fixed.set(i, Float32Array.from(v));
  });
  return fixed;
}

/** The starting input the user gave for optimised input k (`init.input` for the first, `init.constant` for all), checked. */
function startingInput(init: InitSpec, k: number, n: number, name: string): Float32Array | null {
  if (typeof init !== 'object') return null;
  if ('constant' in init) return new Float32Array(n).fill(init.constant);
  if (k !== 0) return null;
  if (init.input.length !== n) throw new ActmaxError('bad-input', `the initial input has ${init.input.length} values; input "${name}" needs ${n}`);
  checkFinite('the initial input', init.input);
  return Float32Array.from(init.input);
}

function referenceOf(constraints: Constraint[], model: ActmaxModel, inputIndex: number): number[] | undefined {
  for (const c of constraints) {
    if ((c.kind === 'ball' || c.kind === 'mask') && c.ref && resolveInputIndex(model, c.input) === inputIndex) return c.ref;
  }
  return undefined;
}

function fillRow(x: Float32Array, r: number, n: number, rc: ResolvedConstraints, init: InitSpec, initial: Float32Array | undefined, rng: Rng, ref: number[] | undefined): void {
  const base = r * n;
  for (let i = 0; i < n; i++) {
    const lo = rc.lo[i], hi = rc.hi[i];
    let v: number;
    if (initial) v = initial[i];
    else if (ref) v = ref[i];
    else if (typeof init === 'object' && 'constant' in init) v = init.constant;
    else v = Number.isFinite(lo) && Number.isFinite(hi) ? lo + (hi - lo) * rng.uniform() : rng.normal();
    x[base + i] = v;
  }
}

/**
 * A data prior's starts, inverse and projection (plain JavaScript: its TF.js rendering tensors are
 * freed at once; the engines render the code themselves).
 */
function priorCode(plan: ParamPlan, model: ActmaxModel): PriorParameterisation {
  const { data, input, constraints } = plan.prior!;
  const p = createPriorParam(data, model, input, constraints);
  p.dispose();
  return p;
}
