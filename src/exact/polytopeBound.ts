import type { Highs, Model } from 'highs';
import type { ShallowProblem } from './bnb/shallow.js';

/**
 * An upper bound of a shallow problem's maximum over its polytope {s ∈ [0,1]^n, A s ≤ r} by
 * one linear relaxation: every unstable unit with c_j > 0 is replaced by the chord of its ReLU
 * over [l_j, u_j] (an upper line), every unit with c_j < 0 by a line α·(W_j s + b_j) below its
 * ReLU (α ∈ {0, 1}); the linear function left is maximised over the polytope by HiGHS. Unlike
 * interval or SDP bounds over the box, the rows A s ≤ r take part — for a data prior's code
 * those are the pixel-box halfspaces 0 ≤ μ + U z ≤ 1, which confine z far more than its box.
 *
 * The LP's answer is not trusted as it is: the bound is re-derived in float64 from its row duals
 * (weak duality, valid for any y ≥ 0), so a rounded or early-stopped LP still gives a valid bound.
 */

/** Answer of {@link CodePolytope.bound}. */
export interface PolytopeBoundAnswer {
  /** Certified upper bound of the maximum over the polytope (Infinity when the LP gave none). */
  bound: number;
  /** The last LP's maximiser (a point of the polytope), or null. */
  s: Float64Array | null;
  /** LPs solved. */
  lps: number;
}

/** Bounds lo ≤ b_j + W_j·s ≤ hi of each unit's pre-activation. */
export type UnitRanges = { lo: Float64Array; hi: Float64Array };

/**
 * The bounds of each unit's pre-activation b_j + W_j·s over s ∈ [0,1]^n.
 *
 * @example
 * const { lo, hi } = unitRanges(problem); // lo[j] < 0 < hi[j] for every unit of a shallow problem
 */
export function unitRanges(p: ShallowProblem): UnitRanges {
  const lo = new Float64Array(p.m), hi = new Float64Array(p.m);
  for (let j = 0; j < p.m; j++) {
    let l = p.b[j], u = p.b[j];
    for (let i = 0; i < p.n; i++) {
      const w = p.W[j * p.n + i];
      if (w > 0) u += w;
      else l += w;
    }
    lo[j] = l;
    hi[j] = u;
  }
  return { lo, hi };
}

/**
 * The linear upper relaxation g·s + g0 of the objective: chords for c_j > 0, α_j·(pre-activation)
 * for c_j < 0 (α from `active`, or by the wider side of the unit's range when absent).
 *
 * @example
 * const { g, g0 } = linearRelaxation(p, unitRanges(p), null);
 */
export function linearRelaxation(p: ShallowProblem, range: UnitRanges, active: Uint8Array | null): { g: Float64Array; g0: number } {
  const { n, m, W, b, c } = p;
  const g = Float64Array.from(p.a);
  let g0 = p.d;
  const add = (j: number, k: number, shift: number) => {
    g0 += k * (b[j] - shift);
    for (let i = 0; i < n; i++) g[i] += k * W[j * n + i];
  };
  for (let j = 0; j < m; j++) {
    const l = range.lo[j], u = range.hi[j];
    if (u <= 0) continue;
    if (l >= 0) add(j, c[j], 0);
    else if (c[j] > 0) add(j, (c[j] * u) / (u - l), l);
    else if (active ? active[j] === 1 : u > -l) add(j, c[j], 0);
  }
  return { g, g0 };
}

