import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { useBackend } from '../src/backend.js';
import type { Constraint } from '../src/constraints/constraint.js';
import { oracleMaximum } from '../src/exact/bruteforce.js';
import { maximizeExact } from '../src/exact/maximizeExact.js';
import { loadModel } from '../src/model/load.js';
import { k3Functional, k3Layer, writeKerasV3 } from '../src/model/testing/write-keras.js';

async function cli(args: string[]) {
  let out = '', err = '';
  const code = await runCli(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

// Two inputs (a: 2 features, b: 2) → Concatenate → Dense relu (5) → Dense linear (2).
const H = 5;
const kernel1 = Array.from({ length: 4 * H }, (_, i) => Math.round(100 * Math.sin(1.7 * i + 0.3)) / 100);
const bias1 = Array.from({ length: H }, (_, i) => Math.round(100 * 0.3 * Math.cos(i)) / 100);
const kernel2 = Array.from({ length: H * 2 }, (_, i) => Math.round(100 * Math.cos(2.3 * i + 1)) / 100);
const bias2 = [0.1, -0.2];
// Held values exactly representable in float32, so the oracle sees what TF.js sees.
const heldB = [0.25, 0.75];

/** The oracle's first layer with b folded into the bias (only a is free). */
function layersWithBHeld(): Array<[number[], number[]]> {
  const k = kernel1.slice(0, 2 * H);
  const b = bias1.map((c, u) => c + heldB[0] * kernel1[2 * H + u] + heldB[1] * kernel1[3 * H + u]);
  return [[k, b], [kernel2, bias2]];
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

let dir: string, file: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-exact-multi-'));
  const config = k3Functional(
    'two_in_relu',
    [
      k3Layer('InputLayer', 'a', { batch_shape: [null, 2] }),
      k3Layer('InputLayer', 'b', { batch_shape: [null, 2] }),
      k3Layer('Concatenate', 'cat', { axis: -1 }, ['a', 'b']),
      k3Layer('Dense', 'hidden', { units: H, activation: 'relu', use_bias: true }, ['cat']),
      k3Layer('Dense', 'out', { units: 2, activation: 'linear', use_bias: true }, ['hidden']),
    ],
    ['a', 'b'],
    ['out'],
  );
  const bytes = await writeKerasV3(config, [
    { key: 'dense', name: 'hidden', vars: [{ shape: [4, H], data: kernel1 }, { shape: [H], data: bias1 }] },
    { key: 'dense_1', name: 'out', vars: [{ shape: [H, 2], data: kernel2 }, { shape: [2], data: bias2 }] },
  ]);
  file = path.join(dir, 'two_in_relu.keras');
  await fs.writeFile(file, bytes);
  await fs.writeFile(path.join(dir, 'held.json'), JSON.stringify({ b: heldB }));
});

describe('exact mode with several model inputs', () => {
  it('optimises input a with b held (CLI): optimal, equal to the activation-pattern oracle, never below gradient search', async () => {
    const args = [file, '--objective', 'logit:out:0', '--optimize', 'a', '--input', path.join(dir, 'held.json'), '--constraint', 'a=box:-1,1', '--json'];
    const r = await cli(['exact', ...args, '--time-limit', '20', '--out', path.join(dir, 'e1')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out).results[0];
    expect(j.status).toBe('optimal');
    expect(Object.keys(j.inputs)).toEqual(['a']);
    expect(j.input).toHaveLength(2);
    expect(j.shape).toEqual([2]);
    for (const x of j.input) expect(Math.abs(x)).toBeLessThanOrEqual(1 + 1e-9);
    const oracle = await oracleMaximum({ layers: layersWithBHeld(), inputs: 2, lo: [-1, -1], hi: [1, 1], objective: { kind: 'logit', index: 0 } });
    expect(near(j.value, oracle)).toBe(true);
    const g = await cli(['maximize', ...args, '--steps', '100', '--out', path.join(dir, 'g1')]);
    expect(g.code).toBe(0);
    expect(j.value).toBeGreaterThanOrEqual(JSON.parse(g.out).results[0].value - 1e-6);
    // b really was held: predicting with a + the held b reproduces the reported output.
    await fs.writeFile(path.join(dir, 'both.json'), JSON.stringify({ a: j.input, b: heldB }));
    const p = JSON.parse((await cli(['predict', file, '--input', path.join(dir, 'both.json'), '--json'])).out);
    expect(p.outputs.out[0]).toBeCloseTo(j.value, 4);
  });

  it('optimises both inputs, each under its own constraints (box on a; box, halfspace and L1 ball on b)', async () => {
    await useBackend('cpu');
    const model = await loadModel(file);
    const ref = [1, 0.5];
    const eps = 0.8;
    const constraints: Constraint[] = [
      { kind: 'box', lo: -1, hi: 1, input: 'a' },
      { kind: 'box', lo: 0, hi: 2, input: 'b' },
      { kind: 'linear', a: [1, 1], b: 1.5, input: 'b' },
      { kind: 'ball', ref, eps, p: 1, input: 'b' },
    ];
    for (const index of [0, 1]) {
      const res = await maximizeExact(model, { kind: 'logit', index }, { constraints, timeLimit: 20 });
      expect(res.status).toBe('optimal');
      expect(Object.keys(res.inputs)).toEqual(['a', 'b']);
      expect(res.input).toEqual(res.inputs.a);
      const [b0, b1] = res.inputs.b;
      expect(b0 + b1).toBeLessThanOrEqual(1.5 + 1e-6);
      expect(Math.abs(b0 - ref[0]) + Math.abs(b1 - ref[1])).toBeLessThanOrEqual(eps + 1e-6);
      // The L1 ball on b as four halfspaces over (a, b); a is not in it.
      const l1Rows = [[1, 1], [1, -1], [-1, 1], [-1, -1]].map(([s0, s1]) => ({ a: [0, 0, s0, s1], b: eps + s0 * ref[0] + s1 * ref[1] }));
      const oracle = await oracleMaximum({
        layers: [[kernel1, bias1], [kernel2, bias2]],
        inputs: 4,
        lo: [-1, -1, 0, 0],
        hi: [1, 1, 2, 2],
        linear: [{ a: [0, 0, 1, 1], b: 1.5 }, ...l1Rows],
        objective: { kind: 'logit', index },
      });
      expect(near(res.value!, oracle)).toBe(true);
      expect(res.check!.tfjs).toBeCloseTo(res.value!, 4);
    }
    model.dispose();
  });

  it('a missing held input is the same clear error as in maximize', async () => {
    const args = [file, '--objective', 'logit:out:0', '--optimize', 'a'];
    const e = await cli(['exact', ...args, '--out', path.join(dir, 'e3')]);
    const m = await cli(['maximize', ...args, '--out', path.join(dir, 'g3')]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/input "b" is not optimised, so its value must be given/);
    expect(e.err).toBe(m.err);
  });
});
