import type * as Ort from 'onnxruntime-node';
import { ActmaxError } from '../../errors.js';
import type { IrGraph } from '../../ir/ir.js';
import type { ActmaxModel } from '../../model/types.js';
import { batchTerms, type ShapeHints } from '../../objectives/terms.js';
import type { ObjectiveSpec } from '../../objectives/spec.js';
import type { PipelineSpec, StepDraws } from '../../pipeline/spec.js';
import type { Ascent, AscentChunk, AscentPlan, AscentState, Engine, EngineFactory, EngineRequest, Evaluation } from '../engine.js';
import { ASCENT_IO, buildAscentGraph, variableSizes, type StepLayout } from './ascent.js';
import { floatValue, OnnxBuilder } from './builder.js';
import { networkSupport, type LayoutMode } from './net.js';
import { objectiveValues, tapValue } from './objective.js';
import { drawFormat } from './pipeline/warp.js';
import { networkGraph, pipelineKernels, stepwiseSpec } from './pipeline/stepwise.js';
import { dynamicOutputs, dynamicOutputValues } from './dynamic-outputs.js';
import { DataType, encodeModel, type ModelDef } from './proto.js';
import { engineName, loadOnnxRuntime, sessionOptions, stepsPerCall, type OrtModule } from './runtime.js';
import { perRowMacs } from '../../ir/cost.js';
import { runCount, shardedRun, shardRequest, worthRunsOfRows, type Shard } from './sharding.js';
import { openShardThread, shardsAvailable, type ShardThread } from './shards.js';
import { emitEvaluation, emitStep, stepShared, type StepProblem } from './step.js';

export { loadOnnxRuntime } from './runtime.js';

/*
 * The ONNX engine: the whole optimisation step (parameterisation, per-row transforms, network,
 * objective, regularisers, input gradient — and, fused, the optimiser, clip and best tracking for
 * K steps) compiled from the model's IR into ONNX graphs and run by onnxruntime. Gives the TF.js
 * reference engine's numbers to float32 rounding.
 */

/** The network IR of a model, when its loader produced one. @example irOf(model)?.nodes.length */
export function irOf(model: ActmaxModel): IrGraph | null {
  return model.ir ?? null;
}

/** What the support check needs. */
export interface SupportQuery {
  model: ActmaxModel;
  targets: ObjectiveSpec[];
  pipeline?: PipelineSpec | null;
}

/** Shapes of the IR's layers, for objective construction. */
function irHints(ir: IrGraph): ShapeHints {
  const hints: ShapeHints = new Map();
  for (const l of ir.layers) {
    const s = ir.shapes.get(l.output);
    if (s) hints.set(l.name, s);
  }
  return hints;
}

/**
 * Why the ONNX engine cannot run this (null when it can): the model needs an IR whose every node
 * on the way to the objective, the regularisers and the outputs has a gradient rule.
 *
 * @example
 * onnxSupport({ model, targets: [{ kind: 'logit', index: 0 }] }) // null, or e.g. 'no gradient rule for Pad "p" (…)'
 */
export function onnxSupport(q: SupportQuery): string | null {
  const ir = irOf(q.model);
  if (!ir) return q.model.irReason ?? 'the model has no network IR';
  const prior = q.pipeline?.inputs.find((s) => s.param?.kind === 'prior' && s.param.prior?.data.type !== 'subspace');
  if (prior) return `a decoder prior (${prior.param!.description}) renders the input, and only TF.js renders decoders`;
  let wanted: string[];
  try {
    const terms = batchTerms(q.model, q.targets, 1, irHints(ir));
    wanted = objectiveValues(ir, terms);
    if (q.pipeline?.diversity) wanted.push(tapValue(ir, { layer: q.pipeline.diversity.layer, pre: false }));
  } catch (e) {
    return (e as Error).message;
  }
  // Outputs of dynamic ops (after the differentiable part) are TF.js's to compute at evaluation.
  return networkSupport(ir, [...wanted, ...ir.outputs.filter((o) => !ir.dynamic.has(o.value)).map((o) => o.value)]);
}

