/**
 * Graph ops other than image windows: elementwise maths, matrix products, reductions and data
 * movement (reshape, transpose, concat, pack/unpack, split, strided slice, pad, tile).
 * Axis-based ops run directly when the op leaves the batch axis alone, else on the "whole"
 * reading of their input (see graph-context.ts).
 */
import type { IrOp } from './ir.js';
import { IrError } from './errors.js';
import { canonical, type GraphContext } from './graph-context.js';
import { fusedActivation, windowOp } from './graph-windows.js';

const UNARY: Record<string, IrOp> = {
  Relu: { op: 'Relu' }, Relu6: { op: 'Relu6' }, Elu: { op: 'Elu' }, Selu: { op: 'Selu' }, Sigmoid: { op: 'Sigmoid' },
  Tanh: { op: 'Tanh' }, Softplus: { op: 'Softplus' }, Softsign: { op: 'Softsign' }, Exp: { op: 'Exp' }, Log: { op: 'Log' },
  Sqrt: { op: 'Sqrt' }, Rsqrt: { op: 'Rsqrt' }, Square: { op: 'Square' }, Neg: { op: 'Neg' }, Abs: { op: 'Abs' },
  Reciprocal: { op: 'Reciprocal' }, Inv: { op: 'Reciprocal' }, Identity: { op: 'Identity' }, Snapshot: { op: 'Identity' },
  StopGradient: { op: 'Identity' }, Softmax: { op: 'Softmax', axis: -1 }, LogSoftmax: { op: 'LogSoftmax', axis: -1 },
};

const BINARY: Record<string, IrOp> = {
  Add: { op: 'Add' }, AddV2: { op: 'Add' }, BiasAdd: { op: 'Add' }, Sub: { op: 'Sub' }, Mul: { op: 'Mul' }, RealDiv: { op: 'Div' },
  Div: { op: 'Div' }, DivNoNan: { op: 'Div' }, Maximum: { op: 'Maximum' }, Minimum: { op: 'Minimum' },
  SquaredDifference: { op: 'SquaredDifference' }, Pow: { op: 'Pow' }, Prelu: { op: 'Prelu' },
};

/** Normalise a (possibly negative) axis of a recorded rank. */
const axisOf = (a: number, rank: number) => (a < 0 ? a + rank : a);

function binary(ctx: GraphContext, op: IrOp): string {
  const n = ctx.node;
  const out = ctx.out();
  let [a, b] = n.inputs;
  if (n.op === 'BiasAdd' && n.str('data_format', 'NHWC') === 'NCHW') {
    const bias = ctx.constant(b);
    return ctx.emit(op, [ctx.value(a), ctx.newConst('bias', [bias.data.length, 1, 1], bias.data)]);
  }
  return ctx.emit(op, [ctx.operand(a, out), ctx.operand(b, out)]);
}

function matmul(ctx: GraphContext): string {
  const n = ctx.node;
  const ta = n.bool('transpose_a') || n.bool('adj_x'), tb = n.bool('transpose_b') || n.bool('adj_y');
  const [aRef, bRef, ...args] = n.inputs;
  if (ctx.isConst(aRef)) throw new IrError(`${n.op} "${n.name}" multiplies a constant by the input from the left`);
  if (ta) throw new IrError(`${n.op} "${n.name}" transposes its first operand`);
  const fused = n.op === '_FusedMatMul' ? n.strs('fused_ops') : [];
  const a = ctx.value(aRef);
  let w: string;
  if (ctx.isConst(bRef)) {
    const c = ctx.constant(bRef);
    if (c.shape.length !== 2) throw new IrError(`${n.op} "${n.name}" has a constant of rank ${c.shape.length}`);
    w = ctx.newConst('matrix', c.shape, c.data);
  } else w = ctx.value(bRef);
  const bias = fused[0] === 'BiasAdd' ? [ctx.newConst('bias', [ctx.constant(args[0]).data.length], ctx.constant(args[0]).data)] : [];
  const act = fused.find((f) => f !== 'BiasAdd');
  let y = ctx.emit({ op: 'MatMul', ...(tb ? { transposeB: true } : {}) }, [a, w, ...bias], act ? 'matmul' : undefined);
  if (act) y = fusedActivation(ctx, act, y, args[1]);
  return y;
}

