import type { IrGraph, IrNode, Pads2D } from '../../../ir/ir.js';
import type { Val } from '../layout.js';
import type { NetEmitter } from '../net.js';
import { valueInput, type NodeOf, type Rule, type Rules } from './common.js';

/*
 * Linear ops with weights: MatMul (Dense), Conv2D (groups, dilations, explicit pads),
 * DepthwiseConv2D and Conv2DTranspose. Convolutions run NCHW; their input gradient is the
 * transposed op with the same weight array (Conv ↔ ConvTranspose), except a stride-1 Conv2D
 * with channel counts onnxruntime's blocked (NCHWc) kernels take: there a Conv with the flipped
 * filter (one more weight array) runs faster than ConvTranspose.
 */

type Linear = 'MatMul' | 'Conv2D' | 'DepthwiseConv2D' | 'Conv2DTranspose';

/** IR pads [top, bottom, left, right] → ONNX [top, left, bottom, right]. */
export function onnxPads(p: Pads2D): number[] {
  return [p[0], p[2], p[1], p[3]];
}

/** Per spatial axis: input rows the conv never reads at the end, which ConvTranspose must add back. */
function leftover(inSize: [number, number], outSize: [number, number], k: [number, number], s: [number, number], d: [number, number], p: Pads2D): number[] {
  return [0, 1].map((i) => inSize[i] - ((outSize[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - p[i * 2] - p[i * 2 + 1]));
}


/** HWIO [kh, kw, ci, co] → OIHW [co, ci, kh, kw]. */
function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) out[((o * ci + c) * kh + a) * kw + b] = data[((a * kw + b) * ci + c) * co + o];
  return out;
}

function constOnly(node: IrNode, ir: IrGraph, k: number, what: string): string | null {
  const name = node.inputs[k];
  if (name === undefined) return null;
  return ir.consts.has(name) ? null : `no gradient rule for ${node.op} with a computed ${what}`;
}

function bias(node: IrNode, net: NetEmitter): string[] {
  const name = node.inputs[2];
  if (name === undefined) return [];
  const c = net.constant(name);
  return [net.memo(`${node.name}#bias`, () => net.b.f32('bias', c.data, [c.data.length]))];
}

/** An NCHW conv-family op: forward attributes, weight, and its output value. */
function convOut(node: IrNode, net: NetEmitter, type: 'Conv' | 'ConvTranspose', w: string, attrs: Record<string, number | number[]>): Val {
  const x = net.as(valueInput(net, node), 'nchw');
  const shape = net.ir.shapes.get(node.name)!;
  const y = net.b.op1(type, [x.name, w, ...bias(node, net)], attrs);
  return net.settle({ name: y, shape, layout: 'nchw' });
}

/** [kh, kw] of a conv filter. */
function kernelOf(node: IrNode, net: NetEmitter): [number, number] {
  const s = net.constant(node.inputs[1]).shape;
  return [s[0], s[1]];
}

interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  pads: Pads2D;
  groups: number;
  kernel: [number, number];
}

/** Conv and DepthwiseConv share a rule; only the weight layout and group count differ. */
function convRule<K extends 'Conv2D' | 'DepthwiseConv2D'>(geometry: (node: NodeOf<K>, net: NetEmitter) => ConvGeometry, weight: (node: NodeOf<K>, net: NetEmitter) => string): Rule<K> {
  const attrs = (g: ConvGeometry) => ({ kernel_shape: g.kernel, strides: g.strides, dilations: g.dilations, pads: onnxPads(g.pads), group: g.groups });
  return {
    check: (node, ir) => constOnly(node, ir, 1, 'filter') ?? constOnly(node, ir, 2, 'bias'),
    forward: (node, net) => convOut(node, net, 'Conv', weight(node, net), attrs(geometry(node, net))),
    backward(node, net, dy) {
      const g = geometry(node, net);
      const x = valueInput(net, node);
      const out = net.ir.shapes.get(node.name)!;
      const grad = net.as(dy, 'nchw').name;
      if (flippable(g, x.shape[2], out[2])) {
        const dx = net.b.op1('Conv', [grad, flippedWeight(node, net)], { kernel_shape: g.kernel, pads: [0, 1, 0, 1].map((i, k) => g.kernel[i] - 1 - g.pads[[0, 2, 1, 3][k]]) });
        return [{ name: dx, shape: x.shape, layout: 'nchw' }, null, null];
      }
      const extra = leftover([x.shape[0], x.shape[1]], [out[0], out[1]], g.kernel, g.strides, g.dilations, g.pads);
      const dx = net.b.op1('ConvTranspose', [grad, weight(node, net)], { ...attrs(g), output_padding: extra });
      return [{ name: dx, shape: x.shape, layout: 'nchw' }, null, null];
    },
  };
}

