import { ActmaxError } from '../errors.js';
import { CLUSTER_LEVELS, readClusters, type CodeClusters } from './clusters.js';
import { principalComponents, projectExamples } from './pca.js';

/** Percent levels of the stored quantile tables: 0, 0.5, …, 100. */
export const QUANTILE_STEP = 0.5;
const LEVELS = 100 / QUANTILE_STEP + 1;

/**
 * What is kept of a set of examples to build subspace priors of any K ≤ `components` later:
 * the mean, the principal directions with their variances, and quantile tables of the codes.
 * Stored as a JSON header plus a little-endian float32 file (see {@link encodeStoredPrior}).
 */
export interface StoredPrior {
  /** Shape of one example (no batch) and its number of features n. */
  shape: number[];
  features: number;
  components: number;
  examples: number;
  /** Where the examples came from, in words (e.g. the dataset and split). */
  source: string;
  mean: Float32Array;
  /** components × n, row-major, orthonormal rows. */
  basis: Float32Array;
  variances: Float32Array;
  /** components × 201: quantile q/2 % (q = 0…200) of each code component over the examples. */
  codeQuantiles: Float32Array;
  /** components × 201: row K−1 holds the quantiles of the Mahalanobis norm √Σ_{k<K} (z_k/σ_k)². */
  normQuantiles: Float32Array;
  /** Clusters of the examples' codes (all components), when the examples had classes: the default code set is one box per cluster. */
  clusters?: CodeClusters;
}

/**
 * Computes a {@link StoredPrior} from `count` examples (row-major, n = product of `shape`).
 *
 * @example
 * const examples = Array.from({ length: 10 * 4 }, (_, i) => Math.sin(i * i));
 * const stored = buildStoredPrior(examples, 10, [2, 2], 3, 'ten examples');
 * stored.components // 3
 */
export function buildStoredPrior(data: ArrayLike<number>, count: number, shape: number[], components: number, source: string): StoredPrior {
  const n = shape.reduce((a, b) => a * b, 1);
  const pca = principalComponents(data, count, n, components);
  const k = pca.k;
  const codes = projectExamples(pca, data, count);
  const codeQuantiles = new Float32Array(k * LEVELS);
  const normQuantiles = new Float32Array(k * LEVELS);
  const column = new Float64Array(count);
  const norm2 = new Float64Array(count);
  for (let c = 0; c < k; c++) {
    const sd = Math.sqrt(pca.variances[c]) || 1;
    for (let r = 0; r < count; r++) {
      const z = codes[r * k + c];
      column[r] = z;
      norm2[r] += (z / sd) ** 2;
    }
    codeQuantiles.set(quantiles(column), c * LEVELS);
    normQuantiles.set(quantiles(norm2.map(Math.sqrt)), c * LEVELS);
  }
  return {
    shape: [...shape],
    features: n,
    components: k,
    examples: count,
    source,
    mean: Float32Array.from(pca.mean),
    basis: Float32Array.from(pca.components),
    variances: Float32Array.from(pca.variances),
    codeQuantiles,
    normQuantiles,
  };
}

/** Quantiles at 0, 0.5, …, 100 % (linear interpolation between order statistics). */
function quantiles(values: Float64Array): Float64Array {
  const sorted = Float64Array.from(values).sort();
  const out = new Float64Array(LEVELS);
  for (let q = 0; q < LEVELS; q++) out[q] = interpolate(sorted, (q * QUANTILE_STEP) / 100);
  return out;
}

function interpolate(sorted: ArrayLike<number>, f: number): number {
  const pos = f * (sorted.length - 1);
  const i = Math.floor(pos);
  const t = pos - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - t) + sorted[i + 1] * t : sorted[i];
}

/**
 * Reads quantile `percent` (0–100) of one row of a stored table.
 *
 * @example
 * storedQuantile(stored.codeQuantiles, 0, 99.5) // 99.5th percentile of the first component
 */
export function storedQuantile(table: Float32Array, row: number, percent: number): number {
  if (!(percent >= 0 && percent <= 100)) throw new ActmaxError('bad-option', `a percentile must lie in [0, 100], got ${percent}`);
  return interpolate(table.subarray(row * LEVELS, (row + 1) * LEVELS), percent / 100);
}

/** The JSON header of a stored prior (the numbers live in the binary file it names). */
export interface StoredPriorHeader {
  format: 'actmax-prior';
  version: 1;
  source: string;
  shape: number[];
  features: number;
  components: number;
  examples: number;
  quantileStep: number;
  /** The binary file (same folder), little-endian float32, arrays in this order and length. */
  binary: string;
  layout: Array<{ name: (typeof ARRAYS)[number] | (typeof CLUSTER_ARRAYS)[number]; length: number }>;
  /** The clusters' small fields; their centres, quantile tables (and core examples' codes) follow the other arrays in the binary. */
  clusters?: Pick<CodeClusters, 'count' | 'dims' | 'labels' | 'sizes'> & { /** Core examples per cluster, where recorded. */ cores?: number };
}

const ARRAYS = ['mean', 'basis', 'variances', 'codeQuantiles', 'normQuantiles'] as const;
const CLUSTER_ARRAYS = ['clusterCentres', 'clusterQuantiles', 'clusterCores'] as const;

/**
 * Serialises a prior as a JSON header and a float32 binary (little-endian).
 *
 * @example
 * const stored = buildStoredPrior(Array.from({ length: 40 }, (_, i) => Math.sin(i * i)), 10, [2, 2], 3, 'ten examples');
 * const { header, binary } = encodeStoredPrior(stored, 'prior.bin'); // write header as JSON, binary as bytes
 */
