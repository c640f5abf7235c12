import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/model/load.js';
import type { ActmaxModel } from '../src/model/types.js';
import { maximize, type MaximizeOptions } from '../src/optimize/maximize.js';
import { Rng } from '../src/optimize/rng.js';
import { shiftImages } from '../src/transforms/transforms.js';
import { BUNDLED, fixturePath, skipWithout } from './helpers.js';

// Issue 5, proof (1): with the image defaults, the picture for each class still reads as that
// class after random whole-pixel shifts of up to ±2 px (zero fill); the same figure without
// transforms is printed beside it.

const SHIFTS = (() => {
  const rng = new Rng(11);
  return Array.from({ length: 12 }, () => [rng.int(-2, 2), rng.int(-2, 2)] as [number, number]);
})();

/** Per class: the mean and the lowest probability of that class over the random shifts. */
function shiftedProbabilities(model: ActmaxModel, inputs: Float32Array, classes: number): { mean: number[]; min: number[] } {
  const shape = model.inputs[0].shape;
  const out = model.outputs[0];
  const per: number[][] = Array.from({ length: classes }, () => []);
  for (const [dy, dx] of SHIFTS) {
    const x = shiftImages(inputs, classes, shape, dy, dx, model.inputs[0].range[0]);
    const p = tf.tidy(() => {
      let y = (model.net as tf.LayersModel).predict(tf.tensor(x, [classes, ...shape])) as tf.Tensor;
      if (out.finalActivation === null) y = y.softmax();
      return y.arraySync() as number[][];
    });
    p.forEach((row, i) => per[i].push(row[i]));
  }
  return { mean: per.map((v) => v.reduce((a, b) => a + b, 0) / v.length), min: per.map((v) => Math.min(...v)) };
}

async function robustness(model: ActmaxModel, opts: MaximizeOptions) {
  const classes = model.outputs[0].units;
  const targets = Array.from({ length: classes }, (_, index) => ({ kind: 'margin' as const, index }));
  const figure = async (image: MaximizeOptions['image']) => {
    const run = await maximize(model, targets, { seed: 1, constraints: [{ kind: 'box', lo: model.inputs[0].range[0], hi: model.inputs[0].range[1] }], ...opts, image });
    return shiftedProbabilities(model, Float32Array.from(run.results.flatMap((r) => r.input)), classes);
  };
  const withDefaults = await figure('auto');
  const without = await figure(undefined);
  const fmt = (v: number[]) => v.map((x) => x.toFixed(2)).join(' ');
  console.log(`${path.basename(model.source)}: probability of the class under ${SHIFTS.length} random shifts ≤ ±2 px (mean per class / lowest)\n` +
    `  image defaults:    ${fmt(withDefaults.mean)}  /  ${fmt(withDefaults.min)}\n` +
    `  no transforms/TV:  ${fmt(without.mean)}  /  ${fmt(without.min)}`);
  return { withDefaults, without };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('pictures survive small shifts (image defaults vs none)', () => {
  it('bundled Fashion-MNIST MLP: every class ≥ 0.9 on average over the shifts', async () => {
    const model = await loadModel(BUNDLED);
    const { withDefaults, without } = await robustness(model, { steps: 120, restarts: 3 });
    for (const p of withDefaults.mean) expect(p).toBeGreaterThanOrEqual(0.9);
    expect(mean(withDefaults.mean)).toBeGreaterThan(mean(without.mean) + 0.1);
    model.dispose();
  });

  for (const [file, steps, restarts] of [
    ['keras3-keras-mnist-mlp-cnn/mnist_cnn.keras', 60, 1],
    ['keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5', 100, 1],
  ] as const) {
    const why = skipWithout(file);
    it.skipIf(why)(`${file}: every class ≥ 0.9 on average over the shifts${why}`, async () => {
      const model = await loadModel(fixturePath(file));
      const { withDefaults, without } = await robustness(model, { steps, restarts });
      for (const p of withDefaults.mean) expect(p).toBeGreaterThanOrEqual(0.9);
      expect(mean(withDefaults.mean)).toBeGreaterThanOrEqual(mean(without.mean));
      model.dispose();
    });
  }

  const hls = skipWithout('keras2-h5-hls4ml/keras_conv2d_model.h5');
  it.skipIf(hls)(`keras2-h5-hls4ml/keras_conv2d_model.h5 (8×8: a ±2 px shift moves a quarter of the image): transforms do not hurt${hls}`, async () => {
    // Even unshifted, this model's best inputs in [0, 1] reach only ≈0.85–0.98 per class, so the
    // 0.9 bar cannot hold under shifts; the figures are printed for the record.
    const model = await loadModel(fixturePath('keras2-h5-hls4ml/keras_conv2d_model.h5'));
    const { withDefaults, without } = await robustness(model, { steps: 150, restarts: 2 });
    expect(mean(withDefaults.mean)).toBeGreaterThanOrEqual(mean(without.mean) - 0.02);
    model.dispose();
  });
});