/** Rows lower ≤ G z ≤ upper over a code z (G row-major, rows × k): the pixel box (and any halfspaces) read in the code. */
export interface CodeRows {
  k: number;
  rows: number;
  G: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/** Rows added to the LP per round of row generation (the most violated first). */
const ROWS_PER_ROUND = 24;
/** Rounds of row generation per LP (a valid bound comes out whenever it stops). */
const MAX_ROUNDS = 60;
/** A row counts as violated beyond this slack (relative to 1 + |side|). */
const ROW_SLACK = 1e-9;
/**
 * Tuning (not API; tests change it): `lpSeconds`, the seconds one LP may take (they take
 * milliseconds): HiGHS was seen to stall on a degenerate range LP (src/exact/floorRanges.ts, class
 * 1 of the bundled model's prior). A stopped LP gives no bound (Infinity), so nothing is tightened
 * by it.
 */
export const polytopeTuning = { lpSeconds: 1 };

/**
 * A persistent HiGHS LP over {z : lower ≤ G z ≤ upper, z in a box}, shared by the boxes of a
 * union: each solve changes the column bounds (the box) and the costs only, so the simplex
 * restarts from the previous basis. The rows enter by row generation: the LP starts with none,
 * and each solve adds the rows its optimum violates until none is (a 32-code LP needs a few
 * dozen of the 784 pixel rows, far cheaper than all of them). A bound is certified from the duals
 * of the rows in the LP (zero on the others: weak duality holds for any multipliers), so it is
 * valid wherever row generation stops.
 *
 * @example
 * const poly = new CodePolytope(highs, rows);
 * const { bound } = poly.bound(problem); // problem: a box's shallow form, s ∈ [0,1]^n ↔ z = lo + span·s
 * poly.dispose();
 */
export class CodePolytope {
  private readonly model: Model;
  /** Code rows in the LP, in LP row order, and whether each code row is in. */
  private readonly lpRows: number[] = [];
  private readonly inLp: Uint8Array;
  private readonly fin: (v: number) => number;
  /** LPs run (every round of row generation counts). */
  runs = 0;

  constructor(readonly highs: Highs, private readonly rows: CodeRows) {
    const { k } = rows;
    this.inLp = new Uint8Array(rows.rows);
    this.fin = (v: number) => (v === Infinity ? highs.infinity : v === -Infinity ? -highs.infinity : v);
    this.model = highs.createModel();
    this.model.passModel({
      numCols: k,
      numRows: 0,
      sense: highs.constants.objectiveSense.maximize,
      offset: 0,
      colCost: new Float64Array(k),
      colLower: new Float64Array(k),
      colUpper: new Float64Array(k),
      rowLower: new Float64Array(0),
      rowUpper: new Float64Array(0),
      matrix: { format: 'csr', numRows: 0, numCols: k, starts: Int32Array.from([0]), indices: new Int32Array(0), values: new Float64Array(0) },
    });
    this.model.options.set({ output_flag: false, presolve: 'off', time_limit: polytopeTuning.lpSeconds });
  }

  /** Code rows in the LP so far. */
  get rowsInLp(): number {
    return this.lpRows.length;
  }

  /**
   * A certified upper bound of max g·z + g0 over {lower ≤ G z ≤ upper, zlo ≤ z ≤ zhi}, and the
   * LP's maximiser (null when the LP gave none; the bound is then Infinity).
   *
   * @example
   * const { bound, z } = poly.maximize(g, g0, zlo, zhi); // bound ≥ g·z + g0 for every z of the polytope
   */
  maximize(g: Float64Array, g0: number, zlo: Float64Array, zhi: Float64Array): { bound: number; z: Float64Array | null } {
    const k = this.rows.k;
    this.model.changeColsBounds({ kind: 'range', from: 0, to: k - 1 }, zlo, zhi);
    this.model.changeColsCost({ kind: 'range', from: 0, to: k - 1 }, g);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // HiGHS's time_limit counts from the model's first run unless its clocks are zeroed, and this
      // model serves every box: without this, every LP after the first second of them stopped at once.
      this.model.zeroAllClocks();
      this.model.run();
      this.runs++;
      if (this.model.getModelStatus() !== this.highs.constants.modelStatus.optimal) return { bound: Infinity, z: null };
      const sol = this.model.getSolution();
      const z = Float64Array.from(sol.colValue);
      const last = round === MAX_ROUNDS - 1 || !this.addViolated(z);
      if (last) {
        const y = new Float64Array(this.rows.rows);
        this.lpRows.forEach((q, t) => (y[q] = sol.rowDual[t]));
        return { bound: codeDualBound(this.rows, g, g0, zlo, zhi, y), z };
      }
    }
    return { bound: Infinity, z: null };
  }

