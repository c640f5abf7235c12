import { ActmaxError } from '../errors.js';
import type { ReadConstraints } from './read.js';

/**
 * Checks that the constraints read for one input can hold together, set by set: no feature's
 * bounds contradict (a contradiction within float slack, e.g. ref ± eps landing 1 ulp past a
 * bound, is settled by lo := hi), each L2/L1 ball meets the bounds, each halfspace can hold
 * within them, each one-hot group can sum to 1, and levels have a finite box. Throws ActmaxError
 * `infeasible` (or `bad-spec` for levels) naming the constraints. Whether all sets meet at once
 * is checked on the assembled constraints (checkIntersection).
 *
 * @example
 * checkFeasible(readConstraints([{ kind: 'box', lo: 0, hi: 1 }], { name: 'x', shape: [2], range: [0, 1] }));
 */
export function checkFeasible(read: ReadConstraints): void {
  const { n, where, lo, hi, loSource, hiSource, labels, l2, l1, ballLabels, linear, linearLabels, oneHot, oneHotLabels, levels, boxLo, boxHi } = read;
  // Per-feature contradictions (tiny float slack, e.g. ref ± eps landing 1 ulp past a bound).
  for (let i = 0; i < n; i++) {
    if (lo[i] > hi[i]) {
      if (lo[i] - hi[i] <= 1e-12 * (1 + Math.abs(hi[i]))) {
        lo[i] = hi[i];
        continue;
      }
      throw new ActmaxError(
        'infeasible',
        `constraints contradict on ${where}: feature ${i} needs ≥ ${lo[i]} (${labels[loSource[i]]}) and ≤ ${hi[i]} (${labels[hiSource[i]]})`,
      );
    }
  }

  // Each remaining set must meet the box on its own.
  for (const [list, p] of [
    [l2, 2],
    [l1, 1],
  ] as const) {
    for (const ball of list) {
      const d = distanceToBox(ball.ref, lo, hi, p);
      if (d > ball.eps * (1 + 1e-12) + 1e-15) {
        throw new ActmaxError(
          'infeasible',
          `${ballLabels.get(ball)} (eps ${ball.eps}) on ${where} does not meet the other constraints: its reference is ${fmt(d)} away from the nearest allowed input`,
        );
      }
    }
  }
  linear.forEach((h, k) => {
    let min = 0;
    for (let i = 0; i < n; i++) {
      const a = h.a[i];
      if (a > 0) min += a * lo[i];
      else if (a < 0) min += a * hi[i];
    }
    if (min > h.b + 1e-12 * (1 + Math.abs(h.b))) {
      throw new ActmaxError(
        'infeasible',
        `${linearLabels[k]} (a·x ≤ ${h.b}) on ${where} cannot hold with the other constraints: the smallest a·x allowed there is ${fmt(min)}`,
      );
    }
  });
  oneHot.forEach((g, k) => {
    let sumLo = 0;
    let sumHi = 0;
    for (const i of g.indices) {
      sumLo += lo[i];
      sumHi += hi[i];
    }
    if (sumLo > 1 + 1e-12) {
      throw new ActmaxError('infeasible', `${oneHotLabels[k]} on ${where} cannot sum to 1: the lower bounds of its features already sum to ${fmt(sumLo)}`);
    }
    if (sumHi < 1 - 1e-12) {
      throw new ActmaxError('infeasible', `${oneHotLabels[k]} on ${where} cannot sum to 1: the upper bounds of its features sum to only ${fmt(sumHi)}`);
    }
  });
  if (levels !== null) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(boxLo[i]) || !Number.isFinite(boxHi[i])) {
        throw new ActmaxError('bad-spec', `levels on ${where} needs a finite box, but feature ${i} has box [${boxLo[i]}, ${boxHi[i]}]`);
      }
    }
  }
}

/** Lp distance (p = 1 or 2) from `ref` to the box [lo, hi]. */
function distanceToBox(ref: Float64Array, lo: Float64Array, hi: Float64Array, p: 1 | 2): number {
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const d = r < lo[i] ? lo[i] - r : r > hi[i] ? r - hi[i] : 0;
    s += p === 2 ? d * d : d;
  }
  return p === 2 ? Math.sqrt(s) : s;
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}
