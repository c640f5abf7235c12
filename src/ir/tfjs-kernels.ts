/**
 * Window ops for the IR interpreter whose gradient (w.r.t. the input only: weights are constants)
 * runs on kernels that exist and are right on TF.js-WASM, so no gradient falls back to the CPU
 * backend (measured: a WASM Conv2DBackpropFilter through the CPU backend cost ≈ 100 s per step
 * on a 128×128 model, though only the input gradient was wanted).
 *
 * - Conv2D: the unfused op; its filter gradient is pruned by the tape (the filter is a constant).
 * - DepthwiseConv2D: input gradient as a depthwise conv of the stride-dilated, padded output
 *   gradient with the flipped filter (WASM lacks DepthwiseConv2dNativeBackpropInput).
 * - MaxPool: gradient to the first arg-max of each window (ArgMax over the window's cells, then
 *   one-hot and strided placement). WASM's MaxPoolGrad is wrong when a whole window is negative,
 *   and its MaxPoolWithArgmax returns index 0 for windows whose maximum is ≤ 0.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pads2D } from './ir.js';

type T4 = tf.Tensor4D;

/** TF's explicit padding form for NHWC window ops. */
export function explicitPads(p: Pads2D): tf.backend_util.ExplicitPadding {
  return [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]];
}

/** Insert s−1 zeros between neighbours along H and W: [B, H, W, C] → [B, (H−1)·sh+1, (W−1)·sw+1, C]. */
function spread(x: T4, sh: number, sw: number): T4 {
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const y = x.reshape([b, h, 1, w, 1, c]).pad([[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return y.reshape([b, h * sh, w * sw, c]).slice([0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as T4;
}

/** Pad (positive) or crop (negative) H and W by the given amounts. */
function padOrCrop(x: T4, top: number, bottom: number, left: number, right: number): T4 {
  const [b, h, w, c] = x.shape;
  const crop = [Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right)];
  let y = x;
  if (crop.some((v) => v > 0)) y = y.slice([0, crop[0], crop[2], 0], [b, h - crop[0] - crop[1], w - crop[2] - crop[3], c]);
  const pad = [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)];
  if (pad.some((v) => v > 0)) y = y.pad([[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]]);
  return y;
}

/** The input gradient of a depthwise convolution, from WASM forward kernels. */
function depthwiseInputGrad(dy: T4, filter: T4, xShape: number[], strides: [number, number], dilations: [number, number], pads: Pads2D): T4 {
  const [kh, kw, cin, mult] = filter.shape;
  const [b, h, w] = xShape;
  const [dh, dw] = dilations;
  const d = spread(dy, strides[0], strides[1]);
  // dx[i] = Σ_a dyd[i + pad − a·d]·w[a] = a valid, dilated correlation with the flipped filter.
  const top = (kh - 1) * dh - pads[0], left = (kw - 1) * dw - pads[2];
  const bottom = h + (kh - 1) * dh - top - d.shape[1], right = w + (kw - 1) * dw - left - d.shape[2];
  const padded = padOrCrop(d, top, bottom, left, right);
  const flipped = filter.reverse([0, 1]).reshape([kh, kw, cin * mult, 1]) as T4;
  const per = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', dilations);
  return (mult === 1 ? per : per.reshape([b, h, w, cin, mult]).sum(4)) as T4;
}

/**
 * NHWC depthwise convolution with a constant filter (and optional bias); differentiable w.r.t. x.
 *
 * @example
 * const y = depthwiseConv(x, w, [1, 1], [1, 1], [1, 1, 1, 1]);
 */
export function depthwiseConv(x: T4, filter: T4, strides: [number, number], dilations: [number, number], pads: Pads2D): T4 {
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    const value = tf.depthwiseConv2d(input as T4, filter, strides, explicitPads(pads), 'NHWC', dilations);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [depthwiseInputGrad(dy as T4, filter, saved[0].shape, strides, dilations, pads)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T4;
}

/** Gradient of a valid max pool w.r.t. its input: dy goes to the first maximum of each window (TF's rule). */
function maxPoolInputGrad(x: T4, dy: T4, ksize: [number, number], strides: [number, number]): T4 {
  const [b, h, w, c] = x.shape;
  const [kh, kw] = ksize, [sh, sw] = strides;
  const [, oh, ow] = dy.shape;
  const k = kh * kw;
  if (kh === sh && kw === sw) {
    // Windows tile the image: one reshape gives every window's cells on the last axis.
    const cells = x.slice([0, 0, 0, 0], [b, oh * kh, ow * kw, c]).reshape([b, oh, kh, ow, kw, c]).transpose([0, 1, 3, 5, 2, 4]).reshape([b, oh, ow, c, k]);
    const hot = tf.oneHot(cells.argMax(4), k).mul(dy.expandDims(4));
    const back = hot.reshape([b, oh, ow, c, kh, kw]).transpose([0, 1, 4, 2, 5, 3]).reshape([b, oh * kh, ow * kw, c]) as T4;
    return padOrCrop(back, 0, h - oh * kh, 0, w - ow * kw);
  }
  // Overlapping windows: cell (a, e) of every window is a strided slice; gradients add up.
  const offsets: Array<[number, number]> = [];
  for (let a = 0; a < kh; a++) for (let e = 0; e < kw; e++) offsets.push([a, e]);
  const cells = offsets.map(([a, e]) => tf.stridedSlice(x, [0, a, e, 0], [b, a + (oh - 1) * sh + 1, e + (ow - 1) * sw + 1, c], [1, sh, sw, 1]));
  const arg = tf.stack(cells, 4).argMax(4);
  let dx: tf.Tensor = tf.zeros(x.shape);
  offsets.forEach(([a, e], j) => {
    const part = spread(dy.mul(arg.equal(j).cast('float32')) as T4, sh, sw);
    dx = dx.add(padOrCrop(part, a, h - a - part.shape[1], e, w - e - part.shape[2]));
  });
  return dx as T4;
}

/**
 * NHWC max pooling with explicit padding (padded cells never win); gradient to each window's
 * first maximum.
 *
 * @example
 * const y = maxPool(x, [3, 3], [2, 2], [0, 1, 0, 1]);
 */
export function maxPool(x: T4, ksize: [number, number], strides: [number, number], pads: Pads2D): T4 {
  const padded = pads.some((p) => p > 0) ? (x.pad([[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]], -Infinity) as T4) : x;
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    const value = tf.maxPool(input as T4, ksize, strides, 'valid');
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [maxPoolInputGrad(saved[0] as T4, dy as T4, ksize, strides)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(padded) as T4;
}

/**
 * NHWC average pooling with explicit padding; padded cells are not counted (TF's rule).
 *
 * @example
 * const y = avgPool(x, [2, 2], [2, 2], [0, 0, 0, 0]);
 */
export function avgPool(x: T4, ksize: [number, number], strides: [number, number], pads: Pads2D): T4 {
  if (!pads.some((p) => p > 0)) return tf.avgPool(x, ksize, strides, 'valid');
  const [, h, w] = x.shape;
  const sum = tf.avgPool(x.pad([[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]]) as T4, ksize, strides, 'valid');
  // How many real cells each window covers: a constant per output position.
  const count = tf.tidy(() => tf.avgPool(tf.ones([1, h, w, 1]).pad([[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]]) as T4, ksize, strides, 'valid'));
  return sum.div(count) as T4;
}
