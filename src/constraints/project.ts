import { ActmaxError } from '../errors.js';
import type { Piece, ResolvedBall, ResolvedConstraints, ResolvedHalfspace } from './resolve.js';
import { subspaceResidual } from '../prior/subspace.js';

/**
 * Exact Euclidean projection onto the intersection of an input's constraints.
 *
 * Every piece "box ∩ one set" is projected exactly through its one-dimensional dual: for a fixed
 * multiplier the minimiser is a per-feature clip, and a monotone scalar equation fixes the
 * multiplier. The equation is piecewise smooth, so a Newton step on the current piece, kept
 * inside a bracket (bisection otherwise), lands on the exact root after a few evaluations.
 * Several sets are combined with Dykstra's alternating projection, which converges to the
 * projection onto their intersection (not merely to some feasible point).
 */

const DYKSTRA_TOL = 1e-9;
const DYKSTRA_MAX_CYCLES = 2000;
const MAX_ROOT_ITERS = 100;
/** Histogram bins for the breakpoints of the fast L2 projection. */
export const HIST_BINS = 32;
/** Violation above which a projection is reported as failed. */
const FINAL_TOL = 1e-6;

/**
 * Replaces each of `rows` consecutive rows of length n in `x` by its exact Euclidean projection
 * onto the intersection of the resolved constraints. Computes in float64, writes float32.
 *
 * @example
 * const rc = resolveConstraints([l2(image, 2)], { name: 'x', shape: [784], range: [0, 1] }, 0);
 * const batch = new Float32Array(3 * 784).fill(2);
 * projectInPlace(batch, 3, rc); // every row now lies in [0,1]^784 ∩ {‖x − image‖₂ ≤ 2}
 * residuals(batch, rc).l2 // 0
 */
export function projectInPlace(x: Float32Array | Float64Array, rows: number, rc: ResolvedConstraints): void {
  const work = rc.work;
  work.pieces = x instanceof Float32Array ? work.pieces32 : work.exactPieces;
  try {
    projectRows(x, rows, rc);
  } finally {
    work.pieces = work.exactPieces;
  }
}

