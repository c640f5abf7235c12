/**
 * Input gradients of the IR interpreter (WASM backend, the engines' default) against central
 * finite differences, for every op kind the importers emit. TF.js computes in float32, so the
 * check is along 3 random directions v: |∇f·v − (f(x+εv) − f(x−εv))/2ε| ≤ 1e-3·max(1, |∇f·v|)
 * with ε = 1e-2, on inputs whose values stay ≥ 2ε from every kink and tie of the op under test.
 * Also: the interpreter frees every tensor it makes.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { IrBuilder } from './builder.js';
import type { IrOp } from './ir.js';
import { IrProgram } from './tfjs-exec.js';
import { mirrorPad, resize, stepSlice } from './tfjs-movement.js';
import { maxPool } from './tfjs-kernels.js';

const EPS = 1e-2;
const SHAPE = [4, 5, 3];
const ROWS = 2;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
/** Distinct values k·0.05 + 0.025 (never within 0.025 of 0 or of each other), shuffled, times `scale`. */
function input(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const r = lcg(seed);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05 + 0.025);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return Float32Array.from(v, (x) => x * scale + shift);
}
const consts = (shape: number[], seed: number, lo = -1, hi = 1) => {
  const r = lcg(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r());
};

interface OpCase {
  title: string;
  /** Build the graph on input x [4, 5, 3]; returns the output value. */
  build(b: IrBuilder, x: string): string;
  scale?: number;
  shift?: number;
}

const unary = (op: IrOp, scale = 1, shift = 0): OpCase => ({ title: JSON.stringify(op), build: (b, x) => b.node(op, [x], 't'), scale, shift });
const withConst = (op: IrOp, shape: number[], lo = -1, hi = 1, scale = 1, shift = 0): OpCase => ({
  title: `${JSON.stringify(op)} with a constant [${shape}]`,
  build: (b, x) => b.node(op, [x, b.constant('k', shape, consts(shape, 3, lo, hi))], 't'),
  scale,
  shift,
});
const win = (op: IrOp, title = JSON.stringify(op)): OpCase => ({ title, build: (b, x) => b.node(op, [x, b.constant('w', kernelShape(op), consts(kernelShape(op), 5))], 't') });
function kernelShape(op: IrOp): number[] {
  if (op.op === 'Conv2D') return [3, 3, 3 / (op.groups ?? 1), 4];
  if (op.op === 'DepthwiseConv2D') return [3, 2, 3, 2];
  return [3, 3, 2, 3]; // Conv2DTranspose: [kh, kw, cout, cin]
}

