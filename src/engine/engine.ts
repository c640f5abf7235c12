import type * as tf from '@tensorflow/tfjs';
import type { Tap } from '../model/activations.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';

/**
 * A term added to what the gradient climbs, but not to the reported values: image regularisers
 * (total variation, L1/L2 on the rendered input) and batch-coupled ones (diversity).
 */
export interface ExtraTerm {
  /** Layers the term reads (added to the forward program). */
  taps: Tap[];
  /** One value per row, to be maximised (penalties are negative). `inputs`: rendered model inputs before transforms; taps: after. */
  fn(ctx: { tap(t: Tap): tf.Tensor; inputs: tf.Tensor[]; rowsPerTarget: number }): tf.Tensor1D;
}

/**
 * Image pipeline hooks (src/image): TF.js engines run them inside the differentiable step;
 * an engine that cannot must throw. Indices k are positions in `EngineRequest.optimize`.
 */
export interface InputPipeline {
  /** Optimised variables per row of input k, when a parameterisation renders it (else the input's own size). */
  paramSize: Array<number | null>;
  /** p [rows, paramSize] → model input [rows, ...shape] (only for k with a paramSize). */
  render(p: tf.Tensor, k: number): tf.Tensor;
  /** Random transform of input k for one gradient step (draws new randomness every call). */
  transform?(x: tf.Tensor, k: number): tf.Tensor;
  extraTerms: ExtraTerm[];
}

/** What an engine is asked to compute: one objective per target, `rowsPerTarget` rows each. */
export interface EngineRequest {
  model: ActmaxModel;
  targets: ObjectiveSpec[];
  rowsPerTarget: number;
  /** Indices of the model inputs being optimised; the others are held at `fixed` values. */
  optimize: number[];
  /** One example per non-optimised input (flat), tiled over the batch. */
  fixed: Map<number, Float32Array>;
  /** Parameterisation, transforms and extra terms of image inputs (see src/image). */
  pipeline?: InputPipeline;
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
  /** Values [rows] and gradients w.r.t. each optimised input (rows × features, flat) at `xs` (the parameters, with a pipeline). */
  valueAndGrad(xs: Float32Array[]): Promise<{ values: Float32Array; grads: Float32Array[] }>;
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

/** The fused ascent an engine may offer: K steps of optimiser + box clip + best tracking per call. */
export interface AscentPlan {
  optimizer: 'adam' | 'sign';
  /** Per-feature bounds of the optimised input (flat); the clip after every step. */
  lo: Float32Array;
  hi: Float32Array;
  /** Adam's β1, β2 and the epsilon of the unnormalised moments (eps / √(1-β2)). */
  b1: number;
  b2: number;
  eps: number;
}

/**
 * State carried between fused calls (rows × features, flat, except `bestValue` [rows]). Adam's
 * moments are unnormalised: m̃ = Σ β1^j g, ṽ = Σ β2^j g² (absent for sign steps).
 */
export interface AscentState {
  x: Float32Array;
  m?: Float32Array;
  v?: Float32Array;
  bestX: Float32Array;
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

/** A prepared fused ascent (one plan); `run` does `alphas.length / rows` steps. */
export interface Ascent {
  /** `alphas`: per-step, per-row step sizes (steps × rows, flat), schedule and bias corrections folded in. */
  run(state: AscentState, alphas: Float32Array): Promise<AscentChunk>;
}
