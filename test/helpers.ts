import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeModel } from '../src/model/describe.js';
import type { ActmaxModel } from '../src/model/types.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLED = path.join(REPO, 'models', 'fashion-mnist-mlp');
export const FIXTURES = path.resolve(REPO, '../shared/fixtures');

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
