import { ActmaxError } from '../errors.js';

/**
 * Random, seeded, composable image transforms applied to each step's rendered input, so the
 * picture must work under small shifts, scalings and rotations (Lucid's transformation
 * robustness). Every row of a batch draws its own parameters each step.
 */
export type TransformSpec =
  /** Shift by a whole number of pixels in [−pixels, pixels] along each axis. */
  | { kind: 'jitter'; pixels: number }
  /** Grow the canvas by `pixels` on each side (filled by the fill rule); the end of the chain crops back to the centre. */
  | { kind: 'pad'; pixels: number }
  /** Zoom about the centre by a factor drawn from [min, max]. */
  | { kind: 'scale'; min: number; max: number }
  /** Rotate about the centre by an angle drawn from [−degrees, degrees]. */
  | { kind: 'rotate'; degrees: number };

/**
 * Lucid's `standard_transforms` sized to the image: pad, jitter, scale 0.9–1.1 (±5 % for small
 * images), rotate ±10° (±5°), jitter.
 *
 * @example
 * standardTransforms(224, 224) // pad 12, jitter 8, scale 0.9–1.1, rotate 10, jitter 4
 */
export function standardTransforms(h: number, w: number): TransformSpec[] {
  const n = Math.max(h, w);
  const big = n >= 64;
  return [
    { kind: 'pad', pixels: Math.max(1, Math.round((12 * n) / 224)) },
    { kind: 'jitter', pixels: Math.max(1, Math.round((8 * n) / 224)) },
    { kind: 'scale', min: big ? 0.9 : 0.95, max: big ? 1.1 : 1.05 },
    { kind: 'rotate', degrees: big ? 10 : 5 },
    { kind: 'jitter', pixels: Math.max(1, Math.round((4 * n) / 224)) },
  ];
}

/** Check a transform's numbers; throws ActmaxError naming the valid range. @example checkTransform({ kind: 'jitter', pixels: 2 }) */
export function checkTransform(t: TransformSpec): void {
  const bad = (why: string): never => {
    throw new ActmaxError('bad-option', `transform ${t.kind}: ${why}`);
  };
  if (t.kind === 'jitter' || t.kind === 'pad') {
    if (!Number.isInteger(t.pixels) || t.pixels < 0) bad(`pixels must be an integer ≥ 0, got ${t.pixels}`);
  } else if (t.kind === 'scale') {
    if (!(t.min > 0) || !(t.max >= t.min) || !Number.isFinite(t.max)) bad(`needs 0 < MIN ≤ MAX, got ${t.min}, ${t.max}`);
  } else if (t.kind === 'rotate') {
    if (!(t.degrees >= 0 && t.degrees <= 90)) bad(`degrees must be in [0, 90], got ${t.degrees}`);
  } else {
    throw new ActmaxError('bad-option', `unknown transform "${(t as { kind: string }).kind}"; choose jitter, pad, scale, rotate or standard`);
  }
}
