import type { IrGraph } from '../../../ir/ir.js';
import { canBeNchw, invertPerm, layoutShape, onnxAxis, type Layout, type Val } from '../layout.js';
import type { NetEmitter } from '../net.js';
import { normAxis, valueInput, type NodeOf, type Rules } from './common.js';

/*
 * Data movement. Reshape and Transpose work in the IR layout; Concat, Pad, Slice and Tile run in
 * whatever layout their input has, with per-axis parameters remapped. Gradients: reshape back,
 * inverse permutation, split, crop (and fold reflected borders back), zero-fill, sum of tiles.
 */

type Shape = 'Reshape' | 'Transpose' | 'Concat' | 'Pad' | 'Slice' | 'Tile';

/** A per-axis list (non-batch, IR order) in the ONNX axis order of a layout. */
function perAxis<T>(list: T[], layout: Layout): T[] {
  return layout === 'nchw' ? [list[2], list[0], list[1]] : list;
}

/** Slice along one ONNX axis (step may be negative). */
function slice(net: NetEmitter, x: string, axis: number, start: number, end: number, step = 1): string {
  return net.b.op1('Slice', [x, net.b.i64([start]), net.b.i64([end]), net.b.i64([axis]), net.b.i64([step])]);
}

/** Zero-pad along one ONNX axis of a tensor of rank `rank`. */
function pad1(net: NetEmitter, x: string, rank: number, axis: number, before: number, after: number): string {
  if (before === 0 && after === 0) return x;
  const pads = new Array<number>(2 * rank).fill(0);
  pads[axis] = before;
  pads[rank + axis] = after;
  return net.b.op1('Pad', [x, net.b.i64(pads)], { mode: 'constant' });
}

/** x[start..start+len) reversed along an ONNX axis. */
function reversed(net: NetEmitter, x: string, axis: number, start: number, len: number): string {
  return slice(net, x, axis, start + len - 1, start - 1 < 0 ? -(2 ** 62) : start - 1, -1);
}

/** Symmetric padding (edge repeated) along one axis, by concatenating reversed borders. */
function symmetricPad(net: NetEmitter, x: string, axis: number, n: number, before: number, after: number): string {
  const parts = [];
  if (before) parts.push(reversed(net, x, axis, 0, before));
  parts.push(x);
  if (after) parts.push(reversed(net, x, axis, n - after, after));
  return parts.length === 1 ? x : net.b.op1('Concat', parts, { axis });
}

/** Gradient of a reflect/symmetric pad along one axis: the core plus each border folded back. */
function foldBorders(net: NetEmitter, g: string, rank: number, axis: number, n: number, before: number, after: number, reflect: boolean): string {
  const off = reflect ? 1 : 0;
  const terms = [slice(net, g, axis, before, before + n)];
  if (before) terms.push(pad1(net, reversed(net, g, axis, 0, before), rank, axis, off, n - before - off));
  if (after) terms.push(pad1(net, reversed(net, g, axis, before + n, after), rank, axis, n - after - off, off));
  return net.b.sum(terms);
}

function checkPad(node: NodeOf<'Pad'>, ir: IrGraph): string | null {
  if (node.mode === 'constant') return null;
  const shape = ir.shapes.get(node.inputs[0])!;
  const limit = node.mode === 'reflect' ? 1 : 0;
  for (let i = 0; i < shape.length; i++) {
    const [b, a] = node.pads[i] ?? [0, 0];
    if (b > shape[i] - limit || a > shape[i] - limit) return `no gradient rule for Pad "${node.name}" (${node.mode} padding wider than the tensor)`;
  }
  return null;
}

/** The layout Concat runs in: NCHW when an input already is and every input can be. */
function concatLayout(net: NetEmitter, node: NodeOf<'Concat'>): Layout {
  const vals = node.inputs.filter((i) => !net.isConst(i)).map((i) => net.val(i));
  const shape = net.ir.shapes.get(node.name)!;
  if (!canBeNchw(shape) || !vals.some((v) => v.layout === 'nchw')) return 'ir';
  return node.inputs.every((i) => !net.isConst(i) || net.constFor(i, 3, 'nchw') !== null) ? 'nchw' : 'ir';
}

