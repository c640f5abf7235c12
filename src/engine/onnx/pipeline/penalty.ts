import type { OnnxBuilder } from '../builder.js';

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
export function emitPenalty(b: OnnxBuilder, kind: PenaltyKind, x: string, shape: number[], axes: number[], withValue: boolean): { value: string | null; grad: string } {
  const n = shape.reduce((a, v) => a * v, 1);
  const stepSign = (t: string) => b.op1('Where', [b.op1('Greater', [t, b.scalar(0)]), b.scalar(1), b.scalar(-1)]);
  const rowMean = (t: string) => b.op1('ReduceMean', [b.op1('Reshape', [t, b.i64([0, -1])])], { axes: [1], keepdims: 0 });
  if (kind === 'l1') return { value: withValue ? rowMean(b.op1('Abs', [x])) : null, grad: b.op1('Mul', [stepSign(x), b.scalar(1 / n)]) };
  if (kind === 'l2') return { value: withValue ? rowMean(b.op1('Mul', [x, x])) : null, grad: b.op1('Mul', [x, b.scalar(2 / n)]) };
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
    const s = b.op1('Mul', [stepSign(e), b.scalar(1 / count)]);
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

/** The spatial axes (1-based) TV runs over for a per-example shape: all but a trailing channel axis of an image. @example tvAxes([28, 28, 1]) // [1, 2] */
export function tvAxes(shape: number[], channelAxis: boolean): number[] {
  const spatial = channelAxis ? shape.length - 1 : shape.length;
  return Array.from({ length: Math.max(0, spatial) }, (_, i) => i + 1);
}
