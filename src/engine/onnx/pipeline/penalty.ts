import type { OnnxBuilder } from '../builder.js';
import { DataType } from '../proto.js';

/*
 * Input penalties as ONNX ops on a batch in the IR layout [rows, ...shape]: mean |x|, mean x² and
 * total variation (mean |x_i − x_{i+1}| along each spatial axis), each with its gradient written
 * out directly. Abs follows TF's subgradient (−1 at 0), so flat regions get the same push as in
 * the TF.js reference.
 */

/** Which penalty. */
export type PenaltyKind = 'l1' | 'l2' | 'tv';

/**
 * Value per row (when `withValue`) and gradient of a penalty of `x` (IR layout, per-example
 * `shape`), over the spatial `axes` (1-based) for TV. The gradient comes as terms to be summed
 * (the caller adds them to its other terms in one go).
 *
 * @example
 * const { grads } = emitPenalty(b, 'tv', 'x', [28, 28], [1, 2], false, 1000);
 * const grad = b.sum(grads);
 */
export function emitPenalty(b: OnnxBuilder, kind: PenaltyKind, x: string, shape: number[], axes: number[], withValue: boolean, rows?: number, scale = 1): { value: string | null; grads: string[] } {
  const n = shape.reduce((a, v) => a * v, 1);
  const rowMean = (t: string) => b.op1('ReduceMean', [b.op1('Reshape', [t, b.i64([0, -1])])], { axes: [1], keepdims: 0 });
  const one = (value: string | null, grad: string) => ({ value, grads: [grad] });
  if (kind === 'l1') return one(withValue ? rowMean(b.op1('Abs', [x])) : null, b.op1('Where', [b.op1('Greater', [x, b.scalar(0)]), b.scalar(scale / n), b.scalar(-scale / n)]));
  if (kind === 'l2') return one(withValue ? rowMean(b.op1('Mul', [x, x])) : null, b.op1('Mul', [x, b.scalar((2 * scale) / n)]));
  if (!withValue && rows !== undefined && axes.length === 2 && axes[0] === 1 && axes[1] === 2 && shape.length >= 2 && shape.length <= 3 && shape[0] > 1 && shape[1] > 1) {
    if (greyTvApplies(shape, rows)) return { value: null, grads: greyTvGradient(b, x, shape, rows, scale) };
    return one(null, imageTvGradient(b, x, shape, scale));
  }
  const values: string[] = [];
  const grads: string[] = [];
  const rank = shape.length + 1;
  for (const axis of axes) {
    const len = shape[axis - 1];
    if (len < 2) continue;
    const slice = (start: number, end: number) => b.op1('Slice', [x, b.i64([start]), b.i64([end]), b.i64([axis])]);
    // e_i = x_i − x_{i+1} (TF's order, which fixes the sign of the subgradient at 0).
    const e = b.op1('Sub', [slice(0, len - 1), slice(1, len)]);
    if (withValue) values.push(rowMean(b.op1('Abs', [e])));
    const count = (n / len) * (len - 1);
    const s = b.op1('Where', [b.op1('Greater', [e, b.scalar(0)]), b.scalar(scale / count), b.scalar(-scale / count)]);
    const pad = (before: number, after: number) => {
      const p = new Array<number>(2 * rank).fill(0);
      p[axis] = before;
      p[rank + axis] = after;
      return b.op1('Pad', [s, b.i64(p)], { mode: 'constant' });
    };
    // ∂/∂x_j = s_j − s_{j−1}.
    grads.push(b.op1('Sub', [pad(0, 1), pad(1, 0)]));
  }
  if (!grads.length) return one(withValue ? b.op1('Mul', [rowMean(x), b.scalar(0)]) : null, b.op1('Mul', [x, b.scalar(0)]));
  return one(withValue ? b.sum(values) : null, b.sum(grads));
}