function projectRows(x: Float32Array | Float64Array, rows: number, rc: ResolvedConstraints): void {
  const n = rc.n;
  if (x.length < rows * n) {
    throw new ActmaxError('bad-input', `projectInPlace: ${rows} rows of ${n} need ${rows * n} values, got ${x.length}`);
  }
  const { pieces, z, x: out } = rc.work;
  const lo = rc.lo;
  const hi = rc.hi;
  const only = pieces.length === 1 ? pieces[0] : null;
  if (only !== null && only.kind === 'l2' && only.refInBox) {
    // The hot path of gradient search with an L2 budget: straight from and to float32.
    for (let r = 0; r < rows; r++) projectBoxL2RefInBox(x, r * n, x, r * n, rc, only.set);
    return;
  }
  if (pieces.length === 0) {
    const { loF, hiF } = rc.work;
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      for (let i = 0; i < n; i++) {
        const v = x[off + i];
        const l = loF[i];
        const h = hiF[i];
        const below = +(v < l);
        const above = +(v > h);
        // Branch-free clip (exactly l, h or v); NaN stays NaN.
        x[off + i] = v * (1 - below - above) + l * below + h * above;
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    for (let i = 0; i < n; i++) z[i] = x[off + i];
    projectRow(z, out, rc);
    for (let i = 0; i < n; i++) x[off + i] = out[i];
  }
}

/**
 * Projects one float64 row `z` onto the intersection into `out` (which may not alias `z`).
 * Throws ActmaxError `infeasible` when Dykstra's method cannot reach a common point.
 *
 * @example
 * const rc = resolveConstraints([box(0, 1), linear([1, 1], 1)], { name: 'x', shape: [2], range: [0, 1] }, 0);
 * const out = new Float64Array(2);
 * projectRow(Float64Array.from([1, 1]), out, rc);
 * Array.from(out) // [0.5, 0.5]
 */
export function projectRow(z: Float64Array, out: Float64Array, rc: ResolvedConstraints): void {
  const pieces = rc.work.pieces;
  if (pieces.length === 0) {
    clipInto(z, out, rc.lo, rc.hi);
    return;
  }
  if (pieces.length === 1) {
    projectPiece(pieces[0], z, out, rc);
    return;
  }
  const last = pieces[1];
  if (pieces.length === 2 && last.kind === 'linear') {
    nestedHalfspace(z, out, rc, pieces[0], last.set);
    return;
  }
  dykstra(z, out, rc);
}

/**
 * box ∩ S ∩ {a·x ≤ b} for one other piece S, exactly: x(μ) = P_{box∩S}(z − μa) is the
 * projection once μ ≥ 0 solves a·x(μ) = b (or μ = 0 when x(0) already satisfies it); a·x(μ) is
 * nonincreasing in μ, so a bracketed regula falsi (Illinois) finds μ. Much faster than
 * Dykstra when both sets are active, which is the slow case for alternating projections.
 */
function nestedHalfspace(z: Float64Array, out: Float64Array, rc: ResolvedConstraints, inner: Piece, hs: ResolvedHalfspace): void {
  const { w } = rc.work;
  const { a, b } = hs;
  const n = rc.n;
  const tol = 1e-12 * (1 + Math.abs(b));
  const phi = (mu: number): number => {
    for (let i = 0; i < n; i++) w[i] = z[i] - mu * a[i];
    projectPiece(inner, w, out, rc);
    let s = -b;
    for (let i = 0; i < n; i++) s += a[i] * out[i];
    return s;
  };
  let fl = phi(0);
  if (fl <= tol) return;
  let ml = 0;
  let aa = 0;
  for (let i = 0; i < n; i++) aa += a[i] * a[i];
  // Find μh with φ(μh) ≤ 0, starting from the step that would suffice without S.
  let mh = fl / aa;
  let fh = phi(mh);
  for (let k = 0; fh > tol && k < 200; k++) {
    ml = mh;
    fl = fh;
    mh *= 2;
    fh = phi(mh);
  }
  if (fh > tol) {
    throw new ActmaxError('infeasible', `constraints on input "${rc.input}" have no common point: a·x ≤ b cannot be reached within the other constraints`);
  }
  let mu = mh;
  let f = fh;
  let side = 0;
  for (let it = 0; it < 200 && Math.abs(f) > tol && mh - ml > 1e-15 * (1 + mh); it++) {
    mu = (ml * fh - mh * fl) / (fh - fl);
    if (!(mu > ml && mu < mh)) mu = 0.5 * (ml + mh);
    f = phi(mu);
    if (f > 0) {
      ml = mu;
      fl = f;
      if (side === -1) fh *= 0.5; // Illinois: keep the stale end from stalling the iteration
      side = -1;
    } else {
      mh = mu;
      fh = f;
      if (side === 1) fl *= 0.5;
      side = 1;
    }
  }
  // Leave the feasible side of the root in `out`.
  if (f > tol) phi(mh);
}

function clipInto(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array): void {
  for (let i = 0; i < z.length; i++) {
    const v = z[i];
    out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
  }
}

/** Dykstra's method over the pieces: out ← projection of z onto their intersection. */
function dykstra(z: Float64Array, out: Float64Array, rc: ResolvedConstraints): void {
  const { pieces, w, increments } = rc.work;
  const n = rc.n;
  const m = pieces.length;
  out.set(z);
  increments.fill(0);
  const tol2 = DYKSTRA_TOL * DYKSTRA_TOL;
  let converged = false;
  for (let cycle = 0; cycle < DYKSTRA_MAX_CYCLES && !converged; cycle++) {
    let change = 0;
    for (let j = 0; j < m; j++) {
      const base = j * n;
      for (let i = 0; i < n; i++) w[i] = out[i] + increments[base + i];
      projectPiece(pieces[j], w, out, rc);
      for (let i = 0; i < n; i++) {
        const y = w[i] - out[i];
        const d = y - increments[base + i];
        change += d * d;
        increments[base + i] = y;
      }
    }
    converged = change <= tol2;
  }
  // Final check: the last piece holds exactly; the others to Dykstra's accuracy. If they are
  // still violated, a few plain alternating projections reach a feasible point nearby.
  let worst = worstViolation(out, rc);
  for (let pass = 0; pass < 50 && worst.amount > FINAL_TOL * 0.1; pass++) {
    for (let j = 0; j < m; j++) {
      w.set(out);
      projectPiece(pieces[j], w, out, rc);
    }
    worst = worstViolation(out, rc);
  }
  if (worst.amount > FINAL_TOL) {
    throw new ActmaxError(
      'infeasible',
      `constraints on input "${rc.input}" have no common point: after ${DYKSTRA_MAX_CYCLES} Dykstra cycles ${worst.name} is still violated by ${worst.amount.toPrecision(3)}`,
    );
  }
}

function worstViolation(x: Float64Array, rc: ResolvedConstraints): { name: string; amount: number } {
  const r = residuals(x, rc);
  let name = '';
  let amount = 0;
  for (const [k, v] of Object.entries(r)) {
    if (k === 'levels') continue;
    if (v > amount) {
      amount = v;
      name = k;
    }
  }
  return { name, amount };
}

function projectPiece(piece: Piece, z: Float64Array, out: Float64Array, rc: ResolvedConstraints): void {
  switch (piece.kind) {
    case 'simplexes':
      projectBoxSimplexes(z, out, rc);
      return;
    case 'l2':
      if (piece.refInBox) projectBoxL2RefInBox(z, 0, out, 0, rc, piece.set);
      else projectBoxL2(z, out, rc.lo, rc.hi, piece.set);
      return;
    case 'l1':
      projectBoxL1(z, out, rc.lo, rc.hi, piece.set);
      return;
    case 'linear':
      projectBoxHalfspace(z, out, rc.lo, rc.hi, piece.set);
      return;
  }
}

/**
 * box ∩ {‖x − r‖₂ ≤ eps}. With d = z − r the minimiser for multiplier λ is
 * clip(r + t·d) with t = 1/(1 + λ) ∈ (0, 1]; g(t) = ‖clip(r + t d) − r‖² is nondecreasing in t,
 * and on a piece with free set F it equals t²·Σ_F d² + C.
 */
function projectBoxL2(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array, ball: ResolvedBall): void {
  const n = z.length;
  const r = ball.ref;
  const e2 = ball.eps * ball.eps;
  let t = 1;
  let tl = 0;
  let tu = 1;
  let g = 0;
  let feasibleAtT = false;
  // eps = 0 pins x to clip(r) (= r, which lies in the box): t = 0 whenever z is outside.
  for (let it = 0; it < MAX_ROOT_ITERS; it++) {
    let a = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const ri = r[i];
      const di = z[i] - ri;
      const v = ri + t * di;
      if (v <= lo[i]) {
        const q = lo[i] - ri;
        c += q * q;
      } else if (v >= hi[i]) {
        const q = hi[i] - ri;
        c += q * q;
      } else a += di * di;
    }
    g = t * t * a + c;
    if (t === 1 && g <= e2) {
      feasibleAtT = true;
      break; // the clipped point is inside the ball
    }
    if (e2 === 0) {
      tl = 0;
      break;
    }
    if (Math.abs(g - e2) <= 1e-13 * e2) {
      feasibleAtT = true; // on the sphere up to rounding
      break;
    }
    if (g > e2) tu = t;
    else tl = t;
    if (tu - tl <= 1e-16) break;
    let tn = a > 0 && e2 > c ? Math.sqrt((e2 - c) / a) : NaN;
    if (!(tn > tl && tn < tu)) tn = 0.5 * (tl + tu);
    t = tn;
  }
  // Write the point on the feasible side of the root.
  const tf = feasibleAtT ? t : tl;
  for (let i = 0; i < n; i++) {
    const v = r[i] + tf * (z[i] - r[i]);
    out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
  }
}

