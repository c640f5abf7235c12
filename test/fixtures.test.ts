/**
 * Every real model fixture (test/fixtures, plus ../shared/fixtures when it is beside the checkout)
 * loads and computes what an independent float64 implementation computed from the same file
 * (outputs, logits and every layer's activation), within
 * max|actual − expected| ≤ 1e-4 · max(1, max|expected|) per vector. WASM backend.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFiles } from '../src/model/formats.js';
import { ActmaxError } from '../src/errors.js';
import { filesFromDisk, relError, useBackend } from '../src/model/testing/model-files.js';
import { fixturePath, listFixtures, repoFixturesDir, sharedFixturesDir, skipWithout } from '../src/model/testing/fixtures.js';
import { k3Layer, k3Sequential, writeKerasV3 } from '../src/model/testing/write-keras.js';

const TOL = 1e-4;

interface Expected {
  format: string;
  inputs: { name: string; shape: number[] }[];
  cases: { input: Record<string, number[]>; output: number[]; logits: number[] | null }[];
  layers: Record<string, number[]>;
  outputName: string;
}

beforeAll(async () => {
  await useBackend('wasm');
});

/** The tensors feeding layer `name` and, for a Dense with a final softmax/sigmoid, how to get its pre-activation. */
function logitsOf(net: tf.LayersModel, layerName: string): { tensor: tf.SymbolicTensor; finish: (x: tf.Tensor) => tf.Tensor } {
  const layer = net.getLayer(layerName);
  const cls = layer.getClassName();
  const input = layer.input as tf.SymbolicTensor;
  if (cls === 'Activation' || cls === 'Softmax') return { tensor: input, finish: (x) => x };
  if (cls === 'Dense') {
    const [kernel, bias] = layer.getWeights();
    return { tensor: input, finish: (x) => (bias ? tf.add(tf.matMul(x, kernel), bias) : tf.matMul(x, kernel)) };
  }
  throw new Error(`no logits rule for ${cls}`);
}

// tfjs-graph-realworld/ (control flow, NMS) is issue 11's to load (branch ir); it lifts this filter.
const files = listFixtures((name) => name.endsWith('.expected.json')).filter((f) => !f.startsWith('tfjs-graph-realworld/'));
/** The reference files the repository carries: these run in every checkout. */
const carried = listFixtures(() => true).filter((f) => f.endsWith('.expected.json') && existsSync(path.join(repoFixturesDir, f)));

