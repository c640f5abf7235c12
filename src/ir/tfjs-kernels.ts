/**
 * Window ops for the IR interpreter whose gradient (w.r.t. the input only: weights are constants)
 * runs on kernels that exist and are right on TF.js-WASM, so no gradient falls back to the CPU
 * backend (measured: a WASM Conv2DBackpropFilter through the CPU backend cost ≈ 100 s per step
 * on a 128×128 model, though only the input gradient was wanted).
 *
 * - Conv2D: input gradient as a forward conv of the stride-dilated, padded output gradient with
 *   the flipped, in/out-swapped filter (WASM's Conv2DBackpropInput is a slow plain loop: ≈ 13×
 *   the forward conv), and never a filter gradient.
 * - DepthwiseConv2D: input gradient as a depthwise conv of the stride-dilated, padded output
 *   gradient with the flipped filter (WASM lacks DepthwiseConv2dNativeBackpropInput).
 * - MaxPool: gradient to each window's first maximum by ArgMax over the window's cells (WASM's
 *   MaxPoolGrad and MaxPoolWithArgmax misroute windows whose values are all ≤ 0).
 * - AvgPool: a depthwise conv with a constant filter (AvgPoolGrad ignores TF's padding rule).
 */
import * as tf from '@tensorflow/tfjs';
import type { Pads2D } from './ir.js';

type T4 = tf.Tensor4D;

/** TF's explicit padding form for NHWC window ops. @example explicitPads([1, 1, 0, 2]) // [[0, 0], [1, 1], [0, 2], [0, 0]] */
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
function depthwiseInputGrad(dy: T4, flipped: T4, mult: number, xShape: number[], strides: [number, number], dilations: [number, number], pads: Pads2D): T4 {
  const [kh, kw, cm] = flipped.shape;
  const cin = cm / mult;
  const [b, h, w] = xShape;
  const [dh, dw] = dilations;
  const d = spread(dy, strides[0], strides[1]);
  // dx[i] = Σ_a dyd[i + pad − a·d]·w[a] = a valid, dilated correlation with the flipped filter.
  const top = (kh - 1) * dh - pads[0], left = (kw - 1) * dw - pads[2];
  const bottom = h + (kh - 1) * dh - top - d.shape[1], right = w + (kw - 1) * dw - left - d.shape[2];
  const padded = padOrCrop(d, Math.min(top, 0), Math.min(bottom, 0), Math.min(left, 0), Math.min(right, 0));
  const per = tf.depthwiseConv2d(padded, flipped, 1, explicitPads([Math.max(top, 0), Math.max(bottom, 0), Math.max(left, 0), Math.max(right, 0)]), 'NHWC', dilations);
  return (mult === 1 ? per : per.reshape([b, h, w, cin, mult]).sum(4)) as T4;
}

/** The input gradient of a convolution, as a forward convolution (fast on WASM). */
function convInputGrad(dy: T4, flipped: T4, xShape: number[], strides: [number, number], dilations: [number, number], pads: Pads2D): T4 {
  const [kh, kw] = flipped.shape;
  const [, h, w] = xShape;
  const [dh, dw] = dilations;
  const d = spread(dy, strides[0], strides[1]);
  const top = (kh - 1) * dh - pads[0], left = (kw - 1) * dw - pads[2];
  const bottom = h + (kh - 1) * dh - top - d.shape[1], right = w + (kw - 1) * dw - left - d.shape[2];
  // Positive pads go to the conv itself (no padded copy); negative ones are crops.
  const cropped = padOrCrop(d, Math.min(top, 0), Math.min(bottom, 0), Math.min(left, 0), Math.min(right, 0));
  return tf.conv2d(cropped, flipped, 1, explicitPads([Math.max(top, 0), Math.max(bottom, 0), Math.max(left, 0), Math.max(right, 0)]), 'NHWC', dilations);
}

/**
 * The filter the input gradient of a conv runs with: flipped in space, in/out channels swapped.
 *
 * @example
 * const back = tf.keep(convBackFilter(w));
 */
export function convBackFilter(filter: T4): T4 {
  return filter.reverse([0, 1]).transpose([0, 1, 3, 2]) as T4;
}

/**
 * The filter the input gradient of a depthwise conv runs with: flipped in space, one output per
 * (channel, multiplier).
 *
 * @example
 * const back = tf.keep(depthwiseBackFilter(w));
 */
export function depthwiseBackFilter(filter: T4): T4 {
  const [kh, kw, cin, mult] = filter.shape;
  return filter.reverse([0, 1]).reshape([kh, kw, cin * mult, 1]) as T4;
}

/**
 * NHWC convolution with a constant filter; differentiable w.r.t. x only. `back` is the filter
 * from {@link convBackFilter} when the caller keeps one (else it is computed per gradient).
 *
 * @example
 * const y = conv(x, w, [2, 2], [1, 1], [0, 1, 0, 1]);
 */
