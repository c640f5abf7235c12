import type { ActmaxModel } from '../model/types.js';
import type { ParamSpec } from '../param/param.js';
import { imageDimsOf } from '../param/layout.js';
import { standardTransforms, type TransformSpec } from '../transforms/transforms.js';
import type { RegularizerSpec } from './regularizers.js';

/** Settings of the image pipeline; omitted fields take {@link imageDefaults}. */
export interface ImageOptions {
  param?: ParamSpec;
  transforms?: TransformSpec[];
  regularizers?: RegularizerSpec[];
}

/** The defaults for a model's (first) input and why they were chosen. */
export interface ImageDefaults extends Required<ImageOptions> {
  /** `none` (not an image), `small` (≤ 64 px: pixels + light jitter + TV) or `large` (spectral + standard transforms). */
  kind: 'none' | 'small' | 'large';
  reason: string;
}

/** Total-variation weight of the small-image default (TV is a mean over pixels, logits are O(10)). */
export const SMALL_IMAGE_TV = 0.5;

/**
 * Choose the image machinery from the input's shape: flat/tabular → none; small images (≤ 64 px,
 * any channel count) → plain pixels, light jitter and total variation; larger images → spectral
 * parameterisation (colour-decorrelated when RGB) and the standard transforms.
 *
 * @example
 * imageDefaults(model) // { kind: 'small', param: 'pixel', transforms: [{ kind: 'jitter', pixels: 2 }], regularizers: [{ kind: 'tv', weight: 0.5 }], … }
 */
export function imageDefaults(model: ActmaxModel, inputIndex = 0): ImageDefaults {
  const info = model.inputs[inputIndex];
  const dims = imageDimsOf(info);
  if (!dims) {
    return { kind: 'none', reason: `input "${info.name}" [${info.shape.join(', ')}] is not an image`, param: 'pixel', transforms: [], regularizers: [] };
  }
  const [h, w, c] = dims;
  const size = Math.max(h, w);
  const colour = c === 1 ? 'grayscale' : c === 3 ? 'RGB' : `${c}-channel`;
  if (size <= 64) {
    const jitter = Math.max(1, Math.round(size / 14));
    return {
      kind: 'small',
      reason: `${h}×${w} ${colour} image (≤ 64 px)`,
      param: 'pixel',
      transforms: [{ kind: 'jitter', pixels: jitter }],
      regularizers: [{ kind: 'tv', weight: SMALL_IMAGE_TV }],
    };
  }
  return {
    kind: 'large',
    reason: `${h}×${w} ${colour} image (> 64 px)`,
    param: { kind: 'spectral', decorrelate: c === 3 },
    transforms: standardTransforms(h, w),
    regularizers: [],
  };
}
