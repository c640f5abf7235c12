import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { resolveConstraints } from '../constraints/index.js';
import { subspaceInput } from '../prior/subspace.js';
import type { SubspacePrior } from '../prior/types.js';
import { shallowInput, shallowProblem, shallowValue, type ShallowProblem } from './bnb/shallow.js';
import { loadHighsHere } from './highs-here.js';
import { HighsSolver } from './highs.js';
import { joinInputConstraints } from './inputs.js';
import { maximizeExact } from './maximizeExact.js';
import { extractNetwork } from './network.js';
import { exactObjective } from './objective.js';
import { CodePolytope, codeDualBound, linearRelaxation, polytopeTuning, unitRanges } from './polytopeBound.js';
import { codeRows, liftSubspace } from './prior.js';
import { mlp, orthonormalRows, preActivation, randomLayers, seeded } from './test-nets.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A K-component prior in n features (orthonormal rows), on one code box wide enough that the pixel box [0,1]^n cuts it. */
function widePrior(rnd: () => number, n: number, k: number): SubspacePrior {
  const rows = orthonormalRows(rnd, n, k);
  const lo = Array.from({ length: k }, () => -1.2 + 0.2 * rnd());
  const hi = Array.from({ length: k }, () => 1.2 + 0.2 * rnd());
  return { type: 'subspace', mean: Array(n).fill(0.5), basis: rows.flat(), components: k, latent: { box: { lo, hi } }, source: 'test' };
}

async function setup(seed: number, n = 6, k = 3) {
  const rnd = seeded(seed);
  const model = mlp(n, randomLayers([n, 10, 2], seed));
  const prior = widePrior(rnd, n, k);
  const constraints = [{ kind: 'box' as const, lo: 0, hi: 1 }, { kind: 'prior' as const, prior }];
  const rc = joinInputConstraints([resolveConstraints(constraints, model.inputs[0], 0)]);
  const lifted = liftSubspace(extractNetwork(model), prior, rc);
  const obj = exactObjective(model, lifted.net, { kind: 'logit', index: 0 });
  const r = shallowProblem(lifted.net, obj, lifted.set);
  if (!('problem' in r)) throw new Error(r.reason);
  return { model, prior, constraints, rc, lifted, p: r.problem, rnd };
}

/** Largest objective over `count` random codes of the box whose input lies in the pixel box. */
/** The ReLU relaxation of a problem as a linear function of z (as CodePolytope builds it), with its code box. */
function relaxationInZ(p: ShallowProblem) {
  const { g, g0 } = linearRelaxation(p, unitRanges(p), null);
  return {
    zlo: Float64Array.from(p.lo),
    zhi: Float64Array.from(p.lo, (l, i) => l + p.span[i]),
    gz: Float64Array.from(g, (v, i) => v / p.span[i]),
    gz0: g.reduce((s, v, i) => s - (v * p.lo[i]) / p.span[i], g0),
  };
}

/** The LP over every code row, solved by HiGHS directly: its optimum and row duals. */
function allRowsLp(highs: Awaited<ReturnType<typeof loadHighsHere>>, rows: ReturnType<typeof codeRows>, r: ReturnType<typeof relaxationInZ>): { value: number; duals: Float64Array } {
  const model = highs.createModel();
  model.passModel({
    numCols: rows.k, numRows: rows.rows, sense: highs.constants.objectiveSense.maximize, offset: r.gz0, colCost: r.gz, colLower: r.zlo, colUpper: r.zhi,
    rowLower: rows.lower, rowUpper: rows.upper,
    matrix: { format: 'csr', numRows: rows.rows, numCols: rows.k, starts: Int32Array.from({ length: rows.rows + 1 }, (_, q) => q * rows.k), indices: Int32Array.from({ length: rows.rows * rows.k }, (_, t) => t % rows.k), values: rows.G },
  });
  model.options.set({ output_flag: false });
  model.run();
  const value = model.getObjectiveValue();
  const duals = Float64Array.from(model.getSolution().rowDual);
  model.dispose();
  return { value, duals };
}

