/** Test support (not part of the library API): a small seeded CNN, in memory and as model files on disk. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeModel } from '../../model/describe.js';
import { toTfjsLayers } from '../../model/convert.js';
import type { ActmaxModel } from '../../model/types.js';

/**
 * Conv2D(4, 3×3, relu) → MaxPool → Flatten → Dense(3, softmax) on 8×8×1 inputs, weights from `seed`:
 * 7 atlas units (4 channels, 3 logits).
 *
 * @example
 * const model = tinyCnn(1);
 */
export function tinyCnn(seed = 1): ActmaxModel {
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  return describeModel({ net, format: 'tfjs-layers', metadata: { classNames: ['ring', 'bar', 'dot'] }, notes: [] }, 'memory');
}

/**
 * Write a model as TF.js layers files into `dir` (worker threads and processes load it from there).
 *
 * @example
 * await writeModelFolder(tinyCnn(), '/tmp/tiny'); // /tmp/tiny/model.json + weights.bin
 */
export async function writeModelFolder(model: ActmaxModel, dir: string): Promise<string> {
  const files = await toTfjsLayers(model);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'weights.bin'), files['weights.bin']);
  await fs.writeFile(path.join(dir, 'model.json'), files['model.json']);
  return dir;
}