  /** Adds the rows z violates most (at most ROWS_PER_ROUND); false when none is violated. */
  private addViolated(z: Float64Array): boolean {
    const { k, G, lower, upper } = this.rows;
    const out: Array<{ q: number; v: number }> = [];
    for (let q = 0; q < this.rows.rows; q++) {
      if (this.inLp[q]) continue;
      let gz = 0;
      for (let c = 0; c < k; c++) gz += G[q * k + c] * z[c];
      const v = Math.max(gz - upper[q], lower[q] - gz) / (1 + Math.min(Math.abs(upper[q]), Math.abs(lower[q])));
      if (v > ROW_SLACK) out.push({ q, v });
    }
    if (out.length === 0) return false;
    out.sort((a, b) => b.v - a.v);
    const add = out.slice(0, ROWS_PER_ROUND).map((o) => o.q);
    const starts: number[] = [0], indices: number[] = [], values: number[] = [];
    for (const q of add) {
      for (let c = 0; c < k; c++) if (G[q * k + c] !== 0) (indices.push(c), values.push(G[q * k + c]));
      starts.push(indices.length);
      this.inLp[q] = 1;
      this.lpRows.push(q);
    }
    this.model.addRows({
      lower: Float64Array.from(add, (q) => this.fin(lower[q])),
      upper: Float64Array.from(add, (q) => this.fin(upper[q])),
      matrix: { format: 'csr', numRows: add.length, numCols: k, starts: Int32Array.from(starts), indices: Int32Array.from(indices), values: Float64Array.from(values) },
    });
    return true;
  }

  /**
   * A certified bound of a box's shallow problem over its polytope after `rounds` LPs: the first
   * with α by the units' ranges, each next with α_j = 1 exactly where unit j is active at the
   * previous LP's maximiser; the smallest bound counts. The problem's own rows A s ≤ r must be
   * implied by this polytope's rows (for a union's box they are the same pixel rows). `range`:
   * the units' pre-activation bounds to relax with (default: over the box, {@link unitRanges}).
   */
  bound(p: ShallowProblem, rounds = 2, range: UnitRanges = unitRanges(p)): PolytopeBoundAnswer {
    const { zlo, zhi } = codeBox(p, this.rows.k);
    let best = Infinity, s: Float64Array | null = null, lps = 0;
    let active: Uint8Array | null = null;
    for (let t = 0; t < rounds; t++) {
      const { g, g0 } = inCode(p, this.rows.k, linearRelaxation(p, range, active));
      const out = this.maximize(g, g0, zlo, zhi);
      lps++;
      if (!out.z) break;
      best = Math.min(best, out.bound);
      const z = out.z;
      s = Float64Array.from(p.features, (f, i) => Math.min(1, Math.max(0, (z[f] - p.lo[i]) / p.span[i])));
      active = new Uint8Array(p.m);
      for (let j = 0; j < p.m; j++) {
        let h = p.b[j];
        for (let i = 0; i < p.n; i++) h += p.W[j * p.n + i] * s[i];
        active[j] = h > 0 ? 1 : 0;
      }
    }
    return { bound: best, s, lps };
  }

