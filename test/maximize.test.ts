import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import type { ActmaxModel } from '../src/model/types.js';
import { maximize } from '../src/optimize/maximize.js';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { channel, direction, layerEnergy, logit, margin, neuron, prob, target, totalVariation } from '../src/objectives/objective.js';
import type { Constraint } from '../src/constraints/constraint.js';
import { resolveConstraints, residuals } from '../src/constraints/index.js';
import { BUNDLED, smallCnn } from './helpers.js';

let model: ActmaxModel;
beforeAll(async () => {
  await useBackend('wasm');
  model = await loadModel(BUNDLED);
});

function example(k = 0): number[] {
  // A deterministic, non-trivial reference image.
  return Array.from({ length: 784 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.37 + k));
}

describe('logit objective', () => {
  it('equals the pre-softmax value computed by hand from the weights', async () => {
    const x = Float32Array.from(example(1));
    const [w1, b1, w2, b2] = (model.net as tf.LayersModel).getWeights().map((w) => w.arraySync() as number[] | number[][]);
    const h = (b1 as number[]).map((b, j) => Math.max(0, b + x.reduce((s, xi, i) => s + xi * (w1 as number[][])[i][j], 0)));
    const z = (b2 as number[]).map((b, k) => b + h.reduce((s, hj, j) => s + hj * (w2 as number[][])[j][k], 0));
    for (const k of [0, 3, 9]) {
      const engine = await createTfjsEngine({ model, targets: [logit(k).spec], rowsPerTarget: 1, optimize: [0], fixed: new Map() });
      const { values, outputs } = await engine.evaluate([x]);
      engine.dispose();
      expect(Math.abs(values[0] - z[k])).toBeLessThan(1e-4 * Math.max(1, Math.abs(z[k])));
      // And the model's own output is the softmax of those logits.
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      expect(outputs[0][k]).toBeCloseTo(e[k] / e.reduce((a, b) => a + b), 5);
    }
  });
});

describe('every objective rises', () => {
  const cnn = smallCnn();
  const cases: Array<[string, () => ActmaxModel, Parameters<typeof maximize>[1]]> = [
    ['logit', () => model, logit(2)],
    ['prob', () => model, prob(4)],
    ['margin', () => model, margin(6)],
    ['target', () => model, target(3, 25)],
    ['neuron', () => model, neuron('dense', 7)],
    ['layerEnergy', () => model, layerEnergy('dense')],
    ['direction', () => model, direction('dense', Array.from({ length: 128 }, (_, i) => Math.cos(i)))],
    ['weighted sum', () => model, logit(3).minus(logit(5).times(0.5))],
    ['channel (conv)', () => cnn, channel('conv', 3)],
    ['neuron at a position (conv)', () => cnn, neuron('conv', [2, 3, 3])],
    ['logit minus total variation (conv)', () => cnn, logit(1).minus(totalVariation().times(0.1))],
  ];
  for (const [name, m, objective] of cases) {
    it(name, async () => {
      // Conv units can be dead at a constant input (ReLU): start those from a random image.
      const init = m() === model ? { constant: 0.5 } : 'random';
      const res = await maximize(m(), objective, { steps: 30, restarts: 1, seed: 3, init, schedule: 'constant', lr: 0.01 });
      const h = res.results[0].history;
      expect(h.length).toBeGreaterThan(2);
      expect(res.results[0].value).toBeGreaterThan(h[0].value + 1e-6);
    });
  }
});

