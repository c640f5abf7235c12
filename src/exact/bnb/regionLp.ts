import type { Highs, Model } from 'highs';
import type { ShallowProblem } from './shallow.js';
import { KernelArena, type Slot } from './wasm.js';

/**
 * The LP over one activation region of a shallow problem, exact there:
 *
 *   max d + a·s + Σ_{j on, c_j>0} c_j h_j(s) + Σ_{c_j<0} c_j t_j
 *   s.t. h_j(s) ≥ 0 (unit on), h_j(s) ≤ 0 (unit off), t_j ≥ h_j(s), 0 ≤ t_j, A s ≤ r, s ∈ [0,1]^n.
 *
 * Units with c_j > 0 must be fixed on or off; units with c_j < 0 may stay free (their ReLU is
 * concave, so the epigraph t_j is exact at the optimum) or be fixed too. One persistent HiGHS
 * model per problem: a new region changes row bounds and costs only, so the simplex restarts
 * from the previous basis. Every answer carries a bound checked from the LP duals in float64, so
 * an LP that stops early or rounds still gives a valid upper bound.
 */

/** Answer of {@link RegionLp.solve}. */
export interface RegionAnswer {
  status: 'optimal' | 'infeasible' | 'other';
  /** LP objective at `s` (as HiGHS reports it), or −Infinity. */
  value: number;
  /** The LP's point, clamped into [0, 1]; null when infeasible. */
  s: Float64Array | null;
  /** A valid upper bound on the region's maximum from the LP duals (Infinity when unknown). */
  bound: number;
}

/** Unit roundoff of float64. */
const EPS = 2 ** -53;

/** Pattern values: 1 on, 0 off, −1 free (only for units with c_j < 0). */
export type Pattern = Int8Array;

/**
 * A persistent HiGHS LP for the regions of one shallow problem.
 *
 * @example
 * const lp = new RegionLp(highs, problem);
 * const ans = lp.solve(pattern); // pattern[j] ∈ {1, 0, −1}
 * lp.dispose();
 */
export class RegionLp {
  private readonly model: Model;
  private readonly neg: Int32Array;
  /** Column of each negative unit's t, −1 for positive units. */
  private readonly tCol: Int32Array;
  private readonly numCols: number;
  private readonly numRows: number;
  /** Row bounds and costs of the current region (for the dual bound). */
  private readonly rowLo: Float64Array;
  private readonly rowHi: Float64Array;
  private readonly cost: Float64Array;
  private readonly colHi: Float64Array;
  private readonly inf: number;
  private readonly hiH: Float64Array;
  private readonly loH: Float64Array;
  /** Rows holding each unit's h_j (m with regions, 0 for the ascent-only model). */
  private readonly unitRows: number;
  /** W and scratch in kernel memory, for the costs a + Σ_on c_j W_j. */
  private readonly arena: KernelArena;
  private readonly kW: Slot<Float64Array>;
  private readonly kCoef: Slot<Float64Array>;
  private readonly kRows: Slot<Int32Array>;
  private readonly kCost: Slot<Float64Array>;

