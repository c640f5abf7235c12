import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../optimize/rng.js';
import { realFourierBasis, spectrumScale } from './basis.js';
import { colorDecorrelation, colorDecorrelationInverse } from './color.js';
import { createParam, spectralPlane } from './param.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('real Fourier basis', () => {
  it.each([1, 2, 7, 8, 28])('is orthonormal for n = %i', (n) => {
    const { matrix } = realFourierBasis(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += matrix[t * n + i] * matrix[t * n + j];
      expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-5);
    }
  });

  it('scales the constant term most and the highest frequency least (1/f)', () => {
    const b = realFourierBasis(28);
    const s = spectrumScale(b, b, 1);
    expect(s[0]).toBeCloseTo(28, 4);
    expect(Math.min(...s)).toBeCloseTo(1 / Math.hypot(0.5, 0.5), 4);
  });
});

describe('spectral parameterisation round trip (image → spectrum → image)', () => {
  it('plain planes round-trip to 1e-5', () => {
    const rng = new Rng(1);
    for (const [h, w] of [[28, 28], [8, 8], [25, 31]]) {
      const img = Float64Array.from({ length: h * w }, () => rng.uniform());
      const { toImage, toSpectrum } = spectralPlane(h, w);
      expect(maxAbs(toImage(toSpectrum(img)), img)).toBeLessThan(1e-5);
    }
  });

  it.each([
    [[28, 28], false],
    [[16, 12, 1], false],
    [[16, 16, 3], true],
  ] as Array<[number[], boolean]>)('render(invert(x)) = x for shape %j (decorrelate %s) to 1e-5', (shape, decorrelate) => {
    const p = createParam({ kind: 'spectral', decorrelate }, shape, [0, 1])!;
    const rng = new Rng(2);
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, () => 0.1 + 0.8 * rng.uniform());
    const back = tf.tidy(() => p.render(tf.tensor2d(p.invert(x), [1, p.size])).dataSync());
    expect(maxAbs(back, x)).toBeLessThan(1e-5);
    p.dispose();
  });
});

describe('sigmoid and spectral keep the range by construction and pass gradients', () => {
  it.each(['sigmoid', 'spectral'] as const)('%s: any p renders inside [lo, hi], gradient is non-zero', (kind) => {
    const p = createParam(kind, [12, 12, 3], [-1, 2])!;
    const pv = tf.tensor2d(Float32Array.from({ length: 2 * p.size }, (_, i) => 50 * Math.sin(i)), [2, p.size]);
    const x = tf.tidy(() => p.render(pv).dataSync());
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...x)).toBeLessThanOrEqual(2);
    const g = tf.tidy(() => tf.grad((q: tf.Tensor) => p.render(q).sum())(pv.mul(0.001)).abs().sum().dataSync()[0]);
    expect(g).toBeGreaterThan(0);
    pv.dispose();
    p.dispose();
  });

  it('refuses spectral for a non-image input and decorrelation without 3 channels', () => {
    expect(() => createParam('spectral', [16], [0, 1], 'x')).toThrow(/needs an image input.*"x" has shape \[16\]/);
    expect(() => createParam({ kind: 'sigmoid', decorrelate: true }, [8, 8, 1], [0, 1])).toThrow(/needs 3 channels/);
    expect(() => createParam('sigmoid', [8, 8], [0, Infinity])).toThrow(/finite box/);
  });

  it('the colour matrix and its inverse multiply to the identity', () => {
    const m = colorDecorrelation(), inv = colorDecorrelationInverse();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += m[i * 3 + k] * inv[k * 3 + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 5);
    }
  });
});
