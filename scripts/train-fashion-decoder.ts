/**
 * Trains the bundled decoder `models/fashion-mnist-decoder/` (run: `npm run train:fashion-decoder`),
 * the generator G of `--prior decoder:models/fashion-mnist-decoder`.
 *
 * A small conditional variational autoencoder on the same seeded 60k training split as the
 * bundled classifier (src/data/fashion.ts): encoder [784 pixels, one-hot class (10)] → HIDDEN
 * (relu) → 2·LATENT (mean, log-variance), decoder [z (LATENT), one-hot class (10)] → HIDDEN (relu)
 * → 784 (sigmoid) → 28×28 (bundled: LATENT 8, HIDDEN 128); `--unconditional` drops the class
 * (a plain VAE, the decoder bundled before the conditional one). Loss = binary cross-entropy per image +
 * β·KL to N(0, I) (bundled: β = 0.5, 16 epochs); Adam 1e-3, batch 128, TF.js WASM backend.
 * Reproducible: seeded initialisers, batch order from mulberry32(SHUFFLE_SEED + epoch),
 * reparameterisation noise seeded per step.
 * Only the decoder is saved, with `actmaxLatent` in its metadata, over its whole input (the
 * encoder's means over the training split, then each image's class code): the 0.5/99.5 % box, the
 * standard deviation and the median Mahalanobis norm of the means, and their clusters (k-means
 * within each class over the means; a quantile table per cluster, and the codes of the
 * `--cores-per-cluster` examples nearest each centre, default 10). `--prior decoder:…` reads them:
 * its default code set is one of the boxes around those core codes (the class code fixed at the
 * cluster's class); `--clusters-per-class N`, default 4, for variants.
 *
 * @example
 * // nice npm run train:fashion-decoder            (conditional, 16 epochs, β 0.5: the bundled decoder, ≈ 8 minutes)
 * // nice npm run train:fashion-decoder -- --unconditional --epochs 6 --out /tmp/vae   (the decoder bundled before the conditional one)
 * // nice npm run train:fashion-decoder -- --latent 16 --hidden 256 --out /tmp/dec16   (a variant, elsewhere)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FASHION_PIXELS, FASHION_SPLIT_SEED, fashionMnistVersion, loadFashionMnist, mulberry32 } from '../src/data/fashion.js';
import { classClusters } from './prior-clusters.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** `--name VALUE` from the command line, else `fallback`. */
function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : (process.argv[at + 1] ?? '');
}
/** A positive integer flag; a bad value stops the script with a one-line message. */
function positiveIntFlag(name: string, fallback: number): number {
  const text = flag(name, String(fallback));
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return n;
}
/** Where the decoder is written (`--out DIR`; default the bundled one, models/fashion-mnist-decoder). */
const outDir = path.resolve(flag('--out', path.join(repoRoot, 'models', 'fashion-mnist-decoder')));
/** Latent size and hidden units (`--latent`, `--hidden`): the bundled decoder uses the defaults. */
const LATENT = positiveIntFlag('--latent', 8);
/** Hidden widths, `--hidden 128` or several layers `--hidden 256,512` (decoder order; the encoder mirrors them). */
const HIDDEN_TEXT = flag('--hidden', '128');
const HIDDEN = HIDDEN_TEXT.split(',').map(Number);
if (!HIDDEN.every((h) => Number.isInteger(h) && h >= 1)) throw new Error(`--hidden must be positive integers separated by commas, got "${HIDDEN_TEXT}"`);
/**
 * Weight β of the KL term (`--beta`; the bundled decoder: 0.5). Below 1 the pictures are sharper
 * and the code less regular. Measured for the unconditional decoder (bench/prior.ts's judge, 8-d,
 * 128 hidden, its cluster boxes): β = 1, 4 epochs: 7/10 classes look like data; β = 0.5, 6 epochs:
 * 9/10 (Sandal's maximum a high heel 6.7 from the data); β = 0.25 with 256 hidden draws Shirt as a
 * T-shirt. Conditional, boxes of half-diagonal 1 around 10 core codes a cluster: 10 epochs 9/10,
 * 16 epochs (bundled) 10/10, 20 epochs 9/10, 24 epochs 8/10 (Shirt's p or Sandal's distance);
 * 6 epochs 7–8/10 (5 or 20 cores); 256 hidden 6/10; a 4-d latent 4/10.
 */
