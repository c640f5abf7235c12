import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { resolveConstraints } from '../constraints/index.js';
import { latentViolation, subspaceCode, subspaceInput } from '../prior/subspace.js';
import type { SubspacePrior } from '../prior/types.js';
import { maximizeExact } from './maximizeExact.js';
import { loadHighsHere } from './highs-here.js';
import { joinInputConstraints } from './inputs.js';
import { extractNetwork } from './network.js';
import { CodePolytope } from './polytopeBound.js';
import { liftUnion, unionPriors, unionTuning } from './union.js';
import { polishBoxes, polytopeBounds } from './unionBounds.js';
import { mlp, orthonormalRows, seeded } from './test-nets.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A K-component prior in n features (orthonormal rows by Gram–Schmidt) on a union of `count` random boxes. */
function randomUnionPrior(rnd: () => number, n: number, k: number, count: number): SubspacePrior {
  const rows = orthonormalRows(rnd, n, k);
  const boxes = Array.from({ length: count }, () => {
    const centre = Array.from({ length: k }, () => 0.6 * rnd());
    const half = Array.from({ length: k }, () => 0.1 + 0.3 * Math.abs(rnd()));
    return { lo: centre.map((c, i) => c - half[i]), hi: centre.map((c, i) => c + half[i]), centre };
  });
  return { type: 'subspace', mean: Array(n).fill(0.5), basis: rows.flat(), components: k, latent: { union: { boxes, percentiles: [10, 90] } }, source: 'test' };
}

/** A random 6-input net with 10 hidden units and a 3-component prior on a union of 5 boxes, in [0,1]^6. */
function randomUnionCase(seed: number) {
  const rnd = seeded(seed);
  const n = 6, hidden = 10;
  const model = mlp(n, [
    [Array.from({ length: n * hidden }, rnd), Array.from({ length: hidden }, () => 0.3 * rnd())],
    [Array.from({ length: hidden * 2 }, rnd), [0.1, -0.2]],
  ]);
  const constraints = [{ kind: 'box' as const, lo: 0, hi: 1 }, { kind: 'prior' as const, prior: randomUnionPrior(rnd, n, 3, 5) }];
  return { model, constraints };
}

