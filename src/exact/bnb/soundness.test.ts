import { beforeAll, describe, expect, it } from 'vitest';
import type { Highs } from 'highs';
import { loadHighsHere } from '../highs-here.js';
import { seeded } from '../test-nets.js';
import { certify, choleskyPasses, minShift } from './certify.js';
import { NodeLagrangian, unitNorms } from './lagrange.js';
import { MixingSdp, RANK } from './mixing.js';
import { RegionLp } from './regionLp.js';
import { shallowValue, type ShallowProblem } from './shallow.js';

/**
 * Soundness of every pruning rule: whatever state the solver is in — any V, any multipliers in
 * their ranges, any fixed units — the certified bound of a node is never below the objective at a
 * point of that node's region. Each rule's inputs are perturbed at random and the bound is
 * compared with the exact maximum (by enumerating box vertices and σ for tiny sizes) and with
 * sampled points of the region.
 */

let highs: Highs;
beforeAll(async () => {
  highs = await loadHighsHere();
});

/** A random shallow problem with n inputs, m units (both signs of c), optional constraint rows. */
function randomProblem(n: number, m: number, seed: number, rows = 0): ShallowProblem {
  const rnd = seeded(seed);
  const W = Float64Array.from({ length: m * n }, () => rnd() * 2);
  const b = Float64Array.from({ length: m }, () => rnd() * n * 0.3);
  const c = Float64Array.from({ length: m }, (_, j) => (j % 2 === 0 ? 1 : -1) * (0.2 + Math.abs(rnd())));
  const A = Float64Array.from({ length: rows * n }, rnd);
  const r = Float64Array.from({ length: rows }, () => n * 0.2 + rnd());
  return { n, m, W, b, c, a: Float64Array.from({ length: n }, () => rnd() * 0.5), d: rnd(), A, r, rows, features: Int32Array.from({ length: n }, (_, i) => i), lo: new Float64Array(n), span: new Float64Array(n).fill(1), x0: new Float64Array(n), unitVar: new Int32Array(m) };
}

const h = (p: ShallowProblem, j: number, s: ArrayLike<number>) => {
  let v = p.b[j];
  for (let i = 0; i < p.n; i++) v += p.W[j * p.n + i] * s[i];
  return v;
};

/** Random unit vectors for v₀ and the σ rows (an arbitrary, unconverged SDP state). */
function randomWarm(f: number, rnd: () => number): Float64Array {
  const w = Float64Array.from({ length: (1 + f) * RANK }, rnd);
  for (let k = 0; k <= f; k++) {
    let s = 0;
    for (let r = 0; r < RANK; r++) s += w[k * RANK + r] ** 2;
    for (let r = 0; r < RANK; r++) w[k * RANK + r] /= Math.sqrt(s);
  }
  return w;
}

/** max over s ∈ {0,1}^n and σ of the node's relaxed objective L(s) + Σ σ_j c_j h_j(s) (what the SDP relaxes). */
function bqpMaximum(p: ShallowProblem, lag: NodeLagrangian, sigma: Int32Array): number {
  let best = -Infinity;
  for (let mask = 0; mask < 1 << p.n; mask++) {
    const s = Array.from({ length: p.n }, (_, i) => (mask >> i) & 1);
    let v = lag.d;
    for (let i = 0; i < p.n; i++) v += lag.a[i] * s[i];
    for (const j of sigma) v += Math.max(0, p.c[j] * h(p, j, s));
    best = Math.max(best, v);
  }
  return best;
}

