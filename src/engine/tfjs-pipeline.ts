import * as tf from '@tensorflow/tfjs';
import type { Tap } from '../model/activations.js';
import { tfjsParam, type ParamPlan, type Parameterisation } from '../param/param.js';
import type { ActmaxModel } from '../model/types.js';
import { createPriorParam } from '../prior/param.js';
import type { InputPenalty, InputStage, PipelineSpec } from '../pipeline/spec.js';
import { warpRows } from '../transforms/transforms.js';

/*
 * The TF.js reference of the image pipeline: parameterisations render p, each row's transform is
 * a bilinear resampling through its drawn affine map, and the regularisers are extra terms of
 * what the gradient climbs (never of the reported value).
 */

/** A term added to what the gradient climbs: one value per row (penalties are negative). */
export interface ExtraTerm {
  taps: Tap[];
  /** `inputs`: the rendered optimised inputs before transforms (by k); taps after. */
  fn(ctx: { tap(t: Tap): tf.Tensor; inputs: tf.Tensor[]; rowsPerTarget: number }): tf.Tensor1D;
}

/** What renders variables into an input. */
type Renderer = Pick<Parameterisation, 'render' | 'dispose'>;

/** The pipeline's TF.js pieces for one engine. */
export interface TfjsPipeline {
  params: Array<Renderer | null>;
  /** p [rows, size] of optimised input k → the input [rows, ...shape] (p itself, reshaped, for pixels). */
  render(p: tf.Tensor, k: number): tf.Tensor;
  /** Input k [rows, ...shape] through each row's affine map (rows × 6), or unchanged without transforms. */
  transform(x: tf.Tensor, k: number, affine: Float64Array | null): tf.Tensor;
  extraTerms: ExtraTerm[];
  dispose(): void;
}

/**
 * Total variation of a batch [R, ...spatial, C] (or [R, ...spatial] when `channelAxis` is false):
 * the mean absolute difference of neighbours along every spatial axis, one value per row.
 *
 * @example
 * const tv = tf.tidy(() => totalVariation(x, true)); // x: [rows, 28, 28, 1]
 */
export function totalVariation(x: tf.Tensor, channelAxis: boolean): tf.Tensor1D {
  const rows = x.shape[0];
  const rank = x.rank;
  const spatial = channelAxis ? rank - 2 : rank - 1;
  let total: tf.Tensor = tf.zeros([rows]);
  for (let ax = 1; ax <= spatial; ax++) {
    const n = x.shape[ax];
    if (n < 2) continue;
    const size = x.shape.slice();
    size[ax] = n - 1;
    const begin = new Array(rank).fill(0);
    const begin2 = begin.slice();
    begin2[ax] = 1;
    total = total.add(x.slice(begin, size).sub(x.slice(begin2, size)).abs().reshape([rows, -1]).mean(1));
  }
  return total as tf.Tensor1D;
}

/** A batch in the model's layout → [rows, H, W, C] pictures (the same tensor for channels-last inputs). */
function toPictures(x: tf.Tensor, s: InputStage): tf.Tensor {
  if (!s.channelsFirst) return x;
  const [h, w, c] = s.dims!;
  return x.reshape([x.shape[0], c, h, w]).transpose([0, 2, 3, 1]);
}

/** [rows, H, W, C] pictures → a batch in the model's layout. */
function fromPictures(x: tf.Tensor, s: InputStage): tf.Tensor {
  return s.channelsFirst ? x.transpose([0, 3, 1, 2]).reshape([x.shape[0], ...s.shape]) : x;
}

/** −weight × (tv | mean |x| | mean x²) of the k-th rendered input (TV on its pictures). */
function penaltyTerm(r: InputPenalty, k: number, stage: InputStage): ExtraTerm {
  const channelAxis = stage.channelsFirst || stage.shape.length === 3;
  return {
    taps: [],
    fn: ({ inputs }) => tf.tidy(() => {
      const x = toPictures(inputs[k], stage);
      const rows = x.shape[0];
      const v = r.kind === 'tv' ? totalVariation(x, channelAxis) : r.kind === 'l1' ? x.abs().reshape([rows, -1]).mean(1) : x.square().reshape([rows, -1]).mean(1);
      return v.mul(-r.weight) as tf.Tensor1D;
    }),
  };
}

