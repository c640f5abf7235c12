import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints, projectInPlace, roundToLevels, roundOneHot, residuals, type ResolvedConstraints } from '../constraints/index.js';
import type { Engine, EngineFactory } from '../engine/engine.js';
import { chooseEngine, type EngineChoice } from '../engine/select.js';
import { createTfjsEngine } from '../engine/tfjs.js';
import type { ActmaxModel } from '../model/types.js';
import { asObjective, type Objective } from '../objectives/objective.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { formatObjective } from '../objectives/format.js';
import { resolveInputIndex } from '../objectives/compile.js';
import { createOptimizer, type OptimizerName } from './optimizers.js';
import { fusedPlan, runFused } from './fused.js';
import { Rng } from './rng.js';
import { currentBackend } from '../backend.js';
import { buildImagePipeline, type ImagePipeline } from '../image/pipeline.js';
import type { ImageOptions } from '../image/defaults.js';
import type { PolishSummary } from '../exact/polish.js';
import { polishBestRows } from './polish-step.js';
import type { PriorParameterisation, PriorReport } from '../prior/param.js';
import { chooseBoxes } from '../prior/choose.js';

/** How to start: random in the box, one constant, or a given input (flat, one example). */
export type InitSpec = 'random' | { constant: number } | { input: number[] | Float32Array };

/** Progress of a run, passed to `onStep`. */
export interface StepInfo {
  step: number;
  steps: number;
  /** Best objective value so far per target. */
  best: number[];
  /** Current value per row (targets × restarts). */
  current: Float32Array;
  /** Current variables of each row of the first optimised input (rows × features; the parameters p when `image.param` renders them); read, do not keep. */
  x: Float32Array;
  rowsPerTarget: number;
}

/** Options of {@link maximize}. Every field has a default. */
export interface MaximizeOptions {
  /** Gradient steps (default 150). */
  steps?: number;
  /** Random restarts per target, run as one batch; the best is kept (default 6). */
  restarts?: number;
  optimizer?: OptimizerName;
  /** Step size, in units of the input's range (default: adam 0.1, sgd 0.01, normalized 0.5, sign 0.02). */
  lr?: number;
  /** `cosine` decays the step size to 5 % over the run (default); `constant` keeps it. */
  schedule?: 'cosine' | 'constant';
  /** Same seed ⇒ identical result (default 0). */
  seed?: number;
  init?: InitSpec;
  constraints?: Constraint[];
  /** Model inputs to optimise, by name or index (default: all). */
  optimize?: Array<string | number>;
  /** Values of the inputs that are not optimised (flat), by input name. */
  inputs?: Record<string, number[] | Float32Array>;
  /** Record the best value every N steps (default: ≈100 samples per run). */
  historyEvery?: number;
  /**
   * Called after every step; return `false` to stop early. On the fused fast path (ONNX engine,
   * adam/sign, box-like constraints) the calls for a chunk of steps (10–25) come together after
   * the chunk, and `x` is the input at the chunk's end; a stop or abort still ends the run right
   * after the step it came in.
   */
  onStep?: (info: StepInfo) => void | boolean;
  signal?: AbortSignal;
  /**
   * Compute engine: `auto` (default) runs the native ONNX engine when it supports the model and
   * objectives, else TF.js; `tfjs` and `onnx` force one; or pass your own factory.
   * An active image pipeline (`image`) runs on TF.js only.
   */
  engine?: EngineChoice | EngineFactory;
  // --- image pipeline (src/image) ---
  /** Parameterisation, transforms and regularisers for image inputs; `'auto'` = `imageDefaults(model)` (with a data prior: the prior alone); omitted = none. */
  image?: ImageOptions | 'auto';
  /** Record the rendered first optimised input of every row after these many steps (0 = the start; for animations). */
  frames?: number[];
  /** Keep every restart's best value (`perRestart`) and rendered input (`restartInputs`), e.g. for atlases. */
  keepRestarts?: boolean;
  /**
   * End-of-run polish by LPs over activation regions (exact/polish.ts), exact inside a region: on
   * by default where it applies (one hidden ReLU layer, linear objective, box/linear constraints,
   * no image pipeline); `false` turns it off; `{ lps }` sets its budget in LPs per target (30).
   */
  polish?: boolean | { lps?: number };
}

