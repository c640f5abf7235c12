import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../optimize/rng.js';
import { applyTransforms, shiftImages, standardTransforms } from './transforms.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const rng0 = new Rng(5);
const img = Float32Array.from({ length: 2 * 10 * 9 * 3 }, () => rng0.uniform());
const x = () => tf.tensor4d(img, [2, 10, 9, 3]);

describe('transforms', () => {
  it('jitter is an exact whole-pixel shift of each row by its own draw (edge or constant fill)', () => {
    for (const fill of ['edge', 0.25] as const) {
      const affine = new Float64Array(12);
      const out = tf.tidy(() => applyTransforms(x(), [{ kind: 'jitter', pixels: 3 }], new Rng(9), { fill, affine }).dataSync());
      const n = 10 * 9 * 3;
      for (let r = 0; r < 2; r++) {
        const [dy, dx] = [-affine[r * 6 + 2], -affine[r * 6 + 5]];
        const expected = shiftImages(img.subarray(r * n, (r + 1) * n), 1, [10, 9, 3], dy, dx, fill);
        for (let i = 0; i < n; i++) expect(out[r * n + i]).toBeCloseTo(expected[i], 6);
      }
      // The two rows drew different shifts.
      expect([affine[2], affine[5]]).not.toEqual([affine[8], affine[11]]);
    }
  });

  it('scale 1, rotation 0 and pad-then-crop leave the image unchanged', () => {
    const out = tf.tidy(() => applyTransforms(x(), [{ kind: 'pad', pixels: 2 }, { kind: 'scale', min: 1, max: 1 }, { kind: 'rotate', degrees: 0 }], new Rng(1)).dataSync());
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(img[i], 5);
  });

  it('a 90° rotation of a square image moves pixels where a rotation should', () => {
    const n = 9;
    const one = new Float32Array(n * n);
    one[1 * n + 4] = 1; // top middle
    // rotate:90 draws an angle in [−90, 90]; find a seed whose draw is near ±90.
    let seed = 0;
    for (; seed < 1000; seed++) {
      const r = new Rng(seed);
      if (Math.abs(Math.abs((2 * r.uniform() - 1) * 90) - 90) < 1) break;
    }
    const affine = new Float64Array(6);
    const out = tf.tidy(() => applyTransforms(tf.tensor4d(one, [1, n, n, 1]), [{ kind: 'rotate', degrees: 90 }], new Rng(seed), { fill: 0, affine }).dataSync());
    const argmax = out.indexOf(Math.max(...out));
    const [y, xx] = [Math.floor(argmax / n), argmax % n];
    // The dot at (1, 4) lands at the middle of the left or right edge column 1 or 7, row 4.
    expect(y).toBe(4);
    expect([1, 7]).toContain(xx);
    // The map is (nearly) a quarter turn: cos ≈ 0.
    expect(Math.abs(affine[0])).toBeLessThan(0.02);
  });

  it('the standard set keeps the size, is seeded, and passes gradients', () => {
    const chain = standardTransforms(10, 9);
    const a = tf.tidy(() => applyTransforms(x(), chain, new Rng(3)).dataSync());
    const b = tf.tidy(() => applyTransforms(x(), chain, new Rng(3)).dataSync());
    expect(a.length).toBe(img.length);
    expect(Array.from(a)).toEqual(Array.from(b));
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => applyTransforms(t as tf.Tensor4D, chain, new Rng(3)).square().sum())(x()).abs().sum().dataSync()[0]);
    expect(g).toBeGreaterThan(0);
  });

  it('allocates nothing that outlives a tidy', () => {
    const input = x();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => { applyTransforms(input, standardTransforms(10, 9), new Rng(i), { fill: 0.5 }); });
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });
});
