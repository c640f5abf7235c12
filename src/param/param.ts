import * as tf from '@tensorflow/tfjs';
import type { Constraint } from '../constraints/constraint.js';
import type { DataPrior } from '../prior/types.js';
import { ActmaxError } from '../errors.js';
import type { Rng } from '../optimize/rng.js';
import { planeToSpectrum, realFourierBasis, spectrumScale, spectrumToPlane } from './basis.js';
import { colorDecorrelation, colorDecorrelationInverse } from './color.js';

/**
 * How the optimised variables p become the model input:
 * - `pixel`: p is the input (projection keeps every constraint);
 * - `sigmoid`: input = lo + (hi − lo)·σ(p), so the range holds by construction;
 * - `spectral`: p is a real Fourier spectrum scaled by 1/frequency^decay (Lucid's `fft_image`),
 *   rendered and squashed by a sigmoid into [lo, hi].
 * `decorrelate` (RGB only; default on for `spectral`) mixes channels with Lucid's colour matrix.
 */
export type ParamSpec =
  | 'pixel'
  | 'sigmoid'
  | 'spectral'
  | { kind: 'pixel' }
  | { kind: 'sigmoid'; decorrelate?: boolean; sd?: number }
  | { kind: 'spectral'; decay?: number; decorrelate?: boolean; sd?: number };

/**
 * A parameterisation resolved for one input, as plain data: what every engine needs to render
 * p into the input (TF.js here, the ONNX compiler in its own graph).
 */
export interface ParamPlan {
  /** `prior`: the variables are a data prior's code z (src/prior), rendered by TF.js only. */
  kind: 'sigmoid' | 'spectral' | 'prior';
  /** The input's shape (no batch). */
  shape: number[];
  /** H, W, C when the input is an image (always for spectral). */
  dims: [number, number, number] | null;
  lo: number;
  hi: number;
  decorrelate: boolean;
  /** Spectral: the exponent of the 1/frequency scaling. */
  decay: number;
  /** Standard deviation of the random start. */
  sd: number;
  /** Variables per row. */
  size: number;
  /** Step size multiplier: `lr` is in units of the input's range, and p moves the input less per unit than pixels do. */
  stepScale: number;
  /** `sigmoid`, `spectral`, … with its settings, for reports. */
  description: string;
  /** kind `prior`: the prior, the model input it renders, and the run's constraints (a decoder clips into their box). */
  prior?: { data: DataPrior; input: number; constraints: Constraint[] };
}

/** A parameterisation of one image input, rendering a batch of p rows into model inputs (TF.js). */
export interface Parameterisation {
  readonly plan: ParamPlan;
  readonly description: string;
  /** Variables per row. */
  readonly size: number;
  readonly stepScale: number;
  /** The input's shape (no batch). */
  readonly shape: number[];
  /** p [rows, size] → input [rows, ...shape], differentiable; call inside tf.tidy. */
  render(p: tf.Tensor): tf.Tensor;
  /** Fill one row of starting parameters (seeded). */
  init(rng: Rng, out: Float32Array): void;
  /** The parameters whose rendering is `x` (flat, one row; values strictly inside the range). */
  invert(x: ArrayLike<number>): Float32Array;
  /** Keep `rows` parameter rows in their feasible set after each step (data priors); absent = unconstrained. */
  project?(p: Float32Array, rows: number): void;
  dispose(): void;
}

/** Normalise the short forms. @example normalizeParam('spectral') // { kind: 'spectral' } */
export function normalizeParam(spec: ParamSpec): Exclude<ParamSpec, string> {
  return typeof spec === 'string' ? ({ kind: spec } as Exclude<ParamSpec, string>) : spec;
}

/** H, W, C of an image shape ([H, W] counts as one channel), or null when it is not an image. @example imageDims([28, 28]) // [28, 28, 1] */
export function imageDims(shape: number[]): [number, number, number] | null {
  if (shape.length === 2 && shape[0] > 1 && shape[1] > 1) return [shape[0], shape[1], 1];
  if (shape.length === 3 && shape[0] > 1 && shape[1] > 1) return [shape[0], shape[1], shape[2]];
  return null;
}

const logit = (v: number) => Math.log(v / (1 - v));

