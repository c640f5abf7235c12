import { describe, expect, it } from 'vitest';
import { classClusters } from '../scripts/prior-clusters.js';
import { mulberry32, Rng } from '../src/optimize/rng.js';
import { chooseBoxes } from '../src/prior/choose.js';
import { clusterBoxes, coreBoxes, readClusters } from '../src/prior/clusters.js';
import { decoderPrior } from '../src/prior/decoder.js';
import { createPriorParam, priorStepScale } from '../src/prior/param.js';
import { buildStoredPrior, decodeStoredPrior, encodeStoredPrior } from '../src/prior/store.js';
import { latentViolation, subspaceCode, subspaceInput, subspacePrior, subspaceResidual } from '../src/prior/subspace.js';
import type { ActmaxModel } from '../src/model/types.js';
import { mlp } from '../src/exact/test-nets.js';
import { maximize } from '../src/optimize/maximize.js';
import { maximizeExact } from '../src/exact/index.js';
import { describePrior, type DecoderPrior } from '../src/prior/types.js';

/** Two classes of 4×4 "images": class 0 bright on the left, class 1 bright on the right, each in two styles. */
function twoClasses(count: number): { data: Float32Array; labels: Uint8Array } {
  const rand = mulberry32(7);
  const data = new Float32Array(count * 16);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const label = r % 2, style = (r >> 1) % 2;
    labels[r] = label;
    for (let i = 0; i < 16; i++) {
      const left = i % 4 < 2, top = i < 8;
      const on = (label === 0) === left && (style === 0 || top);
      data[r * 16 + i] = (on ? 0.8 : 0.15) + 0.1 * (rand() - 0.5);
    }
  }
  return { data, labels };
}

