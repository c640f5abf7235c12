import { ActmaxError } from '../errors.js';
import type { ResolvedConstraints } from '../constraints/index.js';
import { subspaceCode, subspaceInput } from '../prior/subspace.js';
import type { DataPrior, SubspacePrior } from '../prior/types.js';
import type { ExactInputSet } from './inputs.js';
import type { LinExpr, PLNetwork, PLValues, PLVar } from './network.js';
import type { Bounds } from './bounds.js';
import type { CodeRows } from './polytopeBound.js';

/**
 * The problem the MILP solves: its network, the set of its input variables, and the maps between
 * those variables and the model input. Without a prior the variables are the input itself; with
 * a subspace prior they are the code z (K ≪ n), and the input is x = mean + Uᵀz.
 */
export interface MilpProblem {
  net: PLNetwork;
  set: ExactInputSet;
  /** Model input (the optimised inputs concatenated) → MILP variables. */
  toVariables(x: ArrayLike<number>): Float64Array;
  /** MILP variables → model input. */
  toInput(v: ArrayLike<number>): Float64Array;
  /** The subspace prior when the variables are its code. */
  prior: SubspacePrior | null;
  /** Bounds the constraints imply for some variables (the input box on a prior's x), for interval arithmetic. */
  known?: Bounds;
}

/**
 * The MILP's problem for the optimised inputs: the network and constraints as they are, or — when
 * the (single) optimised input has a data prior on one code box — lifted to the prior's code by
 * {@link liftSubspace} (a union of boxes goes box by box through src/exact/union.ts).
 * Decoder priors are refused in one line (exact mode needs the input to be linear in the code).
 *
 * @example
 * const problem = milpProblem(net, parts, joinInputConstraints(parts));
 */
export function milpProblem(net: PLNetwork, parts: ResolvedConstraints[], rc: ExactInputSet): MilpProblem {
  const prior = parts.find((p) => p.prior)?.prior ?? null;
  if (!prior) return { net, set: rc, toVariables: (x) => Float64Array.from(x), toInput: (v) => Float64Array.from(v), prior: null };
  return liftSubspace(net, milpProblemChecks(parts, prior), rc);
}

/**
 * The checks every exact solve with a data prior makes: one optimised input, a subspace prior.
 *
 * @example
 * const subspace = milpProblemChecks(parts, prior); // throws for a decoder prior
 */
export function milpProblemChecks(parts: ResolvedConstraints[], prior: DataPrior): SubspacePrior {
  if (parts.length > 1) throw new ActmaxError('unsupported', 'exact mode with a data prior optimises one input; hold the others (--optimize NAME --input FILE)');
  if (prior.type === 'decoder') {
    throw new ActmaxError('unsupported', `exact mode cannot use a decoder prior: x = G(z) is not linear in z and the MILP encodes only the classifier (decoder ${prior.decoder.source}); use a subspace prior (--prior SOURCE:subspace:K) or gradient search`);
  }
  return prior;
}

/**
 * Lifts a network and its input constraints to a subspace prior's code: variables 0…K−1 are z,
 * variables K…K+n−1 the input x_i = mean_i + U_i·z (affine), then the original variables shifted
 * by K. The input's per-feature bounds (box, L∞ balls, masks) and halfspaces become halfspaces
 * in z (those the code box already implies are left out); the code box is the variables' box.
 * A Mahalanobis ball (quadratic) and L1 balls are refused in one line.
 *
 * @example
 * const lifted = liftSubspace(net, prior, rc); // lifted.net.inputSize === prior.components
 */
export function liftSubspace(net: PLNetwork, prior: SubspacePrior, rc: ExactInputSet, lifted: PLNetwork = liftNetwork(net, prior)): MilpProblem {
  const n = net.inputSize;
  const k = prior.components;
  if (prior.mean.length !== n) throw new ActmaxError('bad-input', `the prior has ${prior.mean.length} features; the optimised input has ${n}`);
  if (prior.latent.ball) throw new ActmaxError('unsupported', 'exact mode cannot hold a Mahalanobis ball on the prior\'s code (it is not linear); use the percentile box (--prior SOURCE:subspace:K[:box=LOW-HIGH])');
  if (prior.latent.union) {
    // maximizeExact solves a union box by box (src/exact/union.ts), lifting one box at a time.
    throw new Error(`liftSubspace: one box at a time; this prior's code set is a union of ${prior.latent.union.boxes.length} boxes`);
  }
  if (!prior.latent.box) throw new ActmaxError('unsupported', 'exact mode needs a box on the prior\'s code');
  if (rc.l1.length > 0) throw new ActmaxError('unsupported', 'exact mode with a data prior cannot hold an L1 ball on the input; use an L∞ ball, or gradient search');
  const { lo: zlo, hi: zhi } = prior.latent.box;
  const U = prior.basis;
  const vars = lifted.vars;

  // Per-feature bounds of x as halfspaces in z, unless the code box already implies them.
  const linear: ExactInputSet['linear'] = [];
  for (let i = 0; i < n; i++) {
    let min = prior.mean[i], max = prior.mean[i];
    for (let c = 0; c < k; c++) {
      const u = U[c * n + i];
      min += u * (u >= 0 ? zlo[c] : zhi[c]);
      max += u * (u >= 0 ? zhi[c] : zlo[c]);
    }
    const row = () => Float64Array.from({ length: k }, (_, c) => U[c * n + i]);
    if (max > rc.hi[i]) linear.push({ a: row(), b: rc.hi[i] - prior.mean[i] });
    if (min < rc.lo[i]) linear.push({ a: row().map((v) => -v), b: prior.mean[i] - rc.lo[i] });
  }
  for (const h of rc.linear) {
    const a = new Float64Array(k);
    let am = 0;
    for (let i = 0; i < n; i++) am += h.a[i] * prior.mean[i];
    for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) a[c] += h.a[i] * U[c * n + i];
    linear.push({ a, b: h.b - am });
  }
  // x_i (variable K + i) lies in the input's per-feature bounds: the rows above enforce it, and
  // interval arithmetic starts from it (as tight as the plain box problem's first layer).
  const known: Bounds = { lo: new Float64Array(vars.length).fill(-Infinity), hi: new Float64Array(vars.length).fill(Infinity) };
  for (let i = 0; i < n; i++) {
    known.lo[k + i] = rc.lo[i];
    known.hi[k + i] = rc.hi[i];
  }
  const lo = Float64Array.from(zlo), hi = Float64Array.from(zhi);
  const set: ExactInputSet = { n: k, lo, hi, boxLo: lo, boxHi: hi, l1: [], l2: [], linear, oneHot: [], levels: null };
  return {
    net: lifted,
    set,
    toVariables: (x) => subspaceCode(prior, x).map((z, c) => Math.min(zhi[c], Math.max(zlo[c], z))),
    toInput: (z) => subspaceInput(prior, z),
    prior,
    known,
  };
}

