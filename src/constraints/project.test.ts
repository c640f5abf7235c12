import { describe, expect, it } from 'vitest';
import { ActmaxError } from '../errors.js';
import type { Constraint } from './constraint.js';
import {
  box,
  checkConstraintInputs,
  l1,
  l2,
  levels,
  linear,
  linf,
  mask,
  oneHot,
  projectInPlace,
  projectRow,
  residuals,
  resolveConstraints,
  roundOneHot,
  roundToLevels,
  type ResolvedConstraints,
} from './index.js';
import { mulberry32 } from '../optimize/rng.js';

/** Small seeded generator so every run sees the same points. */
const rng = mulberry32;

const resolve = (cs: Constraint[], n: number, initial?: Float32Array): ResolvedConstraints =>
  resolveConstraints(cs, { name: 'x', shape: [n], range: [0, 1] }, 0, initial);

const project = (z: ArrayLike<number>, rc: ResolvedConstraints): Float64Array => {
  const out = new Float64Array(rc.n);
  projectRow(Float64Array.from(z), out, rc);
  return out;
};

const maxResidual = (x: ArrayLike<number>, rc: ResolvedConstraints): number =>
  Math.max(...Object.entries(residuals(x, rc)).filter(([k]) => k !== 'levels').map(([, v]) => v));

const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

const randomVector = (r: () => number, n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, () => lo + (hi - lo) * r());

/**
 * Optimality certificate: p is the projection of z onto a closed convex set C iff p ∈ C and
 * ⟨z − p, y − p⟩ ≤ 0 for every y ∈ C. Checks it against many feasible y: projections of random
 * points, points near p, and convex combinations of those.
 */
function expectOptimal(z: Float64Array, p: Float64Array, rc: ResolvedConstraints, r: () => number, spread: number): void {
  expect(maxResidual(p, rc)).toBeLessThanOrEqual(1e-6);
  const ys: Float64Array[] = [];
  for (let k = 0; k < 60; k++) {
    const near = Float64Array.from(p, (v) => v + (r() - 0.5) * 0.2);
    ys.push(project(k % 2 === 0 ? near : randomVector(r, rc.n, -spread, spread), rc));
  }
  for (let k = 0; k < 40; k++) {
    const a = ys[Math.floor(r() * ys.length)];
    const b = ys[Math.floor(r() * ys.length)];
    const t = r();
    ys.push(Float64Array.from(a, (v, i) => t * v + (1 - t) * b[i]));
  }
  for (const y of ys) {
    expect(maxResidual(y, rc)).toBeLessThanOrEqual(1e-6);
    let inner = 0;
    for (let i = 0; i < rc.n; i++) inner += (z[i] - p[i]) * (y[i] - p[i]);
    expect(inner).toBeLessThanOrEqual(1e-7);
  }
}

/** Projection onto {‖x‖₁ ≤ eps} by sorting (Duchi et al. 2008): an independent reference. */
function l1BallBySorting(v: number[], eps: number): number[] {
  const abs = v.map(Math.abs);
  if (abs.reduce((a, b) => a + b, 0) <= eps) return v.slice();
  const u = abs.slice().sort((a, b) => b - a);
  let cum = 0;
  let theta = 0;
  for (let j = 0; j < u.length; j++) {
    cum += u[j];
    const t = (cum - eps) / (j + 1);
    if (u[j] - t > 0) theta = t;
  }
  return v.map((x) => Math.sign(x) * Math.max(Math.abs(x) - theta, 0));
}

/** Projection onto the probability simplex by sorting: an independent reference. */
function simplexBySorting(v: number[]): number[] {
  const u = v.slice().sort((a, b) => b - a);
  let cum = 0;
  let theta = 0;
  for (let j = 0; j < u.length; j++) {
    cum += u[j];
    const t = (cum - 1) / (j + 1);
    if (u[j] - t > 0) theta = t;
  }
  return v.map((x) => Math.max(x - theta, 0));
}

/**
 * Brute force in 2-D: the closest feasible point of a fine grid over [-1, 2]² (spacing 0.0075)
 * among the grid points within `radius` of z; Infinity when none is. Called with radius =
 * dist(p, z) it answers exactly "does a feasible grid point beat p?": the others are farther.
 */
