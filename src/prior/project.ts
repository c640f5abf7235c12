import { ActmaxError } from '../errors.js';
import { projectRow, type ResolvedConstraints } from '../constraints/index.js';
import type { LatentSet, SubspacePrior } from './types.js';

/**
 * Exact Euclidean projection of codes z onto {z ∈ Z : mean + Uᵀz ∈ X}: Z the prior's code set
 * (box and/or Mahalanobis ball), X the input's other constraints (box, L∞ balls, masks, L1/L2
 * balls, halfspaces) as resolved for the model input. Since U has orthonormal rows, distances in
 * z equal distances in x inside the subspace, so this is also the exact projection of the input.
 *
 * Method: ADMM on the splitting x = mean + Uᵀz (over-relaxed, residual-balanced ρ), each step
 * exact — an isotropic quadratic over Z is a projection onto Z, and X has its own exact
 * projection — run until the primal and dual residuals are below {@link PROJECTION_TOL}.
 * Each row keeps its x and multiplier between calls, so the next gradient step starts warm.
 */
export const PROJECTION_TOL = 1e-9;
const MAX_ITERATIONS = 20000;
const RELAX = 1.6;

/**
 * Exact projection of `zt` onto the code set: clip to the box; with a ball,
 * z(λ) = clip(zt_k / (1 + λ/s_k²)) for the λ ≥ 0 that puts z on the ball (λ by bisection).
 *
 * @example
 * projectLatent({ box: { lo: [-1, -1], hi: [1, 1] } }, Float64Array.of(2, 0), out) // out = [1, 0]
 */
export function projectLatent(set: LatentSet, zt: ArrayLike<number>, out: Float64Array): void {
  const k = out.length;
  const box = set.box;
  const at = (lambda: number, scale: number[] | null): number => {
    let s = 0;
    for (let c = 0; c < k; c++) {
      let v = scale ? zt[c] / (1 + lambda / (scale[c] * scale[c])) : zt[c];
      if (box) v = v < box.lo[c] ? box.lo[c] : v > box.hi[c] ? box.hi[c] : v;
      out[c] = v;
      if (scale) s += (v / scale[c]) ** 2;
    }
    return s;
  };
  if (!set.ball) {
    at(0, null);
    return;
  }
  const { radius, scale } = set.ball;
  const r2 = radius * radius;
  if (at(0, scale) <= r2) return;
  let lo = 0;
  let hi = 1;
  while (at(hi, scale) > r2) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) throw new ActmaxError('infeasible', 'the prior\'s code box does not meet its ball (the box must contain 0)');
  }
  for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (at(mid, scale) > r2) lo = mid;
    else hi = mid;
  }
  at(hi, scale); // the feasible side
}

/** Projector for the rows of a batch of codes, with warm-start state per row. */
export interface SubspaceProjector {
  /** Replace each of `rows` codes in `z` (rows × K, flat) by its projection; throws `infeasible` when the sets do not meet. */
  project(z: Float32Array | Float64Array, rows: number): void;
  /** Iterations of the last call, summed over its rows (for tests and benches). */
  lastIterations: number;
}

/**
 * Build the projector for a subspace prior and the input's other constraints `rc` (resolved for
 * the model input, without the prior).
 *
 * @example
 * const proj = subspaceProjector(prior, resolveConstraints([box(0, 1)], input, 0));
 * proj.project(codes, rows); // every row now satisfies the prior and the box, exactly
 */
export function subspaceProjector(prior: SubspacePrior, rc: ResolvedConstraints): SubspaceProjector {
  const n = prior.mean.length;
  const k = prior.components;
  if (rc.n !== n) throw new ActmaxError('bad-input', `the prior has ${n} features; input "${rc.input}" has ${rc.n}`);
  const U = Float64Array.from(prior.basis);
  const mean = Float64Array.from(prior.mean);
  const clipOnly = rc.work.pieces.length === 0;
  const z0 = new Float64Array(k), zt = new Float64Array(k), z = new Float64Array(k);
  const ux = new Float64Array(n), v = new Float64Array(n), xn = new Float64Array(n), xh = new Float64Array(n);
  const state = new Map<number, { x: Float64Array; u: Float64Array; rho: number }>();

  const projectX = (src: Float64Array, dst: Float64Array) => {
    if (clipOnly) {
      for (let i = 0; i < n; i++) {
        const t = src[i];
        dst[i] = t < rc.lo[i] ? rc.lo[i] : t > rc.hi[i] ? rc.hi[i] : t;
      }
    } else projectRow(src, dst, rc);
  };
  const render = (code: Float64Array, out: Float64Array) => {
    out.set(mean);
    for (let c = 0; c < k; c++) {
      const w = code[c];
      if (w === 0) continue;
      const o = c * n;
      for (let i = 0; i < n; i++) out[i] += w * U[o + i];
    }
  };
  /** Largest violation of X at `x` (0 inside). */
  const violation = (x: Float64Array) => {
    projectX(x, xn);
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(xn[i] - x[i]));
    return m;
  };

  const projectOne = (row: number): number => {
    // Projection onto Z alone; when its input already lies in X it is the answer.
    projectLatent(prior.latent, z0, z);
    render(z, ux);
    if (violation(ux) <= 0) return 0;
    let s = state.get(row);
    if (!s) {
      s = { x: Float64Array.from(xn), u: new Float64Array(n), rho: 1 };
      state.set(row, s);
    }
    const { x, u } = s;
    for (let it = 1; it <= MAX_ITERATIONS; it++) {
      const rho = s.rho;
      for (let c = 0; c < k; c++) {
        let acc = 0;
        const o = c * n;
        for (let i = 0; i < n; i++) acc += U[o + i] * (x[i] - mean[i] - u[i]);
        zt[c] = (z0[c] + rho * acc) / (1 + rho);
      }
      projectLatent(prior.latent, zt, z);
      render(z, ux);
      for (let i = 0; i < n; i++) {
        xh[i] = RELAX * ux[i] + (1 - RELAX) * x[i];
        v[i] = xh[i] + u[i];
      }
      projectX(v, xn);
      let r2 = 0, d2 = 0;
      for (let i = 0; i < n; i++) {
        u[i] += xh[i] - xn[i];
        const r = ux[i] - xn[i];
        const d = xn[i] - x[i];
        r2 += r * r;
        d2 += d * d;
        x[i] = xn[i];
      }
      const primal = Math.sqrt(r2), dual = rho * Math.sqrt(d2);
      if (primal <= PROJECTION_TOL && dual <= PROJECTION_TOL) return it;
      // Residual balancing: the scaled multiplier u = y/ρ is rescaled with ρ.
      if (it % 8 === 0) {
        const f = primal > 10 * dual ? 2 : dual > 10 * primal ? 0.5 : 1;
        if (f !== 1) {
          s.rho = rho * f;
          for (let i = 0; i < n; i++) u[i] /= f;
        }
      }
    }
    throw new ActmaxError('infeasible', `the data prior and the other constraints on input "${rc.input}" have no common point (the projection did not converge in ${MAX_ITERATIONS} iterations)`);
  };

  const projector: SubspaceProjector = {
    lastIterations: 0,
    project(codes, rows) {
      if (codes.length < rows * k) throw new ActmaxError('bad-input', `project: ${rows} codes of ${k} need ${rows * k} values, got ${codes.length}`);
      let total = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < k; c++) z0[c] = codes[r * k + c];
        total += projectOne(r);
        for (let c = 0; c < k; c++) codes[r * k + c] = z[c];
      }
      projector.lastIterations = total;
    },
  };
  return projector;
}
