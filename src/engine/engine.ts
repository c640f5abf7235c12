import type { PipelineSpec, StepDraws } from '../pipeline/spec.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';

/** What an engine is asked to compute: one objective per target, `rowsPerTarget` rows each. */
export interface EngineRequest {
  model: ActmaxModel;
  targets: ObjectiveSpec[];
  rowsPerTarget: number;
  /** Indices of the model inputs being optimised; the others are held at `fixed` values. */
  optimize: number[];
  /** One example per non-optimised input (flat), tiled over the batch. */
  fixed: Map<number, Float32Array>;
  /** Parameterisation, transforms and regularisers of the optimised inputs (src/pipeline). */
  pipeline?: PipelineSpec;
  /** The run's steps, when known: an engine may spend set-up that only a long run wins back. */
  steps?: number;
}

/** Objective values per row and the model's outputs (flat, rows × units, one per output). */
export interface Evaluation {
  values: Float32Array;
  outputs: Float32Array[];
  /** The rendered optimised inputs (flat, rows × features), when a parameterisation is in use. */
  inputs?: Float32Array[];
}

/**
 * The one compute interface every maximiser uses: a loaded model + objectives → values and input
 * gradients for a batch. TF.js is the reference engine (and the browser's); native engines plug
 * in behind the same interface and must give the same numbers.
 */
export interface Engine {
  readonly name: string;
  readonly rows: number;
  /**
   * Values [rows] and gradients w.r.t. each optimised input (rows × features, flat) at `xs` (the
   * parameters, with a pipeline). `draws`: this step's transforms (rows × 6 per input), when the
   * pipeline has any. The gradient includes the regularisers; the values do not.
   */
  valueAndGrad(xs: Float32Array[], draws?: StepDraws): Promise<{ values: Float32Array; grads: Float32Array[] }>;
  /** Values and all model outputs at `xs` (no gradient). */
  evaluate(xs: Float32Array[]): Promise<Evaluation>;
  /**
   * Optional fused fast path: several optimiser steps with box clipping and best tracking in one
   * native call (single optimised input). Engines without it run the per-step loop in `maximize`.
   */
  ascent?(plan: AscentPlan): Promise<Ascent>;
  dispose(): void;
}

/**
 * Builds an engine for a request.
 * @example
 * const factory: EngineFactory = createTfjsEngine;
 * const run = await maximize(model, logit(1), { steps: 5, engine: factory });
 */
export type EngineFactory = (req: EngineRequest) => Promise<Engine>;

/** The step rules an engine's fused ascent may implement (the names of `maximize`'s optimisers). */
export type StepRule = 'adam' | 'sgd' | 'normalized' | 'sign';

/**
 * The fused ascent an engine may offer: K steps of optimiser + per-feature clip (+ blur) + best
 * tracking per call, for every optimised input at once.
 */
export interface AscentPlan {
  optimizer: StepRule;
  /** Per optimised input: the per-feature box clipped after every step, or null (unbounded parameters). */
  bounds: Array<{ lo: Float32Array; hi: Float32Array } | null>;
  /** Adam's β1, β2 and the epsilon of the unnormalised moments (eps / √(1-β2)). */
  b1: number;
  b2: number;
  eps: number;
}

/**
 * State carried between fused calls, per optimised input (rows × features, flat), and
 * `bestValue` [rows]. Adam's moments are unnormalised: m̃ = Σ β1^j g, ṽ = Σ β2^j g²; sgd keeps its
 * velocity in `m`.
 */
export interface AscentState {
  x: Float32Array[];
  m?: Float32Array[];
  v?: Float32Array[];
  bestX: Float32Array[];
  bestValue: Float32Array;
}

/** What one fused call returns: the new state and per-step values (steps × rows, flat). */
export interface AscentChunk {
  state: AscentState;
  /** Objective value of each row at each step, before that step's update. */
  values: Float32Array;
  /** Best value so far of each row after each step. */
  best: Float32Array;
  /** Per row: finite when all values and gradients of the row stayed finite during the call. */
  bad: Float32Array;
}

/** A prepared fused ascent (one plan); `run` does as many steps as `alphas[0]` holds (steps × rows). */
export interface Ascent {
  /** Steps per `run` call this ascent does best with (the runtime's per-call cost); absent: the fused loop's default. */
  stepsPerCall?: number;
  /** One native graph serves every number of steps per call (no graph to build for a new length): the fused loop may size its calls by their time. */
  anyLength?: boolean;
  /**
   * `alphas[k]`: per-step, per-row step sizes of input k (steps × rows, flat), schedule and bias
   * corrections folded in; `draws`: the steps' transforms (steps × rows × 6 per input), when any.
   */
  run(state: AscentState, alphas: Float32Array[], draws?: StepDraws): Promise<AscentChunk>;
}
