import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Milp } from './encode.js';
import { HighsSolver } from './highs.js';
import { seeded } from './test-nets.js';

let solver: HighsSolver;
beforeAll(async () => {
  solver = await HighsSolver.start();
});
afterAll(async () => {
  await solver.close();
});

/** A strongly correlated 0/1 knapsack (value = weight + 10): hard enough that its first point is not proven at the root. */
function knapsack(items: number, seed: number): { milp: Milp; weights: number[]; capacity: number } {
  const rnd = seeded(seed);
  const weights = Array.from({ length: items }, () => 20 + Math.round(((rnd() + 1) / 2) * 80));
  const capacity = Math.round(weights.reduce((a, b) => a + b, 0) / 2);
  const idx = weights.map((_, i) => i);
  const milp: Milp = {
    columns: weights.map((_, i) => ({ name: `x${i}`, lo: 0, hi: 1, integer: true })),
    rows: [{ name: 'capacity', idx, coef: weights, sense: '<=', rhs: capacity }],
    objective: { idx, coef: weights.map((w) => w + 10), c: 0 },
    inputCols: [],
    varCol: new Int32Array(0),
    varScale: new Float64Array(0),
    sources: [],
    stats: { unstable: 0, stable: 0, binaries: items, withoutBinary: 0, integers: items },
  };
  return { milp, weights, capacity };
}

describe('HighsSolver.solveMip', () => {
  it('stopAtSolution: returns the first point HiGHS finds (interrupted, feasible, not above the optimum); without it the proven optimum', async () => {
    const { milp, weights, capacity } = knapsack(40, 3);
    const full = await solver.solveMip(milp, { timeLimit: 30, gapTolerance: 0 });
    expect(full.status).toBe('optimal');
    const first = await solver.solveMip(milp, { timeLimit: 30, gapTolerance: 0, stopAtSolution: true });
    expect(first.status).toBe('interrupted');
    expect(first.colValue).not.toBeNull();
    const x = Array.from(first.colValue!.subarray(0, weights.length), Math.round);
    expect(x.every((v, i) => Math.abs(v - first.colValue![i]) < 1e-6)).toBe(true);
    expect(x.reduce((s, v, i) => s + v * weights[i], 0)).toBeLessThanOrEqual(capacity);
    expect(first.objective!).toBeLessThanOrEqual(full.objective! + 1e-9);
    expect(first.nodes).toBeLessThan(full.nodes + 1);
  });
});
