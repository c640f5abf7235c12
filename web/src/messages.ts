/**
 * The typed messages between the page (main.ts) and the compute worker (worker.ts). Everything
 * here is structured-cloneable; big arrays travel as transferred Float32Arrays.
 */
import { z } from 'zod';
import type { Constraint, ExactProgress, ExactResult, InputInfo, LayerInfo, MaximizeResult, ModelFormat, ObjectiveSpec, OptimizerName, OutputInfo, PriorReport, RunSummary as LibraryRunSummary, StepInfo, TargetResult } from 'actmax/browser';

export type { InputInfo };

/** A run's settings and totals as the worker reports them: the library's summary, the data prior and what the polish did, when there were. */
export type RunSummary = LibraryRunSummary & { prior?: PriorReport; polish?: MaximizeResult['polish'] };

/** Which TF.js backend the worker should use; `auto` tries WebGL, then WASM, then CPU. */
export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu';

/** What the page needs to know about the loaded model (the TF.js model itself stays in the worker). */
export interface ModelSummary {
  /** File name or URL it came from. */
  source: string;
  format: ModelFormat;
  kerasVersion?: string;
  inputs: InputInfo[];
  outputs: OutputInfo[];
  layers: LayerInfo[];
  notes: string[];
  /** True for the model shipped with actmax (its examples.json can be used as references). */
  bundled: boolean;
}

/** One gradient-search run, as the page asks for it. */
export interface RunRequest {
  /** Increases with every run so late messages of an old run can be told apart. */
  id: number;
  /** The objective as typed (grammar of `parseObjective`), for the result's `objective` field. */
  objectiveText: string;
  /** One spec per target (already parsed by the page). */
  targets: ObjectiveSpec[];
  steps: number;
  restarts: number;
  optimizer: OptimizerName;
  /** Step size; undefined = the optimiser's default. */
  lr?: number;
  seed: number;
  constraints: Constraint[];
  /** Start every target's first restart here (the reference image), when given. */
  init?: number[];
  /** Compute engine (default auto: ONNX when it can compile the job). */
  engine?: 'auto' | 'onnx' | 'tfjs';
  /** Keep the answers on the data: a data prior the worker fetches by URL (and keeps for later runs). */
  prior?: PriorRequest;
}

/**
 * A data prior by URL: the subspace of a stored prior (`prior.json` beside a model.json) with K
 * components and its default code set, or a decoder model x = G(z) with its default code set.
 */
export type PriorRequest = { kind: 'subspace'; url: string; components: number } | { kind: 'decoder'; url: string };

/** The exact maximisation of one target. */
export interface ExactRequest {
  id: number;
  target: ObjectiveSpec;
  constraints: Constraint[];
  /** Seconds the solver may run (the warm start and bound tightening come on top). */
  timeLimit: number;
  /**
   * A starting solution (the best gradient-search input for this target and these constraints),
   * which HiGHS needs to find incumbents early; without one the library runs its own gradient search.
   */
  start?: number[];
  /** A data prior (subspace: the MILP's variables are its code; a decoder is refused by the library in one line). */
  prior?: PriorRequest;
}

/** Page → worker. */
export type PageToWorker =
  | { type: 'init'; backend: BackendChoice; wasmPrefix: string; highsPrefix: string; modelUrl: string; onnxThreads?: number }
  | { type: 'load-url'; url: string }
  | { type: 'load-files'; files: Record<string, ArrayBuffer> }
  | { type: 'run'; run: RunRequest }
  | { type: 'stop'; id: number }
  | { type: 'exact'; exact: ExactRequest }
  | { type: 'stop-exact'; id: number };

/** Worker → page. */
export type WorkerToPage =
  | { type: 'ready'; backend: string; exactAvailable: boolean; tried: string[] }
  | { type: 'loading'; what: string }
  | { type: 'model'; summary: ModelSummary }
  | ({
      type: 'progress';
      id: number;
      /** The first model output for every row of `x` (rows × units), or null when not computed. */
      outputs: Float32Array | null;
      imageStepsPerSecond: number;
      /** The engine computing the steps (`onnx-web-wasm-2t`, `tfjs-wasm`, …). */
      engine: string;
    } & StepInfo)
  | { type: 'done'; id: number; results: TargetResult[]; run: RunSummary }
  | { type: 'error'; id?: number; code?: string; message: string }
  /** Best value found so far, proven upper bound, (bound − incumbent)/|incumbent|, nodes, seconds. */
  | ({ type: 'exact-progress'; id: number } & ExactProgress)
  | { type: 'exact-done'; id: number; result: ExactResult }
  | { type: 'exact-unavailable'; id: number; message: string };

/**
 * What the worker accepts from the page, checked with zod before it reaches the library (which
 * checks objective specs and constraints in depth). A new RunRequest field: add it here too.
 */
export const PageToWorkerSchema = (() => {
  const id = z.number().int().nonnegative();
  const spec = z.looseObject({ kind: z.string() });
  const constraint = z.looseObject({ kind: z.enum(['box', 'ball', 'mask', 'levels', 'linear', 'oneHot']) });
  const numbers = z.array(z.number());
  const prior = z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('subspace'), url: z.string(), components: z.number().int().min(1).max(64) }),
    z.object({ kind: z.literal('decoder'), url: z.string() }),
  ]);
  const run = z.looseObject({
    id,
    objectiveText: z.string(),
    targets: z.array(spec).min(1).max(64),
    steps: z.number().int().positive(),
    restarts: z.number().int().positive(),
    optimizer: z.enum(['adam', 'sgd', 'normalized', 'sign']),
    lr: z.number().positive().optional(),
    seed: z.number().int().nonnegative(),
    constraints: z.array(constraint),
    init: numbers.optional(),
    prior: prior.optional(),
  });
  const exact = z.looseObject({ id, target: spec, constraints: z.array(constraint), timeLimit: z.number().positive(), start: numbers.optional(), prior: prior.optional() });
  return z.discriminatedUnion('type', [
    z.object({ type: z.literal('init'), backend: z.enum(['auto', 'webgl', 'wasm', 'cpu']), wasmPrefix: z.string(), highsPrefix: z.string(), modelUrl: z.string(), onnxThreads: z.number().int().min(1).max(4).optional() }),
    z.object({ type: z.literal('load-url'), url: z.string() }),
    z.object({ type: z.literal('load-files'), files: z.record(z.string(), z.instanceof(ArrayBuffer)) }),
    z.object({ type: z.literal('run'), run }),
    z.object({ type: z.literal('stop'), id }),
    z.object({ type: z.literal('exact'), exact }),
    z.object({ type: z.literal('stop-exact'), id }),
  ]);
})();
