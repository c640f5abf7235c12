import type { Pads2D } from '../../../ir/ir.js';
import type { NetEmitter } from '../net.js';
import { mask, valueInput, type NodeOf, type Rules } from './common.js';
import { onnxPads } from './linear.js';
import { resizeMatrix } from './resize-matrix.js';

/*
 * Window ops. MaxPool: padded positions never win (ONNX MaxPool ignores its padding); the
 * gradient goes to each window's arg-max (MaxPool's Indices): MaxUnpool for disjoint windows,
 * a scatter-add when windows overlap or are padded (one input can win several windows).
 * AvgPool divides by the unpadded count (TF's rule); its gradient spreads dy/count back with a
 * ConvTranspose of ones. Resize is linear: out = R_h · x · R_wᵀ with TF's sampling rule written
 * into the matrices, and the gradient uses their transposes.
 */

type Window = 'MaxPool' | 'AvgPool' | 'Resize';

/** Per spatial axis: input rows a window op never reads at the end (ConvTranspose adds them back). */
function leftover(x: number[], y: number[], k: [number, number], s: [number, number], p: Pads2D): number[] {
  return [0, 1].map((i) => x[i] - ((y[i] - 1) * s[i] + k[i] - p[2 * i] - p[2 * i + 1]));
}

const disjoint = (n: NodeOf<'MaxPool'>) => n.strides[0] >= n.ksize[0] && n.strides[1] >= n.ksize[1] && n.pads.every((p) => p === 0);

/** Per output position 1 / (number of unpadded inputs in its window), or null when every window is whole. */
function inverseCounts(n: NodeOf<'AvgPool'>, x: number[], y: number[]): Float32Array | null {
  const out = new Float32Array(y[0] * y[1]);
  let partial = false;
  const span = (o: number, i: 0 | 1) => {
    const start = o * n.strides[i] - n.pads[2 * i];
    return Math.min(start + n.ksize[i], x[i]) - Math.max(start, 0);
  };
  for (let a = 0; a < y[0]; a++) for (let b = 0; b < y[1]; b++) {
    const count = span(a, 0) * span(b, 1);
    partial ||= count !== n.ksize[0] * n.ksize[1];
    out[a * y[1] + b] = 1 / count;
  }
  return partial ? out : null;
}