/** The rules of the data-movement ops. */
export const SHAPE_RULES: Rules<Shape> = {
  Reshape: {
    forward(node, net) {
      const x = net.as(valueInput(net, node), 'ir');
      return { name: net.reshape(x.name, node.shape), shape: node.shape, layout: 'ir' };
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      return [{ name: net.reshape(net.as(dy, 'ir').name, x.shape), shape: x.shape, layout: 'ir' }];
    },
  },
  Transpose: {
    check: (node) => (node.perm[0] !== 0 ? `Transpose "${node.name}" moves the batch axis` : null),
    forward(node, net) {
      const x = net.as(valueInput(net, node), 'ir');
      return { name: net.b.op1('Transpose', [x.name], { perm: node.perm }), shape: net.ir.shapes.get(node.name)!, layout: 'ir' };
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      return [{ name: net.b.op1('Transpose', [net.as(dy, 'ir').name], { perm: invertPerm(node.perm) }), shape: x.shape, layout: 'ir' }];
    },
  },
  Concat: {
    check: (node) => (node.axis === 0 ? `Concat "${node.name}" along the batch axis` : null),
    forward(node, net) {
      const layout = concatLayout(net, node);
      const shape = net.ir.shapes.get(node.name)!;
      const anyValue = net.val(node.inputs.find((i) => !net.isConst(i))!);
      const parts = node.inputs.map((i) => (net.isConst(i) ? batchedConst(net, i, shape.length, layout, net.as(anyValue, layout).name) : net.as(net.val(i), layout).name));
      return { name: net.b.op1('Concat', parts, { axis: onnxAxis(normAxis(node.axis, shape.length), layout) }), shape, layout };
    },
    backward(node, net, dy) {
      const layout = concatLayout(net, node);
      const axis = normAxis(node.axis, net.ir.shapes.get(node.name)!.length);
      const sizes = node.inputs.map((i) => (net.isConst(i) ? net.constant(i).shape : net.val(i).shape)[axis - 1]);
      const parts = net.b.op('Split', [net.as(dy, layout).name, net.b.i64(sizes)], { axis: onnxAxis(axis, layout) }, node.inputs.length);
      return node.inputs.map((i, k) => (net.isConst(i) ? null : { name: parts[k], shape: net.val(i).shape, layout }));
    },
  },
  Pad: {
    check: checkPad,
    forward(node, net) {
      const x = valueInput(net, node);
      const dims = layoutShape(x.shape, x.layout);
      const pads = perAxis(node.pads, x.layout);
      const shape = net.ir.shapes.get(node.name)!;
      if (node.mode === 'symmetric') {
        let y = x.name;
        pads.forEach(([b, a], i) => (y = symmetricPad(net, y, i + 1, dims[i], b, a)));
        return { name: y, shape, layout: x.layout };
      }
      const onnx = [0, ...pads.map((p) => p[0]), 0, ...pads.map((p) => p[1])];
      const inputs = [x.name, net.b.i64(onnx)];
      if (node.mode === 'constant') inputs.push(net.b.scalar(node.value));
      return { name: net.b.op1('Pad', inputs, { mode: node.mode }), shape, layout: x.layout };
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const dims = layoutShape(x.shape, x.layout);
      const pads = perAxis(node.pads, x.layout);
      let g = net.as(dy, x.layout).name;
      if (node.mode === 'constant') {
        const axes = dims.map((_, i) => i + 1);
        g = net.b.op1('Slice', [g, net.b.i64(pads.map((p) => p[0])), net.b.i64(pads.map((p, i) => p[0] + dims[i])), net.b.i64(axes)]);
      } else {
        // Axis by axis; after an axis is folded back, the next sees the unpadded length along it.
        pads.forEach(([b, a], i) => {
          if (b || a) g = foldBorders(net, g, dims.length + 1, i + 1, dims[i], b, a, node.mode === 'reflect');
        });
      }
      return [{ name: g, shape: x.shape, layout: x.layout }];
    },
  },
  Slice: {
    check: (node) => (node.steps.some((s) => s < 1) ? `no gradient rule for Slice "${node.name}" with a negative step` : null),
    forward(node, net) {
      const x = valueInput(net, node);
      const axes = x.shape.map((_, i) => onnxAxis(i + 1, x.layout));
      const y = net.b.op1('Slice', [x.name, net.b.i64(node.begin), net.b.i64(node.end), net.b.i64(axes), net.b.i64(node.steps)]);
      return { name: y, shape: net.ir.shapes.get(node.name)!, layout: x.layout };
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const out = net.ir.shapes.get(node.name)!;
      let g = net.as(dy, x.layout).name;
      // Per IR axis: put zeros between strided picks, then zeros around the slice.
      const cur = layoutShape(out, x.layout);
      const rank = x.shape.length + 1;
      x.shape.forEach((n, i) => {
        const axis = onnxAxis(i + 1, x.layout);
        const step = node.steps[i] ?? 1;
        const m = out[i];
        const begin = Math.min(node.begin[i] ?? 0, n);
        let span = m;
        if (step > 1 && m > 0) {
          g = spread(net, g, cur, axis, step);
          span = (m - 1) * step + 1;
          cur[axis - 1] = span;
        }
        g = pad1(net, g, rank, axis, begin, n - begin - span);
        cur[axis - 1] = n;
      });
      return [{ name: g, shape: x.shape, layout: x.layout }];
    },
  },
  Tile: {
    forward(node, net) {
      const x = valueInput(net, node);
      const y = net.b.op1('Tile', [x.name, net.b.i64([1, ...perAxis(node.reps, x.layout)])]);
      return { name: y, shape: net.ir.shapes.get(node.name)!, layout: x.layout };
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const dims = layoutShape(x.shape, x.layout);
      const reps = perAxis(node.reps, x.layout);
      const split = dims.flatMap((d, i) => [reps[i], d]);
      const r = net.b.op1('Reshape', [net.as(dy, x.layout).name, net.b.i64([-1, ...split])]);
      const g = net.b.op1('ReduceSum', [r, net.b.i64(dims.map((_, i) => 1 + 2 * i))], { keepdims: 0 });
      return [{ name: g, shape: x.shape, layout: x.layout }];
    },
  },
};