/**
 * box ∩ {‖x − r‖₂ ≤ eps} when r lies in the box, reading row `src[so …]` and writing
 * `dst[dOff …]` (they may be the same memory). In s = t² the squared distance is
 * g(s) = Σ min(s·d_i², c_i²) with c_i the distance from r to the bound that d_i points at: concave,
 * piecewise linear, with breakpoints b_i = c_i²/d_i². Only the features clipped at s = 1 have a
 * breakpoint below 1, and each Newton pass drops those whose side of the root is already known,
 * so after the first pass the work shrinks to the few breakpoints near the root.
 */
function projectBoxL2RefInBox(
  src: Float32Array | Float64Array,
  so: number,
  dst: Float32Array | Float64Array,
  dOff: number,
  rc: ResolvedConstraints,
  ball: ResolvedBall,
): void {
  // Three small functions rather than one: V8 compiles the two full passes much better alone.
  const m = l2Gather(src, so, rc, ball);
  const sums = rc.work.l2Sums;
  const e2 = ball.eps * ball.eps;
  const t = sums[0] + sums[1] > e2 ? Math.sqrt(l2Root(rc, m, sums[0], sums[1], e2)) : 1;
  l2Write(dst, dOff, rc, ball, t);
}

/**
 * First pass of the fast L2 method: copies the row to `l2z`, lists (d², c²) of the features
 * clipped at s = 1, and leaves Σ d² of the others and Σ c² of the listed in `l2Sums`.
 * Finite bounds and 0/1 arithmetic instead of branches: the clip pattern of real inputs is too
 * irregular for the branch predictor.
 */
