import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { Rng } from '../optimize/rng.js';

/**
 * Random, seeded, composable image transforms applied to each step's rendered input, so the
 * picture must work under small shifts, scalings and rotations (Lucid's transformation
 * robustness). Each is a linear resampling with edge-clamped bilinear weights, built as small
 * matrices in JS from the step's random draw and applied with matmuls: differentiable on every
 * backend, and the output keeps the model's input size.
 */
export type TransformSpec =
  /** Shift by a whole number of pixels in [−pixels, pixels] along each axis. */
  | { kind: 'jitter'; pixels: number }
  /** Grow the canvas by `pixels` on each side (edge values repeat); the end of the chain crops back to the centre. */
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

/** How samples from outside the image are filled: repeat the edge, or a constant (added back after the linear map). */
export type Fill = 'edge' | number;

/**
 * Row-major m×n matrix resampling a length-n axis at source coordinates src(u), u = 0…m−1,
 * with linear interpolation; outside samples repeat the edge (`clampEdges`) or weigh nothing.
 */
function resample(m: number, n: number, src: (u: number) => number, clampEdges: boolean): Float32Array {
  const out = new Float32Array(m * n);
  const put = (u: number, i: number, wgt: number) => {
    if (clampEdges) out[u * n + Math.min(n - 1, Math.max(0, i))] += wgt;
    else if (i >= 0 && i < n) out[u * n + i] += wgt;
  };
  for (let u = 0; u < m; u++) {
    const s = src(u);
    const i0 = Math.floor(s);
    const f = s - i0;
    put(u, i0, 1 - f);
    if (f > 0) put(u, i0 + 1, f);
  }
  return out;
}

function matMul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) {
    const v = a[i * k + t];
    if (v === 0) continue;
    for (let j = 0; j < n; j++) out[i * n + j] += v * b[t * n + j];
  }
  return out;
}

/** A per-axis linear map in progress: rows = current size, cols = size before it started. */
interface AxisMap {
  m: Float32Array;
  rows: number;
  cols: number;
}

const identity = (n: number): AxisMap => {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return { m, rows: n, cols: n };
};

const then = (a: AxisMap, next: Float32Array, rows: number): AxisMap => ({ m: matMul(next, a.m, rows, a.rows, a.cols), rows, cols: a.cols });

const isIdentity = (a: AxisMap) => a.rows === a.cols && a.m.every((v, i) => v === (Math.floor(i / a.cols) === i % a.cols ? 1 : 0));

/** Apply an m×n map along axis 1 (H) or 2 (W) of [R, H, W, C]. */
function alongAxis(x: tf.Tensor4D, map: AxisMap, axis: 1 | 2): tf.Tensor4D {
  const [r, h, w, c] = x.shape;
  const mt = tf.tensor2d(map.m, [map.rows, map.cols]);
  if (axis === 1) {
    const flat = x.transpose([0, 2, 3, 1]).reshape([r * w * c, h]);
    return flat.matMul(mt, false, true).reshape([r, w, c, map.rows]).transpose([0, 3, 1, 2]) as tf.Tensor4D;
  }
  const flat = x.transpose([0, 1, 3, 2]).reshape([r * h * c, w]);
  return flat.matMul(mt, false, true).reshape([r, h, c, map.rows]).transpose([0, 1, 3, 2]) as tf.Tensor4D;
}

/** Shift every row (axis 'x') or column (axis 'y') by shear·(its offset from the centre), bilinear, clamped. */
function shear(x: tf.Tensor4D, amount: number, axis: 'x' | 'y', clampEdges: boolean): tf.Tensor4D {
  const [r, h, w, c] = x.shape;
  if (axis === 'x') {
    const k = new Float32Array(h * w * w);
    for (let y = 0; y < h; y++) k.set(resample(w, w, (u) => u - amount * (y - (h - 1) / 2), clampEdges), y * w * w);
    const kt = tf.tensor3d(k, [h, w, w]);
    const flat = x.transpose([1, 0, 3, 2]).reshape([h, r * c, w]);
    return flat.matMul(kt, false, true).reshape([h, r, c, w]).transpose([1, 0, 3, 2]) as tf.Tensor4D;
  }
  const k = new Float32Array(w * h * h);
  for (let xx = 0; xx < w; xx++) k.set(resample(h, h, (u) => u - amount * (xx - (w - 1) / 2), clampEdges), xx * h * h);
  const kt = tf.tensor3d(k, [w, h, h]);
  const flat = x.transpose([2, 0, 3, 1]).reshape([w, r * c, h]);
  return flat.matMul(kt, false, true).reshape([w, r, c, h]).transpose([1, 3, 0, 2]) as tf.Tensor4D;
}

