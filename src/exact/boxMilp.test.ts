import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints } from '../constraints/index.js';
import type { ActmaxModel } from '../model/types.js';
import { subspaceInput } from '../prior/subspace.js';
import type { SubspacePrior } from '../prior/types.js';
import { shallowInput, shallowProblem, shallowValue } from './bnb/shallow.js';
import { solveShallowByMilp, solveShallowByMilpRows } from './boxMilp.js';
import type { ExactContext } from './context.js';
import { HighsSolver } from './highs.js';
import { joinInputConstraints } from './inputs.js';
import { maximizeExact } from './maximizeExact.js';
import { extractNetwork } from './network.js';
import { exactObjective } from './objective.js';
import { codeRows, liftSubspace } from './prior.js';
import { CodePolytope, unitRanges } from './polytopeBound.js';
import { loadHighsHere } from './highs-here.js';
import { floorRanges, type LpRunner } from './floorRanges.js';
import { reluCuts } from './reluCuts.js';
import { shallowMilp } from './shallowMilp.js';
import { mlp, preActivation, randomLayers, seeded } from './test-nets.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A 3-component prior in 6 features on a code box the pixel box [0,1]^6 cuts. */
function prior(seed: number): SubspacePrior {
  const rnd = seeded(seed);
  const rows: number[][] = [];
  while (rows.length < 3) {
    const v = Array.from({ length: 6 }, rnd);
    for (const r of rows) {
      const d = r.reduce((s, x, i) => s + x * v[i], 0);
      r.forEach((x, i) => (v[i] -= d * x));
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return { type: 'subspace', mean: Array(6).fill(0.5), basis: rows.flat(), components: 3, latent: { box: { lo: [-1.2, -1, -1.1], hi: [1.1, 1.3, 1] } }, source: 'test' };
}

/** The lifted MILP's proven maximum of logit 1 (the reference the box MILPs must meet). */
async function provenMaximum(model: ActmaxModel, constraints: Constraint[]): Promise<number> {
  const r = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, method: 'milp', warmStart: false, timeLimit: 20 });
  expect(r.status).toBe('optimal');
  return r.value!;
}

/** A random net's logit 1 under the prior of `seed` (box [0,1]^6), lifted to the code, with its shallow form. */
function boxProblem(seed: number) {
  const model = mlp(6, randomLayers([6, 10, 2], seed));
  const p0 = prior(seed);
  const constraints = [{ kind: 'box' as const, lo: 0, hi: 1 }, { kind: 'prior' as const, prior: p0 }];
  const rc = joinInputConstraints([resolveConstraints(constraints, model.inputs[0], 0)]);
  const lifted = liftSubspace(extractNetwork(model), p0, rc);
  const obj = exactObjective(model, lifted.net, { kind: 'logit', index: 1 });
  const shallow = shallowProblem(lifted.net, obj, lifted.set);
  if (!('problem' in shallow)) throw new Error(shallow.reason);
  return { model, p0, constraints, rc, lifted, obj, r: shallow };
}

