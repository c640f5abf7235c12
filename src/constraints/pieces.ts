import type { ResolvedBall, ResolvedConstraints, ResolvedHalfspace } from './resolve.js';

/**
 * Exact Euclidean projections onto "the box ∩ one set": an L2 or L1 ball, a halfspace, or the
 * one-hot simplexes. Each goes through its one-dimensional dual: for a fixed multiplier the
 * minimiser is a per-feature clip, and a monotone scalar equation fixes the multiplier (a Newton
 * step on the current piece, kept inside a bracket, bisection otherwise). project.ts combines them.
 */

/** Iterations of a multiplier's root search (each one clip pass). */
const MAX_ROOT_ITERS = 100;
/** Histogram bins for the breakpoints of the fast L2 projection. */
export const HIST_BINS = 32;

/**
 * box ∩ {‖x − r‖₂ ≤ eps}. With d = z − r the minimiser for multiplier λ is
 * clip(r + t·d) with t = 1/(1 + λ) ∈ (0, 1]; g(t) = ‖clip(r + t d) − r‖² is nondecreasing in t,
 * and on a piece with free set F it equals t²·Σ_F d² + C.
 */
export function projectBoxL2(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array, ball: ResolvedBall): void {
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
export function projectBoxL2RefInBox(
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
export function projectBoxL1(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array, ball: ResolvedBall): void {
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
export function projectBoxHalfspace(z: Float64Array, out: Float64Array, lo: Float64Array, hi: Float64Array, hs: ResolvedHalfspace): void {
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
export function projectBoxSimplexes(z: Float64Array, out: Float64Array, rc: ResolvedConstraints): void {
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
