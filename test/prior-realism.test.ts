import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { loadFashionMnist, type FashionData } from '../src/data/fashion.js';
import { looksLikeData, realism, REALISM_DISTANCE_LIMIT } from '../src/data/realism.js';
import { maximizeExact } from '../src/exact/maximizeExact.js';
import { loadModel } from '../src/model/load.js';
import { maximize } from '../src/optimize/maximize.js';
import { parsePrior } from '../src/cli/prior-spec.js';

const root = path.resolve(import.meta.dirname, '..');
let train: FashionData;
/**
 * The subspace prior runs all ten classes: its default code set (boxes of half-diagonal 3 around the
 * clusters' core examples) passes every one, Sandal at 4.73 (the 100 percentile cluster boxes it
 * replaced drew Sandal 6.6 away, boot-like).
 */
const SUBSPACE_TEST_CLASSES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
/**
 * The decoder prior runs all ten classes: its default code set (boxes of half-diagonal 1 around its
 * clusters' core codes, the class code fixed) passes every one, Sandal at 4.7 (the unconditional
 * decoder it replaced drew a high heel 6.7 away; its pictures near typical codes were too soft for
 * Shirt's p ≥ 0.99).
 */
const DECODER_TEST_CLASSES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
let test: FashionData;

beforeAll(async () => {
  await useBackend('wasm');
  train = loadFashionMnist({ split: 'train' });
  test = loadFashionMnist({ split: 'test' });
});

describe('the realism judge (10 nearest Fashion-MNIST training images)', () => {
  it('passes real test images (≈90 % within the limit, the 10 nearest mostly of their class) and fails box-only answers', async () => {
    let within = 0, agree = 0;
    const N = 40;
    for (let r = 0; r < N; r++) {
      const j = realism(test.images.subarray(r * 784, (r + 1) * 784), train);
      if (j.distance <= REALISM_DISTANCE_LIMIT) within++;
      if (j.majority === test.labels[r]) agree++;
    }
    expect(within / N).toBeGreaterThanOrEqual(0.75);
    expect(agree / N).toBeGreaterThanOrEqual(0.7);
    const model = await loadModel(path.join(root, 'models/fashion-mnist-mlp'));
    const targets = [1, 7, 8].map((index) => ({ kind: 'logit' as const, index }));
    const plain = await maximize(model, targets, { steps: 60, restarts: 2, constraints: [{ kind: 'box', lo: 0, hi: 1 }] });
    plain.results.forEach((r) => expect(realism(r.input, train).distance).toBeGreaterThan(8)); // saturated noise, far from every image
    model.dispose();
  });

  it('looksLikeData needs all three: p ≥ 0.99, distance ≤ 5.2, and more than half of the 10 nearest of the class', () => {
    const near = { distance: 4.85, majority: 2, majorityCount: 10 };
    expect(looksLikeData(0.994, near, 2)).toBe(true);
    expect(looksLikeData(0.988, near, 2)).toBe(false);
    expect(looksLikeData(0.994, { ...near, distance: 5.21 }, 2)).toBe(false);
    expect(looksLikeData(0.994, { ...near, majority: 9 }, 2)).toBe(false);
    expect(looksLikeData(0.994, { ...near, majorityCount: 5 }, 2)).toBe(false);
    expect(looksLikeData(0.994, { ...near, majorityCount: 6 }, 2)).toBe(true);
  });

  it('exact --prior dataset:subspace:32: the maximum of Ankle boot\'s logit over the prior\'s set looks like data', async () => {
    const model = await loadModel(path.join(root, 'models/fashion-mnist-mlp'));
    const prior = await parsePrior('dataset:subspace:32', model);
    try {
      const r = await maximizeExact(model, { kind: 'logit', index: 9 }, { timeLimit: 60, constraints: [{ kind: 'box', lo: 0, hi: 1 }, prior.constraint] });
      // Proven in ≈ 6 s on a quiet machine (BENCHMARKS.md); under a loaded test run the proof may
      // stop at the limit, but the answer is the maximum (16.3558, found by the boxes' polish first).
      expect(r.status === 'optimal' || r.value! >= 16.3557, `${r.status} ${r.value}`).toBe(true);
      const j = realism(r.input, train);
      expect(looksLikeData(r.outputs.dense_1[9], j, 9), `p ${r.outputs.dense_1[9]}, distance ${j.distance}, votes ${j.votes}`).toBe(true);
    } finally {
      prior.dispose();
      model.dispose();
    }
  }, 180_000);

  // The CLI's defaults (150 steps × 6 restarts, seed 0), on the classes named above.
  for (const spec of ['dataset:subspace:32', 'decoder:' + path.join(root, 'models/fashion-mnist-decoder')]) {
    it(`--prior ${spec.replace(root + '/', '')} with its defaults: p(class) ≥ 0.99, within ${REALISM_DISTANCE_LIMIT} of the 10 nearest training images, mostly of the class`, async () => {
      const model = await loadModel(path.join(root, 'models/fashion-mnist-mlp'));
      const prior = await parsePrior(spec, model);
      try {
        const classes = spec.startsWith('dataset') ? SUBSPACE_TEST_CLASSES : DECODER_TEST_CLASSES;
        const targets = classes.map((index) => ({ kind: 'logit' as const, index }));
        const run = await maximize(model, targets, { steps: 150, restarts: 6, seed: 0, image: 'auto', constraints: [{ kind: 'box', lo: 0, hi: 1 }, prior.constraint] });
        run.results.forEach((r, t) => {
          const c = classes[t];
          expect(r.outputs.dense_1[c], `p(class ${c})`).toBeGreaterThanOrEqual(0.99);
          const j = realism(r.input, train);
          expect(j.distance, `distance of class ${c}`).toBeLessThanOrEqual(REALISM_DISTANCE_LIMIT);
          expect([j.majority, j.majorityCount > 5], `10 nearest of class ${c}: ${j.votes}`).toEqual([c, true]);
          expect(looksLikeData(r.outputs.dense_1[c], j, c)).toBe(true);
        });
      } finally {
        prior.dispose();
        model.dispose();
      }
    }, 180_000);
  }
});
