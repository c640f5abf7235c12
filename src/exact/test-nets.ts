import * as tf from '@tensorflow/tfjs';
import { describeModel } from '../model/describe.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { loadDatasetPrior } from '../prior/dataset.js';
import { subspacePrior, type SubspaceOptions } from '../prior/subspace.js';
import type { SubspacePrior } from '../prior/types.js';

/**
 * Wraps a TF.js layers model built in a test as an {@link ActmaxModel}.
 *
 * @example
 * const model = wrap(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] }));
 */
export function wrap(net: tf.LayersModel, range: [number, number] = [0, 1]): ActmaxModel {
  return describeModel({ net, format: 'tfjs-layers', metadata: { inputRange: range }, notes: [] }, 'test-net');
}

/**
 * A small MLP with given weights: inputs → hidden layers (relu) → linear/softmax output.
 * `layers[i]` = [kernel (in × out, row-major), bias].
 *
 * @example
 * const model = mlp(2, [[[1, -1, 1, 1], [0, 0]], [[1, 1], [0]]]);
 */
export function mlp(inputs: number, layers: Array<[number[], number[]]>, final: 'linear' | 'softmax' = 'linear', range: [number, number] = [0, 1]): ActmaxModel {
  const net = tf.sequential();
  let inDim = inputs;
  layers.forEach(([k, b], i) => {
    const units = b.length;
    const last = i === layers.length - 1;
    const d = tf.layers.dense({ units, activation: last ? final : 'relu', ...(i === 0 ? { inputShape: [inputs] } : {}), name: `d${i}` });
    net.add(d);
    d.setWeights([tf.tensor2d(k, [inDim, units]), tf.tensor1d(b)]);
    inDim = units;
  });
  return wrap(net, range);
}

/** Deterministic pseudo-random weights in [−1, 1). @example seeded(1)(); */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/**
 * `k` orthonormal rows in `n` features from `rnd` by Gram–Schmidt (a random subspace prior's basis).
 * @example
 * const rows = orthonormalRows(seeded(3), 6, 2); // rows[0]·rows[1] ≈ 0, |rows[i]| = 1
 */
export function orthonormalRows(rnd: () => number, n: number, k: number): number[][] {
  const rows: number[][] = [];
  while (rows.length < k) {
    const v = Array.from({ length: n }, rnd);
    for (const r of rows) {
      const d = r.reduce((s, x, i) => s + x * v[i], 0);
      r.forEach((x, i) => (v[i] -= d * x));
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

/**
 * Random dense layers for `mlp`: weights scaled by 1/√fan-in (pre-activations of order 1 over
 * [0,1]^n), seeded.
 * @example
 * const net = mlp(8, randomLayers([8, 6, 2], 1));
 */
export function randomLayers(widths: number[], seed: number): Array<[number[], number[]]> {
  const rnd = seeded(seed);
  const out: Array<[number[], number[]]> = [];
  for (let l = 1; l < widths.length; l++) {
    const scale = 2 / Math.sqrt(widths[l - 1]);
    out.push([Array.from({ length: widths[l - 1] * widths[l] }, () => rnd() * scale), Array.from({ length: widths[l] }, () => rnd() * 0.5)]);
  }
  return out;
}

/**
 * Unit j's pre-activation b_j + W_j·s of a shallow problem at a point s of its box.
 * @example
 * const pre = preActivation(problem, s, 0); // within unitRanges(problem) for s ∈ [0,1]^n
 */
export function preActivation(p: { n: number; W: Float64Array; b: Float64Array }, s: ArrayLike<number>, j: number): number {
  let pre = p.b[j];
  for (let i = 0; i < p.n; i++) pre += p.W[j * p.n + i] * s[i];
  return pre;
}

/**
 * The bundled Fashion-MNIST model and its dataset prior with K components and the default code
 * set (the union of boxes around the clusters' core examples) or the one `options` ask for: tests
 * on the real prior.
 *
 * @example
 * const { model, prior } = await bundledPrior(); // prior.latent.union!.boxes.length === 500
 * const clustered = await bundledPrior(32, { clusterBox: [5, 95] }); // 100 cluster boxes
 */
export async function bundledPrior(k = 32, options: SubspaceOptions = {}): Promise<{ model: ActmaxModel; prior: SubspacePrior }> {
  const model = await loadModel('models/fashion-mnist-mlp');
  return { model, prior: subspacePrior((await loadDatasetPrior(model)).stored, k, options) };
}