describe('cluster boxes of a data prior', () => {
  const { data, labels } = twoClasses(400);
  const stored = buildStoredPrior(data, 400, [4, 4], 4, 'two classes');
  const codes = Float64Array.from({ length: 400 * 4 }, (_, i) => 0);
  for (let r = 0; r < 400; r++) codes.set(subspaceCode(subspacePrior(stored, 4, { box: [0.5, 99.5] }), data.subarray(r * 16, (r + 1) * 16)), r * 4);
  stored.clusters = classClusters(codes, labels, 400, 4, { perClass: 2, seed: 1 });

  it('k-means within each class finds the styles; the tables hold each cluster\'s quantiles', () => {
    expect(stored.clusters!.count).toBe(4);
    expect(stored.clusters!.labels).toEqual([0, 0, 1, 1]);
    expect(stored.clusters!.sizes).toEqual([100, 100, 100, 100]);
    // The 15–85 % box of each cluster holds about 70 % of its members per component (and most of none of the others).
    const boxes = clusterBoxes(stored.clusters!, 4, [15, 85]);
    for (const b of boxes) {
      const inside = Array.from({ length: 400 }, (_, r) => r).filter((r) => latentViolation({ box: b }, codes.subarray(r * 4, r * 4 + 4).map((v, c) => (c === 0 ? v : (b.lo[c] + b.hi[c]) / 2))) <= 0);
      expect(inside.length).toBeGreaterThanOrEqual(60);
      expect(inside.length).toBeLessThanOrEqual(80);
      expect(inside.every((r) => labels[r] === b.label)).toBe(true);
    }
  });

  it('core examples: each cluster records its members nearest its centre; the default code set is a box of half-diagonal R around each, and survives storage', () => {
    const withCores = { ...stored, clusters: classClusters(codes, labels, 400, 4, { perClass: 2, seed: 1, cores: 3 }) };
    const c = withCores.clusters!;
    expect(c.cores!.perCluster).toBe(3);
    expect(c.cores!.codes).toHaveLength(4 * 3 * 4);
    // Each core is a member's code (of the cluster's class), nearer the centre than most members.
    for (let j = 0; j < c.count; j++) {
      for (let e = 0; e < 3; e++) {
        const core = c.cores!.codes.slice((j * 3 + e) * 4, (j * 3 + e + 1) * 4);
        const r = Array.from({ length: 400 }, (_, i) => i).find((i) => core.every((v, k) => v === codes[i * 4 + k]));
        expect(r !== undefined && labels[r]).toBe(c.labels[j]);
        const d = Math.hypot(...core.map((v, k) => v - c.centres[j * 4 + k]));
        const members = Array.from({ length: 400 }, (_, i) => i).filter((i) => labels[i] === c.labels[j]).map((i) => Math.hypot(...[0, 1, 2, 3].map((k) => codes[i * 4 + k] - c.centres[j * 4 + k])));
        expect(members.filter((m) => m < d).length).toBeLessThan(members.length / 4);
      }
    }
    const prior = subspacePrior(withCores, 4);
    expect([prior.latent.union!.boxes.length, prior.latent.union!.cores, prior.latent.union!.radius]).toEqual([12, 3, 3]);
    const b = prior.latent.union!.boxes[4];
    expect(b.centre).toEqual(c.cores!.codes.slice(4 * 4, 5 * 4));
    expect(Math.hypot(...b.lo.map((l, k) => (b.hi[k] - l) / 2))).toBeCloseTo(3, 12);
    expect(subspacePrior(withCores, 4, { near: 1 }).latent.union!.boxes[4].hi[0]).toBeCloseTo(b.centre[0] + 0.5, 12);
    expect(subspacePrior(withCores, 4, { clusterBox: [5, 95] }).latent.union!.boxes).toHaveLength(4);
    const { header, binary } = encodeStoredPrior(withCores, 'p.bin');
    const back = decodeStoredPrior(JSON.parse(JSON.stringify(header)), binary, 'p.json');
    expect(back.clusters!.cores!.perCluster).toBe(3);
    expect(back.clusters!.cores!.codes).toEqual(c.cores!.codes.map((v) => Math.fround(v)));
    // Without cores (an older prior): percentile boxes, and near= is refused in one line.
    expect(subspacePrior(stored, 4).latent.union!.percentiles).toEqual([5, 95]);
    expect(() => subspacePrior(stored, 4, { near: 2 })).toThrow(/records no core examples/);
  });

  it('caps a box\'s half-diagonal at the given radius, shrinking it about its middle; narrower boxes stay as they are', () => {
    const full = clusterBoxes(stored.clusters!, 4, [5, 95]);
    const half = (b: { lo: number[]; hi: number[] }) => Math.hypot(...b.lo.map((l, c) => (b.hi[c] - l) / 2));
    const radius = Math.min(...full.map(half)) * 1.01 + (Math.max(...full.map(half)) - Math.min(...full.map(half))) / 2;
    const capped = clusterBoxes(stored.clusters!, 4, [5, 95], radius);
    let shrunk = 0;
    capped.forEach((b, j) => {
      expect(half(b)).toBeLessThanOrEqual(radius + 1e-12);
      if (half(full[j]) > radius) shrunk++;
      else expect(b.lo).toEqual(full[j].lo);
      b.lo.forEach((l, c) => expect((l + b.hi[c]) / 2).toBeCloseTo((full[j].lo[c] + full[j].hi[c]) / 2, 12));
    });
    expect(shrunk).toBeGreaterThan(0);
    expect(() => clusterBoxes(stored.clusters!, 4, [5, 95], 0)).toThrow(/cluster box radius 0: give a positive number/);
  });

  it('round-trips through the stored header and binary; malformed clusters get one line', () => {
    const { header, binary } = encodeStoredPrior(stored, 'p.bin');
    const back = decodeStoredPrior(JSON.parse(JSON.stringify(header)), binary, 'p.json');
    expect(back.clusters!.labels).toEqual(stored.clusters!.labels);
    expect(back.clusters!.quantiles.length).toBe(4 * 4 * 21);
    back.clusters!.quantiles.forEach((q, i) => expect(q).toBeCloseTo(stored.clusters!.quantiles[i], 5));
    expect(() => readClusters({ count: 2, dims: 4 }, 4, 'meta')).toThrow(/meta: clusters must be \{count, dims: 4/);
  });

  it('the default code set is the union of the cluster boxes; box=… and cluster=J give one box', () => {
    const prior = subspacePrior(stored, 3);
    expect(prior.latent.union!.boxes).toHaveLength(4);
    expect(prior.latent.box).toBeUndefined();
    expect(subspacePrior(stored, 3, { box: [0.5, 99.5] }).latent.union).toBeUndefined();
    expect(subspacePrior(stored, 3, { cluster: 2 }).latent.box!.lo).toEqual(prior.latent.union!.boxes[2].lo);
    expect(() => subspacePrior(stored, 3, { cluster: 4 })).toThrow(/cluster=4: this prior has clusters 0…3/);
    // An input in one box lies in the set; the mean of all four (between them) does not.
    const inBox = subspaceInput(prior, prior.latent.union!.boxes[1].centre.map((v, c) => Math.min(prior.latent.union!.boxes[1].hi[c], Math.max(prior.latent.union!.boxes[1].lo[c], v))));
    expect(subspaceResidual(prior, inBox)).toBeLessThan(1e-6);
    expect(subspaceResidual(prior, stored.mean)).toBeGreaterThan(0.01);
  });

  it('projects each row exactly onto its box ∩ the pixel box, and chooses the boxes whose centres score best', async () => {
    const prior = subspacePrior(stored, 3);
    const model = { inputs: [{ name: 'x', shape: [4, 4], range: [0, 1] }] } as unknown as ActmaxModel;
    const param = createPriorParam(prior, model, 0, [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior }]);
    try {
      const boxes = prior.latent.union!.boxes;
      // Score: how bright the top-right pixel is (cluster "class 1, style 1" … highest).
      const score = async (z: Float32Array) => Float32Array.from({ length: z.length / 3 }, (_, r) => subspaceInput(prior, z.subarray(r * 3, r * 3 + 3))[3]);
      const codes = new Float32Array(2 * 3 * 3);
      const rng = new Rng(1);
      for (let r = 0; r < 6; r++) param.init(rng, codes.subarray(r * 3, r * 3 + 3));
      await chooseBoxes(param, codes, score, 2, 3, rng);
      const centreScore = await score(Float32Array.from(boxes.flatMap((b) => b.centre)));
      const best = Array.from(centreScore.keys()).sort((a, b) => centreScore[b] - centreScore[a]);
      for (let r = 0; r < 6; r++) {
        const z = codes.subarray(r * 3, r * 3 + 3);
        const box = best[r % 3];
        expect(latentViolation({ box: boxes[box] }, z)).toBeLessThan(1e-6);
        const x = subspaceInput(prior, z);
        expect(Math.min(...x)).toBeGreaterThan(-1e-6);
        expect(Math.max(...x)).toBeLessThan(1 + 1e-6);
      }
      // A step out of the box comes back onto the same box (each row keeps its box).
      const moved = Float32Array.from(codes);
      moved[0] += 10;
      param.project(moved, 6);
      expect(latentViolation({ box: boxes[best[0]] }, moved.subarray(0, 3))).toBeLessThan(1e-6);
      expect(moved[0]).toBeCloseTo(boxes[best[0]].hi[0], 4);
    } finally {
      param.dispose();
    }
  });

  it('a decoder prior over two boxes: the search starts in the box whose centre scores best and the answer stays in it', async () => {
    // G(z) = z·W + b on 2 latents → 2 features; the classifier's logit 0 is x0 − x1.
    const g = mlp(2, [[[1, 0, 0, 1], [0.5, 0.5]]], 'linear');
    const m = mlp(2, [[[1, -1, -1, 1], [0, 0]]], 'linear');
    const boxes = [
      { lo: [-0.3, -0.3], hi: [-0.1, -0.1], centre: [-0.2, -0.2] },
      { lo: [0.1, -0.4], hi: [0.4, -0.1], centre: [0.25, -0.25] }, // x0 − x1 highest here (0.4 + 0.4)
    ];
    const dec: DecoderPrior = { type: 'decoder', decoder: g, latent: { union: { boxes, percentiles: [15, 85] } }, source: 'g' };
    const run = await maximize(m, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior: dec }], steps: 40, restarts: 3, seed: 0, keepRestarts: true });
    const x = run.results[0].input;
    const z = [x[0] - 0.5, x[1] - 0.5];
    expect(latentViolation({ box: boxes[1] }, z)).toBeLessThan(1e-5);
    expect(run.results[0].value).toBeCloseTo(0.8, 4); // the corner (0.4, −0.4) of the better box
    expect(run.prior).toMatchObject({ type: 'decoder', latent: 'union of 2 boxes' });
    m.dispose();
    g.dispose();
  });

  it('a conditional decoder (class code after z): the boxes around its core examples hold each cluster\'s class code fixed, and the search moves z only', async () => {
    // Codes [z, one-hot class]: class 0's z near −1, class 1's near +1; G(z, y) = [z + y1, y0].
    const rand = mulberry32(3);
    const n = 200;
    const codes = new Float64Array(n * 3), classOf = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const y = r % 2;
      classOf[r] = y;
      codes.set([(y ? 1 : -1) + 0.5 * (rand() - 0.5), y ? 0 : 1, y ? 1 : 0], r * 3);
    }
    const clusters = classClusters(codes, classOf, n, 3, { perClass: 1, seed: 1, clusterDims: 1, cores: 2 });
    const boxes = coreBoxes(clusters, 3, 0.5);
    expect(boxes).toHaveLength(4);
    for (const b of boxes) {
      expect(b.hi[0] - b.lo[0]).toBeCloseTo(1, 12); // the half-diagonal over the one component that varies
      expect([b.lo[1], b.lo[2]]).toEqual([b.hi[1], b.hi[2]]);
      expect([b.lo[1], b.lo[2]]).toEqual(b.label ? [0, 1] : [1, 0]);
    }
    const g = mlp(3, [[[1, 0, 0, 1, 1, 0], [0, 0]]], 'linear', [-10, 10]);
    (g.metadata as Record<string, unknown>).actmaxLatent = { lo: [-1.3, 0, 0], hi: [1.3, 1, 1], scale: [1, 0.5, 0.5], clusters };
    const prior = decoderPrior(g);
    expect([prior.latent.union!.boxes.length, prior.latent.union!.radius, prior.latent.union!.cores]).toEqual([4, 1, 2]);
    expect(describePrior(prior)).toBe('decoder test-net (3 latent, 2 held fixed within each box); z in one of 4 boxes of half-diagonal 1 around the 2 examples nearest the centre of each cluster');
    // The step follows z's spread (width 2 / 5 × 2.5), not diluted by the two fixed components.
    expect(priorStepScale(prior)).toBeCloseTo(1, 12);
    const m = mlp(2, [[[1, -1], [0]]], 'linear', [-10, 10]); // logit x0 − x1 = z + y1 − y0
    const run = await maximize(m, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'prior', prior }], steps: 40, restarts: 4, seed: 0 });
    const best = Math.max(...[0, 1].map((e) => clusters.cores!.codes[(1 * 2 + e) * 3])) + 1 + 1;
    expect(run.results[0].value).toBeCloseTo(best, 4); // the far end of class 1's best core box
    const x = run.results[0].input;
    expect(x[1]).toBe(0); // y0 stayed exactly 0 at every step's projection
    expect(() => decoderPrior(g, { near: 0.5 })).not.toThrow();
    expect(decoderPrior(g, { clusterBox: [5, 95] }).latent.union!.percentiles).toEqual([5, 95]);
    m.dispose();
    g.dispose();
  });

  it('exact mode proves the union\'s maximum: the largest of the per-box maxima (:cluster=J), in the prior\'s set', async () => {
    const prior = subspacePrior(stored, 3);
    const m = mlp(16, [[Array.from({ length: 32 }, (_, i) => ((i * 7) % 5) / 5 - 0.4), [0, 0]]], 'linear');
    const union = await maximizeExact(m, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior }], timeLimit: 20 });
    const per = [];
    for (let j = 0; j < 4; j++) {
      per.push(await maximizeExact(m, { kind: 'logit', index: 0 }, { constraints: [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior: subspacePrior(stored, 3, { cluster: j }) }], timeLimit: 20, method: 'milp' }));
    }
    expect(per.every((r) => r.status === 'optimal')).toBe(true);
    const best = Math.max(...per.map((r) => r.value!));
    expect(union.status).toBe('optimal');
    expect(Math.abs(union.value! - best)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(best)));
    expect(union.union?.total).toBe(4);
    expect(union.residuals.prior).toBeLessThanOrEqual(1e-6);
    expect(latentViolation(prior.latent, subspaceCode(prior, union.input))).toBeLessThan(1e-6);
    m.dispose();
  });
});
