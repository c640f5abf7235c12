import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';
import { clusterBoxes, readClusters, type CodeClusters } from './clusters.js';
import type { DecoderPrior, LatentSet } from './types.js';

/**
 * What a decoder may say about its latent codes in its metadata (`actmaxLatent`): the box and
 * scale of the codes of its training data (as `npm run train:fashion-decoder` writes them).
 */
export interface LatentMetadata {
  lo: number[];
  hi: number[];
  scale: number[];
  /** Median Mahalanobis norm of the training codes. */
  radius?: number;
  /** Clusters of the training codes (k-means within each class): the default code set is one box per cluster. */
  clusters?: CodeClusters;
}

/** The percentile box of each cluster of a decoder's codes with `cluster=J` (without `clusterBox`). */
export const DEFAULT_DECODER_CLUSTER_BOX: [number, number] = [10, 90];

/** The box assumed for a decoder whose metadata names no latent ranges (a standard-normal latent). */
export const DEFAULT_LATENT_BOX: [number, number] = [-3, 3];

/**
 * A decoder prior x = G(z). The code set: by default the 0.5–99.5 % box of the training codes its
 * metadata records (`actmaxLatent`), else ±3 per latent. Or, when given, the box `box` (latent
 * units, every component), a Mahalanobis ball of radius `ball`, one cluster's box (`cluster`), or
 * the union of every cluster's `clusterBox` percentile box — where the metadata records clusters.
 * (Unlike a subspace, a decoder's whole box already renders images like the data; measured on the
 * bundled one, the union of cluster boxes lowered p(class) for Shirt and Pullover.)
 *
 * @example
 * const prior = decoderPrior(await loadModel('models/fashion-mnist-decoder'));
 * prior.latent.box!.lo.length // 8
 * decoderPrior(prior.decoder, { clusterBox: [2.5, 97.5] }).latent.union!.boxes.length // 40
 */
export function decoderPrior(decoder: ActmaxModel, options: { box?: [number, number]; ball?: number; cluster?: number; clusterBox?: [number, number] } = {}): DecoderPrior {
  if (decoder.inputs.length !== 1) throw new ActmaxError('bad-model', `decoder ${decoder.source} must have one input (the latent code); it has ${decoder.inputs.length}`);
  const k = decoder.inputs[0].shape.reduce((a, b) => a * b, 1);
  const meta = readLatentMetadata(decoder.metadata.actmaxLatent, k);
  const scale = meta?.scale ?? new Array(k).fill(1);
  const latent: LatentSet = {};
  const clusters = meta?.clusters;
  if (options.cluster !== undefined) {
    if (!clusters) throw new ActmaxError('bad-option', `cluster=${options.cluster}: decoder ${decoder.source} records no clusters of its codes`);
    if (!Number.isInteger(options.cluster) || options.cluster < 0 || options.cluster >= clusters.count) throw new ActmaxError('bad-option', `cluster=${options.cluster}: decoder ${decoder.source} has clusters 0…${clusters.count - 1}`);
    const b = clusterBoxes(clusters, k, options.clusterBox ?? DEFAULT_DECODER_CLUSTER_BOX)[options.cluster];
    latent.box = { lo: b.lo, hi: b.hi };
  } else if (options.clusterBox) {
    if (!clusters) throw new ActmaxError('bad-option', `clusters=${options.clusterBox.join('-')}: decoder ${decoder.source} records no clusters of its codes`);
    const percentiles = options.clusterBox ?? DEFAULT_DECODER_CLUSTER_BOX;
    latent.union = { boxes: clusterBoxes(clusters, k, percentiles), percentiles };
  }
  else if (options.box) latent.box = { lo: new Array(k).fill(options.box[0]), hi: new Array(k).fill(options.box[1]) };
  else if (options.ball === undefined) latent.box = meta ? { lo: meta.lo.map((v) => Math.min(0, v)), hi: meta.hi.map((v) => Math.max(0, v)) } : { lo: new Array(k).fill(DEFAULT_LATENT_BOX[0]), hi: new Array(k).fill(DEFAULT_LATENT_BOX[1]) };
  if (options.ball !== undefined) {
    if (!(options.ball > 0)) throw new ActmaxError('bad-option', `ball radius must be a positive number, got ${options.ball}`);
    latent.ball = { radius: options.ball, scale };
  }
  const note = meta ? '' : ', no latent ranges in its metadata: standard normal assumed';
  return { type: 'decoder', decoder, latent, source: `${decoder.source}${note}` };
}

function readLatentMetadata(v: unknown, k: number): LatentMetadata | null {
  if (!v || typeof v !== 'object') return null;
  const m = v as Partial<LatentMetadata>;
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === k && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!ok(m.lo) || !ok(m.hi) || !ok(m.scale)) return null;
  const clusters = readClusters(m.clusters, k, 'the decoder\'s actmaxLatent metadata');
  return { lo: m.lo, hi: m.hi, scale: m.scale.map((s) => (s > 0 ? s : 1)), ...(typeof m.radius === 'number' ? { radius: m.radius } : {}), ...(clusters ? { clusters } : {}) };
}
