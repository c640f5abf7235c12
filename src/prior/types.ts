/**
 * Data priors as plain data: the set of inputs that "look like the data", given by a map from a
 * small code z to the input x and a simple set for z. Any engine can compile them: the subspace
 * is numbers (mean, basis, bounds), the decoder a loaded model.
 */
import type { ActmaxModel } from '../model/types.js';
import type { CodeBox } from './clusters.js';

/**
 * Where the code z may lie: a box, a Mahalanobis ball Σ (z_k / scale_k)² ≤ radius², or both
 * (the box must then contain 0, the examples' mean code); or a union of boxes, one per cluster
 * of the examples (z in any one of them).
 */
export interface LatentSet {
  box?: { lo: number[]; hi: number[] };
  ball?: { radius: number; scale: number[] };
  /**
   * The union of these boxes (not combined with `box` or `ball`): the [low, high] % box of each
   * cluster (`percentiles`), or a box of half-diagonal `radius` around each of each cluster's
   * `cores` examples nearest its centre.
   */
  union?: { boxes: CodeBox[]; percentiles?: [number, number]; /** Cap on each box's half-diagonal (absent: none). */ radius?: number; /** Core examples per cluster (boxes around them). */ cores?: number };
}

/** x = mean + Σ_k z_k · basis_k: the mean and top-K principal directions of the examples (orthonormal rows). */
export interface SubspacePrior {
  type: 'subspace';
  /** n values. */
  mean: number[];
  /** K × n, row-major; each row is a unit vector and the rows are orthogonal. */
  basis: number[];
  /** Number of components K. */
  components: number;
  latent: LatentSet;
  /** Where it came from, in words (for reports). */
  source: string;
}

/** x = G(z) for a decoder network G (any model actmax loads) with one input of `latent` features. */
export interface DecoderPrior {
  type: 'decoder';
  decoder: ActmaxModel;
  latent: LatentSet;
  source: string;
}

/** A data prior: {@link SubspacePrior} or {@link DecoderPrior}. */
export type DataPrior = SubspacePrior | DecoderPrior;

/** Number of code variables of a prior. @example latentSize(subspacePrior((await loadDatasetPrior(model)).stored, 32)) // 32 */
export function latentSize(prior: DataPrior): number {
  if (prior.type === 'subspace') return prior.components;
  return prior.decoder.inputs[0].shape.reduce((a, b) => a * b, 1);
}

/**
 * One line describing a prior: kind, K and the code set.
 *
 * @example
 * const p = subspacePrior((await loadDatasetPrior(model)).stored, 32, {}, 'the dataset');
 * describePrior(p) // 'subspace K=32 of the dataset; z in one of 500 boxes of half-diagonal 3 around the 5 examples nearest the centre of each cluster'
 */
export function describePrior(prior: DataPrior): string {
  const set = describeLatentSet(prior.latent);
  if (prior.type === 'subspace') return `subspace K=${prior.components} of ${prior.source}; z in ${set}`;
  const fixed = fixedComponents(prior.latent);
  return `decoder ${prior.source} (${latentSize(prior)} latent${fixed ? `, ${fixed} held fixed within each box` : ''}); z in ${set}`;
}

/** Components every box of a union holds at one value (a conditional decoder's class code); 0 without a union. */
function fixedComponents(set: LatentSet): number {
  const boxes = set.union?.boxes ?? [];
  if (!boxes.length) return 0;
  return boxes[0].lo.filter((_, c) => boxes.every((b) => b.lo[c] === b.hi[c])).length;
}

/** The code set in words. @example describeLatentSet({ ball: { radius: 5, scale } }) // 'the Mahalanobis ball of radius 5' */
export function describeLatentSet(set: LatentSet): string {
  const parts: string[] = [];
  const u = set.union;
  if (u?.cores !== undefined) {
    parts.push(`one of ${u.boxes.length} boxes of half-diagonal ${u.radius} around the ${u.cores} examples nearest the centre of each cluster`);
  } else if (u) {
    const cap = u.radius !== undefined && Number.isFinite(u.radius) ? `, half-diagonal ≤ ${u.radius}` : '';
    const [pl, ph] = u.percentiles ?? [0, 100];
    parts.push(`one of ${u.boxes.length} cluster boxes (${pl}–${ph} % of each cluster of the examples${cap})`);
  }
  if (set.box) parts.push('a per-component box');
  if (set.ball) parts.push(`the Mahalanobis ball of radius ${Number(set.ball.radius.toPrecision(4))}`);
  return parts.join(' ∩ ');
}