export function conv(x: T4, filter: T4, strides: [number, number], dilations: [number, number], pads: Pads2D, back?: T4): T4 {
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input, filter]);
    const value = tf.conv2d(input as T4, filter, strides, explicitPads(pads), 'NHWC', dilations);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => [convInputGrad(dy as T4, back ?? convBackFilter(saved[1] as T4), saved[0].shape, strides, dilations, pads)];
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T4;
}

/**
 * NHWC depthwise convolution with a constant filter (and optional bias); differentiable w.r.t. x.
 *
 * `back` is the filter from {@link depthwiseBackFilter} when the caller keeps one.
 *
 * @example
 * const y = depthwiseConv(x, w, [1, 1], [1, 1], [1, 1, 1, 1]);
 */
export function depthwiseConv(x: T4, filter: T4, strides: [number, number], dilations: [number, number], pads: Pads2D, back?: T4): T4 {
  const mult = filter.shape[3];
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input, filter]);
    const value = tf.depthwiseConv2d(input as T4, filter, strides, explicitPads(pads), 'NHWC', dilations);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => [depthwiseInputGrad(dy as T4, back ?? depthwiseBackFilter(saved[1] as T4), mult, saved[0].shape, strides, dilations, pads)];
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T4;
}

/** [kh, kw, C, kh·kw] filter whose output channel c·K + j copies cell j of each window of channel c. */
function cellPicker(kh: number, kw: number, c: number): T4 {
  const k = kh * kw;
  const f = new Float32Array(k * c * k);
  for (let j = 0; j < k; j++) for (let ch = 0; ch < c; ch++) f[(j * c + ch) * k + j] = 1;
  return tf.tensor4d(f, [kh, kw, c, k]);
}

/**
 * Gradient of a max pool w.r.t. its (padded) input: dy goes to the first maximum of each window
 * (TF's rule), with ArgMax over every window's cells. Windows that tile the image get their cells
 * by one reshape; overlapping windows by a depthwise conv with one-hot filters, whose own input
 * gradient then puts dy back in place. (WASM's MaxPoolGrad misroutes windows whose values are all
 * ≤ 0 and gives ties to the last cell; its MaxPoolWithArgmax returns index 0 when the max is ≤ 0.)
 */
function maxPoolInputGrad(x: T4, dy: T4, ksize: [number, number], strides: [number, number]): T4 {
  const [b, h, w, c] = x.shape;
  const [kh, kw] = ksize, [sh, sw] = strides;
  const [, oh, ow] = dy.shape;
  const k = kh * kw;
  if (kh === sh && kw === sw) {
    const cells = x.slice([0, 0, 0, 0], [b, oh * kh, ow * kw, c]).reshape([b, oh, kh, ow, kw, c]).transpose([0, 1, 3, 5, 2, 4]).reshape([b, oh, ow, c, k]);
    const hot = tf.oneHot(cells.argMax(4), k).mul(dy.expandDims(4));
    const back = hot.reshape([b, oh, ow, c, kh, kw]).transpose([0, 1, 4, 2, 5, 3]).reshape([b, oh * kh, ow * kw, c]) as T4;
    return padOrCrop(back, 0, h - oh * kh, 0, w - ow * kw);
  }
  const picker = cellPicker(kh, kw, c);
  // Padded cells hold −∞, and −∞·0 would be NaN inside the conv: the most negative float instead.
  const cells = tf.depthwiseConv2d(tf.maximum(x, -3.4e38) as T4, picker, strides, 'valid').reshape([b, oh, ow, c, k]);
  const hot = tf.oneHot(cells.argMax(4), k).mul(dy.expandDims(4)).reshape([b, oh, ow, c * k]) as T4;
  return depthwiseInputGrad(hot, depthwiseBackFilter(picker), k, x.shape, strides, [1, 1], [0, 0, 0, 0]);
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
 * NHWC average pooling with explicit padding; padded cells are not counted (TF's rule). Runs as a
 * depthwise conv with a constant 1/(kh·kw) filter (fast forward and input gradient on WASM; both
 * backends' AvgPoolGrad are wrong at padded borders).
 *
 * @example
 * const y = avgPool(x, [2, 2], [2, 2], [0, 0, 0, 0]);
 */
export function avgPool(x: T4, ksize: [number, number], strides: [number, number], pads: Pads2D): T4 {
  const [, h, w, c] = x.shape;
  const [kh, kw] = ksize;
  const filter = tf.fill([kh, kw, c, 1], 1 / (kh * kw)) as T4;
  const mean = depthwiseConv(x, filter, strides, [1, 1], pads);
  if (!pads.some((p) => p > 0)) return mean;
  // Windows that overlap the padding average over fewer real cells: rescale by (kh·kw)/count.
  const count = tf.tidy(() => tf.depthwiseConv2d(tf.ones([1, h, w, 1]) as T4, tf.ones([kh, kw, 1, 1]) as T4, strides, explicitPads(pads)));
  return mean.mul(tf.scalar(kh * kw).div(count)) as T4;
}
