import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { extractNetwork, forwardValues, layerValues, evalExpr } from './network.js';
import { seeded, wrap } from './test-nets.js';
import type { ActmaxModel } from '../model/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

beforeAll(async () => {
  await useBackend('cpu');
});

/** Random weights for every layer of a model, deterministic. BN variances kept positive. */
function randomizeWeights(net: tf.LayersModel, seed: number): void {
  const rnd = seeded(seed);
  for (const layer of net.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(ws.map((w, k) => {
      const n = w.size;
      const isVar = layer.getClassName() === 'BatchNormalization' && k === ws.length - 1;
      return tf.tensor(Float32Array.from({ length: n }, () => (isVar ? 0.5 + Math.abs(rnd()) : rnd() * 0.7)), w.shape);
    }));
  }
}

/** Max |float64 forward − TF.js| over a few random inputs, relative to the output scale. */
function maxDiff(model: ActmaxModel, outputLayer: string, pre: boolean, seed = 7): number {
  const net = extractNetwork(model);
  const exprs = layerValues(net, outputLayer, pre);
  const rnd = seeded(seed);
  const lm = model.net as tf.LayersModel;
  let worst = 0;
  for (let t = 0; t < 5; t++) {
    const x = Float32Array.from({ length: net.inputSize }, () => (rnd() + 1) / 2);
    const vals = forwardValues(net, x);
    const mine = exprs.map((e) => evalExpr(e, vals));
    const ref = tf.tidy(() => (lm.predict(tf.tensor(x, [1, ...net.inputShape])) as tf.Tensor).dataSync());
    const scale = Math.max(1, ...Array.from(ref, Math.abs));
    mine.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref[i]) / scale)));
  }
  return worst;
}

describe('extractNetwork + forwardValues (float64) agree with TF.js', () => {
  it('Dense MLP with relu and leaky relu', () => {
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [5], units: 8, activation: 'relu' }),
        tf.layers.dense({ units: 6 }),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 3, name: 'out' }),
      ],
    });
    randomizeWeights(net, 1);
    expect(maxDiff(wrap(net), 'out', false)).toBeLessThan(1e-5);
  });

  it('Conv2D (same/valid, strides) → BatchNormalization → ZeroPadding2D → MaxPooling2D → AveragePooling2D → Flatten → Dense', () => {
    const net = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [7, 6, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.batchNormalization(),
        tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]] }),
        tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], strides: [2, 1], padding: 'valid' }),
        tf.layers.reLU(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' }),
      ],
    });
    randomizeWeights(net, 2);
    const model = wrap(net);
    // Softmax is taken off: compare the logits with the pre-activation of TF.js's last Dense.
    const lm = model.net as tf.LayersModel;
    const logitsModel = tf.model({ inputs: lm.inputs, outputs: lm.getLayer('out').input as tf.SymbolicTensor });
    const dense = lm.getLayer('out');
    const pl = extractNetwork(model);
    const rnd = seeded(3);
    const x = Float32Array.from({ length: pl.inputSize }, () => (rnd() + 1) / 2);
    const vals = forwardValues(pl, x);
    const mine = layerValues(pl, 'out', true).map((e) => evalExpr(e, vals));
    const ref = tf.tidy(() => {
      const h = logitsModel.predict(tf.tensor(x, [1, 7, 6, 2])) as tf.Tensor;
      const [k, b] = dense.getWeights();
      return h.matMul(k).add(b).dataSync();
    });
    mine.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 4));
    expect(() => layerValues(pl, 'out', false)).toThrow(/piecewise-linear network: layer "out" uses softmax/);
  });

  it('Conv1D, GlobalMaxPooling1D; functional Add and Concatenate', () => {
    const inp = tf.input({ shape: [6, 2] });
    const c = tf.layers.conv1d({ filters: 3, kernelSize: 2, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const c2 = tf.layers.conv1d({ filters: 3, kernelSize: 2 }).apply(inp) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([c, c2]) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([sum, c]) as tf.SymbolicTensor;
    const g = tf.layers.globalMaxPooling1d({}).apply(cat) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'out' }).apply(g) as tf.SymbolicTensor;
    const net = tf.model({ inputs: inp, outputs: out });
    randomizeWeights(net, 4);
    expect(maxDiff(wrap(net), 'out', false)).toBeLessThan(1e-5);
  });

  it('a hidden sigmoid is refused with the layer named, but layers before it stay usable', () => {
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'h1' }),
        tf.layers.dense({ units: 4, activation: 'sigmoid', name: 'dense' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    const pl = extractNetwork(wrap(net));
    expect(() => layerValues(pl, 'out', false)).toThrow('exact mode needs a piecewise-linear network: layer "dense" uses sigmoid');
    expect(layerValues(pl, 'dense', true)).toHaveLength(4);
    expect(layerValues(pl, 'h1', false)).toHaveLength(4);
  });

  it('the bundled Fashion-MNIST model: logits match TF.js', async () => {
    const model = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
    const pl = extractNetwork(model);
    const lm = model.net as tf.LayersModel;
    const last = lm.getLayer(model.outputs[0].layer);
    const hidden = tf.model({ inputs: lm.inputs, outputs: last.input as tf.SymbolicTensor });
    const rnd = seeded(5);
    const x = Float32Array.from({ length: 784 }, () => (rnd() + 1) / 2);
    const vals = forwardValues(pl, x);
    const mine = layerValues(pl, last.name, true).map((e) => evalExpr(e, vals));
    const ref = tf.tidy(() => { const [k, b] = last.getWeights(); return (hidden.predict(tf.tensor(x, [1, 28, 28])) as tf.Tensor).matMul(k).add(b).dataSync(); });
    mine.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThan(1e-4));
  });
});
