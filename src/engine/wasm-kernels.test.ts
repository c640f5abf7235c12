import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend.js';

/*
 * Input gradients of every common layer type: WASM (with the kernel fixes) must equal the CPU
 * backend, and both must match a central finite difference along a random direction.
 * Tolerances: WASM vs CPU 1e-4 relative to the gradient's largest entry (float32, different
 * summation order); finite differences 2e-2 relative (float32, step 1e-3, piecewise-linear kinks).
 */

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

interface Case {
  name: string;
  inputShape: number[];
  build(): tf.LayersModel;
}

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

function seq(inputShape: number[], layers: tf.layers.Layer[]): tf.LayersModel {
  const m = tf.sequential();
  layers.forEach((l) => m.add(l));
  m.build([null, ...inputShape]);
  return m;
}

const cases: Case[] = [
  { name: 'Dense relu → Dense', inputShape: [6], build: () => seq([6], [tf.layers.dense({ units: 5, activation: 'relu', inputShape: [6], kernelInitializer: seeded(1), biasInitializer: 'ones' }), tf.layers.dense({ units: 3, kernelInitializer: seeded(2) })]) },
  { name: 'Conv2D relu (same, stride 2)', inputShape: [7, 7, 2], build: () => seq([7, 7, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', inputShape: [7, 7, 2], kernelInitializer: seeded(3), biasInitializer: 'ones' })]) },
  { name: 'Conv2D linear (valid)', inputShape: [6, 6, 2], build: () => seq([6, 6, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, inputShape: [6, 6, 2], kernelInitializer: seeded(4) })]) },
  { name: 'DepthwiseConv2D', inputShape: [6, 6, 2], build: () => seq([6, 6, 2], [tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, inputShape: [6, 6, 2], depthwiseInitializer: seeded(5) })]) },
  { name: 'SeparableConv2D (same)', inputShape: [6, 6, 2], build: () => seq([6, 6, 2], [tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2], depthwiseInitializer: seeded(6), pointwiseInitializer: seeded(7) })]) },
  {
    name: 'Conv2D linear (negative bias) → MaxPooling2D',
    inputShape: [6, 6, 2],
    build: () => seq([6, 6, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, inputShape: [6, 6, 2], kernelInitializer: seeded(8), biasInitializer: tf.initializers.constant({ value: -3 }) }), tf.layers.maxPooling2d({ poolSize: 2 })]),
  },
  {
    name: 'Conv2D relu (negative bias, dead windows) → MaxPooling2D',
    inputShape: [6, 6, 2],
    build: () => seq([6, 6, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 2], kernelInitializer: seeded(18), biasInitializer: tf.initializers.constant({ value: -0.3 }) }), tf.layers.maxPooling2d({ poolSize: 2 })]),
  },
  { name: 'Conv2D ELU → MaxPooling2D', inputShape: [6, 6, 2], build: () => seq([6, 6, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'elu', inputShape: [6, 6, 2], kernelInitializer: seeded(9), biasInitializer: tf.initializers.constant({ value: -1 }) }), tf.layers.maxPooling2d({ poolSize: 2 })]) },
  { name: 'AveragePooling2D (same)', inputShape: [5, 5, 2], build: () => seq([5, 5, 2], [tf.layers.averagePooling2d({ poolSize: 2, padding: 'same', inputShape: [5, 5, 2] })]) },
  {
    name: 'BatchNormalization',
    inputShape: [4, 4, 3],
    build: () => {
      const m = seq([4, 4, 3], [tf.layers.batchNormalization({ inputShape: [4, 4, 3] })]);
      m.layers[0].setWeights([tf.tensor1d([1.5, -0.5, 2]), tf.tensor1d([0.1, 0.2, -0.3]), tf.tensor1d([0.3, -0.2, 0.5]), tf.tensor1d([2, 0.5, 1.5])]);
      return m;
    },
  },
  { name: 'AveragePooling2D (valid, stride 1)', inputShape: [5, 5, 2], build: () => seq([5, 5, 2], [tf.layers.averagePooling2d({ poolSize: 3, strides: 1, inputShape: [5, 5, 2] })]) },
  { name: 'Conv2D dilated 2 (relu, same)', inputShape: [9, 9, 2], build: () => seq([9, 9, 2], [tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', inputShape: [9, 9, 2], kernelInitializer: seeded(10), biasInitializer: 'ones' })]) },
  { name: 'Conv2D dilated [2,3] (relu, valid, no bias)', inputShape: [9, 10, 2], build: () => seq([9, 10, 2], [tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], dilationRate: [2, 3], useBias: false, activation: 'relu', inputShape: [9, 10, 2], kernelInitializer: seeded(11) })]) },
  { name: 'UpSampling2D (nearest, batch 3)', inputShape: [3, 4, 2], build: () => seq([3, 4, 2], [tf.layers.upSampling2d({ size: [2, 3], inputShape: [3, 4, 2] })]) },
];

