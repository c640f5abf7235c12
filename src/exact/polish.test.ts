import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { maximize } from '../optimize/maximize.js';
import { oracleMaximum } from './bruteforce.js';
import { extractNetwork, forwardValues } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';
import { polishAnswers } from './polish.js';
import { mlp, randomLayers } from './test-nets.js';

beforeAll(async () => {
  await useBackend('cpu');
});


describe('polish by region LPs', () => {
  it('takes a poor start to the maximum over all activation patterns (12-8-3 network), in worker threads', async () => {
    const ls = randomLayers([12, 8, 3], 11);
    const model = mlp(12, ls);
    const net = extractNetwork(model);
    const specs = [0, 1, 2].map((index) => ({ kind: 'logit', index }) as const);
    const start = new Array(12).fill(0.5);
    const { improved, summary } = await polishAnswers(model, specs, specs.map(() => start), { threads: 2 });
    expect(summary.applied).toBe(true);
    for (const [t, spec] of specs.entries()) {
      const truth = await oracleMaximum({ layers: ls, inputs: 12, lo: new Array(12).fill(0), hi: new Array(12).fill(1), objective: { kind: 'logit', index: spec.index } });
      const r = summary.targets[t];
      expect(r.after!).toBeGreaterThanOrEqual(r.before!);
      // The oracle's one-shot LPs run at HiGHS's default tolerance (1e-7): they may overshoot a hair.
      expect(r.after!).toBeLessThanOrEqual(truth + 1e-6 * Math.max(1, Math.abs(truth)));
      expect(Math.abs(r.after! - truth)).toBeLessThan(1e-6 * Math.max(1, Math.abs(truth)));
      // The improved input really has that value, and stays in the box.
      const x = improved[t] ?? Float64Array.from(start);
      expect(exactObjectiveValue(exactObjective(model, net, spec), forwardValues(net, x))).toBeCloseTo(r.after!, 12);
      expect(Array.from(x).every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });

  it('is maximize\'s end-of-run step: never lowers a value, reported in the result, and off on request', async () => {
    const model = mlp(30, randomLayers([30, 16, 4], 12), 'softmax');
    const targets = [0, 1, 2, 3].map((index) => ({ kind: 'logit', index }) as const);
    const off = await maximize(model, targets, { steps: 30, restarts: 2, polish: false });
    const on = await maximize(model, targets, { steps: 30, restarts: 2 });
    expect(off.polish).toBeUndefined();
    expect(on.polish!.applied).toBe(true);
    on.results.forEach((r, t) => {
      expect(r.value).toBeGreaterThanOrEqual(off.results[t].value - 1e-5);
      expect(on.polish!.targets[t].after!).toBeGreaterThanOrEqual(on.polish!.targets[t].before!);
    });
    // Same seed ⇒ same answer, polish included (its budget counts LPs, not seconds).
    const again = await maximize(model, targets, { steps: 30, restarts: 2 });
    expect(again.results.map((r) => r.value)).toEqual(on.results.map((r) => r.value));
  });

  it('says why it does not apply: two hidden layers, a margin', async () => {
    const deep = await maximize(mlp(6, randomLayers([6, 5, 5, 2], 13)), { kind: 'logit', index: 0 }, { steps: 5, restarts: 1 });
    expect(deep.polish!.applied).toBe(false);
    expect(deep.polish!.reason).toMatch(/more than one hidden layer/);
    const margin = await maximize(mlp(6, randomLayers([6, 5, 3], 14)), [{ kind: 'margin', index: 0 }, { kind: 'logit', index: 1 }], { steps: 5, restarts: 1 });
    expect(margin.polish!.targets[0].skipped).toMatch(/margin/);
    expect(margin.polish!.targets[1].skipped).toBeNull();
  });
});
