import { intervalBounds, type Bounds } from '../bounds.js';
import type { ExactObjective } from '../encode.js';
import type { ExactInputSet } from '../inputs.js';
import type { LinExpr, PLNetwork } from '../network.js';

/**
 * A network with one hidden ReLU layer and a linear objective, in the form the branch-and-bound
 * solver works on: over s ∈ [0, 1]^n (the free input features, rescaled from their box),
 *
 *   f(s) = d + a·s + Σ_j c_j · relu(b_j + W_j·s)
 *
 * with extra rows `A s ≤ r` for the linear constraints. Features whose box is a single point are
 * constants folded into b, a·s and d; units whose pre-activation has one sign over the box are
 * linear (folded into a, d) or zero (dropped), so every unit left is unstable.
 */
export interface ShallowProblem {
  /** Free features and hidden units. */
  n: number;
  m: number;
  /** Row-major m × n weights and the biases of the units, in the rescaled coordinates s. */
  W: Float64Array;
  b: Float64Array;
  /** Objective weight of each unit's ReLU. */
  c: Float64Array;
  /** Direct linear term on s and the constant. */
  a: Float64Array;
  d: number;
  /** Linear constraints Σ_i A[k·n + i] s_i ≤ r[k]. */
  A: Float64Array;
  r: Float64Array;
  rows: number;
  /** Map back to the network's input: x[features[i]] = lo[i] + span[i]·s_i; other features are `x0`. */
  features: Int32Array;
  lo: Float64Array;
  span: Float64Array;
  x0: Float64Array;
  /** Per unit: the network variable of its ReLU output (for messages and checks). */
  unitVar: Int32Array;
}

/** Why a problem is not of the one-hidden-layer form (for the solver choice message). */
export type ShallowResult = { problem: ShallowProblem } | { reason: string };

/**
 * Reads a {@link ShallowProblem} out of a network, an objective and the input constraints, or
 * says why it does not fit: margins (not linear), L1/L2 balls, one-hot groups, levels, max
 * pooling, or a ReLU deeper than the first layer whose sign interval bounds over the input set do
 * not fix (deeper ReLUs that are surely active or inactive there are linear and fold away).
 *
 * @example
 * const r = shallowProblem(net, exactObjective(model, net, { kind: 'logit', index: 3 }), rc);
 * if ('problem' in r) console.log(r.problem.m, 'unstable units');
 */
export function shallowProblem(net: PLNetwork, obj: ExactObjective, rc: ExactInputSet): ShallowResult {
  if (obj.margins.length > 0) return { reason: 'the objective is a margin (not linear in the logits)' };
  if (rc.l1.length > 0 || rc.l2.length > 0) return { reason: 'an L1 or L2 ball constrains the input' };
  if (rc.oneHot.length > 0 || rc.levels !== null) return { reason: 'the input is discrete (one-hot groups or levels)' };
  const terms = objectiveTerms(net, obj, rc);
  if ('reason' in terms) return terms;
  const space = freeFeatures(rc, net.inputSize);
  if ('reason' in space) return space;
  const { n, features, lo, span, x0 } = space;
  // The direct term, then the units (stable ones fold into it), then the rows.
  const direct = directTerm(terms, rc, space);
  const units = unstableUnits(net, terms.unitCoef, rc, space, direct);
  const { A, r } = rowsInS(rc, space);
  return {
    problem: { n, m: units.c.length, W: units.W, b: units.b, c: units.c, a: direct.a, d: direct.d, A, r, rows: rc.linear.length, features: Int32Array.from(features), lo, span, x0, unitVar: units.vars },
  };
}

/** The objective as input terms, weighted ReLU units and a constant. */
interface ObjectiveTerms {
  inputCoef: Float64Array;
  /** Weight of each ReLU unit (its network variable). */
  unitCoef: Map<number, number>;
  constant: number;
}

/**
 * The objective expanded down to the input features and the first layer's ReLUs, or why it does
 * not expand so: a deeper ReLU that can change sign over the input set, or a maximum.
 */
