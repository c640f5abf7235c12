import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { resolveConstraints } from '../constraints/resolve.js';
import type { ActmaxModel } from '../model/types.js';
import { latentViolation, subspaceCode } from '../prior/subspace.js';
import { maximizeExact } from './maximizeExact.js';
import type { SubspacePrior } from '../prior/types.js';
import { loadHighsHere } from './highs-here.js';
import { joinInputConstraints } from './inputs.js';
import { extractNetwork, forwardValues } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';
import { CodePolytope } from './polytopeBound.js';
import { liftUnion, unionPriors } from './union.js';
import { polishBoxes, polytopeBounds } from './unionBounds.js';
import { bundledPrior } from './test-nets.js';

let model: ActmaxModel;
let prior: SubspacePrior;

beforeAll(async () => {
  await useBackend('cpu');
  ({ model, prior } = await bundledPrior(32, { clusterBox: [5, 95] }));
}, 60_000);

describe("the union's first incumbent (bundled model, dataset:subspace:32:clusters=5-95)", () => {
  // Proven by `exact --prior dataset:subspace:32:clusters=5-95` (BENCHMARKS.md): Trouser 13.5585 (its box ranks
  // 39th of 100 by bound), Dress 10.4099 (22nd). Polishing the 20 boxes of largest bound gave 12.69 and 10.18.
  for (const [index, maximum] of [[1, 13.5585], [3, 10.4099]] as const) {
    it(`logit:${index}: polishing the boxes whose LP maximisers score highest finds the proven maximum ${maximum}`, async () => {
      const parts = [resolveConstraints([{ kind: 'prior', prior }, { kind: 'box', lo: 0, hi: 1 }], model.inputs[0], 0)];
      const net = extractNetwork(model);
      const spec = { kind: 'logit', index } as const;
      const boxes = liftUnion({ model, spec, net, rc: joinInputConstraints(parts) }, unionPriors(parts)!, 'auto');
      const highs = await loadHighsHere();
      const poly = new CodePolytope(highs, boxes[0].rows);
      try {
        const fromLps = polytopeBounds(poly, boxes, () => -Infinity, 60, () => 0)!;
        const found = polishBoxes(highs, boxes, () => fromLps.value, 60, () => 0)!;
        expect(found.value).toBeGreaterThan(fromLps.value);
        expect(found.value).toBeCloseTo(maximum, 4);
        // A point of the prior's set, whose value is the model's logit there.
        const x = boxes[found.box].problem.toInput(found.x);
        expect(Math.min(...x)).toBeGreaterThanOrEqual(-1e-7);
        expect(Math.max(...x)).toBeLessThanOrEqual(1 + 1e-7);
        const z = found.x.subarray(0, prior.components);
        expect(latentViolation(prior.latent, z)).toBeLessThanOrEqual(1e-9);
        expect(exactObjectiveValue(exactObjective(model, net, spec), forwardValues(net, x))).toBeCloseTo(found.value, 6);
      } finally {
        poly.dispose();
      }
    }, 60_000);
  }
});

describe('exact over the default code set (bundled model, dataset:subspace:32: 500 boxes around the clusters\' core examples)', () => {
  it('proves Ankle boot\'s maximum 15.0968 (BENCHMARKS.md) with most boxes closed by their bounds; the answer lies in one of the boxes', async () => {
    const { prior: cores } = await bundledPrior();
    expect(cores.latent.union!.boxes).toHaveLength(500);
    const r = await maximizeExact(model, { kind: 'logit', index: 9 }, { constraints: [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior: cores }], timeLimit: 120 });
    expect(r.status).toBe('optimal');
    expect(r.value!).toBeCloseTo(15.0968, 3);
    expect(r.union!.pruned).toBeGreaterThan(400);
    expect(r.residuals.prior).toBeLessThanOrEqual(1e-6);
    expect(latentViolation(cores.latent, subspaceCode(cores, r.input))).toBeLessThan(1e-6);
  }, 180_000);
});
