import { ActmaxError } from '../errors.js';
import type { Piece, ResolvedConstraints, ResolvedHalfspace } from './resolve.js';
import { projectBoxHalfspace, projectBoxL1, projectBoxL2, projectBoxL2RefInBox, projectBoxSimplexes } from './pieces.js';
import { worstViolation } from './residuals.js';

/**
 * Exact Euclidean projection onto the intersection of an input's constraints.
 *
 * Every piece "box ∩ one set" is projected exactly through its one-dimensional dual (pieces.ts):
 * for a fixed multiplier the minimiser is a per-feature clip, and a monotone scalar equation fixes
 * the multiplier. The equation is piecewise smooth, so a Newton step on the current piece, kept
 * inside a bracket (bisection otherwise), lands on the exact root after a few evaluations.
 * Several sets are combined with Dykstra's alternating projection, which converges to the
 * projection onto their intersection (not merely to some feasible point).
 */

const DYKSTRA_TOL = 1e-9;
const DYKSTRA_MAX_CYCLES = 2000;
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
