import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeModel } from '../src/model/describe.js';
import { loadModel } from '../src/model/load.js';
import type { ActmaxModel } from '../src/model/types.js';
import { fixturePath } from '../src/model/testing/fixtures.js';
import { k3Layer, k3Sequential, writeKerasV3 } from '../src/model/testing/write-keras.js';

export { fixture, fixturePath, skipUnlessLong, skipWithout } from '../src/model/testing/fixtures.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLED = path.join(REPO, 'models', 'fashion-mnist-mlp');

/** Wrap an in-memory tf.LayersModel as an ActmaxModel (for tests). */
export function wrap(net: tf.LayersModel, metadata: Record<string, unknown> = {}): ActmaxModel {
  return describeModel({ net, format: 'tfjs-layers', metadata, notes: [] }, 'memory');
}

/** A small seeded CNN: Conv2D(4,3,relu) → MaxPool → Flatten → Dense(3, softmax), input 8×8×1. */
export function smallCnn(seed = 1): ActmaxModel {
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  return wrap(net);
}

/**
 * A Keras 3 `.keras` file holding the trained Marabou MNIST CNN (test/fixtures, BSD-3): the same
 * layers and weights as `cnn_max_mnist2.h5`, written in the .keras layout — for tests that need a
 * real trained CNN in a .keras file (the real-world .keras fixtures are not redistributable).
 */
export async function marabouCnnKeras(): Promise<Uint8Array> {
  const h5 = await loadModel(fixturePath('keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5'));
  try {
    const net = h5.net as tf.LayersModel;
    const vars = (layer: string) => net.getLayer(layer).getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() as Float32Array }));
    const conv = (name: string, filters: number) =>
      k3Layer('Conv2D', name, { filters, kernel_size: [4, 4], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true });
    const config = k3Sequential('mnist_cnn', [
      k3Layer('InputLayer', 'input_layer', { batch_shape: [null, 28, 28, 1] }),
      conv('conv2d', 8),
      conv('conv2d_1', 4),
      k3Layer('MaxPooling2D', 'max_pooling2d', { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' }),
      k3Layer('Flatten', 'flatten', { data_format: 'channels_last' }),
      k3Layer('Dense', 'dense', { units: 32, activation: 'relu', use_bias: true }),
      k3Layer('Dense', 'dense_1', { units: 10, activation: 'linear', use_bias: true }),
    ]);
    return await writeKerasV3(config, [
      { key: 'conv2d', name: 'conv2d', vars: vars('conv2d_14') },
      { key: 'conv2d_1', name: 'conv2d_1', vars: vars('conv2d_15') },
      { key: 'dense', name: 'dense', vars: vars('dense_14') },
      { key: 'dense_1', name: 'dense_1', vars: vars('dense_15') },
    ]);
  } finally {
    h5.dispose();
  }
}