function l2Gather(src: Float32Array | Float64Array, so: number, rc: ResolvedConstraints, ball: ResolvedBall): number {
  const n = rc.n;
  const { l2z: z, candD2: cd, candC2: cc, loF: lo, hiF: hi } = rc.work;
  const r = ball.ref;
  let free = 0;
  let m = 0;
  let clippedAt1 = 0;
  for (let i = 0; i < n; i++) {
    const zi = src[so + i];
    z[i] = zi;
    const ri = r[i];
    const di = zi - ri;
    const d2 = di * di;
    const below = +(zi < lo[i]);
    const above = +(zi > hi[i]);
    const q = (lo[i] - ri) * below + (hi[i] - ri) * above;
    const c2 = q * q;
    const isClipped = below | above;
    cd[m] = d2;
    cc[m] = c2;
    m += isClipped;
    free += d2 * (1 - isClipped);
    clippedAt1 += c2;
  }
  rc.work.l2Sums[0] = free;
  rc.work.l2Sums[1] = clippedAt1;
  return m;
}

/** Last pass of the fast L2 method: dst = clip(r + t·(z − r)), exactly l, h or the value. */
function l2Write(dst: Float32Array | Float64Array, dOff: number, rc: ResolvedConstraints, ball: ResolvedBall, t: number): void {
  const n = rc.n;
  const { l2z: z, loF: lo, hiF: hi } = rc.work;
  const r = ball.ref;
  for (let i = 0; i < n; i++) {
    const ri = r[i];
    const v = ri + t * (z[i] - ri);
    const l = lo[i];
    const h = hi[i];
    const below = +(v < l);
    const above = +(v > h);
    dst[dOff + i] = v * (1 - below - above) + l * below + h * above;
  }
}

