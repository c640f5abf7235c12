/**
 * Clusters of the training codes for the data priors' default code sets (used by
 * `npm run train:fashion` for the stored subspace prior and `npm run train:fashion-decoder` for the
 * decoder): k-means (ml-kmeans, seeded k-means++) inside each class, then a quantile table of each
 * cluster's codes per component (0, 5, …, 100 %), and (option `cores`) the codes of each cluster's
 * members nearest its centroid. The library reads them (src/prior/clusters.ts) and makes one box
 * around each core example, or one percentile box per cluster.
 *
 * @example
 * const c = classClusters(codes, labels, 60000, 64, { perClass: 4, seed: 1, clusterDims: 32 });
 */
import { kmeans } from 'ml-kmeans';
import { CLUSTER_QUANTILE_STEP, type CodeClusters } from '../src/prior/clusters.js';

const LEVELS = 100 / CLUSTER_QUANTILE_STEP + 1;

/** Quantiles at 0, 5, …, 100 % of `values` (linear interpolation between order statistics). */
function quantileRow(values: Float64Array): number[] {
  const s = Float64Array.from(values).sort();
  return Array.from({ length: LEVELS }, (_, q) => {
    const pos = ((q * CLUSTER_QUANTILE_STEP) / 100) * (s.length - 1);
    const i = Math.floor(pos);
    return i + 1 < s.length ? s[i] * (1 - (pos - i)) + s[i + 1] * (pos - i) : s[i];
  });
}

/**
 * k-means with `perClass` clusters inside each class, on the first `clusterDims` components of the
 * codes (`count` × `dims`, row-major); centres and quantile tables over all `dims` components.
 */
export function classClusters(codes: ArrayLike<number>, labels: ArrayLike<number>, count: number, dims: number, options: { perClass: number; seed: number; clusterDims?: number; cores?: number }): CodeClusters {
  const cd = Math.min(dims, options.clusterDims ?? dims);
  const classes = [...new Set(Array.from({ length: count }, (_, r) => labels[r]))].sort((a, b) => a - b);
  const out: CodeClusters = { count: 0, dims, labels: [], sizes: [], centres: [], quantiles: [] };
  const cores = options.cores ?? 0;
  const coreCodes: number[] = [];
  for (const label of classes) {
    const rows = Array.from({ length: count }, (_, r) => r).filter((r) => labels[r] === label);
    const points = rows.map((r) => Array.from({ length: cd }, (_, c) => codes[r * dims + c]));
    const km = kmeans(points, Math.min(options.perClass, rows.length), { seed: options.seed, initialization: 'kmeans++', maxIterations: 100 });
    for (let j = 0; j < km.centroids.length; j++) {
      const members = rows.filter((_, i) => km.clusters[i] === j);
      if (members.length === 0) continue;
      out.labels.push(label);
      out.sizes.push(members.length);
      for (let c = 0; c < dims; c++) {
        const col = Float64Array.from(members, (r) => codes[r * dims + c]);
        out.centres.push(col.reduce((a, b) => a + b, 0) / col.length);
        out.quantiles.push(...quantileRow(col));
      }
      if (cores > 0) for (const r of nearestMembers(codes, dims, members, km.centroids[j], cores)) for (let c = 0; c < dims; c++) coreCodes.push(codes[r * dims + c]);
      out.count++;
    }
  }
  if (cores > 0) out.cores = { perCluster: cores, codes: coreCodes };
  return out;
}

/** The `take` members whose codes lie nearest the centroid over its components (repeating the last where a cluster has fewer). */
function nearestMembers(codes: ArrayLike<number>, dims: number, members: number[], centroid: number[], take: number): number[] {
  const d2 = (r: number) => centroid.reduce((s, v, c) => s + (codes[r * dims + c] - v) ** 2, 0);
  const near = members.map((r) => ({ r, d: d2(r) })).sort((a, b) => a.d - b.d || a.r - b.r).map((o) => o.r);
  return Array.from({ length: take }, (_, i) => near[Math.min(i, near.length - 1)]);
}
