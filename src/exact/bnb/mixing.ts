import type { ShallowProblem } from './shallow.js';
import { KernelArena, type Slot } from './wasm.js';

/**
 * The Shor SDP relaxation of a node's box-binary quadratic program, solved approximately by the
 * low-rank mixing method (block coordinate ascent over unit vectors).
 *
 * A node asks for the maximum over s ∈ {0,1}^n (box vertices) and σ ∈ {0,1}^f of
 *
 *   L(s) + Σ_{j ∈ free} σ_j · c_j · h_j(s),     h_j(s) = b_j + W_j·s,  c_j > 0,
 *
 * where L(s) = d' + a'·s is the node's linear part (the direct term, fixed units and Lagrangian
 * terms, built by the caller). With s = (1 + ŝ)/2 and σ = (1 + t)/2 this is K + vᵀMv over
 * v = (1, ŝ, t) ∈ {±1}^{1+n+f}; M couples ŝ only with t and the homogenising v₀, so the ŝ rows
 * and the t rows are each updated as one block (exact block maximisation). The relaxation keeps
 * one unit vector of dimension {@link RANK} per row: V = [v₀; v_1…v_n; u_1…u_f].
 *
 * Rows of the ŝ block are never stored between nodes: given v₀ and the t rows, their best value is
 * explicit (v_i = g_i/‖g_i‖), so a warm start is the (1 + f) × RANK block alone.
 *
 * The products with W run in WebAssembly SIMD kernels (wasm.ts) on arrays kept in the kernels'
 * memory; the per-row normalisations stay in JavaScript.
 */
export const RANK = 8;

/**
 * One problem's SDP, reused node after node: the weights and scratch live in the kernels' memory.
 *
 * @example
 * const sdp = new MixingSdp(problem);
 * sdp.setNode(free, a, d, null);
 * for (let k = 0; k < 20; k++) sdp.sweep();
 * const { bound } = certify(sdp, absScale);
 */
export class MixingSdp {
  readonly n: number;
  readonly arena: KernelArena;
  /** The problem's weights (m × n), in the kernels' memory. */
  readonly W: Slot<Float64Array>;
  /** Free units (t rows), indices into the problem's units; `rows` holds them for the kernels. */
  free: Int32Array = new Int32Array(0);
  readonly rows: Slot<Int32Array>;
  /** ℓ_i/2: the v₀–ŝ_i coupling (M_{0i}). */
  readonly m0x: Float64Array;
  /** c_j β_j / 4 per free row (M_{0j}). */
  m0t: Float64Array = new Float64Array(0);
  /** c_j / 8 per free row (M_{ji} = c_j W_ji / 8). */
  ct: Float64Array = new Float64Array(0);
  /** Constant K of the node's objective (K + vᵀMv). */
  K = 0;
  /** v₀, the x rows (n × RANK) and the t rows (f × RANK; room for m). */
  readonly v0 = new Float64Array(RANK);
  readonly Vx: Slot<Float64Array>;
  readonly Vt: Slot<Float64Array>;
  /** Scratch: g of the x rows (n × RANK), the t rows' c-scaled vectors and products (m × RANK). */
  readonly Gx: Slot<Float64Array>;
  readonly U: Slot<Float64Array>;
  readonly T: Slot<Float64Array>;
  /** Norms of the x rows' g (y_x of the certificate). */
  readonly gxNorm: Float64Array;
  /** β_j = h_j at the centre of the box. */
  readonly beta: Float64Array;
  /** Certificate scratch: Ã ((1 + m) × n) and S ((1 + m)²). */
  readonly At: Slot<Float64Array>;
  readonly S: Slot<Float64Array>;
  /** A point of the box and the units' h there (for the Lagrangian's subgradient). */
  readonly point: Slot<Float64Array>;
  readonly hOut: Slot<Float64Array>;
  readonly allUnits: Slot<Int32Array>;
  /** Scratch of {@link MixingSdp.addUnitRows}: coefficients, unit list, the n-vector. */
  private readonly coef: Slot<Float64Array>;
  private readonly units: Slot<Int32Array>;
  private readonly vec: Slot<Float64Array>;