/** Σ w·f(x) for a fixed random w: its gradient is the input gradient of one linear read-out. */
function readout(model: tf.LayersModel, x: tf.Tensor, w: tf.Tensor): tf.Scalar {
  return (model.apply(x, { training: false }) as tf.Tensor).mul(w).sum() as tf.Scalar;
}

async function gradOn(backend: 'wasm' | 'cpu', model: tf.LayersModel, x: tf.Tensor, w: tf.Tensor): Promise<Float32Array> {
  await useBackend(backend);
  return tf.tidy(() => tf.grad((xi: tf.Tensor) => readout(model, xi, w))(x).dataSync() as Float32Array).slice();
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('input gradients: WASM (fixed) = CPU = finite differences', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  for (const c of cases) {
    it(c.name, async () => {
      await useBackend('wasm');
      const model = c.build();
      const x = rand([3, ...c.inputShape], 11);
      const outShape = (model.outputs[0].shape as number[]).slice(1);
      const w = rand([3, ...outShape], 12);
      const gW = await gradOn('wasm', model, x, w);
      const gC = await gradOn('cpu', model, x, w);
      const scale = Math.max(maxAbs(gC), 1e-6);
      let worst = 0;
      for (let i = 0; i < gC.length; i++) worst = Math.max(worst, Math.abs(gW[i] - gC[i]) / scale);
      expect(worst).toBeLessThan(1e-4);
      expect(maxAbs(gC)).toBeGreaterThan(0);

      // Central finite difference along a random direction, on the CPU backend.
      await useBackend('cpu');
      const d = rand(x.shape, 13);
      const h = 1e-3;
      const fd = tf.tidy(() => (readout(model, x.add(d.mul(h)), w).dataSync()[0] - readout(model, x.sub(d.mul(h)), w).dataSync()[0]) / (2 * h));
      const dd = d.dataSync();
      let analytic = 0;
      for (let i = 0; i < gC.length; i++) analytic += gC[i] * dd[i];
      expect(Math.abs(fd - analytic)).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic)));
      tf.dispose([x, w, d]);
      model.dispose();
    });
  }

  it('gather (UnsortedSegmentSum gradient)', async () => {
    const x = rand([4, 5], 21);
    const f = (xi: tf.Tensor) => tf.gather(xi, [1, 3, 1], 1).mul(tf.tensor1d([1, 2, 3])).sum() as tf.Scalar;
    await useBackend('wasm');
    const gW = tf.tidy(() => tf.grad(f)(x).dataSync()).slice();
    await useBackend('cpu');
    const gC = tf.tidy(() => tf.grad(f)(x).dataSync()).slice();
    expect(Array.from(gW)).toEqual(Array.from(gC));
    // Column 1 collects weights 1 + 3, column 3 weight 2, others 0.
    expect(Array.from(gC.slice(0, 5))).toEqual([0, 4, 0, 2, 0]);
    x.dispose();
  });

  it('conv3d input gradient', async () => {
    const x = rand([2, 4, 4, 4, 2], 31);
    const k = rand([2, 2, 2, 2, 3], 32);
    const f = (xi: tf.Tensor) => tf.conv3d(xi as tf.Tensor5D, k as tf.Tensor5D, 1, 'same').square().sum() as tf.Scalar;
    await useBackend('wasm');
    const gW = tf.tidy(() => tf.grad(f)(x).dataSync()).slice();
    await useBackend('cpu');
    const gC = tf.tidy(() => tf.grad(f)(x).dataSync()).slice();
    const scale = maxAbs(gC);
    for (let i = 0; i < gC.length; i++) expect(Math.abs(gW[i] - gC[i])).toBeLessThan(1e-4 * scale);
    tf.dispose([x, k]);
  });
});
