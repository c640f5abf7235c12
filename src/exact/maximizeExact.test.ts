import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { maximize } from '../optimize/maximize.js';
import type { Constraint } from '../constraints/constraint.js';
import { maximizeExact } from './maximizeExact.js';
import { oracleMaximum, type OracleProblem } from './bruteforce.js';
import { extractNetwork, forwardValues } from './network.js';
import { mlp, seeded, wrap } from './test-nets.js';
import { exactObjective, exactObjectiveValue } from './objective.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Random MLP weights (hidden relu, last linear) of the given widths. */
function randomLayers(widths: number[], seed: number): Array<[number[], number[]]> {
  const rnd = seeded(seed);
  const out: Array<[number[], number[]]> = [];
  for (let l = 1; l < widths.length; l++) {
    out.push([Array.from({ length: widths[l - 1] * widths[l] }, rnd), Array.from({ length: widths[l] }, () => rnd() * 0.5)]);
  }
  return out;
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

describe('maximizeExact on tiny networks matches brute force over activation patterns', () => {
  it.each([
    { name: 'logit:0', widths: [2, 8, 3], seed: 11, index: 0 },
    { name: 'logit:1', widths: [3, 5, 4, 2], seed: 12, index: 1 },
    { name: 'logit:2', widths: [4, 6, 3], seed: 13, index: 2 },
  ])('$name of a $widths ReLU MLP over the box [-1, 1]', async ({ widths, seed, index }) => {
    const layers = randomLayers(widths, seed);
    const model = mlp(widths[0], layers, 'softmax', [-1, 1]);
    const n = widths[0];
    const truth = await oracleMaximum({ layers, inputs: n, lo: new Array(n).fill(-1), hi: new Array(n).fill(1), objective: { kind: 'logit', index } });
    const res = await maximizeExact(model, { kind: 'logit', index }, { timeLimit: 30, warmStart: { steps: 50, restarts: 2 } });
    expect(res.status).toBe('optimal');
    expect(near(res.value!, truth)).toBe(true);
    expect(res.upperBound! - res.value!).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(truth)));
    // The answer's logit really is the value (TF.js float32 vs float64).
    expect(Math.abs(res.check!.tfjs - truth)).toBeLessThan(1e-5 * Math.max(1, Math.abs(truth)));
    expect(res.input.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('margin:1 of a 3-6-3 MLP, with binaries for the units that can raise it', async () => {
    const layers = randomLayers([3, 6, 3], 21);
    const model = mlp(3, layers, 'softmax');
    const truth = await oracleMaximum({ layers, inputs: 3, lo: [0, 0, 0], hi: [1, 1, 1], objective: { kind: 'margin', index: 1 } });
    const res = await maximizeExact(model, { kind: 'margin', index: 1 }, { timeLimit: 30, warmStart: false });
    expect(res.status).toBe('optimal');
    expect(near(res.value!, truth)).toBe(true);
    const logits = extractLogits(model, res.input);
    expect(logits[1] - Math.max(logits[0], logits[2])).toBeCloseTo(truth, 6);
  });

  it('an L1 ball and a linear budget around a reference (4 inputs)', async () => {
    const layers = randomLayers([4, 5, 2], 31);
    const model = mlp(4, layers);
    const ref = [0.5, 0.2, 0.8, 0.4];
    const a = [1, 1, -1, 0.5];
    const constraints: Constraint[] = [
      { kind: 'ball', ref, eps: 0.6, p: 1 },
      { kind: 'linear', a, b: 0.7 },
    ];
    const truth = await oracleMaximum({ layers, inputs: 4, lo: [0, 0, 0, 0], hi: [1, 1, 1, 1], l1: { ref, eps: 0.6 }, linear: [{ a, b: 0.7 }], objective: { kind: 'logit', index: 0 } });
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 30, warmStart: false });
    expect(res.status).toBe('optimal');
    expect(near(res.value!, truth)).toBe(true);
    const l1 = res.input.reduce((s, v, i) => s + Math.abs(v - ref[i]), 0);
    expect(l1).toBeLessThanOrEqual(0.6 + 1e-7);
    expect(res.input.reduce((s, v, i) => s + a[i] * v, 0)).toBeLessThanOrEqual(0.7 + 1e-7);
  });

  it('levels and one-hot groups: the best of all 15 allowed inputs', async () => {
    const layers = randomLayers([4, 6, 2], 41);
    const model = mlp(4, layers);
    const constraints: Constraint[] = [{ kind: 'oneHot', indices: [0, 1, 2] }, { kind: 'levels', n: 5 }];
    const net = extractNetwork(model);
    const obj = exactObjective(model, net, { kind: 'logit', index: 1 });
    let truth = -Infinity;
    for (let hot = 0; hot < 3; hot++) {
      for (let k = 0; k < 5; k++) {
        const x = [0, 0, 0, k / 4];
        x[hot] = 1;
        truth = Math.max(truth, exactObjectiveValue(obj, forwardValues(net, x)));
      }
    }
    const res = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, timeLimit: 30, warmStart: false });
    expect(res.status).toBe('optimal');
    expect(near(res.value!, truth)).toBe(true);
    expect(res.input.slice(0, 3).sort()).toEqual([0, 0, 1]);
    expect([0, 0.25, 0.5, 0.75, 1]).toContain(res.input[3]);
  });

  it('LeakyReLU, Conv1D and max pooling: at least the best point of a fine grid, at most it plus the grid error', async () => {
    const rnd = seeded(51);
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [2], units: 6 }),
        tf.layers.leakyReLU({ alpha: 0.1 }),
        tf.layers.reshape({ targetShape: [6, 1] }),
        tf.layers.conv1d({ filters: 2, kernelSize: 2, activation: 'relu' }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, name: 'out' }),
      ],
    });
    for (const layer of net.layers) {
      const ws = layer.getWeights();
      if (ws.length) layer.setWeights(ws.map((w) => tf.tensor(Float32Array.from({ length: w.size }, rnd), w.shape)));
    }
    const model = wrap(net);
    const pl = extractNetwork(model);
    const obj = exactObjective(model, pl, { kind: 'logit', index: 0 });
    const steps = 400;
    let gridBest = -Infinity;
    for (let i = 0; i <= steps; i++) for (let j = 0; j <= steps; j++) gridBest = Math.max(gridBest, exactObjectiveValue(obj, forwardValues(pl, [i / steps, j / steps])));
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { timeLimit: 30, warmStart: false });
    expect(res.status).toBe('optimal');
    expect(res.value!).toBeGreaterThanOrEqual(gridBest - 1e-9);
    // Lipschitz bound: Σ|w| products ≤ 50 here, half a grid step in each coordinate.
    expect(res.value!).toBeLessThanOrEqual(gridBest + 50 * (1 / steps));
    expect(res.encoding!.binaries).toBeGreaterThan(0);
  });
});

