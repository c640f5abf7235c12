/**
 * The IR on TF.js: one tfjs op (or a few) per node, batch on axis 0, differentiable with
 * `tf.grad`. Kernels are chosen so that input gradients run on WASM's own kernels
 * (tfjs-kernels.ts). Constants are uploaded once and kept until {@link IrProgram.dispose}.
 */
import * as tf from '@tensorflow/tfjs';
import type { IrGraph, IrNode } from './ir.js';
import { avgPool, conv, convBackFilter, depthwiseBackFilter, depthwiseConv, explicitPads, maxPool } from './tfjs-kernels.js';
import { mirrorPad, resize, stepSlice, thresholded } from './tfjs-movement.js';

type T = tf.Tensor;
type T4 = tf.Tensor4D;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Softmax along any axis (TF.js's own only takes the last one). */
function softmax(x: T, axis: number, log: boolean): T {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a === x.rank - 1) return log ? tf.logSoftmax(x) : tf.softmax(x);
  const z = x.sub(x.max(a, true));
  return log ? z.sub(z.exp().sum(a, true).log()) : z.exp().div(z.exp().sum(a, true));
}

function unary(node: IrNode, x: T): T | null {
  switch (node.op) {
    case 'Identity': return x;
    case 'Relu': return tf.relu(x);
    case 'Relu6': return tf.relu6(x);
    case 'LeakyRelu': return tf.leakyRelu(x, node.alpha);
    case 'Elu': return (node.alpha ?? 1) === 1 ? tf.elu(x) : tf.relu(x).add(tf.minimum(x, 0).exp().sub(1).mul(node.alpha!));
    case 'Selu': return tf.selu(x);
    case 'Sigmoid': return tf.sigmoid(x);
    case 'HardSigmoid': return x.mul(node.alpha).add(node.beta).clipByValue(0, 1);
    case 'Tanh': return tf.tanh(x);
    case 'Softplus': return tf.softplus(x);
    case 'Softsign': return x.div(x.abs().add(1));
    case 'Swish': return x.mul(tf.sigmoid(x));
    case 'Mish': return x.mul(tf.tanh(tf.softplus(x)));
    case 'HardSwish': return x.mul(tf.relu6(x.add(3)).div(6));
    case 'Gelu':
      return node.approximate
        ? x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(SQRT_2_OVER_PI)).add(1))
        : x.mul(0.5).mul(tf.erf(x.div(Math.SQRT2)).add(1));
    case 'ThresholdedRelu': return thresholded(x, node.theta);
    case 'Exp': return tf.exp(x);
    case 'Log': return tf.log(x);
    case 'Sqrt': return tf.sqrt(x);
    case 'Rsqrt': return tf.rsqrt(x);
    case 'Square': return tf.square(x);
    case 'Neg': return tf.neg(x);
    case 'Abs': return tf.abs(x);
    case 'Reciprocal': return tf.reciprocal(x);
    case 'Clip': return x.clipByValue(node.min, node.max);
    default: return null;
  }
}

function binary(node: IrNode, a: T, b: T): T | null {
  switch (node.op) {
    case 'Add': return tf.add(a, b);
    case 'Sub': return tf.sub(a, b);
    case 'Mul': return tf.mul(a, b);
    case 'Div': return tf.div(a, b);
    case 'Maximum': return tf.maximum(a, b);
    case 'Minimum': return tf.minimum(a, b);
    case 'SquaredDifference': return tf.squaredDifference(a, b);
    case 'Pow': return tf.pow(a, b);
    case 'Prelu': return tf.prelu(a, b);
    default: return null;
  }
}

/**
 * An IR ready to run on TF.js.
 *
 * @example
 * const prog = new IrProgram(model.ir!);
 * const x = tf.tensor2d([image]); // one 784-value Fashion-MNIST image
 * const [logits] = tf.tidy(() => prog.run([x], [model.ir!.layers.at(-1)!.pre]));
 * logits.shape // [1, 10]
 * tf.dispose([x, logits]); prog.dispose();
 */