function closestOnGrid(z: number[], rc: ResolvedConstraints, radius: number, steps = 400): number {
  let best = Infinity;
  const pt = new Float64Array(2);
  const index = (v: number) => ((v + 1) * steps) / 3;
  const range = (c: number) => [Math.max(0, Math.floor(index(c - radius)) - 1), Math.min(steps, Math.ceil(index(c + radius)) + 1)];
  const [a0, a1] = range(z[0]);
  const [b0, b1] = range(z[1]);
  for (let a = a0; a <= a1; a++) {
    for (let b = b0; b <= b1; b++) {
      pt[0] = -1 + (3 * a) / steps;
      pt[1] = -1 + (3 * b) / steps;
      // A point no closer than the best so far, or farther than the radius, cannot change the answer.
      const d = dist(pt, z);
      if (d >= best || d > radius || maxResidual(pt, rc) > 0) continue;
      best = d;
    }
  }
  return best;
}

describe('box ∩ one set: optimal (brute force in 2-D, variational inequality in 30-D)', () => {
  const cases: Array<[string, (r: () => number, n: number) => Constraint[]]> = [
    // References partly outside the box; radii grow with n so that the ball still meets it.
    ['box ∩ L2', (r, n) => [l2(randomVector(r, n, -0.3, 1.3), (0.25 + 0.5 * r()) * Math.sqrt(n / 2))]],
    ['box ∩ L2, reference inside the box', (r, n) => [l2(randomVector(r, n, 0, 1), (0.1 + 0.4 * r()) * Math.sqrt(n))]],
    ['box ∩ L2, reference on the boundary', (r, n) => [l2(randomVector(r, n, 0, 1).map((v) => (v < 0.3 ? 0 : v > 0.7 ? 1 : v)), 0.3 * Math.sqrt(n))]],
    ['box ∩ L1', (r, n) => [l1(randomVector(r, n, -0.3, 1.3), ((0.3 + 0.6 * r()) * n) / 2)]],
    ['box ∩ halfspace', (r, n) => [linear(randomVector(r, n, -1, 1), 0.2 * r())]],
    ['box ∩ L∞', (r, n) => [linf(randomVector(r, n, 0, 1), 0.2)]],
    ['box ∩ simplex', (_r, n) => [box(-0.5, 0.8), oneHot([...Array(n).keys()])]],
  ];
  for (const [name, make] of cases) {
    it(`${name}: 2-D grid search finds no closer feasible point`, () => {
      const r = rng(name.length * 7);
      for (let trial = 0; trial < 6; trial++) {
        const rc = resolve(make(r, 2), 2);
        const z = randomVector(r, 2, -1, 2);
        const p = project(z, rc);
        expect(maxResidual(p, rc)).toBeLessThanOrEqual(1e-9);
        // The grid spacing is 0.0075: it can only beat p by rounding error.
        expect(dist(p, z)).toBeLessThanOrEqual(closestOnGrid(z, rc, dist(p, z)) + 1e-9);
      }
    });
    it(`${name}: feasible, idempotent and optimal in 30-D`, () => {
      const r = rng(name.length * 13);
      for (let trial = 0; trial < 8; trial++) {
        const rc = resolve(make(r, 30), 30);
        const z = Float64Array.from(randomVector(r, 30, -1, 2));
        const p = project(z, rc);
        expectOptimal(z, p, rc, r, 2);
        const again = project(p, rc);
        expect(dist(again, p)).toBeLessThanOrEqual(1e-9);
      }
    });
  }
});

describe('intersections of several sets (Dykstra): feasible, idempotent, optimal', () => {
  const n = 20;
  const mixes: Array<[string, (r: () => number) => Constraint[]]> = [
    [
      'box ∩ L2 ∩ halfspace ∩ mask',
      (r) => {
        // The ball's centre keeps the masked values and the hyperplane cuts through the ball.
        const ref = randomVector(r, n, 0.2, 0.8);
        const a = randomVector(r, n, -1, 1);
        const b = a.reduce((s, v, i) => s + v * ref[i], 0) - 0.2;
        return [l2(ref, 0.8), linear(a, b), mask(Array.from({ length: n }, (_, i) => i % 4 !== 0), ref)];
      },
    ],
    ['box ∩ L1 ∩ L2', (r) => [l1(randomVector(r, n, 0.3, 0.7), 1.5), l2(randomVector(r, n, 0.3, 0.7), 0.6)]],
    [
      'box ∩ L∞ ∩ L2 ∩ two halfspaces',
      (r) => {
        const ref = randomVector(r, n, 0.3, 0.7);
        return [linf(ref, 0.3), l2(ref, 0.5), linear(randomVector(r, n, 0, 1), 5), linear(randomVector(r, n, -1, 0), -3)];
      },
    ],
    [
      'box ∩ one-hot groups ∩ halfspace ∩ L2',
      (r) => [oneHot([0, 1, 2, 3]), oneHot([7, 9, 11]), linear(randomVector(r, n, -1, 1), 1), l2(randomVector(r, n, 0, 1), 2)],
    ],
  ];
  for (const [name, make] of mixes) {
    it(name, () => {
      const r = rng(name.length);
      for (let trial = 0; trial < 5; trial++) {
        const rc = resolve(make(r), n);
        const z = Float64Array.from(randomVector(r, n, -1, 2));
        const p = project(z, rc);
        expectOptimal(z, p, rc, r, 2);
        expect(dist(project(p, rc), p)).toBeLessThanOrEqual(1e-8);
      }
    });
  }

  it('box ∩ L2 ∩ halfspace in 2-D: grid search finds no closer feasible point', () => {
    const r = rng(99);
    const rc = resolve([l2([0.3, 0.4], 0.5), linear([1, 1], 0.6)], 2);
    for (let trial = 0; trial < 6; trial++) {
      const z = randomVector(r, 2, -1, 2);
      const p = project(z, rc);
      expect(maxResidual(p, rc)).toBeLessThanOrEqual(1e-8);
      expect(dist(p, z)).toBeLessThanOrEqual(closestOnGrid(z, rc, dist(p, z)) + 1e-8);
    }
  });
});