/** Insert step − 1 zeros after each element along an ONNX axis (dims: per-example dims in the tensor's layout, updated by the caller). */
function spread(net: NetEmitter, g: string, dims: number[], axis: number, step: number): string {
  const m = dims[axis - 1];
  const withSlot = [...dims.slice(0, axis), 1, ...dims.slice(axis)];
  let t = net.b.op1('Reshape', [g, net.b.i64([-1, ...withSlot])]);
  t = pad1(net, t, withSlot.length + 1, axis + 1, 0, step - 1);
  const merged = dims.slice();
  merged[axis - 1] = m * step;
  t = net.b.op1('Reshape', [t, net.b.i64([-1, ...merged])]);
  return slice(net, t, axis, 0, (m - 1) * step + 1);
}

/** A constant concatenated with batched values: broadcast over the batch of `like`. */
function batchedConst(net: NetEmitter, name: string, rank: number, layout: Layout, like: string): string {
  const c = net.constant(name);
  const dims = layout === 'nchw' ? [c.shape[2], c.shape[0], c.shape[1]] : c.shape;
  const data = net.constFor(name, rank, layout)!;
  const full = net.b.op1('Reshape', [data, net.b.i64([1, ...dims])]);
  const batch = net.b.op1('Slice', [net.b.op1('Shape', [like]), net.b.i64([0]), net.b.i64([1])]);
  const shape = net.b.op1('Concat', [batch, net.b.i64(dims.map(() => 1))], { axis: 0 });
  return net.b.op1('Expand', [full, shape]);
}
