import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { Constraint } from '../constraints/constraint.js';
import { subspaceInput, subspaceResidual } from '../prior/subspace.js';
import type { SubspacePrior } from '../prior/types.js';
import { maximizeExact } from './maximizeExact.js';
import { mlp, seeded } from './test-nets.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A 2-component prior in 4 features: orthonormal rows, mean inside the box. */
const prior: SubspacePrior = {
  type: 'subspace',
  mean: [0.5, 0.4, 0.6, 0.5],
  basis: [0.5, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, -0.5],
  components: 2,
  latent: { box: { lo: [-0.9, -0.5], hi: [0.7, 0.6] } },
  source: 'test',
};

describe('exact mode with a subspace prior', () => {
  it('proves the maximum over {x = mean + Uᵀz, z in the box, x in [0,1]^4} (a fine grid over z agrees) and the answer lies in the prior', async () => {
    const rnd = seeded(5);
    const layers: Array<[number[], number[]]> = [
      [Array.from({ length: 4 * 6 }, rnd), Array.from({ length: 6 }, () => 0.3 * rnd())],
      [Array.from({ length: 6 * 2 }, rnd), [0.1, -0.2]],
    ];
    const model = mlp(4, layers);
    const constraints: Constraint[] = [{ kind: 'prior', prior }];
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 20, warmStart: { steps: 30, restarts: 2 }, method: 'milp' });
    expect(res.status).toBe('optimal');
    // The branch-and-bound takes the lifted problem too (one hidden ReLU layer over the code) and agrees.
    const bnb = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 20, warmStart: { steps: 30, restarts: 2 } });
    expect([bnb.method, bnb.status]).toEqual(['bnb', 'optimal']);
    expect(Math.abs(bnb.value! - res.value!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(res.value!)));
    expect(bnb.residuals.prior).toBeLessThanOrEqual(1e-6);
    // Reference: the best grid point over the same set.
    const forward = (x: Float64Array) => {
      let h = layers[0][1].map((b, j) => Math.max(0, x.reduce((s, v, i) => s + v * layers[0][0][i * 6 + j], b)));
      return h.reduce((s, v, j) => s + v * layers[1][0][j * 2], layers[1][1][0]);
    };
    let best = -Infinity;
    const G = 300;
    for (let a = 0; a <= G; a++) for (let b = 0; b <= G; b++) {
      const z = [-0.9 + (1.6 * a) / G, -0.5 + (1.1 * b) / G];
      const x = subspaceInput(prior, z);
      if (x.every((v) => v >= 0 && v <= 1)) best = Math.max(best, forward(x));
    }
    expect(res.value!).toBeGreaterThanOrEqual(best - 1e-6); // the MILP's feasibility tolerance
    expect(res.value!).toBeLessThanOrEqual(best + 0.02); // grid spacing × a Lipschitz bound
    expect(subspaceResidual(prior, res.input)).toBeLessThanOrEqual(1e-6);
    expect(res.residuals.prior).toBeLessThanOrEqual(1e-6);
    expect(res.input.every((v) => v >= -1e-6 && v <= 1 + 1e-6)).toBe(true);
    expect(res.encoding!.columns).toBeLessThan(40); // two code variables, not four inputs' worth of structure
  });

  it('holds an L∞ ball around a reference as halfspaces on the code', async () => {
    const model = mlp(4, [[[1, -1, 2, 0.5, -1, 1, 0, 1], [0, 0.1]], [[1, -2], [0]]]);
    const ref = Array.from(subspaceInput(prior, [0.2, 0.1]));
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior }, { kind: 'ball', p: 'inf', ref, eps: 0.05 }], timeLimit: 20, warmStart: false });
    expect(res.status).toBe('optimal');
    res.input.forEach((v, i) => expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(0.05 + 1e-6));
    expect(res.residuals.prior).toBeLessThanOrEqual(1e-6);
  });

  it('refuses a Mahalanobis ball and a decoder prior in one line', async () => {
    const model = mlp(4, [[[1, -1, 2, 0.5, -1, 1, 0, 1], [0, 0.1]], [[1, -2], [0]]]);
    const ball: SubspacePrior = { ...prior, latent: { ball: { radius: 1, scale: [1, 1] } } };
    await expect(maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior: ball }], warmStart: false })).rejects.toThrow(/Mahalanobis ball on the prior's code \(it is not linear\)/);
    const decoder = mlp(2, [[[1, 0, 0, 1, 1, 0, 0, 1], [0, 0, 0, 0]]], 'linear');
    await expect(
      maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior: { type: 'decoder', decoder, latent: { box: { lo: [-1, -1], hi: [1, 1] } }, source: 'g' } }], warmStart: false }),
    ).rejects.toThrow(/exact mode cannot use a decoder prior/);
  });
});
