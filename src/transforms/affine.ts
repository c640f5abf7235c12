import type { Rng } from '../optimize/rng.js';
import { checkTransform, type TransformSpec } from './spec.js';

/*
 * A chain of transforms (pad, jitter, scale, rotate, …, then a centre crop back to the input's
 * size) is one affine map from output pixels to source pixels. Each row of a batch draws its own
 * chain parameters every step; the engines sample the source image once per output pixel
 * (bilinear, with the fill rule outside), so TF.js and ONNX compute the same picture from the
 * same draws.
 */

/** Numbers per row of an affine draw: sy = a0·y + a1·x + a2, sx = a3·y + a4·x + a5 (pixel indices). */
export const AFFINE_SIZE = 6;

/** True when every draw of the chain is a whole-pixel translation (pad and jitter only). */
export function isShiftChain(chain: TransformSpec[]): boolean {
  return chain.every((t) => t.kind === 'jitter' || t.kind === 'pad');
}

/**
 * Draw one row's chain and write its affine map (6 numbers) at `out[at…]`. The canvas starts as
 * the h×w image; pad grows it, jitter shifts, scale and rotate act about its centre; at the end
 * the centre h×w is cropped out.
 *
 * @example
 * const a = new Float32Array(6);
 * drawAffine([{ kind: 'jitter', pixels: 2 }], new Rng(0), 28, 28, a, 0); // [1, 0, dy, 0, 1, dx]
 */
export function drawAffine(chain: TransformSpec[], rng: Rng, h: number, w: number, out: Float32Array | Float64Array, at: number): void {
  // T(u) = M·u + t maps canvas coordinates to source pixels, kept in `T` (m0 m1 m2 m3 t0 t1): this
  // runs for every row of every step, so no arrays or closures per call.
  T.set(IDENTITY);
  let ch = h, cw = w;
  for (let i = 0; i < chain.length; i++) {
    const tr = chain[i];
    switch (tr.kind) {
      case 'pad':
        then(1, 0, 0, 1, -tr.pixels, -tr.pixels);
        ch += 2 * tr.pixels;
        cw += 2 * tr.pixels;
        break;
      case 'jitter': {
        const dy = rng.int(-tr.pixels, tr.pixels), dx = rng.int(-tr.pixels, tr.pixels);
        then(1, 0, 0, 1, -dy, -dx);
        break;
      }
      case 'scale': {
        const s = tr.min + (tr.max - tr.min) * rng.uniform();
        const cy = (ch - 1) / 2, cx = (cw - 1) / 2;
        then(1 / s, 0, 0, 1 / s, cy - cy / s, cx - cx / s);
        break;
      }
      case 'rotate': {
        const th = ((2 * rng.uniform() - 1) * tr.degrees * Math.PI) / 180;
        const c = Math.cos(th), s = Math.sin(th);
        const cy = (ch - 1) / 2, cx = (cw - 1) / 2;
        // src = centre + R·(u − centre).
        then(c, -s, s, c, cy - (c * cy - s * cx), cx - (s * cy + c * cx));
        break;
      }
      default:
        checkTransform(tr);
    }
  }
  // Crop the centre h×w of the canvas.
  then(1, 0, 0, 1, Math.floor((ch - h) / 2), Math.floor((cw - w) / 2));
  out[at] = T[0];
  out[at + 1] = T[1];
  out[at + 2] = T[4];
  out[at + 3] = T[2];
  out[at + 4] = T[3];
  out[at + 5] = T[5];
}

/** The map being composed by {@link drawAffine}: m0 m1 m2 m3 t0 t1. */
const T = new Float64Array(6);
const IDENTITY = Float64Array.of(1, 0, 0, 1, 0, 0);

/** T ← T ∘ g with g(u) = G·u + s. */
function then(g0: number, g1: number, g2: number, g3: number, s0: number, s1: number): void {
  const m0 = T[0], m1 = T[1], m2 = T[2], m3 = T[3];
  T[4] = m0 * s0 + m1 * s1 + T[4];
  T[5] = m2 * s0 + m3 * s1 + T[5];
  T[0] = m0 * g0 + m1 * g2;
  T[1] = m0 * g1 + m1 * g3;
  T[2] = m2 * g0 + m3 * g2;
  T[3] = m2 * g1 + m3 * g3;
}

/** How samples outside the image are filled: repeat the edge, or a constant. */
export type Fill = 'edge' | number;

/**
 * The bilinear taps of one output pixel under an affine map: up to 4 (source index, weight)
 * pairs; with a constant fill, taps outside the image are left out (their weight goes to the
 * fill value). The reference semantics both engines implement.
 *
 * @example
 * sampleTaps([1, 0, 0.5, 0, 1, 0], 0, 0, 4, 4, 'edge') // [{ index: 0, weight: 0.5 }, { index: 4, weight: 0.5 }, …]
 */
export function sampleTaps(a: ArrayLike<number>, y: number, x: number, h: number, w: number, fill: Fill): Array<{ index: number; weight: number }> {
  const sy = a[0] * y + a[1] * x + a[2];
  const sx = a[3] * y + a[4] * x + a[5];
  const y0 = Math.floor(sy), x0 = Math.floor(sx);
  const fy = sy - y0, fx = sx - x0;
  const taps: Array<{ index: number; weight: number }> = [];
  for (const [dy, wy] of [[0, 1 - fy], [1, fy]]) {
    for (const [dx, wx] of [[0, 1 - fx], [1, fx]]) {
      let yy = y0 + dy, xx = x0 + dx;
      const inside = yy >= 0 && yy < h && xx >= 0 && xx < w;
      if (!inside && fill !== 'edge') continue;
      yy = Math.min(h - 1, Math.max(0, yy));
      xx = Math.min(w - 1, Math.max(0, xx));
      taps.push({ index: yy * w + xx, weight: wy * wx });
    }
  }
  return taps;
}
