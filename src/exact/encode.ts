import { ActmaxError } from '../errors.js';
import type { Bounds } from './bounds.js';
import { exprBounds } from './bounds.js';
import type { LinExpr, PLNetwork } from './network.js';
import type { ExactInputSet } from './inputs.js';

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
type ColumnSource =
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
  const columns: MilpColumn[] = [];
  const rows: MilpRow[] = [];
  const sources: ColumnSource[] = [];
  const varCol = new Int32Array(upTo).fill(-1);
  const varScale = new Float64Array(upTo);
  const stats = { unstable: 0, stable: 0, binaries: 0, withoutBinary: 0, integers: 0 };
  const col = (name: string, lo: number, hi: number, integer: boolean, source: ColumnSource): number => {
    columns.push({ name, lo, hi, integer });
    sources.push(source);
    if (integer) stats.integers++;
    return columns.length - 1;
  };
  const alias = (v: number, src: number, scale: number) => {
    varCol[v] = varCol[src];
    varScale[v] = varScale[src] * scale;
  };
  /** PL expression → column terms (merging aliases) and constant. */
  const mapExpr = (e: LinExpr): { idx: number[]; coef: number[]; c: number } => {
    const m = new Map<number, number>();
    for (let k = 0; k < e.idx.length; k++) {
      const v = e.idx[k];
      if (v >= upTo) throw new Error(`encode: variable ${v} used before it is defined`);
      const c = varCol[v];
      if (c < 0) continue;
      m.set(c, (m.get(c) ?? 0) + e.coef[k] * varScale[v]);
    }
    const idx: number[] = [], coef: number[] = [];
    for (const [c, w] of m) if (w !== 0) { idx.push(c); coef.push(w); }
    return { idx, coef, c: e.c };
  };
  const row = (name: string, terms: Array<[number[], number[]]>, sense: MilpRow['sense'], rhs: number) => {
    const m = new Map<number, number>();
    for (const [idx, coef] of terms) idx.forEach((c, k) => m.set(c, (m.get(c) ?? 0) + coef[k]));
    const idx: number[] = [], coef: number[] = [];
    for (const [c, w] of m) if (w !== 0) { idx.push(c); coef.push(w); }
    rows.push({ name, idx, coef, sense, rhs });
  };
  const one = (c: number): [number[], number[]] => [[c], [1]];
  const scaled = (t: { idx: number[]; coef: number[] }, s: number): [number[], number[]] => [t.idx, t.coef.map((w) => w * s)];

  // Which units may go without a binary: they feed only the objective, which cannot gain from them.
  const free = objective && !relax ? freeUnits(net, objective, upTo) : new Uint8Array(upTo);

  // --- input features ---
  const groupOf = new Int32Array(rc.n).fill(-1);
  rc.oneHot.forEach((g, k) => g.indices.forEach((i) => (groupOf[i] = k)));
  const inputCols: number[] = [];
  for (let i = 0; i < rc.n; i++) {
    const integer = !relax && groupOf[i] >= 0;
    const c = col(`x${i}`, rc.lo[i], rc.hi[i], integer, { kind: 'var', v: i });
    inputCols.push(c);
    varCol[i] = c;
    varScale[i] = 1;
  }

  // --- network ---
  const live = objective && !relax ? liveVars(net, b, objective, upTo) : new Uint8Array(upTo).fill(1);
  for (let v = rc.n; v < upTo; v++) {
    const d = net.vars[v];
    if (!live[v]) continue;
    switch (d.kind) {
      case 'input':
        break;
      case 'affine': {
        const t = mapExpr(d.expr);
        const c = col(`z${v}`, b.lo[v], b.hi[v], false, { kind: 'var', v });
        varCol[v] = c;
        varScale[v] = 1;
        row(`def_z${v}`, [one(c), scaled(t, -1)], '=', t.c);
        break;
      }
      case 'relu':
      case 'leaky': {
        const a = d.kind === 'relu' ? 0 : d.alpha;
        const l = b.lo[d.src], u = b.hi[d.src];
        if (l >= 0) { alias(v, d.src, 1); stats.stable++; break; }
        if (u <= 0) {
          stats.stable++;
          if (a === 0) varCol[v] = -1;
          else alias(v, d.src, a);
          break;
        }
        stats.unstable++;
        const z = mapExpr({ idx: [d.src], coef: [1], c: 0 });
        const y = col(`y${v}`, a * l, u, false, { kind: 'var', v });
        varCol[v] = y;
        varScale[v] = 1;
        row(`act${v}_ge_z`, [one(y), scaled(z, -1)], '>=', 0);
        if (a > 0) row(`act${v}_ge_az`, [one(y), scaled(z, -a)], '>=', 0);
        if (relax) {
          // Chord from (l, a·l) to (u, u).
          const s = (u - a * l) / (u - l);
          row(`act${v}_chord`, [one(y), scaled(z, -s)], '<=', a * l - s * l);
        } else if (free[v]) {
          stats.withoutBinary++;
        } else {
          const dcol = col(`d${v}`, 0, 1, true, { kind: 'active', src: d.src });
          stats.binaries++;
          // δ = 1: y ≤ z; δ = 0: y ≤ a·z (each relaxed by the bounds in the other case).
          row(`act${v}_on`, [one(y), scaled(z, -1), [[dcol], [(1 - a) * -l]]], '<=', (1 - a) * -l);
          row(`act${v}_off`, [one(y), scaled(z, -a), [[dcol], [-(1 - a) * u]]], '<=', 0);
        }
        break;
      }
      case 'max': {
        // Sources that can never be the largest are dropped.
        const bestLo = Math.max(...d.srcs.map((s) => b.lo[s]));
        const cand = d.srcs.filter((s) => b.hi[s] > bestLo || b.lo[s] === bestLo);
        const dominant = cand.find((s) => b.lo[s] >= Math.max(...cand.filter((o) => o !== s).map((o) => b.hi[o]), -Infinity));
        if (dominant !== undefined || cand.length === 1) {
          alias(v, dominant ?? cand[0], 1);
          stats.stable++;
          break;
        }
        stats.unstable++;
        const y = col(`y${v}`, Math.max(...cand.map((s) => b.lo[s])), Math.max(...cand.map((s) => b.hi[s])), false, { kind: 'var', v });
        varCol[v] = y;
        varScale[v] = 1;
        const zs = cand.map((s) => mapExpr({ idx: [s], coef: [1], c: 0 }));
        zs.forEach((z, k) => row(`max${v}_ge_${k}`, [one(y), scaled(z, -1)], '>=', 0));
        if (relax) {
          // max_i z_i ≤ max_i l_i + Σ_i (z_i − l_i).
          const maxLo = Math.max(...cand.map((s) => b.lo[s]));
          row(`max${v}_sum`, [one(y), ...zs.map((z) => scaled(z, -1))], '<=', maxLo - cand.reduce((s, c) => s + b.lo[c], 0));
        } else if (free[v]) {
          stats.withoutBinary++;
        } else {
          const ds = cand.map((_, k) => col(`d${v}_${k}`, 0, 1, true, { kind: 'argmax', srcs: cand, i: k }));
          stats.binaries += ds.length;
          row(`max${v}_one`, ds.map((c) => one(c)), '=', 1);
          zs.forEach((z, k) => {
            const M = Math.max(...cand.filter((_, j) => j !== k).map((s) => b.hi[s])) - b.lo[cand[k]];
            row(`max${v}_le_${k}`, [one(y), scaled(z, -1), [[ds[k]], [M]]], '<=', M);
          });
        }
        break;
      }
    }
  }

  // --- constraints beyond per-feature bounds ---
  if (rc.l2.length > 0) throw new ActmaxError('unsupported', 'exact mode cannot use an L2 ball (it is not linear); use an L∞ or L1 ball, or gradient search');
  rc.l1.forEach((ball, k) => {
    const abs: number[] = [];
    for (let i = 0; i < rc.n; i++) {
      // NaN: the feature belongs to another input than the ball's.
      if (Number.isNaN(ball.ref[i]) || (rc.lo[i] === rc.hi[i] && rc.lo[i] === ball.ref[i])) continue;
      const a = col(`a${k}_${i}`, 0, Math.max(rc.hi[i] - ball.ref[i], ball.ref[i] - rc.lo[i], 0), false, { kind: 'abs', feature: i, ref: ball.ref[i] });
      abs.push(a);
      row(`l1_${k}_${i}_p`, [one(a), [[inputCols[i]], [-1]]], '>=', -ball.ref[i]);
      row(`l1_${k}_${i}_n`, [one(a), [[inputCols[i]], [1]]], '>=', ball.ref[i]);
    }
    row(`l1_${k}`, abs.map((a) => one(a)), '<=', ball.eps);
  });
  rc.linear.forEach((h, k) => {
    const idx: number[] = [], coef: number[] = [];
    h.a.forEach((w, i) => { if (w !== 0) { idx.push(inputCols[i]); coef.push(w); } });
    row(`lin${k}`, [[idx, coef]], '<=', h.b);
  });
  rc.oneHot.forEach((g, k) => row(`onehot${k}`, [[Array.from(g.indices, (i) => inputCols[i]), Array.from(g.indices, () => 1)]], '=', 1));
  if (rc.levels !== null && !relax) {
    for (let i = 0; i < rc.n; i++) {
      const L = rc.featureLevels ? rc.featureLevels[i] : rc.levels;
      if (L === 0 || groupOf[i] >= 0 || rc.lo[i] === rc.hi[i]) continue;
      const span = rc.boxHi[i] - rc.boxLo[i];
      if (span <= 0) continue;
      const step = span / (L - 1);
      const kMin = Math.max(0, Math.ceil((rc.lo[i] - rc.boxLo[i]) / step - 1e-9));
      const kMax = Math.min(L - 1, Math.floor((rc.hi[i] - rc.boxLo[i]) / step + 1e-9));
      if (kMin > kMax) throw new ActmaxError('infeasible', `levels:${L}: feature ${i} has bounds [${rc.lo[i]}, ${rc.hi[i]}] that hold none of the ${L} levels of the box`);
      const kc = col(`k${i}`, kMin, kMax, true, { kind: 'level', feature: i, lo: rc.boxLo[i], step });
      row(`level${i}`, [[[inputCols[i]], [1]], [[kc], [-step]]], '=', rc.boxLo[i]);
    }
  }

  // --- objective ---
  let objective_ = { idx: [] as number[], coef: [] as number[], c: 0 };
  if (objective) {
    const lin = mapExpr(objective.linear);
    const terms: Array<[number[], number[]]> = [[lin.idx, lin.coef]];
    objective.margins.forEach((m, k) => {
      if (!(m.weight > 0)) throw new ActmaxError('unsupported', 'exact mode can maximise a margin only with a positive weight');
      const bs = m.others.map((e) => exprBounds(e, b));
      const t = col(`t${k}`, Math.max(...bs.map((x) => x[0])), Math.max(...bs.map((x) => x[1])), false, { kind: 'maxOf', exprs: m.others });
      m.others.forEach((e, j) => {
        const o = mapExpr(e);
        row(`margin${k}_${j}`, [one(t), scaled(o, -1)], '>=', o.c);
      });
      terms.push([[t], [-m.weight]]);
    });
    const mm = new Map<number, number>();
    for (const [idx, coef] of terms) idx.forEach((c, k) => mm.set(c, (mm.get(c) ?? 0) + coef[k]));
    objective_ = { idx: [...mm.keys()], coef: [...mm.values()], c: lin.c };
  }
  return { columns, rows, objective: objective_, inputCols, varCol, varScale, sources, stats };
}

