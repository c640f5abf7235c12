import type { ParamPlan } from '../param/param.js';
import type { Fill } from '../transforms/affine.js';
import type { TransformSpec } from '../transforms/spec.js';

/*
 * The image pipeline of one maximisation as plain data, for every engine: what renders the
 * optimised variables into each input, which random transforms each step applies (their draws
 * come in separately, per step and row), and which regularisers steer the gradient.
 */

/** An input penalty: weight × (total variation | mean |x| | mean x²) of the rendered input, subtracted from what the gradient climbs. */
export interface InputPenalty {
  kind: 'tv' | 'l1' | 'l2';
  weight: number;
}

/** The pipeline of one optimised input. */
export interface InputStage {
  /** The model input's shape (no batch). */
  shape: number[];
  /**
   * The model takes this image channels-first ([C, H, W]). The pipeline works on H×W×C pictures
   * (parameterisations render them, transforms, TV and blur act on them) and converts at the
   * model's edge; the variables of plain pixels stay in the model's layout.
   */
  channelsFirst: boolean;
  /** The parameterisation rendering p into an H×W×C picture (the input's own shape when not an image), or null for plain pixels. */
  param: ParamPlan | null;
  /** H, W, C of the picture when the input is an image. */
  dims: [number, number, number] | null;
  /** Transforms applied each step (empty: none); images only. */
  transforms: TransformSpec[];
  /** What the transforms bring in from outside the image. */
  fill: Fill;
  /** On the rendered input before transforms. */
  penalties: InputPenalty[];
  /** After each optimiser step on plain pixels: x ← x + blur·(blur₃ₓ₃(x) − x); 0 = off. */
  blur: number;
}

/** Everything about the pipeline an engine compiles. `inputs[k]` belongs to the k-th optimised input. */
export interface PipelineSpec {
  inputs: InputStage[];
  /**
   * Lucid's diversity across the restarts of a target, on a layer's activations; the Gram matrix is
   * over the channels on `channelAxis` (per example: 0 for a channels-first layer; absent: the last).
   */
  diversity: { layer: string; weight: number; channelAxis?: number } | null;
}

/**
 * Per-step random draws, per optimised input: the affine maps of its transforms (rows × 6,
 * float64, see `drawAffine`) or null when the input has no transforms. For several unrolled
 * steps the arrays hold steps × rows × 6.
 */
export type StepDraws = Array<Float64Array | null>;
