import { addRow, dot } from './kernels.js';
import type { ShallowProblem } from './shallow.js';

/**
 * The linear part of a node's relaxation and the Lagrangian multipliers that shape it.
 *
 * For s in the node's region (units fixed on have h_j ≥ 0, fixed off h_j ≤ 0) and any
 * θ_j ∈ [0, 1], ν_k ≥ 0:
 *
 *   f(s) ≤ d + a·s + Σ_{free, c_j>0} c_j relu(h_j) + Σ_{free, c_j<0} c_j θ_j h_j
 *          + Σ_{on} c_j h_j − Σ_k ν_k (A_k s − r_k)
 *
 * because c_j relu(h) ≤ c_j θ h when c_j < 0 (relu(h) ≥ θh), relu(h_j) = h_j on, 0 off, and
 * A s ≤ r. The right side is convex in s, so its maximum over the region is at most its maximum
 * over the box's vertices: the node's box-binary QP, with linear part L(s) = d' + a'·s.
 *
 * @example
 * const lag = new NodeLagrangian(problem, unitNorms(problem), node.fixed, node.theta, node.nu);
 * sdp.setNode(lag.sigmaUnits(), lag.a, lag.d, node.warm);
 */
export class NodeLagrangian {
  /** L(s) = d + a·s of the current multipliers. */
  readonly a: Float64Array;
  d = 0;
  /** Coefficient of each unit's h_j in L (0 for units in the QP's σ rows). */
  readonly kappa: Float64Array;
  /** Σ of the absolute values of every term of L and of the σ rows' units (sizes rounding margins). */
  absScale = 0;

  /**
   * @param fixed per unit: 1 on, 0 off, −1 free
   * @param theta per unit, used for free units with c_j < 0 (changed in place by {@link step})
   * @param nu per linear constraint (changed in place)
   */
  /** Multiplier changes of one step, per unit (scratch). */
  private readonly delta: Float64Array;

  /**
   * @param addRows out += Σ_j delta[j]·W_j (default: plain loops; the node solver passes its SIMD kernel)
   */
  constructor(
    private readonly p: ShallowProblem,
    private readonly norms: UnitNorms,
    readonly fixed: Int8Array,
    readonly theta: Float64Array,
    readonly nu: Float64Array,
    private readonly addRows: (out: Float64Array, delta: Float64Array) => void = (out, delta) => {
      for (let j = 0; j < p.m; j++) if (delta[j] !== 0) addRow(out, p.W, j * p.n, delta[j], p.n);
    },
  ) {
    this.a = new Float64Array(p.n);
    this.kappa = new Float64Array(p.m);
    this.delta = new Float64Array(p.m);
    this.rebuild();
  }

  /** Units in the QP's σ rows: free with c_j > 0. */
  sigmaUnits(): Int32Array {
    const out: number[] = [];
    for (let j = 0; j < this.p.m; j++) if (this.fixed[j] === -1 && this.p.c[j] > 0) out.push(j);
    return Int32Array.from(out);
  }

  /** Region multipliers on fixed units (λ_j ≥ 0 in `theta`'s slot): on, + λ h_j ≥ 0; off, − λ h_j ≥ 0. */
  regionMultipliers = true;
  lambdaScale = 1;

  private kappaOf(j: number): number {
    const c = this.p.c[j], f = this.fixed[j];
    const lam = this.regionMultipliers ? this.theta[j] : 0;
    if (f === 1) return c + lam;
    if (f === 0) return -lam;
    return c < 0 ? c * this.theta[j] : 0;
  }

  /** Recompute L from the multipliers. */
  rebuild(): void {
    const { p, a } = this;
    a.set(p.a);
    let d = p.d;
    for (let j = 0; j < p.m; j++) {
      const k = (this.kappa[j] = this.kappaOf(j));
      if (k === 0) continue;
      d += k * p.b[j];
    }
    this.addRows(a, this.kappa);
    for (let k = 0; k < p.rows; k++) {
      const v = this.nu[k];
      if (v === 0) continue;
      d += v * p.r[k];
      addRow(a, p.A, k * p.n, -v, p.n);
    }
    this.d = d;
    this.updateScale();
  }

  private updateScale(): void {
    const { p, norms } = this;
    let s = Math.abs(p.d);
    for (let i = 0; i < p.n; i++) s += Math.abs(p.a[i]);
    for (let j = 0; j < p.m; j++) {
      const k = this.kappa[j] !== 0 ? Math.abs(this.kappa[j]) : this.fixed[j] === -1 && p.c[j] > 0 ? p.c[j] : 0;
      s += k * (Math.abs(p.b[j]) + norms.l1[j]);
    }
    for (let k = 0; k < p.rows; k++) s += this.nu[k] * (Math.abs(p.r[k]) + norms.rowL1[k]);
    this.absScale = s;
  }

