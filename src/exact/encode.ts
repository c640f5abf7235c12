import { ActmaxError } from '../errors.js';
import type { Bounds } from './bounds.js';
import { exprBounds } from './bounds.js';
import { freeUnits, liveVars, writeVar } from './encodeUnits.js';
import type { ExactInputSet } from './inputs.js';
import { MilpWriter, one, scaled, type Terms } from './milpWriter.js';
import type { LinExpr, PLNetwork } from './network.js';

/**
 * What the exact maximiser maximises, over the variables of a {@link PLNetwork}:
 * `linear − Σ weight · max(others)` with every weight > 0. A `margin:K` is `logit_K` in `linear`
 * plus one term with the other logits; `−max` is concave, so it is exact as an epigraph
 * (t ≥ each other logit, maximise −t) without binaries.
 */
export interface ExactObjective {
  linear: LinExpr;
  margins: Array<{ weight: number; others: LinExpr[] }>;
}

/** A column (variable) of the MILP. */
export interface MilpColumn {
  name: string;
  lo: number;
  hi: number;
  integer: boolean;
}

/** A row of the MILP: Σ coef·col (sense) rhs. */
export interface MilpRow {
  name: string;
  idx: number[];
  coef: number[];
  sense: '<=' | '>=' | '=';
  rhs: number;
}

/** How the value of a column follows from a forward pass (for a consistent start solution). */
export type ColumnSource =
  | { kind: 'var'; v: number }
  | { kind: 'active'; src: number }
  | { kind: 'argmax'; srcs: number[]; i: number }
  | { kind: 'maxOf'; exprs: LinExpr[] }
  | { kind: 'abs'; feature: number; ref: number }
  | { kind: 'level'; feature: number; lo: number; step: number };

/** The mixed-integer program, as data. Maximise `objective`. */
export interface Milp {
  columns: MilpColumn[];
  rows: MilpRow[];
  objective: { idx: number[]; coef: number[]; c: number };
  /** Column of each input feature. */
  inputCols: number[];
  /** PL variable v equals varScale[v] · column varCol[v] (varCol −1: v is 0). */
  varCol: Int32Array;
  varScale: Float64Array;
  sources: ColumnSource[];
  stats: { unstable: number; stable: number; binaries: number; withoutBinary: number; integers: number };
}

/** Options of {@link encode}. */
export interface EncodeOptions {
  /** LP relaxation (triangle/chord relaxations, no integers): for bound tightening. */
  relax?: boolean;
  /** Encode only variables below this index (default: all). */
  upTo?: number;
}

/**
 * Encodes "maximise the objective over inputs satisfying the constraints" as a MILP:
 * each pre-activation is a column of its own, stable units are fixed to their linear piece,
 * unstable ReLUs get the big-M encoding with one binary — unless the objective can only lose
 * from the unit being larger (it feeds nothing but the objective, with a coefficient ≤ 0 after
 * the margins' worst case), in which case `y ≥ max(0, z)` alone is exact at the optimum.
 *
 * @example
 * const milp = encode(net, rc, bounds, { linear: logits[3], margins: [] });
 * const text = toLpText(milp);
 */
export function encode(net: PLNetwork, rc: ExactInputSet, b: Bounds, objective: ExactObjective | null, options: EncodeOptions = {}): Milp {
  const upTo = options.upTo ?? net.vars.length;
  const relax = !!options.relax;
  const w = new MilpWriter(upTo);
  const groupOf = new Int32Array(rc.n).fill(-1);
  rc.oneHot.forEach((g, k) => g.indices.forEach((i) => (groupOf[i] = k)));
  const inputCols = writeInputs(w, rc, groupOf, relax);
  // Which units may go without a binary: they feed only the objective, which cannot gain from them.
  const free = objective && !relax ? freeUnits(net, objective, upTo) : new Uint8Array(upTo);
  const live = objective && !relax ? liveVars(net, b, objective, upTo) : new Uint8Array(upTo).fill(1);
  for (let v = rc.n; v < upTo; v++) if (live[v]) writeVar(w, net.vars[v], v, b, relax, free[v] === 1);
  writeSetRows(w, rc, inputCols, groupOf, relax);
  const obj = objective ? writeObjective(w, objective, b) : { idx: [], coef: [], c: 0 };
  return { columns: w.columns, rows: w.rows, objective: obj, inputCols, varCol: w.varCol, varScale: w.varScale, sources: w.sources, stats: w.stats };
}

/** One column per input feature (integer in a one-hot group, unless relaxed); returns them. */
function writeInputs(w: MilpWriter, rc: ExactInputSet, groupOf: Int32Array, relax: boolean): number[] {
  const inputCols: number[] = [];
  for (let i = 0; i < rc.n; i++) {
    const c = w.col(`x${i}`, rc.lo[i], rc.hi[i], !relax && groupOf[i] >= 0, { kind: 'var', v: i });
    inputCols.push(c);
    w.own(i, c);
  }
  return inputCols;
}

