import { ActmaxError } from '../errors.js';
import { storedQuantile, type StoredPrior } from './store.js';
import type { LatentSet, SubspacePrior } from './types.js';

/** How to bound the code z of a subspace prior. */
export interface SubspaceOptions {
  /** Percentile box [low, high] per component (default [0.5, 99.5] when no ball is given). */
  box?: [number, number];
  /** Mahalanobis ball radius: a number, or `{ percentile }` of the examples' own norms. */
  ball?: number | { percentile: number };
}

/** The default percentile box of a subspace prior. */
export const DEFAULT_PERCENTILE_BOX: [number, number] = [0.5, 99.5];

/**
 * A subspace prior x = mean + basisᵀ·z over the top `k` components of a stored prior, with z
 * in the examples' percentile box (default 0.5–99.5 %) or a Mahalanobis ball (or both).
 *
 * @example
 * const { stored } = await loadDatasetPrior(model);
 * const prior = subspacePrior(stored, 32);                        // percentile box
 * const ball = subspacePrior(stored, 32, { ball: { percentile: 50 } }); // the median norm
 */
export function subspacePrior(stored: StoredPrior, k: number, options: SubspaceOptions = {}, source = stored.source): SubspacePrior {
  if (!Number.isInteger(k) || k < 1 || k > stored.components) {
    throw new ActmaxError('bad-option', `subspace:${k}: this prior holds ${stored.components} components; choose K in 1…${stored.components}`);
  }
  const n = stored.features;
  const latent: LatentSet = {};
  const box = options.box ?? (options.ball === undefined ? DEFAULT_PERCENTILE_BOX : undefined);
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
 * const prior = subspacePrior((await loadDatasetPrior(model)).stored, 32);
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
 * How much a code violates its set: the box per component, the ball by radius excess.
 *
 * @example
 * latentViolation({ box: { lo: [-1], hi: [1] } }, [1.5]) // 0.5
 */
export function latentViolation(set: LatentSet, z: ArrayLike<number>): number {
  let worst = 0;
  if (set.box) for (let c = 0; c < z.length; c++) worst = Math.max(worst, set.box.lo[c] - z[c], z[c] - set.box.hi[c]);
  if (set.ball) {
    let s = 0;
    for (let c = 0; c < z.length; c++) s += (z[c] / set.ball.scale[c]) ** 2;
    worst = Math.max(worst, Math.sqrt(s) - set.ball.radius);
  }
  return worst;
}