/**
 * Resolve a parameterisation for an input of `shape` whose values must lie in `range`; null for
 * `pixel`. Throws ActmaxError for settings that cannot apply (no finite range, spectral on a
 * non-image, decorrelation without 3 channels).
 *
 * @example
 * planParam('spectral', [64, 64, 3], [0, 1]) // { kind: 'spectral', decorrelate: true, size: 12288, … }
 */
export function planParam(spec: ParamSpec, shape: number[], range: [number, number], inputName = 'input'): ParamPlan | null {
  const s = normalizeParam(spec);
  if (s.kind === 'pixel') return null;
  const [lo, hi] = range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new ActmaxError('bad-option', `--param ${s.kind} squashes into the input's range, but input "${inputName}" has range [${lo}, ${hi}]; give a finite box (--constraint box:LO,HI) or use --param pixel`);
  }
  const dims = imageDims(shape);
  const size = shape.reduce((a, b) => a * b, 1);
  const channels = dims ? dims[2] : 1;
  const decorrelate = s.decorrelate ?? (s.kind === 'spectral' && channels === 3);
  if (decorrelate && channels !== 3) {
    throw new ActmaxError('bad-option', `colour decorrelation needs 3 channels; input "${inputName}" has shape [${shape.join(', ')}]`);
  }
  const colorText = decorrelate ? ', decorrelated colour' : '';
  if (s.kind === 'sigmoid') {
    return { kind: 'sigmoid', shape, dims, lo, hi, decorrelate, decay: 0, sd: s.sd ?? 0.5, size, stepScale: 4, description: `sigmoid into [${lo}, ${hi}]${colorText}` };
  }
  if (!dims) throw new ActmaxError('bad-option', `--param spectral needs an image input (H×W or H×W×C); input "${inputName}" has shape [${shape.join(', ')}]; use --param sigmoid or pixel`);
  const decay = s.decay ?? 1;
  if (!(decay >= 0) || !Number.isFinite(decay)) throw new ActmaxError('bad-option', `spectral decay must be a number ≥ 0, got ${s.decay}`);
  return { kind: 'spectral', shape, dims, lo, hi, decorrelate, decay, sd: s.sd ?? 0.01, size, stepScale: 4, description: `spectral (1/f^${decay})${colorText}, sigmoid into [${lo}, ${hi}]` };
}

/**
 * The constants of a spectral plan: the two real Fourier bases and the per-frequency scale
 * (Lucid divides the rendered spectrum by 4 so that sd 0.01 starts near mid-grey with gentle structure).
 *
 * @example
 * const { scale } = spectralConstants(plan); // h·w values
 */
export function spectralConstants(plan: ParamPlan): { bh: ReturnType<typeof realFourierBasis>; bw: ReturnType<typeof realFourierBasis>; scale: Float32Array } {
  const [h, w] = plan.dims!;
  const bh = realFourierBasis(h), bw = realFourierBasis(w);
  return { bh, bw, scale: spectrumScale(bh, bw, plan.decay).map((v) => v / 4) };
}

/** Fill one row of starting parameters: N(0, sd²) (seeded). @example initParamRow(plan, rng, row) */
export function initParamRow(plan: ParamPlan, rng: Rng, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = plan.sd * rng.normal();
}

/**
 * The parameters whose rendering is `x` (one row, the input's layout; values are pulled strictly
 * inside the range first).
 *
 * @example
 * const p = invertParamRow(plan, image);
 */
export function invertParamRow(plan: ParamPlan, x: ArrayLike<number>): Float32Array {
  const { lo, hi } = plan;
  const z = Float32Array.from(x, (v) => logit(Math.min(1 - 1e-6, Math.max(1e-6, (v - lo) / (hi - lo)))));
  let mixed = z;
  if (plan.decorrelate) {
    const inv = colorDecorrelationInverse();
    mixed = new Float32Array(z.length);
    for (let p = 0; p < z.length; p += 3) for (let r = 0; r < 3; r++) mixed[p + r] = inv[r * 3] * z[p] + inv[r * 3 + 1] * z[p + 1] + inv[r * 3 + 2] * z[p + 2];
  }
  if (plan.kind === 'sigmoid') return mixed;
  const [h, w, c] = plan.dims!;
  const { bh, bw, scale } = spectralConstants(plan);
  const out = new Float32Array(plan.size);
  const plane = new Float64Array(h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let q = 0; q < h * w; q++) plane[q] = mixed[q * c + ch];
    const spec = planeToSpectrum(plane, bh, bw);
    for (let q = 0; q < h * w; q++) out[ch * h * w + q] = spec[q] / scale[q];
  }
  return out;
}