describe('box ∩ L2 at image size', () => {
  it('784 features, reference inside the box: optimal for several radii, including 0', () => {
    const r = rng(21);
    const n = 784;
    const ref = randomVector(r, n, 0, 1).map((v) => (v < 0.2 ? 0 : v > 0.9 ? 1 : v));
    for (const eps of [0, 0.5, 2, 6, 12]) {
      const rc = resolve([l2(ref, eps)], n);
      for (let trial = 0; trial < 3; trial++) {
        const z = Float64Array.from(randomVector(r, n, -0.6, 1.6));
        const p = project(z, rc);
        expectOptimal(z, p, rc, r, 1.6);
        if (eps === 0) p.forEach((v, i) => expect(v).toBe(ref[i]));
      }
    }
  });
});

describe('projectInPlace on float32 batches', () => {
  it('every row satisfies every constraint to 1e-6 and a second projection changes nothing beyond 1e-6', () => {
    const r = rng(5);
    const n = 64;
    const rows = 40;
    const ref = randomVector(r, n, 0, 1);
    const lists: Constraint[][] = [
      [],
      [linf(ref, 0.1)],
      [l2(ref, 1)],
      [l1(ref, 3)],
      [linear(randomVector(r, n, -1, 1), -1)],
      [oneHot([1, 5, 9]), oneHot([2, 3])],
      [mask(Array.from({ length: n }, (_, i) => i < 32), ref), l2(ref, 0.5), linear(Array(n).fill(1), ref.reduce((s, v) => s + v, 0) - 0.3)],
    ];
    for (const cs of lists) {
      const rc = resolve(cs, n);
      const x = Float32Array.from(randomVector(r, rows * n, -2, 3));
      projectInPlace(x, rows, rc);
      for (let k = 0; k < rows; k++) expect(maxResidual(x.subarray(k * n, (k + 1) * n), rc)).toBeLessThanOrEqual(1e-6);
      const again = x.slice();
      projectInPlace(again, rows, rc);
      for (let i = 0; i < x.length; i++) expect(Math.abs(again[i] - x[i])).toBeLessThanOrEqual(1e-6);
    }
  });

  it('projects a 1000 × 784 batch onto box ∩ L2 row by row (each row equals its own projection)', () => {
    const r = rng(8);
    const n = 784;
    const ref = randomVector(r, n, 0, 1);
    const rc = resolve([l2(ref, 2)], n);
    const x = Float32Array.from(randomVector(r, 1000 * n, -0.5, 1.5));
    const rowsBefore = [0, 517, 999].map((k) => x.slice(k * n, (k + 1) * n));
    projectInPlace(x, 1000, rc);
    expect(maxResidual(x, rc)).toBeLessThanOrEqual(1e-6);
    [0, 517, 999].forEach((k, j) => {
      const single = project(rowsBefore[j], rc);
      for (let i = 0; i < n; i++) expect(Math.abs(x[k * n + i] - single[i])).toBeLessThanOrEqual(1e-6);
    });
  });
});

