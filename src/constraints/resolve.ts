import { ActmaxError } from '../errors.js';
import type { Constraint } from './constraint.js';
import type { DataPrior } from '../prior/types.js';
import { checkIntersection, HIST_BINS } from './project.js';

/** The input a constraint list is resolved for: its name, shape (no batch) and default range. */
export interface ConstraintInput {
  name: string;
  shape: number[];
  range: [number, number];
}

/** A ball ‖x − ref‖ ≤ eps (the norm is given by the list it sits in). */
export interface ResolvedBall {
  ref: Float64Array;
  eps: number;
}

/** A halfspace a·x ≤ b. */
export interface ResolvedHalfspace {
  a: Float64Array;
  b: number;
}

/** A one-hot group: during search x_i ≥ 0 and Σ x_i = 1 over `indices`. */
export interface ResolvedSimplex {
  indices: Int32Array;
}

/** Features a mask keeps fixed, with their values. */
export interface ResolvedMask {
  indices: Int32Array;
  values: Float64Array;
}

/**
 * The constraints of one model input in normal form, as {@link projectInPlace},
 * {@link residuals} and the rounding functions use them.
 *
 * `lo`/`hi` are the intersection of everything that is a per-feature interval: the box (or the
 * input's default range), every L∞ ball, the features a mask fixes (lo = hi = value) and the
 * [0, 1] bounds implied by one-hot groups. The remaining sets are listed separately.
 */
export interface ResolvedConstraints {
  /** Name and index of the model input. */
  input: string;
  inputIndex: number;
  /** Number of features (product of the input's shape). */
  n: number;
  /** Per-feature bounds after folding in box, L∞ balls, masks and one-hot [0, 1]. */
  lo: Float64Array;
  hi: Float64Array;
  /** The box alone (the user's boxes intersected, or the default range): for residuals and levels. */
  boxLo: Float64Array;
  boxHi: Float64Array;
  /** Where the box came from. */
  boxSource: 'constraint' | 'default';
  linf: ResolvedBall[];
  l2: ResolvedBall[];
  l1: ResolvedBall[];
  linear: ResolvedHalfspace[];
  oneHot: ResolvedSimplex[];
  mask: ResolvedMask | null;
  /** Number of levels for the final rounding, or null when there is no `levels` constraint. */
  levels: number | null;
  /** The data prior on this input (projected by its parameterisation, src/prior), or null. */
  prior: DataPrior | null;
  /** Reusable buffers and the projection plan; internal to `project.ts`. */
  readonly work: ProjectionWork;
}

/** One piece of the intersection, always intersected with the box `lo`/`hi`. Internal. */
export type Piece =
  | { kind: 'simplexes' }
  /** refInBox: the reference lies in lo/hi, which allows the faster breakpoint method. */
  | { kind: 'l2'; set: ResolvedBall; refInBox: boolean }
  | { kind: 'l1'; set: ResolvedBall }
  | { kind: 'linear'; set: ResolvedHalfspace };

/** Scratch buffers so that projecting a batch allocates nothing per row. Internal. */
export interface ProjectionWork {
  /** The pieces in use by the projection now: `exactPieces`, or `pieces32` while writing float32. */
  pieces: Piece[];
  exactPieces: Piece[];
  /** The same sets shrunk by float32 rounding, so a stored float32 row still satisfies them. */
  pieces32: Piece[];
  z: Float64Array;
  x: Float64Array;
  w: Float64Array;
  /** Dykstra increments, one row of n per piece (empty with fewer than two pieces). */
  increments: Float64Array;
  /** Group membership: groupOf[i] = group index or −1. */
  groupOf: Int32Array;
  /** lo/hi with ±Infinity replaced by ±Number.MAX_VALUE, for branch-free clipping (0·bound must be 0). */
  loF: Float64Array;
  hiF: Float64Array;
  /** The fast L2 method's copy of its input row and breakpoint lists (n each). */
  l2z: Float64Array;
  /** Two sums the first pass hands to the root finder. */
  l2Sums: Float64Array;
  candD2: Float64Array;
  candC2: Float64Array;
  candB: Float64Array;
  /** Histogram of those breakpoints (HIST_BINS + 1 bins). */
  histD2: Float64Array;
  histC2: Float64Array;
}

const KINDS = ['box', 'ball', 'mask', 'levels', 'linear', 'oneHot', 'prior'];