function reduction(ctx: GraphContext, op: 'Mean' | 'Sum' | 'Max' | 'Min'): string {
  const n = ctx.node;
  const [xRef, axesRef] = n.inputs;
  const rank = (ctx.get(xRef) as { recorded: number[] }).recorded.length;
  const axes = ctx.ints(axesRef).map((a) => axisOf(a, rank));
  const keepDims = n.bool('keep_dims');
  if (ctx.lead(xRef) && !axes.includes(0)) return ctx.emit({ op, axes, keepDims }, [ctx.value(xRef)]);
  return ctx.emit({ op, axes: axes.map((a) => a + 1), keepDims }, [ctx.whole(xRef)]);
}

/** Ops whose output is the input's elements in another shape: one IR Reshape to the recorded output. */
function reshape(ctx: GraphContext): string {
  return ctx.emit({ op: 'Reshape', shape: canonical(ctx.out()) }, [ctx.value(ctx.node.inputs[0])]);
}

function transpose(ctx: GraphContext): string {
  const [xRef, permRef] = ctx.node.inputs;
  const perm = ctx.ints(permRef);
  if (ctx.lead(xRef) && perm[0] === 0) return ctx.emit({ op: 'Transpose', perm }, [ctx.value(xRef)]);
  return ctx.emit({ op: 'Transpose', perm: [0, ...perm.map((p) => p + 1)] }, [ctx.whole(xRef)]);
}

/** Concat of values (and constants) along a recorded axis. */
function concat(ctx: GraphContext, refs: string[], axis: number): string {
  const out = ctx.out();
  const ax = axisOf(axis, out.length);
  const values = refs.filter((r) => !ctx.isConst(r));
  if (ax !== 0 && values.every((r) => ctx.lead(r))) return ctx.emit({ op: 'Concat', axis: ax }, refs.map((r) => ctx.operand(r, out)));
  const parts = refs.map((r) => (ctx.isConst(r) ? ctx.newConst(`part_${r.split('/').pop()}`, ctx.constant(r).shape, ctx.constant(r).data) : ctx.whole(r)));
  return ctx.emit({ op: 'Concat', axis: ax + 1 }, parts);
}

/** Pack: every input gets a new axis, then a concat along it. */
function pack(ctx: GraphContext): string {
  const n = ctx.node;
  const out = ctx.out();
  const ax = axisOf(n.int('axis'), out.length);
  const parts = n.inputs.map((r, i) => {
    const shape = out.slice();
    shape[ax] = 1;
    if (ctx.isConst(r)) return ctx.newConst(`part_${i}`, shape, ctx.constant(r).data);
    return ctx.emit({ op: 'Reshape', shape }, [ctx.value(r)], `expand_${i}`);
  });
  return ctx.emit({ op: 'Concat', axis: ax + 1 }, parts);
}

/** Per recorded axis [begin, end, step] → one IR Slice (direct when axis 0 is kept whole, else on the whole reading). */
function slice(ctx: GraphContext, xRef: string, begin: number[], end: number[], steps: number[], suffix?: string): string {
  if (ctx.lead(xRef) && begin[0] === 0 && end[0] >= 1) return ctx.emit({ op: 'Slice', begin: begin.slice(1), end: end.slice(1), steps: steps.slice(1) }, [ctx.value(xRef)], suffix);
  return ctx.emit({ op: 'Slice', begin, end, steps }, [ctx.whole(xRef)], suffix);
}

/** Outputs k of Split/SplitV/Unpack: consecutive pieces along one axis. */
function pieces(ctx: GraphContext, xRef: string, axis: number, sizes: number[], squeeze: boolean): void {
  const rec = (ctx.get(xRef) as { recorded: number[] }).recorded;
  const ax = axisOf(axis, rec.length);
  let at = 0;
  sizes.forEach((size, k) => {
    const begin = rec.map(() => 0), end = rec.slice(), steps = rec.map(() => 1);
    begin[ax] = at;
    end[ax] = at + size;
    at += size;
    let y = slice(ctx, xRef, begin, end, steps, `piece_${k}`);
    if (squeeze) y = ctx.emit({ op: 'Reshape', shape: canonical(ctx.out(k)) }, [y], `squeeze_${k}`);
    ctx.set(y, k);
  });
}