export function encodeStoredPrior(p: StoredPrior, binaryName: string): { header: StoredPriorHeader; binary: Uint8Array } {
  const arrays: Array<[StoredPriorHeader['layout'][number]['name'], ArrayLike<number>]> = ARRAYS.map((name) => [name, p[name]]);
  if (p.clusters) arrays.push(['clusterCentres', p.clusters.centres], ['clusterQuantiles', p.clusters.quantiles]);
  if (p.clusters?.cores) arrays.push(['clusterCores', p.clusters.cores.codes]);
  const layout = arrays.map(([name, a]) => ({ name, length: a.length }));
  const total = layout.reduce((s, l) => s + l.length, 0);
  const binary = new Uint8Array(total * 4);
  const view = new DataView(binary.buffer);
  let o = 0;
  for (const [, a] of arrays) for (let i = 0; i < a.length; i++) (view.setFloat32(o, a[i], true), (o += 4));
  const header: StoredPriorHeader = {
    format: 'actmax-prior', version: 1, source: p.source, shape: p.shape, features: p.features, components: p.components,
    examples: p.examples, quantileStep: QUANTILE_STEP, binary: binaryName, layout,
    ...(p.clusters ? { clusters: { count: p.clusters.count, dims: p.clusters.dims, labels: p.clusters.labels, sizes: p.clusters.sizes, ...(p.clusters.cores ? { cores: p.clusters.cores.perCluster } : {}) } } : {}),
  };
  return { header, binary };
}

/**
 * Reads a prior back from its header and binary; throws ActmaxError `bad-input` naming `file`
 * when they do not fit together.
 *
 * @example
 * const { header, binary } = encodeStoredPrior(buildStoredPrior(Array.from({ length: 40 }, (_, i) => Math.sin(i * i)), 10, [2, 2], 3, 'ten'), 'p.bin');
 * decodeStoredPrior(header, binary, 'p.json').components // 3
 */
export function decodeStoredPrior(header: unknown, binary: Uint8Array, file: string): StoredPrior {
  const h = header as Partial<StoredPriorHeader>;
  const bad = (why: string): never => {
    throw new ActmaxError('bad-input', `${file} is not a usable actmax prior: ${why}`);
  };
  if (!h || h.format !== 'actmax-prior' || h.version !== 1) bad('expected {"format": "actmax-prior", "version": 1, …}');
  const { features: n, components: k, shape } = h as StoredPriorHeader;
  if (!Array.isArray(shape) || !Number.isInteger(n) || !Number.isInteger(k) || k < 1 || shape.reduce((a, b) => a * b, 1) !== n) bad('shape, features and components disagree');
  if (h.quantileStep !== QUANTILE_STEP) bad(`quantileStep must be ${QUANTILE_STEP}`);
  const want: Record<string, number> = { mean: n, basis: k * n, variances: k, codeQuantiles: k * LEVELS, normQuantiles: k * LEVELS };
  const hc = h.clusters;
  const names: readonly string[] = hc ? [...ARRAYS, ...CLUSTER_ARRAYS.slice(0, hc.cores === undefined ? 2 : 3)] : ARRAYS;
  if (hc) {
    if (!Number.isInteger(hc.count) || hc.count < 1 || hc.dims !== k) bad(`clusters must have a positive integer count and dims = components (${k})`);
    if (hc.cores !== undefined && !(Number.isInteger(hc.cores) && hc.cores >= 1)) bad('clusters.cores must be a positive integer (core examples per cluster)');
    want.clusterCentres = hc.count * k;
    want.clusterQuantiles = hc.count * k * CLUSTER_LEVELS;
    if (hc.cores !== undefined) want.clusterCores = hc.count * hc.cores * k;
  }
  const layout = h.layout ?? [];
  if (layout.length !== names.length || layout.some((l, i) => l.name !== names[i] || l.length !== want[l.name])) bad(`layout must list ${names.join(', ')} with lengths ${names.map((a) => want[a]).join(', ')}`);
  const total = layout.reduce((s, l) => s + l.length, 0);
  if (binary.byteLength !== total * 4) bad(`its binary has ${binary.byteLength} bytes, expected ${total * 4}`);
  const view = new DataView(binary.buffer, binary.byteOffset, binary.byteLength);
  const arrays: Record<string, Float32Array> = {};
  let o = 0;
  for (const { name, length } of layout) {
    const a = new Float32Array(length);
    for (let i = 0; i < length; i++, o += 4) a[i] = view.getFloat32(o, true);
    if (!a.every(Number.isFinite)) bad(`${name} holds a value that is not a finite number`);
    arrays[name] = a;
  }
  const cores = hc?.cores !== undefined ? { perCluster: hc.cores, codes: Array.from(arrays.clusterCores) } : undefined;
  const clusters = hc ? readClusters({ count: hc.count, dims: hc.dims, labels: hc.labels, sizes: hc.sizes, centres: Array.from(arrays.clusterCentres), quantiles: Array.from(arrays.clusterQuantiles), cores }, k, file) : null;
  return {
    shape: [...shape], features: n, components: k, examples: h.examples ?? 0, source: String(h.source ?? ''),
    mean: arrays.mean, basis: arrays.basis, variances: arrays.variances, codeQuantiles: arrays.codeQuantiles, normQuantiles: arrays.normQuantiles,
    ...(clusters ? { clusters } : {}),
  };
}
