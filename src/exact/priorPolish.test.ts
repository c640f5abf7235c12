import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { Constraint } from '../constraints/constraint.js';
import type { ActmaxModel } from '../model/types.js';
import { maximize } from '../optimize/maximize.js';
import { latentViolation, subspaceInput } from '../prior/subspace.js';
import type { DecoderPrior, SubspacePrior } from '../prior/types.js';
import { extractNetwork, forwardValues } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';
import { polishCodes } from './priorPolish.js';
import { bundledPrior, mlp, seeded } from './test-nets.js';

let model: ActmaxModel;
let prior: SubspacePrior;

beforeAll(async () => {
  await useBackend('cpu');
  ({ model, prior } = await bundledPrior());
}, 60_000);

/** The logit of `index` at input x, in float64 through the model's own (unlifted) network. */
function logitAt(x: ArrayLike<number>, index: number): number {
  const net = extractNetwork(model);
  return exactObjectiveValue(exactObjective(model, net, { kind: 'logit', index }), forwardValues(net, Float64Array.from(x)));
}

describe('the polish of codes under a subspace prior', () => {
  it('raises a cluster centre of the bundled prior to a code of a box whose picture stays in [0, 1], with the value it reports', async () => {
    const union = prior.latent.union!.boxes;
    const specs = [2, 6].map((index) => ({ kind: 'logit', index }) as const);
    // The centre of the first cluster of each class (the union's boxes carry their class).
    const codes = specs.map((s) => union.find((b) => b.label === s.index)!.centre);
    const { improved, summary } = await polishCodes(model, specs, codes, { constraints: [{ kind: 'prior', prior }, { kind: 'box', lo: 0, hi: 1 }] });
    expect(summary.applied).toBe(true);
    for (const [t, spec] of specs.entries()) {
      const z = improved[t]!;
      const r = summary.targets[t];
      expect(z).not.toBeNull();
      expect(r.after!).toBeGreaterThan(r.before! + 0.5);
      expect(latentViolation(prior.latent, z)).toBeLessThanOrEqual(1e-9);
      const x = subspaceInput(prior, z);
      expect(Math.min(...x)).toBeGreaterThanOrEqual(-1e-6);
      expect(Math.max(...x)).toBeLessThanOrEqual(1 + 1e-6);
      // The value is the model's logit at the rendered picture, and never above the proven maximum.
      expect(logitAt(x, spec.index)).toBeCloseTo(r.after!, 6);
      expect(r.before!).toBeCloseTo(logitAt(subspaceInput(prior, codes[t]), spec.index), 6);
    }
    // Pullover's maximum under this prior, proven by `exact` (BENCHMARKS.md): 13.1995.
    expect(summary.targets[0].after!).toBeLessThanOrEqual(13.2);
  }, 60_000);

  it('lifts gradient search under the bundled prior: every answer rises or stays, and stays in the prior set', async () => {
    const targets = [2, 4].map((index) => ({ kind: 'logit', index }) as const);
    const constraints: Constraint[] = [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior }];
    const opts = { steps: 40, restarts: 3, seed: 0, constraints };
    const [plain, polished] = [await maximize(model, targets, { ...opts, polish: false }), await maximize(model, targets, opts)];
    expect(plain.polish).toBeUndefined();
    expect(polished.polish?.applied).toBe(true);
    for (const [t, r] of polished.results.entries()) {
      expect(r.value).toBeGreaterThanOrEqual(plain.results[t].value - 1e-4);
      expect(r.residuals.prior).toBeLessThanOrEqual(1e-4);
      expect(r.residuals.box).toBeLessThanOrEqual(1e-5);
      // The engine's float32 value of the polished picture is the polish's float64 one.
      expect(r.value).toBeCloseTo(polished.polish!.targets[t].after!, 3);
    }
    expect(polished.results.some((r, t) => r.value > plain.results[t].value + 0.1)).toBe(true);
  }, 120_000);

  it('says in one line why it does not apply: a decoder, a ball on the code, several optimised inputs', async () => {
    const rnd = seeded(3);
    const g = mlp(2, [[Array.from({ length: 8 }, rnd), [0, 0, 0, 0]]]);
    const small = mlp(4, [[Array.from({ length: 12 }, rnd), [0, 0, 0]], [Array.from({ length: 6 }, rnd), [0, 0]]]);
    const decoder: DecoderPrior = { type: 'decoder', decoder: g, latent: { box: { lo: [-1, -1], hi: [1, 1] } }, source: 'g' };
    const spec = [{ kind: 'logit', index: 0 }] as const;
    const d = await polishCodes(small, [...spec], [[0, 0]], { constraints: [{ kind: 'prior', prior: decoder }] });
    expect(d.summary).toMatchObject({ applied: false, reason: expect.stringMatching(/decoder is not piecewise-linear/) });
    const ball: SubspacePrior = { type: 'subspace', mean: [0.5, 0.5, 0.5, 0.5], basis: [0.5, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, -0.5], components: 2, latent: { ball: { radius: 1, scale: [1, 1] } }, source: 'b' };
    const b = await polishCodes(small, [...spec], [[0, 0]], { constraints: [{ kind: 'prior', prior: ball }] });
    expect(b.summary).toMatchObject({ applied: false, reason: expect.stringMatching(/Mahalanobis ball/) });
    expect(b.improved).toEqual([null]);
    const two = await polishCodes(small, [...spec], [[0, 0]], { constraints: [{ kind: 'prior', prior: ball }], optimize: [0, 1] });
    expect(two.summary.reason).toMatch(/one optimised input/);
  });
});
