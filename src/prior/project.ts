import { ActmaxError } from '../errors.js';
import type { ResolvedConstraints } from '../constraints/index.js';
import { polyhedronProjector, type Polyhedron } from './qp.js';
import { latentViolation } from './subspace.js';
import type { CodeBox } from './clusters.js';
import type { LatentSet, SubspacePrior } from './types.js';

/**
 * Exact Euclidean projection of codes z onto {z ∈ Z : mean + Uᵀz ∈ X}: Z the prior's code set
 * (box and/or Mahalanobis ball), X the input's other constraints that are polyhedral (box, L∞
 * balls, masks, halfspaces) as resolved for the model input. Since U has orthonormal rows,
 * distances in z equal distances in x inside the subspace, so this is also the exact projection
 * of the input onto the prior's set.
 *
 * Method: with a box, the set is a polyhedron in z (K variables, a row per pixel bound the box
 * does not already imply) and {@link polyhedronProjector} solves it exactly (dual active set,
 * warm-started from the row's previous working set). A Mahalanobis ball adds one quadratic
 * constraint: its multiplier λ is found by bisection, each λ a polyhedral projection in scaled
 * coordinates (the minimiser's Mahalanobis norm decreases in λ).
 */
/**
 * Exact projection of `zt` onto the code set: clip to the box; with a ball,
 * z(λ) = clip(zt_k / (1 + λ/s_k²)) for the λ ≥ 0 that puts z on the ball (λ by bisection).
 *
 * @example
 * projectLatent({ box: { lo: [-1, -1], hi: [1, 1] } }, Float64Array.of(2, 0), out) // out = [1, 0]
 */
export function projectLatent(set: LatentSet, zt: ArrayLike<number>, out: Float64Array): void {
  const k = out.length;
  const box = set.box;
  const at = (lambda: number, scale: number[] | null): number => {
    let s = 0;
    for (let c = 0; c < k; c++) {
      let v = scale ? zt[c] / (1 + lambda / (scale[c] * scale[c])) : zt[c];
      if (box) v = v < box.lo[c] ? box.lo[c] : v > box.hi[c] ? box.hi[c] : v;
      out[c] = v;
      if (scale) s += (v / scale[c]) ** 2;
    }
    return s;
  };
  if (!set.ball) {
    at(0, null);
    return;
  }
  const { radius, scale } = set.ball;
  const r2 = radius * radius;
  if (at(0, scale) <= r2) return;
  let lo = 0;
  let hi = 1;
  while (at(hi, scale) > r2) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) throw new ActmaxError('infeasible', 'the prior\'s code box does not meet its ball (the box must contain 0)');
  }
  for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (at(mid, scale) > r2) lo = mid;
    else hi = mid;
  }
  at(hi, scale); // the feasible side
}

/** Projector for the rows of a batch of codes, with warm-start state per row. */
export interface SubspaceProjector {
  /** Replace each of `rows` codes in `z` (rows × K, flat) by its projection; throws `infeasible` when the sets do not meet. */
  project(z: Float32Array | Float64Array, rows: number): void;
  /** Rows the last call had to move (for tests and benches). */
  lastIterations: number;
  /**
   * With a union of boxes: which box each row searches (−1: the nearest box at its next
   * projection, then kept). Each row is projected exactly onto its box ∩ the other constraints.
   */
  assign?(boxes: ArrayLike<number>): void;
}

/**
 * The polyhedron of a subspace prior's code: the code box, and each per-feature bound and
 * halfspace of `rc` as a row in z — leaving out rows that the code box (or ball) already implies.
 *
 * @example
 * const poly = codePolyhedron(prior, rc); // poly.q rows over prior.components variables
 */