function extractLogits(model: ReturnType<typeof mlp>, x: number[]): number[] {
  const net = extractNetwork(model);
  const vals = forwardValues(net, x);
  const out = model.outputs[0];
  return [0, 1, 2].map((k) => exactObjectiveValue(exactObjective(model, net, { kind: 'logit', index: k, ...(out ? {} : {}) }), vals));
}

describe('maximizeExact against gradient search and infeasible sets', () => {
  it('the exact value is never below the best gradient-search value', async () => {
    for (const seed of [61, 62, 63]) {
      const layers = randomLayers([4, 8, 8, 3], seed);
      const model = mlp(4, layers, 'softmax');
      for (const spec of [{ kind: 'logit', index: 2 }, { kind: 'margin', index: 0 }] as const) {
        const grad = await maximize(model, spec, { steps: 300, restarts: 8, seed: 5 });
        const exact = await maximizeExact(model, spec, { timeLimit: 30, warmStart: false });
        expect(exact.status).toBe('optimal');
        expect(exact.value!).toBeGreaterThanOrEqual(grad.results[0].value - 1e-5 * Math.max(1, Math.abs(grad.results[0].value)));
      }
    }
  });

  it('contradictory constraints report infeasible (found when resolving them)', async () => {
    const model = mlp(2, randomLayers([2, 3, 1], 71));
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'linear', a: [1, 1], b: -1 }], timeLimit: 10 });
    expect(res.status).toBe('infeasible');
    expect(res.value).toBeNull();
  });

  it('constraints that only the integer levels make infeasible: HiGHS proves it', async () => {
    const model = mlp(2, randomLayers([2, 3, 1], 72));
    // x0 ∈ [0.3, 0.7] has points, but none of the 2 levels {0, 1}.
    const constraints: Constraint[] = [{ kind: 'levels', n: 2 }, { kind: 'linear', a: [1, 0], b: 0.7 }, { kind: 'linear', a: [-1, 0], b: -0.3 }];
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, timeLimit: 10, warmStart: false });
    expect(res.status).toBe('infeasible');
  });

  it('refuses objectives and constraints that are not linear', async () => {
    const model = mlp(2, randomLayers([2, 3, 2], 73), 'softmax');
    await expect(maximizeExact(model, { kind: 'prob', index: 0 }, { timeLimit: 5 })).rejects.toThrow(/not linear/);
    await expect(maximizeExact(model, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'ball', ref: [0.5, 0.5], eps: 0.1, p: 2 }], timeLimit: 5, warmStart: false })).rejects.toThrow(/L2 ball/);
  });
});