  constructor(readonly p: ShallowProblem) {
    const { n, m } = p;
    this.n = n;
    const doubles = m * n + 2 * n * RANK + 3 * m * RANK + (1 + m) * n + (1 + m) * (1 + m) + 2 * n + 2 * m;
    this.arena = new KernelArena(doubles * 8 + 3 * m * 4 + 16 * 16);
    this.W = this.arena.f64(m * n);
    this.W.view.set(p.W);
    this.rows = this.arena.i32(m);
    this.allUnits = this.arena.i32(m);
    for (let j = 0; j < m; j++) this.allUnits.view[j] = j;
    this.Vx = this.arena.f64(n * RANK);
    this.Gx = this.arena.f64(n * RANK);
    this.Vt = this.arena.f64(m * RANK);
    this.U = this.arena.f64(m * RANK);
    this.T = this.arena.f64(m * RANK);
    this.At = this.arena.f64((1 + m) * n);
    this.S = this.arena.f64((1 + m) * (1 + m));
    this.point = this.arena.f64(n);
    this.hOut = this.arena.f64(m);
    this.coef = this.arena.f64(m);
    this.units = this.arena.i32(m);
    this.vec = this.arena.f64(n);
    this.m0x = new Float64Array(n);
    this.gxNorm = new Float64Array(n);
    this.beta = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let s = p.b[j];
      const o = j * n;
      for (let i = 0; i < n; i++) s += p.W[o + i] / 2;
      this.beta[j] = s;
    }
  }

  /**
   * Set the free units and the node's linear part L(s) = d + a·s (in the 0/1 coordinates), and
   * start from `warm` (v₀ then one row per free unit, RANK each) or from a fixed spread.
   */
  setNode(free: Int32Array, a: Float64Array, d: number, warm: Float64Array | null): void {
    const f = free.length;
    this.free = free;
    this.rows.view.set(free);
    this.m0t = new Float64Array(f);
    this.ct = new Float64Array(f);
    for (let k = 0; k < f; k++) {
      const j = free[k];
      this.ct[k] = this.p.c[j] / 8;
      this.m0t[k] = (this.p.c[j] * this.beta[j]) / 4;
    }
    const Vt = this.Vt.view;
    if (warm && warm.length === (1 + f) * RANK) {
      this.v0.set(warm.subarray(0, RANK));
      Vt.set(warm.subarray(RANK));
    } else {
      initSpread(this.v0, Vt, f);
    }
    this.buildSigmaShare();
    this.setLinear(a, d);
    this.updateX();
  }

  /** Σ_free c_j W_j / 8 (the σ rows' share of M_{0i}) and Σ_free c_j β_j / 2 (their share of K). */
  private sigmaRow = new Float64Array(0);
  private sigmaK = 0;

  /** Replace the linear part (after a Lagrangian step); V is kept. */
  setLinear(a: Float64Array, d: number): void {
    const { n } = this;
    // ℓ_i = a_i/2 + Σ_free c_j W_ji / 4 → M_{0i} = ℓ_i/2;  K = d + Σ a_i/2 + Σ_free c_j β_j / 2.
    let K = d + this.sigmaK;
    const base = this.sigmaRow;
    for (let i = 0; i < n; i++) {
      this.m0x[i] = a[i] / 4 + base[i];
      K += a[i] / 2;
    }
    this.K = K;
  }

  private buildSigmaShare(): void {
    const { n, p, free } = this;
    const base = (this.sigmaRow = new Float64Array(n));
    const delta = new Float64Array(p.m);
    let K = 0;
    for (let k = 0; k < free.length; k++) {
      const j = free[k];
      delta[j] = p.c[j] / 8;
      K += (p.c[j] * this.beta[j]) / 2;
    }
    this.addUnitRows(base, delta);
    this.sigmaK = K;
  }

  /** The warm start for a child: v₀ and the t rows, leaving out free row `drop` (or none). */
  warm(drop = -1): Float64Array {
    const f = this.free.length - (drop >= 0 ? 1 : 0);
    const out = new Float64Array((1 + f) * RANK);
    out.set(this.v0);
    let o = RANK;
    const Vt = this.Vt.view;
    for (let k = 0; k < this.free.length; k++) {
      if (k === drop) continue;
      out.set(Vt.subarray(k * RANK, (k + 1) * RANK), o);
      o += RANK;
    }
    return out;
  }

  /** g for every x row (into Gx), then v_i = g_i/‖g_i‖. */
  updateX(): void {
    const { n, free, gxNorm, v0, m0x } = this;
    const Gx = this.Gx.view, Vx = this.Vx.view, U = this.U.view, Vt = this.Vt.view;
    const a0 = v0[0], a1 = v0[1], a2 = v0[2], a3 = v0[3], a4 = v0[4], a5 = v0[5], a6 = v0[6], a7 = v0[7];
    for (let i = 0, q = 0; i < n; i++, q += RANK) {
      const w = m0x[i];
      Gx[q] = w * a0; Gx[q + 1] = w * a1; Gx[q + 2] = w * a2; Gx[q + 3] = w * a3;
      Gx[q + 4] = w * a4; Gx[q + 5] = w * a5; Gx[q + 6] = w * a6; Gx[q + 7] = w * a7;
    }
    const f = free.length;
    for (let k = 0; k < f; k++) {
      const c = this.ct[k];
      for (let r = 0; r < RANK; r++) U[k * RANK + r] = c * Vt[k * RANK + r];
    }
    this.arena.kernels.axpyT8(this.W.ptr, this.U.ptr, this.rows.ptr, f, n, this.Gx.ptr);
    for (let i = 0, q = 0; i < n; i++, q += RANK) {
      const g0 = Gx[q], g1 = Gx[q + 1], g2 = Gx[q + 2], g3 = Gx[q + 3], g4 = Gx[q + 4], g5 = Gx[q + 5], g6 = Gx[q + 6], g7 = Gx[q + 7];
      const nr = Math.sqrt(g0 * g0 + g1 * g1 + g2 * g2 + g3 * g3 + g4 * g4 + g5 * g5 + g6 * g6 + g7 * g7);
      gxNorm[i] = nr;
      if (nr > 0) {
        const s = 1 / nr;
        Vx[q] = g0 * s; Vx[q + 1] = g1 * s; Vx[q + 2] = g2 * s; Vx[q + 3] = g3 * s;
        Vx[q + 4] = g4 * s; Vx[q + 5] = g5 * s; Vx[q + 6] = g6 * s; Vx[q + 7] = g7 * s;
      } else if (Vx[q] === 0 && Vx[q + 1] === 0) {
        Vx[q] = 1;
      }
    }
  }

  /** (MV)_k for every t row into T (before the v₀ term): c_k Σ_i W_ki v_i. */
  private tProducts(): void {
    const f = this.free.length;
    this.arena.kernels.gemvT8(this.W.ptr, this.Vx.ptr, this.rows.ptr, f, this.n, this.T.ptr);
  }

  /** g for every t row; then u_k = g_k/‖g_k‖. */
  updateT(): void {
    const { free, v0, ct, m0t } = this;
    const Vt = this.Vt.view, T = this.T.view;
    this.tProducts();
    for (let k = 0; k < free.length; k++) {
      const c = ct[k], e = m0t[k], t = k * RANK;
      const g0 = c * T[t] + e * v0[0], g1 = c * T[t + 1] + e * v0[1], g2 = c * T[t + 2] + e * v0[2], g3 = c * T[t + 3] + e * v0[3];
      const g4 = c * T[t + 4] + e * v0[4], g5 = c * T[t + 5] + e * v0[5], g6 = c * T[t + 6] + e * v0[6], g7 = c * T[t + 7] + e * v0[7];
      const nr = Math.sqrt(g0 * g0 + g1 * g1 + g2 * g2 + g3 * g3 + g4 * g4 + g5 * g5 + g6 * g6 + g7 * g7);
      if (nr > 0) {
        const s = 1 / nr;
        Vt[t] = g0 * s; Vt[t + 1] = g1 * s; Vt[t + 2] = g2 * s; Vt[t + 3] = g3 * s;
        Vt[t + 4] = g4 * s; Vt[t + 5] = g5 * s; Vt[t + 6] = g6 * s; Vt[t + 7] = g7 * s;
      }
    }
  }

  /** g for v₀ (into `out`): Σ_i M_{0i} v_i + Σ_k M_{0k} u_k. */
  g0(out: Float64Array): void {
    const { n, m0x, m0t } = this;
    const Vx = this.Vx.view, Vt = this.Vt.view;
    out.fill(0);
    for (let i = 0, q = 0; i < n; i++, q += RANK) {
      const w = m0x[i];
      if (w === 0) continue;
      for (let r = 0; r < RANK; r++) out[r] += w * Vx[q + r];
    }
    for (let k = 0; k < m0t.length; k++) {
      const w = m0t[k];
      for (let r = 0; r < RANK; r++) out[r] += w * Vt[k * RANK + r];
    }
  }

  private readonly gTmp = new Float64Array(RANK);

  /** v₀ ← g₀/‖g₀‖. */
  updateV0(): void {
    const g = this.gTmp;
    this.g0(g);
    let nr = 0;
    for (let r = 0; r < RANK; r++) nr += g[r] * g[r];
    nr = Math.sqrt(nr);
    if (nr > 0) for (let r = 0; r < RANK; r++) this.v0[r] = g[r] / nr;
  }

  /** One sweep: t rows, v₀, then x rows (so the x rows are optimal for the certificate). */
  sweep(): void {
    this.updateT();
    this.updateV0();
    this.updateX();
  }

  /**
   * The relaxation's objective K + vᵀMv for the current V, valid right after `updateX()`:
   * M couples only the pairs (0,x), (0,t), (x,t), and after the x update ⟨v_i, g_i⟩ = ‖g_i‖, so
   * vᵀMv = 2(Σ_i ‖g_i‖ + Σ_k M_{0k}⟨v₀, u_k⟩). Not a bound by itself: see certify.ts.
   */
  primal(): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += this.gxNorm[i];
    const { v0, m0t } = this;
    const Vt = this.Vt.view;
    for (let k = 0; k < m0t.length; k++) {
      let d = 0;
      for (let r = 0; r < RANK; r++) d += v0[r] * Vt[k * RANK + r];
      s += m0t[k] * d;
    }
    return this.K + 2 * s;
  }

  /** Σ over t rows of ⟨u_k, (MV)_k⟩, each into `out[k]` when given. */
  tRowSum(out?: Float64Array): number {
    const { free, v0, ct, m0t } = this;
    const Vt = this.Vt.view, T = this.T.view;
    this.tProducts();
    let total = 0;
    for (let k = 0; k < free.length; k++) {
      const c = ct[k], e = m0t[k], t = k * RANK;
      let y = 0;
      for (let r = 0; r < RANK; r++) y += (c * T[t + r] + e * v0[r]) * Vt[t + r];
      if (out) out[k] = y;
      total += y;
    }
    return total;
  }

  /** The relaxation's estimate of s, (1 + ⟨v₀, v_i⟩)/2 in [0, 1], into `point` (and `out`). */
  xhat(out?: Float64Array): Float64Array {
    const { n, v0 } = this;
    const Vx = this.Vx.view, x = this.point.view;
    for (let i = 0, q = 0; i < n; i++, q += RANK) {
      let d = 0;
      for (let r = 0; r < RANK; r++) d += v0[r] * Vx[q + r];
      x[i] = Math.min(1, Math.max(0, (1 + d) / 2));
    }
    if (out) out.set(x);
    return x;
  }

  /** h_j at `point` for every unit (into hOut): the Lagrangian's subgradient. */
  unitValuesAtPoint(): Float64Array {
    const { p } = this;
    this.arena.kernels.gemvRows(this.W.ptr, this.allUnits.ptr, p.m, p.n, this.point.ptr, this.hOut.ptr);
    const h = this.hOut.view;
    for (let j = 0; j < p.m; j++) h[j] += p.b[j];
    return h;
  }

  /**
   * out += Σ_j delta[j] · W_j over the units with delta[j] ≠ 0 (one SIMD kernel call): the
   * Lagrangian's linear part when its multipliers move.
   */
  addUnitRows(out: Float64Array, delta: Float64Array): void {
    const { n, p } = this;
    let f = 0;
    const coef = this.coef.view, units = this.units.view;
    for (let j = 0; j < p.m; j++) {
      if (delta[j] === 0) continue;
      coef[f] = delta[j];
      units[f++] = j;
    }
    if (f === 0) return;
    const v = this.vec.view;
    v.set(out);
    this.arena.kernels.axpyRows(this.W.ptr, this.coef.ptr, this.units.ptr, f, n, this.vec.ptr);
    out.set(v);
  }

  /** f at a point s of the box, with the units' h by the SIMD kernel. */
  value(s: ArrayLike<number>): number {
    const { p } = this;
    const x = this.point.view;
    for (let i = 0; i < p.n; i++) x[i] = s[i];
    const h = this.unitValuesAtPoint();
    let f = p.d;
    for (let i = 0; i < p.n; i++) f += p.a[i] * s[i];
    for (let j = 0; j < p.m; j++) if (h[j] > 0) f += p.c[j] * h[j];
    return f;
  }

  /** A box vertex by random-hyperplane rounding: s_i = 1 when v_i lies on v₀'s side of a random hyperplane. */
  round(normal: Float64Array, out: Float64Array): void {
    const { n, v0 } = this;
    const Vx = this.Vx.view;
    let side0 = 0;
    for (let r = 0; r < RANK; r++) side0 += v0[r] * normal[r];
    for (let i = 0, q = 0; i < n; i++, q += RANK) {
      let d = 0;
      for (let r = 0; r < RANK; r++) d += normal[r] * Vx[q + r];
      out[i] = d * side0 >= 0 ? 1 : 0;
    }
  }
}
/** A deterministic spread of unit vectors to start from when there is no warm start. */
function initSpread(v0: Float64Array, Vt: Float64Array, f: number): void {
  v0.fill(0);
  v0[0] = 1;
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32 - 0.5;
  };
  for (let k = 0; k < f; k++) {
    let nr = 0;
    for (let r = 0; r < RANK; r++) {
      const x = rnd();
      Vt[k * RANK + r] = x;
      nr += x * x;
    }
    nr = Math.sqrt(nr);
    for (let r = 0; r < RANK; r++) Vt[k * RANK + r] /= nr;
  }
}
