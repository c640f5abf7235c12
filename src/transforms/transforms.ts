import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../optimize/rng.js';
import { AFFINE_SIZE, drawAffine, sampleTaps, type Fill } from './affine.js';
import type { TransformSpec } from './spec.js';

export { standardTransforms, checkTransform, type TransformSpec } from './spec.js';
export { AFFINE_SIZE, drawAffine, isShiftChain, sampleTaps, type Fill } from './affine.js';

/**
 * Resample every row of a batch [R, H, W, C] through its own affine map (`affine`: R × 6, see
 * {@link drawAffine}), bilinear, with the fill rule outside the image. The TF.js reference of the
 * transforms: the taps are computed in float64 here and gathered; the gradient w.r.t. x is the
 * transposed sampling. Call inside tf.tidy.
 *
 * @example
 * const y = tf.tidy(() => warpRows(x, Float64Array.of(1, 0, 2, 0, 1, -1), 0)); // shift by (−2, +1), zeros in
 */
export function warpRows(x: tf.Tensor4D, affine: ArrayLike<number>, fill: Fill): tf.Tensor4D {
  const [rows, h, w, c] = x.shape;
  const hw = h * w;
  // Whole-pixel shifts need one tap per output pixel, anything else up to 4 (unused slots weigh 0).
  const slots = wholeShifts(affine, rows) ? 1 : 4;
  const index = new Int32Array(rows * hw * slots);
  const weight = new Float32Array(rows * hw * slots);
  const a = new Float64Array(AFFINE_SIZE);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < AFFINE_SIZE; i++) a[i] = affine[r * AFFINE_SIZE + i];
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
      const taps = sampleTaps(a, y, xx, h, w, fill).filter((t) => t.weight !== 0);
      for (let t = 0; t < slots; t++, at++) {
        index[at] = r * hw + (taps[t]?.index ?? 0);
        weight[at] = taps[t]?.weight ?? 0;
      }
    }
  }
  const shifted = typeof fill === 'number' && fill !== 0 ? x.sub(fill) : x;
  const sample = sampler(index, weight, rows * hw, c, slots);
  const out = sample(shifted.reshape([rows * hw, c])).reshape([rows, h, w, c]);
  return (typeof fill === 'number' && fill !== 0 ? out.add(fill) : out) as tf.Tensor4D;
}

/**
 * out[p] = Σ_s weight[p·slots + s] · x[index[p·slots + s]] over `positions` rows of x [positions, c],
 * with its transpose as the gradient (a scatter-add): both kernels exist on every backend, where
 * TF.js's own gather gradient (UnsortedSegmentSum) is missing on WASM.
 */
function sampler(index: Int32Array, weight: Float32Array, positions: number, c: number, slots: number): (x: tf.Tensor) => tf.Tensor {
  const f = (x: tf.Tensor, save: tf.GradSaveFunc) => {
    const idx = tf.tensor1d(index, 'int32');
    const wgt = tf.tensor2d(weight, [weight.length, 1]);
    save([idx, wgt]);
    const weighted = tf.gather(x, idx).mul(wgt);
    const value = slots === 1 ? weighted : weighted.reshape([positions, slots, c]).sum(1);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [i, wv] = saved;
        const spread = (slots === 1 ? dy : dy.reshape([positions, 1, c]).tile([1, slots, 1]).reshape([positions * slots, c])).mul(wv);
        return tf.scatterND(i.reshape([-1, 1]), spread, [positions, c]);
      },
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
}

/** Is every row's map a whole-pixel translation? */
function wholeShifts(affine: ArrayLike<number>, rows: number): boolean {
  for (let r = 0; r < rows; r++) {
    const o = r * AFFINE_SIZE;
    if (affine[o] !== 1 || affine[o + 1] !== 0 || affine[o + 3] !== 0 || affine[o + 4] !== 1 || !Number.isInteger(affine[o + 2]) || !Number.isInteger(affine[o + 5])) return false;
  }
  return true;
}

/**
 * Apply a chain of transforms to a batch [R, H, W, C], each row with its own random draw from
 * `rng` (rows in order), returning a tensor of the same shape. Uncovered pixels take `fill`
 * (default: repeat the edge). `opts.affine` receives the drawn maps (R × 6). Call inside tf.tidy.
 *
 * @example
 * const x = tf.ones([2, 28, 28, 1]) as tf.Tensor4D;
 * const y = tf.tidy(() => applyTransforms(x, [{ kind: 'jitter', pixels: 2 }], new Rng(0), { fill: 0 }));
 * y.shape // [2, 28, 28, 1]
 */
export function applyTransforms(x: tf.Tensor4D, chain: TransformSpec[], rng: Rng, opts: { fill?: Fill; affine?: Float64Array } = {}): tf.Tensor4D {
  const [rows, h, w] = x.shape;
  const affine = opts.affine ?? new Float64Array(rows * AFFINE_SIZE);
  for (let r = 0; r < rows; r++) drawAffine(chain, rng, h, w, affine, r * AFFINE_SIZE);
  return warpRows(x, affine, opts.fill ?? 'edge');
}

/**
 * Shift a batch of images (flat rows, shape H×W×C or H×W) by whole pixels, filling the uncovered
 * border with `fill` (a value, or `'edge'` to repeat the edge): the evaluation shift of the
 * robustness checks, not a training transform.
 *
 * @example
 * const moved = shiftImages(x, rows, [28, 28], 2, -1, 0);
 */
export function shiftImages(x: ArrayLike<number>, rows: number, shape: number[], dy: number, dx: number, fill: number | 'edge'): Float32Array {
  const [h, w] = shape;
  const c = shape.length === 3 ? shape[2] : 1;
  const out = new Float32Array(rows * h * w * c);
  for (let r = 0; r < rows; r++) for (let y = 0; y < h; y++) {
    const sy = y - dy;
    for (let xx = 0; xx < w; xx++) {
      const sx = xx - dx;
      const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      if (!inside && fill !== 'edge') {
        for (let k = 0; k < c; k++) out[((r * h + y) * w + xx) * c + k] = fill;
        continue;
      }
      const cy = Math.min(h - 1, Math.max(0, sy)), cx = Math.min(w - 1, Math.max(0, sx));
      for (let k = 0; k < c; k++) out[((r * h + y) * w + xx) * c + k] = x[((r * h + cy) * w + cx) * c + k];
    }
  }
  return out;
}
