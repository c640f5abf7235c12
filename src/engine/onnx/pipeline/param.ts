import { colorDecorrelation } from '../../../param/color.js';
import { spectralConstants, type ParamPlan } from '../../../param/param.js';
import type { OnnxBuilder } from '../builder.js';

/*
 * Parameterisations as ONNX ops: p [rows, size] → the input [rows, ...shape] (IR layout), and the
 * gradient back. A subspace prior's code renders as z·U + mean (its projection stays in
 * JavaScript). Spectral: p holds channel-major spectra [rows, C, h, w]; scaled by 1/f, turned into
 * planes by two matrix products with the real Fourier bases, moved to channels-last, then
 * colour-mixed and squashed by a sigmoid into [lo, hi] — the same steps as the TF.js reference.
 */

/** Constants of a plan, written once per graph. */
export interface ParamConstants {
  plan: ParamPlan;
  colour: string | null;
  colourT: string | null;
  scale: string | null;
  bwT: string | null;
  bw: string | null;
  bh: string | null;
  bhT: string | null;
  /** A subspace prior: its basis [K, n] and mean [1, n]. */
  basis: string | null;
  mean: string | null;
}

function transpose(m: Float32Array, n: number): Float32Array {
  const t = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j];
  return t;
}

/** Write a plan's constants into the graph. @example const pc = paramConstants(b, plan) */
export function paramConstants(b: OnnxBuilder, plan: ParamPlan): ParamConstants {
  const m = plan.decorrelate ? colorDecorrelation() : null;
  const out: ParamConstants = { plan, colour: null, colourT: null, scale: null, bwT: null, bw: null, bh: null, bhT: null, basis: null, mean: null };
  const prior = plan.prior?.data;
  if (prior?.type === 'subspace') {
    out.basis = b.f32('priorBasis', Float32Array.from(prior.basis), [prior.components, prior.mean.length]);
    out.mean = b.f32('priorMean', Float32Array.from(prior.mean), [1, prior.mean.length]);
  }
  if (m) {
    // rgb = M·z per pixel: z [.., 3] · Mᵀ; the gradient dz = drgb · M.
    out.colourT = b.f32('colourT', transpose(m, 3), [3, 3]);
    out.colour = b.f32('colour', m, [3, 3]);
  }
  if (plan.kind === 'spectral') {
    const [h, w] = plan.dims!;
    const { bh, bw, scale } = spectralConstants(plan);
    out.scale = b.f32('spectrumScale', scale, [h, w]);
    // basis matrix[t·n + j] = vector j at position t. Along w: a = S · Bwᵀ with Bwᵀ[j, t] = matrix[t·n + j].
    out.bwT = b.f32('basisWT', transpose(bw.matrix, w), [w, w]);
    out.bw = b.f32('basisW', bw.matrix, [w, w]);
    // Along h: img = Bh · a with Bh[t, i] = matrix[t·n + i].
    out.bh = b.f32('basisH', bh.matrix, [h, h]);
    out.bhT = b.f32('basisHT', transpose(bh.matrix, h), [h, h]);
  }
  return out;
}

/**
 * Render p into the input and return the input with a function giving dp from d(input).
 *
 * @example
 * const { x, backward } = emitRender(b, pc, 'p');
 */
export function emitRender(b: OnnxBuilder, pc: ParamConstants, p: string): { x: string; backward(dx: string): string } {
  const { plan } = pc;
  if (pc.basis) {
    // A subspace prior: x = z·U + mean, as the TF.js reference renders it; dz = dx·Uᵀ.
    const x = b.op1('Reshape', [b.op1('Add', [b.op1('MatMul', [p, pc.basis]), pc.mean!]), b.i64([0, ...plan.shape])]);
    return { x, backward: (dx) => b.op1('Gemm', [b.op1('Reshape', [dx, b.i64([0, -1])]), pc.basis!], { transB: 1 }) };
  }
  const span = plan.hi - plan.lo;
  let z: string;
  let toP: (dz: string) => string;
  if (plan.kind === 'sigmoid') {
    z = b.op1('Reshape', [p, b.i64([0, ...plan.shape])]);
    toP = (dz) => b.op1('Reshape', [dz, b.i64([0, -1])]);
  } else {
    const [h, w, c] = plan.dims!;
    const spec = b.op1('Mul', [b.op1('Reshape', [p, b.i64([0, c, h, w])]), pc.scale!]);
    const img = b.op1('MatMul', [pc.bh!, b.op1('MatMul', [spec, pc.bwT!])]);
    z = b.op1('Reshape', [b.op1('Transpose', [img], { perm: [0, 2, 3, 1] }), b.i64([0, ...plan.shape])]);
    toP = (dz) => {
      const dimg = b.op1('Transpose', [b.op1('Reshape', [dz, b.i64([0, h, w, c])])], { perm: [0, 3, 1, 2] });
      const dspec = b.op1('MatMul', [b.op1('MatMul', [pc.bhT!, dimg]), pc.bw!]);
      return b.op1('Reshape', [b.op1('Mul', [dspec, pc.scale!]), b.i64([0, -1])]);
    };
  }
  let mixed = z;
  if (pc.colourT) {
    const dims = plan.shape;
    mixed = b.op1('Reshape', [b.op1('MatMul', [b.op1('Reshape', [z, b.i64([0, -1, 3])]), pc.colourT]), b.i64([0, ...dims])]);
  }
  const s = b.op1('Sigmoid', [mixed]);
  const x = b.op1('Add', [b.op1('Mul', [s, b.scalar(span)]), b.scalar(plan.lo)]);
  return {
    x,
    backward(dx) {
      // d(sigmoid) = s(1 − s), times the range.
      let dm = b.op1('Mul', [dx, b.op1('Mul', [b.op1('Mul', [s, b.op1('Sub', [b.scalar(1), s])]), b.scalar(span)])]);
      if (pc.colour) dm = b.op1('Reshape', [b.op1('MatMul', [b.op1('Reshape', [dm, b.i64([0, -1, 3])]), pc.colour]), b.i64([0, ...plan.shape])]);
      return toP(dm);
    },
  };
}
