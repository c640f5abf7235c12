import { describe, it, expect, beforeAll } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../backend.js';
import { describeModel } from '../../model/describe.js';
import { loadModel } from '../../model/load.js';
import type { ActmaxModel } from '../../model/types.js';
import type { ObjectiveSpec } from '../../objectives/spec.js';
import { maximize } from '../../optimize/maximize.js';
import { box } from '../../constraints/index.js';
import { createTfjsEngine } from '../tfjs.js';
import { createOnnxEngine, onnxSupport } from './engine.js';
import { chooseEngine } from '../select.js';

/*
 * The ONNX engine must give the TF.js reference engine's numbers: values, input gradients and
 * model outputs within 1e-5, relative to the largest magnitude of the compared quantity (float32
 * sums in a different order differ by a few ulps of that scale).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TOL = 1e-5;

function wrap(net: tf.LayersModel, name: string): ActmaxModel {
  return describeModel({ net, format: 'tfjs-layers', metadata: {}, notes: [] }, name);
}

function randomInputs(rows: number, n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const x = new Float32Array(rows * n);
  for (let i = 0; i < x.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = s / 2 ** 32;
  }
  return x;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  scale = Math.max(scale, 1e-12);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

async function compareEngines(model: ActmaxModel, targets: ObjectiveSpec[], rowsPerTarget = 2, threads = 1): Promise<void> {
  expect(onnxSupport(model, targets)).toBeNull();
  const req = { model, targets, rowsPerTarget, optimize: [0], fixed: new Map<number, Float32Array>() };
  const ref = await createTfjsEngine(req);
  const onnx = await createOnnxEngine(req, { threads });
  try {
    const n = model.inputs[0].shape.reduce((a, b) => a * b, 1);
    const x = randomInputs(ref.rows, n, 7);
    const a = await ref.valueAndGrad([x]);
    const b = await onnx.valueAndGrad([x]);
    expect(maxRelDiff(b.values, a.values)).toBeLessThan(TOL);
    expect(maxRelDiff(b.grads[0], a.grads[0])).toBeLessThan(TOL);
    // The gradient is not trivially zero.
    expect(a.grads[0].some((g) => g !== 0)).toBe(true);
    const ea = await ref.evaluate([x]);
    const eb = await onnx.evaluate([x]);
    expect(maxRelDiff(eb.values, ea.values)).toBeLessThan(TOL);
    expect(maxRelDiff(eb.outputs[0], ea.outputs[0])).toBeLessThan(TOL);
  } finally {
    ref.dispose();
    onnx.dispose();
  }
}

const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const bias = (seed: number) => tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed });

/** The small CNN plus a few extra layer kinds, channels last. */
function smallCnn(): ActmaxModel {
  const m = tf.sequential({ name: 'cnn' });
  m.add(tf.layers.conv2d({ name: 'c1', inputShape: [12, 12, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(1), biasInitializer: bias(2) }));
  m.add(tf.layers.maxPooling2d({ name: 'p1', poolSize: 2 }));
  m.add(tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: glorot(3), biasInitializer: bias(4) }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.activation({ name: 'act', activation: 'elu' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ name: 'd1', units: 6, activation: 'tanh', kernelInitializer: glorot(5), biasInitializer: bias(6) }));
  m.add(tf.layers.dense({ name: 'out', units: 3, activation: 'softmax', kernelInitializer: glorot(7), biasInitializer: bias(8) }));
  m.layers[3].setWeights([tf.tensor1d([1.2, 0.8, -0.5, 1, 2]), tf.tensor1d([0.1, -0.1, 0.2, 0, 0.3]), tf.tensor1d([0.05, -0.02, 0.1, 0, 0.2]), tf.tensor1d([0.5, 1.5, 0.8, 1, 2])]);
  return wrap(m, 'cnn');
}