describe('real fixtures', () => {
  it('finds the fixtures (7 in the repository, at least 13 with ../shared/fixtures)', () => {
    expect(carried.length).toBeGreaterThanOrEqual(7);
    expect(files.length).toBeGreaterThanOrEqual(existsSync(sharedFixturesDir) ? 13 : 7);
  });

  for (const expRel of files) {
    const expFile = fixturePath(expRel);
    const modelFile = expFile.replace(/\.expected\.json$/, '');
    const rel = expRel.replace(/\.expected\.json$/, '');
    it(`${rel}: output, logits and every layer match the reference`, async () => {
      const exp = JSON.parse(readFileSync(expFile, 'utf8')) as Expected;
      const loaded = await loadModelFiles(await filesFromDisk(modelFile), path.basename(modelFile));
      const net = loaded.net;
      try {
        const batch = (k: number[]) =>
          exp.inputs.map((inp) => tf.tensor(k.flatMap((c) => exp.cases[c].input[inp.name]), [k.length, ...inp.shape]));
        if (net instanceof tf.GraphModel) {
          expect(loaded.format).toBe('tfjs-graph');
          const feeds = Object.fromEntries(exp.inputs.map((inp, i) => [inp.name, batch([0, 1, 2])[i]]));
          const out = net.execute(feeds) as tf.Tensor;
          const values = out.arraySync() as number[][];
          exp.cases.forEach((c, k) => expect(relError(values[k], c.output), `case ${k}`).toBeLessThanOrEqual(TOL));
          const names = Object.keys(exp.layers);
          const one = Object.fromEntries(exp.inputs.map((inp, i) => [inp.name, batch([0])[i]]));
          const acts = net.execute(one, names) as tf.Tensor[];
          names.forEach((n, i) => expect(relError(acts[i].dataSync(), exp.layers[n]), n).toBeLessThanOrEqual(TOL));
          tf.dispose([out, ...acts, ...Object.values(feeds), ...Object.values(one)]);
          return;
        }
        const inputOrder = net.inputNames;
        expect(inputOrder).toEqual(exp.inputs.map((i) => i.name));
        const xs = batch([0, 1, 2]);
        const y = net.predict(xs) as tf.Tensor;
        const values = y.arraySync() as number[][];
        exp.cases.forEach((c, k) => expect(relError(values[k].flat(Infinity) as number[], c.output), `case ${k} output`).toBeLessThanOrEqual(TOL));

        if (exp.cases[0].logits) {
          const { tensor, finish } = logitsOf(net, exp.outputName);
          const head = tf.model({ inputs: net.inputs, outputs: tensor });
          const logits = tf.tidy(() => finish(head.predict(xs) as tf.Tensor));
          const lv = logits.arraySync() as number[][];
          exp.cases.forEach((c, k) => expect(relError(lv[k], c.logits!), `case ${k} logits`).toBeLessThanOrEqual(TOL));
          logits.dispose();
        }

        const names = Object.keys(exp.layers);
        const probe = tf.model({ inputs: net.inputs, outputs: names.map((n) => net.getLayer(n).output as tf.SymbolicTensor) });
        const first = batch([0]);
        let acts = probe.predict(first) as tf.Tensor | tf.Tensor[];
        if (!Array.isArray(acts)) acts = [acts];
        names.forEach((n, i) => expect(relError((acts as tf.Tensor[])[i].dataSync(), exp.layers[n]), `layer ${n}`).toBeLessThanOrEqual(TOL));
        tf.dispose([y, ...xs, ...first, ...acts]);
      } finally {
        net.dispose();
      }
    });
  }

  const multi = skipWithout('keras2.15-mlp-bn-mnist-multiformat/mnist_model.keras');
  it.skipIf(multi)(`the three formats of keras2.15-mlp-bn-mnist-multiformat give identical outputs${multi}`, async () => {
    const dir = path.dirname(fixturePath('keras2.15-mlp-bn-mnist-multiformat/mnist_model.keras'));
    const paths = ['mnist_model.h5', 'mnist_model.keras', 'tfjs_layers/model.json'].map((p) => path.join(dir, p));
    const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 7);
    const outs: Float32Array[] = [];
    const formats: string[] = [];
    for (const p of paths) {
      const loaded = await loadModelFiles(await filesFromDisk(p), path.basename(p));
      formats.push(loaded.format);
      const y = (loaded.net as tf.LayersModel).predict(x) as tf.Tensor;
      outs.push(y.dataSync() as Float32Array);
      y.dispose();
      loaded.net.dispose();
    }
    x.dispose();
    expect(formats).toEqual(['keras-h5', 'keras-v3', 'tfjs-layers']);
    expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
    expect(Array.from(outs[2])).toEqual(Array.from(outs[0]));
  });

  for (const [file, version] of [
    ['keras2-h5-mlp-sigmoid-marabou/fc_2-2sigmoids-3.h5', '2.2.4-tf'],
    ['keras3-legacy-h5-fashion-mlp-128/fashion_mnist_model.h5', '3.3.3'],
    ['keras3-keras-mnist-mlp-cnn/mnist_mlp.keras', '3.12.0'],
    ['keras2.15-mlp-bn-mnist-multiformat/tfjs_layers/model.json', '2.15.0'],
  ]) {
    const why = skipWithout(file);
    it.skipIf(why)(`records the Keras version that wrote ${file} (${version})${why}`, async () => {
      expect((await loadModelFiles(await filesFromDisk(fixturePath(file)), file)).kerasVersion).toBe(version);
    });
  }

  const qkeras = skipWithout('keras3-keras-custom-layers-qkeras/qkeras-v3_3layer.keras');
  it.skipIf(qkeras)(`refuses the QKeras custom-layer model with a clear error${qkeras}`, async () => {
    const p = fixturePath('keras3-keras-custom-layers-qkeras/qkeras-v3_3layer.keras');
    const err = await loadModelFiles(await filesFromDisk(p), 'qkeras-v3_3layer.keras').catch((e) => e);
    expect(err).toBeInstanceOf(ActmaxError);
    expect(err.code).toBe('unsupported-layer');
    expect(err.message).toBe(
      'qkeras-v3_3layer.keras: layer "fc1" of class QDense (qkeras>QDense) is not supported; actmax never runs code from model files — rebuild it with standard Keras layers',
    );
  });
});