/**
 * Lucid's diversity: per row, minus weight × Σ_{j≠i} ⟨G_i, G_j⟩ / n over the other restarts j of
 * the same target, where G is the L2-normalised Gram matrix of the layer's channels (spatial
 * layers) or the normalised activation vector's outer product (dense layers, i.e. cos²).
 * `channelAxis` (per example) holds the channels: 0 for a channels-first layer; absent, the last.
 *
 * @example
 * const term = diversityTerm('conv2d_1', 10);
 */
export function diversityTerm(layer: string, weight: number, channelAxis?: number): ExtraTerm {
  const tap = { layer, pre: false };
  return {
    taps: [tap],
    fn: ({ tap: read, rowsPerTarget }) => tf.tidy(() => {
      const a = channelsLast(read(tap), channelAxis);
      const rows = a.shape[0];
      if (rowsPerTarget < 2) return tf.zeros([rows]) as tf.Tensor1D;
      const targets = rows / rowsPerTarget;
      let g: tf.Tensor;
      let square = false;
      if (a.rank >= 3) {
        const c = a.shape[a.rank - 1];
        const flat = a.reshape([rows, -1, c]);
        g = tf.matMul(flat as tf.Tensor3D, flat as tf.Tensor3D, true, false).reshape([rows, c * c]);
      } else {
        g = a.reshape([rows, -1]);
        square = true;
      }
      const norm = g.square().sum(1, true).add(1e-10).sqrt();
      const gn = g.div(norm).reshape([targets, rowsPerTarget, -1]) as tf.Tensor3D;
      let sim: tf.Tensor = tf.matMul(gn, gn, false, true); // [targets, n, n]
      if (square) sim = sim.square();
      const self = square ? gn.square().sum(2).square() : gn.square().sum(2);
      const others = sim.sum(2).sub(self).div(rowsPerTarget);
      return others.reshape([rows]).mul(-weight) as tf.Tensor1D;
    }),
  };
}

/** A batch [rows, ...] with the per-example `channelAxis` moved last (the same tensor when it is last already). */
function channelsLast(a: tf.Tensor, channelAxis: number | undefined): tf.Tensor {
  const axis = (channelAxis ?? a.rank - 2) + 1;
  if (a.rank < 3 || axis === a.rank - 1) return a;
  const perm = [...Array(a.rank).keys()].filter((d) => d !== axis);
  return a.transpose([...perm, axis]);
}

/**
 * The TF.js pieces of a pipeline spec.
 *
 * @example
 * const p = tfjsPipeline(resolvePipeline(model, [0], 'auto', { constraints: [] }).spec, model);
 */
export function tfjsPipeline(spec: PipelineSpec, model: ActmaxModel): TfjsPipeline {
  // A data prior renders its code into the model's own layout; other parameterisations render pictures.
  const renderer = (plan: ParamPlan): Renderer => (plan.kind === 'prior' ? createPriorParam(plan.prior!.data, model, plan.prior!.input, plan.prior!.constraints) : tfjsParam(plan));
  const params = spec.inputs.map((s) => (s.param ? renderer(s.param) : null));
  const extraTerms: ExtraTerm[] = spec.inputs.flatMap((s, k) => s.penalties.map((r) => penaltyTerm(r, k, s)));
  if (spec.diversity) extraTerms.push(diversityTerm(spec.diversity.layer, spec.diversity.weight, spec.diversity.channelAxis));
  return {
    params,
    render: (p, k) => {
      const s = spec.inputs[k];
      if (!params[k]) return p.reshape([p.shape[0], ...s.shape]);
      return s.param!.kind === 'prior' ? params[k]!.render(p) : fromPictures(params[k]!.render(p), s);
    },
    transform(x, k, affine) {
      const s = spec.inputs[k];
      if (!s.transforms.length || !affine || !s.dims) return x;
      const [h, w, c] = s.dims;
      const pictures = toPictures(x, s).reshape([x.shape[0], h, w, c]) as tf.Tensor4D;
      return fromPictures(warpRows(pictures, affine, s.fill), s).reshape(x.shape);
    },
    extraTerms,
    dispose: () => params.forEach((p) => p?.dispose()),
  };
}
