import { colorDecorrelation } from '../param/color.js';
import { planParam, spectralConstants } from '../param/param.js';
import { Rng } from '../optimize/rng.js';
import { AFFINE_SIZE, drawAffine, sampleTaps, type Fill } from '../transforms/affine.js';
import type { TransformSpec } from '../transforms/spec.js';
import type { InputStage } from './spec.js';

/*
 * The image pipeline of one row in float64, plain JS: parameterisation → the row's transform,
 * and the exact transpose of each stage. The judge of both engines' float32 pipelines (their
 * gradients are compared with this, and this with central finite differences of its own
 * forward pass). Constants (Fourier bases, scale, colour matrix) are the float32 values the
 * engines use, read as exact numbers. Not part of the public API.
 */

/** One row through the pipeline in float64, with the transposes of its stages. */
export interface PipelineReference {
  /** The rendered input (model layout, before the transform). */
  rendered: Float64Array;
  /** The input the network sees (model layout, after the transform). */
  seen: Float64Array;
  /** Gradient w.r.t. `seen` → gradients w.r.t. `rendered` and the variables p. */
  backward(dSeen: ArrayLike<number>): { dRendered: Float64Array; dp: Float64Array };
}

/** img = Bh · S · Bwᵀ (forward) or S = Bhᵀ · img · Bw (transposed), one h×w plane. */
function sandwich(m: ArrayLike<number>, bh: Float32Array, bw: Float32Array, h: number, w: number, transposed: boolean): Float64Array {
  // Both products run along contiguous rows (j innermost).
  const bwUsed = new Float64Array(w * w); // bwUsed[t·w + j]: the factor of m[i, t] in tmp[i, j]
  for (let t = 0; t < w; t++) for (let j = 0; j < w; j++) bwUsed[t * w + j] = transposed ? bw[t * w + j] : bw[j * w + t];
  const tmp = new Float64Array(h * w), out = new Float64Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let t = 0; t < w; t++) {
      const a = m[i * w + t];
      if (a === 0) continue;
      for (let j = 0; j < w; j++) tmp[i * w + j] += a * bwUsed[t * w + j];
    }
  }
  for (let i = 0; i < h; i++) {
    for (let t = 0; t < h; t++) {
      const a = transposed ? bh[t * h + i] : bh[i * h + t];
      for (let j = 0; j < w; j++) out[i * w + j] += a * tmp[t * w + j];
    }
  }
  return out;
}

/** Model layout ↔ H×W×C pictures. */
function layout(stage: InputStage): { toModel(pic: Float64Array): Float64Array; toPicture(m: ArrayLike<number>): Float64Array } {
  if (!stage.channelsFirst || !stage.dims) return { toModel: (x) => x, toPicture: (m) => Float64Array.from(m) };
  const [h, w, c] = stage.dims;
  const hw = h * w;
  return {
    toModel(pic) {
      const out = new Float64Array(hw * c);
      for (let q = 0; q < hw; q++) for (let k = 0; k < c; k++) out[k * hw + q] = pic[q * c + k];
      return out;
    },
    toPicture(m) {
      const out = new Float64Array(hw * c);
      for (let q = 0; q < hw; q++) for (let k = 0; k < c; k++) out[q * c + k] = m[k * hw + q];
      return out;
    },
  };
}

/** The parameterisation: p → picture, and its transpose (picture gradient → dp). */
function renderStage(stage: InputStage, p: ArrayLike<number>): { picture: Float64Array; back(d: Float64Array): Float64Array } {
  const plan = stage.param;
  if (!plan) return { picture: layout(stage).toPicture(p), back: (d) => layout(stage).toModel(d) };
  if (plan.kind === 'prior') throw new Error('the float64 reference does not render data priors');
  const size = plan.size;
  const c = plan.decorrelate ? 3 : plan.dims?.[2] ?? 1;
  const spectral = plan.kind === 'spectral' ? spectralConstants(plan) : null;
  const [h, w] = plan.dims ?? [0, 0];
  // z: the picture before colour mixing (H×W×C order).
  let z: Float64Array;
  if (spectral) {
    z = new Float64Array(size);
    for (let ch = 0; ch < c; ch++) {
      const spec = Float64Array.from({ length: h * w }, (_, q) => p[ch * h * w + q] * spectral.scale[q]);
      const plane = sandwich(spec, spectral.bh.matrix, spectral.bw.matrix, h, w, false);
      for (let q = 0; q < h * w; q++) z[q * c + ch] = plane[q];
    }
  } else {
    z = Float64Array.from(p);
  }
  const m = plan.decorrelate ? colorDecorrelation() : null;
  const mix = (v: Float64Array, transposed: boolean) => {
    if (!m) return v;
    const out = new Float64Array(v.length);
    for (let q = 0; q < v.length; q += 3) for (let r = 0; r < 3; r++) {
      out[q + r] = transposed
        ? m[r] * v[q] + m[3 + r] * v[q + 1] + m[6 + r] * v[q + 2]
        : m[r * 3] * v[q] + m[r * 3 + 1] * v[q + 1] + m[r * 3 + 2] * v[q + 2];
    }
    return out;
  };
  const span = plan.hi - plan.lo;
  const s = mix(z, false).map((v) => 1 / (1 + Math.exp(-v)));
  return {
    picture: s.map((v) => plan.lo + span * v),
    back(d) {
      const dz = mix(d.map((v, i) => v * span * s[i] * (1 - s[i])), true);
      if (!spectral) return dz;
      const dp = new Float64Array(size);
      for (let ch = 0; ch < c; ch++) {
        const plane = Float64Array.from({ length: h * w }, (_, q) => dz[q * c + ch]);
        const spec = sandwich(plane, spectral.bh.matrix, spectral.bw.matrix, h, w, true);
        for (let q = 0; q < h * w; q++) dp[ch * h * w + q] = spec[q] * spectral.scale[q];
      }
      return dp;
    },
  };
}