/**
 * Can the input gradient be a plain Conv of dy with the flipped, transposed filter (stride 1, no
 * dilation or groups, pads inside the kernel), with channel counts onnxruntime's blocked (NCHWc)
 * kernels take? Those run faster than ConvTranspose; other shapes keep ConvTranspose.
 */
function flippable(g: ConvGeometry, cin: number, cout: number): boolean {
  const unit = (v: [number, number]) => v[0] === 1 && v[1] === 1;
  return g.groups === 1 && unit(g.strides) && unit(g.dilations) && g.pads.every((p, i) => p <= g.kernel[i >> 1] - 1) && cin % 8 === 0 && cout % 8 === 0;
}

/** HWIO [kh, kw, ci, co] → the input gradient's filter [ci, co, kh, kw], flipped in space. */
function flippedWeight(node: IrNode, net: NetEmitter): string {
  return net.memo(`${node.name}#Wflip`, () => {
    const f = net.constant(node.inputs[1]);
    const [kh, kw, ci, co] = f.shape;
    const out = new Float32Array(f.data.length);
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) out[((c * co + o) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)] = f.data[((a * kw + b) * ci + c) * co + o];
    return net.b.f32('convWflip', out, [ci, co, kh, kw]);
  });
}

/** The rules of the weighted linear ops. */
export const LINEAR_RULES: Rules<Linear> = {
  MatMul: {
    check(node, ir) {
      const reason = constOnly(node, ir, 2, 'bias');
      if (reason) return reason;
      if (!ir.consts.has(node.inputs[1]) && (ir.shapes.get(node.inputs[0])?.length ?? 0) < 2) return `MatMul "${node.name}" of a vector by a computed matrix`;
      return null;
    },
    forward(node, net) {
      const x = net.as(valueInput(net, node), 'ir');
      const shape = net.ir.shapes.get(node.name)!;
      let y = net.b.op1('MatMul', [x.name, matrix(node, net, false)]);
      const bn = node.inputs[2];
      if (bn !== undefined) y = net.b.op1('Add', [y, net.constFor(bn, shape.length, 'ir')!]);
      return { name: y, shape, layout: 'ir' };
    },
    backward(node, net, dy) {
      const x = net.as(valueInput(net, node), 'ir');
      const g = net.as(dy, 'ir').name;
      const dx = { name: net.b.op1('MatMul', [g, matrix(node, net, true)]), shape: x.shape, layout: 'ir' as const };
      if (net.isConst(node.inputs[1])) return [dx, null, null];
      // A computed right operand [.., K, N] (or [.., N, K] with transposeB).
      const w = net.val(node.inputs[1]);
      const dw = node.transposeB ? net.b.op1('MatMul', [swapLast(net, g, x.shape.length + 1), x.name]) : net.b.op1('MatMul', [swapLast(net, x.name, x.shape.length + 1), g]);
      return [dx, { name: dw, shape: w.shape, layout: 'ir' }, null];
    },
  },
  Conv2D: convRule<'Conv2D'>(
    (n, net) => ({ strides: n.strides, dilations: n.dilations, pads: n.pads, groups: n.groups ?? 1, kernel: kernelOf(n, net) }),
    (n, net) => net.memo(`${n.name}#W`, () => {
      const f = net.constant(n.inputs[1]);
      return net.b.f32('convW', hwioToOihw(f.data, f.shape), [f.shape[3], f.shape[2], f.shape[0], f.shape[1]]);
    }),
  ),
  DepthwiseConv2D: convRule<'DepthwiseConv2D'>(
    (n, net) => ({ strides: n.strides, dilations: n.dilations, pads: n.pads, groups: net.constant(n.inputs[1]).shape[2], kernel: kernelOf(n, net) }),
    (n, net) => net.memo(`${n.name}#W`, () => {
      // [kh, kw, cin, mult] → [cin·mult, 1, kh, kw]: output channel c·mult + m, as TF orders them.
      const f = net.constant(n.inputs[1]);
      const [kh, kw, ci, m] = f.shape;
      return net.b.f32('dwW', hwioToOihw(f.data, [kh, kw, 1, ci * m]), [ci * m, 1, kh, kw]);
    }),
  ),
  Conv2DTranspose: {
    check(node, ir) {
      const reason = constOnly(node, ir, 1, 'filter') ?? constOnly(node, ir, 2, 'bias');
      if (reason) return reason;
      const x = ir.shapes.get(node.inputs[0])!;
      const k = ir.consts.get(node.inputs[1])!.shape;
      const extra = transposeExtra(node, x, k);
      if (extra.some((e, i) => e < 0 || e >= node.strides[i])) return `no gradient rule for Conv2DTranspose "${node.name}" with output size [${node.outputSize}] (output padding [${extra}])`;
      return null;
    },
    forward(node, net) {
      const x = valueInput(net, node);
      const k = net.constant(node.inputs[1]).shape;
      return convOut(node, net, 'ConvTranspose', transposeWeight(node, net), { kernel_shape: [k[0], k[1]], strides: node.strides, pads: onnxPads(node.pads), output_padding: transposeExtra(node, x.shape, k) });
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const k = net.constant(node.inputs[1]).shape;
      const dx = net.b.op1('Conv', [net.as(dy, 'nchw').name, transposeWeight(node, net)], { kernel_shape: [k[0], k[1]], strides: node.strides, pads: onnxPads(node.pads) });
      return [{ name: dx, shape: x.shape, layout: 'nchw' }, null, null];
    },
  },
};

