/**
 * The IR of every layers fixture, run on TF.js (WASM), computes what an independent float64
 * implementation computed from the same file: outputs and every recorded layer, within the
 * fixtures' tolerance (max|a − e| ≤ 1e-4·max(1, max|e|)); and what TF.js's own `predict`
 * computes on random inputs, within 1e-5 of the output's scale.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { loadModelFiles } from '../model/formats.js';
import { filesFromDisk, relError } from '../model/testing/model-files.js';
import { fixturePath, listFixtures } from '../model/testing/fixtures.js';
import { irFromLayers } from './from-layers.js';
import { IrProgram } from './tfjs-exec.js';

interface Expected {
  inputs: { name: string; shape: number[] }[];
  cases: { input: Record<string, number[]>; output: number[] }[];
  layers: Record<string, number[]>;
}

/** Layers-model fixtures with a reference (graph models are tested in from-graph tests), relative to a fixtures folder. */
function layersFixtures(): string[] {
  return listFixtures((n) => n.endsWith('.expected.json'))
    .map((f) => f.replace(/\.expected\.json$/, ''))
    .filter((f) => !/graph/.test(f));
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('layers models → IR → TF.js', () => {
  const files = layersFixtures();
  it('finds the layers fixtures (the repository holds 6; ../shared/fixtures adds the rest)', () => expect(files.length).toBeGreaterThanOrEqual(6));

  for (const rel of files) {
    const file = fixturePath(rel);
    it(`${rel}: outputs and layers match the reference; outputs match TF.js predict`, async () => {
      const exp = JSON.parse(readFileSync(`${file}.expected.json`, 'utf8')) as Expected;
      const net = (await loadModelFiles(await filesFromDisk(file), path.basename(file))).net as tf.LayersModel;
      const ir = irFromLayers(net);
      const prog = new IrProgram(ir);
      try {
        tf.tidy(() => {
          const xs = exp.inputs.map((inp) => tf.tensor(exp.cases.flatMap((c) => c.input[inp.name]), [exp.cases.length, ...inp.shape]));
          const [y] = prog.run(xs, [ir.outputs[0].value]);
          const n = y.size / exp.cases.length;
          const v = y.dataSync();
          exp.cases.forEach((c, k) => expect(relError(v.subarray(k * n, (k + 1) * n), c.output), `case ${k}`).toBeLessThanOrEqual(1e-4));
          const first = exp.inputs.map((inp) => tf.tensor(exp.cases[0].input[inp.name], [1, ...inp.shape]));
          for (const [name, values] of Object.entries(exp.layers)) {
            const layer = ir.layers.find((l) => l.name === name) ?? { output: name };
            const [a] = prog.run(first, [layer.output]);
            expect(relError(a.dataSync(), values), `layer ${name}`).toBeLessThanOrEqual(1e-4);
          }
          const rand = exp.inputs.map((inp, i) => tf.randomUniform([5, ...inp.shape], 0, 1, 'float32', 11 + i));
          const ours = prog.run(rand, ir.outputs.map((o) => o.value));
          const theirs = net.predict(rand.length === 1 ? rand[0] : rand) as tf.Tensor | tf.Tensor[];
          (Array.isArray(theirs) ? theirs : [theirs]).forEach((t, k) => expect(relError(ours[k].dataSync(), t.dataSync()), `output ${k}`).toBeLessThanOrEqual(1e-5));
        });
      } finally {
        prog.dispose();
        net.dispose();
      }
    });
  }
});

describe('layer kinds beyond the fixtures: IR = TF.js predict (1e-5)', () => {
  const init = (seed: number) => tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });
  const check = (net: tf.LayersModel) => {
    const ir = irFromLayers(net);
    const prog = new IrProgram(ir);
    tf.tidy(() => {
      const xs = net.inputs.map((t, i) => tf.randomUniform([3, ...(t.shape.slice(1) as number[])], -1, 1, 'float32', 40 + i));
      const ours = prog.run(xs, ir.outputs.map((o) => o.value));
      const theirs = net.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
      expect(relError(ours[0].dataSync(), theirs.dataSync())).toBeLessThanOrEqual(1e-5);
    });
    prog.dispose();
    net.dispose();
  };
  it('Conv2DTranspose (same/valid, stride 2), Permute, Dense on rank 3, mish, hard_sigmoid, log_softmax', () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2dTranspose({ inputShape: [5, 4, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'mish', kernelInitializer: init(1), biasInitializer: init(2) }));
    m.add(tf.layers.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [2, 1], padding: 'valid', activation: 'hardSigmoid', kernelInitializer: init(3), biasInitializer: init(4) }));
    m.add(tf.layers.permute({ dims: [2, 1, 3] }));
    m.add(tf.layers.dense({ units: 4, activation: 'logSoftmax' as 'softmax' /* registered by TF.js, missing from its type */, kernelInitializer: init(5), biasInitializer: init(6) }));
    check(m);
  });
  it('channels-first Conv2D, pooling and Flatten; ThresholdedReLU; RepeatVector', () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [2, 6, 6], dataFormat: 'channelsFirst', filters: 3, kernelSize: 3, padding: 'same', activation: 'elu', kernelInitializer: init(7), biasInitializer: init(8) }));
    m.add(tf.layers.maxPooling2d({ dataFormat: 'channelsFirst', poolSize: 2 }));
    m.add(tf.layers.flatten({ dataFormat: 'channelsFirst' }));
    m.add(tf.layers.thresholdedReLU({ theta: 0.1 }));
    m.add(tf.layers.repeatVector({ n: 2 }));
    check(m);
  });
  it('Maximum, Minimum, Concatenate on axis 1, Average', () => {
    const a = tf.input({ shape: [3, 4] });
    const b = tf.input({ shape: [3, 4] });
    const d = tf.layers.dense({ units: 4, kernelInitializer: init(9) }).apply(a) as tf.SymbolicTensor;
    const mx = tf.layers.maximum().apply([d, b]) as tf.SymbolicTensor;
    const mn = tf.layers.minimum().apply([a, b]) as tf.SymbolicTensor;
    const av = tf.layers.average().apply([mx, mn, a]) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ axis: 1 }).apply([av, mx]) as tf.SymbolicTensor;
    check(tf.model({ inputs: [a, b], outputs: cat }));
  });
  it('a recurrent model has no IR, with the reason', () => {
    const m = tf.sequential();
    m.add(tf.layers.lstm({ inputShape: [4, 2], units: 3, name: 'lstm' }));
    expect(() => irFromLayers(m)).toThrow(/layer "lstm" \(LSTM\) is recurrent/);
    m.dispose();
  });
});