/** The rules of the window ops. */
export const WINDOW_RULES: Rules<Window> = {
  MaxPool: {
    forward(node, net) {
      const x = net.as(valueInput(net, node), 'nchw');
      const [y, idx] = net.b.op('MaxPool', [x.name], { kernel_shape: node.ksize, strides: node.strides, pads: onnxPads(node.pads) }, 2);
      net.extras.set(`${y}#indices`, idx);
      return net.settle({ name: y, shape: net.ir.shapes.get(node.name)!, layout: 'nchw' });
    },
    backward(node, net, dy) {
      const x = net.as(valueInput(net, node), 'nchw');
      const yv = net.as(net.val(node.name), 'nchw');
      const idx = net.extras.get(`${yv.name}#indices`);
      if (!idx) throw new Error(`MaxPool "${node.name}": its indices were not emitted`);
      // After a ReLU, the ReLU's mask at the window's winner is y > 0: applied here, on the
      // pooled gradient, it costs a fraction of the ReLU's full-size mask, which is then skipped.
      const afterRelu = net.producer(node.inputs[0])?.op === 'Relu';
      let g = net.as(dy, 'nchw').name;
      if (afterRelu) g = net.b.op1('Mul', [g, mask(net, net.b.op1('Greater', [yv.name, net.b.scalar(0)]))]);
      const shape = net.b.op1('Shape', [x.name]);
      let dx: string;
      if (disjoint(node)) {
        dx = net.b.op1('MaxUnpool', [g, idx, shape], { kernel_shape: node.ksize, strides: node.strides });
      } else {
        const flat = net.b.i64([-1]);
        const count = net.b.op1('Reshape', [net.b.op1('Size', [x.name]), flat]);
        const zeros = net.b.op1('ConstantOfShape', [count]);
        const sum = net.b.op1('ScatterElements', [zeros, net.b.op1('Reshape', [idx, flat]), net.b.op1('Reshape', [g, flat])], { axis: 0, reduction: 'add' });
        dx = net.b.op1('Reshape', [sum, shape]);
      }
      if (afterRelu) net.vanishAtZero.add(dx);
      return [{ name: dx, shape: x.shape, layout: 'nchw' }];
    },
  },
  AvgPool: {
    forward(node, net) {
      const x = net.as(valueInput(net, node), 'nchw');
      const y = net.b.op1('AveragePool', [x.name], { kernel_shape: node.ksize, strides: node.strides, pads: onnxPads(node.pads), count_include_pad: 0 });
      return net.settle({ name: y, shape: net.ir.shapes.get(node.name)!, layout: 'nchw' });
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const y = net.ir.shapes.get(node.name)!;
      const c = x.shape[2];
      const inv = inverseCounts(node, x.shape, y);
      const scale = net.memo(`${node.name}#invCount`, () => (inv ? net.b.f32('invCount', inv, [y[0], y[1]]) : net.b.scalar(1 / (node.ksize[0] * node.ksize[1]))));
      const ones = net.memo(`${node.name}#ones`, () => net.b.f32('ones', new Float32Array(c * node.ksize[0] * node.ksize[1]).fill(1), [c, 1, node.ksize[0], node.ksize[1]]));
      const g = net.b.op1('Mul', [net.as(dy, 'nchw').name, scale]);
      const dx = net.b.op1('ConvTranspose', [g, ones], {
        kernel_shape: node.ksize,
        strides: node.strides,
        pads: onnxPads(node.pads),
        group: c,
        output_padding: leftover(x.shape, y, node.ksize, node.strides, node.pads),
      });
      return [{ name: dx, shape: x.shape, layout: 'nchw' }];
    },
  },
  Resize: {
    forward(node, net) {
      const x = net.as(valueInput(net, node), 'nchw');
      const { rh, rw } = matrices(node, net, x.shape, false);
      let y = x.name;
      if (rw) y = net.b.op1('MatMul', [y, rw]);
      if (rh) y = net.b.op1('MatMul', [rh, y]);
      return net.settle({ name: y, shape: net.ir.shapes.get(node.name)!, layout: 'nchw' });
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const { rh, rw } = matrices(node, net, x.shape, true);
      let g = net.as(dy, 'nchw').name;
      if (rh) g = net.b.op1('MatMul', [rh, g]);
      if (rw) g = net.b.op1('MatMul', [g, rw]);
      return [{ name: g, shape: x.shape, layout: 'nchw' }];
    },
  },
};

/**
 * R_h [H′, H] (left factor) and R_wᵀ [W, W′] (right factor) of a Resize, or their transposes for
 * the backward pass; null for an axis that does not change.
 */
function matrices(node: NodeOf<'Resize'>, net: NetEmitter, x: number[], backward: boolean): { rh: string | null; rw: string | null } {
  const make = (axis: 0 | 1, left: boolean) => {
    const n = x[axis], m = node.size[axis];
    const r = resizeMatrix(n, m, node.method, node.alignCorners, node.halfPixelCenters);
    if (!r) return null;
    // r is [m, n]. Forward: left factor r, right factor rᵀ. Backward: left rᵀ, right r.
    const transpose = left === backward;
    return net.memo(`${node.name}#R${axis}${transpose ? 'T' : ''}`, () => {
      if (!transpose) return net.b.f32('resize', r, [m, n]);
      const t = new Float32Array(r.length);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = r[i * n + j];
      return net.b.f32('resizeT', t, [n, m]);
    });
  };
  return { rh: make(0, true), rw: make(1, false) };
}
