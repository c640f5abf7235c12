import { currentBackend } from '../backend.js';
import type { Engine, EngineFactory } from '../engine/engine.js';
import { chooseEngine, type EngineChoice } from '../engine/select.js';
import type { ActmaxModel } from '../model/types.js';
import type { Objective } from '../objectives/objective.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { fusedPlan, runFused } from './fused.js';
import { runSteps } from './loop.js';
import type { OptimizerName } from './optimizers.js';
import { buildProblem, type Problem, type ProblemOptions } from './problem.js';
import { Progress, type StepInfo } from './progress.js';
import { finish, type TargetResult } from './results.js';
import { Rng } from './rng.js';
import { chooseBoxes } from '../prior/choose.js';
import type { PolishSummary } from '../exact/polish.js';
import { polishBestRows } from './polish-step.js';
import type { PriorReport } from '../prior/param.js';

export type { InitSpec } from './problem.js';
export type { StepInfo } from './progress.js';
export type { TargetResult } from './results.js';

/** Options of {@link maximize}. Every field has a default. */
export interface MaximizeOptions extends ProblemOptions {
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
  /** Record the best value every N steps (default: ≈100 samples per run). */
  historyEvery?: number;
  /**
   * Called after every step; return `false` to stop early. On the fused fast path (ONNX engine,
   * box-like constraints) the calls for a chunk of steps (10–25 at first, then as many as take
   * about 0.25 s, at most 100; small problems in a browser: 50–250) come together after the chunk,
   * and `x` is the input at the chunk's end; a stop or abort still ends the run right after the
   * step it came in.
   */
  onStep?: (info: StepInfo) => void | boolean;
  signal?: AbortSignal;
  /**
   * Compute engine: `auto` (default) runs the ONNX engine when it can compile the whole step
   * (network, objectives, image pipeline), else TF.js — the result's `engine` says which ran and
   * why; `tfjs` and `onnx` force one; or pass your own factory.
   */
  engine?: EngineChoice | EngineFactory;
  /**
   * onnxruntime intra-op threads of the ONNX engine (default: 1 below 64 rows, 2 from 64 rows up;
   * a long run split into runs of rows: one worker thread per core, at most 8), or the worker
   * threads of those runs when given. Set 1 when you run several `maximize` calls side by side,
   * one per core (as the atlas does).
   */
  intraOpThreads?: number;
  /** Record the rendered first optimised input of every row after these many steps (0 = the start; for animations). */
  frames?: number[];
  /** Keep every restart's best value (`perRestart`) and rendered input (`restartInputs`), e.g. for atlases. */
  keepRestarts?: boolean;
  /**
   * End-of-run polish by LPs over activation regions (exact/polish.ts), exact inside a region: on
   * by default where it applies (one hidden ReLU layer, linear objective, box/linear constraints,
   * no image transforms or regularisers; under a subspace data prior it polishes the code within
   * its box, exact/priorPolish.ts); `false` turns it off; `{ lps }` sets its budget in LPs per
   * target (30; 40 under a prior).
   */
  polish?: boolean | { lps?: number };
}

