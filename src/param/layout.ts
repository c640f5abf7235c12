/**
 * Image inputs recorded channels-first ([C, H, W], `layout: 'nchw'`): the image machinery works
 * on H×W×C pictures and converts at the model's edge.
 */
import type * as tf from '@tensorflow/tfjs';
import { imageDims } from './param.js';

/** An input as the image code sees it. */
export interface ImageInput {
  shape: number[];
  layout?: 'nhwc' | 'nchw';
}

/** Is this a channels-first image input? @example isChannelsFirst({ shape: [3, 416, 416], layout: 'nchw' }) // true */
export function isChannelsFirst(info: ImageInput): boolean {
  return info.layout === 'nchw' && info.shape.length === 3;
}

/**
 * H, W, C of an image input in either layout, or null when it is not an image.
 *
 * @example
 * imageDimsOf({ shape: [3, 416, 416], layout: 'nchw' }) // [416, 416, 3]
 */
export function imageDimsOf(info: ImageInput): [number, number, number] | null {
  if (isChannelsFirst(info)) return imageDims([info.shape[1], info.shape[2], info.shape[0]]);
  return imageDims(info.shape);
}

/** The per-example shape the image code works in: [H, W, C] for a channels-first input, else the input's own. @example pictureShape({ shape: [3, 8, 8], layout: 'nchw' }) // [8, 8, 3] */
export function pictureShape(info: ImageInput): number[] {
  return isChannelsFirst(info) ? [info.shape[1], info.shape[2], info.shape[0]] : info.shape;
}

/**
 * Rows of model-layout values → rows of H×W×C pictures (a copy when the input is channels-first,
 * the same array otherwise).
 *
 * @example
 * toPicture(x, { shape: [3, 2, 2], layout: 'nchw' }) // [r, g, b, r, g, b, …]
 */
export function toPicture(x: ArrayLike<number>, info: ImageInput): ArrayLike<number> {
  if (!isChannelsFirst(info)) return x;
  const [c, h, w] = info.shape;
  const n = c * h * w;
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += n) {
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[base + p * c + ch] = x[base + ch * h * w + p];
  }
  return out;
}

/** Rows of H×W×C pictures → rows in the model's layout (inverse of {@link toPicture}). @example fromPicture(pic, info) */
export function fromPicture(x: ArrayLike<number>, info: ImageInput): Float32Array {
  if (!isChannelsFirst(info)) return Float32Array.from(x);
  const [c, h, w] = info.shape;
  const n = c * h * w;
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += n) {
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[base + ch * h * w + p] = x[base + p * c + ch];
  }
  return out;
}

/** A batch in the model's layout → [rows, H, W, C] (and back with {@link fromPictures}). @example toPictures(x, info) */
export function toPictures(x: tf.Tensor, info: ImageInput): tf.Tensor {
  return isChannelsFirst(info) ? x.reshape([x.shape[0], ...info.shape]).transpose([0, 2, 3, 1]) : x;
}

/** [rows, H, W, C] → a batch in the model's layout. @example fromPictures(pics, info) */
export function fromPictures(x: tf.Tensor, info: ImageInput): tf.Tensor {
  return isChannelsFirst(info) ? x.transpose([0, 3, 1, 2]) : x;
}
