import type { ResolvedConstraints } from './resolve.js';

/* Rounding the best answers onto discrete constraints: intensity levels and one-hot groups. */

/**
 * Rounds every free feature to the nearest of `rc.levels` evenly spaced values across its box
 * (for the box [0, 1] and 256 levels: k/255), staying inside lo/hi (e.g. an L∞ ball) when a level
 * lies there. Features a mask fixes and one-hot members are left alone. No-op without `levels`.
 *
 * @example
 * const rc = resolveConstraints([box(0, 1), levels(5)], { name: 'x', shape: [3], range: [0, 1] }, 0);
 * const best = Float32Array.from([0.1, 0.5, 0.93]);
 * roundToLevels(best, 1, rc); // values become k/4
 * Array.from(best) // [0, 0.5, 1]
 */
export function roundToLevels(x: Float32Array | Float64Array, rows: number, rc: ResolvedConstraints): void {
  const L = rc.levels;
  if (L === null) return;
  const { n, lo, hi, boxLo, boxHi } = rc;
  const groupOf = rc.work.groupOf;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    for (let i = 0; i < n; i++) {
      if (groupOf[i] >= 0) continue;
      if (lo[i] === hi[i]) {
        x[off + i] = lo[i];
        continue;
      }
      const span = boxHi[i] - boxLo[i];
      if (span <= 0) continue;
      let k = Math.round(((x[off + i] - boxLo[i]) / span) * (L - 1));
      const kMin = Math.max(0, Math.ceil(((lo[i] - boxLo[i]) / span) * (L - 1) - 1e-9));
      const kMax = Math.min(L - 1, Math.floor(((hi[i] - boxLo[i]) / span) * (L - 1) + 1e-9));
      if (kMin > kMax) {
        const v = x[off + i];
        x[off + i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
        continue;
      }
      if (k < kMin) k = kMin;
      if (k > kMax) k = kMax;
      x[off + i] = boxLo[i] + (k * span) / (L - 1);
    }
  }
}

/**
 * Rounds each one-hot group to a one-hot vector: its largest member that may be 1 becomes 1,
 * the others their lower bound (0). No-op without one-hot groups.
 *
 * @example
 * const rc = resolveConstraints([oneHot([0, 1, 2])], { name: 'x', shape: [3], range: [0, 1] }, 0);
 * const best = Float32Array.from([0.2, 0.7, 0.1]);
 * roundOneHot(best, 1, rc);
 * Array.from(best) // [0, 1, 0]
 */
export function roundOneHot(x: Float32Array | Float64Array, rows: number, rc: ResolvedConstraints): void {
  const { n, lo, hi } = rc;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    for (const { indices } of rc.oneHot) {
      let best = -1;
      for (const i of indices) {
        if (lo[i] <= 1 && hi[i] >= 1 && (best < 0 || x[off + i] > x[off + best])) best = i;
      }
      if (best < 0) continue;
      for (const i of indices) x[off + i] = i === best ? 1 : Math.max(lo[i], 0);
    }
  }
}