const BETA = Number(flag('--beta', '0.5'));
if (!(BETA > 0)) throw new Error(`--beta must be a positive number, got "${flag('--beta', '0.5')}"`);
const BATCH = 128;
const LR = 1e-3;
const INIT_SEED = 4321;
const SHUFFLE_SEED = 8765;
const NOISE_SEED = 97;
/** k-means clusters per class of the training codes (`--clusters-per-class`; the bundled decoder: 4). */
const CLUSTERS_PER_CLASS = positiveIntFlag('--clusters-per-class', 4);
const CLUSTER_SEED = 1;
const EPOCHS = positiveIntFlag('--epochs', 16);
/** Classes the decoder is conditioned on (a one-hot code after z); 0 with `--unconditional`. */
const CLASSES = process.argv.includes('--unconditional') ? 0 : 10;
/** Codes recorded per cluster: those of the training images nearest its centre (`--cores-per-cluster`). */
const CORES_PER_CLUSTER = positiveIntFlag('--cores-per-cluster', 10);

/** One-hot class codes of `n` labels (n × CLASSES). */
function oneHot(labels: ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) out[i * CLASSES + labels[i]] = 1;
  return out;
}

/** [a, class code] for a conditional model, else a. */
function withClass(a: tf.Tensor2D, classCode: tf.Tensor2D | null): tf.Tensor2D {
  return classCode ? tf.concat([a, classCode], 1) : a;
}

