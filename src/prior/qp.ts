import { ActmaxError } from '../errors.js';

/**
 * Projection onto a polyhedron, exactly: min ½‖z − z0‖² subject to G z ≤ h (q rows of k), by
 * the dual active-set method of Goldfarb and Idnani (1983) with the identity Hessian — finite,
 * no tolerance to tune beyond rounding. A warm working set (e.g. the previous step's) is tried
 * first: accepted when it satisfies the KKT conditions (a gradient step that keeps the same active
 * constraints: one small solve), and the method's starting point when only its multipliers are
 * ≥ 0 (a step that adds a row or two: a few iterations instead of rebuilding the set).
 */
export interface Polyhedron {
  k: number;
  q: number;
  /** q × k, row-major. */
  G: Float64Array;
  h: Float64Array;
}

/** Violation accepted as zero (inputs are O(1); float32 storage adds more anyway). */
const FEAS_TOL = 1e-10;

/** A row whose part outside the active rows' span is below this fraction of its norm counts as dependent on them. */
const DEPENDENT = 1e-9;

function rowNorm(G: Float64Array, j: number, k: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) s += G[j * k + i] ** 2;
  return Math.sqrt(s);
}

/** QR of the active rows (as columns of N, k × a) by modified Gram–Schmidt. */
class ActiveBasis {
  readonly Q: Float64Array;
  readonly R: Float64Array;
  a = 0;
  constructor(readonly k: number) {
    this.Q = new Float64Array(k * k);
    this.R = new Float64Array(k * k);
  }
  /** Rebuild from the rows `active` of G; false when they are linearly dependent. */
  build(G: Float64Array, active: number[]): boolean {
    const { k, Q, R } = this;
    this.a = 0;
    for (const j of active) {
      const c = this.a;
      for (let i = 0; i < k; i++) Q[i * k + c] = G[j * k + i];
      for (let p = 0; p < c; p++) {
        let d = 0;
        for (let i = 0; i < k; i++) d += Q[i * k + p] * Q[i * k + c];
        R[p * k + c] = d;
        for (let i = 0; i < k; i++) Q[i * k + c] -= d * Q[i * k + p];
      }
      let nrm = 0;
      for (let i = 0; i < k; i++) nrm += Q[i * k + c] ** 2;
      nrm = Math.sqrt(nrm);
      if (!(nrm > 0.5 * DEPENDENT * rowNorm(G, j, k))) return false;
      R[c * k + c] = nrm;
      for (let i = 0; i < k; i++) Q[i * k + c] /= nrm;
      this.a++;
    }
    return true;
  }
  /** y = Qᵀv (a values), and v − Q·y into `rest`. */
  split(v: ArrayLike<number>, vo: number, y: Float64Array, rest: Float64Array): void {
    const { k, Q, a } = this;
    for (let c = 0; c < a; c++) {
      let d = 0;
      for (let i = 0; i < k; i++) d += Q[i * k + c] * v[vo + i];
      y[c] = d;
    }
    for (let i = 0; i < k; i++) {
      let s = v[vo + i];
      for (let c = 0; c < a; c++) s -= Q[i * k + c] * y[c];
      rest[i] = s;
    }
  }
  /** Solves R x = y (back substitution) in place. */
  solveR(y: Float64Array): void {
    const { k, R, a } = this;
    for (let c = a - 1; c >= 0; c--) {
      let s = y[c];
      for (let p = c + 1; p < a; p++) s -= R[c * k + p] * y[p];
      y[c] = s / R[c * k + c];
    }
  }
  /** Solves Rᵀ x = y (forward substitution) in place. */
  solveRt(y: Float64Array): void {
    const { k, R, a } = this;
    for (let c = 0; c < a; c++) {
      let s = y[c];
      for (let p = 0; p < c; p++) s -= R[p * k + c] * y[p];
      y[c] = s / R[c * k + c];
    }
  }
}

/** A reusable solver for one polyhedron (scratch buffers sized once). */
export interface PolyhedronProjector {
  /** z ← the projection of z0; `warm` (in/out) is the working set to try first and the final one. */
  project(z0: ArrayLike<number>, z: Float64Array, warm: number[]): void;
}

/**
 * Builds the exact projector onto {z : G z ≤ h}. Throws ActmaxError `infeasible` from `project`
 * when the polyhedron is empty.
 *
 * @example
 * const box = { k: 1, q: 2, G: Float64Array.of(1, -1), h: Float64Array.of(1, 1) };
 * const z = new Float64Array(1);
 * polyhedronProjector(box).project([3], z, []); // z = [1]
 */