/** StridedSlice with all its masks → per-axis ranges of the recorded input. */
function stridedSlice(ctx: GraphContext): string {
  const n = ctx.node;
  const [xRef, bRef, eRef, sRef] = n.inputs;
  const rec = (ctx.get(xRef) as { recorded: number[] }).recorded;
  const [b, e, s] = [ctx.ints(bRef), ctx.ints(eRef), ctx.ints(sRef)];
  const bit = (mask: string, i: number) => ((n.int(mask) >> i) & 1) === 1;
  const begin = rec.map(() => 0), end = rec.slice(), steps = rec.map(() => 1);
  let axis = 0;
  for (let i = 0; i < b.length; i++) {
    if (bit('ellipsis_mask', i)) {
      const consumedAfter = b.slice(i + 1).filter((_, j) => !bit('new_axis_mask', i + 1 + j)).length;
      axis = rec.length - consumedAfter;
      continue;
    }
    if (bit('new_axis_mask', i)) continue;
    const d = rec[axis];
    if (s[i] < 0) throw new IrError(`StridedSlice "${n.name}" steps backwards`);
    const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
    begin[axis] = bit('begin_mask', i) ? 0 : clamp(b[i]);
    end[axis] = bit('shrink_axis_mask', i) ? begin[axis] + 1 : bit('end_mask', i) ? d : clamp(e[i]);
    steps[axis] = s[i];
    axis++;
  }
  return slice(ctx, xRef, begin, end, steps);
}

function pad(ctx: GraphContext): string {
  const n = ctx.node;
  const [xRef, pRef, vRef] = n.inputs;
  const p = ctx.ints(pRef);
  const pairs = Array.from({ length: p.length / 2 }, (_, i) => [p[2 * i], p[2 * i + 1]] as [number, number]);
  const value = n.op === 'PadV2' && vRef ? Number(ctx.constant(vRef).data[0]) : 0;
  const mirror = n.op === 'MirrorPad' ? (n.str('mode') === 'SYMMETRIC' ? 'symmetric' : 'reflect') : 'constant';
  const op = (pads: Array<[number, number]>): IrOp => ({ op: 'Pad', pads, mode: mirror, value });
  if (ctx.lead(xRef) && pairs[0][0] === 0 && pairs[0][1] === 0) return ctx.emit(op(pairs.slice(1)), [ctx.value(xRef)]);
  return ctx.emit(op(pairs), [ctx.whole(xRef)]);
}

function tile(ctx: GraphContext): string {
  const [xRef, mRef] = ctx.node.inputs;
  const m = ctx.ints(mRef);
  if (ctx.lead(xRef) && m[0] === 1) return ctx.emit({ op: 'Tile', reps: m.slice(1) }, [ctx.value(xRef)]);
  return ctx.emit({ op: 'Tile', reps: m }, [ctx.whole(xRef)]);
}

/**
 * Translate the current node (not constant, not dynamic) into IR nodes and record its outputs.
 * Throws {@link IrError} for ops the IR cannot express.
 *
 * @example
 * translateGraphNode(ctx);
 */