/** The answer for one target. */
export interface TargetResult {
  objective: string;
  spec: ObjectiveSpec;
  /** Objective value of `input` (after rounding, when `levels`/`oneHot` apply). */
  value: number;
  /** The best input (flat, first optimised input); `inputs` has all of them by name. */
  input: number[];
  shape: number[];
  inputs: Record<string, number[]>;
  /** Every model output for `input`, flat, by output name. */
  outputs: Record<string, number[]>;
  /** Violation of each constraint at `input` (0 = satisfied). */
  residuals: Record<string, number>;
  /** Which restart won. */
  restart: number;
  /** Value before rounding to levels / one-hot, when rounding applied. */
  unrounded?: { value: number; input: number[] };
  /** Best value so far, sampled over the steps. */
  history: Array<{ step: number; value: number }>;
  /** Each restart's best value (with `keepRestarts`). */
  perRestart?: Array<{ restart: number; value: number }>;
  /** With a data prior: the value the same search reaches without it (set by `addValueWithoutPrior`). */
  withoutPrior?: { value: number; definition: string };
}

/** What {@link maximize} returns: one result per target plus the run's settings and timings. */
export interface MaximizeResult {
  results: TargetResult[];
  seed: number;
  steps: number;
  restarts: number;
  optimizer: OptimizerName;
  lr: number;
  engine: string;
  backend: string;
  /** Rows re-initialised because their value or gradient became NaN/Infinity. */
  reinitialized: number;
  interrupted: boolean;
  /** `polishMs`: the end-of-run polish's share of `totalMs` (not counted in `imageStepsPerSecond`). */
  timings: { totalMs: number; stepsRun: number; imageStepsPerSecond: number; polishMs?: number };
  /** What the image pipeline did (with `image`). */
  image?: string[];
  /** The data prior the first optimised input was held to (a `prior` constraint): kind, K, code set. */
  prior?: PriorReport;
  /** Rendered first optimised input of every row (rows × features) after the steps in `frames`. */
  frames?: Array<{ step: number; input: Float32Array }>;
  /** Each row's best rendered first optimised input (rows × features, target-major), with `keepRestarts`. */
  restartInputs?: Float32Array;
  /** What the end-of-run polish did (absent when it was off). */
  polish?: PolishSummary;
}

const DEFAULT_LR: Record<OptimizerName, number> = { adam: 0.1, sgd: 0.01, normalized: 0.5, sign: 0.02 };

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

/**
 * Find inputs that maximise an objective by projected gradient ascent: all targets × restarts in
 * one batch, every step followed by the exact projection onto the constraints, the best row per
 * target kept.
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');
 * const res = await maximize(model, logit(1), { steps: 200, constraints: [box(0, 1)] });
 * console.log(res.results[0].value, res.results[0].outputs);
 */
