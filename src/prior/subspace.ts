import { ActmaxError } from '../errors.js';
import { clusterBoxes, coreUnion, DEFAULT_CLUSTER_BOX, DEFAULT_CLUSTER_RADIUS, DEFAULT_CORE_RADIUS } from './clusters.js';
import { storedQuantile, type StoredPrior } from './store.js';
import type { LatentSet, SubspacePrior } from './types.js';

/** How to bound the code z of a subspace prior. */
export interface SubspaceOptions {
  /** Percentile box [low, high] per component (default [0.5, 99.5] when no ball is given). */
  box?: [number, number];
  /** Mahalanobis ball radius: a number, or `{ percentile }` of the examples' own norms. */
  ball?: number | { percentile: number };
  /** Only this cluster's box (0-based; needs a prior with clusters). */
  cluster?: number;
  /** Percentiles of each cluster's box in the default union (default {@link DEFAULT_CLUSTER_BOX}). */
  clusterBox?: [number, number];
  /** Cap on each cluster box's half-diagonal, in input units (default {@link DEFAULT_CLUSTER_RADIUS}; Infinity: none). */
  clusterRadius?: number;
  /** Half-diagonal of the boxes around the clusters' core examples, in input units (default {@link DEFAULT_CORE_RADIUS}). */
  near?: number;
}

/** The default percentile box of a subspace prior. */
export const DEFAULT_PERCENTILE_BOX: [number, number] = [0.5, 99.5];

/**
 * A subspace prior x = mean + basisᵀ·z over the top `k` components of a stored prior. The code
 * set: by default, when the stored prior records its clusters' core examples (the bundled model's
 * does), the union of one box of half-diagonal `near` (3) around each of them; with `clusterBox`,
 * or when it records clusters alone, one percentile box per cluster (5–95 %, each shrunk about its
 * middle to a half-diagonal of at most 6.25 where wider); else the examples' percentile box
 * (0.5–99.5 %); or, when asked, the percentile box `box`, a Mahalanobis ball `ball` (or both), or
 * one cluster's box.
 *
 * @example
 * const { stored } = await loadDatasetPrior(model);
 * const prior = subspacePrior(stored, 32);                        // one of the boxes around core examples
 * const clustered = subspacePrior(stored, 32, { clusterBox: [5, 95] }); // one of the cluster boxes
 * const box = subspacePrior(stored, 32, { box: [0.5, 99.5] });    // the whole percentile box
 * const ball = subspacePrior(stored, 32, { ball: { percentile: 50 } }); // the median norm
 */
export function subspacePrior(stored: StoredPrior, k: number, options: SubspaceOptions = {}, source = stored.source): SubspacePrior {
  if (!Number.isInteger(k) || k < 1 || k > stored.components) {
    throw new ActmaxError('bad-option', `subspace:${k}: this prior holds ${stored.components} components; choose K in 1…${stored.components}`);
  }
  const n = stored.features;
  const clusters = stored.clusters;
  const boxRadius = options.clusterRadius ?? DEFAULT_CLUSTER_RADIUS;
  const latent: LatentSet = {};
  if (options.cluster !== undefined) {
    if (!clusters) throw new ActmaxError('bad-option', `cluster=${options.cluster}: this prior stores no clusters; use box=LOW-HIGH or ball=R`);
    if (!Number.isInteger(options.cluster) || options.cluster < 0 || options.cluster >= clusters.count) throw new ActmaxError('bad-option', `cluster=${options.cluster}: this prior has clusters 0…${clusters.count - 1}`);
    const b = clusterBoxes(clusters, k, options.clusterBox, boxRadius)[options.cluster];
    latent.box = { lo: b.lo, hi: b.hi };
  } else if (clusters && options.box === undefined && options.ball === undefined) {
    if (clusters.cores && options.clusterBox === undefined) {
      latent.union = coreUnion(clusters, k, options.near ?? DEFAULT_CORE_RADIUS);
    } else {
      if (options.near !== undefined) throw new ActmaxError('bad-option', `near=${options.near}: this prior records no core examples of its clusters; use clusters=LOW-HIGH`);
      const percentiles = options.clusterBox ?? DEFAULT_CLUSTER_BOX;
      latent.union = { boxes: clusterBoxes(clusters, k, percentiles, boxRadius), percentiles, ...(Number.isFinite(boxRadius) ? { radius: boxRadius } : {}) };
    }
  }
  const box = options.box ?? (options.ball === undefined && !latent.box && !latent.union ? DEFAULT_PERCENTILE_BOX : undefined);
  if (box) {
    const [pl, ph] = box;
    if (!(pl >= 0 && ph <= 100 && pl < 50 && ph > 50)) throw new ActmaxError('bad-option', `percentile box ${pl}–${ph}: give LOW < 50 < HIGH within 0–100, e.g. box=0.5-99.5`);
    latent.box = {
      lo: Array.from({ length: k }, (_, c) => Math.min(0, storedQuantile(stored.codeQuantiles, c, pl))),
      hi: Array.from({ length: k }, (_, c) => Math.max(0, storedQuantile(stored.codeQuantiles, c, ph))),
    };
  }
  if (options.ball !== undefined) {
    const radius = typeof options.ball === 'number' ? options.ball : storedQuantile(stored.normQuantiles, k - 1, options.ball.percentile);
    if (!(radius > 0) || !Number.isFinite(radius)) throw new ActmaxError('bad-option', `ball radius must be a positive number, got ${radius}`);
    latent.ball = { radius, scale: Array.from(stored.variances.subarray(0, k), (v) => Math.sqrt(v) || 1) };
  }
  return { type: 'subspace', mean: Array.from(stored.mean), basis: Array.from(stored.basis.subarray(0, k * n)), components: k, latent, source };
}

