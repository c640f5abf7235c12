import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';
import { clusterBoxes, coreUnion, readClusters, type CodeClusters } from './clusters.js';
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
  /** Clusters of the training codes (k-means within each class), with their core examples' codes where recorded: the default code set is built from them. */
  clusters?: CodeClusters;
}

/**
 * The percentile box of each cluster of a decoder's codes, for a decoder that records no core
 * examples, and for `clusters=LOW-HIGH` (`cluster=J` is one of them). Measured on the unconditional
 * decoder bundled before the conditional one (bench/prior.ts's judge, CLI defaults, seeds 0–5): 9/10 classes
 * look like data with the union of 0.5–99.5 % cluster boxes (Sandal's maximum, a high heel, sits
 * 6.7 from the data), 8/10 with the one box around all codes.
 */
export const DEFAULT_DECODER_CLUSTER_BOX: [number, number] = [0.5, 99.5];

/**
 * The default half-diagonal (latent units, over the components a cluster's codes vary in) of the
 * boxes around a decoder's core examples. Measured on the bundled conditional decoder, 10 cores a
 * cluster (BENCHMARKS.md, *Data priors*): 10/10 classes look like data at 1 (seeds 0–5; Shirt's
 * p 0.991 the closest to its limit); 9/10 at 0.75, 1.25 and 1.5 (Shirt p 0.985–0.988) and at 2
 * (Sandal 5.39 from the data).
 */
export const DEFAULT_DECODER_CORE_RADIUS = 1;

/** The box assumed for a decoder whose metadata names no latent ranges (a standard-normal latent). */
export const DEFAULT_LATENT_BOX: [number, number] = [-3, 3];

/**
 * A decoder prior x = G(z). The code set: by default, where the decoder's metadata records its
 * clusters' core examples (`actmaxLatent.clusters.cores`, the training images nearest each
 * cluster's centre), z lies in one of the boxes of half-diagonal 1 around their codes (`near`
 * sets it); a component a cluster's codes share, such as a conditional decoder's class code, stays
 * at its value. Else, where it records clusters, one of their 0.5–99.5 % boxes; else the
 * 0.5–99.5 % box of the training codes it records (`allCodes`, also the set it names as
 * `box=0.5-99.5`), else ±3 per latent. Or, when given: the box `box` (latent units, every
 * component), a Mahalanobis ball of radius `ball`, one cluster's box (`cluster`), or the union of
 * every cluster's `clusterBox` percentile box.
 *
 * @example
 * const prior = decoderPrior(await loadModel('models/fashion-mnist-decoder'));
 * prior.latent.union!.boxes.length // 400
 * decoderPrior(prior.decoder, { allCodes: true }).latent.box!.lo.length // 18
 */
export function decoderPrior(decoder: ActmaxModel, options: { box?: [number, number]; allCodes?: boolean; ball?: number; cluster?: number; clusterBox?: [number, number]; near?: number } = {}): DecoderPrior {
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
  } else if (options.near !== undefined) {
    if (!clusters?.cores) throw new ActmaxError('bad-option', `near=${options.near}: decoder ${decoder.source} records no core examples of its clusters; use clusters=LOW-HIGH or box=…`);
    latent.union = coreUnion(clusters, k, options.near, ` in latent units, e.g. near=${DEFAULT_DECODER_CORE_RADIUS}`);
  } else if (options.clusterBox) {
    if (!clusters) throw new ActmaxError('bad-option', `clusters=${options.clusterBox.join('-')}: decoder ${decoder.source} records no clusters of its codes`);
    latent.union = { boxes: clusterBoxes(clusters, k, options.clusterBox), percentiles: options.clusterBox };
  } else if (options.box) latent.box = { lo: new Array(k).fill(options.box[0]), hi: new Array(k).fill(options.box[1]) };
  else if (options.allCodes) {
    if (!meta) throw new ActmaxError('bad-option', `box=0.5-99.5: decoder ${decoder.source} records no box of its codes (actmaxLatent); give box=LO,HI in latent units`);
    latent.box = codesBox();
  } else if (options.ball === undefined) {
    if (clusters?.cores) latent.union = coreUnion(clusters, k, DEFAULT_DECODER_CORE_RADIUS);
    else if (clusters) latent.union = { boxes: clusterBoxes(clusters, k, DEFAULT_DECODER_CLUSTER_BOX), percentiles: DEFAULT_DECODER_CLUSTER_BOX };
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