export async function maximize(
  model: ActmaxModel,
  objective: Objective | ObjectiveSpec | Array<Objective | ObjectiveSpec>,
  options: MaximizeOptions = {},
): Promise<MaximizeResult> {
  const t0 = performance.now();
  const targets = toSpecs(objective);
  const steps = intOption('steps', options.steps, 150, 0);
  const restarts = intOption('restarts', options.restarts, 6, 1);
  const seed = intOption('seed', options.seed, 0, 0);
  const optimizerName = options.optimizer ?? 'adam';
  if (!(optimizerName in DEFAULT_LR)) throw new ActmaxError('bad-option', `unknown optimizer "${optimizerName}"; choose adam, sgd, normalized or sign`);
  const lr0 = options.lr ?? DEFAULT_LR[optimizerName];
  if (!(lr0 > 0) || !Number.isFinite(lr0)) throw new ActmaxError('bad-option', `lr must be a positive number, got ${options.lr}`);
  const constraints = options.constraints ?? [];
  const rows = targets.length * restarts;

  // Which inputs are optimised, which are held.
  const optimize = (options.optimize ?? model.inputs.map((_, i) => i)).map((o) => resolveInputIndex(model, o));
  if (optimize.length === 0) throw new ActmaxError('bad-option', 'no input to optimise');
  const fixed = new Map<number, Float32Array>();
  model.inputs.forEach((info, i) => {
    if (optimize.includes(i)) return;
    const given = options.inputs?.[info.name];
    if (!given) throw new ActmaxError('bad-input', `input "${info.name}" is not optimised, so its value must be given (--input FILE with a "${info.name}" entry)`);
    const n = info.shape.reduce((a, b) => a * b, 1);
    if (given.length !== n) throw new ActmaxError('bad-input', `input "${info.name}" needs ${n} values, got ${given.length}`);
    checkFinite(`input "${info.name}"`, given);
    fixed.set(i, Float32Array.from(given));
  });

  // Constraints per optimised input, and the starting points.
  const rng = new Rng(seed);
  const init = options.init ?? 'random';
  // A data prior is a parameterisation, so it runs in the image pipeline even without image settings;
  // it replaces the image defaults ('auto': no jitter or TV on top), explicit image options still apply.
  const withPrior = constraints.some((c) => c.kind === 'prior');
  const priorOnly = { param: 'pixel' as const, transforms: [], regularizers: [] };
  const imageOptions = withPrior && (options.image === undefined || options.image === 'auto') ? priorOnly : options.image;
  const built = imageOptions ? buildImagePipeline(model, optimize, imageOptions, { seed, constraints }) : null;
  // A pipeline that changes nothing (e.g. 'auto' on a tabular input) is left out, so any engine can run.
  const pipeline: ImagePipeline | null = built?.active ? built : null;
  if (built && !built.active) built.dispose();
  const inputSizes = optimize.map((i) => model.inputs[i].shape.reduce((a, b) => a * b, 1));
  const sizes = optimize.map((_, k) => pipeline?.params[k]?.size ?? inputSizes[k]);
  const resolved: ResolvedConstraints[] = [];
  /** Constraints of the model inputs themselves (differ from `resolved` where a parameterisation renders p). */
  const inputResolved: ResolvedConstraints[] = [];
  const xs: Float32Array[] = optimize.map((inputIndex, k) => {
    const param = pipeline?.params[k];
    if (param) {
      const info = model.inputs[inputIndex];
      inputResolved.push(resolveConstraints(constraints, { name: info.name, shape: info.shape, range: info.range }, inputIndex));
      resolved.push(resolveConstraints([], { name: `${info.name} (parameters)`, shape: [param.size], range: [-Infinity, Infinity] }, inputIndex));
      const x = new Float32Array(rows * param.size);
      const given = typeof init === 'object' && 'input' in init && k === 0 ? Float32Array.from(init.input) : typeof init === 'object' && 'constant' in init ? new Float32Array(inputSizes[k]).fill(init.constant) : null;
      if (given && given.length !== inputSizes[k]) throw new ActmaxError('bad-input', `the initial input has ${given.length} values; input "${info.name}" needs ${inputSizes[k]}`);
      if (given) checkFinite('the initial input', given);
      const start = given ? param.invert(given) : null;
      const row = new Float32Array(param.size);
      for (let r = 0; r < rows; r++) {
        if (start && r % restarts === 0) row.set(start);
        else param.init(rng, row);
        x.set(row, r * param.size);
      }
      param.project?.(x, rows);
      return x;
    }
    const info = model.inputs[inputIndex];
    const n = sizes[k];
    let initial: Float32Array | undefined;
    if (typeof init === 'object' && 'input' in init) {
      if (k === 0) {
        if (init.input.length !== n) throw new ActmaxError('bad-input', `the initial input has ${init.input.length} values; input "${info.name}" needs ${n}`);
        checkFinite('the initial input', init.input);
        initial = Float32Array.from(init.input);
      }
    }
    const rc = resolveConstraints(constraints, { name: info.name, shape: info.shape, range: info.range }, inputIndex, initial);
    resolved.push(rc);
    inputResolved.push(rc);
    const x = new Float32Array(rows * n);
    const ref = referenceOf(constraints, model, inputIndex);
    for (let r = 0; r < rows; r++) fillRow(x, r, n, rc, init, r % restarts === 0 ? initial : undefined, rng, r % restarts === 0 ? ref : undefined);
    projectInPlace(x, rows, rc);
    return x;
  });

  let engine: Engine;
  try {
    let factory: EngineFactory;
    if (typeof options.engine === 'function') factory = options.engine;
    else if (pipeline) {
      // The image pipeline's render/transform/extra terms are TF.js ops.
      if (options.engine === 'onnx') throw new ActmaxError('bad-option', 'engine "onnx" cannot run the image pipeline (parameterisation, transforms, regularisers); use engine tfjs or auto, or turn the pipeline off (--image none)');
      factory = (req) => createTfjsEngine(req);
    } else factory = (await chooseEngine(model, targets, { engine: options.engine ?? 'auto', optimize })).factory;
    engine = await factory({ model, targets, rowsPerTarget: restarts, optimize, fixed, ...(pipeline ? { pipeline: pipeline.engine } : {}) });
  } catch (e) {
    pipeline?.dispose();
    throw e;
  }
  const frameSteps = new Set(options.frames ?? []);
  const frames: Array<{ step: number; input: Float32Array }> = [];
  const renderFirst = async (x: Float32Array[]) => {
    const ev = await engine.evaluate(x);
    return { ev, input: ev.inputs?.[0] ?? Float32Array.from(x[0]) };
  };
  try {
    // A data prior made of several boxes (clusters of the examples): each restart searches the box whose centre the objective likes best.
    const priorParam = pipeline?.params[0] as PriorParameterisation | undefined;
    if (priorParam?.boxes) {
      const given = typeof init === 'object';
      await chooseBoxes(priorParam, xs[0], async (x) => {
        const { values, grads } = await engine.valueAndGrad([x, ...xs.slice(1)]);
        return { values, grads: grads[0] };
      }, targets.length, restarts, rng, (r) => given && r % restarts === 0);
    }
    const optimizers = sizes.map((n) => createOptimizer(optimizerName, rows, n));
    const bestValue = new Float64Array(rows).fill(-Infinity);
    const bestX = xs.map((x) => new Float32Array(x.length));
    const historyEvery = options.historyEvery ?? Math.max(1, Math.ceil(steps / 100));
    const history: Array<Array<{ step: number; value: number }>> = targets.map(() => []);
    let reinitialized = 0;
    let interrupted = false;
    let stepsRun = 0;

    const record = (values: Float32Array) => {
      for (let r = 0; r < rows; r++) {
        const v = values[r];
        if (Number.isFinite(v) && v > bestValue[r]) {
          bestValue[r] = v;
          xs.forEach((x, k) => bestX[k].set(x.subarray(r * sizes[k], (r + 1) * sizes[k]), r * sizes[k]));
        }
      }
    };
    const targetBest = () => targets.map((_, t) => {
      let b = -Infinity;
      for (let r = t * restarts; r < (t + 1) * restarts; r++) b = Math.max(b, bestValue[r]);
      return b;
    });

    const lrAt = (step: number) => (options.schedule === 'constant' ? lr0 : lr0 * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / Math.max(1, steps)))));
    /** History and onStep after a step; false when onStep asks to stop. */
    const afterStep = (step: number, values: Float32Array): boolean => {
      if (step % historyEvery === 0) targetBest().forEach((v, t) => history[t].push({ step, value: v }));
      return options.onStep?.({ step, steps, best: targetBest(), current: values, x: xs[0], rowsPerTarget: restarts }) !== false;
    };

    // Fast path: the engine runs chunks of steps natively (fused.ts), same maths as the loop below
    // (never with an image pipeline or animation frames: rendering and recording live in the loop).
    const plan = pipeline || frameSteps.size ? null : fusedPlan(engine, optimizerName, xs.length, resolved[0]);
    if (plan) {
      const fused = await runFused({
        engine, plan, rows, n: sizes[0], steps, x: xs[0], bestValue, bestX: bestX[0], signal: options.signal,
        lrAt: (step) => lrAt(step) * rangeScale(resolved[0]),
        reinitRow: (x, r) => {
          fillRow(x, r, sizes[0], resolved[0], 'random', undefined, rng, undefined);
          projectInPlace(x.subarray(r * sizes[0], (r + 1) * sizes[0]), 1, resolved[0]);
        },
        afterStep,
      });
      ({ stepsRun, reinitialized, interrupted } = fused);
    }

    // The per-step loop (every engine, optimiser and constraint); skipped when the fast path ran.
    let lastYield = performance.now();
    for (let step = 0; step < (plan ? 0 : steps); step++) {
      // The engine's work is synchronous: without a macrotask break now and then, signal handlers
      // (Ctrl-C), timers and a browser's UI never run, so an abort could not arrive mid-run.
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      if (frameSteps.has(step)) frames.push({ step, input: (await renderFirst(xs)).input });
      const { values, grads } = await engine.valueAndGrad(xs);
      // Rows whose value or gradient is not finite start again from a random point.
      for (let r = 0; r < rows; r++) {
        let bad = !Number.isFinite(values[r]);
        for (let k = 0; k < xs.length && !bad; k++) {
          // NaN and ±Infinity propagate into a sum (±Inf together give NaN): one test per row.
          const g = grads[k];
          let sum = 0;
          for (let i = r * sizes[k], e = i + sizes[k]; i < e; i++) sum += g[i];
          bad = !Number.isFinite(sum) && g.subarray(r * sizes[k], (r + 1) * sizes[k]).some((v) => !Number.isFinite(v));
        }
        if (bad) {
          reinitialized++;
          values[r] = NaN;
          xs.forEach((x, k) => {
            const param = pipeline?.params[k];
            if (param) param.init(rng, x.subarray(r * sizes[k], (r + 1) * sizes[k])); // init projects a prior's code
            else fillRow(x, r, sizes[k], resolved[k], 'random', undefined, rng, undefined);
            grads[k].fill(0, r * sizes[k], (r + 1) * sizes[k]);
            optimizers[k].resetRow(r);
          });
        }
      }
      record(values);
      const lr = lrAt(step);
      xs.forEach((x, k) => {
        const rc = resolved[k];
        optimizers[k].step(x, grads[k], lr * (pipeline?.params[k]?.stepScale ?? rangeScale(rc)));
        pipeline?.afterStep(k, x, rows);
        projectInPlace(x, rows, rc);
        pipeline?.params[k]?.project?.(x, rows);
      });
      stepsRun++;
      if (!afterStep(step, values)) break;
    }
    // The last update has not been evaluated yet.
    const last = await engine.evaluate(xs);
    if (frameSteps.has(stepsRun)) frames.push({ step: stepsRun, input: last.inputs?.[0] ?? Float32Array.from(xs[0]) });
    record(last.values);
    targetBest().forEach((v, t) => history[t].push({ step: stepsRun, value: v }));
    const polishStart = performance.now();
    const polish = options.polish === false || pipeline || interrupted ? undefined
      : await polishBestRows(model, targets, { bestX, bestValue, restarts, sizes, resolved }, { constraints, optimize, fixed, signal: options.signal, lps: typeof options.polish === 'object' ? options.polish.lps : undefined });
    const polishMs = performance.now() - polishStart;

    // Best restart per target, then rounding (levels / one-hot) and a final evaluation.
    const winners = targets.map((_, t) => {
      let best = t * restarts;
      for (let r = t * restarts; r < (t + 1) * restarts; r++) if (bestValue[r] > bestValue[best]) best = r;
      return best;
    });
    if (!winners.every((r) => Number.isFinite(bestValue[r]))) {
      throw new ActmaxError('bad-input', 'every step gave NaN or Infinity; check the model and the input range');
    }
    const finalX = xs.map((_, k) => {
      const out = new Float32Array(rows * sizes[k]);
      winners.forEach((r, t) => {
        for (let j = 0; j < restarts; j++) out.set(bestX[k].subarray(r * sizes[k], (r + 1) * sizes[k]), (t * restarts + j) * sizes[k]);
      });
      return out;
    });
    const unrounded = await engine.evaluate(finalX);
    const restartEval = options.keepRestarts ? await renderFirst(bestX) : null;
    const rounded = finalX.map((x) => Float32Array.from(x));
    let didRound = false;
    rounded.forEach((x, k) => {
      const rc = resolved[k];
      if (rc.oneHot.length > 0) roundOneHot(x, rows, rc);
      if (rc.levels !== null) roundToLevels(x, rows, rc);
      didRound ||= rc.oneHot.length > 0 || rc.levels !== null;
    });
    const final = didRound ? await engine.evaluate(rounded) : unrounded;

    // What the model saw: the rendered inputs when a parameterisation is in use.
    const shown = optimize.map((_, k) => final.inputs?.[k] ?? rounded[k]);
    const results: TargetResult[] = targets.map((spec, t) => {
      const row = t * restarts;
      const inputs: Record<string, number[]> = {};
      optimize.forEach((i, k) => (inputs[model.inputs[i].name] = Array.from(shown[k].subarray(row * inputSizes[k], (row + 1) * inputSizes[k]))));
      const outputs: Record<string, number[]> = {};
      model.outputs.forEach((o, k) => (outputs[o.name] = Array.from(final.outputs[k].subarray(row * o.units, (row + 1) * o.units))));
      const res: Record<string, number> = {};
      optimize.forEach((_, k) => {
        const r = residuals(shown[k].subarray(row * inputSizes[k], (row + 1) * inputSizes[k]), inputResolved[k]);
        for (const [name, v] of Object.entries(r)) res[optimize.length > 1 ? `${model.inputs[optimize[k]].name}.${name}` : name] = v;
      });
      const first = model.inputs[optimize[0]];
      return {
        objective: formatObjective(spec),
        spec,
        value: final.values[row],
        input: inputs[first.name],
        shape: first.shape,
        inputs,
        outputs,
        residuals: res,
        restart: winners[t] - t * restarts,
        ...(didRound ? { unrounded: { value: unrounded.values[row], input: Array.from(finalX[0].subarray(row * sizes[0], (row + 1) * sizes[0])) } } : {}),
        history: history[t],
        ...(restartEval ? { perRestart: Array.from({ length: restarts }, (_, j) => ({ restart: j, value: restartEval.ev.values[row + j] })) } : {}),
      };
    });
    const totalMs = performance.now() - t0;
    return {
      results,
      seed,
      steps: stepsRun,
      restarts,
      optimizer: optimizerName,
      lr: lr0,
      engine: engine.name,
      backend: currentBackend(),
      reinitialized,
      interrupted,
      timings: { totalMs, stepsRun, imageStepsPerSecond: (stepsRun * rows) / ((totalMs - polishMs) / 1000), ...(polish ? { polishMs } : {}) },
      ...(pipeline ? { image: pipeline.summary } : {}),
      ...(pipeline?.prior ? { prior: pipeline.prior } : {}),
      ...(options.frames ? { frames } : {}),
      ...(restartEval ? { restartInputs: restartEval.input } : {}),
      ...(polish ? { polish } : {}),
    };
  } finally {
    engine.dispose();
    pipeline?.dispose();
  }
}

/** How often (ms) a run lets other tasks run: signal handlers, timers, UI events. */
const YIELD_EVERY_MS = 20;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
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