/**
 * Build the TF.js parameterisation for an input of `shape` whose values must lie in `range`.
 * Returns null for `pixel` (the plain loop handles it).
 *
 * @example
 * const p = createParam('spectral', [64, 64, 3], [0, 1])!; // null for 'pixel' (no parameterisation)
 * const x = tf.tidy(() => p.render(tf.zeros([2, p.size]))); // [2, 64, 64, 3], all 0.5
 */
export function createParam(spec: ParamSpec, shape: number[], range: [number, number], inputName = 'input'): Parameterisation | null {
  const plan = planParam(spec, shape, range, inputName);
  return plan ? tfjsParam(plan) : null;
}

/**
 * The TF.js rendering of a resolved plan (the reference implementation).
 *
 * @example
 * const p = tfjsParam(planParam('sigmoid', [8, 8], [0, 1])!);
 */
export function tfjsParam(plan: ParamPlan): Parameterisation {
  const { lo, hi, shape } = plan;
  const color = plan.decorrelate ? tf.keep(tf.tensor2d(colorDecorrelation(), [3, 3])) : null;
  const kept: tf.Tensor[] = color ? [color] : [];
  const squash = (z: tf.Tensor): tf.Tensor => tf.tidy(() => {
    let t = z;
    if (color) t = t.reshape([-1, 3]).matMul(color, false, true).reshape(z.shape);
    return t.sigmoid().mul(hi - lo).add(lo);
  });
  let render: (p: tf.Tensor) => tf.Tensor;
  if (plan.kind === 'sigmoid') {
    render = (p) => tf.tidy(() => squash(p.reshape([p.shape[0], ...shape])));
  } else {
    const [h, w, c] = plan.dims!;
    const { bh, bw, scale } = spectralConstants(plan);
    const scaleT = tf.keep(tf.tensor(scale, [1, 1, h, w]));
    const bhT = tf.keep(tf.tensor2d(bh.matrix, [h, h]));
    const bwT = tf.keep(tf.tensor2d(bw.matrix, [w, w]));
    kept.push(scaleT, bhT, bwT);
    render = (p) => tf.tidy(() => {
      const rows = p.shape[0];
      // p is channel-major: [rows, C, h, w] spectra.
      const spectrum = p.reshape([rows, c, h, w]).mul(scaleT);
      // S · Bwᵀ along w, then Bh · (…) along h, as 2-D matmuls.
      const a = spectrum.reshape([rows * c * h, w]).matMul(bwT, false, true).reshape([rows * c, h, w]);
      const b = a.transpose([0, 2, 1]).reshape([rows * c * w, h]).matMul(bhT, false, true).reshape([rows, c, w, h]);
      const img = b.transpose([0, 3, 2, 1]); // [rows, h, w, c]
      return squash(img).reshape([rows, ...shape]);
    });
  }
  return {
    plan,
    description: plan.description,
    size: plan.size,
    stepScale: plan.stepScale,
    shape,
    render,
    init: (rng, out) => initParamRow(plan, rng, out),
    invert: (x) => invertParamRow(plan, x),
    dispose: () => tf.dispose(kept),
  };
}

/**
 * Plain-JS spectral round trip helpers for one plane (no squash): spectrum → image and back.
 *
 * @example
 * const { toImage, toSpectrum } = spectralPlane(28, 28);
 * toImage(toSpectrum(img)) // ≈ img
 */
export function spectralPlane(h: number, w: number): { toImage(s: ArrayLike<number>): Float64Array; toSpectrum(x: ArrayLike<number>): Float64Array } {
  const bh = realFourierBasis(h), bw = realFourierBasis(w);
  return { toImage: (s) => spectrumToPlane(s, bh, bw), toSpectrum: (x) => planeToSpectrum(x, bh, bw) };
}