describe('rounding at the end', () => {
  it('levels(256) on the default box gives k/255', () => {
    const rc = resolve([levels(256)], 50);
    const r = rng(3);
    const x = Float32Array.from(randomVector(r, 100, 0, 1));
    roundToLevels(x, 2, rc);
    for (const v of x) expect(v).toBe(Math.fround(Math.round(v * 255) / 255));
    expect(residuals(x, rc).levels).toBeLessThanOrEqual(1e-7);
  });

  it('levels stay inside an L∞ ball and leave masked features alone', () => {
    const n = 30;
    const r = rng(4);
    const ref = randomVector(r, n, 0, 1);
    const editable = Array.from({ length: n }, (_, i) => i % 2 === 0);
    const rc = resolve([box(0, 1), levels(5), linf(ref, 0.2), mask(editable, ref)], n);
    const x = Float64Array.from(randomVector(r, n, -1, 2));
    projectInPlace(x, 1, rc);
    roundToLevels(x, 1, rc);
    expect(residuals(x, rc).linf).toBeLessThanOrEqual(1e-12);
    expect(residuals(x, rc).mask).toBe(0);
    for (let i = 0; i < n; i += 2) expect([0, 0.25, 0.5, 0.75, 1]).toContain(x[i]);
  });

  it('roundOneHot: the largest member becomes 1, the others 0', () => {
    const rc = resolve([oneHot([0, 1, 2]), oneHot([4, 3])], 6);
    const x = Float64Array.from([0.2, 0.7, 0.1, 0.45, 0.55, 0.3, 0.6, 0.3, 0.1, 0.9, 0.1, 0.8]);
    roundOneHot(x, 2, rc);
    expect(Array.from(x)).toEqual([0, 1, 0, 0, 1, 0.3, 1, 0, 0, 1, 0, 0.8]);
  });
});

describe('residuals', () => {
  it('names each constraint and measures its violation', () => {
    const rc = resolve([l2([0, 0, 0], 1), l1([0, 0, 0], 1), linf([0, 0, 0], 0.5), linear([1, 1, 0], 0.5), oneHot([1, 2])], 3);
    const res = residuals([0.6, 0.8, 0], rc);
    expect(Object.keys(res).sort()).toEqual(['box', 'l1', 'l2', 'linear[0]', 'linf', 'oneHot[0]'].sort());
    expect(res.box).toBe(0);
    expect(res.l2).toBeCloseTo(0, 12);
    expect(res.l1).toBeCloseTo(0.4, 12);
    expect(res.linf).toBeCloseTo(0.3, 12);
    expect(res['linear[0]']).toBeCloseTo(0.9, 12);
    expect(res['oneHot[0]']).toBeCloseTo(0.2, 12);
    expect(residuals([-0.5, 0, 1], rc).box).toBeCloseTo(0.5, 12);
  });
});

describe('which input a constraint is for', () => {
  it('skips constraints for other inputs; omitted input means input 0', () => {
    const info = { name: 'meta', shape: [2], range: [0, 1] as [number, number] };
    const cs: Constraint[] = [{ ...box(-5, 5), input: 'meta' }, box(0.4, 0.6), { ...levels(3), input: 1 }];
    const rc = resolveConstraints(cs, info, 1);
    expect(Array.from(rc.lo)).toEqual([-5, -5]);
    expect(rc.levels).toBe(3);
    const rc0 = resolveConstraints(cs, { ...info, name: 'img' }, 0);
    expect(Array.from(rc0.lo)).toEqual([0.4, 0.4]);
    expect(rc0.levels).toBeNull();
  });

  it('checkConstraintInputs rejects an unknown input', () => {
    expect(() => checkConstraintInputs([{ ...levels(4), input: 'imgs' }], ['img', 'meta'])).toThrow(
      /levels constraint names input "imgs", but the model's inputs are 0: "img", 1: "meta"/,
    );
  });
});

