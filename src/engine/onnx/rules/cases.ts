import { size, type IrConst, type IrGraph, type IrNode } from '../../../ir/ir.js';
import { oneNode, randomConst, separated } from '../testing.js';

/*
 * One small IR graph per op rule (and per interesting variant: broadcasting, strides, padding,
 * overlapping windows, layouts), with inputs away from kinks, for the rule tests: finite
 * differences and the TF.js reference. Tests only.
 */

/** A test graph and its row-0 inputs. */
export interface OpCase {
  name: string;
  ir: IrGraph;
  inputs: Record<string, Float32Array>;
}

type NodeSpec = Omit<IrNode, 'name' | 'layer'>;

function make(name: string, node: NodeSpec, inputs: Record<string, number[]>, consts: Record<string, IrConst>, out: number[], positive = false): OpCase {
  const ir = oneNode(node, inputs, consts, out);
  // One separated set for all inputs, so no two inputs' values sit within a step of each other either.
  const total = Object.values(inputs).reduce((a, s) => a + size(s), 0);
  const all = positive ? separated(total, 11, 0.3, 2.5) : separated(total, 11);
  const values: Record<string, Float32Array> = {};
  let at = 0;
  for (const [n, shape] of Object.entries(inputs)) {
    values[n] = all.slice(at, at + size(shape));
    at += size(shape);
  }
  return { name, ir, inputs: values };
}

const X = [4, 5, 3];
const unary = (op: string, extra: Record<string, unknown> = {}, positive = false) => make(op, { op, inputs: ['x'], ...extra } as NodeSpec, { x: X }, {}, X, positive);

