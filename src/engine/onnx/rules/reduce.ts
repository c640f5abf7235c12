import type { IrNode } from '../../../ir/ir.js';
import { onnxAxis, type Layout, type Val } from '../layout.js';
import type { NetEmitter } from '../net.js';
import { axesIn, like, mask, normAxis, prod, valueInput, type Rule, type Rules } from './common.js';

/*
 * Reductions over non-batch axes and the softmax family. A reduction runs in its input's layout
 * when the axes it keeps come out in the IR's order; otherwise the input goes back to the IR
 * layout first. Max (Min) sends dy to every element equal to the maximum (minimum): TF's rule for ties.
 */

type Reduce = 'Mean' | 'Sum' | 'Max' | 'Min' | 'Softmax' | 'LogSoftmax';

/** The layout a reduction runs in: its input's, unless dropping axes would reorder the rest. */
function reduceLayout(x: Val, axes: number[], keepDims: boolean): Layout {
  if (x.layout === 'ir' || keepDims) return x.layout;
  const kept = [1, 2, 3].filter((a) => !axes.includes(a));
  const order = kept.map((a) => onnxAxis(a, 'nchw'));
  return order.every((v, i) => i === 0 || v > order[i - 1]) ? 'nchw' : 'ir';
}

/** The shape of the reduced value with keepDims, in IR order. */
function keptShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i + 1) ? 1 : d));
}

/** The node's axes, negative ones counted from the end, sorted. */
function axesOf(node: IrNode & { axes: number[] }, rank: number): number[] {
  return node.axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
}

function reduceRule(onnxOp: string, axesAsInput: boolean): Rule<'Mean' | 'Sum' | 'Max' | 'Min'> {
  const emit = (net: NetEmitter, x: string, axes: number[], keepdims: number) =>
    axesAsInput ? net.b.op1(onnxOp, [x, net.b.i64(axes)], { keepdims }) : net.b.op1(onnxOp, [x], { axes, keepdims });
  return {
    check: (node, ir) => (axesOf(node, ir.shapes.get(node.inputs[0])?.length ?? 0).some((a) => a < 1) ? `${node.op} "${node.name}" over the batch axis` : null),
    forward(node0, net) {
      const x0 = valueInput(net, node0);
      const node = { ...node0, axes: axesOf(node0, x0.shape.length) };
      const layout = reduceLayout(x0, node.axes, node.keepDims);
      const x = net.as(x0, layout);
      const shape = net.ir.shapes.get(node.name)!;
      if (!node.axes.length) return like(x, net.b.op1('Identity', [x.name]));
      const y = emit(net, x.name, axesIn(node.axes, layout), node.keepDims ? 1 : 0);
      return { name: y, shape, layout: node.keepDims ? layout : 'ir' };
    },
    backward(node0, net, dy) {
      const x0 = valueInput(net, node0);
      const node = { ...node0, axes: axesOf(node0, x0.shape.length) };
      const layout = reduceLayout(x0, node.axes, node.keepDims);
      const x = net.as(x0, layout);
      if (!node.axes.length) return [like(x, net.as(dy, x.layout).name)];
      const kept = keptShape(x.shape, node.axes);
      const toKept = (v: Val) => (node.keepDims ? net.as(v, layout).name : net.b.op1('Reshape', [v.name, net.b.i64([-1, ...keptIn(kept, layout)])]));
      const g = toKept(dy);
      let dx: string;
      if (node.op === 'Max' || node.op === 'Min') {
        const y = toKept(net.val(node0.name));
        dx = net.b.op1('Mul', [g, mask(net, net.b.op1('Equal', [x.name, y]))]);
      } else {
        const scaled = node.op === 'Mean' ? net.b.op1('Mul', [g, net.b.scalar(1 / prod(node.axes.map((a) => x.shape[a - 1])))]) : g;
        dx = net.b.op1('Expand', [scaled, net.b.op1('Shape', [x.name])]);
      }
      return [like(x, dx)];
    },
  };
}

/** Per-example dims of a keepDims shape in a layout. */
function keptIn(kept: number[], layout: Layout): number[] {
  return layout === 'nchw' ? [kept[2], kept[0], kept[1]] : kept;
}

function softmaxRule(log: boolean): Rule<'Softmax' | 'LogSoftmax'> {
  const axisOf = (node: IrNode & { axis: number }, x: Val) => onnxAxis(node.axis < 0 ? x.shape.length + 1 + node.axis : node.axis, x.layout);
  return {
    check: (node) => (node.axis === 0 ? `${node.op} "${node.name}" over the batch axis` : null),
    forward(node, net) {
      const x = valueInput(net, node);
      return like(x, net.b.op1(log ? 'LogSoftmax' : 'Softmax', [x.name], { axis: axisOf(node, x) }));
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const y = net.as(net.val(node.name), x.layout).name;
      const g = net.as(dy, x.layout).name;
      const axes = net.b.i64([axisOf(node, x)]);
      if (log) {
        const s = net.b.op1('ReduceSum', [g, axes], { keepdims: 1 });
        return [like(x, net.b.op1('Sub', [g, net.b.op1('Mul', [net.b.op1('Exp', [y]), s])]))];
      }
      const s = net.b.op1('ReduceSum', [net.b.op1('Mul', [g, y]), axes], { keepdims: 1 });
      return [like(x, net.b.op1('Mul', [y, net.b.op1('Sub', [g, s])]))];
    },
  };
}

/** The rules of the reductions and softmax ops. */
export const REDUCE_RULES: Rules<Reduce> = {
  Mean: reduceRule('ReduceMean', false),
  Sum: reduceRule('ReduceSum', true),
  Max: reduceRule('ReduceMax', false),
  Min: reduceRule('ReduceMin', false),
  Softmax: softmaxRule(false),
  LogSoftmax: softmaxRule(true),
};
