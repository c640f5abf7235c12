/**
 * Every layer class and activation issue 3 lists, written as a Keras 3 `.keras` file (and, for
 * layers with weights, a Keras 2 legacy `.h5` whose `weight_names` are listed in reverse order) by
 * the test helper, loaded, and compared with a reference computed by hand or with plain tf ops.
 * Tolerance: max|actual − expected| ≤ 1e-4 · max(1, max|expected|). WASM backend. The layer's IR
 * (src/ir/from-layers.ts) run on TF.js must match the same reference.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFiles } from '../formats.js';
import { kerasSnakeCase } from './normalise-config.js';
import { filesFromMemory, relError, useBackend } from '../testing/model-files.js';
import { irFromLayers } from '../../ir/from-layers.js';
import { IrProgram } from '../../ir/tfjs-exec.js';
import { k3Functional, k3Layer, writeKerasV3, writeLegacyH5, type Var } from '../testing/write-keras.js';

const TOL = 1e-4;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
function values(shape: number[], seed: number, lo = -3, hi = 3): number[] {
  const r = seeded(seed);
  return Array.from({ length: size(shape) }, () => lo + (hi - lo) * r());
}

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), independent of tf.erf. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const ACTIVATIONS: Record<string, (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(0, v),
  relu6: (v) => Math.min(6, Math.max(0, v)),
  sigmoid,
  tanh: Math.tanh,
  softplus: (v) => Math.log1p(Math.exp(v)),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)),
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  swish: (v) => v * sigmoid(v),
  silu: (v) => v * sigmoid(v),
};

function softmaxRows(x: number[], width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / width; r++) {
    const row = x.slice(r * width, (r + 1) * width);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

interface LayerCase {
  title: string;
  cls: string;
  config: Record<string, unknown>;
  /** Shapes of the inputs without the batch dimension (batch is 2). */
  inputs: number[][];
  /** Weight names (short) in the layer's order, and their values. */
  vars?: { name: string; v: Var }[];
  kerasVersion?: string;
  /** Reference output for the whole batch, flat. */
  reference: (xs: tf.Tensor[], w: tf.Tensor[]) => tf.Tensor | number[];
}

const v = (name: string, shape: number[], seed: number, lo = -1, hi = 1) => ({ name, v: { shape, data: values(shape, seed, lo, hi) } });
const map = (x: tf.Tensor, f: (a: number) => number) => Array.from(x.dataSync(), f);

