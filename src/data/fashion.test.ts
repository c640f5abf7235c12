import { describe, expect, it } from 'vitest';
import {
  FASHION_PIXELS,
  FASHION_TEST_SIZE,
  FASHION_TRAIN_SIZE,
  fashionSplitOrder,
  loadFashionMnist,
  mulberry32,
} from './fashion.js';

describe('loadFashionMnist', () => {
  const all = loadFashionMnist({ split: 'all' });
  const train = loadFashionMnist({ split: 'train' });
  const test = loadFashionMnist({ split: 'test' });

  it('has 70,000 images, 7,000 per class, after dropping the empty rows', () => {
    expect(all.count).toBe(70_000);
    expect(all.images.length).toBe(70_000 * FASHION_PIXELS);
    const perClass = new Array<number>(10).fill(0);
    for (const label of all.labels) perClass[label]++;
    expect(perClass).toEqual(new Array<number>(10).fill(7_000));
  });

  it('splits 60,000 train / 10,000 test with no overlap', () => {
    expect(train.count).toBe(FASHION_TRAIN_SIZE);
    expect(test.count).toBe(FASHION_TEST_SIZE);
    expect(train.images.length).toBe(60_000 * FASHION_PIXELS);
    expect(test.labels.length).toBe(10_000);
    const seen = new Uint8Array(70_000);
    for (const i of train.indices) seen[i]++;
    for (const i of test.indices) seen[i]++;
    expect(seen.every((n) => n === 1)).toBe(true);
  });

  it('gives the same split every time', () => {
    const again = loadFashionMnist({ split: 'test' });
    expect(Array.from(again.indices)).toEqual(Array.from(test.indices));
    expect(Array.from(fashionSplitOrder(70_000))).toEqual(Array.from(fashionSplitOrder(70_000)));
    // a different seed gives a different order, so the split really depends on the seed
    expect(Array.from(fashionSplitOrder(70_000, 1).subarray(0, 20))).not.toEqual(Array.from(fashionSplitOrder(70_000).subarray(0, 20)));
  });

  it('split images and labels are the same as in the full set at their indices', () => {
    for (const k of [0, 1234, 9999]) {
      const i = test.indices[k];
      expect(test.labels[k]).toBe(all.labels[i]);
      expect(Array.from(test.images.subarray(k * 784, (k + 1) * 784))).toEqual(Array.from(all.images.subarray(i * 784, (i + 1) * 784)));
    }
  });

  it('has no empty rows and every pixel in [0, 1]', () => {
    let min = Infinity;
    let max = -Infinity;
    let nonFinite = 0;
    for (const v of all.images) {
      if (!Number.isFinite(v)) nonFinite++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(nonFinite).toBe(0);
    expect(min).toBe(0);
    expect(max).toBe(1);
    for (let n = 0; n < all.count; n++) {
      let sum = 0;
      for (let p = 0; p < FASHION_PIXELS; p++) sum += all.images[n * FASHION_PIXELS + p];
      if (sum === 0) throw new Error(`image ${n} is all zeros`);
    }
  });
});

describe('mulberry32', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