/** The transform of one row through its affine map (6 numbers), bilinear with the stage's fill, and its transpose. */
function warpStage(stage: InputStage, affine: ArrayLike<number> | null): { apply(x: Float64Array): Float64Array; back(d: Float64Array): Float64Array } {
  if (!affine || !stage.transforms.length || !stage.dims) return { apply: (x) => x, back: (d) => d };
  const [h, w, c] = stage.dims;
  const taps = Array.from({ length: h * w }, (_, q) => sampleTaps(affine, Math.floor(q / w), q % w, h, w, stage.fill));
  const fill = typeof stage.fill === 'number' ? stage.fill : 0;
  return {
    apply(x) {
      const out = new Float64Array(x.length);
      taps.forEach((ts, q) => {
        const inside = ts.reduce((a, t) => a + t.weight, 0);
        for (let k = 0; k < c; k++) out[q * c + k] = ts.reduce((a, t) => a + t.weight * x[t.index * c + k], 0) + (1 - inside) * fill;
      });
      return out;
    },
    back(d) {
      const out = new Float64Array(d.length);
      taps.forEach((ts, q) => {
        for (const t of ts) for (let k = 0; k < c; k++) out[t.index * c + k] += t.weight * d[q * c + k];
      });
      return out;
    },
  };
}

/**
 * One row (`p`: the variables, flat) through a stage's parameterisation and its transform
 * (`affine`: the row's 6 numbers, or null), in float64.
 *
 * @example
 * const ref = pipelineReference(stage, p, draws[0]);
 * const { dp } = ref.backward(networkGradient);
 */
export function pipelineReference(stage: InputStage, p: ArrayLike<number>, affine: ArrayLike<number> | null): PipelineReference {
  const io = layout(stage);
  const param = renderStage(stage, p);
  const warp = warpStage(stage, affine);
  const warped = warp.apply(param.picture);
  return {
    rendered: io.toModel(param.picture),
    seen: io.toModel(warped),
    backward(dSeen) {
      const dPicture = warp.back(io.toPicture(dSeen));
      return { dRendered: io.toModel(dPicture), dp: param.back(dPicture) };
    },
  };
}

/**
 * A stage for an H×W×C picture in [-0.5, 1.5] (model layout channels-first when asked), for tests.
 *
 * @example
 * const stage = testStage([12, 10, 3], 'spectral', standardTransforms(12, 10), 'edge', true);
 */
export function testStage(dims: [number, number, number], param: 'pixel' | 'sigmoid' | 'spectral', transforms: TransformSpec[], fill: Fill, channelsFirst = false, decorrelate = dims[2] === 3): InputStage {
  const [h, w, c] = dims;
  const picture = c === 1 ? [h, w] : [h, w, c];
  return {
    shape: channelsFirst ? [c, h, w] : picture,
    channelsFirst,
    param: param === 'pixel' ? null : planParam(param === 'spectral' ? { kind: 'spectral', decorrelate } : { kind: 'sigmoid', decorrelate }, picture, [-0.5, 1.5]),
    dims,
    transforms,
    fill,
    penalties: [],
    blur: 0,
  };
}

/** One row's affine draw for a stage (seeded), or null without transforms. @example const a = testDraw(stage, 4) */
export function testDraw(stage: InputStage, seed: number): Float64Array | null {
  if (!stage.transforms.length) return null;
  const a = new Float64Array(AFFINE_SIZE);
  drawAffine(stage.transforms, new Rng(seed), stage.dims![0], stage.dims![1], a, 0);
  return a;
}

/**
 * A penalty of one rendered row in float64 (the engines' definitions: total variation = the mean
 * absolute difference of neighbours along H plus along W of the picture; l1 = mean |x|; l2 = mean
 * x²), without its weight.
 *
 * @example
 * const tv = penaltyReference(stage, 'tv', ref.rendered);
 */
export function penaltyReference(stage: InputStage, kind: 'tv' | 'l1' | 'l2', rendered: ArrayLike<number>): number {
  const n = rendered.length;
  let value = 0;
  if (kind !== 'tv') {
    for (let i = 0; i < n; i++) value += kind === 'l1' ? Math.abs(rendered[i]) : rendered[i] ** 2;
    return value / n;
  }
  const x = layout(stage).toPicture(rendered);
  const [h, w, c] = stage.dims!;
  for (const [dy, dx, count] of [[1, 0, (h - 1) * w * c], [0, 1, h * (w - 1) * c]]) {
    for (let y = 0; y + dy < h; y++) for (let xx = 0; xx + dx < w; xx++) for (let k = 0; k < c; k++) {
      value += Math.abs(x[(y * w + xx) * c + k] - x[((y + dy) * w + xx + dx) * c + k]) / count;
    }
  }
  return value;
}