const dense = (name: string, units: number, activation: 'relu' | 'sigmoid' | 'linear', seed: number, inputShape?: number[]) =>
  tf.layers.dense({ name, units, activation, kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros', ...(inputShape ? { inputShape } : {}) });

function buildEncoder(): tf.Sequential {
  const m = tf.sequential({ name: 'fashion_encoder' });
  [...HIDDEN].reverse().forEach((units, i) => m.add(dense(i ? `enc_hidden${i + 1}` : 'enc_hidden', units, 'relu', INIT_SEED + 10 * i, i ? undefined : [FASHION_PIXELS + CLASSES])));
  m.add(dense('enc_out', 2 * LATENT, 'linear', INIT_SEED + 1));
  return m;
}

function buildDecoder(): tf.Sequential {
  const m = tf.sequential({ name: 'fashion_mnist_decoder' });
  HIDDEN.forEach((units, i) => m.add(dense(i ? `dec_hidden${i + 1}` : 'dec_hidden', units, 'relu', INIT_SEED + 2 + 10 * i, i ? undefined : [LATENT + CLASSES])));
  m.add(dense('dec_out', FASHION_PIXELS, 'sigmoid', INIT_SEED + 3));
  m.add(tf.layers.reshape({ name: 'image', targetShape: [28, 28] }));
  return m;
}

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

/** Mean per image of BCE(x, G(μ + σ·ε, y)) + β·KL(N(μ, σ²) ‖ N(0, I)), μ and σ from E(x, y); y the class code (null: unconditional). */
function loss(encoder: tf.LayersModel, decoder: tf.LayersModel, x: tf.Tensor2D, classCode: tf.Tensor2D | null, step: number): tf.Scalar {
  return tf.tidy(() => {
    const h = encoder.apply(withClass(x, classCode)) as tf.Tensor2D;
    const mu = h.slice([0, 0], [-1, LATENT]);
    const logvar = h.slice([0, LATENT], [-1, LATENT]).clipByValue(-10, 10);
    const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', NOISE_SEED + step);
    const z = mu.add(logvar.mul(0.5).exp().mul(eps));
    const y = (decoder.apply(withClass(z, classCode)) as tf.Tensor).reshape([-1, FASHION_PIXELS]).clipByValue(1e-6, 1 - 1e-6);
    const bce = x.mul(y.log()).add(tf.scalar(1).sub(x).mul(tf.scalar(1).sub(y).log())).sum(1).neg();
    const kl = mu.square().add(logvar.exp()).sub(logvar).sub(1).sum(1).mul(0.5);
    return bce.add(kl.mul(BETA)).mean() as tf.Scalar;
  });
}

function writeAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/**
 * The decoder's input codes of the training split (the encoder's means, then the class code) →
 * their box, scale, median Mahalanobis norm (of the means) and per-class clusters (k-means over
 * the means) with their core examples.
 */
function latentStats(encoder: tf.LayersModel, images: Float32Array, labels: Uint8Array, count: number) {
  const dims = LATENT + CLASSES;
  const codes = new Float32Array(count * dims);
  for (let s = 0; s < count; s += 4096) {
    const n = Math.min(4096, count - s);
    const m = tf.tidy(() => {
      const x = tf.tensor2d(images.subarray(s * FASHION_PIXELS, (s + n) * FASHION_PIXELS), [n, FASHION_PIXELS]);
      const classCode = CLASSES ? tf.tensor2d(oneHot(labels.subarray(s, s + n), n), [n, CLASSES]) : null;
      return withClass((encoder.apply(withClass(x, classCode)) as tf.Tensor2D).slice([0, 0], [-1, LATENT]), classCode).dataSync();
    });
    codes.set(m, s * dims);
  }
  const q = (sorted: Float64Array, f: number) => sorted[Math.min(sorted.length - 1, Math.round(f * (sorted.length - 1)))];
  const lo: number[] = [], hi: number[] = [], scale: number[] = [];
  for (let c = 0; c < dims; c++) {
    const col = Float64Array.from({ length: count }, (_, r) => codes[r * dims + c]).sort();
    const mean = col.reduce((a, b) => a + b, 0) / count;
    lo.push(Number(q(col, 0.005).toFixed(5)));
    hi.push(Number(q(col, 0.995).toFixed(5)));
    scale.push(Number(Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / count).toFixed(5)));
  }
  const norms = Float64Array.from({ length: count }, (_, r) => Math.sqrt(scale.slice(0, LATENT).reduce((s, sd, c) => s + (codes[r * dims + c] / sd) ** 2, 0))).sort();
  const clusters = classClusters(codes, labels, count, dims, { perClass: CLUSTERS_PER_CLASS, seed: CLUSTER_SEED, clusterDims: LATENT, cores: CORES_PER_CLUSTER });
  const round = (a: number[]) => a.map((v) => Number(v.toFixed(5)));
  const cores = { perCluster: clusters.cores!.perCluster, codes: round(clusters.cores!.codes) };
  return { lo, hi, scale, radius: Number(q(norms, 0.5).toFixed(5)), clusters: { ...clusters, centres: round(clusters.centres), quantiles: round(clusters.quantiles), cores } };
}

async function save(decoder: tf.LayersModel): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await decoder.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData as ArrayBuffer | ArrayBuffer[];
    const parts = Array.isArray(data) ? data : [data];
    const weights = new Uint8Array(parts.reduce((s, b) => s + b.byteLength, 0));
    let o = 0;
    for (const b of parts) (weights.set(new Uint8Array(b), o), (o += b.byteLength));
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      userDefinedMetadata: artifacts.userDefinedMetadata,
    };
    writeAtomic(path.join(outDir, 'weights.bin'), weights);
    writeAtomic(path.join(outDir, 'model.json'), JSON.stringify(modelJson));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const train = loadFashionMnist({ split: 'train' });
  const encoder = buildEncoder();
  const decoder = buildDecoder();
  const optimizer = tf.train.adam(LR);
  const t0 = performance.now();
  let step = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order = epochOrder(train.count, epoch);
    const batch = new Float32Array(BATCH * FASHION_PIXELS);
    let total = 0, batches = 0;
    for (let s = 0; s + BATCH <= train.count; s += BATCH) {
      for (let b = 0; b < BATCH; b++) batch.set(train.images.subarray(order[s + b] * FASHION_PIXELS, (order[s + b] + 1) * FASHION_PIXELS), b * FASHION_PIXELS);
      const x = tf.tensor2d(batch, [BATCH, FASHION_PIXELS]);
      const classCode = CLASSES ? tf.tensor2d(oneHot(Array.from({ length: BATCH }, (_, b) => train.labels[order[s + b]]), BATCH), [BATCH, CLASSES]) : null;
      const cost = optimizer.minimize(() => loss(encoder, decoder, x, classCode, step), true) as tf.Scalar;
      classCode?.dispose();
      total += cost.dataSync()[0];
      batches++;
      step++;
      tf.dispose([x, cost]);
    }
    console.log(`epoch ${epoch + 1}/${EPOCHS}: loss ${(total / batches).toFixed(2)} per image, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const latent = latentStats(encoder, train.images, train.labels, train.count);
  decoder.setUserDefinedMetadata({
    inputRange: [latent.lo.reduce((a, b) => Math.min(a, b)), latent.hi.reduce((a, b) => Math.max(a, b))],
    actmaxLatent: latent,
    description: CLASSES
      ? `decoder of a ${LATENT}-dimensional conditional VAE of Fashion-MNIST; input [z (${LATENT}), one-hot class (${CLASSES})], x = G(input) in [0, 1]^(28×28)`
      : `decoder of a ${LATENT}-dimensional VAE of Fashion-MNIST; x = G(z) in [0, 1]^(28×28)`,
    dataset: { name: 'Fashion-MNIST', source: `npm fashion-mnist@${fashionMnistVersion()}`, splitSeed: FASHION_SPLIT_SEED, trainSize: train.count, pixelScale: 'x / 255' },
    trainedWith: { script: 'scripts/train-fashion-decoder.ts', epochs: EPOCHS, latent: LATENT, classes: CLASSES, beta: BETA, clustersPerClass: CLUSTERS_PER_CLASS, coresPerCluster: CORES_PER_CLUSTER, hidden: HIDDEN.length === 1 ? HIDDEN[0] : HIDDEN, batchSize: BATCH, learningRate: LR, backend: tf.getBackend(), tfjsVersion: tf.version_core, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) },
  });
  await save(decoder);
  console.log(`saved ${outDir}: latent box ${latent.lo.map((v, i) => `[${v}, ${latent.hi[i]}]`).join(' ')}, median norm ${latent.radius}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
