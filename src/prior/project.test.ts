import { describe, expect, it } from 'vitest';
import { resolveConstraints } from '../constraints/index.js';
import type { Constraint } from '../constraints/constraint.js';
import { mulberry32 } from '../optimize/rng.js';
import { projectLatent, subspaceProjector } from './project.js';
import { polyhedronProjector } from './qp.js';
import { loadDatasetPrior } from './dataset.js';
import { subspacePrior } from './subspace.js';
import { loadModel } from '../model/load.js';
import path from 'node:path';
import { latentViolation, subspaceInput } from './subspace.js';
import type { SubspacePrior } from './types.js';

/** A random prior with orthonormal basis rows (Gram–Schmidt), mean inside [0, 1]. */
function randomPrior(n: number, k: number, seed: number, latent: SubspacePrior['latent']): SubspacePrior {
  const rand = mulberry32(seed);
  const rows: number[][] = [];
  while (rows.length < k) {
    const v = Array.from({ length: n }, () => rand() - 0.5);
    for (const r of rows) {
      const d = r.reduce((s, x, i) => s + x * v[i], 0);
      r.forEach((x, i) => (v[i] -= d * x));
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return { type: 'subspace', mean: Array.from({ length: n }, () => 0.3 + 0.4 * rand()), basis: rows.flat(), components: k, latent, source: 'test' };
}

/**
 * Reference projection onto {Gz ≤ h} by enumerating active sets of size ≤ 2 (K = 2): the
 * minimiser lies on a face given by at most K active constraints.
 */
function bruteForce(z0: number[], G: number[][], h: number[]): number[] {
  let best: number[] | null = null;
  let bestD = Infinity;
  const feasible = (z: number[]) => G.every((g, r) => g[0] * z[0] + g[1] * z[1] <= h[r] + 1e-10);
  const consider = (z: number[]) => {
    const d = (z[0] - z0[0]) ** 2 + (z[1] - z0[1]) ** 2;
    if (d < bestD && feasible(z)) (best = z), (bestD = d);
  };
  consider(z0);
  G.forEach((g, a) => {
    const gg = g[0] ** 2 + g[1] ** 2;
    const t = (g[0] * z0[0] + g[1] * z0[1] - h[a]) / gg;
    consider([z0[0] - t * g[0], z0[1] - t * g[1]]);
    G.forEach((q, b) => {
      if (b <= a) return;
      const det = g[0] * q[1] - g[1] * q[0];
      if (Math.abs(det) < 1e-12) return;
      consider([(h[a] * q[1] - g[1] * h[b]) / det, (g[0] * h[b] - h[a] * q[0]) / det]);
    });
  });
  return best!;
}

const input = (n: number) => ({ name: 'x', shape: [n], range: [0, 1] as [number, number] });

describe('subspaceProjector', () => {
  it('equals the brute-force projection onto {z in box, mean + Uᵀz in [0,1]^n} to 1e-7', () => {
    const n = 6;
    const prior = randomPrior(n, 2, 7, { box: { lo: [-1.5, -1], hi: [1.5, 1] } });
    const rc = resolveConstraints([], input(n), 0);
    const proj = subspaceProjector(prior, rc);
    const G: number[][] = [[1, 0], [-1, 0], [0, 1], [0, -1]];
    const h = [1.5, 1.5, 1, 1];
    for (let i = 0; i < n; i++) {
      const u = [prior.basis[i], prior.basis[n + i]];
      G.push(u, [-u[0], -u[1]]);
      h.push(1 - prior.mean[i], prior.mean[i]);
    }
    const rand = mulberry32(3);
    let active = 0;
    for (let t = 0; t < 200; t++) {
      const z0 = [6 * (rand() - 0.5), 6 * (rand() - 0.5)];
      const z = Float64Array.from(z0);
      proj.project(z, 1);
      const ref = bruteForce(z0, G, h);
      expect(Math.abs(z[0] - ref[0]) + Math.abs(z[1] - ref[1])).toBeLessThan(1e-7);
      if (proj.lastIterations > 0) active++;
    }
    expect(active).toBeGreaterThan(20); // the pixel box really binds in many cases
  });

  it('satisfies the optimality condition (z0 − p)·(y − p) ≤ 0 with a code ball, an L∞ ball and a halfspace in x', () => {
    const n = 40, k = 5;
    const scale = [2, 1.5, 1, 0.7, 0.5];
    const prior = randomPrior(n, k, 11, { box: { lo: scale.map((s) => -3 * s), hi: scale.map((s) => 3 * s) }, ball: { radius: 2.5, scale } });
    const ref = subspaceInput(prior, new Float64Array(k));
    const a = Array.from({ length: n }, (_, i) => (i % 3) - 1);
    const budget = a.reduce((s, v, i) => s + v * ref[i], 0) + 0.3;
    const constraints: Constraint[] = [{ kind: 'ball', p: 'inf', ref: Array.from(ref), eps: 0.25 }, { kind: 'linear', a, b: budget }];
    const rc = resolveConstraints(constraints, input(n), 0);
    const proj = subspaceProjector(prior, rc);
    const rand = mulberry32(5);
    const points = Array.from({ length: 30 }, () => Float64Array.from({ length: k }, (_, c) => 8 * scale[c] * (rand() - 0.5)));
    const projected = points.map((p) => {
      const z = Float64Array.from(p);
      proj.project(z, 1);
      return z;
    });
    for (const [j, p] of projected.entries()) {
      // Feasible: the code set exactly, x within 1e-7 of every constraint.
      expect(latentViolation(prior.latent, p)).toBeLessThanOrEqual(1e-12);
      const x = subspaceInput(prior, p);
      let dinf = 0;
      x.forEach((v, i) => (dinf = Math.max(dinf, Math.abs(v - ref[i]))));
      expect(dinf).toBeLessThanOrEqual(0.25 + 1e-7);
      expect(x.reduce((s, v, i) => s + v * a[i], 0)).toBeLessThanOrEqual(budget + 1e-7);
      x.forEach((v) => expect(v).toBeGreaterThanOrEqual(-1e-7));
      // Optimal: no other feasible point (the other projections) is on the far side of p.
      for (const y of projected) {
        let s = 0;
        for (let c = 0; c < k; c++) s += (points[j][c] - p[c]) * (y[c] - p[c]);
        expect(s).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it('gives the same answer from a warm working set as from a cold start; refuses an L2 ball in one line', () => {
    const n = 30;
    const prior = randomPrior(n, 3, 2, { box: { lo: [-4, -4, -4], hi: [4, 4, 4] } });
    const rc = resolveConstraints([], input(n), 0);
    const warm = subspaceProjector(prior, rc);
    const a = Float64Array.of(3.5, -3, 2.5);
    warm.project(a, 1);
    expect(warm.lastIterations).toBe(1); // the pixel box moved it
    const b = Float64Array.of(3.52, -3.01, 2.49);
    warm.project(b, 1); // starts from the working set of the first call
    const cold = Float64Array.of(3.52, -3.01, 2.49);
    subspaceProjector(prior, rc).project(cold, 1);
    for (let c = 0; c < 3; c++) expect(b[c]).toBeCloseTo(cold[c], 12);
    const l2 = resolveConstraints([{ kind: 'ball', p: 2, ref: new Array(n).fill(0.5), eps: 1 }], input(n), 0);
    expect(() => subspaceProjector(prior, l2)).toThrow(/an L2 ball is not supported with it yet \(use an L∞ ball\)/);
  });

  it('says in one line when the prior and the constraints have no common point', () => {
    const n = 8;
    const prior = randomPrior(n, 2, 4, { box: { lo: [-0.01, -0.01], hi: [0.01, 0.01] } });
    // Everything in the subspace stays near the mean; ask for a pixel far from it.
    const lo = Array.from(prior.mean), hi = Array.from(prior.mean);
    lo[0] = hi[0] = prior.mean[0] + 0.5 > 1 ? prior.mean[0] - 0.5 : prior.mean[0] + 0.5;
    const rc = resolveConstraints([{ kind: 'box', lo, hi: hi.map((v, i) => (i === 0 ? v : 1)) }], input(n), 0);
    const proj = subspaceProjector(prior, rc);
    expect(() => proj.project(new Float64Array(2), 1)).toThrow(/have no common point/);
  });
});

describe('projectLatent', () => {
  it('projects onto box ∩ Mahalanobis ball: on the ball, and no feasible point is closer', () => {
    const set = { box: { lo: [-1, -5], hi: [1, 5] }, ball: { radius: 2, scale: [1, 2] } };
    const out = new Float64Array(2);
    projectLatent(set, [3, 6], out);
    expect(latentViolation(set, out)).toBeLessThanOrEqual(1e-12);
    expect((out[0] / 1) ** 2 + (out[1] / 2) ** 2).toBeCloseTo(4, 9);
    const d = Math.hypot(out[0] - 3, out[1] - 6);
    for (let a = 0; a < 2 * Math.PI; a += 0.001) {
      const y = [Math.min(1, Math.max(-1, 2 * Math.cos(a))), 4 * Math.sin(a)];
      if ((y[0]) ** 2 + (y[1] / 2) ** 2 <= 4) expect(Math.hypot(y[0] - 3, y[1] - 6)).toBeGreaterThanOrEqual(d - 1e-9);
    }
  });
});

describe('polyhedronProjector', () => {
  it('goes on from a stale working set (rows that no longer bind, rows newly violated) to the cold start\'s projection', () => {
    // A random polyhedron in 6 variables: 40 random halfspaces around the origin and a box.
    let seed = 11;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const k = 6, rows: number[][] = [], h: number[] = [];
    for (let j = 0; j < 40; j++) (rows.push(Array.from({ length: k }, rnd)), h.push(0.5 + Math.abs(rnd())));
    for (let c = 0; c < k; c++) for (const s of [1, -1]) (rows.push(Array.from({ length: k }, (_, i) => (i === c ? s : 0))), h.push(2));
    const poly = { k, q: rows.length, G: Float64Array.from(rows.flat()), h: Float64Array.from(h) };
    const walker = polyhedronProjector(poly), cold = polyhedronProjector(poly);
    const z = new Float64Array(k), zc = new Float64Array(k), warm: number[] = [];
    const point = new Float64Array(k);
    let dualStarts = 0;
    for (let step = 0; step < 400; step++) {
      // Steps of every size: most keep the working set, some add rows, some make rows let go.
      const z0 = Array.from(point, (v) => v + rnd() * (step % 5 === 0 ? 4 : 0.6));
      const before = warm.slice();
      walker.project(z0, z, warm);
      cold.project(z0, zc, []);
      for (let c = 0; c < k; c++) expect(z[c]).toBeCloseTo(zc[c], 10);
      if (before.length && warm.some((j) => !before.includes(j))) dualStarts++;
      point.set(z);
    }
    expect(dualStarts).toBeGreaterThan(20); // the working set really changed along the walk
  });


  it('projects the stored prior\'s 25–75 % cluster boxes\' centres into the union ∩ [0, 1]^784 (once: "dependent active rows")', async () => {
    const model = await loadModel(path.resolve(import.meta.dirname, '../../models/fashion-mnist-mlp'));
    const prior = subspacePrior((await loadDatasetPrior(model)).stored, 32, { clusterBox: [25, 75] });
    const rc = resolveConstraints([{ kind: 'box', lo: 0, hi: 1 }], model.inputs[0], 0);
    const projector = subspaceProjector(prior, rc);
    const boxes = prior.latent.union!.boxes;
    const codes = new Float32Array(boxes.length * 32);
    boxes.forEach((b, j) => codes.set(b.centre, j * 32));
    projector.assign!(boxes.map((_, j) => j));
    projector.project(codes, boxes.length);
    boxes.forEach((_, j) => {
      // In its own box, or (where that box does not meet [0, 1]^784) in the nearest one that does.
      const z = codes.subarray(j * 32, (j + 1) * 32);
      expect(latentViolation(prior.latent, z)).toBeLessThanOrEqual(1e-6);
      const x = subspaceInput(prior, z);
      expect(Math.min(...x)).toBeGreaterThanOrEqual(-1e-5);
      expect(Math.max(...x)).toBeLessThanOrEqual(1 + 1e-5);
    });
    model.dispose();
  });
});