describe('constraints hold after every step', () => {
  const ref = example(2);
  const editable = ref.map((_, i) => i % 3 !== 0);
  const groups = [10, 11, 12, 13];
  const a = ref.map((_, i) => (i % 2 ? 1 : -0.5));
  // A budget the reference breaks by 10: reachable inside the L2 ball of radius 2 (‖a‖ ≈ 22).
  const budget = a.reduce((s, ai, i) => s + ai * ref[i], 0) - 10;
  const sets: Array<[string, Constraint[]]> = [
    ['box', [{ kind: 'box', lo: 0.2, hi: 0.7 }]],
    ['per-feature box', [{ kind: 'box', lo: ref.map((v) => v - 0.1), hi: ref.map((v) => v + 0.05) }]],
    ['box ∩ L∞ ball', [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'ball', ref, eps: 0.05, p: 'inf' }]],
    ['box ∩ L2 ball', [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'ball', ref, eps: 1.5, p: 2 }]],
    ['box ∩ L1 ball', [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'ball', ref, eps: 4, p: 1 }]],
    ['box ∩ halfspace', [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'linear', a, b: 20 }]],
    ['mask', [{ kind: 'mask', editable, ref }]],
    ['one-hot group', [{ kind: 'oneHot', indices: groups }]],
    ['box ∩ L2 ∩ halfspace ∩ mask', [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'ball', ref, eps: 2, p: 2 }, { kind: 'linear', a, b: budget }, { kind: 'mask', editable, ref }]],
    ['L∞ ∩ L1 ∩ sum budget', [{ kind: 'ball', ref, eps: 0.1, p: 'inf' }, { kind: 'ball', ref, eps: 3, p: 1 }, { kind: 'linear', a: ref.map(() => 1), b: 400 }]],
  ];
  for (const [name, constraints] of sets) {
    it(name, async () => {
      const rc = resolveConstraints(constraints, model.inputs[0], 0);
      let worst = 0;
      let checked = 0;
      const res = await maximize(model, [logit(1), logit(8)], {
        steps: 25,
        restarts: 2,
        constraints,
        onStep: ({ x }) => {
          for (let r = 0; r < 4; r++) {
            const v = Object.values(residuals(x.subarray(r * 784, (r + 1) * 784), rc));
            worst = Math.max(worst, ...v);
            checked++;
          }
        },
      });
      expect(checked).toBe(100);
      expect(worst).toBeLessThanOrEqual(1e-6);
      for (const r of res.results) expect(Math.max(0, ...Object.values(r.residuals))).toBeLessThanOrEqual(1e-6);
      if (name === 'mask') for (const r of res.results) r.input.forEach((v, i) => !editable[i] && expect(Math.abs(v - ref[i])).toBeLessThan(1e-6));
    });
  }

  it('levels: the final input is on the grid and re-evaluated; both values are reported', async () => {
    const res = await maximize(model, logit(1), { steps: 20, restarts: 2, constraints: [{ kind: 'levels', n: 4 }] });
    const r = res.results[0];
    for (const v of r.input) expect(Math.abs(v * 3 - Math.round(v * 3))).toBeLessThan(1e-6);
    expect(r.unrounded).toBeDefined();
    expect(Number.isFinite(r.unrounded!.value)).toBe(true);
  });

  it('one-hot: the final group is exactly one-hot', async () => {
    const res = await maximize(model, logit(1), { steps: 20, restarts: 2, constraints: [{ kind: 'oneHot', indices: groups }] });
    const vals = groups.map((i) => res.results[0].input[i]);
    expect(vals.filter((v) => v === 1).length).toBe(1);
    expect(vals.filter((v) => v === 0).length).toBe(3);
  });
});

describe('runs', () => {
  it('several targets are one batch and each result is its own class', async () => {
    const res = await maximize(model, [logit(0), logit(1), logit(2)], { steps: 60, restarts: 2 });
    expect(res.results.map((r) => r.objective)).toEqual(['logit:0', 'logit:1', 'logit:2']);
    res.results.forEach((r, k) => {
      const p = r.outputs.dense_1;
      expect(p.indexOf(Math.max(...p))).toBe(k);
    });
  });

  it('keeps the best restart', async () => {
    const one = await maximize(model, logit(6), { steps: 40, restarts: 1, seed: 5 });
    const many = await maximize(model, logit(6), { steps: 40, restarts: 6, seed: 5 });
    expect(many.results[0].value).toBeGreaterThanOrEqual(one.results[0].value - 1e-4);
  });

  it('same seed gives an identical result; another seed a different one', async () => {
    const strip = (r: Awaited<ReturnType<typeof maximize>>) => JSON.stringify({ ...r, timings: null });
    const a = await maximize(model, logit(4), { steps: 30, restarts: 3, seed: 11 });
    const b = await maximize(model, logit(4), { steps: 30, restarts: 3, seed: 11 });
    const c = await maximize(model, logit(4), { steps: 30, restarts: 3, seed: 12 });
    expect(strip(a)).toBe(strip(b));
    expect(strip(a)).not.toBe(strip(c));
  });

  // A leak of even one tensor per step shows between two samples; `npm run soak` runs 10,000 steps.
  it('no tensor leaks over 60 steps', async () => {
    await maximize(model, logit(1), { steps: 5, restarts: 1 });
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await maximize(model, [logit(1), margin(2)], {
      steps: 60,
      restarts: 1,
      onStep: ({ step }) => {
        if (step % 10 === 0) counts.push(tf.memory().numTensors);
      },
    });
    expect(counts).toHaveLength(6);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops on abort and says so', async () => {
    const ctl = new AbortController();
    const res = await maximize(model, logit(1), { steps: 1000, signal: ctl.signal, onStep: ({ step }) => void (step === 9 && ctl.abort()) });
    expect(res.interrupted).toBe(true);
    expect(res.steps).toBe(10);
  });

  it('each optimizer raises the logit', async () => {
    for (const optimizer of ['adam', 'sgd', 'normalized', 'sign'] as const) {
      const res = await maximize(model, logit(3), { steps: 40, restarts: 1, optimizer, init: { constant: 0.5 } });
      expect(res.results[0].value).toBeGreaterThan(res.results[0].history[0].value);
    }
  });
});
