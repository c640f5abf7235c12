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

/**
 * The percentile box of each cluster of a decoder's codes: the default code set is the union of
 * these boxes (where the decoder records clusters), and `cluster=J` is one of them. Measured on the
 * bundled decoder (bench/prior.ts's judge, CLI defaults, seeds 0–5): 9/10 classes look like data
 * with the union of 0.5–99.5 % cluster boxes, 8/10 with the one 0.5–99.5 % box around all codes
 * (Sneaker's maximum there sits 5.7 from the data, 4.95 in the union); 1–99 % and 2–98 % boxes
 * draw Pullover at p 0.984–0.986 for some seeds, 5–95 % Pullover and Sandal worse still.
 */
export const DEFAULT_DECODER_CLUSTER_BOX: [number, number] = [0.5, 99.5];

/** The box assumed for a decoder whose metadata names no latent ranges (a standard-normal latent). */
export const DEFAULT_LATENT_BOX: [number, number] = [-3, 3];

/**
 * A decoder prior x = G(z). The code set: by default, where the decoder's metadata records clusters
 * of its training codes (`actmaxLatent.clusters`), z lies in one of the clusters' 0.5–99.5 % boxes
 * (the typical range of one group of similar examples, not the corners of one box around all of
 * them); else the 0.5–99.5 % box of the training codes it records (`allCodes`, also the set it
 * names as `box=0.5-99.5`), else ±3 per latent. Or, when given: the box `box` (latent units, every
 * component), a Mahalanobis ball of radius `ball`, one cluster's box (`cluster`), or the union of
 * every cluster's `clusterBox` percentile box.
 *
 * @example
 * const prior = decoderPrior(await loadModel('models/fashion-mnist-decoder'));
 * prior.latent.union!.boxes.length // 40
 * decoderPrior(prior.decoder, { allCodes: true }).latent.box!.lo.length // 8
 */
export function decoderPrior(decoder: ActmaxModel, options: { box?: [number, number]; allCodes?: boolean; ball?: number; cluster?: number; clusterBox?: [number, number] } = {}): DecoderPrior {
  if (decoder.inputs.length !== 1) throw new ActmaxError('bad-model', `decoder ${decoder.source} must have one input (the latent code); it has ${decoder.inputs.length}`);
  const k = decoder.inputs[0].shape.reduce((a, b) => a * b, 1);
  const meta = readLatentMetadata(decoder.metadata.actmaxLatent, k);
  const scale = meta?.scale ?? new Array(k).fill(1);
  const latent: LatentSet = {};
  const clusters = meta?.clusters;
  const codesBox = () => (meta ? { lo: meta.lo.map((v) => Math.min(0, v)), hi: meta.hi.map((v) => Math.max(0, v)) } : { lo: new Array(k).fill(DEFAULT_LATENT_BOX[0]), hi: new Array(k).fill(DEFAULT_LATENT_BOX[1]) });
  if (options.cluster !== undefined) {
    if (!clusters) throw new ActmaxError('bad-option', `cluster=${options.cluster}: decoder ${decoder.source} records no clusters of its codes`);
    if (!Number.isInteger(options.cluster) || options.cluster < 0 || options.cluster >= clusters.count) throw new ActmaxError('bad-option', `cluster=${options.cluster}: decoder ${decoder.source} has clusters 0…${clusters.count - 1}`);
    const b = clusterBoxes(clusters, k, options.clusterBox ?? DEFAULT_DECODER_CLUSTER_BOX)[options.cluster];
    latent.box = { lo: b.lo, hi: b.hi };
  } else if (options.clusterBox) {
    if (!clusters) throw new ActmaxError('bad-option', `clusters=${options.clusterBox.join('-')}: decoder ${decoder.source} records no clusters of its codes`);
    latent.union = { boxes: clusterBoxes(clusters, k, options.clusterBox), percentiles: options.clusterBox };
  } else if (options.box) latent.box = { lo: new Array(k).fill(options.box[0]), hi: new Array(k).fill(options.box[1]) };
  else if (options.allCodes) {
    if (!meta) throw new ActmaxError('bad-option', `box=0.5-99.5: decoder ${decoder.source} records no box of its codes (actmaxLatent); give box=LO,HI in latent units`);
    latent.box = codesBox();
  } else if (options.ball === undefined) {
    if (clusters) latent.union = { boxes: clusterBoxes(clusters, k, DEFAULT_DECODER_CLUSTER_BOX), percentiles: DEFAULT_DECODER_CLUSTER_BOX };
    else latent.box = codesBox();
  }
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
