/**
 * Resizing, mirror padding, strided slicing and thresholding for the IR interpreter, built from
 * ops whose gradients TF.js 4.22 gets right (measured against finite differences):
 * - ResizeBilinearGrad ignores `halfPixelCenters`; ResizeNearestNeighborGrad is wrong for batch > 1
 *   on the CPU backend. Resizing is linear, so it runs as two matrix products with constant
 *   interpolation matrices built with TF's own index rules.
 * - MirrorPad's gradient is wrong: mirror padding runs as slices, reversals and a concat.
 * - StridedSlice and Greater have no gradient: steps run as pad + reshape + slice; the threshold
 *   mask is a custom gradient.
 */
import * as tf from '@tensorflow/tfjs';

type T = tf.Tensor;

/** TF.js's ratio between input and output coordinates. */
function ratio(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

/**
 * [out, in] interpolation matrix of TF's resize along one axis (as TF.js's CPU kernels compute it).
 *
 * @example
 * resizeMatrix(2, 4, 'nearest', false, false) // rows pick inputs 0, 0, 1, 1
 */
export function resizeMatrix(inSize: number, outSize: number, method: 'bilinear' | 'nearest', alignCorners: boolean, halfPixelCenters: boolean): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const r = ratio(inSize, outSize, alignCorners);
  for (let o = 0; o < outSize; o++) {
    if (method === 'nearest') {
      const src = r * (halfPixelCenters ? o + 0.5 : o);
      let i = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
      if (halfPixelCenters) i = Math.max(0, i);
      m[o * inSize + i] = 1;
      continue;
    }
    const src = halfPixelCenters ? r * (o + 0.5) - 0.5 : r * o;
    const lo = Math.max(0, Math.floor(src)), hi = Math.min(inSize - 1, Math.ceil(src));
    const frac = src - Math.floor(src);
    m[o * inSize + lo] += 1 - frac;
    m[o * inSize + hi] += frac;
  }
  return m;
}

/**
 * NHWC resize as Ah · x · Awᵀ per channel (differentiable everywhere, exact TF index rules).
 *
 * @example
 * const y = resize(x, [8, 8], 'bilinear', false, true);
 */
export function resize(x: tf.Tensor4D, size: [number, number], method: 'bilinear' | 'nearest', alignCorners: boolean, halfPixelCenters: boolean): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [oh, ow] = size;
  const ah = tf.tensor2d(resizeMatrix(h, oh, method, alignCorners, halfPixelCenters), [oh, h]);
  const aw = tf.tensor2d(resizeMatrix(w, ow, method, alignCorners, halfPixelCenters), [ow, w]);
  // Rows: [B, W, C, H] · Ahᵀ → [B, W, C, oh]; columns: [B, oh, C, W] · Awᵀ → [B, oh, C, ow].
  const rows = tf.matMul(x.transpose([0, 2, 3, 1]).reshape([b * w * c, h]), ah, false, true).reshape([b, w, c, oh]);
  const cols = tf.matMul(rows.transpose([0, 3, 2, 1]).reshape([b * oh * c, w]), aw, false, true).reshape([b, oh, c, ow]);
  return cols.transpose([0, 1, 3, 2]) as tf.Tensor4D;
}

/**
 * Mirror padding (`reflect` leaves the edge out, `symmetric` repeats it) on every axis but the batch.
 *
 * @example
 * const y = mirrorPad(x, [[1, 1], [2, 2], [0, 0]], 'reflect');
 */
export function mirrorPad(x: T, pads: Array<[number, number]>, mode: 'reflect' | 'symmetric'): T {
  let y = x;
  const skip = mode === 'reflect' ? 1 : 0;
  pads.forEach(([before, after], i) => {
    const axis = i + 1;
    const n = y.shape[axis];
    const part = (from: number, len: number) => {
      const begin = y.shape.map(() => 0);
      const sizes = y.shape.slice();
      begin[axis] = from;
      sizes[axis] = len;
      return tf.reverse(tf.slice(y, begin, sizes), axis);
    };
    const parts: T[] = [];
    if (before > 0) parts.push(part(skip, before));
    parts.push(y);
    if (after > 0) parts.push(part(n - after - skip, after));
    if (parts.length > 1) y = tf.concat(parts, axis);
  });
  return y;
}

/**
 * Every `step`-th element along each non-batch axis from `begin` (exclusive `end`), as
 * slice + pad + reshape + slice so the gradient exists.
 *
 * @example
 * const y = stepSlice(x, [0, 1], [4, 5], [2, 3]);
 */
export function stepSlice(x: T, begin: number[], end: number[], steps: number[]): T {
  let y = tf.slice(x, [0, ...begin], [x.shape[0], ...end.map((e, i) => e - begin[i])]);
  steps.forEach((s, i) => {
    if (s === 1) return;
    const axis = i + 1;
    const len = y.shape[axis];
    const out = Math.ceil(len / s);
    const pads = y.shape.map((_, a) => [0, a === axis ? out * s - len : 0] as [number, number]);
    const padded = out * s > len ? tf.pad(y, pads) : y;
    const split = [...y.shape.slice(0, axis), out, s, ...y.shape.slice(axis + 1)];
    const picked = tf.slice(padded.reshape(split), split.map(() => 0), split.map((d, a) => (a === axis + 1 ? 1 : d)));
    y = picked.reshape([...y.shape.slice(0, axis), out, ...y.shape.slice(axis + 1)]);
  });
  return y;
}

/**
 * x where x > theta, else 0; the gradient is the same mask.
 *
 * @example
 * const y = thresholded(x, 1);
 */
export function thresholded(x: T, theta: number): T {
  const f = tf.customGrad(((input: T, save: tf.GradSaveFunc) => {
    const mask = tf.greater(input, theta).cast('float32');
    save([mask]);
    return { value: input.mul(mask), gradFunc: (dy: T, saved: T[]) => [dy.mul(saved[0])] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}