/**
 * `scale` × the TV gradient of a batch of images [rows, H, W(, C)], flat per row. Per axis, with
 * c_j = 1 where x_j > x_next(j) (0 where the pair runs off the image: "next" is then +∞)
 * and w = 1/count pairs, TF's subgradient s_j = w·(2c_j − 1) on existing pairs gives
 * ∂/∂x_j = s_j − s_{j−1} = 2w·(c_j − c_prev(j)) + K_j, with K_j = −w·(m_j − m_{j−1}) a constant of
 * the pair masks. Per axis two shifts (a Pad with negative and positive pads: block copies, no
 * index tensors to read, cheaper than GatherElements), a comparison and a cast; one Sum.
 */
function imageTvGradient(b: OnnxBuilder, x: string, shape: number[], scale: number): string {
  const [h, w] = shape;
  const c = shape[2] ?? 1;
  const n = h * w * c;
  // Rows of the image as [rows, h, w·c]: "next" along W is c elements on, along H one line on.
  const img = b.op1('Reshape', [x, b.i64([0, h, w * c])]);
  /** `t` moved by `by` elements along `axis` (1: H, 2: W) of [rows, h, w·c], `fill` where it runs off. */
  const shifted = (t: string, axis: 1 | 2, by: number, fill: number) => {
    const pads = [0, 0, 0, 0, 0, 0];
    pads[axis] = -by;
    pads[3 + axis] = by;
    return b.op1('Pad', [t, b.i64(pads), b.scalar(fill)], { mode: 'constant' });
  };
  const terms: string[] = [];
  const constant = new Float32Array(n);
  const col = (j: number) => Math.floor(j / c) % w;
  const row = (j: number) => Math.floor(j / (c * w));
  for (const axis of [2, 1] as const) {
    const step = axis === 2 ? c : w * c;
    const at = axis === 2 ? col : row;
    const len = axis === 2 ? w : h;
    const weight = scale / (axis === 2 ? h * (w - 1) * c : (h - 1) * w * c);
    const pair = (j: number) => (at(j) < len - 1 ? 1 : 0);
    // The next element, +∞ past the edge (no pair there: the comparison is false).
    const cmp = b.op1('Cast', [b.op1('Greater', [img, shifted(img, axis, axis === 2 ? c : 1, Infinity)])], { to: DataType.FLOAT });
    // The previous pair's c, 0 before the first.
    const prev = shifted(cmp, axis, axis === 2 ? -c : -1, 0);
    terms.push(b.op1('Mul', [b.op1('Sub', [cmp, prev]), b.scalar(2 * weight)]));
    for (let j = 0; j < n; j++) constant[j] -= weight * (pair(j) - (at(j) === 0 ? 0 : pair(j - step)));
  }
  terms.push(b.f32('tvConstant', constant, [1, h, w * c]));
  return b.op1('Reshape', [b.op1('Sum', terms), b.i64([0, ...shape])]);
}

/** The largest side the matrix form of the TV gradient takes (its cost grows with the side). */
const GREY_TV_MAX_SIDE = 64;
/**
 * The fewest pixels in a batch for the matrix form: below it, the shifts of imageTvGradient are
 * quicker (measured on 28×28 pictures, 2 threads: 60 rows 0.11 vs 0.16 ms, 150 rows 0.50 vs 0.35 ms).
 */
const GREY_TV_MIN_PIXELS = 100_000;

/** Whether the matrix form (greyTvGradient) computes the TV gradient of `rows` pictures of this shape: one channel, sides up to 64, a large batch. */
function greyTvApplies(shape: number[], rows: number): boolean {
  const [h, w] = shape;
  return (shape[2] ?? 1) === 1 && Math.max(h, w) <= GREY_TV_MAX_SIDE && rows * h * w >= GREY_TV_MIN_PIXELS;
}

/** Scale of the differences before they are clipped to a sign: a power of two (exact), so any difference ≥ 2⁻⁶³ saturates. */
const SATURATE = 2 ** 64;