describe('validation messages', () => {
  const fails = (cs: Constraint[], code: string, message: RegExp, n = 4, initial?: Float32Array): void => {
    let err: unknown;
    try {
      resolve(cs, n, initial);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActmaxError);
    expect((err as ActmaxError).code).toBe(code);
    expect((err as ActmaxError).message).toMatch(message);
    expect((err as ActmaxError).message).not.toContain('\n');
  };

  it('vector lengths', () => {
    fails([l2([0, 0, 0], 1)], 'bad-input', /l2 ball on input "x": ref has 3 values, expected 4 \(shape 4\)/);
    fails([box([0, 0], 1)], 'bad-input', /box on input "x": lo has 2 values, expected 4/);
    fails([linear([1], 1)], 'bad-input', /a has 1 values, expected 4/);
    fails([mask([true])], 'bad-input', /mask on input "x": editable has 1 values, expected 4/);
    fails([levels(4)], 'bad-input', /initial input for input "x" has 2 values, expected 4/, 4, new Float32Array(2));
  });

  it('bad values', () => {
    fails([l2([0, 0, 0, 0], -1)], 'bad-spec', /eps is -1, expected eps ≥ 0/);
    fails([linf([0, NaN, 0, 0], 1)], 'bad-spec', /linf ball on input "x": ref\[1\] is NaN, expected a finite number/);
    fails([box(NaN, 1)], 'bad-spec', /lo is NaN/);
    fails([linear([0, 0, 0, 0], NaN)], 'bad-spec', /b is NaN/);
    fails([{ kind: 'ball', ref: [0, 0, 0, 0], eps: 1, p: 3 as 2 }], 'bad-spec', /p is 3, expected 1, 2 or "inf"/);
    fails([box(1, 0)], 'bad-spec', /lo 1 > hi 0 at feature 0/);
    fails([{ kind: 'blob' } as unknown as Constraint], 'bad-spec', /unknown constraint kind "blob"; kinds are box, ball/);
    fails([mask([true, false, true, true])], 'bad-spec', /mask on input "x" has no ref and no initial input was given/);
  });

  it('levels', () => {
    fails([levels(1)], 'bad-spec', /levels on input "x": n is 1, expected an integer ≥ 2/);
    fails([levels(2.5)], 'bad-spec', /n is 2.5/);
    fails([levels(4), levels(8)], 'bad-spec', /two levels constraints \(4 and 8\)/);
    fails([box(0, Infinity), levels(4)], 'bad-spec', /levels on input "x" needs a finite box/);
  });

  it('one-hot groups', () => {
    fails([oneHot([0, 4])], 'bad-spec', /oneHot\[0\] on input "x": index 4 is out of range; features are 0…3/);
    fails([oneHot([0, 1]), oneHot([2, 1])], 'bad-spec', /oneHot\[1\] on input "x": feature 1 is also in oneHot\[0\]; one-hot groups must not overlap/);
    fails([oneHot([2, 2])], 'bad-spec', /index 2 appears twice/);
    fails([oneHot([])], 'bad-spec', /indices must be a non-empty array/);
    fails([box(0.6, 1), oneHot([0, 1])], 'infeasible', /oneHot\[0\] on input "x" cannot sum to 1: the lower bounds of its features already sum to 1.2/);
    fails([box(0, 0.3), oneHot([0, 1, 2])], 'infeasible', /upper bounds of its features sum to only 0.9/);
  });

  it('contradicting bounds name the feature and both constraints', () => {
    const lo = Array(20).fill(0);
    lo[17] = 0.8;
    const hi = Array(20).fill(1);
    hi[17] = 0.2;
    fails([box(lo, 1), box(0, hi)], 'infeasible', /constraints contradict on input "x": feature 17 needs ≥ 0.8 \(box\) and ≤ 0.2 \(box #2\)/, 20);
    fails([linf([0.9, 0.5, 0.5, 0.5], 0.1), mask([false, true, true, true], [0.2, 0, 0, 0])], 'infeasible', /feature 0 needs ≥ 0.8 \(linf ball\) and ≤ 0.2 \(mask\)/);
    fails([linf([2, 0.5, 0.5, 0.5], 0.5)], 'infeasible', /feature 0 needs ≥ 1.5 \(linf ball\) and ≤ 1 \(default range \[0, 1\]\)/);
  });

  it('a set that does not meet the box', () => {
    fails([l2([2, 2, 0, 0], 1)], 'infeasible', /l2 ball \(eps 1\) on input "x" does not meet the other constraints: its reference is 1.41421 away/);
    fails([l1([2, 2, 0, 0], 1.5)], 'infeasible', /l1 ball \(eps 1.5\) on input "x" does not meet .* 2 away/);
    fails([linear([1, 1, 1, 1], -0.5)], 'infeasible', /linear\[0\] \(a·x ≤ -0.5\) on input "x" cannot hold with the other constraints: the smallest a·x allowed there is 0/);
  });

  it('sets that each meet the box but have no common point', () => {
    // Two pieces (solved by the nested method) and three (Dykstra).
    fails([l2([0, 0], 0.5), linear([-1, -1], -1.5)], 'infeasible', /constraints on input "x" have no common point: a·x ≤ b cannot be reached within the other constraints/, 2);
    fails([l2([0, 0], 0.5), l1([0, 0], 0.6), linear([-1, -1], -1.5)], 'infeasible', /constraints on input "x" have no common point: after 2000 Dykstra cycles .* is still violated by/, 2);
  });
});