export function codePolyhedron(prior: SubspacePrior, rc: ResolvedConstraints): Polyhedron {
  const n = prior.mean.length;
  const k = prior.components;
  const U = prior.basis;
  const rows: number[][] = [];
  const rhs: number[] = [];
  const { box, ball } = prior.latent;
  if (box) for (let c = 0; c < k; c++) {
    const e = new Array(k).fill(0);
    e[c] = 1;
    rows.push(e, e.map((v) => -v));
    rhs.push(box.hi[c], -box.lo[c]);
  }
  /** Largest value of g·z over the code set (for dropping implied rows). */
  const reach = (g: number[]) => {
    let viaBox = Infinity, viaBall = Infinity;
    if (box) viaBox = g.reduce((s, v, c) => s + v * (v >= 0 ? box.hi[c] : box.lo[c]), 0);
    if (ball) viaBall = ball.radius * Math.sqrt(g.reduce((s, v, c) => s + (v * ball.scale[c]) ** 2, 0));
    return Math.min(viaBox, viaBall);
  };
  const add = (g: number[], b: number) => {
    if (reach(g) > b) (rows.push(g), rhs.push(b));
  };
  for (let i = 0; i < n; i++) {
    const g = Array.from({ length: k }, (_, c) => U[c * n + i]);
    if (Number.isFinite(rc.hi[i])) add(g, rc.hi[i] - prior.mean[i]);
    if (Number.isFinite(rc.lo[i])) add(g.map((v) => -v), prior.mean[i] - rc.lo[i]);
  }
  for (const hs of rc.linear) {
    const g = new Array(k).fill(0);
    let am = 0;
    for (let i = 0; i < n; i++) {
      am += hs.a[i] * prior.mean[i];
      for (let c = 0; c < k; c++) g[c] += hs.a[i] * U[c * n + i];
    }
    add(g, hs.b - am);
  }
  return { k, q: rows.length, G: Float64Array.from(rows.flat()), h: Float64Array.from(rhs) };
}

/**
 * Build the projector for a subspace prior and the input's other constraints `rc` (resolved for
 * the model input, without the prior). L1/L2 balls on the input are refused in one line.
 *
 * @example
 * const proj = subspaceProjector(prior, resolveConstraints([box(0, 1)], input, 0));
 * proj.project(codes, rows); // every row now satisfies the prior and the box, exactly
 */
export function subspaceProjector(prior: SubspacePrior, rc: ResolvedConstraints): SubspaceProjector {
  const n = prior.mean.length;
  if (rc.n !== n) throw new ActmaxError('bad-input', `the prior has ${n} features; input "${rc.input}" has ${rc.n}`);
  if (rc.l1.length + rc.l2.length > 0) throw new ActmaxError('bad-spec', `a data prior on input "${rc.input}" combines with boxes, L∞ balls, masks and halfspaces; an ${rc.l2.length ? 'L2' : 'L1'} ball is not supported with it yet (use an L∞ ball)`);
  return prior.latent.union ? unionProjector(prior, rc) : convexProjector(prior, rc);
}

/**
 * The box of a union nearest to z (by box violation, then distance to its centre); −1 when none is usable.
 *
 * @example
 * nearestBox([{ lo: [0], hi: [1], centre: [0.5] }, { lo: [2], hi: [3], centre: [2.5] }], [1.8]) // 1
 */
export function nearestBox(boxes: CodeBox[], z: ArrayLike<number>, usable: (j: number) => boolean = () => true): number {
  let best = -1, bestD = Infinity;
  boxes.forEach((b, j) => {
    if (!usable(j)) return;
    let d = 0;
    for (let c = 0; c < b.lo.length; c++) d += Math.max(0, b.lo[c] - z[c], z[c] - b.hi[c]) ** 2 + 1e-9 * (z[c] - b.centre[c]) ** 2;
    if (d < bestD) (best = j), (bestD = d);
  });
  return best;
}

/**
 * Projector onto a union of boxes ∩ the other constraints: each row keeps one box (assigned, or
 * its nearest at first) and is projected exactly onto that box ∩ the constraints. A box that does
 * not meet the other constraints holds no point of the set: rows move to the nearest other box.
 */
