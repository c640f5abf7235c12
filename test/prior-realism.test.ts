import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { loadFashionMnist, type FashionData } from '../src/data/fashion.js';
import { realism, REALISM_DISTANCE_LIMIT } from '../src/data/realism.js';
import { loadModel } from '../src/model/load.js';
import { maximize } from '../src/optimize/maximize.js';
import { parsePrior } from '../src/cli/prior-spec.js';

const root = path.resolve(import.meta.dirname, '..');
let train: FashionData;
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
    const decoder = await parsePrior('decoder:' + path.join(root, 'models/fashion-mnist-decoder'), model);
    const prior = await maximize(model, targets, { steps: 60, restarts: 2, constraints: [{ kind: 'box', lo: 0, hi: 1 }, decoder.constraint] });
    plain.results.forEach((r, t) => {
      const box = realism(r.input, train);
      const withPrior = realism(prior.results[t].input, train);
      expect(box.distance).toBeGreaterThan(8); // saturated noise, far from every image
      expect(withPrior.distance).toBeLessThanOrEqual(REALISM_DISTANCE_LIMIT);
      expect(withPrior.majority).toBe(targets[t].index);
    });
    decoder.dispose();
    model.dispose();
  });
});