/** The root s of g(s) = e² over the m listed breakpoints (see {@link projectBoxL2RefInBox}). */
function l2Root(rc: ResolvedConstraints, m: number, free: number, clippedAt1: number, e2: number): number {
  const { candD2: cd, candC2: cc, candB: cb } = rc.work;
  // Breakpoints, and a histogram of them on [0, 1]: g at the bin edges is exact, which
  // brackets the root in one bin before any Newton pass.
  const hd = rc.work.histD2;
  const hc = rc.work.histC2;
  hd.fill(0);
  hc.fill(0);
  for (let j = 0; j < m; j++) {
    const b = cc[j] / cd[j];
    cb[j] = b;
    const bin = (b * HIST_BINS) | 0;
    hd[bin] += cd[j];
    hc[bin] += cc[j];
  }
  // g(k/K) = k/K · (free + Σ_{bins ≥ k} d²) + Σ_{bins < k} c²; g(1) > e² ≥ g(0) = 0.
  let freeAbove = free;
  for (let bin = 0; bin <= HIST_BINS; bin++) freeAbove += hd[bin];
  let clippedBelow = 0;
  let k0 = 0;
  for (let bin = 1; bin <= HIST_BINS; bin++) {
    const fa = freeAbove - hd[bin - 1];
    const cbw = clippedBelow + hc[bin - 1];
    if ((bin / HIST_BINS) * fa + cbw > e2) break;
    freeAbove = fa;
    clippedBelow = cbw;
    k0 = bin;
  }
  // Bracket [sl, su] with g(sl) ≤ e² < g(su).
  let sl = k0 / HIST_BINS;
  let su = Math.min(1, (k0 + 1) / HIST_BINS);
  let clipped = 0; // Σ c² of features known to be clipped at the root
  let A = freeAbove; // g(s) = s·A + C on the current piece (here: at sl)
  let C = clippedBelow;
  let s = sl;
  for (let it = 0; it < MAX_ROOT_ITERS; it++) {
    let sn = A > 0 ? (e2 - C) / A : NaN;
    if (!(sn > sl && sn < su)) sn = 0.5 * (sl + su);
    // One pass over the open breakpoints: retire those outside (sl, su), evaluate at sn.
    let a = 0;
    let c = 0;
    let k = 0;
    for (let j = 0; j < m; j++) {
      const b = cb[j];
      const d2 = cd[j];
      const c2 = cc[j];
      const retireLo = +(b <= sl);
      const retireHi = +(b >= su);
      const keep = 1 - (retireLo | retireHi);
      clipped += c2 * retireLo;
      free += d2 * retireHi;
      const freeAtSn = +(b > sn) * keep;
      a += d2 * freeAtSn;
      c += c2 * (keep - freeAtSn);
      cb[k] = b;
      cd[k] = d2;
      cc[k] = c2;
      k += keep;
    }
    m = k;
    A = free + a;
    C = clipped + c;
    s = sn;
    const g = s * A + C;
    if (Math.abs(g - e2) <= 1e-13 * e2) break;
    if (g > e2) su = s;
    else sl = s;
    if (su - sl <= 1e-16) {
      s = sl;
      break;
    }
  }
  return s;
}

/**
 * box ∩ {‖x − r‖₁ ≤ eps}. For multiplier λ the minimiser is clip(r + soft(z − r, λ));
 * h(λ) = ‖x(λ) − r‖₁ is nonincreasing, and on a piece with free set F it is Σ_F(|d| − λ) + C.
 */
function projectBoxL1(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array, ball: ResolvedBall): void {
  const n = z.length;
  const r = ball.ref;
  const eps = ball.eps;
  let lam = 0;
  let ll = 0;
  let lu = 0;
  for (let i = 0; i < n; i++) lu = Math.max(lu, Math.abs(z[i] - r[i]));
  let feasibleAtLam = false;
  for (let it = 0; it < MAX_ROOT_ITERS; it++) {
    let s = 0;
    let k = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const ri = r[i];
      const di = z[i] - ri;
      const ad = di < 0 ? -di : di;
      const m = ad - lam;
      const v = m > 0 ? (di > 0 ? ri + m : ri - m) : ri;
      if (v <= lo[i]) c += Math.abs(lo[i] - ri);
      else if (v >= hi[i]) c += Math.abs(hi[i] - ri);
      else if (m > 0) {
        s += ad;
        k++;
      }
    }
    const h = s - k * lam + c;
    if (lam === 0 && h <= eps) {
      feasibleAtLam = true;
      break;
    }
    if (Math.abs(h - eps) <= 1e-13 * eps) {
      feasibleAtLam = true; // on the sphere up to rounding
      break;
    }
    if (h > eps) ll = lam;
    else lu = lam;
    if (lu - ll <= 1e-16 * (1 + lu)) break;
    let ln = k > 0 ? (s + c - eps) / k : NaN;
    if (!(ln > ll && ln < lu)) ln = 0.5 * (ll + lu);
    lam = ln;
  }
  const lf = feasibleAtLam ? lam : lu;
  for (let i = 0; i < n; i++) {
    const ri = r[i];
    const di = z[i] - ri;
    const m = Math.abs(di) - lf;
    const v = m > 0 ? (di > 0 ? ri + m : ri - m) : ri;
    out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
  }
}