const cases: OpCase[] = [
  ...(['Identity', 'Relu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'Softsign', 'Swish', 'Mish', 'Exp', 'Square', 'Neg', 'Abs'] as const).map((op) => unary({ op } as IrOp, 2)),
  unary({ op: 'Relu6' }, 5), unary({ op: 'LeakyRelu', alpha: 0.2 }), unary({ op: 'Elu' }, 2), unary({ op: 'Elu', alpha: 0.5 }, 2),
  unary({ op: 'HardSigmoid', alpha: 0.2, beta: 0.5 }, 5), unary({ op: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 }, 5), unary({ op: 'HardSwish' }, 5),
  unary({ op: 'Gelu', approximate: false }, 2), unary({ op: 'Gelu', approximate: true }, 2), unary({ op: 'ThresholdedRelu', theta: 0.3 }),
  unary({ op: 'Log' }, 0.4, 2), unary({ op: 'Sqrt' }, 0.4, 2), unary({ op: 'Rsqrt' }, 0.4, 2), unary({ op: 'Reciprocal' }, 0.4, 2), unary({ op: 'Clip', min: -0.5, max: 0.7 }),
  withConst({ op: 'Add' }, [3]), withConst({ op: 'Sub' }, [5, 1]), withConst({ op: 'Mul' }, [4, 5, 3]), withConst({ op: 'Div' }, [3], 0.5, 2),
  withConst({ op: 'Maximum' }, [], 0.0125, 0.0125), withConst({ op: 'Minimum' }, [], 0.0125, 0.0125), withConst({ op: 'SquaredDifference' }, [3]),
  withConst({ op: 'Pow' }, [], 2.5, 2.5, 0.4, 2), withConst({ op: 'Prelu' }, [3], 0.1, 0.3),
  { title: 'Sub(constant, x)', build: (b, x) => b.node({ op: 'Sub' }, [b.constant('k', [3], consts([3], 4)), x], 't') },
  { title: 'Mul of two values of different rank (broadcast behind the batch)', build: (b, x) => b.node({ op: 'Mul' }, [x, b.node({ op: 'Mean', axes: [1, 2], keepDims: false }, [x], 'm')], 't') },
  { title: 'MatMul with a constant matrix and bias (rank-3 input)', build: (b, x) => b.node({ op: 'MatMul' }, [x, b.constant('w', [3, 6], consts([3, 6], 6)), b.constant('b', [6], consts([6], 7))], 't') },
  { title: 'MatMul transposeB', build: (b, x) => b.node({ op: 'MatMul', transposeB: true }, [x, b.constant('w', [6, 3], consts([6, 3], 8))], 't') },
  { title: 'MatMul of two values', build: (b, x) => b.node({ op: 'MatMul' }, [b.node({ op: 'Reshape', shape: [4, 15] }, [x], 'r'), b.node({ op: 'Reshape', shape: [15, 4] }, [x], 'r2')], 't') },
  win({ op: 'Conv2D', strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] }),
  win({ op: 'Conv2D', strides: [2, 2], dilations: [1, 1], pads: [0, 1, 1, 0] }),
  win({ op: 'Conv2D', strides: [1, 1], dilations: [2, 2], pads: [2, 2, 2, 2] }),
  { title: 'Conv2D groups 3 with bias', build: (b, x) => b.node({ op: 'Conv2D', strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], groups: 3 }, [x, b.constant('w', [3, 3, 1, 6], consts([3, 3, 1, 6], 9)), b.constant('b', [6], consts([6], 10))], 't') },
  win({ op: 'DepthwiseConv2D', strides: [1, 1], dilations: [1, 1], pads: [1, 1, 0, 1] }),
  win({ op: 'DepthwiseConv2D', strides: [2, 2], dilations: [1, 1], pads: [0, 1, 1, 0] }),
  win({ op: 'DepthwiseConv2D', strides: [1, 1], dilations: [2, 2], pads: [2, 2, 1, 1] }),
  win({ op: 'DepthwiseConv2D', strides: [2, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }),
  win({ op: 'Conv2DTranspose', strides: [2, 2], pads: [1, 1, 1, 1], outputSize: [7, 9] }),
  ...([[[2, 2], [2, 2], [0, 0, 0, 1]], [[3, 3], [2, 2], [1, 1, 1, 1]], [[2, 3], [1, 2], [0, 0, 1, 0]]] as const).flatMap(([k, s, p]) => [
    unary({ op: 'MaxPool', ksize: [k[0], k[1]], strides: [s[0], s[1]], pads: [p[0], p[1], p[2], p[3]] }),
    unary({ op: 'AvgPool', ksize: [k[0], k[1]], strides: [s[0], s[1]], pads: [p[0], p[1], p[2], p[3]] }),
  ]),
  unary({ op: 'MaxPool', ksize: [2, 2], strides: [2, 2], pads: [0, 0, 0, 1] }, -1, -2), // every window negative
  unary({ op: 'Resize', size: [7, 9], method: 'bilinear', alignCorners: false, halfPixelCenters: true }),
  unary({ op: 'Resize', size: [8, 10], method: 'bilinear', alignCorners: true, halfPixelCenters: false }),
  unary({ op: 'Resize', size: [8, 10], method: 'nearest', alignCorners: false, halfPixelCenters: false }),
  unary({ op: 'Mean', axes: [1, 2], keepDims: true }), unary({ op: 'Sum', axes: [-1], keepDims: false }),
  unary({ op: 'Max', axes: [1], keepDims: false }), unary({ op: 'Min', axes: [2, 3], keepDims: true }),
  unary({ op: 'Softmax', axis: -1 }, 3), unary({ op: 'Softmax', axis: 1 }, 3), unary({ op: 'LogSoftmax', axis: 2 }, 3),
  unary({ op: 'Reshape', shape: [20, 3] }), unary({ op: 'Transpose', perm: [0, 3, 1, 2] }),
  { title: 'Concat with a constant', build: (b, x) => b.node({ op: 'Concat', axis: -1 }, [x, b.constant('k', [4, 5, 2], consts([4, 5, 2], 11)), x], 't') },
  unary({ op: 'Pad', pads: [[1, 0], [0, 2], [0, 0]], mode: 'constant', value: 0.5 }),
  unary({ op: 'Pad', pads: [[1, 2], [2, 1], [0, 0]], mode: 'reflect', value: 0 }),
  unary({ op: 'Pad', pads: [[1, 1], [0, 2], [0, 0]], mode: 'symmetric', value: 0 }),
  { title: 'Pad −∞ then MaxPool', build: (b, x) => b.node({ op: 'MaxPool', ksize: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0] }, [b.node({ op: 'Pad', pads: [[1, 1], [1, 1], [0, 0]], mode: 'constant', value: -Infinity }, [x], 'p')], 't') },
  unary({ op: 'Slice', begin: [1, 0, 1], end: [3, 5, 3], steps: [1, 1, 1] }),
  unary({ op: 'Slice', begin: [0, 1, 0], end: [4, 5, 3], steps: [2, 3, 2] }),
  unary({ op: 'Tile', reps: [2, 1, 3] }),
];