export function translateGraphNode(ctx: GraphContext): void {
  const n = ctx.node;
  const w = windowOp(ctx);
  if (w !== null) return ctx.set(w);
  if (n.op in UNARY) return ctx.set(ctx.emit(UNARY[n.op], [ctx.value(n.inputs[0])]));
  if (n.op in BINARY) return ctx.set(binary(ctx, BINARY[n.op]));
  switch (n.op) {
    case 'LeakyRelu': return ctx.set(ctx.emit({ op: 'LeakyRelu', alpha: n.float('alpha', 0.2) }, [ctx.value(n.inputs[0])]));
    case 'ClipByValue': return ctx.set(ctx.emit({ op: 'Clip', min: Number(ctx.constant(n.inputs[1]).data[0]), max: Number(ctx.constant(n.inputs[2]).data[0]) }, [ctx.value(n.inputs[0])]));
    case 'Cast': {
      const to = n.type('DstT') ?? 'DT_FLOAT';
      if (to !== 'DT_FLOAT' && to !== 'DT_HALF' && ctx.dtypes.get(n.inputs[0]) === 'float32') {
        throw new IrError(`Cast "${n.name}" rounds a value computed from the input to ${to}`);
      }
      return ctx.set(ctx.emit({ op: 'Identity' }, [ctx.value(n.inputs[0])]));
    }
    case 'AddN': {
      const out = ctx.out();
      let acc = ctx.operand(n.inputs[0], out);
      n.inputs.slice(1).forEach((r, i) => (acc = ctx.emit({ op: 'Add' }, [acc, ctx.operand(r, out)], i === n.inputs.length - 2 ? undefined : `sum_${i}`)));
      return ctx.set(acc);
    }
    case 'MatMul': case 'BatchMatMul': case 'BatchMatMulV2': case '_FusedMatMul': return ctx.set(matmul(ctx));
    case 'Mean': return ctx.set(reduction(ctx, 'Mean'));
    case 'Sum': return ctx.set(reduction(ctx, 'Sum'));
    case 'Max': return ctx.set(reduction(ctx, 'Max'));
    case 'Min': return ctx.set(reduction(ctx, 'Min'));
    case 'Reshape': case 'Squeeze': case 'ExpandDims': return ctx.set(reshape(ctx));
    case 'Transpose': return ctx.set(transpose(ctx));
    case 'ConcatV2': return ctx.set(concat(ctx, n.inputs.slice(0, -1), ctx.ints(n.inputs[n.inputs.length - 1])[0]));
    case 'Concat': return ctx.set(concat(ctx, n.inputs.slice(1), ctx.ints(n.inputs[0])[0]));
    case 'Pack': return ctx.set(pack(ctx));
    case 'Unpack': {
      const rec = (ctx.get(n.inputs[0]) as { recorded: number[] }).recorded;
      const ax = axisOf(n.int('axis'), rec.length);
      return pieces(ctx, n.inputs[0], ax, new Array(rec[ax]).fill(1), true);
    }
    case 'Split': {
      const ax = ctx.ints(n.inputs[0])[0];
      const rec = (ctx.get(n.inputs[1]) as { recorded: number[] }).recorded;
      const k = n.int('num_split');
      return pieces(ctx, n.inputs[1], ax, new Array(k).fill(rec[axisOf(ax, rec.length)] / k), false);
    }
    case 'SplitV': {
      const [xRef, sRef, aRef] = n.inputs;
      const rec = (ctx.get(xRef) as { recorded: number[] }).recorded;
      const ax = axisOf(ctx.ints(aRef)[0], rec.length);
      const sizes = ctx.ints(sRef);
      const known = sizes.filter((s) => s >= 0).reduce((a, b) => a + b, 0);
      return pieces(ctx, xRef, ax, sizes.map((s) => (s < 0 ? rec[ax] - known : s)), false);
    }
    case 'StridedSlice': return ctx.set(stridedSlice(ctx));
    case 'Slice': {
      const [xRef, bRef, sRef] = n.inputs;
      const b = ctx.ints(bRef), s = ctx.ints(sRef);
      const rec = (ctx.get(xRef) as { recorded: number[] }).recorded;
      return ctx.set(slice(ctx, xRef, b, s.map((z, i) => (z < 0 ? rec[i] : b[i] + z)), b.map(() => 1)));
    }
    case 'Pad': case 'PadV2': case 'MirrorPad': return ctx.set(pad(ctx));
    case 'Tile': return ctx.set(tile(ctx));
    case 'BroadcastTo': {
      const out = ctx.out();
      return ctx.set(ctx.emit({ op: 'Add' }, [ctx.value(n.inputs[0]), ctx.newConst('zeros', canonical(out), new Float32Array(canonical(out).reduce((a, b) => a * b, 1)))]));
    }
    default:
      throw new IrError(`op ${n.op} (node "${n.name}") has no IR translation`);
  }
}
