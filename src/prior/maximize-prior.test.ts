import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { Constraint } from '../constraints/constraint.js';
import { mlp, seeded } from '../exact/test-nets.js';
import { maximize } from '../optimize/maximize.js';
import { addValueWithoutPrior } from './compare.js';
import { subspaceInput, subspaceResidual } from './subspace.js';
import type { DecoderPrior, SubspacePrior } from './types.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const prior: SubspacePrior = {
  type: 'subspace',
  mean: [0.5, 0.4, 0.6, 0.5],
  basis: [0.5, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, -0.5],
  components: 2,
  latent: { box: { lo: [-0.9, -0.5], hi: [0.7, 0.6] } },
  source: 'test',
};
const rnd = seeded(9);
const model = () => mlp(4, [[Array.from({ length: 24 }, rnd), Array.from({ length: 6 }, () => 0.2 * rnd())], [Array.from({ length: 12 }, rnd), [0, 0]]]);

describe('maximize with a data prior', () => {
  it('optimises the code: every answer lies in the prior and the box, the value rises, the run records the prior', async () => {
    const m = model();
    const constraints: Constraint[] = [{ kind: 'prior', prior }];
    const run = await maximize(m, [{ kind: 'logit', index: 0 }, { kind: 'logit', index: 1 }], { constraints, steps: 60, restarts: 3, seed: 1 });
    for (const r of run.results) {
      expect(subspaceResidual(prior, r.input)).toBeLessThanOrEqual(1e-6);
      expect(r.residuals.prior).toBeLessThanOrEqual(1e-6);
      expect(r.residuals.box).toBeLessThanOrEqual(1e-6);
      expect(r.history[r.history.length - 1].value).toBeGreaterThan(r.history[0].value);
    }
    expect(run.prior).toMatchObject({ type: 'subspace', components: 2, latent: 'box' });
    // Honesty: without the prior the search can only do as well or better.
    const opts = { constraints, steps: 60, restarts: 3, seed: 1 };
    await addValueWithoutPrior(m, [{ kind: 'logit', index: 0 }, { kind: 'logit', index: 1 }], opts, run);
    for (const r of run.results) expect(r.withoutPrior!.value).toBeGreaterThanOrEqual(r.value - 1e-4);
    m.dispose();
  });

  it('holds an L∞ ball around a reference at every step, together with the prior', async () => {
    const m = model();
    const ref = Array.from(subspaceInput(prior, [0.3, -0.2]));
    const constraints: Constraint[] = [{ kind: 'prior', prior }, { kind: 'ball', p: 'inf', ref, eps: 0.04 }];
    const worst: number[] = [];
    const run = await maximize(m, { kind: 'logit', index: 0 }, {
      constraints, steps: 40, restarts: 2, seed: 2,
      onStep: ({ x }) => {
        // x holds the codes: render and measure every row.
        for (let r = 0; r < 2; r++) {
          const xin = subspaceInput(prior, x.subarray(r * 2, r * 2 + 2));
          worst.push(Math.max(...xin.map((v, i) => Math.abs(v - ref[i]) - 0.04)));
        }
      },
    });
    expect(Math.max(...worst)).toBeLessThanOrEqual(1e-6);
    expect(run.results[0].residuals.linf).toBeLessThanOrEqual(1e-6);
    m.dispose();
  });

  it('a decoder prior renders G(z) with z kept in its box; levels with a prior is refused in one line', async () => {
    const m = model();
    const g = mlp(2, [[[1, -0.5, 0.3, 0.2, 0.4, 1, -0.2, 0.1], [0.5, 0.4, 0.5, 0.6]]], 'linear');
    const dec: DecoderPrior = { type: 'decoder', decoder: g, latent: { box: { lo: [-0.3, -0.3], hi: [0.3, 0.3] } }, source: 'g' };
    const run = await maximize(m, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior: dec }], steps: 30, restarts: 2, seed: 0 });
    // x = z·W + b (no clipping needed here): solve for z from the first two features, check the rest and the box.
    const x = run.results[0].input;
    const [a, b] = [x[0] - 0.5, x[1] - 0.4]; // a = z0 + 0.4 z1, b = −0.5 z0 + z1
    const z1 = (b + 0.5 * a) / 1.2, z0 = a - 0.4 * z1;
    expect(x[2]).toBeCloseTo(0.5 + 0.3 * z0 - 0.2 * z1, 5);
    expect(x[3]).toBeCloseTo(0.6 + 0.2 * z0 + 0.1 * z1, 5);
    for (const z of [z0, z1]) expect(Math.abs(z)).toBeLessThanOrEqual(0.3 + 1e-5);
    expect(run.prior).toMatchObject({ type: 'decoder', components: 2 });
    await expect(maximize(m, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior }, { kind: 'levels', n: 256 }], steps: 2 })).rejects.toThrow(/levels rounding would leave it/);
    m.dispose();
    g.dispose();
  });
});
