import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { resolveConstraints } from '../constraints/index.js';
import { intervalBounds, type Bounds } from './bounds.js';
import { HighsSolver } from './highs.js';
import { tightenBounds } from './maximizeExact.js';
import { extractNetwork, forwardValues, type PLNetwork } from './network.js';
import { mlp, seeded } from './test-nets.js';

let solver: HighsSolver;
beforeAll(async () => {
  await useBackend('cpu');
  solver = await HighsSolver.start();
});
afterAll(async () => {
  await solver.close();
});

function randomMlp(widths: number[], seed: number) {
  const rnd = seeded(seed);
  const layers: Array<[number[], number[]]> = [];
  for (let l = 1; l < widths.length; l++) layers.push([Array.from({ length: widths[l - 1] * widths[l] }, rnd), Array.from({ length: widths[l] }, () => rnd() * 0.3)]);
  return mlp(widths[0], layers);
}

/** Every variable's value at many random inputs of the box lies within the bounds. */
function containsSamples(net: PLNetwork, b: Bounds, lo: number, hi: number, seed: number): boolean {
  const rnd = seeded(seed);
  for (let t = 0; t < 2000; t++) {
    const x = Array.from({ length: net.inputSize }, () => lo + ((rnd() + 1) / 2) * (hi - lo));
    const v = forwardValues(net, x);
    for (let i = 0; i < v.length; i++) if (v[i] < b.lo[i] - 1e-9 || v[i] > b.hi[i] + 1e-9) return false;
  }
  return true;
}

describe('bounds', () => {
  it('interval arithmetic and LP tightening both contain every reachable value; LP is tighter on deeper layers', async () => {
    const model = randomMlp([3, 8, 8, 8, 2], 91);
    const net = extractNetwork(model);
    const rc = resolveConstraints([], model.inputs[0], 0);
    const ia = intervalBounds(net, rc.lo, rc.hi);
    expect(containsSamples(net, ia, 0, 1, 1)).toBe(true);
    const { bounds, tightened } = await tightenBounds(net, rc, ia, solver, 30);
    expect(containsSamples(net, bounds, 0, 1, 2)).toBe(true);
    expect(tightened).toBeGreaterThan(0);
    let shrunk = 0;
    for (let v = 0; v < net.vars.length; v++) {
      expect(bounds.lo[v]).toBeGreaterThanOrEqual(ia.lo[v] - 1e-12);
      expect(bounds.hi[v]).toBeLessThanOrEqual(ia.hi[v] + 1e-12);
      shrunk += ia.hi[v] - ia.lo[v] - (bounds.hi[v] - bounds.lo[v]);
    }
    expect(shrunk).toBeGreaterThan(0);
  });
});
