import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { principalComponents, projectExamples } from './pca.js';
import { mulberry32 } from '../optimize/rng.js';

/** Examples with a planted low-rank structure plus noise. */
function sample(count: number, n: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const dirs = Array.from({ length: 3 }, () => Float64Array.from({ length: n }, () => rand() - 0.5));
  const out = new Float64Array(count * n);
  for (let r = 0; r < count; r++) {
    const w = [4 * (rand() - 0.5), 2 * (rand() - 0.5), rand() - 0.5];
    for (let i = 0; i < n; i++) out[r * n + i] = 0.3 + w[0] * dirs[0][i] + w[1] * dirs[1][i] + w[2] * dirs[2][i] + 0.05 * (rand() - 0.5);
  }
  return out;
}

/** The reference: SVD of the centred data matrix. */
function reference(data: Float64Array, count: number, n: number) {
  const m = new Matrix(count, n);
  const mean = new Float64Array(n);
  for (let r = 0; r < count; r++) for (let i = 0; i < n; i++) mean[i] += data[r * n + i] / count;
  for (let r = 0; r < count; r++) for (let i = 0; i < n; i++) m.set(r, i, data[r * n + i] - mean[i]);
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  return { mean, values: svd.diagonal.map((s) => (s * s) / count), vectors: svd.rightSingularVectors };
}

describe('principalComponents', () => {
  for (const [count, n] of [[200, 12], [9, 30]] as const) {
    it(`matches the SVD of the centred data (${count} examples × ${n} features, ${count > n ? 'covariance' : 'Gram'} route)`, () => {
      const data = sample(count, n, count);
      const k = 4;
      const pca = principalComponents(data, count, n, k);
      const ref = reference(data, count, n);
      for (let i = 0; i < n; i++) expect(pca.mean[i]).toBeCloseTo(ref.mean[i], 12);
      for (let c = 0; c < k; c++) {
        expect(pca.variances[c]).toBeCloseTo(ref.values[c], 9);
        const u = pca.components.subarray(c * n, (c + 1) * n);
        const v = ref.vectors.getColumn(c);
        const dot = u.reduce((s, x, i) => s + x * v[i], 0);
        expect(Math.abs(dot)).toBeCloseTo(1, 9); // same direction up to sign
      }
      // Orthonormal rows, deterministic sign: the largest entry is positive.
      for (let a = 0; a < k; a++) {
        const ua = pca.components.subarray(a * n, (a + 1) * n);
        const big = ua.reduce((b, x, i) => (Math.abs(x) > Math.abs(ua[b]) ? i : b), 0);
        expect(ua[big]).toBeGreaterThan(0);
        for (let b = 0; b < k; b++) {
          const ub = pca.components.subarray(b * n, (b + 1) * n);
          expect(ua.reduce((s, x, i) => s + x * ub[i], 0)).toBeCloseTo(a === b ? 1 : 0, 9);
        }
      }
    });
  }

  it('codes have the component variances and zero mean', () => {
    const data = sample(300, 10, 3);
    const pca = principalComponents(data, 300, 10, 3);
    const z = projectExamples(pca, data, 300);
    for (let c = 0; c < 3; c++) {
      let s = 0, s2 = 0;
      for (let r = 0; r < 300; r++) (s += z[r * 3 + c]), (s2 += z[r * 3 + c] ** 2);
      expect(s / 300).toBeCloseTo(0, 9);
      expect(s2 / 300).toBeCloseTo(pca.variances[c], 9);
    }
  });

  it('refuses more components than the examples span, in one line', () => {
    expect(() => principalComponents(sample(5, 10, 1), 5, 10, 5)).toThrow(/at most 4 components; asked for 5/);
  });
});
