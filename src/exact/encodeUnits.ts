import type { Bounds } from './bounds.js';
import type { ExactObjective } from './encode.js';
import { one, scaled, type MilpWriter } from './milpWriter.js';
import type { LinExpr, PLNetwork, PLVar } from './network.js';

/*
 * The network's variables as MILP columns and rows (for encode.ts): a pre-activation is a column
 * defined by its row; a stable unit is its linear piece (no column); an unstable ReLU or max gets
 * its big-M encoding with binaries, its triangle (chord) relaxation, or — when the objective
 * cannot gain from it (freeUnits) — only its lower rows.
 */

/**
 * Variable v of the network, written into the MILP (bounds `b`; `relax`: the LP relaxation;
 * `free`: the unit needs no binary).
 *
 * @example
 * for (let v = rc.n; v < upTo; v++) if (live[v]) writeVar(w, net.vars[v], v, b, false, !!free[v]);
 */
export function writeVar(w: MilpWriter, d: PLVar, v: number, b: Bounds, relax: boolean, free: boolean): void {
  switch (d.kind) {
    case 'input':
      return;
    case 'affine': {
      const t = w.expr(d.expr);
      const c = w.col(`z${v}`, b.lo[v], b.hi[v], false, { kind: 'var', v });
      w.own(v, c);
      w.row(`def_z${v}`, [one(c), scaled(t, -1)], '=', t.c);
      return;
    }
    case 'relu':
    case 'leaky':
      return writeRelu(w, v, d.src, d.kind === 'relu' ? 0 : d.alpha, b, relax, free);
    case 'max':
      return writeMax(w, v, d.srcs, b, relax, free);
  }
}

/** y = max(z, a·z) for z = variable `src` (a = 0: ReLU). */
function writeRelu(w: MilpWriter, v: number, src: number, a: number, b: Bounds, relax: boolean, free: boolean): void {
  const l = b.lo[src], u = b.hi[src];
  if (l >= 0) {
    w.alias(v, src, 1);
    w.stats.stable++;
    return;
  }
  if (u <= 0) {
    w.stats.stable++;
    if (a === 0) w.varCol[v] = -1;
    else w.alias(v, src, a);
    return;
  }
  w.stats.unstable++;
  const z = w.var(src);
  const y = w.col(`y${v}`, a * l, u, false, { kind: 'var', v });
  w.own(v, y);
  w.row(`act${v}_ge_z`, [one(y), scaled(z, -1)], '>=', 0);
  if (a > 0) w.row(`act${v}_ge_az`, [one(y), scaled(z, -a)], '>=', 0);
  if (relax) {
    // Chord from (l, a·l) to (u, u).
    const s = (u - a * l) / (u - l);
    w.row(`act${v}_chord`, [one(y), scaled(z, -s)], '<=', a * l - s * l);
  } else if (free) {
    w.stats.withoutBinary++;
  } else {
    const dcol = w.col(`d${v}`, 0, 1, true, { kind: 'active', src });
    w.stats.binaries++;
    // δ = 1: y ≤ z; δ = 0: y ≤ a·z (each relaxed by the bounds in the other case).
    w.row(`act${v}_on`, [one(y), scaled(z, -1), [[dcol], [(1 - a) * -l]]], '<=', (1 - a) * -l);
    w.row(`act${v}_off`, [one(y), scaled(z, -a), [[dcol], [-(1 - a) * u]]], '<=', 0);
  }
}

/** y = max over the variables `srcs`. */
function writeMax(w: MilpWriter, v: number, srcs: number[], b: Bounds, relax: boolean, free: boolean): void {
  // Sources that can never be the largest are dropped.
  const bestLo = Math.max(...srcs.map((s) => b.lo[s]));
  const cand = srcs.filter((s) => b.hi[s] > bestLo || b.lo[s] === bestLo);
  const dominant = cand.find((s) => b.lo[s] >= Math.max(...cand.filter((o) => o !== s).map((o) => b.hi[o]), -Infinity));
  if (dominant !== undefined || cand.length === 1) {
    w.alias(v, dominant ?? cand[0], 1);
    w.stats.stable++;
    return;
  }
  w.stats.unstable++;
  const y = w.col(`y${v}`, Math.max(...cand.map((s) => b.lo[s])), Math.max(...cand.map((s) => b.hi[s])), false, { kind: 'var', v });
  w.own(v, y);
  const zs = cand.map((s) => w.var(s));
  zs.forEach((z, k) => w.row(`max${v}_ge_${k}`, [one(y), scaled(z, -1)], '>=', 0));
  if (relax) {
    // max_i z_i ≤ max_i l_i + Σ_i (z_i − l_i).
    const maxLo = Math.max(...cand.map((s) => b.lo[s]));
    w.row(`max${v}_sum`, [one(y), ...zs.map((z) => scaled(z, -1))], '<=', maxLo - cand.reduce((s, c) => s + b.lo[c], 0));
  } else if (free) {
    w.stats.withoutBinary++;
  } else {
    const ds = cand.map((_, k) => w.col(`d${v}_${k}`, 0, 1, true, { kind: 'argmax', srcs: cand, i: k }));
    w.stats.binaries += ds.length;
    w.row(`max${v}_one`, ds.map((c) => one(c)), '=', 1);
    zs.forEach((z, k) => {
      const M = Math.max(...cand.filter((_, j) => j !== k).map((s) => b.hi[s])) - b.lo[cand[k]];
      w.row(`max${v}_le_${k}`, [one(y), scaled(z, -1), [[ds[k]], [M]]], '<=', M);
    });
  }
}

/**
 * Variables the objective depends on, given the bounds: a ReLU fixed at 0 does not need its
 * pre-activation, so neither column nor row is written for it.
 *
 * @example
 * const live = liveVars(net, bounds, objective, net.vars.length); // live[v] = 1: v is written
 */
export function liveVars(net: PLNetwork, b: Bounds, objective: ExactObjective, upTo: number): Uint8Array {
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
 *
 * @example
 * const free = freeUnits(net, { linear: logits[3], margins: [] }, net.vars.length); // free[v] = 1: no binary
 */
export function freeUnits(net: PLNetwork, objective: ExactObjective, upTo: number): Uint8Array {
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