  /**
   * Each unit's pre-activation range over the box's polytope (bound tightening by LP): for every
   * unit still unstable in `start` (and picked by `which`), its certified maximum and minimum
   * over {s of the box, the rows} (two LPs, each warm-started from the last basis), intersected
   * with `start`. On the bundled model's prior a box takes ≈ 100 LPs, 0.4–0.8 s.
   *
   * @example
   * const tight = poly.unitRanges(p, unitRanges(p)); // tight.hi[j] ≤ unitRanges(p).hi[j]
   */
  unitRanges(p: ShallowProblem, start: UnitRanges, which: (j: number) => boolean = () => true): UnitRanges & { lps: number } {
    const { zlo, zhi } = codeBox(p, this.rows.k);
    const lo = Float64Array.from(start.lo), hi = Float64Array.from(start.hi);
    let lps = 0;
    const row = new Float64Array(p.n);
    for (let j = 0; j < p.m; j++) {
      if (lo[j] >= 0 || hi[j] <= 0 || !which(j)) continue;
      for (const sign of [1, -1]) {
        for (let i = 0; i < p.n; i++) row[i] = sign * p.W[j * p.n + i];
        const { g, g0 } = inCode(p, this.rows.k, { g: row, g0: sign * p.b[j] });
        const { bound } = this.maximize(g, g0, zlo, zhi);
        lps++;
        if (sign === 1) hi[j] = Math.min(hi[j], bound);
        else lo[j] = Math.max(lo[j], -bound);
        // Stable now: the other side cannot change how the unit is relaxed.
        if (hi[j] <= 0 || lo[j] >= 0) break;
      }
    }
    return { lo, hi, lps };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The box in z of a shallow problem: free features from its scaling, the others fixed at x0. */
function codeBox(p: ShallowProblem, k: number): { zlo: Float64Array; zhi: Float64Array } {
  const zlo = Float64Array.from(p.x0.subarray(0, k)), zhi = Float64Array.from(p.x0.subarray(0, k));
  p.features.forEach((f, i) => ((zlo[f] = p.lo[i]), (zhi[f] = p.lo[i] + p.span[i])));
  return { zlo, zhi };
}

/** A linear function g·s + g0 of s read in z (s_i = (z_f − lo_i) / span_i). */
function inCode(p: ShallowProblem, k: number, rel: { g: ArrayLike<number>; g0: number }): { g: Float64Array; g0: number } {
  const g = new Float64Array(k);
  let g0 = rel.g0;
  p.features.forEach((f, i) => {
    g[f] = rel.g[i] / p.span[i];
    g0 -= (rel.g[i] * p.lo[i]) / p.span[i];
  });
  return { g, g0 };
}

/**
 * max g·z + g0 over {lower ≤ G z ≤ upper, zlo ≤ z ≤ zhi} ≤ g0 + Σ_q max(y_q·lower_q, y_q·upper_q)
 * + Σ_c max((g − Gᵀy)_c·zlo_c, (g − Gᵀy)_c·zhi_c) for any y (weak duality). HiGHS's row duals
 * give y; both signs are tried (each is valid), the smaller bound counts.
 *
 * @example
 * codeDualBound(rows, g, 0, zlo, zhi, solution.rowDual) // ≥ the LP's optimum
 */
export function codeDualBound(rows: CodeRows, g: Float64Array, g0: number, zlo: Float64Array, zhi: Float64Array, rowDual: ArrayLike<number>): number {
  const { k, G, lower, upper } = rows;
  let best = Infinity;
  for (const sign of [1, -1]) {
    const reduced = Float64Array.from(g);
    let total = g0, scale = Math.abs(g0);
    for (let q = 0; q < rows.rows; q++) {
      let y = sign * rowDual[q];
      // A side that is infinite takes no multiplier.
      if ((y > 0 && !Number.isFinite(upper[q])) || (y < 0 && !Number.isFinite(lower[q]))) y = 0;
      if (y === 0) continue;
      const term = y > 0 ? y * upper[q] : y * lower[q];
      total += term;
      scale += Math.abs(term);
      for (let c = 0; c < k; c++) reduced[c] -= y * G[q * k + c];
    }
    for (let c = 0; c < k; c++) {
      const term = Math.max(reduced[c] * zlo[c], reduced[c] * zhi[c]);
      total += term;
      scale += Math.abs(term) + Math.abs(g[c]) * Math.max(Math.abs(zlo[c]), Math.abs(zhi[c]));
    }
    // Rounding of the sums above: a relative margin far above float64's unit roundoff.
    best = Math.min(best, total + 1e-12 * (scale + 1) * (rows.rows + k));
  }
  return best;
}
