/**
 * Clusters of the examples' codes, as stored with a prior (the subspace prior's binary, a
 * decoder's `actmaxLatent.clusters` metadata): per cluster its class, size, mean code and a
 * quantile table per component. A prior's default code set is the union of one percentile box
 * per cluster: every answer then sits in the typical range of one group of similar examples,
 * instead of the corners of one box around all of them (where no example lies).
 */
import { ActmaxError } from '../errors.js';

/** Percent step of the clusters' quantile tables: 0, 5, …, 100. */
export const CLUSTER_QUANTILE_STEP = 5;
/** Entries of each quantile table (21). */
export const CLUSTER_LEVELS = 100 / CLUSTER_QUANTILE_STEP + 1;
const LEVELS = CLUSTER_LEVELS;

/** The default percentile box of each cluster. */
export const DEFAULT_CLUSTER_BOX: [number, number] = [5, 95];

/**
 * The default cap on a subspace cluster box's half-diagonal ‖(hi − lo)/2‖ (pixel units: the
 * basis is orthonormal, so code distances are input distances). A box wider than this is shrunk
 * about its middle to it: the few loose clusters (e.g. a Sandal cluster with boot-like members)
 * then reach no farther from their middle than the others do.
 */
export const DEFAULT_CLUSTER_RADIUS = 6.25;

/**
 * The default half-diagonal of the boxes around the clusters' core examples (input units for a
 * subspace prior: the basis is orthonormal, so code distances are pixel distances). Measured on
 * the bundled model (BENCHMARKS.md, *Data priors*): 5 cores a cluster, half-diagonal 3: every
 * class's answer looks like data (10/10; 4.5: 10/10 with less room, Bag at 5.15 of 5.2).
 */
export const DEFAULT_CORE_RADIUS = 3;

/** Clusters of codes with `dims` components (flat arrays, cluster-major). */
export interface CodeClusters {
  count: number;
  dims: number;
  /** The class of each cluster's examples (clusters are made within a class). */
  labels: number[];
  /** Examples per cluster. */
  sizes: number[];
  /** count × dims mean codes. */
  centres: number[];
  /** count × dims × 21: quantile 0, 5, …, 100 % of each component over the cluster's examples. */
  quantiles: number[];
  /** The codes of each cluster's `perCluster` examples nearest its centre (count × perCluster × dims), where recorded. */
  cores?: { perCluster: number; codes: number[] };
}

/** One box of a union: the code box and the cluster's mean code (a starting point). */
export interface CodeBox {
  lo: number[];
  hi: number[];
  centre: number[];
  /** The class of the cluster, when known. */
  label?: number;
}

function quantileAt(table: ArrayLike<number>, offset: number, percent: number): number {
  const pos = percent / CLUSTER_QUANTILE_STEP;
  const i = Math.min(LEVELS - 2, Math.floor(pos));
  const t = pos - i;
  return table[offset + i] * (1 - t) + table[offset + i + 1] * t;
}

/**
 * The percentile box [low, high] % of each cluster over the first `k` components; a box whose
 * half-diagonal exceeds `radius` is shrunk about its middle to that half-diagonal.
 *
 * @example
 * const clusters = { count: 1, dims: 1, labels: [0], sizes: [21], centres: [0], quantiles: Array.from({ length: 21 }, (_, q) => q - 10) };
 * clusterBoxes(clusters, 1, [15, 85])[0].hi // [7]
 * clusterBoxes(clusters, 1, [15, 85], 2)[0].hi // [2]
 */
export function clusterBoxes(clusters: CodeClusters, k: number, percentiles: [number, number] = DEFAULT_CLUSTER_BOX, radius = Infinity): CodeBox[] {
  const [pl, ph] = percentiles;
  if (!(pl >= 0 && ph <= 100 && pl < ph)) throw new ActmaxError('bad-option', `cluster box ${pl}–${ph}: give LOW < HIGH within 0–100, e.g. 10-90`);
  if (!(radius > 0)) throw new ActmaxError('bad-option', `cluster box radius ${radius}: give a positive number (or Infinity for none)`);
  if (k > clusters.dims) throw new ActmaxError('bad-option', `the clusters describe ${clusters.dims} components; K = ${k} needs more`);
  return Array.from({ length: clusters.count }, (_, j) => {
    const lo: number[] = [], hi: number[] = [], centre: number[] = [];
    for (let c = 0; c < k; c++) {
      const off = (j * clusters.dims + c) * LEVELS;
      lo.push(quantileAt(clusters.quantiles, off, pl));
      hi.push(quantileAt(clusters.quantiles, off, ph));
      centre.push(clusters.centres[j * clusters.dims + c]);
    }
    shrinkToRadius(lo, hi, radius);
    return { lo, hi, centre, label: clusters.labels[j] };
  });
}