function objectiveTerms(net: PLNetwork, obj: ExactObjective, rc: ExactInputSet): ObjectiveTerms | { reason: string } {
  const nIn = net.inputSize;
  // Interval bounds over the input set: a ReLU deeper than the first layer is allowed when its
  // sign is fixed there (it is then linear or zero).
  let bounds: Bounds | null = null;
  const deepPiece = (src: number): 'zero' | 'linear' | 'unstable' => {
    bounds ??= intervalBounds(net, rc.lo, rc.hi);
    if (bounds.hi[src] <= 0) return 'zero';
    if (bounds.lo[src] >= 0) return 'linear';
    return 'unstable';
  };
  const terms: ObjectiveTerms = { inputCoef: new Float64Array(nIn), unitCoef: new Map(), constant: 0 };
  const { inputCoef, unitCoef } = terms;
  const expand = (e: LinExpr, w: number): string | null => {
    terms.constant += w * e.c;
    for (let k = 0; k < e.idx.length; k++) {
      const v = e.idx[k], cw = w * e.coef[k];
      if (cw === 0) continue;
      const d = net.vars[v];
      if (d.kind === 'input') inputCoef[v] += cw;
      else if (d.kind === 'affine') {
        const why = expand(d.expr, cw);
        if (why) return why;
      } else if (d.kind === 'relu' || d.kind === 'leaky') {
        const alpha = d.kind === 'relu' ? 0 : d.alpha;
        if (!isInputAffine(net, d.src)) {
          const piece = deepPiece(d.src);
          if (piece === 'unstable') return `a ${d.kind === 'relu' ? 'ReLU' : 'LeakyReLU'} (layer "${d.layer}") reads another nonlinearity and can change sign over the input set: more than one hidden layer`;
          // Stable: the unit is its input (active) or alpha times it (inactive).
          const why = expand(atomOf(d.src), piece === 'linear' ? cw : cw * alpha);
          if (why) return why;
          continue;
        }
        // leaky(z) = α·z + (1 − α)·relu(z): a linear part plus a ReLU unit.
        if (alpha !== 0) {
          const why = expand(atomOf(d.src), cw * alpha);
          if (why) return why;
        }
        unitCoef.set(v, (unitCoef.get(v) ?? 0) + cw * (1 - alpha));
      } else return `layer "${d.layer}" takes a maximum (max pooling or Maximum)`;
    }
    return null;
  };
  const why = expand(obj.linear, 1);
  return why ? { reason: why } : terms;
}

/** The free features (lo < hi) and the map x_f = lo_f + span_f · s_{col[f]}; fixed features sit at lo (x0). */
interface FeatureSpace {
  n: number;
  features: number[];
  /** Column of each input feature in s (−1: fixed). */
  col: Int32Array;
  lo: Float64Array;
  span: Float64Array;
  x0: Float64Array;
}

function freeFeatures(rc: ExactInputSet, nIn: number): FeatureSpace | { reason: string } {
  const features: number[] = [];
  const x0 = new Float64Array(nIn);
  for (let i = 0; i < nIn; i++) {
    if (!(rc.lo[i] <= rc.hi[i])) return { reason: `feature ${i} has an empty range` };
    x0[i] = rc.lo[i];
    if (rc.hi[i] > rc.lo[i]) features.push(i);
  }
  const col = new Int32Array(nIn).fill(-1);
  features.forEach((f, i) => (col[f] = i));
  return { n: features.length, features, col, lo: Float64Array.from(features, (f) => rc.lo[f]), span: Float64Array.from(features, (f) => rc.hi[f] - rc.lo[f]), x0 };
}

/** The objective's input terms in s: a·s + d. */
function directTerm(terms: ObjectiveTerms, rc: ExactInputSet, { n, col, span }: FeatureSpace): { a: Float64Array; d: number } {
  const a = new Float64Array(n);
  let d = terms.constant;
  terms.inputCoef.forEach((w, f) => {
    if (w === 0) return;
    d += w * rc.lo[f];
    if (col[f] >= 0) a[col[f]] += w * span[col[f]];
  });
  return { a, d };
}

/**
 * The ReLU units in s (rescaled weights), those that can change sign over the box; a unit always
 * active is linear and folds into the direct term `direct`, one never active drops.
 */
