import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../backend.js';
import { box } from '../../constraints/index.js';
import { describeModel } from '../../model/describe.js';
import { loadModel } from '../../model/load.js';
import type { ActmaxModel } from '../../model/types.js';
import type { ObjectiveSpec } from '../../objectives/spec.js';
import { maximize } from '../../optimize/maximize.js';
import { chooseEngine, engineReport } from '../select.js';
import { createTfjsEngine } from '../tfjs.js';
import { createOnnxEngine } from './engine.js';
import { uniforms } from './testing.js';

/*
 * Real layer kinds, imported into the IR by the layers importer, on the ONNX engine: values,
 * input gradients and outputs equal the TF.js engine's to 1e-5; `auto` picks ONNX and a run
 * reaches TF.js's answer.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const bias = (seed: number) => tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed });
const wrap = (net: tf.LayersModel, name: string) => describeModel({ net, format: 'tfjs-layers', metadata: {}, notes: [] }, name);

function rel(a: Float32Array, b: Float32Array): number {
  let scale = 1e-12, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

async function compare(model: ActmaxModel, targets: ObjectiveSpec[], fill?: (x: Float32Array, n: number) => void): Promise<void> {
  expect(engineReport(model)).toEqual({ engine: 'onnx', gaps: [] });
  const req = { model, targets, rowsPerTarget: 2, optimize: [0], fixed: new Map<number, Float32Array>() };
  const ref = await createTfjsEngine(req);
  const onnx = await createOnnxEngine(req);
  try {
    const n = model.inputs[0].shape.reduce((a, b) => a * b, 1);
    const rand = uniforms(5);
    const x = Float32Array.from({ length: ref.rows * n }, () => rand());
    fill?.(x, n);
    const a = await ref.valueAndGrad([x]);
    const b = await onnx.valueAndGrad([x]);
    expect(rel(b.values, a.values), 'values').toBeLessThan(1e-5);
    expect(rel(b.grads[0], a.grads[0]), 'gradients').toBeLessThan(1e-5);
    expect(a.grads[0].some((g) => g !== 0)).toBe(true);
    const ea = await ref.evaluate([x]);
    const eb = await onnx.evaluate([x]);
    model.outputs.forEach((_, k) => expect(rel(eb.outputs[k], ea.outputs[k]), 'outputs').toBeLessThan(1e-5));
  } finally {
    ref.dispose();
    onnx.dispose();
  }
}

describe('ONNX engine on imported layers = TF.js engine', () => {
  let mlp: ActmaxModel;
  beforeAll(async () => {
    await useBackend('wasm');
    mlp = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
  });

  it('Conv2D (same, stride 2), MaxPool, BatchNorm, ELU, Flatten, Dense tanh, softmax taken off', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ name: 'c1', inputShape: [12, 12, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(1), biasInitializer: bias(2) }));
    m.add(tf.layers.maxPooling2d({ name: 'p1', poolSize: 2 }));
    m.add(tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: glorot(3), biasInitializer: bias(4) }));
    m.add(tf.layers.batchNormalization({ name: 'bn' }));
    m.add(tf.layers.activation({ name: 'act', activation: 'elu' }));
    m.add(tf.layers.flatten({ name: 'flat' }));
    m.add(tf.layers.dense({ name: 'd1', units: 6, activation: 'tanh', kernelInitializer: glorot(5), biasInitializer: bias(6) }));
    m.add(tf.layers.dense({ name: 'out', units: 3, activation: 'softmax', kernelInitializer: glorot(7), biasInitializer: bias(8) }));
    m.layers[3].setWeights([tf.tensor1d([1.2, 0.8, -0.5, 1, 2]), tf.tensor1d([0.1, -0.1, 0.2, 0, 0.3]), tf.tensor1d([0.05, -0.02, 0.1, 0, 0.2]), tf.tensor1d([0.5, 1.5, 0.8, 1, 2])]);
    const model = wrap(m, 'cnn');
    await compare(model, [{ kind: 'logit', index: 2 }, { kind: 'neuron', layer: 'c1', index: [3, 4, 1] }, { kind: 'channel', layer: 'bn', channel: 1 }, { kind: 'direction', layer: 'act', vector: [1, -2, 0.5, 0, 3] }, { kind: 'neuron', layer: 'd1', index: 4, pre: true }]);
    model.dispose();
  });

  it('separable and depthwise convolutions, average pooling, global average pooling, Add and Concatenate', async () => {
    const input = tf.input({ shape: [10, 9, 3], name: 'img' });
    const a = tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', depthwiseInitializer: glorot(11), pointwiseInitializer: glorot(12) }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', depthwiseInitializer: glorot(13) }).apply(input) as tf.SymbolicTensor;
    const b2 = tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: glorot(14) }).apply(b) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, b2]) as tf.SymbolicTensor;
    const pooled = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(sum) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([pooled, tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(b2) as tf.SymbolicTensor]) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({}).apply(cat) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(15) }).apply(gap) as tf.SymbolicTensor;
    const model = wrap(tf.model({ inputs: input, outputs: out }), 'branches');
    await compare(model, [{ kind: 'logit', index: 0 }, { kind: 'margin', index: 2 }]);
    model.dispose();
  });

  it('max pooling ties (constant rows) go where TF.js sends them (CPU reference)', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 3, kernelSize: 3, kernelInitializer: glorot(31), biasInitializer: bias(32) }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 2, kernelInitializer: glorot(35) }));
    const model = wrap(m, 'pools');
    await useBackend('cpu');
    try {
      await compare(model, [{ kind: 'logit', index: 0 }, { kind: 'logit', index: 1 }], (x, n) => x.fill(0.5, 0, 2 * n));
    } finally {
      await useBackend('wasm');
    }
    model.dispose();
  });

  it('auto picks ONNX for the bundled model and says why when it cannot; a run reaches the TF.js answer', async () => {
    expect((await chooseEngine(mlp, [{ kind: 'prob', index: 1 }])).name).toBe('onnx');
    const m = tf.sequential();
    m.add(tf.layers.simpleRNN({ inputShape: [4, 3], units: 2 }));
    const rnn = wrap(m, 'rnn');
    const fallback = await chooseEngine(rnn, [{ kind: 'logit', index: 0 }]);
    expect(fallback.name).toBe('tfjs');
    expect(fallback.fallbackReason).toBeTruthy();
    await expect(chooseEngine(rnn, [{ kind: 'logit', index: 0 }], { engine: 'onnx' })).rejects.toThrow(/engine "onnx" cannot run this/);
    rnn.dispose();
    const opts = { steps: 60, restarts: 2, seed: 3, constraints: [box(0, 1)] };
    const a = await maximize(mlp, { kind: 'margin', index: 1 }, { ...opts, engine: 'tfjs' });
    const b = await maximize(mlp, { kind: 'margin', index: 1 }, opts);
    expect(b.engine).toMatch(/^onnx/);
    expect(a.engine).toMatch(/^tfjs/);
    expect(Math.abs(a.results[0].value - b.results[0].value)).toBeLessThan(1e-3 * Math.abs(a.results[0].value));
  });
});
