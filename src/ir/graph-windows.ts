/**
 * Graph ops on images: convolutions (plain, depthwise, fused with bias/batch-norm/activation,
 * transposed), pooling, resizing, batch normalisation. NCHW nodes are run on an NHWC view.
 */
import type { IrOp, Pads2D } from './ir.js';
import { IrError } from './errors.js';
import type { GraphContext } from './graph-context.js';
import { windowPads } from './layer-ops.js';

/** [H, W] items of a 4-element NHWC/NCHW attribute list. */
function hw(list: number[], nchw: boolean, dflt: number): [number, number] {
  if (list.length !== 4) return [dflt, dflt];
  return nchw ? [list[2], list[3]] : [list[1], list[2]];
}

/** The node's input 0 as an NHWC IR value (transposed when the node is NCHW); throws unless its axis 0 is the batch. */
function imageInput(ctx: GraphContext, nchw: boolean): string {
  const ref = ctx.node.inputs[0];
  const v = ctx.get(ref);
  if (v.kind !== 'ir' || v.recorded.length !== 4 || !ctx.lead(ref)) {
    throw new IrError(`${ctx.node.op} "${ctx.node.name}" works on a value whose first axis is not the batch (recorded [${v.kind === 'ir' ? v.recorded.join(', ') : 'constant'}])`);
  }
  return nchw ? ctx.emit({ op: 'Transpose', perm: [0, 2, 3, 1] }, [v.ir], 'to_nhwc') : v.ir;
}

/** Back to the node's layout. */
function imageOutput(ctx: GraphContext, y: string, nchw: boolean): string {
  return nchw ? ctx.emit({ op: 'Transpose', perm: [0, 3, 1, 2] }, [y], 'to_nchw') : y;
}

/** Explicit pads of a window op from its `padding` attribute (SAME/VALID/EXPLICIT). */
function padsOf(ctx: GraphContext, inHW: number[], k: [number, number], s: [number, number], d: [number, number], nchw: boolean): Pads2D {
  const padding = ctx.node.str('padding', 'VALID');
  if (padding === 'EXPLICIT') {
    const e = ctx.node.ints('explicit_paddings');
    return nchw ? [e[4], e[5], e[6], e[7]] : [e[2], e[3], e[4], e[5]];
  }
  const mode = padding === 'SAME' ? 'same' : 'valid';
  const ph = windowPads(inHW[0], k[0], s[0], d[0], mode), pw = windowPads(inHW[1], k[1], s[1], d[1], mode);
  return [ph[0], ph[1], pw[0], pw[1]];
}

/** Fused activations of _FusedConv2D / _FusedMatMul / FusedDepthwiseConv2dNative. @example y = fusedActivation(ctx, 'Relu6', conv, undefined) */
export function fusedActivation(ctx: GraphContext, name: string, x: string, extra: string | undefined): string {
  const op: IrOp | null =
    name === 'Relu' ? { op: 'Relu' } : name === 'Relu6' ? { op: 'Relu6' } : name === 'Elu' ? { op: 'Elu' } : name === 'Sigmoid' ? { op: 'Sigmoid' } : name === 'Tanh' ? { op: 'Tanh' }
      : name === 'LeakyRelu' ? { op: 'LeakyRelu', alpha: ctx.node.float('leakyrelu_alpha', 0.2) } : name === 'Prelu' ? { op: 'Prelu' } : null;
  if (!op) throw new IrError(`fused activation ${name} of "${ctx.node.name}" is not supported`);
  return ctx.emit(op, op.op === 'Prelu' ? [x, ctx.operand(extra!, ctx.out())] : [x]);
}

/** Batch-norm folded into a per-channel scale and shift of an NHWC value (constants scale, offset, mean, variance). */
function batchNorm(ctx: GraphContext, y: string, args: string[], eps: number, last: boolean): string {
  const [scale, offset, mean, variance] = args.map((a) => ctx.constant(a).data);
  const c = scale.length;
  const s = new Float32Array(c), t = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    s[i] = Math.fround(scale[i] / Math.sqrt(Math.fround(variance[i] + eps)));
    t[i] = Math.fround(offset[i] - mean[i] * s[i]);
  }
  const m = ctx.emit({ op: 'Mul' }, [y, ctx.newConst('bn_scale', [c], s)], 'bn_scale');
  return ctx.emit({ op: 'Add' }, [m, ctx.newConst('bn_shift', [c], t)], last ? undefined : 'bn_shift');
}

