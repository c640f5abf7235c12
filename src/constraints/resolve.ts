import { ActmaxError } from '../errors.js';
import type { Constraint } from './constraint.js';
import type { DataPrior } from '../prior/types.js';
import { checkFeasible } from './feasibility.js';
import { HIST_BINS } from './pieces.js';
import { checkIntersection } from './project.js';
import { readConstraints, type ReadConstraints } from './read.js';

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
  const read = readConstraints(constraints.filter((c) => appliesTo(c, input.name, inputIndex)), input, initial);
  checkFeasible(read);
  const rc = assemble(read, input.name, inputIndex);
  checkIntersection(rc);
  return rc;
}

/**
 * The projection's pieces: the one-hot simplexes, then each L2 ball, L1 ball and halfspace, each
 * to be intersected with lo/hi; and the same sets shrunk for rows stored as float32.
 */
function projectionPieces(read: ReadConstraints): { pieces: Piece[]; pieces32: Piece[] } {
  const { n, lo, hi, oneHot, l2, l1, linear } = read;
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

  return { pieces, pieces32 };
}

/** The normal form with its projection plan and scratch buffers. */
function assemble(read: ReadConstraints, name: string, inputIndex: number): ResolvedConstraints {
  const { n, lo, hi, boxLo, boxHi, boxSource, linf, l2, l1, linear, oneHot, mask, levels, prior, groupOf } = read;
  const { pieces, pieces32 } = projectionPieces(read);
  return {
    input: name,
    inputIndex,
    n,
    lo,
    hi,
    boxLo,
    boxHi,
    boxSource,
    linf,
    l2,
    l1,
    linear,
    oneHot,
    mask,
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
