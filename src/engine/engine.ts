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
}

/** Objective values per row and the model's outputs (flat, rows × units, one per output). */
export interface Evaluation {
  values: Float32Array;
  outputs: Float32Array[];
}

/**
 * The one compute interface every maximiser uses: a loaded model + objectives → values and input
 * gradients for a batch. TF.js is the reference engine (and the browser's); native engines plug
 * in behind the same interface and must give the same numbers.
 */
export interface Engine {
  readonly name: string;
  readonly rows: number;
  /** Values [rows] and gradients w.r.t. each optimised input (rows × features, flat) at `xs`. */
  valueAndGrad(xs: Float32Array[]): Promise<{ values: Float32Array; grads: Float32Array[] }>;
  /** Values and all model outputs at `xs` (no gradient). */
  evaluate(xs: Float32Array[]): Promise<Evaluation>;
  dispose(): void;
}

/** Builds an engine for a request. @example const engine = await createTfjsEngine(request) */
export type EngineFactory = (req: EngineRequest) => Promise<Engine>;