function unionProjector(prior: SubspacePrior, rc: ResolvedConstraints): SubspaceProjector {
  const k = prior.components;
  const boxes = prior.latent.union!.boxes;
  const parts = new Map<number, ReturnType<typeof convexProjector>>();
  const empty = new Set<number>();
  const rowBox: number[] = [];
  const part = (j: number) => {
    let p = parts.get(j);
    if (!p) parts.set(j, (p = convexProjector({ ...prior, latent: { box: { lo: boxes[j].lo, hi: boxes[j].hi } } }, rc)));
    return p;
  };
  const projector: SubspaceProjector = {
    lastIterations: 0,
    assign(list) {
      for (let r = 0; r < list.length; r++) rowBox[r] = list[r];
    },
    project(codes, rows) {
      if (codes.length < rows * k) throw new ActmaxError('bad-input', `project: ${rows} codes of ${k} need ${rows * k} values, got ${codes.length}`);
      let moved = 0;
      for (let r = 0; r < rows; r++) {
        const row = codes.subarray(r * k, (r + 1) * k);
        for (;;) {
          let j = rowBox[r] ?? -1;
          if (j < 0 || empty.has(j)) j = rowBox[r] = nearestBox(boxes, row, (b) => !empty.has(b));
          if (j < 0) throw new ActmaxError('infeasible', `no box of the data prior meets the other constraints on input "${rc.input}"`);
          try {
            const p = part(j);
            p.project(row, 1, r);
            moved += p.lastIterations;
            break;
          } catch (e) {
            if (!(e instanceof ActmaxError && e.code === 'infeasible')) throw e;
            empty.add(j);
          }
        }
      }
      projector.lastIterations = moved;
    },
  };
  return projector;
}

/** The exact projector onto a convex code set (box and/or ball) ∩ the other constraints. */
function convexProjector(prior: SubspacePrior, rc: ResolvedConstraints): SubspaceProjector & { project(z: Float32Array | Float64Array, rows: number, firstRow?: number): void } {
  const k = prior.components;
  const poly = codePolyhedron(prior, rc);
  const ball = prior.latent.ball;
  const exact = polyhedronProjector(poly);
  // With a ball: the same rows in scaled coordinates w = √d·z, d = 1 + λ/s².
  const scaled: Polyhedron = { ...poly, G: new Float64Array(poly.G.length) };
  const scaledProjector = ball ? polyhedronProjector(scaled) : null;
  const z0 = new Float64Array(k), z = new Float64Array(k), w0 = new Float64Array(k), d = new Float64Array(k);
  const warm = new Map<number, number[]>();

  const solveAt = (lambda: number, set: number[]): number => {
    for (let c = 0; c < k; c++) {
      d[c] = Math.sqrt(1 + lambda / (ball!.scale[c] * ball!.scale[c]));
      w0[c] = z0[c] / d[c];
    }
    for (let j = 0; j < poly.q; j++) for (let c = 0; c < k; c++) scaled.G[j * k + c] = poly.G[j * k + c] / d[c];
    scaledProjector!.project(w0, z, set);
    let m = 0;
    for (let c = 0; c < k; c++) {
      z[c] /= d[c];
      m += (z[c] / ball!.scale[c]) ** 2;
    }
    return m;
  };
  const projectOne = (row: number): boolean => {
    const set = warm.get(row) ?? [];
    warm.set(row, set);
    exact.project(z0, z, set);
    if (!ball) return set.length > 0;
    const r2 = ball.radius * ball.radius;
    if (latentViolation({ ball }, z) <= 0) return set.length > 0;
    let lo = 0, hi = 1;
    while (solveAt(hi, set) > r2) {
      lo = hi;
      hi *= 4;
      if (hi > 1e30) throw new ActmaxError('infeasible', `the data prior's ball and the other constraints on input "${rc.input}" have no common point`);
    }
    for (let it = 0; it < 200 && hi - lo > 1e-13 * hi; it++) {
      const mid = 0.5 * (lo + hi);
      if (solveAt(mid, set) > r2) lo = mid;
      else hi = mid;
    }
    solveAt(hi, set); // the feasible side
    return true;
  };

  const projector = {
    lastIterations: 0,
    /** `firstRow`: the batch row of the first code (its warm-start state). */
    project(codes: Float32Array | Float64Array, rows: number, firstRow = 0) {
      if (codes.length < rows * k) throw new ActmaxError('bad-input', `project: ${rows} codes of ${k} need ${rows * k} values, got ${codes.length}`);
      let moved = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < k; c++) z0[c] = codes[r * k + c];
        try {
          if (projectOne(firstRow + r)) moved++;
        } catch (e) {
          if (e instanceof ActmaxError && e.code === 'infeasible') throw new ActmaxError('infeasible', `the data prior and the other constraints on input "${rc.input}" have no common point`);
          throw e;
        }
        for (let c = 0; c < k; c++) codes[r * k + c] = z[c];
      }
      projector.lastIterations = moved;
    },
  };
  return projector;
}