/** Every rule's cases. */
export function opCases(): OpCase[] {
  const cases: OpCase[] = [
    unary('Identity'), unary('Relu'), unary('Relu6', {}, false), unary('LeakyRelu', { alpha: 0.2 }), unary('Elu'), unary('Selu'), unary('Sigmoid'),
    unary('HardSigmoid', { alpha: 0.2, beta: 0.5 }), unary('Tanh'), unary('Softplus'), unary('Softsign'), unary('Swish'), unary('HardSwish'),
    unary('Mish'), unary('ThresholdedRelu', { theta: 0.3 }), unary('Gelu', { approximate: false }), unary('Gelu', { approximate: true }), unary('Exp'), unary('Log', {}, true), unary('Sqrt', {}, true),
    unary('Rsqrt', {}, true), unary('Square'), unary('Neg'), unary('Abs'), unary('Reciprocal', {}, true), unary('Clip', { min: -0.5, max: 1 }),
    make('Prelu', { op: 'Prelu', inputs: ['x', 's'] } as NodeSpec, { x: X }, { s: randomConst([3], 2, 0.5) }, X),
  ];
  for (const op of ['Add', 'Sub', 'Mul', 'Maximum', 'Minimum', 'SquaredDifference']) {
    cases.push(make(`${op} value·value`, { op, inputs: ['a', 'b'] } as NodeSpec, { a: X, b: X }, {}, X));
    cases.push(make(`${op} value·const[C]`, { op, inputs: ['a', 'c'] } as NodeSpec, { a: X }, { c: randomConst([3], 3) }, X));
    cases.push(make(`${op} const·value broadcast`, { op, inputs: ['c', 'a'] } as NodeSpec, { a: X }, { c: randomConst([5, 1], 4) }, X));
    cases.push(make(`${op} value·value[1,1,C]`, { op, inputs: ['a', 'b'] } as NodeSpec, { a: X, b: [1, 1, 3] }, {}, X));
  }
  cases.push(make('Div value·value', { op: 'Div', inputs: ['a', 'b'] } as NodeSpec, { a: X, b: X }, {}, X, true));
  cases.push(make('Div const·value', { op: 'Div', inputs: ['c', 'b'] } as NodeSpec, { b: X }, { c: randomConst([3], 5) }, X, true));
  cases.push(make('Div value[1,5,1]', { op: 'Div', inputs: ['a', 'b'] } as NodeSpec, { a: X, b: [1, 5, 1] }, {}, X, true));

  // Linear.
  cases.push(make('MatMul dense + bias', { op: 'MatMul', inputs: ['x', 'w', 'b'] } as NodeSpec, { x: [6] }, { w: randomConst([6, 4], 6), b: randomConst([4], 7) }, [4]));
  cases.push(make('MatMul rank-2 input', { op: 'MatMul', inputs: ['x', 'w'] } as NodeSpec, { x: [3, 6] }, { w: randomConst([6, 4], 8) }, [3, 4]));
  cases.push(make('MatMul transposeB', { op: 'MatMul', inputs: ['x', 'w'], transposeB: true } as NodeSpec, { x: [6] }, { w: randomConst([4, 6], 9) }, [4]));
  cases.push(make('MatMul value·value', { op: 'MatMul', inputs: ['x', 'w'] } as NodeSpec, { x: [3, 4], w: [4, 2] }, {}, [3, 2]));
  cases.push(make('MatMul value·valueᵀ', { op: 'MatMul', inputs: ['x', 'w'], transposeB: true } as NodeSpec, { x: [3, 4], w: [2, 4] }, {}, [3, 2]));
  const conv = (name: string, extra: Partial<NodeOfConv>, inShape: number[], filter: number[], out: number[], bias = true) =>
    make(name, { op: 'Conv2D', inputs: bias ? ['x', 'f', 'b'] : ['x', 'f'], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], ...extra } as NodeSpec, { x: inShape }, { f: randomConst(filter, 10, 0.5), b: randomConst([filter[3]], 12) }, out);
  cases.push(conv('Conv2D same', { pads: [1, 1, 1, 1] }, [6, 7, 3], [3, 3, 3, 4], [6, 7, 4]));
  cases.push(conv('Conv2D stride 2, uneven pads', { strides: [2, 2], pads: [0, 1, 0, 1] }, [7, 8, 2], [3, 3, 2, 3], [3, 4, 3]));
  cases.push(conv('Conv2D valid stride 2 with leftover', { strides: [2, 2] }, [8, 7, 2], [3, 2, 2, 3], [3, 3, 3], false));
  cases.push(conv('Conv2D dilated', { dilations: [2, 2], pads: [2, 2, 2, 2] }, [6, 6, 2], [3, 3, 2, 2], [6, 6, 2]));
  cases.push(conv('Conv2D 8→16 channels, uneven pads (gradient by the flipped filter)', { pads: [0, 1, 2, 0] }, [5, 6, 8], [3, 3, 8, 16], [4, 6, 16]));
  cases.push(conv('Conv2D groups', { groups: 2, pads: [1, 1, 1, 1] }, [5, 5, 4], [3, 3, 2, 6], [5, 5, 6]));
  cases.push(make('DepthwiseConv2D stride 2', { op: 'DepthwiseConv2D', inputs: ['x', 'f', 'b'], strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1] } as NodeSpec, { x: [7, 7, 3] }, { f: randomConst([3, 3, 3, 2], 13, 0.5), b: randomConst([6], 14) }, [4, 4, 6]));
  cases.push(make('DepthwiseConv2D dilated', { op: 'DepthwiseConv2D', inputs: ['x', 'f'], strides: [1, 1], dilations: [2, 2], pads: [2, 2, 2, 2] } as NodeSpec, { x: [6, 6, 2] }, { f: randomConst([3, 3, 2, 1], 15, 0.5) }, [6, 6, 2]));
  cases.push(make('Conv2DTranspose stride 2', { op: 'Conv2DTranspose', inputs: ['x', 'f', 'b'], strides: [2, 2], pads: [1, 1, 1, 1], outputSize: [6, 8] } as NodeSpec, { x: [3, 4, 2] }, { f: randomConst([3, 3, 5, 2], 16, 0.5), b: randomConst([5], 17) }, [6, 8, 5]));

  // Windows.
  const pool = (op: string, name: string, ksize: number[], strides: number[], pads: number[], inShape: number[], out: number[]) =>
    make(`${op} ${name}`, { op, inputs: ['x'], ksize, strides, pads } as NodeSpec, { x: inShape }, {}, out);
  cases.push(pool('MaxPool', '2×2/2', [2, 2], [2, 2], [0, 0, 0, 0], [6, 8, 3], [3, 4, 3]));
  cases.push(pool('MaxPool', '3×3/2 overlapping, padded', [3, 3], [2, 2], [1, 1, 1, 1], [6, 7, 2], [3, 4, 2]));
  cases.push(pool('MaxPool', '3×3/1 same', [3, 3], [1, 1], [1, 1, 1, 1], [5, 5, 2], [5, 5, 2]));
  cases.push(pool('AvgPool', '3×3/1 same (count excludes padding)', [3, 3], [1, 1], [1, 1, 1, 1], [5, 6, 2], [5, 6, 2]));
  cases.push(pool('AvgPool', '2×2/2', [2, 2], [2, 2], [0, 0, 0, 0], [6, 8, 3], [3, 4, 3]));
  cases.push(pool('AvgPool', '3×3/2 valid with leftover', [3, 3], [2, 2], [0, 0, 0, 0], [8, 8, 1], [3, 3, 1]));
  for (const [method, ac, hp] of [['bilinear', false, false], ['bilinear', false, true], ['bilinear', true, false], ['nearest', false, false], ['nearest', false, true], ['nearest', true, false]] as const) {
    cases.push(make(`Resize ${method} up${ac ? ' alignCorners' : ''}${hp ? ' halfPixel' : ''}`, { op: 'Resize', inputs: ['x'], size: [7, 10], method, alignCorners: ac, halfPixelCenters: hp } as NodeSpec, { x: [3, 4, 2] }, {}, [7, 10, 2]));
  }
  cases.push(make('Resize bilinear down', { op: 'Resize', inputs: ['x'], size: [3, 2], method: 'bilinear', alignCorners: false, halfPixelCenters: true } as NodeSpec, { x: [7, 5, 2] }, {}, [3, 2, 2]));

  // Reductions.
  const red = (op: string, axes: number[], keepDims: boolean, out: number[]) => make(`${op} axes [${axes}]${keepDims ? ' keepDims' : ''}`, { op, inputs: ['x'], axes, keepDims } as NodeSpec, { x: X }, {}, out);
  cases.push(make('Pow value^const', { op: 'Pow', inputs: ['a', 'c'] } as NodeSpec, { a: X }, { c: { shape: [3], data: Float32Array.of(2, 0.5, 3) } }, X, true));
  cases.push(make('Pow value^value', { op: 'Pow', inputs: ['a', 'b'] } as NodeSpec, { a: X, b: X }, {}, X, true));
  for (const op of ['Mean', 'Sum', 'Max', 'Min']) {
    cases.push(red(op, [1, 2], false, [3]));
    cases.push(red(op, [3], true, [4, 5, 1]));
    cases.push(red(op, [2], false, [4, 3]));
  }
  cases.push(make('Softmax last axis', { op: 'Softmax', inputs: ['x'], axis: 3 } as NodeSpec, { x: X }, {}, X));
  cases.push(make('Softmax axis 1 of a vector', { op: 'Softmax', inputs: ['x'], axis: 1 } as NodeSpec, { x: [7] }, {}, [7]));
  cases.push(make('LogSoftmax', { op: 'LogSoftmax', inputs: ['x'], axis: -1 } as NodeSpec, { x: X }, {}, X));

  // Data movement.
  cases.push(make('Reshape', { op: 'Reshape', inputs: ['x'], shape: [60] } as NodeSpec, { x: X }, {}, [60]));
  cases.push(make('Transpose', { op: 'Transpose', inputs: ['x'], perm: [0, 3, 1, 2] } as NodeSpec, { x: X }, {}, [3, 4, 5]));
  cases.push(make('Concat channels', { op: 'Concat', inputs: ['a', 'b'], axis: 3 } as NodeSpec, { a: X, b: [4, 5, 2] }, {}, [4, 5, 5]));
  cases.push(make('Concat with a constant', { op: 'Concat', inputs: ['a', 'c'], axis: 1 } as NodeSpec, { a: X }, { c: randomConst([2, 5, 3], 18) }, [6, 5, 3]));
  for (const mode of ['constant', 'reflect', 'symmetric'] as const) {
    cases.push(make(`Pad ${mode}`, { op: 'Pad', inputs: ['x'], pads: [[1, 2], [2, 1], [0, 0]], mode, value: 0.5 } as NodeSpec, { x: X }, {}, [7, 8, 3]));
  }
  cases.push(make('Slice steps', { op: 'Slice', inputs: ['x'], begin: [1, 0, 1], end: [4, 5, 3], steps: [2, 2, 1] } as NodeSpec, { x: X }, {}, [2, 3, 2]));
  cases.push(make('Tile', { op: 'Tile', inputs: ['x'], reps: [2, 1, 3] } as NodeSpec, { x: X }, {}, [8, 5, 9]));
  return cases;
}