/** ConvTranspose's output padding that yields the IR's output size. */
function transposeExtra(node: NodeOf<'Conv2DTranspose'>, x: number[], k: number[]): number[] {
  return [0, 1].map((i) => node.outputSize[i] - ((x[i] - 1) * node.strides[i] + k[i] - node.pads[2 * i] - node.pads[2 * i + 1]));
}

/** TF's transposed-conv filter [kh, kw, cout, cin] → ONNX ConvTranspose [cin, cout, kh, kw]. */
function transposeWeight(node: NodeOf<'Conv2DTranspose'>, net: NetEmitter): string {
  return net.memo(`${node.name}#W`, () => {
    const f = net.constant(node.inputs[1]);
    const [kh, kw, co, ci] = f.shape;
    // Same index map as HWIO → OIHW with the roles of the last two axes swapped.
    return net.b.f32('convTW', hwioToOihw(f.data, [kh, kw, co, ci]), [ci, co, kh, kw]);
  });
}

/** The right operand of a MatMul as ONNX wants it ([K, N]), or its transpose ([N, K]) for the backward pass. */
function matrix(node: NodeOf<'MatMul'>, net: NetEmitter, transposed: boolean): string {
  const name = node.inputs[1];
  const flip = transposed !== !!node.transposeB;
  if (!net.isConst(name)) {
    const w = net.val(name);
    return flip ? swapLast(net, w.name, w.shape.length + 1) : w.name;
  }
  return net.memo(`${node.name}#W${flip ? 'T' : ''}`, () => {
    const c = net.constant(name);
    const [r, k] = c.shape;
    if (!flip) return net.b.f32('W', c.data, [r, k]);
    const t = new Float32Array(c.data.length);
    for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) t[j * r + i] = c.data[i * k + j];
    return net.b.f32('WT', t, [k, r]);
  });
}

/** Transpose of the last two axes of a tensor of rank `rank` (batch included). */
function swapLast(net: NetEmitter, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return net.b.op1('Transpose', [x], { perm });
}
