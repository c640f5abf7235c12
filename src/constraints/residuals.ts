import type { ResolvedConstraints } from './resolve.js';
import { subspaceResidual } from '../prior/subspace.js';

/**
 * How much each constraint is violated (0 when it holds), keyed by readable names: `box`,
 * `linf`, `l2`, `l1`, `mask`, `linear[k]`, `oneHot[k]`, `levels` (distance to the nearest level),
 * `prior` (a subspace prior: distance to its subspace or code set)
 * — with `#2`, `#3` … appended for a second ball of the same kind. When `x` holds several rows,
 * each value is the worst over the rows.
 *
 * @example
 * const rc = resolveConstraints([box(0, 1), linear([1, 1], 1)], { name: 'x', shape: [2], range: [0, 1] }, 0);
 * residuals([0.5, 0.75], rc) // { box: 0, 'linear[0]': 0.25 }
 */
export function residuals(x: ArrayLike<number>, rc: ResolvedConstraints): Record<string, number> {
  const { n } = rc;
  const rows = Math.max(1, Math.floor(x.length / n));
  const out: Record<string, number> = {};
  const put = (key: string, v: number): void => {
    out[key] = Math.max(out[key] ?? 0, v);
  };
  const ballKey = (kind: string, k: number): string => (k === 0 ? kind : `${kind} #${k + 1}`);
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let box = 0;
    for (let i = 0; i < n; i++) {
      const v = x[off + i];
      box = Math.max(box, rc.boxLo[i] - v, v - rc.boxHi[i]);
      if (Number.isNaN(v)) box = Infinity;
    }
    put('box', box);
    rc.linf.forEach((b, k) => {
      let m = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[off + i] - b.ref[i]));
      put(ballKey('linf', k), Math.max(0, m - b.eps));
    });
    rc.l2.forEach((b, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = x[off + i] - b.ref[i];
        s += d * d;
      }
      put(ballKey('l2', k), Math.max(0, Math.sqrt(s) - b.eps));
    });
    rc.l1.forEach((b, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.abs(x[off + i] - b.ref[i]);
      put(ballKey('l1', k), Math.max(0, s - b.eps));
    });
    if (rc.mask) {
      let m = 0;
      const { indices, values } = rc.mask;
      for (let j = 0; j < indices.length; j++) m = Math.max(m, Math.abs(x[off + indices[j]] - values[j]));
      put('mask', m);
    }
    rc.linear.forEach((h, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += h.a[i] * x[off + i];
      put(`linear[${k}]`, Math.max(0, s - h.b));
    });
    rc.oneHot.forEach((g, k) => {
      let s = 0;
      let m = 0;
      for (const i of g.indices) {
        const v = x[off + i];
        s += v;
        m = Math.max(m, -v, v - 1);
      }
      put(`oneHot[${k}]`, Math.max(m, Math.abs(s - 1)));
    });
    if (rc.levels !== null) {
      const L = rc.levels;
      const groupOf = rc.work.groupOf;
      let m = 0;
      for (let i = 0; i < n; i++) {
        if (groupOf[i] >= 0 || rc.lo[i] === rc.hi[i]) continue;
        const span = rc.boxHi[i] - rc.boxLo[i];
        if (span <= 0) continue;
        const k = Math.min(L - 1, Math.max(0, Math.round(((x[off + i] - rc.boxLo[i]) / span) * (L - 1))));
        m = Math.max(m, Math.abs(x[off + i] - (rc.boxLo[i] + (k * span) / (L - 1))));
      }
      put('levels', m);
    }
    if (rc.prior?.type === 'subspace') put('prior', subspaceResidual(rc.prior, Array.from({ length: n }, (_, i) => x[off + i])));
  }
  return out;
}


/** The most violated constraint of `x` and by how much (levels aside: rounding, not projection, meets them). */
export function worstViolation(x: Float64Array, rc: ResolvedConstraints): { name: string; amount: number } {
  const r = residuals(x, rc);
  let name = '';
  let amount = 0;
  for (const [k, v] of Object.entries(r)) {
    if (k === 'levels') continue;
    if (v > amount) {
      amount = v;
      name = k;
    }
  }
  return { name, amount };
}
