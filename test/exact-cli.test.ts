import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { BUNDLED, fixturePath } from './helpers.js';

async function cli(args: string[]) {
  let out = '', err = '';
  const code = await runCli(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

let dir: string, ref: string, refValues: number[];
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-exact-'));
  const ex = JSON.parse(await fs.readFile(path.join(BUNDLED, 'examples.json'), 'utf8')).examples;
  refValues = ex[2].input; // a Trouser from the test split
  ref = path.join(dir, 'ref.json');
  await fs.writeFile(ref, JSON.stringify(refValues));
});

describe('actmax exact', () => {
  it('proves the maximum of a logit in an L∞ ball of 0.01, never below gradient search, and writes the same fields as maximize plus the certificate', async () => {
    const out = path.join(dir, 'e1');
    const r = await cli(['exact', BUNDLED, '--objective', 'logit:3', '--constraint', `linf:${ref},0.01`, '--constraint', 'box:0,1', '--time-limit', '60', '--out', out, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect([doc.method, doc.timeLimit, doc.interrupted, doc.results.length]).toEqual(['exact (branch-and-bound, SDP bounds)', 60, false, 1]);
    const j = doc.results[0];
    expect(j.status).toBe('optimal');
    expect(j.gap).toBeLessThanOrEqual(1e-6);
    expect(j.upperBound).toBeGreaterThanOrEqual(j.value - 1e-6);
    for (const k of ['objective', 'value', 'input', 'shape', 'outputs', 'residuals', 'status', 'upperBound', 'gap', 'nodes', 'solveSeconds']) expect(j).toHaveProperty(k);
    expect(Math.max(...j.input.map((v: number, i: number) => Math.abs(v - refValues[i])))).toBeLessThanOrEqual(0.01 + 1e-6);
    const file = JSON.parse(await fs.readFile(path.join(out, 'result.json'), 'utf8'));
    expect(file).toEqual(doc);
    await fs.stat(path.join(out, 'input.png'));
    const g = JSON.parse((await cli(['maximize', BUNDLED, '--objective', 'logit:3', '--constraint', `linf:${ref},0.01`, '--constraint', 'box:0,1', '--image', 'none', '--out', path.join(dir, 'g1'), '--json'])).out);
    expect(g.method).toBe('gradient');
    expect(j.value).toBeGreaterThanOrEqual(g.results[0].value - 1e-5 * Math.max(1, Math.abs(g.results[0].value)));
  });

  it('reports infeasible constraint sets as infeasible', async () => {
    const r = await cli(['exact', BUNDLED, '--objective', 'logit:1', '--constraint', 'box:0,0.5', '--constraint', 'levels:2', '--constraint', 'sum>=500', '--out', path.join(dir, 'e2'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).results[0].status).toBe('infeasible');
  });

  const errors: Array<[string, () => string[], RegExp]> = [
    ['an L2 ball', () => ['exact', BUNDLED, '--objective', 'logit:1', '--constraint', `l2:${ref},0.5`, '--out', path.join(dir, 'x1')], /cannot use an L2 ball/],
    ['a sigmoid network', () => ['exact', fixturePath('keras2-h5-mlp-sigmoid-marabou/fc_2-2sigmoids-3.h5'), '--objective', 'logit:1', '--out', path.join(dir, 'x2')], /needs a piecewise-linear network: layer "dense_2" uses sigmoid/],
    ['a non-linear objective', () => ['exact', BUNDLED, '--objective', 'prob:1', '--out', path.join(dir, 'x3')], /cannot maximise prob:1/],
  ];
  for (const [name, args, msg] of errors) {
    it(`refuses ${name} with one clear line and exit 2`, async () => {
      const r = await cli(args());
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    });
  }
});