describe('exact mode over a union of code boxes', () => {
  for (const seed of [1, 2, 3]) {
    it(`random net ${seed}: the union's answer equals the largest per-box MILP answer, and no sampled point of the set beats its bound`, async () => {
      const rnd = seeded(seed);
      const n = 6, hidden = 8;
      const layers: Array<[number[], number[]]> = [
        [Array.from({ length: n * hidden }, rnd), Array.from({ length: hidden }, () => 0.3 * rnd())],
        [Array.from({ length: hidden * 2 }, rnd), [0.1, -0.2]],
      ];
      const model = mlp(n, layers);
      const prior = randomUnionPrior(rnd, n, 3, 4);
      const box = { kind: 'box' as const, lo: 0, hi: 1 };
      const union = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [box, { kind: 'prior', prior }], timeLimit: 20, warmStart: { steps: 30, restarts: 2 } });
      const per: number[] = [];
      for (const b of prior.latent.union!.boxes) {
        const one: SubspacePrior = { ...prior, latent: { box: { lo: b.lo, hi: b.hi } } };
        const r = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [box, { kind: 'prior', prior: one }], timeLimit: 20, warmStart: false, method: 'milp' });
        if (r.status === 'infeasible') continue;
        expect(r.status).toBe('optimal');
        per.push(r.value!);
      }
      const best = Math.max(...per);
      // Boxes whose pixel rows bind are solved as the compact MILP (the branch-and-bound's SDP sees the code box only).
      expect(union.status).toBe('optimal');
      expect(Math.abs(union.value! - best)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(best)));
      const info = union.union!;
      expect([info.total, info.open.length, info.pruned + info.solved]).toEqual([4, 0, 4]);
      expect(union.residuals.prior).toBeLessThanOrEqual(1e-6);
      expect(union.input.every((v) => v >= -1e-6 && v <= 1 + 1e-6)).toBe(true);
      // Sampled points of the set (a box's code, x in the pixel box) never beat the proven bound.
      const forward = (x: Float64Array) => {
        const h = layers[0][1].map((c, j) => Math.max(0, x.reduce((s, v, i) => s + v * layers[0][0][i * hidden + j], c)));
        return h.reduce((s, v, j) => s + v * layers[1][0][j * 2], layers[1][1][0]);
      };
      let sampled = 0;
      for (let t = 0; t < 4000; t++) {
        const b = prior.latent.union!.boxes[t % 4];
        const z = b.lo.map((l, c) => l + (b.hi[c] - l) * (0.5 + 0.5 * rnd()));
        const x = subspaceInput(prior, z);
        if (!x.every((v) => v >= 0 && v <= 1) || latentViolation(prior.latent, z) > 0) continue;
        sampled++;
        expect(forward(x)).toBeLessThanOrEqual(union.upperBound! + 1e-9);
      }
      expect(sampled).toBeGreaterThan(100);
    });
  }

  it('every box tightened before its MILP (its units\' ranges by LP where the objective reaches the incumbent) gives the same proven maximum as none', async () => {
    for (const seed of [4, 5]) {
      const { model, constraints } = randomUnionCase(seed);
      const plain = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, timeLimit: 20, warmStart: false, tighten: false });
      expect(plain.status).toBe('optimal');
      expect(plain.union!.tightened).toBe(0);
      const saved = { ...unionTuning };
      // After a quick try of no time at all; and at once (every box far from the incumbent, the warm start's).
      for (const tuning of [{ quickTry: 0 }, { farGap: 0 }]) {
        Object.assign(unionTuning, tuning);
        try {
          const tight = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, timeLimit: 20, warmStart: { steps: 30, restarts: 2 } });
          expect(tight.status).toBe('optimal');
          expect(tight.union!.tightened).toBeGreaterThan(0);
          expect(Math.abs(tight.value! - plain.value!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(plain.value!)));
          expect(tight.residuals.prior).toBeLessThanOrEqual(1e-6);
        } finally {
          Object.assign(unionTuning, saved);
        }
      }
    }
  });

  it('by default no gradient search runs: the polished LP maximisers of the boxes are the incumbents, and the proven maximum is the one found with a warm start', async () => {
    for (const seed of [6, 7]) {
      const { model, constraints } = randomUnionCase(seed);
      const warm = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 20, warmStart: { steps: 30, restarts: 2 } });
      const plain = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 20 });
      expect([warm.status, plain.status]).toEqual(['optimal', 'optimal']);
      expect(warm.warmStartValue).not.toBeNull();
      expect(plain.warmStartValue).toBeNull();
      expect(Math.abs(plain.value! - warm.value!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(warm.value!)));
      expect(plain.residuals.prior).toBeLessThanOrEqual(1e-6);
    }
  });

  it('polishing the boxes\' LP maximisers: a point of its box\'s set, at least as good as the best LP maximiser, never above the proven maximum', async () => {
    let better = 0;
    for (const seed of [6, 7, 8]) {
      const { model, constraints } = randomUnionCase(seed);
      const parts = [resolveConstraints(constraints, model.inputs[0], 0)];
      const rc = joinInputConstraints(parts);
      const priors = unionPriors(parts)!;
      const boxes = liftUnion({ model, spec: { kind: 'logit', index: 0 }, net: extractNetwork(model), rc }, priors, 'auto');
      const highs = await loadHighsHere();
      const poly = new CodePolytope(highs, boxes[0].rows);
      const lpBest = polytopeBounds(poly, boxes, () => -Infinity, 60, () => 0);
      poly.dispose();
      const found = polishBoxes(highs, boxes, () => -Infinity, 60, () => 0)!;
      expect(found).not.toBeNull();
      expect(found.value).toBeGreaterThanOrEqual(lpBest!.value - 1e-12);
      if (found.value > lpBest!.value + 1e-9) better++;
      const box = boxes[found.box];
      const x = box.problem.toInput(found.x);
      expect(Array.from(x).every((v) => v >= -1e-7 && v <= 1 + 1e-7)).toBe(true);
      expect(latentViolation(priors[found.box].latent, subspaceCode(priors[found.box], x))).toBeLessThanOrEqual(1e-7);
      const proven = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 20, warmStart: false });
      expect(proven.status).toBe('optimal');
      expect(found.value).toBeLessThanOrEqual(proven.value! + 1e-9);
    }
    // The polish moves off the LP maximisers somewhere.
    expect(better).toBeGreaterThan(0);
  });

  it('cold (no warm start) and on the MILP route it finds the same maximum', async () => {
    const rnd = seeded(9);
    const layers: Array<[number[], number[]]> = [
      [Array.from({ length: 6 * 8 }, rnd), Array.from({ length: 8 }, () => 0.3 * rnd())],
      [Array.from({ length: 8 * 2 }, rnd), [0.1, -0.2]],
    ];
    const model = mlp(6, layers);
    const prior = randomUnionPrior(rnd, 6, 3, 3);
    const constraints = [{ kind: 'box' as const, lo: 0, hi: 1 }, { kind: 'prior' as const, prior }];
    const bnb = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, timeLimit: 20, warmStart: false });
    const milp = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, timeLimit: 20, warmStart: false, method: 'milp' });
    // Forced to the branch-and-bound, every box goes through its tree (with the polytope bounds as caps).
    const tree = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, timeLimit: 20, warmStart: false, method: 'bnb' });
    expect([bnb.status, milp.status, milp.method, tree.status, tree.method]).toEqual(['optimal', 'optimal', 'milp', 'optimal', 'bnb']);
    expect(Math.abs(bnb.value! - milp.value!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(milp.value!)));
    expect(Math.abs(tree.value! - milp.value!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(milp.value!)));
  });
});