/** Options of the ONNX engine. */
export interface OnnxEngineOptions {
  /**
   * Threads (default 1; 2 helps at large batches on 2 cores): one session's intra-op threads, or,
   * for a fused run long enough to split (see `shards`), the worker threads its runs of rows share.
   */
  threads?: number;
  /** How image values are laid out around convolutions (default: kept NCHW). */
  layout?: LayoutMode;
  /** How fused steps are laid out: one ONNX Loop (default) or unrolled copies. */
  steps?: StepLayout;
  /**
   * Split a long fused run into runs of rows, one session each on one intra-op thread, shared out
   * to `threads` worker threads (default true; Node only, and only where it pays: see
   * `worthRunsOfRows` and `runCount`).
   */
  shards?: boolean;
  /** Worker threads for the runs of rows of a split run (default: `threads`): more than two where more cores are free. */
  runThreads?: number;
  /** Runs of rows with jitter and TV on small one-channel pictures run stepwise (pipeline/stepwise.ts; default true; false: the Loop graph). */
  stepwise?: boolean;
}

/**
 * The ONNX engine as a factory for `maximize`.
 *
 * @example
 * const res = await maximize(model, logit(3), { engine: onnxEngineFactory({ threads: 2 }) });
 */
export function onnxEngineFactory(opts: OnnxEngineOptions = {}): EngineFactory {
  return (req) => createOnnxEngine(req, opts);
}

/** The compiled problem of a request. */
function stepProblem(req: EngineRequest, ir: IrGraph, layout: LayoutMode): StepProblem {
  return {
    ir,
    terms: batchTerms(req.model, req.targets, req.rowsPerTarget, irHints(ir)),
    rowsPerTarget: req.rowsPerTarget,
    optimize: req.optimize,
    fixed: req.fixed,
    pipeline: req.pipeline ?? null,
    layout,
  };
}

/** Draws in the graph's format (see `drawFormat`). */
function drawTensor(ort: OrtModule, stage: PipelineSpec['inputs'][number], draws: Float64Array, lead: number[]): Ort.Tensor {
  const f = drawFormat(stage);
  const data = f.encode(draws);
  const dims = [...lead, f.width];
  return data instanceof Int32Array ? new ort.Tensor('int32', data, dims) : new ort.Tensor('float64', data, dims);
}