/**
 * Variables the objective depends on, given the bounds: a ReLU fixed at 0 does not need its
 * pre-activation, so neither column nor row is written for it.
 */
function liveVars(net: PLNetwork, b: Bounds, objective: ExactObjective, upTo: number): Uint8Array {
  const live = new Uint8Array(upTo);
  const mark = (e: LinExpr) => e.idx.forEach((v) => (live[v] = 1));
  mark(objective.linear);
  objective.margins.forEach((m) => m.others.forEach(mark));
  for (let v = upTo - 1; v >= 0; v--) {
    if (!live[v]) continue;
    const d = net.vars[v];
    if (d.kind === 'affine') mark(d.expr);
    else if (d.kind === 'relu' || d.kind === 'leaky') {
      if (!(d.kind === 'relu' && b.hi[d.src] <= 0)) live[d.src] = 1;
    } else if (d.kind === 'max') d.srcs.forEach((s) => (live[s] = 1));
  }
  return live;
}

/**
 * Units (ReLU/LeakyReLU/max outputs) that feed nothing but the objective and whose growth can
 * never raise it: coefficient in `linear` minus, for every margin, its weight times the smallest
 * coefficient among the other logits is ≤ 0. Lowering such a unit toward its true value never
 * lowers the objective, so the relaxation `y ≥ f(z)` is exact at the optimum.
 */