/**
 * box ∩ {a·x ≤ b}. For multiplier λ ≥ 0 the minimiser is clip(z − λa); φ(λ) = a·x(λ) − b is
 * nonincreasing with slope −Σ_F a² on a piece with free set F.
 */
function projectBoxHalfspace(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array, hs: ResolvedHalfspace): void {
  const n = z.length;
  const a = hs.a;
  const b = hs.b;
  const tol = 1e-13 * (1 + Math.abs(b));
  let lam = 0;
  let ll = 0;
  let lu = Infinity;
  let feasibleAtLam = false;
  let lastBreakpoint = NaN;
  for (let it = 0; it < MAX_ROOT_ITERS; it++) {
    let phi = -b;
    let slope = 0;
    for (let i = 0; i < n; i++) {
      const ai = a[i];
      if (ai === 0) continue;
      const v = z[i] - lam * ai;
      if (v <= lo[i]) phi += ai * lo[i];
      else if (v >= hi[i]) phi += ai * hi[i];
      else {
        phi += ai * v;
        slope += ai * ai;
      }
    }
    if (lam === 0 && phi <= 0) {
      feasibleAtLam = true;
      break;
    }
    if (Math.abs(phi) <= tol) {
      feasibleAtLam = true; // on the hyperplane up to rounding
      break;
    }
    if (phi > 0) ll = lam;
    else lu = lam;
    if (Number.isFinite(lu) && lu - ll <= 1e-16 * (1 + lu)) break;
    let ln = slope > 0 ? lam + phi / slope : NaN;
    if (!(ln > ll && ln < lu)) {
      if (Number.isFinite(lu)) ln = 0.5 * (ll + lu);
      else {
        // No upper bracket yet and a flat piece: jump past the last breakpoint.
        if (Number.isNaN(lastBreakpoint)) lastBreakpoint = lastFiniteBreakpoint(z, lo, hi, a);
        ln = lastBreakpoint > ll ? lastBreakpoint : 2 * ll + 1;
      }
    }
    lam = ln;
  }
  const lf = feasibleAtLam ? lam : Number.isFinite(lu) ? lu : lam;
  for (let i = 0; i < n; i++) {
    const v = z[i] - lf * a[i];
    out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
  }
}

/** Largest finite λ at which some coordinate of clip(z − λa) reaches a bound. */
function lastFiniteBreakpoint(z: Float64Array, lo: Float64Array, hi: Float64Array, a: Float64Array): number {
  let best = 0;
  for (let i = 0; i < z.length; i++) {
    const ai = a[i];
    if (ai === 0) continue;
    const p = (z[i] - lo[i]) / ai;
    const q = (z[i] - hi[i]) / ai;
    if (Number.isFinite(p) && p > best) best = p;
    if (Number.isFinite(q) && q > best) best = q;
  }
  return best;
}

/**
 * box ∩ every one-hot group (the groups are disjoint, so this is separable): features outside
 * groups are clipped; in each group x_i = clip(z_i − τ) with τ such that Σ x_i = 1 (the box
 * already holds 0 ≤ x_i ≤ 1 for members).
 */
function projectBoxSimplexes(z: Float64Array, out: Float64Array, rc: ResolvedConstraints): void {
  const { lo, hi } = rc;
  const groupOf = rc.work.groupOf;
  for (let i = 0; i < z.length; i++) {
    if (groupOf[i] >= 0) continue;
    const v = z[i];
    out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
  }
  for (const { indices } of rc.oneHot) {
    let tl = Infinity;
    let tu = -Infinity;
    let sum = 0;
    for (const i of indices) {
      tl = Math.min(tl, z[i] - hi[i]);
      tu = Math.max(tu, z[i] - lo[i]);
      sum += z[i];
    }
    let tau = Math.min(tu, Math.max(tl, (sum - 1) / indices.length));
    for (let it = 0; it < MAX_ROOT_ITERS; it++) {
      let s = -1;
      let k = 0;
      for (const i of indices) {
        const v = z[i] - tau;
        if (v <= lo[i]) s += lo[i];
        else if (v >= hi[i]) s += hi[i];
        else {
          s += v;
          k++;
        }
      }
      if (Math.abs(s) <= 1e-14) break;
      if (s > 0) tl = tau;
      else tu = tau;
      if (tu - tl <= 1e-16 * (1 + Math.abs(tu))) break;
      let tn = k > 0 ? tau + s / k : NaN;
      if (!(tn > tl && tn < tu)) tn = 0.5 * (tl + tu);
      tau = tn;
    }
    for (const i of indices) {
      const v = z[i] - tau;
      out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
    }
  }
}