describe('a prior box as the compact MILP (code, units, pixel rows, floor)', () => {
  for (const seed of [1]) {
    it(`random net ${seed}: the optimum equals the lifted MILP's; a floor above it closes the box without a point, one below keeps it`, async () => {
      const { model, constraints, lifted, obj, r } = boxProblem(seed);
      const reference = await maximizeExact(model, { kind: 'logit', index: 1 }, { constraints, method: 'milp', warmStart: false, timeLimit: 20 });
      expect(reference.status).toBe('optimal');
      const best = reference.value!;
      const ctx = { net: lifted.net, obj, name: 'logit:1', timeLimit: 20, gapTolerance: 0, options: {} } as unknown as ExactContext;
      const solver = await HighsSolver.start();
      try {
        const free = await solveShallowByMilp(ctx, r.problem, solver);
        expect(free.proven).toBe(true);
        expect(Math.abs(free.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        // The point's input lies in the pixel box.
        expect(Array.from(lifted.toInput(free.x!)).every((v) => v >= -1e-7 && v <= 1 + 1e-7)).toBe(true);
        const above = await solveShallowByMilp(ctx, r.problem, solver, best + 0.05 * Math.max(1, Math.abs(best)));
        expect([above.proven, above.x]).toEqual([true, null]);
        expect(above.bound!).toBeGreaterThanOrEqual(best);
        const below = await solveShallowByMilp(ctx, r.problem, solver, best - 0.05 * Math.max(1, Math.abs(best)));
        expect(below.proven).toBe(true);
        expect(Math.abs(below.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        // With one row at first (the rest brought in as points break them): the same optimum, a point in the pixel box, the same closed box.
        const centre = new Float64Array(r.problem.n).fill(0.5);
        const few = await solveShallowByMilpRows(ctx, r.problem, solver, undefined, centre, 1);
        expect(few.proven).toBe(true);
        expect(Math.abs(few.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        expect(Array.from(lifted.toInput(few.x!)).every((v) => v >= -1e-7 && v <= 1 + 1e-7)).toBe(true);
        const fewAbove = await solveShallowByMilpRows(ctx, r.problem, solver, best + 0.05 * Math.max(1, Math.abs(best)), centre, 1);
        expect([fewAbove.proven, fewAbove.x]).toEqual([true, null]);
        // A floor below the optimum: the first MILP stops at its first point above the floor, rows come in until one keeps them all, then the box's optimum.
        const fewBelow = await solveShallowByMilpRows(ctx, r.problem, solver, best - 0.05 * Math.max(1, Math.abs(best)), centre, 1);
        expect(fewBelow.proven).toBe(true);
        expect(Math.abs(fewBelow.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        expect(Array.from(lifted.toInput(fewBelow.x!)).every((v) => v >= -1e-7 && v <= 1 + 1e-7)).toBe(true);
      } finally {
        await solver.close();
      }
    });
  }

  it('with the units\' ranges over the polytope (some units then surely inactive): the same optimum from one row at first, the same closed box', async () => {
    let offUnits = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { model, p0, constraints, rc, lifted, obj, r } = boxProblem(seed);
      const p = r.problem;
      const poly = new CodePolytope(await loadHighsHere(), codeRows(p0, rc));
      const box = unitRanges(p);
      const range = poly.unitRanges(p, box);
      poly.dispose();
      offUnits += Array.from(range.hi).filter((u, j) => u <= 0 && box.hi[j] > 0).length;
      const best = await provenMaximum(model, constraints);
      const ctx = { net: lifted.net, obj, name: 'logit:1', timeLimit: 20, gapTolerance: 0, options: {} } as unknown as ExactContext;
      const solver = await HighsSolver.start();
      try {
        const centre = new Float64Array(p.n).fill(0.5);
        const few = await solveShallowByMilpRows(ctx, p, solver, undefined, centre, 1, range);
        expect(few.proven).toBe(true);
        expect(Math.abs(few.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        expect(Array.from(lifted.toInput(few.x!)).every((v) => v >= -1e-7 && v <= 1 + 1e-7)).toBe(true);
        const fewAbove = await solveShallowByMilpRows(ctx, p, solver, best + 0.05 * Math.max(1, Math.abs(best)), centre, 1, range);
        expect([fewAbove.proven, fewAbove.x]).toEqual([true, null]);
        const fewBelow = await solveShallowByMilpRows(ctx, p, solver, best - 0.05 * Math.max(1, Math.abs(best)), centre, 1, range);
        expect(fewBelow.proven).toBe(true);
        expect(Math.abs(fewBelow.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        // No pixel row at all: the MILP's point must still be valued as the network values it (the solve checks that).
        const rowless = await solveShallowByMilp(ctx, { ...p, A: new Float64Array(0), r: new Float64Array(0), rows: 0 }, solver, undefined, range);
        expect(rowless.x).not.toBeNull();
      } finally {
        await solver.close();
      }
    }
    // The seeds exercise the rows that keep a polytope-inactive unit off where only some pixel rows hold.
    expect(offUnits).toBeGreaterThan(0);
  });

  it('units\' ranges under a floor (OBBT with the objective ≥ floor): hold every sampled point of the polytope that reaches the floor, tighten beyond the polytope ranges, and the floored MILP with them gives the same optimum and the same closed box', async () => {
    let tighter = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { model, p0, constraints, rc, lifted, obj, r } = boxProblem(seed);
      const p = r.problem;
      const poly = new CodePolytope(await loadHighsHere(), codeRows(p0, rc));
      const polyRange = poly.unitRanges(p, unitRanges(p));
      poly.dispose();
      const best = await provenMaximum(model, constraints);
      // A floor between a typical value and the maximum: a tenth of the way down from the top of the sampled range.
      const rnd = seeded(100 + seed);
      const samples: Float64Array[] = [];
      while (samples.length < 3000) {
        const s = Float64Array.from({ length: p.n }, () => (rnd() + 1) / 2);
        if (subspaceInput(p0, shallowInput(p, s)).every((x) => x >= 0 && x <= 1)) samples.push(s);
      }
      const values = samples.map((s) => shallowValue(p, s));
      const floor = best - 0.1 * (best - Math.min(...values));
      const solver = await HighsSolver.start();
      const run: LpRunner = (rows, lo, hi, costs) => solver.solveLps(rows, lo, hi, costs, 20);
      const range = await floorRanges(run, p, polyRange, floor);
      expect(range.lps).toBeGreaterThan(0);
      let reaching = 0;
      samples.forEach((s, t) => {
        if (values[t] < floor) return;
        reaching++;
        for (let j = 0; j < p.m; j++) {
          const pre = preActivation(p, s, j);
          expect(pre).toBeLessThanOrEqual(range.hi[j] + 1e-9);
          expect(pre).toBeGreaterThanOrEqual(range.lo[j] - 1e-9);
        }
      });
      expect(reaching).toBeGreaterThan(0);
      for (let j = 0; j < p.m; j++) {
        expect(range.hi[j]).toBeLessThanOrEqual(polyRange.hi[j]);
        expect(range.lo[j]).toBeGreaterThanOrEqual(polyRange.lo[j]);
        if (range.hi[j] < polyRange.hi[j] - 1e-6 || range.lo[j] > polyRange.lo[j] + 1e-6) tighter++;
      }
      const ctx = { net: lifted.net, obj, name: 'logit:1', timeLimit: 20, gapTolerance: 0, options: {} } as unknown as ExactContext;
      try {
        const below = await solveShallowByMilp(ctx, p, solver, floor, range);
        expect(below.proven).toBe(true);
        expect(Math.abs(below.solverValue! - best)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(best)));
        const above = await solveShallowByMilp(ctx, p, solver, best + 0.05 * Math.max(1, Math.abs(best)), await floorRanges(run, p, polyRange, best + 0.05 * Math.max(1, Math.abs(best))));
        expect([above.proven, above.x]).toEqual([true, null]);
      } finally {
        await solver.close();
      }
    }
    // The floor cuts the polytope: some units' ranges narrow beyond what the rows alone give.
    expect(tighter).toBeGreaterThan(0);
  });

  it('root cuts of the ideal ReLU formulation: hold at every sampled point with its activation pattern, and lower the LP bound but never below the optimum', async () => {
    let lowered = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { model, constraints, r } = boxProblem(seed);
      const p = r.problem;
      const milp = shallowMilp(p, undefined, unitRanges(p));
      const highs = await loadHighsHere();
      const first = reluCuts(highs, p, milp, 1);
      const cuts = reluCuts(highs, p, milp);
      const best = await provenMaximum(model, constraints);
      expect(cuts.bound!).toBeGreaterThanOrEqual(best - 1e-6);
      expect(cuts.bound!).toBeLessThanOrEqual(first.bound! + 1e-9);
      if (cuts.bound! < first.bound! - 1e-6) lowered++;
      // Every cut holds at integer points: s in the box, h and δ as the network sets them.
      const index = new Map(milp.columns.map((c, i) => [c.name, i]));
      const rnd = seeded(50 + seed);
      for (let t = 0; t < 500; t++) {
        const x = new Float64Array(milp.columns.length);
        for (let i = 0; i < p.n; i++) x[i] = (rnd() + 1) / 2;
        for (let j = 0; j < p.m; j++) {
          const pre = preActivation(p, x, j);
          if (index.has(`h${j}`)) x[index.get(`h${j}`)!] = Math.max(0, pre);
          if (index.has(`d${j}`)) x[index.get(`d${j}`)!] = pre > 0 ? 1 : 0;
        }
        for (const row of cuts.rows) expect(row.idx.reduce((a, c, k) => a + row.coef[k] * x[c], 0)).toBeLessThanOrEqual(row.rhs + 1e-9);
      }
    }
    // The cuts bite somewhere: the relaxation's bound falls below its first LP's.
    expect(lowered).toBeGreaterThan(0);
  });

  it('a unit inactive on the polytope but not on the box gets its row: a MILP holding none of the rows stays where the unit is off', async () => {
    // logit = relu(x0 − 0.5) + 0.1·relu(x1) + 0.01·relu(x0) under x0 ≤ 0.4: the first unit is off there.
    const model = mlp(2, [[[1, 0, 1, 0, 1, 0], [-0.5, 0, 0]], [[1, 0.1, 0.01], [0]]]);
    const constraints = [{ kind: 'box' as const, lo: 0, hi: 1 }, { kind: 'linear' as const, a: [1, 0], b: 0.4 }];
    const rc = joinInputConstraints([resolveConstraints(constraints, model.inputs[0], 0)]);
    const net = extractNetwork(model);
    const obj = exactObjective(model, net, { kind: 'logit', index: 0 });
    const r = shallowProblem(net, obj, rc);
    if (!('problem' in r)) throw new Error(r.reason);
    const p = r.problem;
    expect(p.rows).toBe(1);
    const poly = new CodePolytope(await loadHighsHere(), { k: 2, rows: 1, G: Float64Array.of(1, 0), lower: Float64Array.of(-Infinity), upper: Float64Array.of(0.4) });
    const box = unitRanges(p);
    const range = poly.unitRanges(p, box);
    poly.dispose();
    expect(Array.from(range.hi).filter((u, j) => u <= 0 && box.hi[j] > 0).length).toBe(1);
    const ctx = { net, obj, name: 'logit:0', timeLimit: 20, gapTolerance: 0, options: {} } as unknown as ExactContext;
    const solver = await HighsSolver.start();
    try {
      // The unit's row keeps the MILP where the unit is off (x0 ≤ 0.5): 0.1 + 0.01·0.5. Without it the MILP would
      // ignore the unit and go to x0 = 1, where the network gives 0.61.
      const rowless = await solveShallowByMilp(ctx, { ...p, A: new Float64Array(0), r: new Float64Array(0), rows: 0 }, solver, undefined, range);
      expect(rowless.proven).toBe(true);
      expect(rowless.solverValue!).toBeCloseTo(0.105, 6);
      expect(rowless.x![0]).toBeLessThanOrEqual(0.5 + 1e-7);
    } finally {
      await solver.close();
    }
  });
});