  /**
   * @param regions false builds the smaller model of {@link RegionLp.solveLifted} alone (no row per
   *   unit, so no region constraints): the polish's ascent steps.
   */
  constructor(private readonly highs: Highs, private readonly p: ShallowProblem, readonly regions = true) {
    const { n, m, W, b, c, rows, A, r } = p;
    const neg: number[] = [];
    for (let j = 0; j < m; j++) if (c[j] < 0) neg.push(j);
    this.neg = Int32Array.from(neg);
    this.tCol = new Int32Array(m).fill(-1);
    neg.forEach((j, k) => (this.tCol[j] = n + k));
    this.inf = highs.infinity;
    this.numCols = n + neg.length;
    // Rows: h_j for every unit (m, with regions), epigraph for negative units, the linear constraints.
    const ur = (this.unitRows = regions ? m : 0);
    this.numRows = ur + neg.length + rows;
    this.loH = new Float64Array(m);
    this.hiH = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let lo = b[j], hi = b[j];
      for (let i = 0; i < n; i++) {
        const w = W[j * n + i];
        if (w > 0) hi += w;
        else lo += w;
      }
      this.loH[j] = lo;
      this.hiH[j] = hi;
    }
    this.colHi = new Float64Array(this.numCols).fill(1);
    neg.forEach((j, k) => (this.colHi[n + k] = Math.max(0, this.hiH[j]) * (1 + 1e-9) + 1e-9));
    const starts: number[] = [0];
    const indices: number[] = [];
    const values: number[] = [];
    this.rowLo = new Float64Array(this.numRows).fill(-Infinity);
    this.rowHi = new Float64Array(this.numRows).fill(Infinity);
    const pushDense = (row: Float64Array, offset: number, scale: number) => {
      for (let i = 0; i < n; i++) {
        const w = row[offset + i];
        if (w !== 0) {
          indices.push(i);
          values.push(scale * w);
        }
      }
    };
    for (let j = 0; j < ur; j++) {
      pushDense(W, j * n, 1);
      starts.push(indices.length);
    }
    neg.forEach((j, k) => {
      // t_j − W_j s ≥ b_j
      pushDense(W, j * n, -1);
      indices.push(n + k);
      values.push(1);
      starts.push(indices.length);
      this.rowLo[ur + k] = b[j];
    });
    for (let k = 0; k < rows; k++) {
      pushDense(A, k * n, 1);
      starts.push(indices.length);
      this.rowHi[ur + neg.length + k] = r[k];
    }
    this.cost = new Float64Array(this.numCols);
    this.arena = new KernelArena((m * n + m + n) * 8 + m * 4 + 4 * 16);
    this.kW = this.arena.f64(m * n);
    this.kW.view.set(W);
    this.kCoef = this.arena.f64(m);
    this.kRows = this.arena.i32(m);
    this.kCost = this.arena.f64(n);
    const fin = (v: number) => (v === Infinity ? this.inf : v === -Infinity ? -this.inf : v);
    this.model = highs.createModel();
    this.model.passModel({
      numCols: this.numCols,
      numRows: this.numRows,
      sense: highs.constants.objectiveSense.maximize,
      offset: 0,
      colCost: this.cost,
      colLower: new Float64Array(this.numCols),
      colUpper: this.colHi,
      rowLower: Float64Array.from(this.rowLo, fin),
      rowUpper: Float64Array.from(this.rowHi, fin),
      matrix: { format: 'csr', numRows: this.numRows, numCols: this.numCols, starts: Int32Array.from(starts), indices: Int32Array.from(indices), values: Float64Array.from(values) },
    });
    this.model.options.set({ output_flag: false, presolve: 'off', primal_feasibility_tolerance: 1e-9, dual_feasibility_tolerance: 1e-9 });
  }

  /**
   * One ascent step of the polish: units with c_j > 0 count where `pattern` is 1 (a linear term),
   * but their sign is not constrained; units with c_j < 0 stay concave. No dual bound is computed.
   */
  solveLifted(pattern: Pattern, timeLimit = 10): RegionAnswer {
    return this.solve(pattern, timeLimit, false, false);
  }

  /**
   * Maximise over the region of `pattern` (within `timeLimit` seconds). Units with c_j > 0 and
   * pattern −1 count as off (they add nothing; their sign is not constrained). `region` false drops
   * the sign constraints of the c_j > 0 units (see solveLifted); `withBound` false skips the dual bound.
   */
  solve(pattern: Pattern, timeLimit = 10, region = true, withBound = true): RegionAnswer {
    if (!this.regions && (region || pattern.some((v, j) => v !== -1 && this.p.c[j] < 0))) throw new Error('RegionLp: built without region rows');
    const { n, m, b, c, a, d } = this.p;
    // Costs: a + Σ_{on, c>0} c_j W_j on s; c_j on t_j.
    const cost = this.cost;
    cost.fill(0);
    let offset = d, on = 0;
    const coef = this.kCoef.view, rows = this.kRows.view;
    for (let j = 0; j < m; j++) {
      if (c[j] > 0 && pattern[j] === 1) {
        coef[on] = c[j];
        rows[on++] = j;
        offset += c[j] * b[j];
      } else if (c[j] < 0) cost[this.tCol[j]] = c[j];
    }
    const kc = this.kCost.view;
    kc.set(a);
    this.arena.kernels.axpyRows(this.kW.ptr, this.kCoef.ptr, this.kRows.ptr, on, n, this.kCost.ptr);
    cost.set(kc);
    // Region rows: on ⇒ W_j s ≥ −b_j; off ⇒ W_j s ≤ −b_j; free ⇒ none.
    const fin = (v: number) => (v === Infinity ? this.inf : v === -Infinity ? -this.inf : v);
    if (this.unitRows > 0) {
      for (let j = 0; j < m; j++) {
        const constrain = region || c[j] < 0;
        this.rowLo[j] = constrain && pattern[j] === 1 ? -b[j] : -Infinity;
        this.rowHi[j] = constrain && pattern[j] === 0 ? -b[j] : Infinity;
      }
      const sel = { kind: 'range', from: 0, to: m - 1 } as const;
      this.model.changeRowsBounds(sel, Float64Array.from(this.rowLo.subarray(0, m), fin), Float64Array.from(this.rowHi.subarray(0, m), fin));
    }
    this.model.changeColsCost({ kind: 'range', from: 0, to: this.numCols - 1 }, cost);
    this.model.changeObjectiveOffset(offset);
    this.lastOffset = offset;
    this.model.options.set({ time_limit: timeLimit });
    this.model.zeroAllClocks();
    const run = this.model.run();
    const ms = this.highs.constants.modelStatus;
    if (run.modelStatus === ms.infeasible) return { status: 'infeasible', value: -Infinity, s: null, bound: -Infinity };
    const sol = this.model.getSolution();
    const bound = withBound ? this.dualBound(sol.rowDual, offset) : Infinity;
    if (run.modelStatus !== ms.optimal) return { status: 'other', value: -Infinity, s: null, bound };
    const s = Float64Array.from(sol.colValue.subarray(0, n), (v) => Math.min(1, Math.max(0, v)));
    return { status: 'optimal', value: this.model.getObjectiveValue(), s, bound };
  }

  /**
   * max cᵀz + offset over the LP ≤ offset + Σ_k y_k·(row bound) + Σ_i max over [lo_i, hi_i] of
   * (c − Rᵀy)_i z_i, for any row multipliers y whose signs match finite row bounds. Both signs of
   * HiGHS's duals are tried; the smaller bound is kept. Rounding is covered by a margin.
   */
  private dualBound(rowDual: Float64Array, offset: number): number {
    let best = Infinity;
    for (const sign of [1, -1]) best = Math.min(best, this.boundFor(rowDual, sign, offset));
    return best;
  }

  private boundFor(rowDual: Float64Array, sign: number, offset: number): number {
    const { n, W, A, rows } = this.p;
    const y = new Float64Array(this.numRows);
    for (let k = 0; k < this.numRows; k++) {
      const v = sign * rowDual[k];
      y[k] = v > 0 ? (this.rowHi[k] < Infinity ? v : 0) : v < 0 ? (this.rowLo[k] > -Infinity ? v : 0) : 0;
    }
    // reduced costs d = c − Rᵀy
    const dz = Float64Array.from(this.cost);
    let absSum = Math.abs(offset);
    let total = offset;
    const ur = this.unitRows;
    for (let j = 0; j < ur; j++) {
      const yj = y[j];
      if (yj === 0) continue;
      const o = j * n;
      for (let i = 0; i < n; i++) dz[i] -= yj * W[o + i];
    }
    this.neg.forEach((j, k) => {
      const yk = y[ur + k];
      if (yk === 0) return;
      const o = j * n;
      for (let i = 0; i < n; i++) dz[i] += yk * W[o + i];
      dz[n + k] -= yk;
    });
    for (let k = 0; k < rows; k++) {
      const yk = y[ur + this.neg.length + k];
      if (yk === 0) continue;
      for (let i = 0; i < n; i++) dz[i] -= yk * A[k * n + i];
    }
    for (let k = 0; k < this.numRows; k++) {
      if (y[k] === 0) continue;
      const t = y[k] > 0 ? y[k] * this.rowHi[k] : y[k] * this.rowLo[k];
      total += t;
      absSum += Math.abs(t);
    }
    let yAbs = 0;
    for (let k = 0; k < this.numRows; k++) yAbs += Math.abs(y[k]);
    for (let i = 0; i < this.numCols; i++) {
      const t = dz[i] > 0 ? dz[i] * this.colHi[i] : 0;
      total += t;
      absSum += Math.abs(dz[i]) * this.colHi[i];
    }
    // Rounding: every product and sum above, plus d's entries (≤ n+rows terms each).
    const margin = 4 * (this.numCols + this.numRows + 4) * EPS * (absSum + yAbs * this.scaleW());
    return total + margin;
  }

  private wScale = -1;
  /** Largest row ℓ1 norm of the constraint matrix (sizes the rounding margin). */
  private scaleW(): number {
    if (this.wScale >= 0) return this.wScale;
    const { n, m, W, A, rows } = this.p;
    let s = 1;
    for (let j = 0; j < m; j++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += Math.abs(W[j * n + i]);
      s = Math.max(s, t);
    }
    for (let k = 0; k < rows; k++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += Math.abs(A[k * n + i]);
      s = Math.max(s, t);
    }
    this.wScale = s;
    return s;
  }

  private lastOffset = 0;

  /** Rows of the LP (the length of the multipliers {@link boundFromDuals} takes). */
  get rowCount(): number {
    return this.numRows;
  }

  /**
   * A valid upper bound on the maximum over the region last solved, from any row multipliers y
   * (components whose sign needs an infinite row bound count as 0). For tests of soundness.
   */
  boundFromDuals(y: Float64Array): number {
    return this.boundFor(y, 1, this.lastOffset);
  }

  /** Free HiGHS's memory for this model. */
  dispose(): void {
    this.model.dispose();
  }
}