/**
 * Rounds every free feature to the nearest of `rc.levels` evenly spaced values across its box
 * (for the box [0, 1] and 256 levels: k/255), staying inside lo/hi (e.g. an L∞ ball) when a level
 * lies there. Features a mask fixes and one-hot members are left alone. No-op without `levels`.
 *
 * @example
 * const rc = resolveConstraints([box(0, 1), levels(5)], { name: 'x', shape: [3], range: [0, 1] }, 0);
 * const best = Float32Array.from([0.1, 0.5, 0.93]);
 * roundToLevels(best, 1, rc); // values become k/4
 * Array.from(best) // [0, 0.5, 1]
 */
export function roundToLevels(x: Float32Array | Float64Array, rows: number, rc: ResolvedConstraints): void {
  const L = rc.levels;
  if (L === null) return;
  const { n, lo, hi, boxLo, boxHi } = rc;
  const groupOf = rc.work.groupOf;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    for (let i = 0; i < n; i++) {
      if (groupOf[i] >= 0) continue;
      if (lo[i] === hi[i]) {
        x[off + i] = lo[i];
        continue;
      }
      const span = boxHi[i] - boxLo[i];
      if (span <= 0) continue;
      let k = Math.round(((x[off + i] - boxLo[i]) / span) * (L - 1));
      const kMin = Math.max(0, Math.ceil(((lo[i] - boxLo[i]) / span) * (L - 1) - 1e-9));
      const kMax = Math.min(L - 1, Math.floor(((hi[i] - boxLo[i]) / span) * (L - 1) + 1e-9));
      if (kMin > kMax) {
        const v = x[off + i];
        x[off + i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
        continue;
      }
      if (k < kMin) k = kMin;
      if (k > kMax) k = kMax;
      x[off + i] = boxLo[i] + (k * span) / (L - 1);
    }
  }
}

/**
 * Rounds each one-hot group to a one-hot vector: its largest member that may be 1 becomes 1,
 * the others their lower bound (0). No-op without one-hot groups.
 *
 * @example
 * const rc = resolveConstraints([oneHot([0, 1, 2])], { name: 'x', shape: [3], range: [0, 1] }, 0);
 * const best = Float32Array.from([0.2, 0.7, 0.1]);
 * roundOneHot(best, 1, rc);
 * Array.from(best) // [0, 1, 0]
 */
export function roundOneHot(x: Float32Array | Float64Array, rows: number, rc: ResolvedConstraints): void {
  const { n, lo, hi } = rc;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    for (const { indices } of rc.oneHot) {
      let best = -1;
      for (const i of indices) {
        if (lo[i] <= 1 && hi[i] >= 1 && (best < 0 || x[off + i] > x[off + best])) best = i;
      }
      if (best < 0) continue;
      for (const i of indices) x[off + i] = i === best ? 1 : Math.max(lo[i], 0);
    }
  }
}

/**
 * How much each constraint is violated (0 when it holds), keyed by readable names: `box`,
 * `linf`, `l2`, `l1`, `mask`, `linear[k]`, `oneHot[k]`, `levels` (distance to the nearest level),
 * `prior` (a subspace prior: distance to its subspace or code set)
 * — with `#2`, `#3` … appended for a second ball of the same kind. When `x` holds several rows,
 * each value is the worst over the rows.
 *
 * @example
 * const rc = resolveConstraints([box(0, 1), linear([1, 1], 1)], { name: 'x', shape: [2], range: [0, 1] }, 0);
 * residuals([0.5, 0.75], rc) // { box: 0, 'linear[0]': 0.25 }
 */