/**
 * `scale` × the TV gradient of one-channel pictures [rows, H, W(, 1)] as two terms to be summed
 * (the W and H parts), in matrix form: small pictures make every elementwise op a full pass over
 * memory, and these seven ops are half the time of the shifts and masks of imageTvGradient.
 *
 * Along W (pictures as rows·H lines of W): e = D·x per line (D: the W−1 differences, scaled by
 * 2⁶⁴), s = clip(e − 1, −1, 1) is TF's subgradient sign (−1 at a tie, +1 where x_j > x_{j+1}),
 * and the gradient is w·s·Dᵀ (one Gemm each). Along H the same with the difference matrix on
 * the left of each picture, c = clip(e, 0, 1) and 2w·Dᵀ·c, whose −w·Dᵀ·1 part (a constant per
 * picture row) rides on the W Gemm's bias. Exact for |x| < 2⁶³; a difference below 2⁻⁶³ counts as
 * part of a tie.
 */
function greyTvGradient(b: OnnxBuilder, x: string, shape: number[], rows: number, scale: number): string[] {
  const [h, w] = shape;
  const wW = scale / (h * (w - 1));
  const wH = scale / ((h - 1) * w);
  // Along W: right-multiplied, [w, w−1] differences and [w−1, w] transposed, scaled.
  const dW = new Float32Array(w * (w - 1));
  const dWt = new Float32Array((w - 1) * w);
  for (let i = 0; i < w - 1; i++) {
    dW[i * (w - 1) + i] = SATURATE;
    dW[(i + 1) * (w - 1) + i] = -SATURATE;
    dWt[i * w + i] = wW;
    dWt[i * w + i + 1] = -wW;
  }
  // Along H: left-multiplied, [h−1, h] differences and [h, h−1] transposed, scaled.
  const dH = new Float32Array((h - 1) * h);
  const dHt = new Float32Array(h * (h - 1));
  for (let i = 0; i < h - 1; i++) {
    dH[i * h + i] = SATURATE;
    dH[i * h + i + 1] = -SATURATE;
    dHt[i * (h - 1) + i] = 2 * wH;
    dHt[(i + 1) * (h - 1) + i] = -2 * wH;
  }
  // −wH·(Dᵀ·1)_i for picture row i, on every line of every row.
  const lineBias = new Float32Array(rows * h);
  for (let r = 0; r < rows; r++) for (let i = 0; i < h; i++) lineBias[r * h + i] = -wH * ((i < h - 1 ? 1 : 0) - (i > 0 ? 1 : 0));
  const lines = b.op1('Reshape', [x, b.i64([rows * h, w])]);
  const signW = b.op1('Clip', [b.op1('Gemm', [lines, b.f32('tvDiffW', dW, [w, w - 1]), b.scalar(-1)]), b.scalar(-1), b.scalar(1)]);
  const gradW = b.op1('Gemm', [signW, b.f32('tvDiffWt', dWt, [w - 1, w]), b.f32('tvLineBias', lineBias, [rows * h, 1])]);
  const pictures = b.op1('Reshape', [x, b.i64([rows, h, w])]);
  const overH = b.op1('Clip', [b.op1('MatMul', [b.f32('tvDiffH', dH, [h - 1, h]), pictures]), b.scalar(0), b.scalar(1)]);
  const gradH = b.op1('MatMul', [b.f32('tvDiffHt', dHt, [h, h - 1]), overH]);
  const back = (t: string) => b.op1('Reshape', [t, b.i64([rows, ...shape])]);
  return [back(gradW), back(gradH)];
}

/** The spatial axes (1-based) TV runs over for a per-example shape: all but a trailing channel axis of an image. @example tvAxes([28, 28, 1]) // [1, 2] */
export function tvAxes(shape: number[], channelAxis: boolean): number[] {
  const spatial = channelAxis ? shape.length - 1 : shape.length;
  return Array.from({ length: Math.max(0, spatial) }, (_, i) => i + 1);
}
