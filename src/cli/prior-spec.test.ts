import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { mlp } from '../exact/test-nets.js';
import { loadModel } from '../model/load.js';
import { BUNDLED_MODEL } from './paths.js';
import { parsePrior } from './prior-spec.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('--prior', () => {
  it('dataset:subspace:K reads the prior stored with the bundled model (K components, one of 500 boxes of half-diagonal 3 around its clusters\' core examples; near=, clusters=, box=, ball=, cluster=J)', async () => {
    const model = await loadModel(BUNDLED_MODEL);
    const { constraint } = await parsePrior('dataset:subspace:32', model);
    if (constraint.kind !== 'prior' || constraint.prior.type !== 'subspace') throw new Error('expected a subspace prior');
    expect(constraint.prior.components).toBe(32);
    expect(constraint.prior.basis).toHaveLength(32 * 784);
    const union = constraint.prior.latent.union!;
    expect([union.boxes.length, union.cores, union.radius, union.percentiles]).toEqual([500, 5, 3, undefined]);
    // Each box: half-diagonal 3 around a training image's code.
    for (const b of union.boxes.slice(0, 20)) expect(Math.hypot(...b.lo.map((l, c) => (b.hi[c] - l) / 2))).toBeCloseTo(3, 9);
    const near = (await parsePrior('dataset:subspace:32:near=4.5', model)).constraint;
    expect(near.kind === 'prior' && near.prior.latent.union!.radius).toBe(4.5);
    const clustered = (await parsePrior('dataset:subspace:32:clusters=5-95', model)).constraint;
    if (clustered.kind !== 'prior') throw new Error('expected a prior');
    expect([clustered.prior.latent.union!.boxes.length, clustered.prior.latent.union!.percentiles, clustered.prior.latent.union!.radius]).toEqual([100, [5, 95], 6.25]);
    const box = (await parsePrior('dataset:subspace:32:box=0.5-99.5', model)).constraint;
    expect(box.kind === 'prior' && box.prior.latent.box!.lo[0]).toBeLessThan(0);
    const one = (await parsePrior('dataset:subspace:32:cluster=7', model)).constraint;
    expect(one.kind === 'prior' && one.prior.latent.box!.lo).toEqual(clustered.prior.latent.union!.boxes[7].lo);
    await expect(parsePrior('dataset:subspace:32:near=0', model)).rejects.toThrow(/near=0: give a positive half-diagonal/);
    await expect(parsePrior('dataset:subspace:32:near=x', model)).rejects.toThrow(/R must be a number/);
    const ball = (await parsePrior('dataset:subspace:8:ball=p50', model)).constraint;
    expect(ball.kind === 'prior' && ball.prior.latent.ball?.radius).toBeGreaterThan(1);
    model.dispose();
  });

  it('decoder:MODEL takes z in one of the boxes around its clusters\' core codes (class code fixed); near=, clusters=, box=0.5-99.5 (the box of all its codes)', async () => {
    const model = await loadModel(BUNDLED_MODEL);
    const spec = `decoder:${path.join(path.dirname(BUNDLED_MODEL), 'fashion-mnist-decoder')}`;
    const { constraint, dispose } = await parsePrior(spec, model);
    if (constraint.kind !== 'prior' || constraint.prior.type !== 'decoder') throw new Error('expected a decoder prior');
    const union = constraint.prior.latent.union!;
    // 40 clusters (4 a class) × 10 core examples; each box: z ± 1/√8, the class code one-hot and fixed.
    expect([union.boxes.length, union.cores, union.radius]).toEqual([400, 10, 1]);
    for (const b of union.boxes) {
      expect(b.lo).toHaveLength(18);
      expect(Math.hypot(...b.lo.map((l, i) => (b.hi[i] - l) / 2))).toBeCloseTo(1, 4);
      expect(b.lo.slice(8)).toEqual(b.hi.slice(8));
      expect(b.lo.slice(8)).toEqual(Array.from({ length: 10 }, (_, c) => (c === b.label ? 1 : 0)));
    }
    expect(constraint.prior.latent.box).toBeUndefined();
    const near = await parsePrior(`${spec}:near=2`, model);
    expect(near.constraint.kind === 'prior' && near.constraint.prior.latent.union!.radius).toBe(2);
    const clusters = await parsePrior(`${spec}:clusters=0.5-99.5`, model);
    const percentile = clusters.constraint.kind === 'prior' ? clusters.constraint.prior.latent.union! : null;
    expect([percentile!.boxes.length, percentile!.percentiles]).toEqual([40, [0.5, 99.5]]);
    const all = await parsePrior(`${spec}:box=0.5-99.5`, model);
    const box = all.constraint.kind === 'prior' ? all.constraint.prior.latent.box! : null;
    // The codes' box holds every cluster's middle (its class code at a corner of [0, 1]).
    expect(box!.lo).toHaveLength(18);
    for (const b of percentile!.boxes) b.centre.forEach((c, i) => expect(c >= box!.lo[i] && c <= box!.hi[i]).toBe(true));
    await expect(parsePrior(`${spec}:near=0`, model)).rejects.toThrow(/near=0: give a positive half-diagonal in latent units, e.g. near=1/);
    await expect(parsePrior(`${spec}:box=1-99`, model)).rejects.toThrow(/records only its codes' 0.5–99.5 % box: give box=0.5-99.5, or box=LO,HI/);
    await expect(parsePrior(`${spec}:box=3`, model)).rejects.toThrow(/box=LO,HI in latent units, or box=0.5-99.5/);
    for (const p of [all, near, clusters]) p.dispose();
    dispose();
    model.dispose();
  });

  it('EXAMPLES:subspace:K computes the prior from a JSON file of examples and caches it next to them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'actmax-prior-'));
    const file = path.join(dir, 'examples.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 12 }, (_, r) => [r / 12, 1 - r / 12, (r % 3) / 3, 0.5])));
    const model = mlp(4, [[[1, 0, 0, 1, 1, 0, 0, 1], [0, 0]]]);
    const first = await parsePrior(`${file}:subspace:2`, model);
    expect(existsSync(`${file}.actmax-prior.json`)).toBe(true);
    const again = await parsePrior(`${file}:subspace:2`, model);
    const basis = (c: typeof first.constraint) => (c.kind === 'prior' && c.prior.type === 'subspace' ? c.prior.basis : []);
    expect(basis(again.constraint)).toEqual(basis(first.constraint));
    model.dispose();
  });

  it('bad specs and a model without a stored prior get one line that says what would be right', async () => {
    const model = mlp(4, [[[1, 0, 0, 1, 1, 0, 0, 1], [0, 0]]]);
    await expect(parsePrior('dataset:subspace:x', model)).rejects.toThrow(/K must be a positive integer, got "x"; prior specs:/);
    await expect(parsePrior('dataset:colour=red', model)).rejects.toThrow(/prior specs:/);
    await expect(parsePrior('dataset:subspace:4:cluster=x', model)).rejects.toThrow(/J must be a number, got "x"/);
    await expect(parsePrior('dataset', model)).rejects.toThrow(/stores no data prior .* give example inputs instead/);
    model.dispose();
  });
});
