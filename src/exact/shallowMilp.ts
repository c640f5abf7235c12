import type { ShallowProblem } from './bnb/shallow.js';
import type { Milp, MilpColumn, MilpRow } from './encode.js';
import { unitRanges, type UnitRanges } from './polytopeBound.js';

/**
 * The compact MILP of a shallow problem: its n variables s ∈ [0,1]^n, its rows A s ≤ r, and per
 * unstable unit a column h_j = relu(W_j s + b_j) — with the big-M pair and a binary where the
 * objective gains from h_j (c_j > 0), and only h_j ≥ 0, h_j ≥ W_j s + b_j where it loses (c_j < 0,
 * exact at the optimum). For a data prior's code this is K + (units) columns instead of the
 * lifted network's K + n + …: the pixel box enters as the rows.
 *
 * `floor` adds the row "objective ≥ floor": the MILP is then infeasible exactly when nothing in
 * the problem beats the floor (a value reached elsewhere, e.g. another box of a union).
 * `range`: the units' pre-activation bounds (default: over the box, {@link unitRanges}); tighter
 * ones (over the box's polytope) give smaller big-M constants and fewer binaries. A unit they
 * make surely inactive gets the row W_j s + b_j ≤ 0 (valid on the polytope): a MILP holding only
 * some of the problem's rows then does not wander where the dropped unit would count.
 *
 * @example
 * const milp = shallowMilp(problem, 13.1);
 * const out = await solver.solveMip(milp, { timeLimit: 10, gapTolerance: 1e-6 });
 */
export function shallowMilp(p: ShallowProblem, floor?: number, range?: UnitRanges): Milp {
  const { n, m, W, b, c } = p;
  const box = unitRanges(p);
  const { lo, hi } = range ?? box;
  const columns: MilpColumn[] = [];
  const rows: MilpRow[] = [];
  for (let i = 0; i < n; i++) columns.push({ name: `s${i}`, lo: 0, hi: 1, integer: false });
  const objIdx: number[] = [], objCoef: number[] = [];
  for (let i = 0; i < n; i++) if (p.a[i] !== 0) (objIdx.push(i), objCoef.push(p.a[i]));
  let binaries = 0;
  const wIdx = (j: number) => Array.from({ length: n }, (_, i) => i).filter((i) => W[j * n + i] !== 0);
  for (let j = 0; j < m; j++) {
    const l = lo[j], u = hi[j];
    const idx = wIdx(j);
    const w = idx.map((i) => W[j * n + i]);
    if (u <= 0) {
      // Inactive on the polytope but not over the whole box: h_j = 0 is exact only where W_j s + b_j ≤ 0.
      if (box.hi[j] > 0) rows.push({ name: `off${j}`, idx, coef: w, sense: '<=', rhs: -b[j] });
      continue;
    }
    const h = columns.length;
    columns.push({ name: `h${j}`, lo: 0, hi: u, integer: false });
    objIdx.push(h);
    objCoef.push(c[j]);
    // h ≥ W s + b
    rows.push({ name: `lo${j}`, idx: [h, ...idx], coef: [1, ...w.map((v) => -v)], sense: '>=', rhs: b[j] });
    if (l >= 0) {
      rows.push({ name: `eq${j}`, idx: [h, ...idx], coef: [1, ...w.map((v) => -v)], sense: '<=', rhs: b[j] });
      continue;
    }
    if (c[j] <= 0) continue;
    const d = columns.length;
    columns.push({ name: `d${j}`, lo: 0, hi: 1, integer: true });
    binaries++;
    // h ≤ W s + b − l (1 − δ);  h ≤ u δ
    rows.push({ name: `up${j}`, idx: [h, ...idx, d], coef: [1, ...w.map((v) => -v), -l], sense: '<=', rhs: b[j] - l });
    rows.push({ name: `on${j}`, idx: [h, d], coef: [1, -u], sense: '<=', rhs: 0 });
  }
  for (let k = 0; k < p.rows; k++) {
    const idx: number[] = [], coef: number[] = [];
    for (let i = 0; i < n; i++) if (p.A[k * n + i] !== 0) (idx.push(i), coef.push(p.A[k * n + i]));
    rows.push({ name: `row${k}`, idx, coef, sense: '<=', rhs: p.r[k] });
  }
  if (floor !== undefined && Number.isFinite(floor)) rows.push({ name: 'floor', idx: objIdx.slice(), coef: objCoef.slice(), sense: '>=', rhs: floor - p.d });
  return {
    columns,
    rows,
    objective: { idx: objIdx, coef: objCoef, c: p.d },
    inputCols: Array.from({ length: n }, (_, i) => i),
    varCol: new Int32Array(0),
    varScale: new Float64Array(0),
    sources: [],
    stats: { unstable: m, stable: 0, binaries, withoutBinary: m - binaries, integers: binaries },
  };
}