function unstableUnits(net: PLNetwork, unitCoef: Map<number, number>, rc: ExactInputSet, { n, col, span }: FeatureSpace, direct: { a: Float64Array; d: number }): { W: Float64Array; b: Float64Array; c: Float64Array; vars: Int32Array } {
  const nIn = net.inputSize;
  const Ws: Float64Array[] = [], bs: number[] = [], cs: number[] = [], vars: number[] = [];
  for (const [v, cw] of unitCoef) {
    if (cw === 0) continue;
    const src = (net.vars[v] as { src: number }).src;
    const { w, b } = affineOverInputs(net, src, nIn);
    let bias = b, up = b, down = b;
    const row = new Float64Array(n);
    for (let f = 0; f < nIn; f++) {
      if (w[f] === 0) continue;
      bias += w[f] * rc.lo[f];
      if (col[f] >= 0) {
        const ws = w[f] * span[col[f]];
        row[col[f]] = ws;
        if (ws > 0) up += ws;
        else down += ws;
      }
    }
    up += bias - b;
    down += bias - b;
    if (up <= 0) continue; // never active
    if (down >= 0) {
      // always active: linear
      direct.d += cw * bias;
      for (let i = 0; i < n; i++) direct.a[i] += cw * row[i];
      continue;
    }
    Ws.push(row);
    bs.push(bias);
    cs.push(cw);
    vars.push(v);
  }
  const W = new Float64Array(Ws.length * n);
  Ws.forEach((row, j) => W.set(row, j * n));
  return { W, b: Float64Array.from(bs), c: Float64Array.from(cs), vars: Int32Array.from(vars) };
}

/** The linear constraints in s: Σ a_f (lo_f + span_f s_f) ≤ b. */
function rowsInS(rc: ExactInputSet, { n, col, span }: FeatureSpace): { A: Float64Array; r: Float64Array } {
  const rows = rc.linear.length;
  const A = new Float64Array(rows * n);
  const r = new Float64Array(rows);
  rc.linear.forEach((h, k) => {
    let rhs = h.b;
    h.a.forEach((af, f) => {
      if (af === 0) return;
      rhs -= af * rc.lo[f];
      if (col[f] >= 0) A[k * n + col[f]] = af * span[col[f]];
    });
    r[k] = rhs;
  });
  return { A, r };
}

const atomOf = (v: number): LinExpr => ({ idx: [v], coef: [1], c: 0 });

const inputAffineCache = new WeakMap<PLNetwork, Map<number, boolean>>();

/** Is variable v an affine function of the input features alone? (Cached per network: a prior's lifted network reaches each unit through n affine inputs.) */
function isInputAffine(net: PLNetwork, v: number): boolean {
  let cache = inputAffineCache.get(net);
  if (!cache) inputAffineCache.set(net, (cache = new Map()));
  const hit = cache.get(v);
  if (hit !== undefined) return hit;
  const d = net.vars[v];
  const yes = d.kind === 'input' || (d.kind === 'affine' && d.expr.idx.every((s) => isInputAffine(net, s)));
  cache.set(v, yes);
  return yes;
}

const affineCache = new WeakMap<PLNetwork, Map<number, { w: Float64Array; b: number }>>();

/** Dense weights and bias of an input-affine variable (cached per network: every objective of a model shares them). */
function affineOverInputs(net: PLNetwork, v: number, nIn: number): { w: Float64Array; b: number } {
  let cache = affineCache.get(net);
  if (!cache) affineCache.set(net, (cache = new Map()));
  const hit = cache.get(v);
  if (hit) return hit;
  const made = affineOf(net, v, nIn);
  cache.set(v, made);
  return made;
}

function affineOf(net: PLNetwork, v: number, nIn: number): { w: Float64Array; b: number } {
  const w = new Float64Array(nIn);
  let b = 0;
  const add = (u: number, k: number) => {
    const d = net.vars[u];
    if (d.kind === 'input') w[u] += k;
    else if (d.kind === 'affine') {
      b += k * d.expr.c;
      for (let t = 0; t < d.expr.idx.length; t++) add(d.expr.idx[t], k * d.expr.coef[t]);
    }
  };
  add(v, 1);
  return { w, b };
}

/**
 * The objective f(s) of a shallow problem in float64 (a reference for tests and incumbents).
 *
 * @example
 * const value = shallowValue(p, s); // s ∈ [0,1]^p.n
 */
export function shallowValue(p: ShallowProblem, s: ArrayLike<number>): number {
  let f = p.d;
  for (let i = 0; i < p.n; i++) f += p.a[i] * s[i];
  for (let j = 0; j < p.m; j++) {
    let h = p.b[j];
    const o = j * p.n;
    for (let i = 0; i < p.n; i++) h += p.W[o + i] * s[i];
    if (h > 0) f += p.c[j] * h;
  }
  return f;
}

/**
 * The network input (all features) of a point s of the rescaled box.
 *
 * @example
 * const x = shallowInput(p, s); // forwardValues(net, x) evaluates the model there
 */
export function shallowInput(p: ShallowProblem, s: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(p.x0);
  for (let i = 0; i < p.n; i++) x[p.features[i]] = Math.min(p.lo[i] + p.span[i], p.lo[i] + p.span[i] * s[i]);
  return x;
}