export class IrProgram {
  private readonly constTensors = new Map<string, T>();
  /** Backward filters of convolutions (flipped constants), made once. */
  private readonly backFilters = new Map<string, T4>();
  private readonly plans = new Map<string, IrNode[]>();

  constructor(readonly ir: IrGraph) {}

  /** Nodes needed for `want`, in order. */
  private plan(want: string[]): IrNode[] {
    const key = want.join('\u0000');
    let p = this.plans.get(key);
    if (!p) {
      const needed = new Set(want);
      const nodes = this.ir.nodes;
      const keep: boolean[] = new Array(nodes.length).fill(false);
      for (let i = nodes.length - 1; i >= 0; i--) {
        if (!needed.has(nodes[i].name)) continue;
        keep[i] = true;
        for (const inp of nodes[i].inputs) needed.add(inp);
      }
      p = nodes.filter((_, i) => keep[i]);
      this.plans.set(key, p);
    }
    return p;
  }

  private constant(name: string): T {
    let t = this.constTensors.get(name);
    if (!t) {
      const c = this.ir.consts.get(name)!;
      t = tf.keep(tf.tensor(c.data, c.shape, 'float32'));
      this.constTensors.set(name, t);
    }
    return t;
  }

  private backFilter(name: string, make: (w: T4) => T4): T4 {
    let t = this.backFilters.get(name);
    if (!t) {
      const w = this.constant(name) as T4;
      t = tf.keep(tf.tidy(() => make(w)));
      this.backFilters.set(name, t);
    }
    return t;
  }

  /**
   * Compute the values `want` (node or input names) for batch-first inputs in `ir.inputs` order.
   * Call inside `tf.tidy` or `tf.grad`; the results belong to the caller's scope.
   */
  run(inputs: T[], want: string[]): T[] {
    const values = new Map<string, T>();
    this.ir.inputs.forEach((inp, i) => values.set(inp.name, inputs[i]));
    const rows = inputs[0]?.shape[0] ?? 1;
    for (const node of this.plan(want)) values.set(node.name, this.evalNode(node, values, rows));
    return want.map((w) => {
      const v = values.get(w);
      if (!v) throw new Error(`IR value "${w}" was not computed`);
      return v;
    });
  }

  /** Operand k of a node: a value (batched) or a constant (no batch). */
  private arg(node: IrNode, k: number, values: Map<string, T>): T {
    const name = node.inputs[k];
    return values.get(name) ?? this.constant(name);
  }

  /** A batched value of lower per-example rank gets leading 1s after the batch, so it broadcasts like numpy. */
  private aligned(node: IrNode, k: number, values: Map<string, T>): T {
    const t = this.arg(node, k, values);
    const name = node.inputs[k];
    if (this.ir.consts.has(name)) return t;
    const rank = this.ir.shapes.get(node.name)!.length;
    const own = this.ir.shapes.get(name)!;
    return own.length < rank ? t.reshape([t.shape[0], ...new Array(rank - own.length).fill(1), ...own]) : t;
  }

