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
 * `shape`), over the spatial `axes` (1-based) for TV.
 *
 * @example
 * const { grad } = emitPenalty(b, 'tv', 'x', [28, 28], [1, 2], false);
 */
export function emitPenalty(b: OnnxBuilder, kind: PenaltyKind, x: string, shape: number[], axes: number[], withValue: boolean, rows?: number, scale = 1): { value: string | null; grad: string } {
  const n = shape.reduce((a, v) => a * v, 1);
  const rowMean = (t: string) => b.op1('ReduceMean', [b.op1('Reshape', [t, b.i64([0, -1])])], { axes: [1], keepdims: 0 });
  if (kind === 'l1') return { value: withValue ? rowMean(b.op1('Abs', [x])) : null, grad: b.op1('Where', [b.op1('Greater', [x, b.scalar(0)]), b.scalar(scale / n), b.scalar(-scale / n)]) };
  if (kind === 'l2') return { value: withValue ? rowMean(b.op1('Mul', [x, x])) : null, grad: b.op1('Mul', [x, b.scalar((2 * scale) / n)]) };
  if (!withValue && rows !== undefined && axes.length === 2 && axes[0] === 1 && axes[1] === 2 && shape.length >= 2 && shape.length <= 3 && shape[0] > 1 && shape[1] > 1) {
    return { value: null, grad: imageTvGradient(b, x, shape, scale) };
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
  if (!grads.length) return { value: withValue ? b.op1('Mul', [rowMean(x), b.scalar(0)]) : null, grad: b.op1('Mul', [x, b.scalar(0)]) };
  return { value: withValue ? b.sum(values) : null, grad: b.sum(grads) };
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

/** The spatial axes (1-based) TV runs over for a per-example shape: all but a trailing channel axis of an image. @example tvAxes([28, 28, 1]) // [1, 2] */
export function tvAxes(shape: number[], channelAxis: boolean): number[] {
  const spatial = channelAxis ? shape.length - 1 : shape.length;
  return Array.from({ length: Math.max(0, spatial) }, (_, i) => i + 1);
}