type NodeOfConv = { strides: number[]; dilations: number[]; pads: number[]; groups: number };

/**
 * The same case with an identity 1×1 convolution in front of each image input, so the op meets
 * its input in NCHW (how it runs inside a conv net); null when it has no image input.
 */
export function afterConv(c: OpCase): OpCase | null {
  const images = c.ir.inputs.filter((i) => i.shape.length === 3);
  if (!images.length) return null;
  const consts = new Map(c.ir.consts);
  const shapes = new Map(c.ir.shapes);
  const pre: IrNode[] = images.map((inp) => {
    const ch = inp.shape[2];
    const eye = new Float32Array(ch * ch);
    for (let i = 0; i < ch; i++) eye[i * ch + i] = 1;
    consts.set(`${inp.name}__eye`, { shape: [1, 1, ch, ch], data: eye });
    shapes.set(`${inp.name}__nchw`, inp.shape);
    return { op: 'Conv2D', name: `${inp.name}__nchw`, layer: 'pre', inputs: [inp.name, `${inp.name}__eye`], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] } as IrNode;
  });
  const rename = new Map(images.map((i) => [i.name, `${i.name}__nchw`]));
  const nodes = c.ir.nodes.map((n) => ({ ...n, inputs: n.inputs.map((i) => rename.get(i) ?? i) }));
  return { name: `${c.name} (NCHW)`, inputs: c.inputs, ir: { ...c.ir, nodes: [...pre, ...nodes], consts, shapes } };
}
