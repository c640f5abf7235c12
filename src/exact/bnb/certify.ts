import { dot } from './kernels.js';
import { MixingSdp, RANK } from './mixing.js';

/**
 * A sound upper bound on a node's box-binary QP from any state of its mixing-method SDP.
 *
 * Weak duality of the Shor relaxation: for v ∈ {±1}^N, vᵀMv ≤ Σ y whenever Diag(y) − M ⪰ 0. M has
 * no x–x block, so with y_x > 0 the condition is y_x > 0 and S ⪰ 0 for the Schur complement onto
 * the (v₀, t) block: S = Diag(y₀ₜ) − M₀ₜ,₀ₜ − M₀ₜ,ₓ Diag(y_x)⁻¹ Mₓ,₀ₜ, a (1+f) × (1+f) matrix.
 * The y come from the SDP state (y_i = ‖(MV)_i‖ on x rows, floored; ⟨v_k, (MV)_k⟩ on the others);
 * whatever that state is, S + μI ⪰ 0 is then checked by a floating-point Cholesky factorisation
 * with Rump's shift, μ found by bisection, and the bound pays (1 + f)·μ. Rounding in forming S,
 * in the sums, and in building M from the weights is covered by explicit margins, so an
 * approximate SDP solve gives a looser bound, never a wrong one.
 */

const U = 2 ** -53;

/** Lanczos steps for the estimate of λ_min (it is verified; a poorer one, with 12–24 steps, cost 4–7 % more nodes). */
const LANCZOS_STEPS = 48;

/** Result of {@link certify}: the bound and its parts (for diagnostics and tests). */
export interface Certificate {
  bound: number;
  /** Σ y over all rows (the dual objective before the shift). */
  dual: number;
  /** Shift of the (v₀, t) block that made S positive definite. */
  shift: number;
  /** Margins added for floating-point error. */
  margin: number;
}

/**
 * Certified upper bound for the SDP's node, valid for any V. `absScale` must bound the sum of
 * absolute values of every term of the node's objective as the caller built it (direct term,
 * Lagrangian terms, units): it sizes the margin for rounding in M. Call after `updateX()` (the
 * x rows' g norms are the y_x used).
 *
 * @example
 * sdp.sweep();
 * const { bound } = certify(sdp, absScale);
 */
export function certify(sdp: MixingSdp, absScale: number, hint = 0): Certificate {
  const { n, free, m0x, m0t, ct, gxNorm } = sdp;
  const f = free.length;
  const N = 1 + f;
  // y on the x rows: ‖g_i‖, floored so that 1/y stays finite.
  let yMax = 0;
  for (let i = 0; i < n; i++) yMax = Math.max(yMax, gxNorm[i]);
  const floor = Math.max(1e-12 * yMax, 1e-300);
  const yx = new Float64Array(n);
  let dual = sdp.K;
  let absSum = Math.abs(sdp.K);
  for (let i = 0; i < n; i++) {
    yx[i] = Math.max(gxNorm[i], floor);
    dual += yx[i];
    absSum += yx[i];
  }
  // y on the (v₀, t) rows.
  const y0t = new Float64Array(N);
  const g = new Float64Array(RANK);
  sdp.g0(g);
  for (let r = 0; r < RANK; r++) y0t[0] += g[r] * sdp.v0[r];
  const yt = new Float64Array(f);
  sdp.tRowSum(yt);
  y0t.set(yt, 1);
  for (let k = 0; k < N; k++) {
    dual += y0t[k];
    absSum += Math.abs(y0t[k]);
  }
  // Ã = M₀ₜ,ₓ · Diag(y_x)^(−1/2), row by row; C = Ã Ãᵀ (SIMD kernel); S = Diag(y₀ₜ) − M₀ₜ,₀ₜ − C.
  const rs = new Float64Array(n);
  for (let i = 0; i < n; i++) rs[i] = 1 / Math.sqrt(yx[i]);
  const At = sdp.At.view, W = sdp.W.view;
  for (let i = 0; i < n; i++) At[i] = m0x[i] * rs[i];
  for (let k = 0; k < f; k++) {
    const o = free[k] * n, q = (k + 1) * n, c = ct[k];
    for (let i = 0; i < n; i++) At[q + i] = c * W[o + i] * rs[i];
  }
  sdp.arena.kernels.syrk(sdp.At.ptr, N, n, sdp.S.ptr);
  const S = new Float64Array(N * N);
  const C = sdp.S.view;
  let traceC = 0;
  for (let q = 0; q < N * N; q++) S[q] = -C[q];
  for (let k = 0; k < N; k++) traceC += C[k * N + k];
  for (let k = 1; k < N; k++) {
    S[k] -= m0t[k - 1];
    S[k * N] -= m0t[k - 1];
  }
  let frob = 0;
  for (let k = 0; k < N; k++) S[k * N + k] += y0t[k];
  for (let q = 0; q < N * N; q++) frob += S[q] * S[q];
  frob = Math.sqrt(frob);
  // Spectral norm of the rounding error in S: each entry's error ≤ (n+6)u·√(C_kk C_ll) + u|S_kl|.
  const sError = (n + 8) * U * (traceC + frob) * 2;
  const shift = minShift(S, N, hint) + sError;
  // Rounding of M from the weights and of the sums above.
  const margin = 8 * (n + N + 8) * U * (absScale + absSum + N * shift) + N * sError;
  const bound = dual + N * shift + margin;
  return { bound, dual, shift, margin };
}

