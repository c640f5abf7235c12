import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backend.js';
import type { Constraint } from '../../constraints/constraint.js';
import { subspaceInput, subspaceResidual } from '../../prior/subspace.js';
import type { SubspacePrior } from '../../prior/types.js';
import { maximizeExact } from '../maximizeExact.js';
import { mlp, seeded, randomLayers } from '../test-nets.js';

/**
 * The branch-and-bound on problems lifted to a subspace prior's code (src/exact/prior.ts): the
 * variables are the code z in a box, the input x = mean + Uᵀz is a linear layer, and the input
 * box becomes halfspaces on z. On seeded random networks and priors it must agree with the MILP
 * on the same lifted problem, its bound must hold at every sampled point of the prior's set, and
 * its answer must lie in that set.
 */

beforeAll(async () => {
  await useBackend('cpu');
});


/** K orthonormal directions in n features (Gram–Schmidt on seeded random vectors), a mean inside the box, a code box wide enough that the input box cuts it. */
function randomPrior(n: number, k: number, seed: number, halfWidth: number): SubspacePrior {
  const rnd = seeded(seed);
  const rows: number[][] = [];
  while (rows.length < k) {
    const v = Array.from({ length: n }, rnd);
    for (const u of rows) {
      const d = u.reduce((s, ui, i) => s + ui * v[i], 0);
      for (let i = 0; i < n; i++) v[i] -= d * u[i];
    }
    const nr = Math.hypot(...v);
    rows.push(v.map((x) => x / nr));
  }
  const mean = Array.from({ length: n }, () => 0.5 + 0.2 * rnd());
  return {
    type: 'subspace', mean, basis: rows.flat(), components: k,
    latent: { box: { lo: Array.from({ length: k }, () => -halfWidth), hi: Array.from({ length: k }, () => halfWidth) } },
    source: 'test',
  };
}

/** The network's logit `index` at x in float64 (one hidden ReLU layer, linear output). */
function forward(ls: Array<[number[], number[]]>, x: ArrayLike<number>, index: number): number {
  const [[W1, b1], [W2, b2]] = ls;
  const hidden = b1.length, outs = b2.length;
  let f = b2[index];
  for (let j = 0; j < hidden; j++) {
    let h = b1[j];
    for (let i = 0; i < x.length; i++) h += x[i] * W1[i * hidden + j];
    if (h > 0) f += h * W2[j * outs + index];
  }
  return f;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

describe('branch-and-bound over a subspace prior\'s code = MILP on the same lifted problem', () => {
  it.each([
    { n: 16, hidden: 12, k: 3, seed: 11, index: 0, halfWidth: 1.2 },
    { n: 24, hidden: 10, k: 4, seed: 12, index: 2, halfWidth: 1.5 },
    { n: 12, hidden: 14, k: 2, seed: 13, index: 1, halfWidth: 2 },
  ])('$n-$hidden-3 net, K = $k, logit:$index', async ({ n, hidden, k, seed, index, halfWidth }) => {
    const ls = randomLayers([n, hidden, 3], seed);
    const model = mlp(n, ls);
    const prior = randomPrior(n, k, seed + 100, halfWidth);
    const constraints: Constraint[] = [{ kind: 'prior', prior }];
    const spec = { kind: 'logit', index } as const;
    const bnb = await maximizeExact(model, spec, { method: 'bnb', threads: 0, constraints, timeLimit: 60, warmStart: false });
    const milp = await maximizeExact(model, spec, { method: 'milp', constraints, timeLimit: 60, warmStart: false });
    expect([bnb.method, bnb.status]).toEqual(['bnb', 'optimal']);
    expect([milp.method, milp.status]).toEqual(['milp', 'optimal']);
    expect(rel(bnb.value!, milp.value!)).toBeLessThan(2e-6);
    // Each proof bounds the other's answer.
    expect(bnb.upperBound!).toBeGreaterThanOrEqual(milp.value! - 1e-6 * Math.max(1, Math.abs(milp.value!)));
    expect(milp.upperBound!).toBeGreaterThanOrEqual(bnb.value! - 1e-6 * Math.max(1, Math.abs(bnb.value!)));
    // The answer is in the prior's set: on the subspace, its code in the box, every feature in [0, 1].
    expect(subspaceResidual(prior, bnb.input)).toBeLessThanOrEqual(1e-6);
    expect(bnb.residuals.prior).toBeLessThanOrEqual(1e-6);
    expect(bnb.input.every((v) => v >= -1e-7 && v <= 1 + 1e-7)).toBe(true);
    expect(rel(forward(ls, bnb.input, index), bnb.value!)).toBeLessThan(1e-6);
    // Soundness: no sampled point of the prior's set beats the proven bound (nor the optimum).
    const rnd = seeded(seed + 200);
    let sampled = 0, best = -Infinity;
    for (let t = 0; t < 4000; t++) {
      const z = Array.from({ length: k }, () => rnd() * halfWidth);
      const x = subspaceInput(prior, z);
      if (!x.every((v) => v >= 0 && v <= 1)) continue;
      sampled++;
      best = Math.max(best, forward(ls, x, index));
    }
    expect(sampled).toBeGreaterThan(50);
    expect(sampled).toBeLessThan(4000); // the input box cuts the code box: the halfspaces matter
    expect(best).toBeLessThanOrEqual(bnb.upperBound! + 1e-9);
    expect(best).toBeLessThanOrEqual(bnb.value! + 1e-6 * Math.max(1, Math.abs(bnb.value!)));
  });
});