/** Build an ONNX engine for one request. @example const engine = await createOnnxEngine(request, { threads: 1 }) */
export async function createOnnxEngine(req: EngineRequest, opts: OnnxEngineOptions = {}): Promise<Engine> {
  const ort = await loadOnnxRuntime();
  if (!ort) throw new ActmaxError('bad-option', 'engine "onnx" needs onnxruntime (onnxruntime-node, an optional package, in Node; onnxruntime-web in a browser), which could not be loaded; use engine tfjs');
  const reason = onnxSupport({ model: req.model, targets: req.targets, pipeline: req.pipeline });
  if (reason) throw new ActmaxError('unsupported-layer', `engine "onnx" cannot run this: ${reason}; use engine tfjs`);
  const ir = irOf(req.model)!;
  const problem = stepProblem(req, ir, opts.layout ?? 'propagate');
  const rows = problem.terms.rows;
  const sizes = variableSizes(problem);
  const valuesPerRow = sizes.reduce((a, b) => a + b, 0);
  const threads = opts.threads ?? 1;
  const options = sessionOptions(threads);
  // A long fused run splits into runs of rows over `runThreads` worker threads (where it pays).
  const runThreads = opts.runThreads ?? threads;
  const layout = opts.steps ?? 'loop';
  const shards = layout === 'loop' && (opts.shards ?? true) ? ascentShards(req, runThreads, perRowMacs(ir), valuesPerRow) : null;
  const sessions: Ort.InferenceSession[] = [];
  const shardThreads: ShardThread[] = [];
  const open = async (def: ModelDef) => {
    const s = await ort.InferenceSession.create(encodeModel(def), options);
    sessions.push(s);
    return s;
  };
  const stages = problem.pipeline?.inputs ?? [];
  const xsIn = sizes.map((_, k) => `x${k}`);
  const drawIn = (k: number) => `draws${k}`;
  const hasDraws = (k: number) => !!stages[k]?.transforms.length;

  let gradient: Promise<Ort.InferenceSession> | null = null;
  const gradientSession = () => (gradient ??= open((() => {
    const b = new OnnxBuilder();
    const shared = stepShared(b, problem);
    const { value, grads } = emitStep(b, problem, shared, xsIn, sizes.map((_, k) => (hasDraws(k) ? drawIn(k) : null)));
    b.named('Identity', [value], 'value');
    grads.forEach((g, k) => b.named('Identity', [g], `grad${k}`));
    const inputs = xsIn.map((x, k) => floatValue(x, [rows, sizes[k]]));
    sizes.forEach((_, k) => hasDraws(k) && inputs.push({ name: drawIn(k), dataType: drawFormat(stages[k]).dataType, dims: [rows, drawFormat(stages[k]).width] }));
    return b.model(inputs, [floatValue('value', [rows]), ...sizes.map((n, k) => floatValue(`grad${k}`, [rows, n]))]);
  })()));
  let evaluation: Promise<Ort.InferenceSession> | null = null;
  const evaluationSession = () => (evaluation ??= open((() => {
    const b = new OnnxBuilder();
    const shared = stepShared(b, problem);
    const r = emitEvaluation(b, problem, shared, xsIn);
    b.named('Identity', [r.value], 'value');
    r.outputs.forEach((o, i) => o && b.named('Identity', [o], `out${i}`));
    r.inputs.forEach((x, k) => b.named('Identity', [x], `input${k}`));
    const outs = [floatValue('value', [rows]), ...ir.outputs.flatMap((_, i) => (dynamic[i] ? [] : [floatValue(`out${i}`, [rows, `units${i}`])])), ...sizes.map((_, k) => floatValue(`input${k}`, [rows, `features${k}`]))];
    return b.model(xsIn.map((x, k) => floatValue(x, [rows, sizes[k]])), outs);
  })()));
  const dynamic = dynamicOutputs(ir);
  /** Model inputs in model order (rendered optimised ones, tiled held ones), for TF.js's dynamic outputs. */
  const modelInputs = (rendered: Float32Array[]) => req.model.inputs.map((_, i) => {
    const k = req.optimize.indexOf(i);
    if (k >= 0) return rendered[k];
    const one = req.fixed.get(i)!;
    const tiled = new Float32Array(rows * one.length);
    for (let r = 0; r < rows; r++) tiled.set(one, r * one.length);
    return tiled;
  });
  const feedsOf = (xs: Float32Array[]) => Object.fromEntries(xs.map((x, k) => [xsIn[k], new ort.Tensor('float32', x, [rows, sizes[k]])]));

  return {
    name: engineName(shards ? runThreads : threads),
    rows,
    async valueAndGrad(xs, draws) {
      const s = await gradientSession();
      const feeds: Record<string, Ort.Tensor> = feedsOf(xs);
      sizes.forEach((_, k) => {
        if (hasDraws(k)) feeds[drawIn(k)] = drawTensor(ort, stages[k], requireDraws(draws, k), [rows]);
      });
      const out = await s.run(feeds);
      return { values: out.value.data as Float32Array, grads: sizes.map((_, k) => out[`grad${k}`].data as Float32Array) };
    },
    async evaluate(xs): Promise<Evaluation> {
      const s = await evaluationSession();
      const out = await s.run(feedsOf(xs));
      const rendered = sizes.map((_, k) => out[`input${k}`].data as Float32Array);
      const late = dynamic.some((d) => d) ? await dynamicOutputValues(req.model, dynamic, modelInputs(rendered), rows) : [];
      return {
        values: out.value.data as Float32Array,
        outputs: ir.outputs.map((_, i) => (dynamic[i] ? late[i]! : (out[`out${i}`].data as Float32Array))),
        ...(problem.pipeline ? { inputs: rendered } : {}),
      };
    },
    async ascent(plan) {
      const graphs: AscentGraphs = shards
        ? shardedGraphs(shards, runThreads, (r) => stepProblem(r, ir, opts.layout ?? 'propagate'), plan, rows, shardThreads, opts.stepwise ?? true)
        : { layout, sessionFor: (K) => open(buildAscentGraph(new OnnxBuilder(), problem, plan, layout, K)) };
      const a = Object.assign(onnxAscent(ort, problem, plan, sizes, graphs), { runsOfRows: shards?.length ?? 1, stepwise: !!graphs.stepwise });
      // The Loop graph serves every chunk length: build it now, so setup is not counted as steps.
      if (layout === 'loop') await a.prepare();
      return a;
    },
    dispose() {
      for (const s of sessions) void s.release();
      for (const t of shardThreads) t.release();
    },
  };
}

