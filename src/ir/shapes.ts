/**
 * Per-example output shapes of IR ops (no batch dimension; axes in attributes count the batch
 * as 0). Both importers use this to fill `IrGraph.shapes` and to check themselves against the
 * shapes the source file or TF.js reports.
 */
import type { IrOp } from './ir.js';
import { IrError } from './errors.js';

/** numpy broadcasting of two per-example shapes. @example broadcastShapes([4, 1, 3], [5, 1]) // [4, 5, 3] */
export function broadcastShapes(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new IrError(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Output length of a window along one axis with explicit padding. */
function windowOut(n: number, k: number, s: number, d: number, before: number, after: number): number {
  const eff = (k - 1) * d + 1;
  const out = Math.floor((n + before + after - eff) / s) + 1;
  if (out < 1) throw new IrError(`a window of ${k} (dilation ${d}) does not fit an axis of ${n} with padding ${before}+${after}`);
  return out;
}

/** Per-example axis (0-based, no batch) of an attribute axis that counts the batch as 0; negatives count from the end. @example exampleAxis(-1, 3) // 2 */
export function exampleAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank + 1 : axis;
  if (a < 1 || a > rank) throw new IrError(`axis ${axis} is outside a value of rank ${rank} (plus batch)`);
  return a - 1;
}

/**
 * The per-example output shape of `op` applied to inputs of the given shapes.
 *
 * @example
 * inferShape({ op: 'MatMul' }, [[784], [784, 128], [128]]) // [128]
 */
export function inferShape(op: IrOp, shapes: number[][]): number[] {
  const x = shapes[0];
  switch (op.op) {
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Maximum': case 'Minimum': case 'SquaredDifference': case 'Pow': case 'Prelu':
      return broadcastShapes(x, shapes[1]);
    case 'MatMul': {
      const w = shapes[1];
      const k = x[x.length - 1];
      const [wk, n] = op.transposeB ? [w[w.length - 1], w[w.length - 2]] : [w[w.length - 2], w[w.length - 1]];
      if (wk !== k) throw new IrError(`MatMul: the input has ${k} features but the matrix has ${wk} rows`);
      if (w.length > 2) return [...broadcastShapes(x.slice(0, -2), w.slice(0, -2)), x[x.length - 2], n];
      return [...x.slice(0, -1), n];
    }
    case 'Conv2D': {
      const [kh, kw, cin, cout] = shapes[1];
      const groups = op.groups ?? 1;
      if (x.length !== 3) throw new IrError(`Conv2D needs an [H, W, C] input, got [${x.join(', ')}]`);
      if (cin * groups !== x[2]) throw new IrError(`Conv2D: the input has ${x[2]} channels, the filter expects ${cin * groups}`);
      return [windowOut(x[0], kh, op.strides[0], op.dilations[0], op.pads[0], op.pads[1]), windowOut(x[1], kw, op.strides[1], op.dilations[1], op.pads[2], op.pads[3]), cout];
    }
    case 'DepthwiseConv2D': {
      const [kh, kw, cin, mult] = shapes[1];
      if (x.length !== 3 || cin !== x[2]) throw new IrError(`DepthwiseConv2D: input [${x.join(', ')}] does not fit filter [${shapes[1].join(', ')}]`);
      return [windowOut(x[0], kh, op.strides[0], op.dilations[0], op.pads[0], op.pads[1]), windowOut(x[1], kw, op.strides[1], op.dilations[1], op.pads[2], op.pads[3]), cin * mult];
    }
    case 'Conv2DTranspose':
      return [op.outputSize[0], op.outputSize[1], shapes[1][2]];
    case 'MaxPool': case 'AvgPool':
      if (x.length !== 3) throw new IrError(`${op.op} needs an [H, W, C] input, got [${x.join(', ')}]`);
      return [windowOut(x[0], op.ksize[0], op.strides[0], 1, op.pads[0], op.pads[1]), windowOut(x[1], op.ksize[1], op.strides[1], 1, op.pads[2], op.pads[3]), x[2]];
    case 'Resize':
      return [op.size[0], op.size[1], x[2]];
    case 'Mean': case 'Sum': case 'Max': case 'Min': {
      const axes = new Set(op.axes.map((a) => exampleAxis(a, x.length)));
      return op.keepDims ? x.map((d, i) => (axes.has(i) ? 1 : d)) : x.filter((_, i) => !axes.has(i));
    }
    case 'Softmax': case 'LogSoftmax':
      exampleAxis(op.axis, x.length);
      return x.slice();
    case 'Reshape': {
      const n = x.reduce((a, b) => a * b, 1);
      const m = op.shape.reduce((a, b) => a * b, 1);
      if (n !== m || op.shape.some((d) => !(d >= 1))) throw new IrError(`Reshape: [${x.join(', ')}] cannot become [${op.shape.join(', ')}]`);
      return op.shape.slice();
    }
    case 'Transpose':
      if (op.perm.length !== x.length + 1 || op.perm[0] !== 0) throw new IrError(`Transpose: perm [${op.perm.join(', ')}] does not fit a value of rank ${x.length} (plus batch, which stays first)`);
      return op.perm.slice(1).map((p) => x[p - 1]);
    case 'Concat': {
      const ax = exampleAxis(op.axis, x.length);
      const out = x.slice();
      out[ax] = 0;
      for (const s of shapes) {
        if (s.length !== x.length || s.some((d, i) => i !== ax && d !== x[i])) throw new IrError(`Concat along axis ${op.axis}: shapes [${x.join(', ')}] and [${s.join(', ')}] differ elsewhere`);
        out[ax] += s[ax];
      }
      return out;
    }
    case 'Pad':
      if (op.pads.length !== x.length) throw new IrError(`Pad: ${op.pads.length} axis pads for a value of rank ${x.length}`);
      return x.map((d, i) => d + op.pads[i][0] + op.pads[i][1]);
    case 'Slice':
      return x.map((d, i) => {
        const b = Math.max(0, Math.min(d, op.begin[i])), e = Math.max(b, Math.min(d, op.end[i]));
        return Math.ceil((e - b) / op.steps[i]);
      });
    case 'Tile':
      return x.map((d, i) => d * op.reps[i]);
    default:
      // Elementwise, one input.
      return x.slice();
  }
}
