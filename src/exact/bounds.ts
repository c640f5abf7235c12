import type { LinExpr, PLNetwork } from './network.js';

/** Lower and upper bound of every variable of a {@link PLNetwork}. */
export interface Bounds {
  lo: Float64Array;
  hi: Float64Array;
}

/** [min, max] of an expression over the box of its variables. @example exprBounds(e, b) // [-2, 3] */
export function exprBounds(e: LinExpr, b: Bounds): [number, number] {
  let l = e.c, u = e.c;
  for (let k = 0; k < e.idx.length; k++) {
    const w = e.coef[k], v = e.idx[k];
    if (w >= 0) {
      l += w * b.lo[v];
      u += w * b.hi[v];
    } else {
      l += w * b.hi[v];
      u += w * b.lo[v];
    }
  }
  return [l, u];
}

/**
 * Interval arithmetic through the network, from per-feature input bounds. `known` (e.g. from LP
 * tightening) is intersected in for every variable it covers, and the tighter values propagate.
 *
 * @example
 * const b = intervalBounds(net, rc.lo, rc.hi);
 * const unstable = net.vars.filter((d, v) => d.kind === 'relu' && b.lo[d.src] < 0 && b.hi[d.src] > 0).length;
 */
export function intervalBounds(net: PLNetwork, inLo: ArrayLike<number>, inHi: ArrayLike<number>, known?: Bounds): Bounds {
  const n = net.vars.length;
  const b: Bounds = { lo: new Float64Array(n), hi: new Float64Array(n) };
  net.vars.forEach((d, v) => {
    let l: number, u: number;
    switch (d.kind) {
      case 'input':
        l = inLo[d.feature];
        u = inHi[d.feature];
        break;
      case 'affine':
        [l, u] = exprBounds(d.expr, b);
        break;
      case 'relu':
        l = Math.max(0, b.lo[d.src]);
        u = Math.max(0, b.hi[d.src]);
        break;
      case 'leaky': {
        const sl = b.lo[d.src], su = b.hi[d.src];
        l = sl < 0 ? d.alpha * sl : sl;
        u = su < 0 ? d.alpha * su : su;
        break;
      }
      case 'max':
        l = -Infinity;
        u = -Infinity;
        for (const s of d.srcs) {
          l = Math.max(l, b.lo[s]);
          u = Math.max(u, b.hi[s]);
        }
        break;
    }
    if (known && v < known.lo.length) {
      l = Math.max(l, known.lo[v]);
      u = Math.min(u, known.hi[v]);
      if (l > u) {
        // Rounding in the LP may cross the bounds by a hair; keep a valid, non-empty interval.
        const mid = (l + u) / 2;
        l = u = mid;
      }
    }
    b.lo[v] = l;
    b.hi[v] = u;
  });
  return b;
}

/** Variables whose value feeds a nonlinearity (ReLU/LeakyReLU/max): the ones worth tightening. */
export function nonlinearSources(net: PLNetwork): number[] {
  const out = new Set<number>();
  for (const d of net.vars) {
    if (d.kind === 'relu' || d.kind === 'leaky') out.add(d.src);
    else if (d.kind === 'max') d.srcs.forEach((s) => out.add(s));
  }
  return [...out].sort((a, b) => a - b);
}

/** Is a nonlinearity's source unstable (the piece it is on is not decided by the bounds)? */
export function isUnstable(net: PLNetwork, b: Bounds, src: number): boolean {
  return b.lo[src] < 0 && b.hi[src] > 0;
}

/**
 * Depth of each variable: the number of nonlinearities on the longest path from the input.
 * Variables of one depth depend only on lower depths, so their LP bounds can be computed together.
 *
 * @example
 * const depth = depths(net); // depth[v] = 0 for input features and first-layer pre-activations
 */
export function depths(net: PLNetwork): Int32Array {
  const dep = new Int32Array(net.vars.length);
  net.vars.forEach((d, v) => {
    switch (d.kind) {
      case 'input':
        dep[v] = 0;
        break;
      case 'affine': {
        let m = 0;
        for (const s of d.expr.idx) m = Math.max(m, dep[s]);
        dep[v] = m;
        break;
      }
      case 'relu':
      case 'leaky':
        dep[v] = dep[d.src] + 1;
        break;
      case 'max': {
        let m = 0;
        for (const s of d.srcs) m = Math.max(m, dep[s]);
        dep[v] = m + 1;
        break;
      }
    }
  });
  return dep;
}