/**
 * The code of an input: z = basis·(x − mean) (its coordinates in the subspace).
 *
 * @example
 * const prior = subspacePrior((await loadDatasetPrior(model)).stored, 32);
 * const z = subspaceCode(prior, new Array(784).fill(0.5)); // 32 numbers
 */
export function subspaceCode(prior: SubspacePrior, x: ArrayLike<number>): Float64Array {
  const n = prior.mean.length;
  const z = new Float64Array(prior.components);
  for (let c = 0; c < prior.components; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += prior.basis[c * n + i] * (x[i] - prior.mean[i]);
    z[c] = s;
  }
  return z;
}

/**
 * The input of a code: x = mean + basisᵀ·z.
 *
 * @example
 * const prior = subspacePrior((await loadDatasetPrior(model)).stored, 32);
 * const x = subspaceInput(prior, new Array(32).fill(0)); // the mean image (784 numbers)
 */
export function subspaceInput(prior: SubspacePrior, z: ArrayLike<number>): Float64Array {
  const n = prior.mean.length;
  const x = Float64Array.from(prior.mean);
  for (let c = 0; c < prior.components; c++) {
    const w = z[c];
    if (w === 0) continue;
    for (let i = 0; i < n; i++) x[i] += w * prior.basis[c * n + i];
  }
  return x;
}

/**
 * How far an input is from the prior's set (0 when it lies in it): the largest of its distance
 * to the subspace (per feature), the code's box violation and its Mahalanobis-ball excess.
 *
 * @example
 * const prior = subspacePrior((await loadDatasetPrior(model)).stored, 32, { box: [0.5, 99.5] });
 * subspaceResidual(prior, subspaceInput(prior, new Array(32).fill(0))) < 1e-6 // true
 */
export function subspaceResidual(prior: SubspacePrior, x: ArrayLike<number>): number {
  const z = subspaceCode(prior, x);
  const back = subspaceInput(prior, z);
  let worst = 0;
  for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i] - x[i]));
  return Math.max(worst, latentViolation(prior.latent, z));
}

/**
 * How much a code violates its set: the box per component, the ball by radius excess, a union
 * by the violation of its nearest box.
 *
 * @example
 * latentViolation({ box: { lo: [-1], hi: [1] } }, [1.5]) // 0.5
 */
export function latentViolation(set: LatentSet, z: ArrayLike<number>): number {
  let worst = 0;
  // A union: the violation of the nearest box.
  if (set.union) worst = Math.min(...set.union.boxes.map((b) => latentViolation({ box: b }, z)));
  if (set.box) for (let c = 0; c < z.length; c++) worst = Math.max(worst, set.box.lo[c] - z[c], z[c] - set.box.hi[c]);
  if (set.ball) {
    let s = 0;
    for (let c = 0; c < z.length; c++) s += (z[c] / set.ball.scale[c]) ** 2;
    worst = Math.max(worst, Math.sqrt(s) - set.ball.radius);
  }
  return worst;
}