  private evalNode(node: IrNode, values: Map<string, T>, rows: number): T {
    const x = () => this.arg(node, 0, values);
    const u = node.inputs.length === 1 ? unary(node, x()) : null;
    if (u) return u;
    if (node.inputs.length === 2) {
      const bin = binary(node, this.aligned(node, 0, values), this.aligned(node, 1, values));
      if (bin) return bin;
    }
    const outShape = this.ir.shapes.get(node.name)!;
    const bias = (y: T, k: number) => (node.inputs.length > k ? y.add(this.arg(node, k, values)) : y);
    switch (node.op) {
      case 'MatMul': {
        const a = x(), w = this.arg(node, 1, values);
        const wConst = this.ir.consts.has(node.inputs[1]);
        if (wConst && w.rank === 2) {
          const k = a.shape[a.rank - 1];
          const flat = a.rank === 2 ? a : a.reshape([-1, k]);
          const y = tf.matMul(flat, w, false, !!node.transposeB);
          return bias(a.rank === 2 ? y : y.reshape([rows, ...outShape]), 2);
        }
        const wb = wConst ? w.expandDims(0).tile([rows, ...w.shape.map(() => 1)]) : w;
        return bias(tf.matMul(a, wb, false, !!node.transposeB), 2);
      }
      case 'Conv2D': {
        const w = this.arg(node, 1, values) as T4;
        const groups = node.groups ?? 1;
        const one = (xi: T4, wi: T4, back?: T4) => conv(xi, wi, node.strides, node.dilations, node.pads, back);
        if (groups === 1) return bias(one(x() as T4, w, this.backFilter(node.inputs[1], convBackFilter)), 2);
        const xs = tf.split(x(), groups, 3), ws = tf.split(w, groups, 3);
        return bias(tf.concat(xs.map((xi, g) => one(xi as T4, ws[g] as T4)), 3), 2);
      }
      case 'DepthwiseConv2D':
        return bias(depthwiseConv(x() as T4, this.arg(node, 1, values) as T4, node.strides, node.dilations, node.pads, this.backFilter(node.inputs[1], depthwiseBackFilter)), 2);
      case 'Conv2DTranspose': {
        const w = this.arg(node, 1, values) as T4;
        return bias(tf.conv2dTranspose(x() as T4, w, [rows, node.outputSize[0], node.outputSize[1], w.shape[2]], node.strides, explicitPads(node.pads)), 2);
      }
      case 'MaxPool': return maxPool(x() as T4, node.ksize, node.strides, node.pads);
      case 'AvgPool': return avgPool(x() as T4, node.ksize, node.strides, node.pads);
      case 'Resize': return resize(x() as T4, node.size, node.method, node.alignCorners, node.halfPixelCenters);
      case 'Mean': return tf.mean(x(), node.axes, node.keepDims);
      case 'Sum': return tf.sum(x(), node.axes, node.keepDims);
      case 'Max': return tf.max(x(), node.axes, node.keepDims);
      case 'Min': return tf.min(x(), node.axes, node.keepDims);
      case 'Softmax': return softmax(x(), node.axis, false);
      case 'LogSoftmax': return softmax(x(), node.axis, true);
      case 'Reshape': return x().reshape([rows, ...node.shape]);
      case 'Transpose': return tf.transpose(x(), node.perm);
      case 'Concat': {
        const parts = node.inputs.map((name, k) => {
          const t = this.arg(node, k, values);
          return this.ir.consts.has(name) ? t.expandDims(0).tile([rows, ...t.shape.map(() => 1)]) : t;
        });
        const axis = node.axis < 0 ? node.axis + outShape.length + 1 : node.axis;
        return tf.concat(parts, axis);
      }
      case 'Pad': {
        const pads: Array<[number, number]> = [[0, 0], ...node.pads];
        return node.mode === 'constant' ? tf.pad(x(), pads, node.value) : mirrorPad(x(), node.pads, node.mode);
      }
      case 'Slice': {
        const v = x();
        const inShape = v.shape.slice(1);
        const begin = node.begin.map((b, i) => Math.max(0, Math.min(inShape[i], b)));
        if (node.steps.every((s) => s === 1)) return tf.slice(v, [0, ...begin], [rows, ...outShape]);
        const end = node.end.map((e, i) => Math.max(begin[i], Math.min(inShape[i], e)));
        return stepSlice(v, begin, end, node.steps);
      }
      case 'Tile': return tf.tile(x(), [1, ...node.reps]);
      default:
        throw new Error(`IR op ${node.op} (node "${node.name}") has no TF.js implementation`);
    }
  }

  /** Free the uploaded constants. */
  dispose(): void {
    for (const t of [...this.constTensors.values(), ...this.backFilters.values()]) t.dispose();
    this.constTensors.clear();
    this.backFilters.clear();
  }
}
