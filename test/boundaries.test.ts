// Outside data is checked with zod where it enters (model.json and its metadata, constraint and
// input files, the web worker's messages): a mismatch is one ActmaxError line with the JSON path,
// what was found and what was expected.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strToU8 } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { ActmaxError } from '../src/errors.js';
import { loadModel } from '../src/model/load.js';
import { PageToWorkerSchema } from '../web/src/messages.js';
import { BUNDLED } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await runCli(args, { out: () => {}, err: (s) => void (err += s) });
  return { code, err };
}

let dir: string;
let modelJson: Record<string, unknown>;
let weights: Uint8Array;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-boundaries-'));
  modelJson = JSON.parse(await fs.readFile(path.join(BUNDLED, 'model.json'), 'utf8'));
  weights = new Uint8Array(await fs.readFile(path.join(BUNDLED, 'weights.bin')));
});

/** The bundled model with its model.json changed by `bend`, loaded from memory. */
async function loadBent(bend: (json: Record<string, unknown>) => void) {
  const json = structuredClone(modelJson);
  bend(json);
  return loadModel({ files: { 'model.json': strToU8(JSON.stringify(json)), 'weights.bin': weights } });
}

describe('model.json', () => {
  it('a weight of negative size: the path, the value and the expected form', async () => {
    const err = await loadBent((j) => void ((j.weightsManifest as Array<{ weights: Array<{ shape: number[] }> }>)[0].weights[1].shape = [-3])).catch((e) => e);
    expect(err).toBeInstanceOf(ActmaxError);
    expect(err.message).toMatch(/^model\.json: weightsManifest\[0\]\.weights\[1\]\.shape\[0\] is -3 \(.*\); expected groups of \{"paths"/);
  });

  it('userDefinedMetadata that is not an object', async () => {
    const err = await loadBent((j) => void (j.userDefinedMetadata = 'classes: 10')).catch((e) => e);
    expect(err.message).toMatch(/^model\.json: userDefinedMetadata is "classes: 10" \(.*\); expected a TF\.js model\.json/);
  });

  it('metadata of the wrong form is ignored with a note, never trusted', async () => {
    const m = await loadBent((j) => void (j.userDefinedMetadata = { ...(j.userDefinedMetadata as object), inputRange: [1, 0], classNames: ['a', 2] }));
    expect(m.inputs[0].range).toEqual([0, 1]);
    expect(m.inputs[0].rangeSource).toBe('default');
    expect(m.outputs[0].classNames).toBeUndefined();
    expect(m.notes).toContain('metadata "inputRange" is ignored: expected [lo, hi] with finite lo < hi');
    expect(m.notes.some((n) => n.startsWith('metadata "classNames'))).toBe(true);
    m.dispose();
  });
});

describe('constraint and input files', () => {
  it('linear:FILE with a string among the coefficients', async () => {
    await fs.writeFile(path.join(dir, 'lin.json'), JSON.stringify({ a: [1, 'two'], b: 1 }));
    const r = await cli(['maximize', BUNDLED, '--objective', 'logit:1', '--constraint', `linear:${path.join(dir, 'lin.json')}`, '--out', path.join(dir, 'o1')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/lin\.json: a\[1\] is "two" \(.*\); expected \{"a": \[numbers\], "b": number\} \(a·x ≤ b\)\n$/);
  });

  it('mask:FILE with a 2 in it', async () => {
    await fs.writeFile(path.join(dir, 'mask.json'), JSON.stringify([[1, 0, 2]]));
    const r = await cli(['maximize', BUNDLED, '--objective', 'logit:1', '--constraint', `mask:${path.join(dir, 'mask.json')}`, '--out', path.join(dir, 'o2')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/mask\.json: mask\[0\]\[2\] is 2; expected a \(nested\) array of 0\/1 or true\/false values/);
  });

  it('an input file that is a string', async () => {
    await fs.writeFile(path.join(dir, 'in.json'), JSON.stringify('0.5 everywhere'));
    const r = await cli(['predict', BUNDLED, '--input', path.join(dir, 'in.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/in\.json is "0\.5 everywhere"; expected numbers: a flat array/);
  });
});

describe('web worker messages', () => {
  const run = { id: 1, objectiveText: 'logit:1', targets: [{ kind: 'logit', index: 1 }], steps: 10, restarts: 2, optimizer: 'adam', seed: 0, constraints: [{ kind: 'box', lo: 0, hi: 1 }] };
  it('accepts a well-formed run request and keeps fields it does not know', () => {
    const r = PageToWorkerSchema.safeParse({ type: 'run', run: { ...run, future: { weight: 0.1 } } });
    expect(r.success).toBe(true);
    expect((r.data as { run: Record<string, unknown> }).run.future).toEqual({ weight: 0.1 });
    const prior = { kind: 'subspace', url: 'http://127.0.0.1/models/fashion-mnist-mlp/prior.json', components: 32 };
    expect(PageToWorkerSchema.safeParse({ type: 'run', run: { ...run, prior } }).success).toBe(true);
  });
  it('refuses a negative step count, an unknown constraint kind and an unknown message', () => {
    expect(PageToWorkerSchema.safeParse({ type: 'run', run: { ...run, steps: -1 } }).success).toBe(false);
    expect(PageToWorkerSchema.safeParse({ type: 'run', run: { ...run, constraints: [{ kind: 'sphere' }] } }).success).toBe(false);
    expect(PageToWorkerSchema.safeParse({ type: 'reboot' }).success).toBe(false);
    expect(PageToWorkerSchema.safeParse({ type: 'run', run: { ...run, prior: { kind: 'subspace', url: 'x', components: 0 } } }).success).toBe(false);
    expect(PageToWorkerSchema.safeParse({ type: 'run', run: { ...run, prior: { kind: 'gan', url: 'x' } } }).success).toBe(false);
  });
});
