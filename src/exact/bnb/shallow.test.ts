import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backend.js';
import { resolveConstraints } from '../../constraints/index.js';
import { extractNetwork, forwardValues } from '../network.js';
import { exactObjective, exactObjectiveValue } from '../objective.js';
import { mlp, seeded, wrap } from '../test-nets.js';
import { shallowInput, shallowProblem, shallowValue } from './shallow.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function layers(widths: number[], seed: number, biasScale = 0.5): Array<[number[], number[]]> {
  const rnd = seeded(seed);
  const out: Array<[number[], number[]]> = [];
  for (let l = 1; l < widths.length; l++) out.push([Array.from({ length: widths[l - 1] * widths[l] }, rnd), Array.from({ length: widths[l] }, () => rnd() * biasScale)]);
  return out;
}

describe('shallowProblem', () => {
  it('reproduces the network objective at random points of a box with a fixed feature, and drops stable units', async () => {
    const model = mlp(5, layers([5, 12, 3], 3), 'softmax', [-1, 1]);
    const net = extractNetwork(model);
    // Feature 2 is pinned to 0.25; the box is [-1, 1] elsewhere.
    const rc = resolveConstraints([{ kind: 'box', lo: [-1, -1, 0.25, -1, -1], hi: [1, 1, 0.25, 1, 1] }], model.inputs[0], 0);
    const obj = exactObjective(model, net, { kind: 'logit', index: 1 });
    const r = shallowProblem(net, obj, rc);
    if (!('problem' in r)) throw new Error(r.reason);
    const p = r.problem;
    expect(p.n).toBe(4);
    expect(p.m).toBeLessThanOrEqual(12);
    const rnd = seeded(9);
    for (let t = 0; t < 200; t++) {
      const s = Float64Array.from({ length: p.n }, () => (rnd() + 1) / 2);
      const x = shallowInput(p, s);
      expect(x[2]).toBe(0.25);
      const ref = exactObjectiveValue(obj, forwardValues(net, x));
      expect(Math.abs(shallowValue(p, s) - ref)).toBeLessThan(1e-12 * Math.max(1, Math.abs(ref)));
    }
  });

  it('folds a LeakyReLU into a linear part plus a ReLU unit', async () => {
    const rnd = seeded(21);
    const seq = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 6 }), tf.layers.leakyReLU({ alpha: 0.2 }), tf.layers.dense({ units: 2, name: 'out' })] });
    for (const layer of seq.layers) {
      const ws = layer.getWeights();
      if (ws.length) layer.setWeights(ws.map((w) => tf.tensor(Float32Array.from({ length: w.size }, rnd), w.shape)));
    }
    const model = wrap(seq);
    const net = extractNetwork(model);
    const rc = resolveConstraints([], model.inputs[0], 0);
    const obj = exactObjective(model, net, { kind: 'logit', index: 0 });
    const r = shallowProblem(net, obj, rc);
    if (!('problem' in r)) throw new Error(r.reason);
    for (let t = 0; t < 100; t++) {
      const s = Float64Array.from({ length: 3 }, () => (rnd() + 1) / 2);
      const ref = exactObjectiveValue(obj, forwardValues(net, shallowInput(r.problem, s)));
      expect(shallowValue(r.problem, s)).toBeCloseTo(ref, 10);
    }
  });

  it('says why it does not apply: two hidden layers, a margin, an L1 ball, levels', async () => {
    const deep = mlp(3, layers([3, 4, 4, 2], 5));
    const dnet = extractNetwork(deep);
    const rc = resolveConstraints([], deep.inputs[0], 0);
    const r1 = shallowProblem(dnet, exactObjective(deep, dnet, { kind: 'logit', index: 0 }), rc);
    expect('reason' in r1 && r1.reason).toMatch(/more than one hidden layer/);
    const model = mlp(3, layers([3, 4, 2], 6));
    const net = extractNetwork(model);
    expect((shallowProblem(net, exactObjective(model, net, { kind: 'margin', index: 0 }), rc) as { reason: string }).reason).toMatch(/margin/);
    const l1 = resolveConstraints([{ kind: 'ball', ref: [0.5, 0.5, 0.5], eps: 0.3, p: 1 }], model.inputs[0], 0);
    expect((shallowProblem(net, exactObjective(model, net, { kind: 'logit', index: 0 }), l1) as { reason: string }).reason).toMatch(/L1/);
    const lv = resolveConstraints([{ kind: 'levels', n: 4 }], model.inputs[0], 0);
    expect((shallowProblem(net, exactObjective(model, net, { kind: 'logit', index: 0 }), lv) as { reason: string }).reason).toMatch(/discrete/);
  });
});
