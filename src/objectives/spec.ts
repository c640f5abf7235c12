/**
 * Objectives as plain data: the CLI grammar, the web page's URL and the library's factories all
 * produce these, and every maximiser (gradient search, exact MILP) reads them. Always maximised.
 *
 * `output` names a model output (by name or index); omitted means the first output.
 * Indices into layers are flat indices into the layer's output (without batch) unless noted.
 */
export type ObjectiveSpec =
  /** Pre-activation of output unit `index` (a final softmax/sigmoid is taken off). */
  | { kind: 'logit'; index: number; output?: string | number }
  /** Probability (the model's own final output) of unit `index`. */
  | { kind: 'prob'; index: number; output?: string | number }
  /** logit(index) minus the largest other logit. */
  | { kind: 'margin'; index: number; output?: string | number }
  /** Drive a (regression) output toward `value`: −(out[index] − value)². */
  | { kind: 'target'; index: number; value: number; output?: string | number }
  /** One unit of a layer's output (flat index, or spatial position + channel for conv layers). */
  | { kind: 'neuron'; layer: string; index: number | number[]; pre?: boolean }
  /** Mean over spatial positions of channel `channel` (last axis) of a layer's output. */
  | { kind: 'channel'; layer: string; channel: number; pre?: boolean }
  /** Mean of squares of a layer's output (DeepDream). */
  | { kind: 'layerEnergy'; layer: string; pre?: boolean }
  /** Dot product of the layer's output (flat, or per position for conv layers averaged) with `vector`. */
  | { kind: 'direction'; layer: string; vector: number[]; pre?: boolean }
  /** Penalties on the model input (used as regularisers with a negative weight). */
  | { kind: 'inputL1'; input?: string | number }
  | { kind: 'inputL2'; input?: string | number }
  | { kind: 'totalVariation'; input?: string | number }
  /** Σ weight·term. */
  | { kind: 'sum'; terms: Array<{ weight: number; objective: ObjectiveSpec }> };

/** The kinds of {@link ObjectiveSpec}. */
export type ObjectiveKind = ObjectiveSpec['kind'];