const cases: LayerCase[] = [
  {
    title: 'Conv1D same, dilation 2, relu',
    cls: 'Conv1D',
    config: { filters: 2, kernel_size: [3], strides: [1], padding: 'same', dilation_rate: [2], data_format: 'channels_last', groups: 1, activation: 'relu', use_bias: true },
    inputs: [[7, 3]],
    vars: [v('kernel', [3, 3, 2], 1), v('bias', [2], 2)],
    reference: ([x], [k, b]) => tf.relu(tf.add(tf.conv1d(x as tf.Tensor3D, k as tf.Tensor3D, 1, 'same', 'NWC', 2), b)),
  },
  {
    title: 'Conv2D strides 2, valid',
    cls: 'Conv2D',
    config: { filters: 3, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', dilation_rate: [1, 1], data_format: 'channels_last', groups: 1, activation: 'linear', use_bias: true },
    inputs: [[7, 8, 2]],
    vars: [v('kernel', [3, 3, 2, 3], 3), v('bias', [3], 4)],
    reference: ([x], [k, b]) => tf.add(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, [2, 2], 'valid'), b),
  },
  {
    title: 'Conv2D same, dilation 2, gelu',
    cls: 'Conv2D',
    config: { filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [2, 2], data_format: 'channels_last', groups: 1, activation: 'gelu', use_bias: true },
    inputs: [[6, 6, 2]],
    vars: [v('kernel', [3, 3, 2, 2], 5), v('bias', [2], 6)],
    reference: ([x], [k, b]) => map(tf.add(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same', 'NHWC', [2, 2]), b), ACTIVATIONS.gelu),
  },
  {
    title: 'DepthwiseConv2D same, depth_multiplier 2',
    cls: 'DepthwiseConv2D',
    config: { kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 2, data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: true },
    inputs: [[5, 5, 3]],
    vars: [v('depthwise_kernel', [3, 3, 3, 2], 7), v('bias', [6], 8)],
    reference: ([x], [k, b]) => tf.add(tf.depthwiseConv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'), b),
  },
  {
    title: 'SeparableConv2D valid, silu',
    cls: 'SeparableConv2D',
    config: { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', depth_multiplier: 1, data_format: 'channels_last', dilation_rate: [1, 1], activation: 'silu', use_bias: true },
    inputs: [[6, 5, 2]],
    vars: [v('depthwise_kernel', [3, 3, 2, 1], 9), v('pointwise_kernel', [1, 1, 2, 4], 10), v('bias', [4], 11)],
    reference: ([x], [dk, pk, b]) => map(tf.add(tf.separableConv2d(x as tf.Tensor4D, dk as tf.Tensor4D, pk as tf.Tensor4D, 1, 'valid'), b), ACTIVATIONS.silu),
  },
  {
    title: 'MaxPooling1D',
    cls: 'MaxPooling1D',
    config: { pool_size: [2], strides: [2], padding: 'valid', data_format: 'channels_last' },
    inputs: [[6, 2]],
    reference: ([x]) => {
      const d = Array.from(x.dataSync());
      const out: number[] = [];
      for (let n = 0; n < 2; n++) for (let t = 0; t < 3; t++) for (let c = 0; c < 2; c++) out.push(Math.max(d[n * 12 + 2 * t * 2 + c], d[n * 12 + (2 * t + 1) * 2 + c]));
      return out;
    },
  },
  {
    title: 'AveragePooling1D',
    cls: 'AveragePooling1D',
    config: { pool_size: [2], strides: [2], padding: 'valid', data_format: 'channels_last' },
    inputs: [[6, 2]],
    reference: ([x]) => {
      const d = Array.from(x.dataSync());
      const out: number[] = [];
      for (let n = 0; n < 2; n++) for (let t = 0; t < 3; t++) for (let c = 0; c < 2; c++) out.push((d[n * 12 + 2 * t * 2 + c] + d[n * 12 + (2 * t + 1) * 2 + c]) / 2);
      return out;
    },
  },
  {
    title: 'MaxPooling2D',
    cls: 'MaxPooling2D',
    config: { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' },
    inputs: [[4, 6, 2]],
    reference: ([x]) => tf.maxPool(x as tf.Tensor4D, [2, 2], [2, 2], 'valid'),
  },
  {
    title: 'AveragePooling2D same, pool 3 stride 2',
    cls: 'AveragePooling2D',
    config: { pool_size: [3, 3], strides: [2, 2], padding: 'same', data_format: 'channels_last' },
    inputs: [[5, 6, 2]],
    reference: ([x]) => tf.avgPool(x as tf.Tensor4D, [3, 3], [2, 2], 'same'),
  },
  { title: 'GlobalAveragePooling1D', cls: 'GlobalAveragePooling1D', config: { data_format: 'channels_last', keepdims: false }, inputs: [[5, 3]], reference: ([x]) => tf.mean(x, 1) },
  { title: 'GlobalMaxPooling1D', cls: 'GlobalMaxPooling1D', config: { data_format: 'channels_last', keepdims: false }, inputs: [[5, 3]], reference: ([x]) => tf.max(x, 1) },
  { title: 'GlobalAveragePooling2D', cls: 'GlobalAveragePooling2D', config: { data_format: 'channels_last', keepdims: false }, inputs: [[4, 3, 2]], reference: ([x]) => tf.mean(x, [1, 2]) },
  { title: 'GlobalMaxPooling2D', cls: 'GlobalMaxPooling2D', config: { data_format: 'channels_last', keepdims: false }, inputs: [[4, 3, 2]], reference: ([x]) => tf.max(x, [1, 2]) },
  { title: 'Flatten (rank 4)', cls: 'Flatten', config: { data_format: 'channels_last' }, inputs: [[3, 2, 2]], reference: ([x]) => Array.from(x.dataSync()) },
  { title: 'Flatten (rank 2)', cls: 'Flatten', config: { data_format: 'channels_last' }, inputs: [[5]], reference: ([x]) => Array.from(x.dataSync()) },
  { title: 'Reshape', cls: 'Reshape', config: { target_shape: [3, 4] }, inputs: [[2, 6]], reference: ([x]) => Array.from(x.dataSync()) },
  { title: 'Dropout (inference: identity)', cls: 'Dropout', config: { rate: 0.5, seed: null, noise_shape: null }, inputs: [[5]], reference: ([x]) => Array.from(x.dataSync()) },
  {
    title: 'BatchNormalization on channels',
    cls: 'BatchNormalization',
    config: { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, synchronized: false },
    inputs: [[3, 2, 4]],
    vars: [v('gamma', [4], 12), v('beta', [4], 13), v('moving_mean', [4], 14), v('moving_variance', [4], 15, 0.2, 2)],
    reference: ([x], [g, b, m, vr]) => {
      const [gd, bd, md, vd] = [g, b, m, vr].map((t) => t.dataSync());
      return Array.from(x.dataSync(), (val, i) => {
        const c = i % 4;
        return ((val - md[c]) / Math.sqrt(vd[c] + 0.001)) * gd[c] + bd[c];
      });
    },
  },
  {
    title: 'LayerNormalization',
    cls: 'LayerNormalization',
    config: { axis: -1, epsilon: 0.001, center: true, scale: true, rms_scaling: false },
    inputs: [[6]],
    vars: [v('gamma', [6], 16), v('beta', [6], 17)],
    reference: ([x], [g, b]) => {
      const d = Array.from(x.dataSync());
      const [gd, bd] = [g.dataSync(), b.dataSync()];
      const out: number[] = [];
      for (let r = 0; r < 2; r++) {
        const row = d.slice(r * 6, r * 6 + 6);
        const mean = row.reduce((a, c) => a + c, 0) / 6;
        const variance = row.reduce((a, c) => a + (c - mean) ** 2, 0) / 6;
        row.forEach((val, i) => out.push(((val - mean) / Math.sqrt(variance + 0.001)) * gd[i] + bd[i]));
      }
      return out;
    },
  },
  ...Object.entries(ACTIVATIONS).map(([name, f]): LayerCase => ({
    title: `Activation ${name}`,
    cls: 'Activation',
    config: { activation: name },
    inputs: [[7]],
    reference: ([x]) => map(x, f),
  })),
  { title: 'Activation softmax', cls: 'Activation', config: { activation: 'softmax' }, inputs: [[5]], reference: ([x]) => softmaxRows(Array.from(x.dataSync()), 5) },
  {
    title: 'Activation hard_sigmoid, Keras 3 (relu6(x+3)/6)',
    cls: 'Activation',
    config: { activation: 'hard_sigmoid' },
    inputs: [[9]],
    reference: ([x]) => map(x, (a) => Math.min(6, Math.max(0, a + 3)) / 6),
  },
  {
    title: 'Activation hard_sigmoid, Keras 2 (clip(0.2x+0.5))',
    cls: 'Activation',
    config: { activation: 'hard_sigmoid' },
    kerasVersion: '2.15.0',
    inputs: [[9]],
    reference: ([x]) => map(x, (a) => Math.min(1, Math.max(0, 0.2 * a + 0.5))),
  },
  { title: 'ReLU max_value 1.5', cls: 'ReLU', config: { max_value: 1.5, negative_slope: 0, threshold: 0 }, inputs: [[7]], reference: ([x]) => map(x, (a) => Math.min(1.5, Math.max(0, a))) },
  {
    title: 'ReLU negative_slope 0.1, threshold 0.5',
    cls: 'ReLU',
    config: { max_value: null, negative_slope: 0.1, threshold: 0.5 },
    inputs: [[7]],
    reference: ([x]) => map(x, (a) => (a >= 0.5 ? a : 0.1 * (a - 0.5))),
  },
  { title: 'LeakyReLU negative_slope 0.2', cls: 'LeakyReLU', config: { negative_slope: 0.2 }, inputs: [[7]], reference: ([x]) => map(x, (a) => (a > 0 ? a : 0.2 * a)) },
  { title: 'ELU alpha 0.5', cls: 'ELU', config: { alpha: 0.5 }, inputs: [[7]], reference: ([x]) => map(x, (a) => (a > 0 ? a : 0.5 * Math.expm1(a))) },
  {
    title: 'PReLU',
    cls: 'PReLU',
    config: { alpha_initializer: { class_name: 'Zeros', config: {} }, alpha_regularizer: null, alpha_constraint: null, shared_axes: null },
    inputs: [[5]],
    vars: [v('alpha', [5], 18, 0, 0.5)],
    reference: ([x], [al]) => {
      const ad = al.dataSync();
      return Array.from(x.dataSync(), (a, i) => (a > 0 ? a : ad[i % 5] * a));
    },
  },
  { title: 'Softmax layer', cls: 'Softmax', config: { axis: -1 }, inputs: [[6]], reference: ([x]) => softmaxRows(Array.from(x.dataSync()), 6) },
  { title: 'Add', cls: 'Add', config: {}, inputs: [[4], [4]], reference: ([a, b]) => tf.add(a, b) },
  { title: 'Subtract', cls: 'Subtract', config: {}, inputs: [[4], [4]], reference: ([a, b]) => map(a, (x) => x).map((x, i) => x - b.dataSync()[i]) },
  { title: 'Multiply', cls: 'Multiply', config: {}, inputs: [[4], [4]], reference: ([a, b]) => map(a, (x) => x).map((x, i) => x * b.dataSync()[i]) },
  { title: 'Average', cls: 'Average', config: {}, inputs: [[4], [4]], reference: ([a, b]) => map(a, (x) => x).map((x, i) => (x + b.dataSync()[i]) / 2) },
  { title: 'Concatenate', cls: 'Concatenate', config: { axis: -1 }, inputs: [[3], [2]], reference: ([a, b]) => tf.concat([a, b], -1) },
  {
    title: 'ZeroPadding2D',
    cls: 'ZeroPadding2D',
    config: { padding: [[1, 2], [0, 1]], data_format: 'channels_last' },
    inputs: [[3, 3, 2]],
    reference: ([x]) => tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]]),
  },
  {
    title: 'Cropping2D',
    cls: 'Cropping2D',
    config: { cropping: [[1, 0], [0, 2]], data_format: 'channels_last' },
    inputs: [[4, 5, 2]],
    reference: ([x]) => tf.slice(x, [0, 1, 0, 0], [2, 3, 3, 2]),
  },
  {
    title: 'UpSampling2D nearest',
    cls: 'UpSampling2D',
    config: { size: [2, 3], data_format: 'channels_last', interpolation: 'nearest' },
    inputs: [[2, 3, 2]],
    reference: ([x]) => {
      const d = x.dataSync();
      const out: number[] = [];
      for (let n = 0; n < 2; n++) for (let i = 0; i < 4; i++) for (let j = 0; j < 9; j++) for (let c = 0; c < 2; c++) out.push(d[((n * 2 + (i >> 1)) * 3 + Math.floor(j / 3)) * 2 + c]);
      return out;
    },
  },
  { title: 'Rescaling', cls: 'Rescaling', config: { scale: 1 / 255, offset: -0.5 }, inputs: [[6]], reference: ([x]) => map(x, (a) => a / 255 - 0.5) },
  {
    title: 'Normalization with mean/variance weights',
    cls: 'Normalization',
    config: { axis: [-1], mean: null, variance: null, invert: false },
    inputs: [[3, 4]],
    vars: [v('mean', [4], 19), v('variance', [4], 20, 0.1, 3)],
    reference: ([x], [m, vr]) => {
      const [md, vd] = [m.dataSync(), vr.dataSync()];
      return Array.from(x.dataSync(), (a, i) => (a - md[i % 4]) / Math.sqrt(vd[i % 4]));
    },
  },
  {
    title: 'Normalization with mean/variance in the config',
    cls: 'Normalization',
    config: { axis: -1, mean: [1, 2, 3], variance: [4, 0.25, 1], invert: false },
    inputs: [[3]],
    reference: ([x]) => Array.from(x.dataSync(), (a, i) => (a - [1, 2, 3][i % 3]) / [2, 0.5, 1][i % 3]),
  },
];

function modelConfig(c: LayerCase): unknown {
  const inputNames = c.inputs.map((_, i) => `in${i}`);
  return k3Functional(
    'single',
    [...c.inputs.map((shape, i) => k3Layer('InputLayer', inputNames[i], { batch_shape: [null, ...shape] })), k3Layer(c.cls, 'probe', c.config, inputNames)],
    inputNames,
    ['probe'],
  );
}

async function runCase(c: LayerCase, bytes: Uint8Array, name: string): Promise<void> {
  const loaded = await loadModelFiles(filesFromMemory(name, bytes), name);
  const net = loaded.net as tf.LayersModel;
  expect(net.getLayer('probe').getClassName()).toBe(c.cls);
  const xs = c.inputs.map((shape, i) => tf.tensor(values([2, ...shape], 100 + i), [2, ...shape]));
  const w = (c.vars ?? []).map((x) => tf.tensor(x.v.data as number[], x.v.shape));
  const y = net.predict(xs) as tf.Tensor;
  const ref = c.reference(xs, w);
  const expected = Array.isArray(ref) ? ref : Array.from(ref.dataSync());
  expect(y.size).toBe(expected.length);
  expect(relError(y.dataSync(), expected)).toBeLessThanOrEqual(TOL);
  // The same layer in the IR (src/ir), run on TF.js, gives the same values.
  const ir = irFromLayers(net);
  const prog = new IrProgram(ir);
  const [yi] = prog.run(xs, [ir.outputs[0].value]);
  expect(relError(yi.dataSync(), expected), 'IR').toBeLessThanOrEqual(TOL);
  prog.dispose();
  tf.dispose([...xs, ...w, y, yi, ...(Array.isArray(ref) ? [] : [ref])]);
  net.dispose();
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('layer classes and activations (.keras, Keras 3 schema)', () => {
  for (const c of cases) {
    it(c.title, async () => {
      const vars = (c.vars ?? []).map((x) => x.v);
      const groups = vars.length ? [{ key: kerasSnakeCase(c.cls), name: 'probe', vars }] : [];
      await runCase(c, await writeKerasV3(modelConfig(c), groups, { kerasVersion: c.kerasVersion ?? '3.10.0' }), `${c.cls}.keras`);
    });
  }
});

describe('layers with weights (legacy .h5, weight_names in reverse order)', () => {
  for (const c of cases.filter((x) => x.vars)) {
    it(c.title, async () => {
      const weights = c.vars!.map((x) => ({ name: `probe_1/${x.name}:0`, var: x.v })).reverse();
      await runCase(c, await writeLegacyH5(modelConfig(c), [{ layer: 'probe', weights }], '3.3.3'), `${c.cls}.h5`);
    });
  }
  it('Normalization from Keras 2 with its count weight', async () => {
    const c = cases.find((x) => x.title === 'Normalization with mean/variance weights')!;
    const weights = [...c.vars!.map((x) => ({ name: `probe/${x.name}:0`, var: x.v })), { name: 'probe/count:0', var: { shape: [], data: [1000] } }];
    await runCase(c, await writeLegacyH5(modelConfig(c), [{ layer: 'probe', weights }], '2.15.0'), 'norm2.h5');
  });
});
