import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../optimize/rng.js';
import { buildStoredPrior, decodeStoredPrior, encodeStoredPrior, storedQuantile } from './store.js';
import { subspaceCode, subspaceInput, subspacePrior, subspaceResidual } from './subspace.js';

function examples(count: number, n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(count * n);
  for (let r = 0; r < count; r++) {
    const a = rand() * 2 - 1, b = rand() - 0.5;
    for (let i = 0; i < n; i++) out[r * n + i] = 0.5 + 0.3 * a * Math.sin(i) + 0.2 * b * Math.cos(2 * i) + 0.01 * (rand() - 0.5);
  }
  return out;
}

describe('stored priors', () => {
  const data = examples(400, 16, 1);
  const stored = buildStoredPrior(data, 400, [4, 4], 5, 'test examples');

  it('round-trips through the JSON header and float32 binary exactly', () => {
    const { header, binary } = encodeStoredPrior(stored, 'p.bin');
    const back = decodeStoredPrior(JSON.parse(JSON.stringify(header)), binary, 'p.json');
    expect(back.shape).toEqual([4, 4]);
    expect(Array.from(back.basis)).toEqual(Array.from(stored.basis));
    expect(Array.from(back.codeQuantiles)).toEqual(Array.from(stored.codeQuantiles));
    expect(() => decodeStoredPrior(header, binary.subarray(4), 'p.json')).toThrow(/p.json is not a usable actmax prior: its binary has \d+ bytes, expected \d+/);
  });

  it('quantile tables hold the codes\' percentiles: 0.5–99.5 % contains 99 % of the examples per component', () => {
    const prior = subspacePrior(stored, 3);
    for (let c = 0; c < 3; c++) {
      let inside = 0;
      for (let r = 0; r < 400; r++) {
        const z = subspaceCode(prior, data.subarray(r * 16, (r + 1) * 16))[c];
        if (z >= prior.latent.box!.lo[c] && z <= prior.latent.box!.hi[c]) inside++;
      }
      expect(inside / 400).toBeGreaterThanOrEqual(0.985);
      expect(inside / 400).toBeLessThanOrEqual(1);
    }
    // The median Mahalanobis norm splits the examples in half.
    const ball = subspacePrior(stored, 3, { ball: { percentile: 50 } });
    expect(ball.latent.ball!.radius).toBeCloseTo(storedQuantile(stored.normQuantiles, 2, 50), 12);
    expect(ball.latent.box).toBeUndefined();
  });

  it('inputs of codes lie in the prior (residual ~0); an input off the subspace does not', () => {
    const prior = subspacePrior(stored, 2);
    const x = subspaceInput(prior, [0.1, -0.05]);
    expect(subspaceResidual(prior, x)).toBeLessThan(1e-6);
    const off = Array.from(x);
    off[3] += 0.2;
    expect(subspaceResidual(prior, off)).toBeGreaterThan(0.05);
  });

  it('refuses K beyond the stored components in one line', () => {
    expect(() => subspacePrior(stored, 6)).toThrow(/subspace:6: this prior holds 5 components; choose K in 1…5/);
  });
});