function requireDraws(draws: StepDraws | undefined, k: number): Float64Array {
  const d = draws?.[k];
  if (!d) throw new Error(`the pipeline transforms input ${k}, but no draws were given`);
  return d;
}

/** Something that runs a graph's feeds: an onnxruntime session, or the sessions of the batch's runs of rows together. */
interface GraphRunner {
  run(feeds: Record<string, Ort.Tensor>): Promise<Record<string, { data: unknown }>>;
}

/**
 * The ONNX engine's fused ascent: `runsOfRows` sessions in threads of their own share the batch (1:
 * one session); `stepwise`: those sessions run a network call a step between the pipeline's
 * WebAssembly kernels (pipeline/stepwise.ts) instead of the Loop graph.
 */
export type OnnxAscent = Ascent & { runsOfRows: number; stepwise: boolean };

/** Where the fused ascent's graphs come from: one per chunk length K (a Loop graph serves every K). */
interface AscentGraphs {
  layout: StepLayout;
  sessionFor(K: number): Promise<GraphRunner>;
  /** The runs of rows run stepwise (pipeline/stepwise.ts). */
  stepwise?: boolean;
}

/**
 * The fused ascent's Loop graph once per run of rows, the runs dealt out to `threads` worker
 * threads (each runs its own one after another, one intra-op thread each), all run together as
 * one; `opened` collects the threads (the engine releases them).
 */
function shardedGraphs(shards: Shard[], threads: number, problemOf: (req: EngineRequest) => StepProblem, plan: AscentPlan, rows: number, opened: ShardThread[], allowStepwise = true): AscentGraphs {
  const pool = Array.from({ length: Math.min(threads, shards.length) }, () => openShardThread());
  opened.push(...pool);
  // Jitter and TV on small one-channel pictures: a network call a step between WebAssembly kernels.
  const problems = shards.map((sh) => problemOf(sh.request));
  const specs = problems.map((problem) => (allowStepwise ? stepwiseSpec(problem, plan) : null));
  const stepwise = specs.every((spec) => spec !== null);
  const sessions = Promise.all(problems.map((problem, i) => {
    // Contiguous runs to each thread (runs i·n/T …): neighbouring rows share a thread.
    const thread = pool[Math.floor((i * pool.length) / shards.length)];
    const spec = specs[i];
    if (stepwise && spec) return thread.openStepwise(encodeModel(networkGraph(problem)), sessionOptions(1), { ...spec, wasm: pipelineKernels() });
    return thread.open(encodeModel(buildAscentGraph(new OnnxBuilder(), problem, plan, 'loop')), sessionOptions(1));
  }));
  // The ascent's feeds are numeric tensors, as the threads take them.
  const runner = sessions.then((ss) => ({ run: shardedRun(ss, shards, rows, ascentRowAxis) as GraphRunner['run'] }));
  return { layout: 'loop', sessionFor: () => runner, stepwise };
}

/**
 * The runs of rows the fused ascent splits the batch into (`runCount` of them, shared out to
 * `threads` worker threads), or null for one session on all of them: splitting needs worker
 * threads (Node), and a run long enough to win back their set-up (`worthRunsOfRows`; the steps
 * must be known).
 */
