import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { strToU8, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { BUNDLED } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

let dir: string;
let ref: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-cli-'));
  const examples = JSON.parse(await fs.readFile(path.join(BUNDLED, 'examples.json'), 'utf8'));
  const first = (examples.examples ?? examples)[0];
  ref = path.join(dir, 'ref.json');
  await fs.writeFile(ref, JSON.stringify(first.pixels ?? first.input ?? first.values ?? first.image));
});

describe('actmax inspect', () => {
  it('shows input range source, layers, class names and valid objective specs', async () => {
    const r = await cli(['inspect', BUNDLED]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("range [0, 1] (from the model's metadata)");
    expect(r.out).toMatch(/dense\s+Dense\s+\[128\]\s+128\s+relu/);
    expect(r.out).toContain('1 Trouser');
    expect(r.out).toContain('--objective logit:all');
    const j = JSON.parse((await cli(['inspect', BUNDLED, '--json'])).out);
    expect(j.outputs[0].classes[9].name).toBe('Ankle boot');
    expect(j.inputs[0]).toMatchObject({ shape: [28, 28], rangeSource: 'metadata' });
  });
});

describe('actmax predict', () => {
  it('prints outputs as JSON and a layer activation', async () => {
    const r = await cli(['predict', BUNDLED, '--input', ref, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.outputs.dense_1).toHaveLength(10);
    expect(j.outputs.dense_1.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    const l = JSON.parse((await cli(['predict', BUNDLED, '--input', ref, '--layer', 'dense', '--json'])).out);
    expect(l.activation).toHaveLength(128);
    expect(Math.min(...l.activation)).toBeGreaterThanOrEqual(0);
  });

  it('reads PNG and CSV inputs', async () => {
    const png = new PNG({ width: 28, height: 28 });
    png.data.fill(128);
    await fs.writeFile(path.join(dir, 'grey.png'), PNG.sync.write(png));
    await fs.writeFile(path.join(dir, 'grey.csv'), Array(784).fill(128 / 255).join(',') + '\n');
    const a = JSON.parse((await cli(['predict', BUNDLED, '--input', path.join(dir, 'grey.png'), '--json'])).out);
    const b = JSON.parse((await cli(['predict', BUNDLED, '--input', path.join(dir, 'grey.csv'), '--json'])).out);
    a.outputs.dense_1.forEach((v: number, i: number) => expect(v).toBeCloseTo(b.outputs.dense_1[i], 5));
  });
});

describe('actmax maximize', () => {
  it('writes result.json and input.png; --json prints the same document (run fields once, results: [one])', async () => {
    const out = path.join(dir, 'm1');
    const r = await cli(['maximize', BUNDLED, '--objective', 'logit:1', '--steps', '40', '--restarts', '2', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const file = JSON.parse(await fs.readFile(path.join(out, 'result.json'), 'utf8'));
    for (const d of [doc, file]) {
      for (const k of ['model', 'method', 'seed', 'steps', 'restarts', 'optimizer', 'lr', 'engine', 'backend', 'interrupted', 'reinitialized', 'timings', 'results']) expect(d).toHaveProperty(k);
      expect(d.method).toBe('gradient');
      expect(d.results).toHaveLength(1);
      for (const k of ['objective', 'value', 'input', 'shape', 'inputs', 'outputs', 'residuals', 'restart', 'history']) expect(d.results[0]).toHaveProperty(k);
      expect(d.results[0]).not.toHaveProperty('spec');
    }
    expect(Object.keys(file)).toEqual(Object.keys(doc));
    const j = doc.results[0];
    expect(file.results[0].value).toBeCloseTo(j.value, 5);
    expect(j.objective).toBe('logit:1');
    expect(j.input).toHaveLength(784);
    expect(j.shape).toEqual([28, 28]);
    const png = PNG.sync.read(await fs.readFile(path.join(out, 'input.png')));
    expect(png.width).toBe(png.height);
  });

  it('--prior dataset:subspace:32: each line says what the polish of the code added; result.json records it', async () => {
    const out = path.join(dir, 'm-prior');
    const r = await cli(['maximize', BUNDLED, '--objective', 'logit:2', '--steps', '40', '--restarts', '2', '--prior', 'dataset:subspace:32', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const line = r.out.split('\n').find((l) => l.startsWith('logit:2:'))!;
    const [value, before] = [...line.matchAll(/(?:^logit:2: |polished from )([\d.]+)/g)].map((m) => Number(m[1]));
    expect(value).toBeGreaterThan(before);
    const doc = JSON.parse(await fs.readFile(path.join(out, 'result.json'), 'utf8'));
    expect(doc.polish).toMatchObject({ applied: true, reason: null, targets: [{ objective: 'logit:2', skipped: null }] });
    expect(doc.polish.targets[0].before).toBeCloseTo(before, 4);
    expect(doc.results[0].value).toBeCloseTo(doc.polish.targets[0].after, 3);
    // --no-polish keeps the search's own best: the value the polish started from, and no polish in the document.
    const off = await cli(['maximize', BUNDLED, '--objective', 'logit:2', '--steps', '40', '--restarts', '2', '--prior', 'dataset:subspace:32', '--no-polish', '--out', path.join(dir, 'm-prior-off'), '--json']);
    expect(off.code, off.err).toBe(0);
    const plain = JSON.parse(off.out);
    expect(plain).not.toHaveProperty('polish');
    expect(plain.results[0].value).toBeCloseTo(before, 4);
  });

  it('logit:all writes a labelled grid and the same document shape with 10 results', async () => {
    const out = path.join(dir, 'm2');
    const r = await cli(['maximize', BUNDLED, '--objective', 'logit:all', '--steps', '30', '--restarts', '1', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.method).toBe('gradient');
    expect(doc.results.map((x: { objective: string }) => x.objective)).toEqual(Array.from({ length: 10 }, (_, k) => `logit:${k}`));
    const png = PNG.sync.read(await fs.readFile(path.join(out, 'grid.png')));
    expect(png.width).toBeGreaterThan(5 * 112);
  });

  it('honours an L∞ ball around a reference and a weighted sum', async () => {
    const out = path.join(dir, 'm3');
    const r = await cli(['maximize', BUNDLED, '--objective', 'logit:3-0.5*logit:5', '--constraint', `linf:${ref},0.05`, '--constraint', 'box:0,1', '--steps', '30', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out).results[0];
    const refValues: number[] = JSON.parse(await fs.readFile(ref, 'utf8')).flat(Infinity);
    const dist = Math.max(...j.input.map((v: number, i: number) => Math.abs(v - refValues[i])));
    expect(dist).toBeLessThanOrEqual(0.05 + 1e-6);
    expect(j.objective).toBe('logit:3-0.5*logit:5');
  });
});

describe('errors: one line, exit 2, nothing written', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['missing model file', () => ['inspect', path.join(dir, 'nope.json')], /model file not found: .*nope\.json/],
    ['missing input file', () => ['predict', BUNDLED, '--input', path.join(dir, 'nope.png')], /input file not found/],
    ['unknown layer lists the valid ones', () => ['maximize', BUNDLED, '--objective', 'neuron:dens:0', '--out', path.join(dir, 'e1')], /layer "dens" does not exist; layers are: flatten, dense, dense_1/],
    ['unit index out of range says the range', () => ['maximize', BUNDLED, '--objective', 'logit:12', '--out', path.join(dir, 'e2')], /index 12 is out of range; output "dense_1" has 10 units \(0–9\)/],
    ['malformed spec shows the grammar', () => ['maximize', BUNDLED, '--objective', 'logit:x', '--out', path.join(dir, 'e3')], /bad objective "logit:x".*objective specs: logit:K/],
    ['malformed constraint shows the grammar', () => ['maximize', BUNDLED, '--objective', 'logit:1', '--constraint', 'boxx:0,1', '--out', path.join(dir, 'e4')], /bad constraint "boxx:0,1".*constraint specs: box:LO,HI/],
    ['reference of the wrong shape', () => ['maximize', BUNDLED, '--objective', 'logit:1', '--constraint', `linf:${path.join(dir, 'short.json')},0.1`, '--out', path.join(dir, 'e5')], /needs 784 values.*got 3/],
    ['contradictory constraints', () => ['maximize', BUNDLED, '--objective', 'logit:1', '--constraint', 'box:0,0.2', '--constraint', 'box:0.5,1', '--out', path.join(dir, 'e6')], /contradict|no common point|empty/i],
    ['NaN in an input', () => ['predict', BUNDLED, '--input', path.join(dir, 'nan.json')], /finite/],
    ['bad option value', () => ['maximize', BUNDLED, '--objective', 'logit:1', '--steps', 'many', '--out', path.join(dir, 'e7')], /--steps must be a non-negative integer/],
    // A damaged .keras whose zip directory holds binary names: the line shows escapes, not raw bytes.
    ['binary text from a file is escaped', () => ['inspect', path.join(dir, 'binary.keras')], /entries: \\x1b\[31mred\\x00\\x07\\u\{fffd\}\.bin, \\u\{202e\}gpj\.exe\)$/m],
  ];
  beforeAll(async () => {
    await fs.writeFile(path.join(dir, 'short.json'), '[1,2,3]');
    await fs.writeFile(path.join(dir, 'nan.json'), JSON.stringify(Array(784).fill(0).map((v, i) => (i === 5 ? 'NaN' : v))).replace('"NaN"', 'NaN'));
    await fs.writeFile(path.join(dir, 'binary.keras'), zipSync({ '\x1b[31mred\u0000\u0007\ufffd.bin': strToU8('x'), '\u202egpj.exe': strToU8('y') }));
  });
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await cli(args());
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err.trim()).not.toMatch(/[\p{Cc}\p{Cf}\uFFFD]/u);
      expect(r.err).not.toMatch(/\n\s+at /);
      const out = args().includes('--out') ? args()[args().indexOf('--out') + 1] : null;
      if (out) await expect(fs.stat(out)).rejects.toThrow();
    });
  }
});

describe('actmax demo', () => {
  it('every class is found with probability ≥ 0.99; grid.png and report.json written', async () => {
    const out = path.join(dir, 'demo');
    const r = await cli(['demo', '--out', out]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.classes).toHaveLength(10);
    for (const c of report.classes) {
      expect(c.probability).toBeGreaterThanOrEqual(0.99);
      expect(c.runnerUp.class).not.toBe(c.class);
    }
    expect(r.out).toContain('Ankle boot');
    const png = PNG.sync.read(await fs.readFile(path.join(out, 'grid.png')));
    expect(png.width).toBeGreaterThan(500);
  });

  it('--prior dataset:subspace:32: every class still ≥ 0.99 (6 restarts, one box each; with 2, Pullover stayed at 0.986), no warning', async () => {
    const out = path.join(dir, 'demo-prior');
    const r = await cli(['demo', '--prior', 'dataset:subspace:32', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8'));
    expect([report.restarts, report.prior?.components]).toEqual([6, 32]);
    expect(report.classes.filter((c: { probability: number }) => c.probability < 0.99)).toEqual([]);
    expect(r.err).not.toContain('warning');
  }, 120_000);
});