/**
 * A small μ ≥ 0 such that S + μI passes the verified Cholesky test (S symmetric, row-major
 * N × N): Lanczos estimates λ_min(S), then the test is tried just above −λ_min, stepping up until
 * it passes (Gershgorin's shift always does).
 *
 * @example
 * const mu = minShift(S, N); // S + mu·I passes choleskyPasses
 */
export function minShift(S: Float64Array, N: number, hint = 0): number {
  const work = new Float64Array(N * N);
  if (choleskyPasses(S, N, 0, work)) return 0;
  let scale = 0;
  for (let k = 0; k < N; k++) scale = Math.max(scale, Math.abs(S[k * N + k]));
  const est = Math.max(0, -lambdaMin(S, N));
  let step = Math.max(1e-3 * est, 1e-10 * scale, 1e-300);
  for (let tries = 0; tries < 40; tries++) {
    const mu = est + step;
    if (choleskyPasses(S, N, mu, work)) return mu;
    step *= 4;
  }
  // Gershgorin: S + μI is diagonally dominant, hence positive semidefinite.
  let g = 0;
  for (let k = 0; k < N; k++) {
    let off = 0;
    for (let l = 0; l < N; l++) if (l !== k) off += Math.abs(S[k * N + l]);
    g = Math.max(g, off - S[k * N + k]);
  }
  let mu = Math.max(g, hint, 1e-300) * 1.01;
  while (!choleskyPasses(S, N, mu, work)) mu *= 2;
  return mu;
}

/**
 * Estimate of the smallest eigenvalue of S (symmetric N × N): Lanczos with full
 * reorthogonalisation, then bisection on the tridiagonal matrix. Only an estimate — the caller
 * verifies the shift it derives.
 *
 * @example
 * const estimate = lambdaMin(S, N);
 */
export function lambdaMin(S: Float64Array, N: number): number {
  const k = Math.min(N, LANCZOS_STEPS);
  const Q = new Float64Array(k * N);
  const alpha = new Float64Array(k), beta = new Float64Array(k);
  const w = new Float64Array(N);
  // A start vector with weight everywhere.
  let nr = 0;
  for (let i = 0; i < N; i++) {
    Q[i] = 1 + ((i * 7919) % 13) / 13;
    nr += Q[i] * Q[i];
  }
  nr = Math.sqrt(nr);
  for (let i = 0; i < N; i++) Q[i] /= nr;
  let steps = k;
  for (let j = 0; j < k; j++) {
    const q = j * N;
    for (let r = 0; r < N; r++) w[r] = dot(S, r * N, Q, q, N);
    alpha[j] = dot(w, 0, Q, q, N);
    // Full reorthogonalisation (one pass: the estimate is verified anyway).
    for (let pass = 0; pass < 1; pass++) {
      for (let t = 0; t <= j; t++) {
        const c = dot(w, 0, Q, t * N, N);
        for (let r = 0; r < N; r++) w[r] -= c * Q[t * N + r];
      }
    }
    if (j + 1 === k) break;
    let b = 0;
    for (let r = 0; r < N; r++) b += w[r] * w[r];
    b = Math.sqrt(b);
    beta[j] = b;
    if (b < 1e-14 * (Math.abs(alpha[j]) + 1e-300)) {
      steps = j + 1;
      break;
    }
    for (let r = 0; r < N; r++) Q[(j + 1) * N + r] = w[r] / b;
  }
  // Smallest eigenvalue of the tridiagonal (alpha, beta) by bisection with Sturm counts.
  let lo = Infinity, hi = -Infinity;
  for (let j = 0; j < steps; j++) {
    const r = (j > 0 ? Math.abs(beta[j - 1]) : 0) + (j + 1 < steps ? Math.abs(beta[j]) : 0);
    lo = Math.min(lo, alpha[j] - r);
    hi = Math.max(hi, alpha[j] + r);
  }
  const below = (x: number): number => {
    let count = 0, d = 1;
    for (let j = 0; j < steps; j++) {
      d = alpha[j] - x - (j > 0 ? (beta[j - 1] * beta[j - 1]) / (d === 0 ? 1e-300 : d) : 0);
      if (d < 0) count++;
    }
    return count;
  };
  for (let it = 0; it < 100 && hi - lo > 1e-15 * Math.max(Math.abs(lo), Math.abs(hi), 1e-300); it++) {
    const mid = (lo + hi) / 2;
    if (below(mid) >= 1) hi = mid;
    else lo = mid;
  }
  return lo;
}

/**
 * Does S + μI pass Rump's verified positive-definiteness test: floating-point Cholesky of
 * (S + μI) − cI with c = 2γ_{N+2}·tr(S + μI) running to completion proves S + μI ≻ 0?
 *
 * @example
 * if (choleskyPasses(S, N, 0, new Float64Array(N * N))) console.log('S is positive definite');
 */
export function choleskyPasses(S: Float64Array, N: number, mu: number, L: Float64Array): boolean {
  let trace = 0;
  for (let k = 0; k < N; k++) trace += Math.max(0, S[k * N + k] + mu);
  const gamma = ((N + 2) * U) / (1 - (N + 2) * U);
  const c = 2 * gamma * trace + 1e-290;
  const d = mu - c;
  for (let k = 0; k < N; k++) {
    for (let l = 0; l <= k; l++) {
      let s = S[k * N + l] + (k === l ? d : 0);
      for (let q = 0; q < l; q++) s -= L[k * N + q] * L[l * N + q];
      if (k === l) {
        if (!(s > 0)) return false;
        L[k * N + k] = Math.sqrt(s);
      } else L[k * N + l] = s / L[l * N + l];
    }
  }
  return true;
}