/**
 * The network read from a subspace prior's code: variables 0…K−1 are z, K…K+n−1 the input
 * x_i = mean_i + U_i·z, then the original variables shifted by K. It does not depend on the code's
 * box, so the boxes of a union share one (and the caches keyed by it).
 *
 * @example
 * const lifted = liftNetwork(net, prior); // lifted.inputSize === prior.components
 */
export function liftNetwork(net: PLNetwork, prior: SubspacePrior): PLNetwork {
  const n = net.inputSize;
  const k = prior.components;
  const U = prior.basis;
  const shift = (e: LinExpr): LinExpr => ({ idx: e.idx.map((v) => v + k), coef: e.coef, c: e.c });
  const vars: PLVar[] = [];
  for (let c = 0; c < k; c++) vars.push({ kind: 'input', feature: c });
  for (let i = 0; i < n; i++) {
    const idx: number[] = [], coef: number[] = [];
    for (let c = 0; c < k; c++) if (U[c * n + i] !== 0) (idx.push(c), coef.push(U[c * n + i]));
    vars.push({ kind: 'affine', expr: { idx, coef, c: prior.mean[i] }, layer: 'prior' });
  }
  for (const d of net.vars.slice(n)) {
    if (d.kind === 'input') throw new Error('liftSubspace: an input variable after the optimised inputs');
    if (d.kind === 'affine') vars.push({ ...d, expr: shift(d.expr) });
    else if (d.kind === 'relu' || d.kind === 'leaky') vars.push({ ...d, src: d.src + k });
    else vars.push({ ...d, srcs: d.srcs.map((s) => s + k) });
  }
  const shiftValues = (v: PLValues): PLValues => ('exprs' in v ? { shape: v.shape, exprs: v.exprs.map(shift) } : v);
  const layers = new Map([...net.layers].map(([name, l]) => [name, { pre: shiftValues(l.pre), post: shiftValues(l.post) }]));
  const part = net.inputParts[0];
  const lifted: PLNetwork = {
    inputName: `${net.inputName} (code)`,
    inputShape: [k],
    inputSize: k,
    inputParts: [{ ...part, name: `${part.name} (code)`, shape: [k], offset: 0, size: k }],
    vars,
    layers,
  };
  return lifted;
}

/**
 * The input's per-feature bounds and halfspaces read in a subspace prior's code, as ranged rows
 * lower ≤ G z ≤ upper (none left out: every box of a union shares them).
 *
 * @example
 * const rows = codeRows(prior, rc); // rows.rows === 784 for the bundled model's pixel box
 */
export function codeRows(prior: SubspacePrior, rc: ExactInputSet): CodeRows {
  const n = prior.mean.length;
  const k = prior.components;
  const U = prior.basis;
  const G: number[] = [], lower: number[] = [], upper: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(rc.lo[i]) && !Number.isFinite(rc.hi[i])) continue;
    for (let c = 0; c < k; c++) G.push(U[c * n + i]);
    lower.push(rc.lo[i] - prior.mean[i]);
    upper.push(rc.hi[i] - prior.mean[i]);
  }
  for (const h of rc.linear) {
    let am = 0;
    for (let i = 0; i < n; i++) am += h.a[i] * prior.mean[i];
    for (let c = 0; c < k; c++) {
      let a = 0;
      for (let i = 0; i < n; i++) a += h.a[i] * U[c * n + i];
      G.push(a);
    }
    lower.push(-Infinity);
    upper.push(h.b - am);
  }
  return { k, rows: lower.length, G: Float64Array.from(G), lower: Float64Array.from(lower), upper: Float64Array.from(upper) };
}