function ascentShards(req: EngineRequest, threads: number, macsPerRow: number, valuesPerRow: number) {
  const rows = req.targets.length * req.rowsPerTarget;
  if (req.steps === undefined || !shardsAvailable() || !worthRunsOfRows(threads, rows, macsPerRow, req.steps)) return null;
  return shardRequest(req, runCount(threads, rows, valuesPerRow));
}

/** The row axis of the fused ascent's feeds and outputs: behind the step axis for per-step values, else first. */
function ascentRowAxis(name: string): 0 | 1 {
  return name === ASCENT_IO.values || name === ASCENT_IO.best || name.startsWith('alpha') || name.startsWith('draws') ? 1 : 0;
}

/** The fused K-step ascent: one graph per chunk length, built on first use. */
function onnxAscent(ort: OrtModule, problem: StepProblem, plan: AscentPlan, sizes: number[], graphs: AscentGraphs): Ascent & { prepare(): Promise<unknown> } {
  const rows = problem.terms.rows;
  const byK = new Map<number, Promise<GraphRunner>>();
  const stages = problem.pipeline?.inputs ?? [];
  const T = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const moments = plan.optimizer === 'adam' ? 2 : plan.optimizer === 'sgd' ? 1 : 0;
  const layout = graphs.layout;
  /** A Loop graph serves every chunk length; unrolled ones are built per length. */
  const sessionFor = (K: number) => {
    const key = layout === 'loop' ? 0 : K;
    let s = byK.get(key);
    if (!s) byK.set(key, (s = graphs.sessionFor(K)));
    return s;
  };
  // One Loop graph serves any chunk length; unrolled graphs grow with it, so they keep the default.
  const perCall = layout === 'loop' ? stepsPerCall(rows * sizes.reduce((a, b) => a + b, 0)) : undefined;
  return {
    ...(perCall ? { stepsPerCall: perCall } : {}),
    anyLength: layout === 'loop',
    prepare: () => sessionFor(1),
    async run(state: AscentState, alphas: Float32Array[], draws?: StepDraws): Promise<AscentChunk> {
      const K = alphas[0].length / rows;
      if (!Number.isInteger(K) || K < 1) throw new Error(`ascent: ${alphas[0].length} step sizes are not a whole number of steps of ${rows} rows`);
      const session = await sessionFor(K);
      const feeds: Record<string, Ort.Tensor> = { [ASCENT_IO.bestValue]: T(state.bestValue, [rows]) };
      sizes.forEach((n, k) => {
        feeds[ASCENT_IO.x(k)] = T(state.x[k], [rows, n]);
        feeds[ASCENT_IO.bestX(k)] = T(state.bestX[k], [rows, n]);
        feeds[ASCENT_IO.alpha(k)] = T(alphas[k], [K, rows, 1]);
        if (moments >= 1) feeds[ASCENT_IO.m(k)] = T(state.m![k], [rows, n]);
        if (moments >= 2) feeds[ASCENT_IO.v(k)] = T(state.v![k], [rows, n]);
        if (stages[k]?.transforms.length) feeds[ASCENT_IO.draws(k)] = drawTensor(ort, stages[k], requireDraws(draws, k), [K, rows]);
      });
      const out = await session.run(feeds);
      const f = (name: string) => out[name].data as Float32Array;
      const per = (name: (k: number) => string) => sizes.map((_, k) => f(ASCENT_IO.out(name(k))));
      return {
        state: {
          x: per(ASCENT_IO.x),
          ...(moments >= 1 ? { m: per(ASCENT_IO.m) } : {}),
          ...(moments >= 2 ? { v: per(ASCENT_IO.v) } : {}),
          bestX: per(ASCENT_IO.bestX),
          bestValue: f(ASCENT_IO.out(ASCENT_IO.bestValue)),
        },
        values: f(ASCENT_IO.values),
        best: f(ASCENT_IO.best),
        bad: f(ASCENT_IO.bad),
      };
    },
  };
}
