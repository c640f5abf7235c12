import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ExtraTerm } from '../engine/engine.js';
import type { ActmaxModel } from '../model/types.js';
import { tapShape } from '../model/activations.js';

/**
 * Regularisers of the image pipeline. They steer the gradient but are not part of the reported
 * objective value (write `logit:3-0.05*tv` to have a penalty inside the value itself).
 * - `tv`, `l1`, `l2`: weight × (total variation | mean |x| | mean x²) of the rendered input, subtracted;
 * - `blur`: after each step, x ← x + weight·(blur₃ₓ₃(x) − x) (pixel parameterisation only);
 * - `diversity`: weight × the mean Gram-matrix similarity of `layer`'s activations to the other
 *   restarts of the same target, subtracted (Lucid's `diversity`), so restarts differ.
 */
export type RegularizerSpec =
  | { kind: 'tv' | 'l1' | 'l2'; weight: number }
  | { kind: 'blur'; weight: number }
  | { kind: 'diversity'; weight: number; layer?: string };

/** Check a regulariser's weight. @example checkRegularizer({ kind: 'tv', weight: 0.5 }) */
export function checkRegularizer(r: RegularizerSpec): void {
  if (!['tv', 'l1', 'l2', 'blur', 'diversity'].includes(r.kind)) {
    throw new ActmaxError('bad-option', `unknown regularizer "${r.kind}"; choose tv, l1, l2, blur or diversity`);
  }
  if (!(r.weight >= 0) || !Number.isFinite(r.weight)) throw new ActmaxError('bad-option', `regularizer ${r.kind}: the weight must be a number ≥ 0, got ${r.weight}`);
  if (r.kind === 'blur' && r.weight > 1) throw new ActmaxError('bad-option', `regularizer blur: the weight is a blend in [0, 1], got ${r.weight}`);
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

/** The extra term of a tv/l1/l2 regulariser on the k-th optimised input (model input `inputIndex`). */
export function inputPenaltyTerm(r: { kind: 'tv' | 'l1' | 'l2'; weight: number }, inputIndex: number, channelAxis: boolean): ExtraTerm {
  return {
    taps: [],
    fn: ({ inputs }) => tf.tidy(() => {
      const x = inputs[inputIndex];
      const rows = x.shape[0];
      const v = r.kind === 'tv' ? totalVariation(x, channelAxis) : r.kind === 'l1' ? x.abs().reshape([rows, -1]).mean(1) : x.square().reshape([rows, -1]).mean(1);
      return v.mul(-r.weight) as tf.Tensor1D;
    }),
  };
}

/**
 * The default layer for diversity: the last layer with a spatial output (conv features), else the
 * first hidden layer with more than one unit that is not an output.
 *
 * @example
 * diversityLayer(model) // 'conv2d_1'
 */
export function diversityLayer(model: ActmaxModel): string {
  const outputs = new Set(model.outputs.map((o) => o.layer));
  const skip = new Set(['InputLayer', 'Flatten', 'Reshape', 'Dropout']);
  const candidates = model.layers.filter((l) => !outputs.has(l.name) && !skip.has(l.className) && l.units > 1);
  const spatial = candidates.filter((l) => l.outputShape.length >= 3);
  const pick = spatial.length ? spatial[spatial.length - 1] : candidates[0];
  if (!pick) throw new ActmaxError('bad-option', 'diversity needs a hidden layer; this model has none (name one with diversity:W:LAYER)');
  return pick.name;
}

/**
 * Lucid's diversity: per row, minus weight × Σ_{j≠i} ⟨G_i, G_j⟩ / n over the other restarts j of
 * the same target, where G is the L2-normalised Gram matrix of the layer's channels (spatial
 * layers) or the normalised activation vector's outer product (dense layers, i.e. cos²).
 *
 * @example
 * const term = diversityTerm(model, 'conv2d_1', 10);
 */
export function diversityTerm(model: ActmaxModel, layer: string, weight: number): ExtraTerm {
  if (!model.layers.some((l) => l.name === layer)) {
    try {
      tapShape(model, { layer, pre: false }); // a graph node name
    } catch {
      throw new ActmaxError('unknown-layer', `diversity: layer "${layer}" does not exist; layers are: ${model.layers.map((l) => l.name).join(', ')}`);
    }
  }
  const tap = { layer, pre: false };
  return {
    taps: [tap],
    fn: ({ tap: read, rowsPerTarget }) => tf.tidy(() => {
      const a = read(tap);
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

/**
 * Blend each image row toward its 3×3 binomial blur (edges clamped), in place: x ← x + w·(blur(x) − x).
 *
 * @example
 * blurRows(x, rows, [28, 28, 1], 0.1);
 */
export function blurRows(x: Float32Array, rows: number, dims: [number, number, number], weight: number): void {
  const [h, w, c] = dims;
  const n = h * w * c;
  const tmp = new Float32Array(n);
  const at = (base: number, y: number, xx: number, k: number) => x[base + ((Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, xx))) * c + k)];
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += (dy === 0 ? 2 : 1) * (dx === 0 ? 2 : 1) * at(base, y + dy, xx + dx, k);
      tmp[(y * w + xx) * c + k] = s / 16;
    }
    for (let i = 0; i < n; i++) x[base + i] += weight * (tmp[i] - x[base + i]);
  }
}