/** What {@link maximize} returns: one result per target plus the run's settings and timings. */
export interface MaximizeResult {
  results: TargetResult[];
  seed: number;
  steps: number;
  restarts: number;
  optimizer: OptimizerName;
  lr: number;
  /** The engine that ran (`onnx-2t`, `tfjs-wasm`, …), with the reason when `auto` fell back to TF.js: `tfjs-wasm (onnx: no gradient rule for …)`. */
  engine: string;
  backend: string;
  /** Rows re-initialised because their value or gradient became NaN/Infinity. */
  reinitialized: number;
  interrupted: boolean;
  /**
   * `totalMs`: the whole call; `setupMs`: until the first step (engine and graph building);
   * `searchMs`: the steps themselves; `polishMs`: the end-of-run polish (when it ran).
   * `imageStepsPerSecond` = steps × rows / (total time − polish).
   */
  timings: { totalMs: number; setupMs: number; searchMs: number; stepsRun: number; imageStepsPerSecond: number; polishMs?: number };
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

/** The engine for a problem, and how to name it in the result. */
async function openEngine(p: Problem, choice: MaximizeOptions['engine'], intraOpThreads: number | undefined): Promise<{ engine: Engine; label: (e: Engine) => string }> {
  if (typeof choice === 'function') return { engine: await choice(p.request), label: (e) => e.name };
  const sel = await chooseEngine(p.model, p.targets, { engine: choice ?? 'auto', pipeline: p.pipeline?.spec, threads: intraOpThreads });
  const engine = await sel.factory(p.request);
  return { engine, label: (e) => (sel.fallbackReason ? `${e.name} (onnx: ${sel.fallbackReason})` : e.name) };
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
export async function maximize(model: ActmaxModel, objective: Objective | ObjectiveSpec | Array<Objective | ObjectiveSpec>, options: MaximizeOptions = {}): Promise<MaximizeResult> {
  const t0 = performance.now();
  const p = buildProblem(model, objective, options);
  const { engine, label } = await openEngine(p, options.engine, options.intraOpThreads);
  try {
    const progress = new Progress(p, p.start.map((x) => x.slice()), options.historyEvery ?? Math.max(1, Math.ceil(p.steps / 100)), options.onStep);
    await choosePriorBoxes(p, engine, progress.xs, options);
    const { frames, startedAt, endedAt } = await search(p, engine, progress, options);
    // After the last record, before the winners are chosen: the polish may improve a target's best row.
    const polishStart = performance.now();
    const polish = await polishRun(p, progress, options);
    const polishMs = performance.now() - polishStart;
    const done = await finish(p, engine, progress, !!options.keepRestarts);
    const totalMs = performance.now() - t0;
    return {
      results: done.results,
      seed: p.seed,
      steps: progress.stepsRun,
      restarts: p.restarts,
      optimizer: p.optimizer,
      lr: p.lr,
      engine: label(engine),
      backend: currentBackend(),
      reinitialized: progress.reinitialized,
      interrupted: progress.interrupted,
      timings: { totalMs, setupMs: startedAt - t0, searchMs: endedAt - startedAt, stepsRun: progress.stepsRun, imageStepsPerSecond: (progress.stepsRun * p.rows) / ((totalMs - polishMs) / 1000), ...(polish ? { polishMs } : {}) },
      ...(p.pipeline ? { image: p.pipeline.summary } : {}),
      ...(p.pipeline?.prior ? { prior: p.pipeline.prior } : {}),
      ...(polish ? { polish } : {}),
      ...(options.frames ? { frames } : {}),
      ...(done.restartInputs ? { restartInputs: done.restartInputs } : {}),
    };
  } finally {
    engine.dispose();
  }
}

/**
 * A data prior made of several boxes (clusters of the examples): each restart searches the box
 * whose centre the objective likes best (src/prior/choose.ts); a given start keeps its own box.
 */
async function choosePriorBoxes(p: Problem, engine: Engine, xs: Float32Array[], options: MaximizeOptions): Promise<void> {
  const prior = p.inputs[0]?.prior;
  if (!prior?.boxes) return;
  const given = typeof options.init === 'object' && 'input' in options.init;
  const evaluate = async (x: Float32Array) => {
    const { values, grads } = await engine.valueAndGrad([x, ...xs.slice(1)]);
    return { values, grads: grads[0] };
  };
  await chooseBoxes(prior, xs[0], evaluate, p.targets.length, p.restarts, p.rng, (r) => given && r % p.restarts === 0);
}

/** Run the steps (fused when the engine and constraints allow, else per step), then evaluate the last update. */
async function search(p: Problem, engine: Engine, progress: Progress, options: MaximizeOptions): Promise<{ frames: Array<{ step: number; input: Float32Array }>; startedAt: number; endedAt: number }> {
  const frameSteps = new Set(options.frames ?? []);
  const frames: Array<{ step: number; input: Float32Array }> = [];
  const render = async (step: number) => {
    const ev = await engine.evaluate(progress.xs);
    frames.push({ step, input: ev.inputs?.[0] ?? Float32Array.from(progress.xs[0]) });
  };
  // Transform draws: their own stream, so the starts do not depend on the pipeline.
  const pipelineRng = new Rng((p.seed ^ 0x5eed1) >>> 0);
  // Frames are taken between steps, which the fused path does not stop at.
  const plan = frameSteps.size ? null : fusedPlan(engine, p);
  const ascent = plan ? await engine.ascent!(plan) : null;
  const startedAt = performance.now();
  if (plan && ascent) await runFused(p, ascent, plan, progress, pipelineRng, { signal: options.signal });
  else await runSteps(p, engine, progress, pipelineRng, { signal: options.signal, frames: frameSteps, onFrame: render });
  const endedAt = performance.now();
  // The last update has not been evaluated yet.
  const last = await engine.evaluate(progress.xs);
  if (frameSteps.has(progress.stepsRun)) frames.push({ step: progress.stepsRun, input: last.inputs?.[0] ?? Float32Array.from(progress.xs[0]) });
  progress.record(last.values);
  progress.targetBest().forEach((v, t) => progress.history[t].push({ step: progress.stepsRun, value: v }));
  return { frames, startedAt, endedAt };
}

/**
 * The end-of-run polish (exact/polish.ts; under a subspace prior, exact/priorPolish.ts) of each
 * target's best row; off with image transforms or regularisers (the search's objective is then not
 * the answer's), after an interrupt, or when asked.
 */
async function polishRun(p: Problem, progress: Progress, options: MaximizeOptions): Promise<PolishSummary | undefined> {
  const prior = !!p.pipeline && p.inputs.some((i) => i.prior);
  const plainObjective = !p.pipeline || (prior && !p.pipeline.spec.diversity && p.pipeline.spec.inputs.every((s) => s.transforms.length === 0 && s.penalties.length === 0 && s.blur === 0));
  if (options.polish === false || !plainObjective || progress.interrupted) return undefined;
  // It applies to one hidden ReLU layer of dense units: a convolutional network is declined before
  // its piecewise-linear form is built (for a 416×416 detector that form alone exhausts the heap).
  const conv = p.model.ir?.nodes.find((n) => ['Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose', 'MaxPool', 'AvgPool'].includes(n.op));
  if (conv) return { applied: false, reason: `the polish applies to one hidden ReLU layer of dense units; this network has ${conv.op} "${conv.name}"`, targets: [] };
  const rows = { bestX: progress.bestX, bestValue: progress.bestValue, restarts: p.restarts, sizes: p.inputs.map((i) => i.size), resolved: p.inputs.map((i) => i.constraints) };
  const lps = typeof options.polish === 'object' ? options.polish.lps : undefined;
  return polishBestRows(p.model, p.targets, rows, { constraints: p.constraints, optimize: p.inputs.map((i) => i.index), fixed: p.request.fixed, signal: options.signal, lps, prior });
}