describe('tfjs-e2e-load-predict (numbers recorded by the TF.js team)', () => {
  const dir = fixturePath('tfjs-e2e-load-predict');
  const expected = existsSync(path.join(dir, 'expected.json')) ? JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) : null;

  it('GRU layers model reproduces the recorded output', async () => {
    const e = expected.layers_model;
    const loaded = await loadModelFiles(await filesFromDisk(path.join(dir, e.model)), 'model.json');
    expect(loaded.format).toBe('tfjs-layers');
    const x = tf.tensor(e.input.values, e.input.shape);
    const y = (loaded.net as tf.LayersModel).predict(x) as tf.Tensor;
    expect(y.shape).toEqual(e.expected_output.shape);
    expect(relError(y.dataSync(), e.expected_output.values)).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, y]);
    loaded.net.dispose();
  });

  for (const m of ['graph_model/model.json', 'graph_model/model_new.json']) {
    it(`${m}: MatMul graph model reproduces the recorded output`, async () => {
      const e = expected.graph_model;
      const loaded = await loadModelFiles(await filesFromDisk(path.join(dir, m)), path.basename(m));
      expect(loaded.format).toBe('tfjs-graph');
      const net = loaded.net as tf.GraphModel;
      expect(net.inputs.map((i) => i.name)).toEqual([e.input_node]);
      expect(net.outputs.map((o) => o.name)).toEqual([e.expected_output.node]);
      const x = tf.tensor(e.input.values, e.input.shape);
      const y = net.execute({ [e.input_node]: x }) as tf.Tensor;
      expect(relError(y.dataSync(), e.expected_output.values)).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, y]);
      net.dispose();
    });
  }
});

describe('no leaked tensors', () => {
  /** A small Keras 3 .keras file written here (the real ones are not redistributable). */
  const kerasV3 = () =>
    writeKerasV3(
      k3Sequential('seq', [k3Layer('InputLayer', 'inp', { batch_shape: [null, 3] }), k3Layer('Dense', 'fc', { units: 2, activation: 'softmax', use_bias: true })]),
      [{ key: 'dense', name: 'fc', vars: [{ shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }, { shape: [2], data: [0.5, -0.5] }] }],
    );

  it('loading and disposing each kind of model leaves no tensors behind', async () => {
    const carriedKinds = [
      'keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5',
      'keras3-legacy-h5-fashion-mlp-128/fashion_mnist_model.h5',
      'tfjs-layers-abalone-mlp/model.json',
      'tfjs-graph-dense-fusedmatmul/model.json',
    ];
    const sharedKinds = [
      'keras2-h5-hls4ml/keras_jetTagger_Conv2D_small.h5',
      'keras3-keras-mnist-mlp-cnn/mnist_cnn.keras',
      'keras2.15-mlp-bn-mnist-multiformat/tfjs_layers/model.json',
    ].filter((p) => !skipWithout(p));
    for (const p of [...carriedKinds, ...sharedKinds]) {
      const before = tf.memory().numTensors;
      const loaded = await loadModelFiles(await filesFromDisk(fixturePath(p)), p);
      loaded.net.dispose();
      expect(tf.memory().numTensors, p).toBe(before);
    }
    const before = tf.memory().numTensors;
    const written = await loadModelFiles({ main: await kerasV3(), mainName: 'w.keras', readSibling: () => Promise.reject(new Error('none')) }, 'w.keras');
    expect(written.format).toBe('keras-v3');
    written.net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  const qkeras = skipWithout('keras3-keras-custom-layers-qkeras/qkeras-v3_3layer.keras');
  it.skipIf(qkeras)(`a refused custom-layer model leaves no tensors behind${qkeras}`, async () => {
    const before = tf.memory().numTensors;
    const p = fixturePath('keras3-keras-custom-layers-qkeras/qkeras-v3_3layer.keras');
    await loadModelFiles(await filesFromDisk(p), 'q.keras').catch(() => undefined);
    expect(tf.memory().numTensors).toBe(before);
  });
});