function sampled(p: ShallowProblem, prior: SubspacePrior, rnd: () => number, count: number): number {
  let best = -Infinity;
  for (let t = 0; t < count; t++) {
    const s = Float64Array.from({ length: p.n }, () => (rnd() + 1) / 2);
    if (subspaceInput(prior, shallowInput(p, s)).every((x) => x >= 0 && x <= 1)) best = Math.max(best, shallowValue(p, s));
  }
  return best;
}

describe('polytope bound of a prior box (the pixel box read in the code)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`random net ${seed}: bound ≥ the MILP's proven maximum over the box ∩ pixel box, and below the same relaxation over the box alone`, async () => {
      const { model, prior, constraints, rc, p, rnd } = await setup(seed);
      const poly = new CodePolytope(await loadHighsHere(), codeRows(prior, rc));
      const { bound, lps } = poly.bound(p, 3);
      poly.dispose();
      expect(lps).toBeGreaterThanOrEqual(1);
      const exact = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, method: 'milp', warmStart: false, timeLimit: 20 });
      expect(exact.status).toBe('optimal');
      expect(bound).toBeGreaterThanOrEqual(exact.value! - 1e-9);
      expect(bound).toBeGreaterThanOrEqual(sampled(p, prior, rnd, 20000));
      // The pixel rows take part: the bound is below the first relaxation's maximum over the box alone.
      const { g, g0 } = linearRelaxation(p, unitRanges(p), null);
      expect(bound).toBeLessThan(g.reduce((t, v) => t + Math.max(0, v), g0) - 1e-6);
    });
  }

  it('units\' ranges over the polytope hold every pre-activation of the polytope, lie within the box ranges, tighten some; the bound with them still holds the maximum', async () => {
    for (const seed of [1, 2, 3]) {
      const { model, prior, constraints, rc, p, rnd } = await setup(seed);
      const poly = new CodePolytope(await loadHighsHere(), codeRows(prior, rc));
      const box = unitRanges(p);
      const range = poly.unitRanges(p, box);
      const { bound } = poly.bound(p, 2, range);
      poly.dispose();
      expect(range.lps).toBeGreaterThan(0);
      for (let j = 0; j < p.m; j++) {
        expect(range.lo[j]).toBeGreaterThanOrEqual(box.lo[j]);
        expect(range.hi[j]).toBeLessThanOrEqual(box.hi[j]);
      }
      expect(Array.from(range.hi).some((u, j) => u < box.hi[j] - 1e-6) || Array.from(range.lo).some((l, j) => l > box.lo[j] + 1e-6)).toBe(true);
      let inside = 0;
      for (let t = 0; t < 20000; t++) {
        const s = Float64Array.from({ length: p.n }, () => (rnd() + 1) / 2);
        if (!subspaceInput(prior, shallowInput(p, s)).every((x) => x >= 0 && x <= 1)) continue;
        inside++;
        for (let j = 0; j < p.m; j++) {
          const pre = preActivation(p, s, j);
          expect(pre).toBeLessThanOrEqual(range.hi[j] + 1e-9);
          expect(pre).toBeGreaterThanOrEqual(range.lo[j] - 1e-9);
        }
      }
      expect(inside).toBeGreaterThan(100);
      const exact = await maximizeExact(model, { kind: 'logit', index: 0 }, { constraints, method: 'milp', warmStart: false, timeLimit: 20 });
      expect(bound).toBeGreaterThanOrEqual(exact.value! - 1e-9);
    }
  });

  it('the certificate from the LP duals equals the LP optimum, and any multipliers give a valid bound', async () => {
    const { prior, rc, p } = await setup(5);
    const rows = codeRows(prior, rc);
    const highs = await loadHighsHere();
    const { zlo, zhi, gz, gz0 } = relaxationInZ(p);
    const { value: lpValue, duals } = allRowsLp(highs, rows, { zlo, zhi, gz, gz0 });
    const certified = codeDualBound(rows, gz, gz0, zlo, zhi, duals);
    expect(certified).toBeGreaterThanOrEqual(lpValue - 1e-9);
    expect(certified - lpValue).toBeLessThan(1e-7 * Math.max(1, Math.abs(lpValue)));
    // Zero multipliers: the box bound of the linear function; random ones: never below the LP optimum.
    const rnd = seeded(11);
    expect(codeDualBound(rows, gz, gz0, zlo, zhi, new Float64Array(rows.rows))).toBeGreaterThanOrEqual(lpValue - 1e-9);
    for (let t = 0; t < 20; t++) {
      const y = Float64Array.from({ length: rows.rows }, () => rnd());
      expect(codeDualBound(rows, gz, gz0, zlo, zhi, y)).toBeGreaterThanOrEqual(lpValue - 1e-9);
    }
  });

  it('one shared LP serves any number of boxes: its time limit is per LP, not counted from its first solve', async () => {
    const { prior, rc, p } = await setup(6, 300, 24);
    // A 50 ms limit per LP (each takes about a millisecond here), and ten times that in solves on the one
    // model: HiGHS counts its time_limit from the model's first run unless the clocks are zeroed,
    // and then every later LP stopped at once (bound Infinity).
    const saved = polytopeTuning.lpSeconds;
    polytopeTuning.lpSeconds = 0.05;
    const poly = new CodePolytope(await loadHighsHere(), codeRows(prior, rc));
    try {
      const { zlo, zhi, gz, gz0 } = relaxationInZ(p);
      const first = poly.maximize(gz, gz0, zlo, zhi).bound;
      expect(Number.isFinite(first)).toBe(true);
      const t0 = performance.now();
      for (let runs = 0; performance.now() - t0 < 600 && runs < 200_000; runs++) {
        poly.maximize(Float64Array.from(gz, (v, i) => (runs % 2 === 0 && i === 0 ? -v : v)), gz0, zlo, zhi);
      }
      expect(poly.maximize(gz, gz0, zlo, zhi).bound).toBeCloseTo(first, 9);
    } finally {
      polytopeTuning.lpSeconds = saved;
      poly.dispose();
    }
  });

  it('the solver thread\'s batches of LPs (range tightening) give every LP its own time limit too', async () => {
    const { prior, rc, p, rnd } = await setup(6, 300, 24);
    const rows = codeRows(prior, rc);
    const { zlo, zhi } = relaxationInZ(p);
    const costs = Array.from({ length: 400 }, () => Float64Array.from({ length: rows.k }, () => rnd() - 0.5));
    const saved = polytopeTuning.lpSeconds;
    polytopeTuning.lpSeconds = 0.05;
    const solver = await HighsSolver.start();
    try {
      const duals = await solver.solveLps(rows, zlo, zhi, costs, 60);
      // Each LP is certified from its duals: a finite bound for every one of the 400.
      expect(duals.map((y, t) => (y ? Number.isFinite(codeDualBound(rows, costs[t], 0, zlo, zhi, y)) : false)).filter((ok) => !ok)).toHaveLength(0);
    } finally {
      polytopeTuning.lpSeconds = saved;
      await solver.close();
    }
  });

  it('row generation reaches the all-rows LP optimum with a maximiser that satisfies every row', async () => {
    for (const seed of [6, 7]) {
      const { prior, rc, p } = await setup(seed);
      const rows = codeRows(prior, rc);
      const highs = await loadHighsHere();
      const poly = new CodePolytope(highs, rows);
      const relaxed = relaxationInZ(p);
      const { zlo, zhi, gz, gz0 } = relaxed;
      const lpValue = allRowsLp(highs, rows, relaxed).value;
      const out = poly.maximize(gz, gz0, zlo, zhi);
      expect(out.bound).toBeGreaterThanOrEqual(lpValue - 1e-9);
      expect(out.bound - lpValue).toBeLessThan(1e-7 * Math.max(1, Math.abs(lpValue)));
      // The maximiser satisfies every row, though the LP holds only some of them.
      for (let q = 0; q < rows.rows; q++) {
        const gq = rows.G.subarray(q * rows.k, (q + 1) * rows.k).reduce((t, v, c) => t + v * out.z![c], 0);
        expect(gq).toBeLessThanOrEqual(rows.upper[q] + 1e-7);
        expect(gq).toBeGreaterThanOrEqual(rows.lower[q] - 1e-7);
      }
      poly.dispose();
    }
  });
});