/** The input constraints beyond per-feature bounds: L1 balls, halfspaces, one-hot groups, levels. */
function writeSetRows(w: MilpWriter, rc: ExactInputSet, inputCols: number[], groupOf: Int32Array, relax: boolean): void {
  if (rc.l2.length > 0) throw new ActmaxError('unsupported', 'exact mode cannot use an L2 ball (it is not linear); use an L∞ or L1 ball, or gradient search');
  rc.l1.forEach((ball, k) => {
    const abs: number[] = [];
    for (let i = 0; i < rc.n; i++) {
      // NaN: the feature belongs to another input than the ball's.
      if (Number.isNaN(ball.ref[i]) || (rc.lo[i] === rc.hi[i] && rc.lo[i] === ball.ref[i])) continue;
      const a = w.col(`a${k}_${i}`, 0, Math.max(rc.hi[i] - ball.ref[i], ball.ref[i] - rc.lo[i], 0), false, { kind: 'abs', feature: i, ref: ball.ref[i] });
      abs.push(a);
      w.row(`l1_${k}_${i}_p`, [one(a), [[inputCols[i]], [-1]]], '>=', -ball.ref[i]);
      w.row(`l1_${k}_${i}_n`, [one(a), [[inputCols[i]], [1]]], '>=', ball.ref[i]);
    }
    w.row(`l1_${k}`, abs.map((a) => one(a)), '<=', ball.eps);
  });
  rc.linear.forEach((h, k) => {
    const idx: number[] = [], coef: number[] = [];
    h.a.forEach((a, i) => { if (a !== 0) { idx.push(inputCols[i]); coef.push(a); } });
    w.row(`lin${k}`, [[idx, coef]], '<=', h.b);
  });
  rc.oneHot.forEach((g, k) => w.row(`onehot${k}`, [[Array.from(g.indices, (i) => inputCols[i]), Array.from(g.indices, () => 1)]], '=', 1));
  if (rc.levels === null || relax) return;
  for (let i = 0; i < rc.n; i++) {
    const L = rc.featureLevels ? rc.featureLevels[i] : rc.levels;
    if (L === 0 || groupOf[i] >= 0 || rc.lo[i] === rc.hi[i]) continue;
    const span = rc.boxHi[i] - rc.boxLo[i];
    if (span <= 0) continue;
    const step = span / (L - 1);
    const kMin = Math.max(0, Math.ceil((rc.lo[i] - rc.boxLo[i]) / step - 1e-9));
    const kMax = Math.min(L - 1, Math.floor((rc.hi[i] - rc.boxLo[i]) / step + 1e-9));
    if (kMin > kMax) throw new ActmaxError('infeasible', `levels:${L}: feature ${i} has bounds [${rc.lo[i]}, ${rc.hi[i]}] that hold none of the ${L} levels of the box`);
    const kc = w.col(`k${i}`, kMin, kMax, true, { kind: 'level', feature: i, lo: rc.boxLo[i], step });
    w.row(`level${i}`, [[[inputCols[i]], [1]], [[kc], [-step]]], '=', rc.boxLo[i]);
  }
}

/** The objective: its linear part, and per margin an epigraph column t ≥ each other expression, at −weight. */
function writeObjective(w: MilpWriter, objective: ExactObjective, b: Bounds): Milp['objective'] {
  const lin = w.expr(objective.linear);
  const terms: Terms[] = [[lin.idx, lin.coef]];
  objective.margins.forEach((m, k) => {
    if (!(m.weight > 0)) throw new ActmaxError('unsupported', 'exact mode can maximise a margin only with a positive weight');
    const bs = m.others.map((e) => exprBounds(e, b));
    const t = w.col(`t${k}`, Math.max(...bs.map((x) => x[0])), Math.max(...bs.map((x) => x[1])), false, { kind: 'maxOf', exprs: m.others });
    m.others.forEach((e, j) => {
      const o = w.expr(e);
      w.row(`margin${k}_${j}`, [one(t), scaled(o, -1)], '>=', o.c);
    });
    terms.push([[t], [-m.weight]]);
  });
  const mm = new Map<number, number>();
  for (const [idx, coef] of terms) idx.forEach((c, k) => mm.set(c, (mm.get(c) ?? 0) + coef[k]));
  return { idx: [...mm.keys()], coef: [...mm.values()], c: lin.c };
}

/**
 * A start solution for the MILP from one feasible input: every column computed from a float64
 * forward pass, so that all rows hold.
 *
 * @example
 * const start = startSolution(milp, forwardValues(net, x0));
 */
export function startSolution(milp: Milp, values: Float64Array): Float64Array {
  const out = new Float64Array(milp.columns.length);
  milp.sources.forEach((s, c) => {
    let v: number;
    switch (s.kind) {
      case 'var':
        v = values[s.v];
        break;
      case 'active':
        v = values[s.src] > 0 ? 1 : 0;
        break;
      case 'argmax': {
        let best = 0;
        s.srcs.forEach((src, k) => { if (values[src] > values[s.srcs[best]]) best = k; });
        v = best === s.i ? 1 : 0;
        break;
      }
      case 'maxOf': {
        v = -Infinity;
        for (const e of s.exprs) {
          let t = e.c;
          for (let k = 0; k < e.idx.length; k++) t += e.coef[k] * values[e.idx[k]];
          v = Math.max(v, t);
        }
        break;
      }
      case 'abs':
        v = Math.abs(values[s.feature] - s.ref);
        break;
      case 'level':
        v = Math.round((values[s.feature] - s.lo) / s.step);
        break;
    }
    const col = milp.columns[c];
    out[c] = Math.min(col.hi, Math.max(col.lo, v));
  });
  return out;
}