describe('pruning rules stay sound under perturbed inputs', () => {
  it('the SDP certificate bounds the node QP for any V, θ, λ, ν and fixed units', () => {
    const rnd = seeded(101);
    for (let trial = 0; trial < 40; trial++) {
      const p = randomProblem(7, 6, 200 + trial, trial % 3 === 0 ? 1 : 0);
      const norms = unitNorms(p);
      const fixed = Int8Array.from({ length: p.m }, () => (rnd() < -0.3 ? 1 : rnd() < 0 ? -1 : 0));
      // θ ∈ [0,1] on free units with c < 0, λ ≥ 0 on fixed ones, ν ≥ 0: all at random.
      const theta = Float64Array.from({ length: p.m }, (_, j) => (fixed[j] === -1 ? (rnd() + 1) / 2 : Math.abs(rnd()) * 2));
      const nu = Float64Array.from({ length: p.rows }, () => Math.abs(rnd()));
      const lag = new NodeLagrangian(p, norms, fixed, theta, nu);
      const sigma = lag.sigmaUnits();
      const sdp = new MixingSdp(p);
      sdp.setNode(sigma, lag.a, lag.d, randomWarm(sigma.length, rnd));
      const sweeps = trial % 4; // 0 … 3 sweeps: from a random state to a partly converged one
      for (let k = 0; k < sweeps; k++) sdp.sweep();
      const cert = certify(sdp, lag.absScale);
      const exact = bqpMaximum(p, lag, sigma);
      expect(cert.bound).toBeGreaterThanOrEqual(exact - 1e-12 * Math.max(1, Math.abs(exact)));
      // And the node's relaxed objective bounds f on the node's region (sampled, feasible points).
      for (let t = 0; t < 300; t++) {
        const s = Float64Array.from({ length: p.n }, () => (rnd() + 1) / 2);
        const inRegion = fixed.every((v, j) => v === -1 || (v === 1 ? h(p, j, s) >= 0 : h(p, j, s) <= 0));
        let feasible = true;
        for (let k = 0; k < p.rows; k++) {
          let lhs = 0;
          for (let i = 0; i < p.n; i++) lhs += p.A[k * p.n + i] * s[i];
          feasible &&= lhs <= p.r[k];
        }
        if (inRegion && feasible) expect(cert.bound).toBeGreaterThanOrEqual(shallowValue(p, s) - 1e-12);
      }
    }
  });

  it('the certificate is tight once the mixing method converges (within 1e-3 of the relaxation)', () => {
    const p = randomProblem(12, 8, 7);
    const norms = unitNorms(p);
    const lag = new NodeLagrangian(p, norms, new Int8Array(p.m).fill(-1), Float64Array.from({ length: p.m }, () => 0.5), new Float64Array(0));
    const sdp = new MixingSdp(p);
    sdp.setNode(lag.sigmaUnits(), lag.a, lag.d, null);
    for (let k = 0; k < 300; k++) sdp.sweep();
    const cert = certify(sdp, lag.absScale);
    expect(cert.bound - sdp.primal()).toBeLessThan(1e-3 * Math.max(1, Math.abs(cert.bound)));
    expect(cert.bound).toBeGreaterThanOrEqual(bqpMaximum(p, lag, lag.sigmaUnits()) - 1e-12);
  });

  it('the verified Cholesky test rejects indefinite matrices and minShift makes them definite', () => {
    const rnd = seeded(55);
    for (let trial = 0; trial < 30; trial++) {
      const N = 3 + (trial % 9);
      // S = Q diag(λ) Qᵀ with a known smallest eigenvalue (Q from Gram–Schmidt of random vectors).
      const Q = Array.from({ length: N }, () => Array.from({ length: N }, rnd));
      for (let k = 0; k < N; k++) {
        for (let l = 0; l < k; l++) {
          const d = Q[k].reduce((s, v, i) => s + v * Q[l][i], 0);
          Q[k] = Q[k].map((v, i) => v - d * Q[l][i]);
        }
        const nr = Math.hypot(...Q[k]);
        Q[k] = Q[k].map((v) => v / nr);
      }
      const lmin = -Math.abs(rnd()) * 10 ** (-1 - (trial % 6));
      const lam = Array.from({ length: N }, (_, k) => (k === 0 ? lmin : 0.1 + Math.abs(rnd())));
      const S = new Float64Array(N * N);
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) for (let k = 0; k < N; k++) S[i * N + j] += Q[k][i] * lam[k] * Q[k][j];
      const work = new Float64Array(N * N);
      expect(choleskyPasses(S, N, 0, work)).toBe(false);
      expect(choleskyPasses(S, N, -lmin * 0.9, work)).toBe(false);
      const mu = minShift(S, N);
      expect(mu).toBeGreaterThanOrEqual(-lmin);
      expect(mu).toBeLessThan(-lmin * 1.01 + 1e-9);
    }
  });

  it('the leaf LP bound holds for any dual multipliers (perturbed HiGHS duals)', () => {
    const rnd = seeded(77);
    for (let trial = 0; trial < 12; trial++) {
      const p = randomProblem(6, 6, 300 + trial, trial % 2);
      const lp = new RegionLp(highs, p);
      try {
        const pattern = Int8Array.from({ length: p.m }, (_, j) => (p.c[j] > 0 ? (rnd() < 0 ? 1 : 0) : rnd() < -0.5 ? 1 : -1));
        const ans = lp.solve(pattern);
        // The region's true maximum, sampled: the dual bound must cover every feasible point.
        const check = (bound: number) => {
          for (let t = 0; t < 400; t++) {
            const s = Float64Array.from({ length: p.n }, () => (rnd() + 1) / 2);
            const inRegion = pattern.every((v, j) => v === -1 || (v === 1 ? h(p, j, s) >= 0 : h(p, j, s) <= 0));
            let feasible = true;
            for (let k = 0; k < p.rows; k++) {
              let lhs = 0;
              for (let i = 0; i < p.n; i++) lhs += p.A[k * p.n + i] * s[i];
              feasible &&= lhs <= p.r[k];
            }
            if (inRegion && feasible) expect(bound).toBeGreaterThanOrEqual(shallowValue(p, s) - 1e-9);
          }
        };
        check(ans.bound);
        if (ans.status === 'optimal') {
          expect(ans.bound).toBeGreaterThanOrEqual(ans.value - 1e-9);
          expect(ans.bound - ans.value).toBeLessThan(1e-6 * Math.max(1, Math.abs(ans.value)));
          expect(shallowValue(p, ans.s!)).toBeGreaterThanOrEqual(ans.value - 1e-7);
        }
        // Any multipliers give a valid (looser) bound.
        const noisy = lp.boundFromDuals(Float64Array.from({ length: lp.rowCount }, () => rnd() * 3));
        check(noisy);
        if (ans.status === 'optimal') expect(noisy).toBeGreaterThanOrEqual(ans.value - 1e-9);
      } finally {
        lp.dispose();
      }
    }
  });
});