export function residuals(x: ArrayLike<number>, rc: ResolvedConstraints): Record<string, number> {
  const { n } = rc;
  const rows = Math.max(1, Math.floor(x.length / n));
  const out: Record<string, number> = {};
  const put = (key: string, v: number): void => {
    out[key] = Math.max(out[key] ?? 0, v);
  };
  const ballKey = (kind: string, k: number): string => (k === 0 ? kind : `${kind} #${k + 1}`);
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let box = 0;
    for (let i = 0; i < n; i++) {
      const v = x[off + i];
      box = Math.max(box, rc.boxLo[i] - v, v - rc.boxHi[i]);
      if (Number.isNaN(v)) box = Infinity;
    }
    put('box', box);
    rc.linf.forEach((b, k) => {
      let m = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[off + i] - b.ref[i]));
      put(ballKey('linf', k), Math.max(0, m - b.eps));
    });
    rc.l2.forEach((b, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = x[off + i] - b.ref[i];
        s += d * d;
      }
      put(ballKey('l2', k), Math.max(0, Math.sqrt(s) - b.eps));
    });
    rc.l1.forEach((b, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.abs(x[off + i] - b.ref[i]);
      put(ballKey('l1', k), Math.max(0, s - b.eps));
    });
    if (rc.mask) {
      let m = 0;
      const { indices, values } = rc.mask;
      for (let j = 0; j < indices.length; j++) m = Math.max(m, Math.abs(x[off + indices[j]] - values[j]));
      put('mask', m);
    }
    rc.linear.forEach((h, k) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += h.a[i] * x[off + i];
      put(`linear[${k}]`, Math.max(0, s - h.b));
    });
    rc.oneHot.forEach((g, k) => {
      let s = 0;
      let m = 0;
      for (const i of g.indices) {
        const v = x[off + i];
        s += v;
        m = Math.max(m, -v, v - 1);
      }
      put(`oneHot[${k}]`, Math.max(m, Math.abs(s - 1)));
    });
    if (rc.levels !== null) {
      const L = rc.levels;
      const groupOf = rc.work.groupOf;
      let m = 0;
      for (let i = 0; i < n; i++) {
        if (groupOf[i] >= 0 || rc.lo[i] === rc.hi[i]) continue;
        const span = rc.boxHi[i] - rc.boxLo[i];
        if (span <= 0) continue;
        const k = Math.min(L - 1, Math.max(0, Math.round(((x[off + i] - rc.boxLo[i]) / span) * (L - 1))));
        m = Math.max(m, Math.abs(x[off + i] - (rc.boxLo[i] + (k * span) / (L - 1))));
      }
      put('levels', m);
    }
    if (rc.prior?.type === 'subspace') put('prior', subspaceResidual(rc.prior, Array.from({ length: n }, (_, i) => x[off + i])));
  }
  return out;
}

/**
 * Checks that the sets of an intersection of two or more pieces have a common point, by
 * projecting the middle of the box; throws ActmaxError `infeasible` when they do not.
 * Used by `resolveConstraints`.
 *
 * @example
 * checkIntersection(rc);
 */
export function checkIntersection(rc: ResolvedConstraints): void {
  if (rc.work.pieces.length < 2) return;
  const z = new Float64Array(rc.n);
  for (let i = 0; i < rc.n; i++) {
    const l = rc.lo[i];
    const h = rc.hi[i];
    z[i] = Number.isFinite(l) && Number.isFinite(h) ? 0.5 * (l + h) : Number.isFinite(l) ? l : Number.isFinite(h) ? h : 0;
  }
  const out = new Float64Array(rc.n);
  projectRow(z, out, rc);
  const worst = worstViolation(out, rc);
  if (worst.amount > FINAL_TOL) {
    throw new ActmaxError('infeasible', `constraints on input "${rc.input}" have no common point: ${worst.name} stays violated by ${worst.amount.toPrecision(3)}`);
  }
}
