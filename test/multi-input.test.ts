import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { k3Functional, k3Layer, writeKerasV3, type Var } from '../src/model/testing/write-keras.js';

async function cli(args: string[]) {
  let out = '', err = '';
  const code = await runCli(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const v = (shape: number[], f: (i: number) => number): Var => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });

let dir: string, file: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-multi-'));
  // Two inputs (a: 4 features, b: 3), two outputs (cls: softmax over 3, reg: 1 linear).
  const config = k3Functional(
    'two_in',
    [
      k3Layer('InputLayer', 'a', { batch_shape: [null, 4] }),
      k3Layer('InputLayer', 'b', { batch_shape: [null, 3] }),
      k3Layer('Concatenate', 'cat', { axis: -1 }, ['a', 'b']),
      k3Layer('Dense', 'hidden', { units: 6, activation: 'relu', use_bias: true }, ['cat']),
      k3Layer('Dense', 'cls', { units: 3, activation: 'softmax', use_bias: true }, ['hidden']),
      k3Layer('Dense', 'reg', { units: 1, activation: 'linear', use_bias: true }, ['hidden']),
    ],
    ['a', 'b'],
    ['cls', 'reg'],
  );
  const bytes = await writeKerasV3(config, [
    { key: 'dense', name: 'hidden', vars: [v([7, 6], (i) => Math.sin(i + 1)), v([6], (i) => 0.1 * i)] },
    { key: 'dense_1', name: 'cls', vars: [v([6, 3], (i) => Math.cos(i * 0.7)), v([3], () => 0)] },
    { key: 'dense_2', name: 'reg', vars: [v([6, 1], (i) => 0.5 - 0.2 * i), v([1], () => 0.3)] },
  ]);
  file = path.join(dir, 'two_in.keras');
  await fs.writeFile(file, bytes);
  await fs.writeFile(path.join(dir, 'fixed.json'), JSON.stringify({ b: [0.2, 0.4, 0.6] }));
});

describe('models with several inputs and outputs', () => {
  it('optimises the named input and holds the other at the given value; objectives name the output', async () => {
    const r = await cli(['maximize', file, '--objective', 'logit:cls:2', '--optimize', 'a', '--input', path.join(dir, 'fixed.json'), '--steps', '50', '--out', path.join(dir, 'o1'), '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out).results[0];
    expect(Object.keys(j.inputs)).toEqual(['a']);
    expect(j.input).toHaveLength(4);
    expect(Object.keys(j.outputs)).toEqual(['cls', 'reg']);
    for (const x of j.input) expect(x).toBeGreaterThanOrEqual(0), expect(x).toBeLessThanOrEqual(1);
    // The held input really was held: predicting with a + fixed b reproduces the outputs.
    await fs.writeFile(path.join(dir, 'both.json'), JSON.stringify({ a: j.input, b: [0.2, 0.4, 0.6] }));
    const p = JSON.parse((await cli(['predict', file, '--input', path.join(dir, 'both.json'), '--json'])).out);
    p.outputs.cls.forEach((x: number, i: number) => expect(x).toBeCloseTo(j.outputs.cls[i], 5));
  });

  it('drives a regression output toward a value, optimising both inputs', async () => {
    const r = await cli(['maximize', file, '--objective', 'target:reg:0:2.5', '--steps', '150', '--out', path.join(dir, 'o2'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out).results[0];
    expect(Object.keys(j.inputs).sort()).toEqual(['a', 'b']);
    expect(Math.abs(j.outputs.reg[0] - 2.5)).toBeLessThan(0.05);
  });

  it('an unknown output or a missing held input is a clear error', async () => {
    const a = await cli(['maximize', file, '--objective', 'logit:nope:1', '--out', path.join(dir, 'o3')]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/output "nope" does not exist; outputs are: cls, reg/);
    const b = await cli(['maximize', file, '--objective', 'logit:cls:1', '--optimize', 'a', '--out', path.join(dir, 'o4')]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/input "b" is not optimised, so its value must be given/);
  });

  it('convert writes a TF.js layers model that predicts the same', async () => {
    const out = path.join(dir, 'conv');
    expect((await cli(['convert', file, out])).code).toBe(0);
    await fs.writeFile(path.join(dir, 'both2.json'), JSON.stringify({ a: [0.1, 0.2, 0.3, 0.4], b: [0.2, 0.4, 0.6] }));
    const x = JSON.parse((await cli(['predict', file, '--input', path.join(dir, 'both2.json'), '--json'])).out);
    const y = JSON.parse((await cli(['predict', out, '--input', path.join(dir, 'both2.json'), '--json'])).out);
    expect(y.outputs).toEqual(x.outputs);
    const info = JSON.parse((await cli(['inspect', out, '--json'])).out);
    expect(info.metadata.convertedFrom.format).toBe('keras-v3');
  });
});