/** What one step drew, for logs and tests. */
export interface TransformDraw {
  kind: TransformSpec['kind'];
  values: number[];
}

/**
 * Apply a chain of transforms to a batch [R, H, W, C] with one random draw per transform (shared
 * by the batch), returning a tensor of the same shape. Uncovered pixels take `fill` (default:
 * repeat the edge). Call inside tf.tidy.
 *
 * @example
 * const x = tf.ones([2, 28, 28, 1]) as tf.Tensor4D;
 * const y = tf.tidy(() => applyTransforms(x, [{ kind: 'jitter', pixels: 2 }], new Rng(0), { fill: 0 }));
 * y.shape // [2, 28, 28, 1]
 */
export function applyTransforms(x: tf.Tensor4D, chain: TransformSpec[], rng: Rng, opts: { fill?: Fill; draws?: TransformDraw[] } = {}): tf.Tensor4D {
  const [, H, W] = x.shape;
  const fill = opts.fill ?? 'edge';
  const draws = opts.draws;
  const clampEdges = fill === 'edge';
  const resampleMatrix = (m: number, n: number, src: (u: number) => number) => resample(m, n, src, clampEdges);
  // A constant fill: transform x − fill with zero-weight outside samples, then add fill back.
  let cur = (typeof fill === 'number' && fill !== 0 ? x.sub(fill) : x) as tf.Tensor4D;
  let my = identity(H), mx = identity(W);
  const flush = () => {
    if (!isIdentity(my)) cur = alongAxis(cur, my, 1);
    if (!isIdentity(mx)) cur = alongAxis(cur, mx, 2);
    my = identity(my.rows);
    mx = identity(mx.rows);
  };
  for (const t of chain) {
    const h = my.rows, w = mx.rows;
    switch (t.kind) {
      case 'pad': {
        const p = t.pixels;
        my = then(my, resampleMatrix(h + 2 * p, h, (u) => u - p), h + 2 * p);
        mx = then(mx, resampleMatrix(w + 2 * p, w, (u) => u - p), w + 2 * p);
        draws?.push({ kind: 'pad', values: [p] });
        break;
      }
      case 'jitter': {
        const dy = rng.int(-t.pixels, t.pixels), dx = rng.int(-t.pixels, t.pixels);
        my = then(my, resampleMatrix(h, h, (u) => u - dy), h);
        mx = then(mx, resampleMatrix(w, w, (u) => u - dx), w);
        draws?.push({ kind: 'jitter', values: [dy, dx] });
        break;
      }
      case 'scale': {
        const s = t.min + (t.max - t.min) * rng.uniform();
        my = then(my, resampleMatrix(h, h, (u) => (u - (h - 1) / 2) / s + (h - 1) / 2), h);
        mx = then(mx, resampleMatrix(w, w, (u) => (u - (w - 1) / 2) / s + (w - 1) / 2), w);
        draws?.push({ kind: 'scale', values: [s] });
        break;
      }
      case 'rotate': {
        const deg = (2 * rng.uniform() - 1) * t.degrees;
        draws?.push({ kind: 'rotate', values: [deg] });
        if (deg === 0) break;
        flush();
        // Paeth: a rotation is three shears (x, y, x).
        const th = (deg * Math.PI) / 180;
        cur = shear(shear(shear(cur, -Math.tan(th / 2), 'x', clampEdges), Math.sin(th), 'y', clampEdges), -Math.tan(th / 2), 'x', clampEdges);
        break;
      }
      default:
        checkTransform(t);
    }
  }
  // Crop the centre back to the model's size.
  const h = my.rows, w = mx.rows;
  if (h !== H) my = then(my, resampleMatrix(H, h, (u) => u + Math.floor((h - H) / 2)), H);
  if (w !== W) mx = then(mx, resampleMatrix(W, w, (u) => u + Math.floor((w - W) / 2)), W);
  flush();
  return (typeof fill === 'number' && fill !== 0 ? cur.add(fill) : cur) as tf.Tensor4D;
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
