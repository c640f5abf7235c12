/**
 * "Does this answer look like data?" judged without the model: the mean Euclidean distance
 * (pixels in [0, 1]) from an image to its k nearest Fashion-MNIST training images, and their
 * classes. Brute force over typed arrays (≈47 M multiply-adds per query for 60k × 784).
 * Node only, like `fashion.ts`.
 */
import type { FashionData } from './fashion.js';

/** The verdict for one image. */
export interface Realism {
  /** Mean distance to the k nearest training images. */
  distance: number;
  /** How many of the k nearest belong to each class. */
  votes: number[];
  /** The class most of them belong to (lowest index on ties), and how many. */
  majority: number;
  majorityCount: number;
}

/** Real images sit at ≈3.9 (median) and ≤ 5.2 (90th percentile) from their 10 nearest others. */
export const REALISM_DISTANCE_LIMIT = 5.2;

/** Squared norms of the rows, computed once per data set. */
const norms = new WeakMap<FashionData, Float64Array>();

function rowNorms(data: FashionData, n: number): Float64Array {
  let out = norms.get(data);
  if (!out) {
    out = new Float64Array(data.count);
    for (let r = 0; r < data.count; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += data.images[r * n + i] ** 2;
      out[r] = s;
    }
    norms.set(data, out);
  }
  return out;
}

/**
 * The k nearest training images of `x` (flat, n = 784 pixels in [0, 1]): mean distance and
 * class votes.
 *
 * @example
 * const train = loadFashionMnist({ split: 'train' });
 * const { distance, majority } = realism(answer, train); // distance ≤ 5.2 looks like data
 */
export function realism(x: ArrayLike<number>, data: FashionData, k = 10): Realism {
  const n = x.length;
  const sq = rowNorms(data, n);
  const q = Float32Array.from(x);
  let qq = 0;
  for (let i = 0; i < n; i++) qq += q[i] * q[i];
  // Keep the k smallest squared distances in a small sorted list.
  const bestD = new Float64Array(k).fill(Infinity);
  const bestI = new Int32Array(k).fill(-1);
  const img = data.images;
  for (let r = 0; r < data.count; r++) {
    let dot = 0;
    const o = r * n;
    for (let i = 0; i < n; i++) dot += img[o + i] * q[i];
    const d = sq[r] - 2 * dot + qq;
    if (d >= bestD[k - 1]) continue;
    let j = k - 1;
    while (j > 0 && bestD[j - 1] > d) {
      bestD[j] = bestD[j - 1];
      bestI[j] = bestI[j - 1];
      j--;
    }
    bestD[j] = d;
    bestI[j] = r;
  }
  const votes = new Array(10).fill(0);
  let distance = 0;
  for (let j = 0; j < k; j++) {
    distance += Math.sqrt(Math.max(0, bestD[j]));
    votes[data.labels[bestI[j]]]++;
  }
  let majority = 0;
  votes.forEach((v, c) => {
    if (v > votes[majority]) majority = c;
  });
  return { distance: distance / k, votes, majority, majorityCount: votes[majority] };
}

/**
 * Whether an answer for class `k` looks like data by all three of the project's tests: the
 * model's p(class) ≥ 0.99, mean distance to its 10 nearest training images ≤ 5.2, and those 10
 * mostly (more than half) of class k.
 *
 * @example
 * looksLikeData(0.994, realism(answer, train), 2) // true for the exact Pullover answer (4.85, 10 of 10 Pullovers)
 */
export function looksLikeData(p: number, judged: Pick<Realism, 'distance' | 'majority' | 'majorityCount'>, k: number, neighbours = 10): boolean {
  return p >= 0.99 && judged.distance <= REALISM_DISTANCE_LIMIT && judged.majority === k && judged.majorityCount > neighbours / 2;
}