export function polyhedronProjector(poly: Polyhedron): PolyhedronProjector {
  const { k, q, G, h } = poly;
  const basis = new ActiveBasis(k);
  const y = new Float64Array(k), dn = new Float64Array(k), lam = new Float64Array(k), slack = new Float64Array(q);
  const rowDot = (j: number, z: ArrayLike<number>) => {
    let s = 0;
    const o = j * k;
    for (let i = 0; i < k; i++) s += G[o + i] * z[i];
    return s;
  };
  const isActive = new Uint8Array(q);
  /** Largest violation and its row (−1 when none exceeds the tolerance). */
  const mostViolated = (z: Float64Array, active: number[]): number => {
    for (const j of active) isActive[j] = 1;
    let best = -1, worst = FEAS_TOL;
    for (let j = 0; j < q; j++) {
      const v = rowDot(j, z) - h[j];
      slack[j] = v;
      if (v > worst && !isActive[j]) (worst = v), (best = j);
    }
    for (const j of active) isActive[j] = 0;
    return best;
  };
  /**
   * A working set to start from: its equality projection into `z` and multipliers into `lam`.
   * 'optimal' when they meet the KKT conditions; 'dual' when the multipliers are ≥ 0 but some row
   * is violated — a valid state of the dual method, which goes on from there instead of from
   * nothing (a gradient step usually adds or drops a row or two); 'none' otherwise.
   */
  const warmStart = (z0: ArrayLike<number>, z: Float64Array, warm: number[]): 'optimal' | 'dual' | 'none' => {
    if (warm.length > k) warm.length = 0;
    // Rows whose multiplier turns negative are let go (a few rounds): what stays is a working set
    // the dual method can start from.
    for (let round = 0; ; round++) {
      if (warm.length === 0 || !basis.build(G, warm)) return 'none';
      const a = basis.a;
      for (let c = 0; c < a; c++) lam[c] = rowDot(warm[c], z0) - h[warm[c]];
      basis.solveRt(lam);
      basis.solveR(lam);
      const keep = warm.filter((_, c) => lam[c] >= -1e-12);
      if (keep.length === warm.length) break;
      if (round === 3) return 'none';
      warm.length = 0;
      warm.push(...keep);
    }
    const a = basis.a;
    for (let i = 0; i < k; i++) {
      let s = z0[i];
      for (let c = 0; c < a; c++) s -= G[warm[c] * k + i] * lam[c];
      z[i] = s;
    }
    return mostViolated(z, warm) < 0 ? 'optimal' : 'dual';
  };

  return {
    project(z0, z, warm) {
      const start = warmStart(z0, z, warm);
      if (start === 'optimal') return;
      const active: number[] = start === 'dual' ? warm.slice() : [];
      const u: number[] = start === 'dual' ? Array.from(lam.subarray(0, active.length), (v) => Math.max(0, v)) : [];
      if (start === 'none') for (let i = 0; i < k; i++) z[i] = z0[i];
      for (let iter = 0; iter < 20 * (k + q); iter++) {
        const p = mostViolated(z, active);
        if (p < 0) {
          warm.length = 0;
          warm.push(...active);
          return;
        }
        let up = 0;
        for (let inner = 0; ; inner++) {
          if (inner > 4 * k + 8) throw new ActmaxError('internal-check', 'polyhedron projection: the active-set iteration did not settle');
          if (!basis.build(G, active)) throw new ActmaxError('internal-check', 'polyhedron projection: dependent active rows');
          basis.split(G, p * k, y, dn);
          basis.solveR(y); // y = multiplier direction r
          let dd = 0, gg = 0;
          for (let i = 0; i < k; i++) (dd += dn[i] * dn[i]), (gg += G[p * k + i] ** 2);
          // Row p (nearly) a combination of the active rows: no full step along it, only a drop — the
          // same relative threshold as ActiveBasis.build, so an added row is never rejected there.
          if (dd <= DEPENDENT * DEPENDENT * gg) dd = 0;
          let t1 = Infinity, drop = -1;
          for (let c = 0; c < active.length; c++) if (y[c] > 1e-14 && u[c] / y[c] < t1) (t1 = u[c] / y[c]), (drop = c);
          const vp = rowDot(p, z) - h[p];
          const t2 = dd > 0 ? vp / dd : Infinity;
          const t = Math.min(t1, t2);
          if (t === Infinity) throw new ActmaxError('infeasible', 'the constraints have no common point');
          if (t2 !== Infinity) for (let i = 0; i < k; i++) z[i] -= t * dn[i];
          for (let c = 0; c < active.length; c++) u[c] -= t * y[c];
          up += t;
          if (t === t2) {
            active.push(p);
            u.push(up);
            break;
          }
          active.splice(drop, 1);
          u.splice(drop, 1);
        }
      }
      throw new ActmaxError('internal-check', 'polyhedron projection did not converge');
    },
  };
}