/**
 * One box per core example of each cluster (its code over the first `k` components ± radius/√m
 * on each of the m components the cluster's examples vary in: a half-diagonal of `radius`; a
 * component they all share, e.g. a conditional decoder's class code, stays fixed): a union of
 * small boxes around typical examples,
 * so an answer stays within `radius` of one of them, however far the objective pulls. Where
 * percentile boxes reach corners no example comes near (a Sandal cluster's reach boots), these
 * do not.
 *
 * @example
 * const clusters = { count: 1, dims: 2, labels: [5], sizes: [9], centres: [0, 0], quantiles: [], cores: { perCluster: 1, codes: [1, 2] } };
 * coreBoxes(clusters, 2, Math.SQRT2)[0] // { lo: [0, 1], hi: [2, 3], centre: [1, 2], label: 5 }
 */
export function coreBoxes(clusters: CodeClusters, k: number, radius = DEFAULT_CORE_RADIUS, advice = `, e.g. near=${DEFAULT_CORE_RADIUS}`): CodeBox[] {
  if (!clusters.cores) throw new ActmaxError('bad-option', 'these clusters record no core examples; use clusters=LOW-HIGH for percentile boxes');
  if (!(radius > 0) || !Number.isFinite(radius)) throw new ActmaxError('bad-option', `near=${radius}: give a positive half-diagonal${advice}`);
  if (k > clusters.dims) throw new ActmaxError('bad-option', `the clusters describe ${clusters.dims} components; K = ${k} needs more`);
  const { perCluster, codes } = clusters.cores;
  const boxes: CodeBox[] = [];
  for (let j = 0; j < clusters.count; j++) {
    const moving = Array.from({ length: k }, (_, c) => varies(clusters, j, c));
    const h = radius / Math.sqrt(Math.max(1, moving.filter(Boolean).length));
    for (let e = 0; e < perCluster; e++) {
      const off = (j * perCluster + e) * clusters.dims;
      const centre = Array.from({ length: k }, (_, c) => codes[off + c]);
      boxes.push({ lo: centre.map((v, c) => (moving[c] ? v - h : v)), hi: centre.map((v, c) => (moving[c] ? v + h : v)), centre, label: clusters.labels[j] });
    }
  }
  return boxes;
}

/**
 * The union of {@link coreBoxes} as a prior's code set records it (boxes, half-diagonal, cores a
 * cluster); `advice` ends the line a bad radius gets.
 *
 * @example
 * const clusters = { count: 1, dims: 2, labels: [5], sizes: [9], centres: [0, 0], quantiles: [], cores: { perCluster: 1, codes: [1, 2] } };
 * coreUnion(clusters, 2, 1).cores // 1
 */
export function coreUnion(clusters: CodeClusters, k: number, radius: number, advice?: string): { boxes: CodeBox[]; radius: number; cores: number } {
  return { boxes: coreBoxes(clusters, k, radius, advice), radius, cores: clusters.cores?.perCluster ?? 0 };
}

/** Whether component `c` varies over cluster `j`'s examples (a conditional decoder's class code does not). */
function varies(clusters: CodeClusters, j: number, c: number): boolean {
  const off = (j * clusters.dims + c) * LEVELS;
  return clusters.quantiles.length === 0 || clusters.quantiles[off] !== clusters.quantiles[off + LEVELS - 1];
}

/** Shrinks the box [lo, hi] about its middle so that its half-diagonal is at most `radius`. */
function shrinkToRadius(lo: number[], hi: number[], radius: number): void {
  const half = Math.sqrt(lo.reduce((s, l, c) => s + ((hi[c] - l) / 2) ** 2, 0));
  if (!(half > radius)) return;
  const f = radius / half;
  for (let c = 0; c < lo.length; c++) {
    const mid = (lo[c] + hi[c]) / 2, w = ((hi[c] - lo[c]) / 2) * f;
    lo[c] = mid - w;
    hi[c] = mid + w;
  }
}

/**
 * Reads clusters from outside data (metadata, a stored prior's header and binary); null when
 * absent, an ActmaxError naming `where` when malformed.
 *
 * @example
 * readClusters(undefined, 8, 'decoder metadata') // null
 */
export function readClusters(v: unknown, dims: number, where: string): CodeClusters | null {
  if (v === undefined || v === null) return null;
  const c = v as Partial<CodeClusters>;
  const nums = (a: unknown, n: number): a is number[] => Array.isArray(a) && a.length === n && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  const count = c.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || c.dims !== dims || !nums(c.labels, count) || !nums(c.sizes, count) || !nums(c.centres, count * dims) || !nums(c.quantiles, count * dims * LEVELS)) {
    throw new ActmaxError('bad-input', `${where}: clusters must be {count, dims: ${dims}, labels, sizes, centres: count×${dims}, quantiles: count×${dims}×${LEVELS}}`);
  }
  const cores = c.cores;
  if (cores !== undefined) {
    const per = cores?.perCluster;
    if (typeof per !== 'number' || !Number.isInteger(per) || per < 1 || !nums(cores.codes, count * per * dims)) {
      throw new ActmaxError('bad-input', `${where}: clusters.cores must be {perCluster ≥ 1, codes: count×perCluster×${dims}}`);
    }
  }
  return { count, dims, labels: c.labels, sizes: c.sizes, centres: c.centres, quantiles: c.quantiles, ...(cores ? { cores: { perCluster: cores.perCluster, codes: cores.codes } } : {}) };
}