function freeUnits(net: PLNetwork, objective: ExactObjective, upTo: number): Uint8Array {
  const referenced = new Uint8Array(upTo);
  for (let v = 0; v < upTo; v++) {
    const d = net.vars[v];
    if (d.kind === 'affine') d.expr.idx.forEach((s) => (referenced[s] = 1));
    else if (d.kind === 'relu' || d.kind === 'leaky') referenced[d.src] = 1;
    else if (d.kind === 'max') d.srcs.forEach((s) => (referenced[s] = 1));
  }
  const gain = new Float64Array(upTo);
  objective.linear.idx.forEach((v, k) => { if (v < upTo) gain[v] += objective.linear.coef[k]; });
  for (const m of objective.margins) {
    // Smallest coefficient of each variable across the other logits (0 where it is absent).
    const minCoef = new Map<number, number>();
    const seen = new Map<number, number>();
    m.others.forEach((e) => {
      const local = new Map<number, number>();
      e.idx.forEach((v, k) => local.set(v, (local.get(v) ?? 0) + e.coef[k]));
      for (const [v, w] of local) {
        minCoef.set(v, Math.min(minCoef.get(v) ?? Infinity, w));
        seen.set(v, (seen.get(v) ?? 0) + 1);
      }
    });
    for (const [v, w] of minCoef) {
      if (v >= upTo) continue;
      const least = (seen.get(v) ?? 0) < m.others.length ? Math.min(w, 0) : w;
      gain[v] -= m.weight * least;
    }
  }
  const free = new Uint8Array(upTo);
  for (let v = 0; v < upTo; v++) {
    const kind = net.vars[v].kind;
    if ((kind === 'relu' || kind === 'leaky' || kind === 'max') && !referenced[v] && gain[v] <= 0) free[v] = 1;
  }
  return free;
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