/**
 * Turns the constraint list of a model into the normal form for ONE of its inputs, checking
 * lengths, values and feasibility. Constraints whose `input` names another input are skipped
 * (omitted `input` means input 0). `initial` is the starting input row (n values), used for
 * mask features when the mask has no `ref`.
 *
 * Throws ActmaxError `bad-input` (a vector of the wrong length), `bad-spec` (a malformed
 * constraint) or `infeasible` (the constraints have no common point).
 *
 * @example
 * const rc = resolveConstraints([l2(image, 1.5), { kind: 'box', lo: 0, hi: 1 }],
 *   { name: 'x', shape: [28, 28], range: [0, 1] }, 0);
 * rc.n // 784
 */
export function resolveConstraints(
  constraints: Constraint[],
  input: ConstraintInput,
  inputIndex: number,
  initial?: Float32Array | Float64Array | number[],
): ResolvedConstraints {
  const n = input.shape.reduce((a, b) => a * b, 1);
  const where = `input "${input.name}"`;
  const shapeText = input.shape.join('×');
  const mine = constraints.filter((c) => appliesTo(c, input.name, inputIndex));

  if (initial !== undefined && initial.length !== n) {
    throw new ActmaxError('bad-input', `initial input for ${where} has ${initial.length} values, expected ${n} (shape ${shapeText})`);
  }

  // Labels name the constraint that set each bound, for contradiction messages.
  const labels: string[] = [];
  const counts: Record<string, number> = {};
  const labelFor = (c: Constraint): string => {
    const base = c.kind === 'ball' ? `${c.p === 'inf' ? 'linf' : `l${c.p}`} ball` : c.kind;
    const k = (counts[base] = (counts[base] ?? 0) + 1) - 1;
    return c.kind === 'linear' || c.kind === 'oneHot' ? `${base}[${k}]` : k === 0 ? base : `${base} #${k + 1}`;
  };

  const vector = (v: unknown, what: string, label: string, allowInfinite = false): Float64Array => {
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) {
      throw new ActmaxError('bad-spec', `${label} on ${where}: ${what} must be an array of ${n} numbers`);
    }
    const arr = v as ArrayLike<unknown>;
    if (arr.length !== n) {
      throw new ActmaxError('bad-input', `${label} on ${where}: ${what} has ${arr.length} values, expected ${n} (shape ${shapeText})`);
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const value = arr[i];
      if (typeof value !== 'number' || Number.isNaN(value) || (!allowInfinite && !Number.isFinite(value))) {
        throw new ActmaxError('bad-spec', `${label} on ${where}: ${what}[${i}] is ${String(value)}, expected a finite number`);
      }
      out[i] = value;
    }
    return out;
  };
  const scalarOrVector = (v: unknown, what: string, label: string): Float64Array => {
    if (typeof v === 'number') {
      if (Number.isNaN(v)) throw new ActmaxError('bad-spec', `${label} on ${where}: ${what} is NaN, expected a number`);
      return new Float64Array(n).fill(v);
    }
    return vector(v, what, label, true);
  };
  const finiteNumber = (v: unknown, what: string, label: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ActmaxError('bad-spec', `${label} on ${where}: ${what} is ${String(v)}, expected a finite number`);
    }
    return v;
  };

  const lo = new Float64Array(n).fill(-Infinity);
  const hi = new Float64Array(n).fill(Infinity);
  const loSource = new Int32Array(n).fill(-1);
  const hiSource = new Int32Array(n).fill(-1);
  const tighten = (i: number, l: number, h: number, source: number): void => {
    if (l > lo[i]) {
      lo[i] = l;
      loSource[i] = source;
    }
    if (h < hi[i]) {
      hi[i] = h;
      hiSource[i] = source;
    }
  };

  // Boxes first: they define boxLo/boxHi (the default range when none is given).
  const boxes = mine.filter((c) => c.kind === 'box');
  const boxLo = new Float64Array(n).fill(-Infinity);
  const boxHi = new Float64Array(n).fill(Infinity);
  if (boxes.length === 0) {
    const [rlo, rhi] = input.range;
    const label = labels.push(`default range [${rlo}, ${rhi}]`) - 1;
    for (let i = 0; i < n; i++) tighten(i, rlo, rhi, label);
    boxLo.fill(rlo);
    boxHi.fill(rhi);
  }
  for (const c of boxes) {
    const name = labelFor(c);
    const label = labels.push(name) - 1;
    const l = scalarOrVector(c.lo, 'lo', name);
    const h = scalarOrVector(c.hi, 'hi', name);
    for (let i = 0; i < n; i++) {
      if (l[i] > h[i]) {
        throw new ActmaxError('bad-spec', `${name} on ${where}: lo ${l[i]} > hi ${h[i]} at feature ${i}`);
      }
      tighten(i, l[i], h[i], label);
      if (l[i] > boxLo[i]) boxLo[i] = l[i];
      if (h[i] < boxHi[i]) boxHi[i] = h[i];
    }
  }

  const linf: ResolvedBall[] = [];
  const l2: ResolvedBall[] = [];
  const l1: ResolvedBall[] = [];
  const linear: ResolvedHalfspace[] = [];
  const oneHot: ResolvedSimplex[] = [];
  const oneHotLabels: string[] = [];
  const ballLabels = new Map<ResolvedBall, string>();
  const linearLabels: string[] = [];
  let maskIdx: number[] = [];
  const maskVal = new Map<number, number>();
  let levels: number | null = null;
  let prior: DataPrior | null = null;
  const groupOf = new Int32Array(n).fill(-1);

  for (const c of mine) {
    if (c.kind === 'box') continue;
    if (!KINDS.includes((c as { kind: string }).kind)) {
      throw new ActmaxError('bad-spec', `unknown constraint kind "${(c as { kind: string }).kind}"; kinds are ${KINDS.join(', ')}`);
    }
    const name = labelFor(c);
    const label = labels.push(name) - 1;
    switch (c.kind) {
      case 'ball': {
        if (c.p !== 1 && c.p !== 2 && c.p !== 'inf') {
          throw new ActmaxError('bad-spec', `ball on ${where}: p is ${String(c.p)}, expected 1, 2 or "inf"`);
        }
        const eps = finiteNumber(c.eps, 'eps', name);
        if (eps < 0) throw new ActmaxError('bad-spec', `${name} on ${where}: eps is ${eps}, expected eps ≥ 0`);
        const ref = vector(c.ref, 'ref', name);
        const ball = { ref, eps };
        ballLabels.set(ball, name);
        if (c.p === 'inf') {
          linf.push(ball);
          for (let i = 0; i < n; i++) tighten(i, ref[i] - eps, ref[i] + eps, label);
        } else (c.p === 2 ? l2 : l1).push(ball);
        break;
      }
      case 'mask': {
        const editable = c.editable as unknown;
        if (!Array.isArray(editable)) throw new ActmaxError('bad-spec', `mask on ${where}: editable must be an array of ${n} booleans`);
        if (editable.length !== n) {
          throw new ActmaxError('bad-input', `mask on ${where}: editable has ${editable.length} values, expected ${n} (shape ${shapeText})`);
        }
        let values: ArrayLike<number>;
        if (c.ref !== undefined) values = vector(c.ref, 'ref', name);
        else if (initial !== undefined) values = vector(Array.from(initial), 'initial input', name);
        else {
          throw new ActmaxError('bad-spec', `mask on ${where} has no ref and no initial input was given; give the mask a ref (the values of the fixed features)`);
        }
        for (let i = 0; i < n; i++) {
          const e = editable[i];
          if (typeof e !== 'boolean' && e !== 0 && e !== 1) {
            throw new ActmaxError('bad-spec', `mask on ${where}: editable[${i}] is ${String(e)}, expected true or false`);
          }
          if (e) continue;
          tighten(i, values[i], values[i], label);
          if (!maskVal.has(i)) maskIdx.push(i);
          maskVal.set(i, values[i]);
        }
        break;
      }
      case 'levels': {
        const count = c.n;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 2) {
          throw new ActmaxError('bad-spec', `levels on ${where}: n is ${String(count)}, expected an integer ≥ 2`);
        }
        if (levels !== null && levels !== count) {
          throw new ActmaxError('bad-spec', `two levels constraints (${levels} and ${count}) on ${where}; give one`);
        }
        levels = count;
        break;
      }
      case 'linear': {
        const a = vector(c.a, 'a', name);
        const b = finiteNumber(c.b, 'b', name);
        linear.push({ a, b });
        linearLabels.push(name);
        break;
      }
      case 'prior': {
        if (prior) throw new ActmaxError('bad-spec', `two priors on ${where}; give one`);
        const p = c.prior as DataPrior | undefined;
        if (!p || (p.type !== 'subspace' && p.type !== 'decoder')) throw new ActmaxError('bad-spec', `prior on ${where}: expected a subspace or decoder prior (see subspacePrior)`);
        if (p.type === 'subspace' && p.mean.length !== n) throw new ActmaxError('bad-input', `prior on ${where} has ${p.mean.length} features, expected ${n} (shape ${shapeText})`);
        prior = p;
        break;
      }
      case 'oneHot': {
        const idx = c.indices as unknown;
        if (!Array.isArray(idx) || idx.length === 0) {
          throw new ActmaxError('bad-spec', `${name} on ${where}: indices must be a non-empty array of feature indices in [0, ${n - 1}]`);
        }
        const g = oneHot.length;
        for (const i of idx) {
          if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n) {
            throw new ActmaxError('bad-spec', `${name} on ${where}: index ${String(i)} is out of range; features are 0…${n - 1}`);
          }
          if (groupOf[i] === g) throw new ActmaxError('bad-spec', `${name} on ${where}: index ${i} appears twice`);
          if (groupOf[i] >= 0) {
            throw new ActmaxError('bad-spec', `${name} on ${where}: feature ${i} is also in ${oneHotLabels[groupOf[i]]}; one-hot groups must not overlap`);
          }
          groupOf[i] = g;
          tighten(i, 0, 1, label);
        }
        oneHot.push({ indices: Int32Array.from(idx as number[]) });
        oneHotLabels.push(name);
        break;
      }
    }
  }
  maskIdx = maskIdx.sort((a, b) => a - b);
  if (prior && (levels !== null || oneHot.length > 0)) {
    throw new ActmaxError('bad-spec', `a data prior on ${where} keeps the input on the data's ${(prior as DataPrior).type}; ${levels !== null ? 'levels' : 'one-hot'} rounding would leave it, so leave that constraint out`);
  }

  // Per-feature contradictions (tiny float slack, e.g. ref ± eps landing 1 ulp past a bound).
  for (let i = 0; i < n; i++) {
    if (lo[i] > hi[i]) {
      if (lo[i] - hi[i] <= 1e-12 * (1 + Math.abs(hi[i]))) {
        lo[i] = hi[i];
        continue;
      }
      throw new ActmaxError(
        'infeasible',
        `constraints contradict on ${where}: feature ${i} needs ≥ ${lo[i]} (${labels[loSource[i]]}) and ≤ ${hi[i]} (${labels[hiSource[i]]})`,
      );
    }
  }

  // Each remaining set must meet the box on its own.
  for (const [list, p] of [
    [l2, 2],
    [l1, 1],
  ] as const) {
    for (const ball of list) {
      const d = distanceToBox(ball.ref, lo, hi, p);
      if (d > ball.eps * (1 + 1e-12) + 1e-15) {
        throw new ActmaxError(
          'infeasible',
          `${ballLabels.get(ball)} (eps ${ball.eps}) on ${where} does not meet the other constraints: its reference is ${fmt(d)} away from the nearest allowed input`,
        );
      }
    }
  }
  linear.forEach((h, k) => {
    let min = 0;
    for (let i = 0; i < n; i++) {
      const a = h.a[i];
      if (a > 0) min += a * lo[i];
      else if (a < 0) min += a * hi[i];
    }
    if (min > h.b + 1e-12 * (1 + Math.abs(h.b))) {
      throw new ActmaxError(
        'infeasible',
        `${linearLabels[k]} (a·x ≤ ${h.b}) on ${where} cannot hold with the other constraints: the smallest a·x allowed there is ${fmt(min)}`,
      );
    }
  });
  oneHot.forEach((g, k) => {
    let sumLo = 0;
    let sumHi = 0;
    for (const i of g.indices) {
      sumLo += lo[i];
      sumHi += hi[i];
    }
    if (sumLo > 1 + 1e-12) {
      throw new ActmaxError('infeasible', `${oneHotLabels[k]} on ${where} cannot sum to 1: the lower bounds of its features already sum to ${fmt(sumLo)}`);
    }
    if (sumHi < 1 - 1e-12) {
      throw new ActmaxError('infeasible', `${oneHotLabels[k]} on ${where} cannot sum to 1: the upper bounds of its features sum to only ${fmt(sumHi)}`);
    }
  });
  if (levels !== null) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(boxLo[i]) || !Number.isFinite(boxHi[i])) {
        throw new ActmaxError('bad-spec', `levels on ${where} needs a finite box, but feature ${i} has box [${boxLo[i]}, ${boxHi[i]}]`);
      }
    }
  }

  const pieces: Piece[] = [];
  if (oneHot.length > 0) pieces.push({ kind: 'simplexes' });
  // Search stores inputs as float32: project onto sets shrunk by the worst rounding error of a
  // float32 row (2^-23 relative per feature), so the stored row still satisfies the constraint.
  const F32 = 2 ** -23;
  const mag = (i: number, ref?: Float64Array, eps = 0) => {
    const m = Math.max(Math.abs(lo[i]), Math.abs(hi[i]));
    // Inside a ball |x_i| ≤ |ref_i| + eps, whatever the box.
    return ref ? Math.min(m, Math.abs(ref[i]) + eps) : m;
  };
  const shrinkBall = (set: ResolvedBall, p: 1 | 2): ResolvedBall => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += p === 2 ? mag(i, set.ref, set.eps) ** 2 : mag(i, set.ref, set.eps);
    const margin = F32 * (p === 2 ? Math.sqrt(acc) : acc);
    return { ref: set.ref, eps: Math.max(set.eps / 2, set.eps - margin) };
  };
  const pieces32: Piece[] = [];
  if (oneHot.length > 0) pieces32.push({ kind: 'simplexes' });
  for (const set of l2) {
    const refInBox = set.ref.every((v, i) => v >= lo[i] && v <= hi[i]);
    pieces.push({ kind: 'l2', set, refInBox });
    pieces32.push({ kind: 'l2', set: shrinkBall(set, 2), refInBox });
  }
  for (const set of l1) {
    pieces.push({ kind: 'l1', set });
    pieces32.push({ kind: 'l1', set: shrinkBall(set, 1) });
  }
  for (const set of linear) {
    let margin = 0;
    for (let i = 0; i < n; i++) margin += set.a[i] === 0 ? 0 : Math.abs(set.a[i]) * mag(i);
    pieces.push({ kind: 'linear', set });
    pieces32.push({ kind: 'linear', set: Number.isFinite(margin) ? { a: set.a, b: set.b - F32 * margin } : set });
  }

  const rc: ResolvedConstraints = {
    input: input.name,
    inputIndex,
    n,
    lo,
    hi,
    boxLo,
    boxHi,
    boxSource: boxes.length > 0 ? 'constraint' : 'default',
    linf,
    l2,
    l1,
    linear,
    oneHot,
    mask: maskIdx.length > 0 ? { indices: Int32Array.from(maskIdx), values: Float64Array.from(maskIdx, (i) => maskVal.get(i)!) } : null,
    levels,
    prior,
    work: {
      pieces,
      pieces32,
      exactPieces: pieces,
      z: new Float64Array(n),
      x: new Float64Array(n),
      w: new Float64Array(n),
      increments: new Float64Array(pieces.length > 1 ? pieces.length * n : 0),
      groupOf,
      loF: lo.map((v) => Math.max(v, -Number.MAX_VALUE)),
      hiF: hi.map((v) => Math.min(v, Number.MAX_VALUE)),
      l2z: new Float64Array(l2.length > 0 ? n : 0),
      l2Sums: new Float64Array(2),
      candD2: new Float64Array(l2.length > 0 ? n : 0),
      candC2: new Float64Array(l2.length > 0 ? n : 0),
      candB: new Float64Array(l2.length > 0 ? n : 0),
      histD2: new Float64Array(HIST_BINS + 1),
      histC2: new Float64Array(HIST_BINS + 1),
    },
  };
  checkIntersection(rc);
  return rc;
}