  /**
   * One projected subgradient step toward a smaller bound, from the relaxation's estimate ŝ of
   * the maximiser and every unit's h_j(ŝ): ∂/∂θ_j = c_j h_j(ŝ), ∂/∂λ_j = ±h_j(ŝ),
   * ∂/∂ν_k = r_k − A_k ŝ. Steps are scaled by each unit's range of h over the box. Returns true
   * when a multiplier moved.
   */
  step(shat: Float64Array, hs: Float64Array, eta: number): boolean {
    const { p, norms } = this;
    let moved = false;
    const delta = this.delta;
    delta.fill(0);
    for (let j = 0; j < p.m; j++) {
      const fx = this.fixed[j];
      if (fx === -1 && p.c[j] >= 0) continue;
      if (fx !== -1 && !this.regionMultipliers) continue;
      const g = (eta * hs[j]) / norms.range[j];
      let t: number, dk: number;
      if (fx === -1) {
        t = Math.min(1, Math.max(0, this.theta[j] + g));
        dk = p.c[j] * (t - this.theta[j]);
      } else {
        // λ moves against the sign the region gives h: down when h > 0 on an on unit.
        const gl = g * Math.abs(p.c[j]) * this.lambdaScale;
        t = Math.max(0, this.theta[j] + (fx === 1 ? -gl : gl));
        dk = fx === 1 ? t - this.theta[j] : this.theta[j] - t;
      }
      if (t === this.theta[j]) continue;
      this.theta[j] = t;
      this.kappa[j] += dk;
      this.d += dk * p.b[j];
      delta[j] = dk;
      moved = true;
    }
    if (moved) this.addRows(this.a, delta);
    for (let k = 0; k < p.rows; k++) {
      const viol = dotRow(p.A, k * p.n, shat, p.n) - p.r[k];
      const v = Math.max(0, this.nu[k] + (eta * viol * norms.nuScale[k]));
      const delta = v - this.nu[k];
      if (delta === 0) continue;
      this.nu[k] = v;
      this.d += delta * p.r[k];
      addRow(this.a, p.A, k * p.n, -delta, p.n);
      moved = true;
    }
    if (moved) this.updateScale();
    return moved;
  }
}

/** Per-unit and per-constraint norms used for step sizes and margins. */
export interface UnitNorms {
  /** ‖W_j‖₁ */
  l1: Float64Array;
  /** max − min of h_j over the box. */
  range: Float64Array;
  /** min and max of h_j over the box. */
  hlo: Float64Array;
  hhi: Float64Array;
  /** ‖A_k‖₁ and the step scale for ν_k. */
  rowL1: Float64Array;
  nuScale: Float64Array;
}

/**
 * Norms of a problem's units and constraint rows.
 *
 * @example
 * const norms = unitNorms(problem);
 */
export function unitNorms(p: ShallowProblem): UnitNorms {
  const l1 = new Float64Array(p.m), range = new Float64Array(p.m), hlo = new Float64Array(p.m), hhi = new Float64Array(p.m);
  for (let j = 0; j < p.m; j++) {
    let lo = p.b[j], hi = p.b[j], s = 0;
    for (let i = 0; i < p.n; i++) {
      const w = p.W[j * p.n + i];
      s += Math.abs(w);
      if (w > 0) hi += w;
      else lo += w;
    }
    l1[j] = s;
    hlo[j] = lo;
    hhi[j] = hi;
    range[j] = Math.max(hi - lo, 1e-300);
  }
  const rowL1 = new Float64Array(p.rows), nuScale = new Float64Array(p.rows);
  // ν's natural scale: the objective's size per unit of constraint violation.
  let objScale = 0;
  for (let j = 0; j < p.m; j++) objScale += Math.abs(p.c[j]) * range[j];
  for (let i = 0; i < p.n; i++) objScale += Math.abs(p.a[i]);
  for (let k = 0; k < p.rows; k++) {
    let s = 0;
    for (let i = 0; i < p.n; i++) s += Math.abs(p.A[k * p.n + i]);
    rowL1[k] = s;
    nuScale[k] = s > 0 ? objScale / (s * s) : 0;
  }
  return { l1, range, hlo, hhi, rowL1, nuScale };
}

function dotRow(M: Float64Array, offset: number, x: Float64Array, n: number): number {
  return dot(M, offset, x, 0, n);
}
