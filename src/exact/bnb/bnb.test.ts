import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backend.js';
import type { Constraint } from '../../constraints/constraint.js';
import { oracleMaximum } from '../bruteforce.js';
import { maximizeExact } from '../maximizeExact.js';
import { mlp, seeded, randomLayers } from '../test-nets.js';
import { resolveConstraints } from '../../constraints/index.js';
import { extractNetwork } from '../network.js';
import { exactObjective } from '../objective.js';
import { shallowProblem, shallowValue } from './shallow.js';
import { solveBnb } from './solve.js';

/**
 * The branch-and-bound against two independent references on seeded random networks: the MILP's
 * proven optimum (HiGHS) and, where 2^units is small, the maximum over every activation pattern
 * (one LP each, bruteforce.ts).
 */

beforeAll(async () => {
  await useBackend('cpu');
});


const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

describe('branch-and-bound = MILP on random one-hidden-layer networks', () => {
  it.each([
    { widths: [784, 16, 10], seed: 1, index: 7 },
    { widths: [64, 24, 10], seed: 2, index: 3 },
    { widths: [64, 24, 10], seed: 2, index: 9 },
  ])('$widths seed $seed, logit:$index over the box', async ({ widths, seed, index }) => {
    const model = mlp(widths[0], randomLayers(widths, seed), 'softmax');
    const spec = { kind: 'logit', index } as const;
    const bnb = await maximizeExact(model, spec, { method: 'bnb', threads: 0, timeLimit: 60, warmStart: false });
    // The MILP starts from the branch-and-bound's answer: it must still prove it optimal on its own.
    const milp = await maximizeExact(model, spec, { method: 'milp', timeLimit: 60, warmStart: bnb.input });
    expect(bnb.method).toBe('bnb');
    expect(milp.method).toBe('milp');
    expect(bnb.status).toBe('optimal');
    expect(milp.status).toBe('optimal');
    expect(rel(bnb.value!, milp.value!)).toBeLessThan(2e-6);
    // Each proof bounds the other's answer.
    expect(bnb.upperBound!).toBeGreaterThanOrEqual(milp.value! - 1e-9 * Math.abs(milp.value!));
    expect(milp.upperBound!).toBeGreaterThanOrEqual(bnb.value! - 1e-6 * Math.abs(bnb.value!));
    // The answer is a real input: TF.js agrees, and it lies in the box.
    expect(rel(bnb.check!.tfjs, bnb.value!)).toBeLessThan(1e-5);
    expect(bnb.input.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(bnb.bnb!.rootBound).toBeGreaterThanOrEqual(bnb.value!);
  });

  it('with a linear constraint and an L∞ ball (carried as multipliers and a smaller box)', async () => {
    const widths = [64, 24, 10];
    const model = mlp(64, randomLayers(widths, 3), 'softmax');
    const rnd = seeded(4);
    const ref = Array.from({ length: 64 }, () => (rnd() + 1) / 2);
    const a = Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    // a·x ≥ 8.03 on the ball: the budget 9 binds.
    const constraints: Constraint[] = [{ kind: 'ball', ref, eps: 0.3, p: 'inf' }, { kind: 'linear', a, b: 9 }];
    const spec = { kind: 'logit', index: 2 } as const;
    const bnb = await maximizeExact(model, spec, { method: 'bnb', threads: 0, constraints, timeLimit: 60, warmStart: false });
    const milp = await maximizeExact(model, spec, { method: 'milp', constraints, timeLimit: 60, warmStart: bnb.input });
    expect(bnb.status).toBe('optimal');
    expect(milp.status).toBe('optimal');
    expect(rel(bnb.value!, milp.value!)).toBeLessThan(2e-6);
    expect(bnb.input.reduce((s, v, i) => s + a[i] * v, 0)).toBeLessThanOrEqual(9 + 1e-6);
    expect(bnb.input.every((v, i) => Math.abs(v - ref[i]) <= 0.3 + 1e-9)).toBe(true);
  });

  it('equals the maximum over all 2^10 activation patterns of a 6-10-3 network, in worker threads', async () => {
    const ls = randomLayers([6, 10, 3], 5);
    const model = mlp(6, ls, 'softmax', [-1, 1]);
    for (const index of [2]) {
      const truth = await oracleMaximum({ layers: ls, inputs: 6, lo: new Array(6).fill(-1), hi: new Array(6).fill(1), objective: { kind: 'logit', index } });
      const res = await maximizeExact(model, { kind: 'logit', index }, { method: 'bnb', threads: 2, timeLimit: 60, warmStart: false });
      expect(res.status).toBe('optimal');
      expect(res.bnb!.threads).toBe(2);
      expect(rel(res.value!, truth)).toBeLessThan(1e-6);
      expect(res.input.every((v) => v >= -1 && v <= 1)).toBe(true);
    }
  });

  it('auto picks the branch-and-bound for one hidden layer and the MILP for two, and says why', async () => {
    const one = await maximizeExact(mlp(4, randomLayers([4, 6, 2], 6)), { kind: 'logit', index: 0 }, { threads: 0, timeLimit: 30, warmStart: false });
    expect(one.method).toBe('bnb');
    const two = await maximizeExact(mlp(4, randomLayers([4, 5, 5, 2], 7)), { kind: 'logit', index: 0 }, { threads: 0, timeLimit: 30, warmStart: false });
    expect(two.method).toBe('milp');
    expect(two.methodReason).toMatch(/more than one hidden layer/);
    await expect(maximizeExact(mlp(4, randomLayers([4, 5, 5, 2], 7)), { kind: 'logit', index: 0 }, { method: 'bnb', timeLimit: 30 })).rejects.toThrow(/branch-and-bound needs one hidden ReLU layer/);
  });

  it('a second hidden layer whose units keep their sign over the box folds away (B&B = MILP)', async () => {
    const ls = randomLayers([5, 8, 4, 3], 9);
    // Large biases: two units of layer 2 always active, two always inactive over [0,1]^5.
    ls[1][1] = [20, 20, -20, -20];
    const model = mlp(5, ls);
    const spec = { kind: 'logit', index: 1 } as const;
    const bnb = await maximizeExact(model, spec, { threads: 0, timeLimit: 30, warmStart: false });
    expect(bnb.method).toBe('bnb');
    const milp = await maximizeExact(model, spec, { method: 'milp', timeLimit: 30, warmStart: false });
    expect(bnb.status).toBe('optimal');
    expect(milp.status).toBe('optimal');
    expect(rel(bnb.value!, milp.value!)).toBeLessThan(2e-6);
  });

  it('an abort returns the best input so far with a proven bound', async () => {
    const model = mlp(784, randomLayers([784, 64, 10], 8), 'softmax');
    const controller = new AbortController();
    const res = await maximizeExact(model, { kind: 'logit', index: 1 }, {
      method: 'bnb',
      threads: 0,
      timeLimit: 60,
      warmStart: false,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'solve') controller.abort();
      },
    });
    expect(res.interrupted).toBe(true);
    expect(res.value).not.toBeNull();
    expect(res.upperBound!).toBeGreaterThanOrEqual(res.value!);
    expect(res.status === 'time-limit' || res.status === 'optimal').toBe(true);
  });

  it('the tree does not wait for the start: it proves the optimum while the start is still pending, and a start that fails is reported', async () => {
    const model = mlp(6, randomLayers([6, 10, 3], 5), 'softmax', [-1, 1]);
    const net = extractNetwork(model);
    const r = shallowProblem(net, exactObjective(model, net, { kind: 'logit', index: 2 }), resolveConstraints([], model.inputs[0], 0));
    if (!('problem' in r)) throw new Error(r.reason);
    const p = r.problem;
    const validate = (s: Float64Array) => shallowValue(p, s);
    const never = new Promise<Float64Array | null>(() => {});
    const out = await solveBnb(p, { timeLimit: 30, gapTolerance: 1e-6, validate, start: never, threads: 0 });
    expect(out.status).toBe('optimal');
    expect(out.polish).toBeNull(); // the start never came, so it was never polished
    const truth = await oracleMaximum({ layers: randomLayers([6, 10, 3], 5), inputs: 6, lo: new Array(6).fill(-1), hi: new Array(6).fill(1), objective: { kind: 'logit', index: 2 } });
    expect(rel(out.best!.value, truth)).toBeLessThan(1e-6);
    // A start that fails while the tree runs ends the solve with its error.
    const failing = new Promise<Float64Array | null>((_, reject) => setTimeout(() => reject(new Error('warm start broke')), 0));
    const big = mlp(64, randomLayers([64, 24, 10], 2), 'softmax');
    const bigNet = extractNetwork(big);
    const rb = shallowProblem(bigNet, exactObjective(big, bigNet, { kind: 'logit', index: 3 }), resolveConstraints([], big.inputs[0], 0));
    if (!('problem' in rb)) throw new Error(rb.reason);
    await expect(solveBnb(rb.problem, { timeLimit: 30, gapTolerance: 1e-6, validate: (s) => shallowValue(rb.problem, s), start: failing, threads: 0 })).rejects.toThrow(/warm start broke/);
  });
});