/** True when constraint `c` is about the input with this name/index (omitted `input` = input 0). */
function appliesTo(c: Constraint, name: string, index: number): boolean {
  const target = (c as { input?: string | number }).input;
  if (target === undefined) return index === 0;
  return typeof target === 'number' ? target === index : target === name;
}

/**
 * Checks that every constraint's `input` names an existing model input; throws ActmaxError
 * `unknown-input` otherwise.
 *
 * @example
 * checkConstraintInputs([{ kind: 'levels', n: 256, input: 'img' }], ['img', 'meta']);
 */
export function checkConstraintInputs(constraints: Constraint[], inputNames: string[]): void {
  for (const c of constraints) {
    const target = (c as { input?: string | number }).input;
    if (target === undefined) continue;
    const ok = typeof target === 'number' ? Number.isInteger(target) && target >= 0 && target < inputNames.length : inputNames.includes(target);
    if (!ok) {
      throw new ActmaxError(
        'unknown-input',
        `${c.kind} constraint names input ${JSON.stringify(target)}, but the model's inputs are ${inputNames.map((s, i) => `${i}: "${s}"`).join(', ')}`,
      );
    }
  }
}

/** Lp distance (p = 1 or 2) from `ref` to the box [lo, hi]. */
function distanceToBox(ref: Float64Array, lo: Float64Array, hi: Float64Array, p: 1 | 2): number {
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const d = r < lo[i] ? lo[i] - r : r > hi[i] ? r - hi[i] : 0;
    s += p === 2 ? d * d : d;
  }
  return p === 2 ? Math.sqrt(s) : s;
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}