beforeAll(async () => {
  await useBackend('wasm');
});

describe('IR interpreter: input gradients = central differences (WASM)', () => {
  for (const c of cases) {
    it(c.title, () => {
      const b = new IrBuilder();
      const x = b.input('x', SHAPE);
      const y = c.build(b, x);
      b.output('y', y);
      const ir = b.finish('free');
      const prog = new IrProgram(ir);
      const n = ROWS * SHAPE.reduce((a, d) => a * d, 1);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x0 = tf.tensor(input(n, 1, c.scale ?? 1, c.shift ?? 0), [ROWS, ...SHAPE]);
        const outShape = [ROWS, ...ir.shapes.get(y)!];
        const w = tf.tensor(consts(outShape, 2), outShape);
        const f = (t: tf.Tensor) => prog.run([t], [y])[0].mul(w).sum();
        const g = tf.grad(f)(x0);
        // Differences element by element before the weighted sum: less float32 cancellation.
        const diff = (v: tf.Tensor) => prog.run([x0.add(v.mul(EPS))], [y])[0].sub(prog.run([x0.sub(v.mul(EPS))], [y])[0]).mul(w).sum().dataSync()[0] / (2 * EPS);
        expect(g.dataSync().some((v) => v !== 0)).toBe(true);
        for (let k = 0; k < 3; k++) {
          const v = tf.tensor(consts([ROWS, ...SHAPE], 20 + k), [ROWS, ...SHAPE]);
          const analytic = g.mul(v).sum().dataSync()[0];
          const numeric = diff(v);
          expect(Math.abs(analytic - numeric), `direction ${k}: ${analytic} vs ${numeric}`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(analytic)));
        }
      });
      prog.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('composite kernels compute what TF.js\'s own ops compute (forward)', () => {
  const x = () => tf.randomUniform([2, 5, 7, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
  const close = (a: tf.Tensor, b: tf.Tensor) => {
    expect(a.shape).toEqual(b.shape);
    expect(tf.max(tf.abs(a.sub(b))).dataSync()[0]).toBeLessThanOrEqual(1e-6);
  };
  it('resize: bilinear and nearest, every corner/centre rule, up and down', () => {
    tf.tidy(() => {
      for (const size of [[9, 4], [3, 14], [5, 7]] as Array<[number, number]>) {
        for (const [ac, hp] of [[false, false], [true, false], [false, true]]) {
          close(resize(x(), size, 'bilinear', ac, hp), tf.image.resizeBilinear(x(), size, ac, hp));
          close(resize(x(), size, 'nearest', ac, hp), tf.image.resizeNearestNeighbor(x(), size, ac, hp));
        }
      }
    });
  });
  it('mirror padding, reflect and symmetric', () => {
    tf.tidy(() => {
      for (const mode of ['reflect', 'symmetric'] as const) close(mirrorPad(x(), [[2, 1], [0, 3], [1, 0]], mode), tf.mirrorPad(x(), [[0, 0], [2, 1], [0, 3], [1, 0]], mode));
    });
  });
  it('strided slices', () => {
    tf.tidy(() => close(stepSlice(x(), [1, 0, 0], [5, 7, 3], [3, 2, 2]), tf.stridedSlice(x(), [0, 1, 0, 0], [2, 5, 7, 3], [1, 3, 2, 2])));
  });
});

describe('max pooling ties go to the first maximum, as TF.js\'s CPU kernel sends them', () => {
  it('constant, zero and all-negative windows (WASM = CPU reference)', async () => {
    const values = Array.from({ length: 2 * 6 * 7 * 2 }, (_, i) => [0, 0, 1, -1, -1, 2, 0.5, -3][(i * 7) % 8] * (i % 5 === 0 ? 0 : 1));
    const shape: [number, number, number, number] = [2, 6, 7, 2];
    const w = Array.from({ length: 2 * 3 * 4 * 2 }, (_, i) => ((i * 13) % 7) - 3);
    const grad = (pool: (x: tf.Tensor4D) => tf.Tensor) => tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => pool(x as tf.Tensor4D).mul(tf.tensor(w, [2, 3, 4, 2])).sum())(tf.tensor4d(values, shape)).dataSync()));
    await useBackend('cpu');
    const ref = grad((x) => tf.maxPool(tf.pad(x, [[0, 0], [0, 1], [1, 1], [0, 0]], -Infinity) as tf.Tensor4D, [3, 3], [2, 2], 'valid'));
    await useBackend('wasm');
    const ours = grad((x) => maxPool(x, [3, 3], [2, 2], [0, 1, 1, 1]));
    expect(ours).toEqual(ref);
  });
});