/** Conv2D, DepthwiseConv2dNative and their fused forms. */
function convolution(ctx: GraphContext, depthwise: boolean): string {
  const n = ctx.node;
  const nchw = n.str('data_format', 'NHWC') === 'NCHW';
  const x = imageInput(ctx, nchw);
  const wRef = n.inputs[1];
  const w = ctx.constant(wRef);
  const k: [number, number] = [w.shape[0], w.shape[1]];
  const s = hw(n.ints('strides'), nchw, 1), d = hw(n.ints('dilations'), nchw, 1);
  const [h, wd] = ctx.b.shapeOf(x);
  const pads = padsOf(ctx, [h, wd], k, s, d, nchw);
  const fused = n.op.startsWith('_Fused') || n.op.startsWith('Fused') ? n.strs('fused_ops') : [];
  const args = n.inputs.slice(2);
  const act = fused.find((f) => f !== 'BiasAdd' && f !== 'FusedBatchNorm');
  const biasConst = fused[0] === 'BiasAdd' ? ctx.constant(args[0]) : null;
  const bias = biasConst ? [ctx.newConst('bias', [biasConst.data.length], biasConst.data)] : [];
  const op: IrOp = depthwise ? { op: 'DepthwiseConv2D', strides: s, dilations: d, pads } : { op: 'Conv2D', strides: s, dilations: d, pads };
  const filter = ctx.newConst('filter', w.shape, w.data);
  const last = !act && fused[0] !== 'FusedBatchNorm' && !nchw;
  let y = ctx.emit(op, [x, filter, ...bias], last ? undefined : depthwise ? 'depthwise' : 'conv');
  if (fused[0] === 'FusedBatchNorm') y = batchNorm(ctx, y, args.slice(0, 4), n.float('epsilon', 1e-3), !act && !nchw);
  if (act) y = fusedActivation(ctx, act, y, args[fused[0] === 'FusedBatchNorm' ? 4 : 1]);
  return imageOutput(ctx, y, nchw);
}

function pool(ctx: GraphContext, kind: 'MaxPool' | 'AvgPool'): string {
  const n = ctx.node;
  const nchw = n.str('data_format', 'NHWC') === 'NCHW';
  const x = imageInput(ctx, nchw);
  const k = hw(n.ints('ksize'), nchw, 1), s = hw(n.ints('strides'), nchw, 1);
  const [h, w] = ctx.b.shapeOf(x);
  const y = ctx.emit({ op: kind, ksize: k, strides: s, pads: padsOf(ctx, [h, w], k, s, [1, 1], nchw) }, [x], nchw ? 'pool' : undefined);
  return imageOutput(ctx, y, nchw);
}

/** Conv2DBackpropInput (a transposed convolution): input sizes, filter, gradient-shaped input. */
function transposedConv(ctx: GraphContext): string {
  const n = ctx.node;
  const nchw = n.str('data_format', 'NHWC') === 'NCHW';
  const sizes = ctx.ints(n.inputs[0]);
  const w = ctx.constant(n.inputs[1]);
  const ref = n.inputs[2];
  const v = ctx.get(ref);
  if (v.kind !== 'ir' || !ctx.lead(ref)) throw new IrError(`Conv2DBackpropInput "${n.name}" works on a value whose first axis is not the batch`);
  const x = nchw ? ctx.emit({ op: 'Transpose', perm: [0, 2, 3, 1] }, [v.ir], 'to_nhwc') : v.ir;
  const out = hw(sizes, nchw, 1);
  const k: [number, number] = [w.shape[0], w.shape[1]];
  const s = hw(n.ints('strides'), nchw, 1);
  const pads = padsOf(ctx, out, k, s, [1, 1], nchw);
  const y = ctx.emit({ op: 'Conv2DTranspose', strides: s, pads, outputSize: out }, [x, ctx.newConst('filter', w.shape, w.data)], nchw ? 'deconv' : undefined);
  return imageOutput(ctx, y, nchw);
}

function resize(ctx: GraphContext, method: 'bilinear' | 'nearest'): string {
  const n = ctx.node;
  const x = imageInput(ctx, false);
  const [h, w] = ctx.ints(n.inputs[1]);
  return ctx.emit({ op: 'Resize', size: [h, w], method, alignCorners: n.bool('align_corners'), halfPixelCenters: n.bool('half_pixel_centers') }, [x]);
}

/** Stand-alone FusedBatchNorm(V3) at inference: per-channel scale and shift. */
function fusedBatchNormNode(ctx: GraphContext): string {
  const n = ctx.node;
  const nchw = n.str('data_format', 'NHWC') === 'NCHW';
  const x = imageInput(ctx, nchw);
  return imageOutput(ctx, batchNorm(ctx, x, n.inputs.slice(1, 5), n.float('epsilon', 1e-3), !nchw), nchw);
}

/**
 * Translate an image op of the current node; returns its IR value, or null when the op is not one of these.
 *
 * @example
 * const y = windowOp(ctx); // for a _FusedConv2D node
 */
export function windowOp(ctx: GraphContext): string | null {
  switch (ctx.node.op) {
    case 'Conv2D': case '_FusedConv2D': return convolution(ctx, false);
    case 'DepthwiseConv2dNative': case 'DepthwiseConv2D': case 'FusedDepthwiseConv2dNative': return convolution(ctx, true);
    case 'MaxPool': return pool(ctx, 'MaxPool');
    case 'AvgPool': return pool(ctx, 'AvgPool');
    case 'Conv2DBackpropInput': return transposedConv(ctx);
    case 'ResizeBilinear': return resize(ctx, 'bilinear');
    case 'ResizeNearestNeighbor': return resize(ctx, 'nearest');
    case 'FusedBatchNorm': case 'FusedBatchNormV2': case 'FusedBatchNormV3': return fusedBatchNormNode(ctx);
    default: return null;
  }
}