describe('ONNX engine = TF.js reference engine', () => {
  let mlp: ActmaxModel;
  beforeAll(async () => {
    await useBackend('wasm');
    mlp = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
  });

  it('bundled MLP: logits of all classes, hidden neurons, pre-activations and sums', async () => {
    const targets: ObjectiveSpec[] = [
      ...Array.from({ length: 10 }, (_, i) => ({ kind: 'logit', index: i }) as ObjectiveSpec),
      { kind: 'neuron', layer: 'dense', index: 5 },
      { kind: 'neuron', layer: 'dense', index: 9, pre: true },
      { kind: 'direction', layer: 'dense', vector: Array.from({ length: 128 }, (_, i) => Math.sin(i)) },
      { kind: 'sum', terms: [{ weight: 2, objective: { kind: 'logit', index: 1 } }, { weight: -0.5, objective: { kind: 'neuron', layer: 'dense', index: 7 } }] },
    ];
    await compareEngines(mlp, targets, 3);
  });

  it('bundled MLP with 2 threads and a bigger batch', async () => {
    await compareEngines(mlp, [{ kind: 'logit', index: 4 }, { kind: 'logit', index: 8 }], 40, 2);
  });

  it('CNN: Conv2D (valid/same, stride 2), MaxPool, BN, ELU, Flatten, Dense tanh, softmax taken off', async () => {
    const cnn = smallCnn();
    const targets: ObjectiveSpec[] = [
      { kind: 'logit', index: 0 },
      { kind: 'logit', index: 2 },
      { kind: 'neuron', layer: 'c1', index: [3, 4, 1] },
      { kind: 'channel', layer: 'c2', channel: 3 },
      { kind: 'channel', layer: 'bn', channel: 1 },
      { kind: 'direction', layer: 'act', vector: [1, -2, 0.5, 0, 3] },
      { kind: 'neuron', layer: 'd1', index: 4, pre: true },
      { kind: 'sum', terms: [{ weight: 1, objective: { kind: 'logit', index: 1 } }, { weight: 0.3, objective: { kind: 'channel', layer: 'p1', channel: 2 } }] },
    ];
    await compareEngines(cnn, targets, 2);
    cnn.dispose();
  });

  it('dilated conv, sigmoid, ReLU layer, dropout, odd sizes (ConvTranspose output padding)', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [11, 10, 1], filters: 3, kernelSize: 3, dilationRate: 2, activation: 'relu', kernelInitializer: glorot(11), biasInitializer: bias(10) }));
    m.add(tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], strides: [2, 3], kernelInitializer: glorot(12), biasInitializer: bias(13) }));
    m.add(tf.layers.reLU({}));
    m.add(tf.layers.maxPooling2d({ poolSize: [1, 2], strides: [1, 2] }));
    m.add(tf.layers.activation({ activation: 'sigmoid' }));
    m.add(tf.layers.dropout({ rate: 0.5 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 2, kernelInitializer: glorot(14) }));
    const model = wrap(m, 'odd');
    await compareEngines(model, [{ kind: 'logit', index: 0 }, { kind: 'logit', index: 1 }], 3);
    model.dispose();
  });

  it('functional model: Conv2D same → GlobalAveragePooling2D → Dense', async () => {
    const input = tf.input({ shape: [7, 9, 3], name: 'img' });
    const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(21), biasInitializer: bias(22) }).apply(input) as tf.SymbolicTensor;
    const p = tf.layers.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(23) }).apply(p) as tf.SymbolicTensor;
    const model = wrap(tf.model({ inputs: input, outputs: out }), 'functional');
    await compareEngines(model, [{ kind: 'logit', index: 2 }, { kind: 'channel', layer: model.layers.find((l) => l.className === 'Conv2D')!.name, channel: 1 }], 2);
    model.dispose();
  });

  it('says why it cannot run non-linear objectives and unsupported layers', () => {
    expect(onnxSupport(mlp, [{ kind: 'prob', index: 1 }])).toMatch(/linear objectives/);
    expect(onnxSupport(mlp, [{ kind: 'margin', index: 1 }])).toMatch(/linear objectives/);
    const m = tf.sequential();
    m.add(tf.layers.depthwiseConv2d({ inputShape: [6, 6, 2], kernelSize: 3 }));
    m.add(tf.layers.flatten());
    const model = wrap(m, 'dw');
    expect(onnxSupport(model, [{ kind: 'logit', index: 0 }])).toMatch(/DepthwiseConv2D/);
    model.dispose();
  });

  it('chooseEngine: auto picks onnx when it can, tfjs (with the reason) when not; onnx insists', async () => {
    expect((await chooseEngine(mlp, [{ kind: 'logit', index: 1 }])).name).toBe('onnx');
    const fallback = await chooseEngine(mlp, [{ kind: 'prob', index: 1 }]);
    expect(fallback.name).toBe('tfjs');
    expect(fallback.fallbackReason).toMatch(/linear objectives/);
    expect((await chooseEngine(mlp, [{ kind: 'logit', index: 1 }], { engine: 'tfjs' })).name).toBe('tfjs');
    await expect(chooseEngine(mlp, [{ kind: 'prob', index: 1 }], { engine: 'onnx' })).rejects.toThrow(/engine "onnx" cannot run this/);
  });

  it('maximize with the ONNX engine reaches the TF.js engine\'s answer', async () => {
    const opts = { steps: 60, restarts: 2, seed: 3, constraints: [box(0, 1)] };
    const sel = await chooseEngine(mlp, [{ kind: 'logit', index: 1 }]);
    const a = await maximize(mlp, { kind: 'logit', index: 1 }, opts);
    const b = await maximize(mlp, { kind: 'logit', index: 1 }, { ...opts, engine: sel.factory });
    expect(b.engine).toMatch(/^onnx/);
    // Same start, same steps: float32 differences stay tiny for a short run.
    expect(Math.abs(a.results[0].value - b.results[0].value)).toBeLessThan(1e-3 * Math.abs(a.results[0].value));
    expect(b.results[0].value).toBeGreaterThan(0);
  });
});
