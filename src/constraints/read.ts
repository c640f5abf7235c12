import { ActmaxError } from '../errors.js';
import type { Constraint } from './constraint.js';
import type { DataPrior } from '../prior/types.js';
import type { ConstraintInput, ResolvedBall, ResolvedConstraints, ResolvedHalfspace, ResolvedMask, ResolvedSimplex } from './resolve.js';

/**
 * The constraints of one input as read and checked one by one: the normal form's sets and bounds,
 * with the constraint that set each bound and the labels that name the sets, for messages.
 */
export interface ReadConstraints
  extends Pick<ResolvedConstraints, 'n' | 'lo' | 'hi' | 'boxLo' | 'boxHi' | 'boxSource' | 'linf' | 'l2' | 'l1' | 'linear' | 'oneHot' | 'mask' | 'levels' | 'prior'> {
  /** `input "NAME"`, for messages. */
  where: string;
  /** Index into `labels` of the constraint that set each bound (−1: none). */
  loSource: Int32Array;
  hiSource: Int32Array;
  labels: string[];
  ballLabels: Map<ResolvedBall, string>;
  linearLabels: string[];
  oneHotLabels: string[];
  /** Group membership: groupOf[i] = one-hot group index or −1. */
  groupOf: Int32Array;
}

type Of<K extends Constraint['kind']> = Extract<Constraint, { kind: K }>;

/**
 * The constraints of one input being read: the per-feature bounds with the constraint that set
 * each, the labels that name the constraints in messages, the other sets, and the value checks.
 */
class Reading implements ReadConstraints {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly loSource: Int32Array;
  readonly hiSource: Int32Array;
  readonly labels: string[] = [];
  readonly boxLo: Float64Array;
  readonly boxHi: Float64Array;
  boxSource: 'constraint' | 'default' = 'default';
  readonly linf: ResolvedBall[] = [];
  readonly l2: ResolvedBall[] = [];
  readonly l1: ResolvedBall[] = [];
  readonly ballLabels = new Map<ResolvedBall, string>();
  readonly linear: ResolvedHalfspace[] = [];
  readonly linearLabels: string[] = [];
  readonly oneHot: ResolvedSimplex[] = [];
  readonly oneHotLabels: string[] = [];
  readonly groupOf: Int32Array;
  mask: ResolvedMask | null = null;
  levels: number | null = null;
  prior: DataPrior | null = null;
  /** Fixed features in the order first fixed, and their values (the last mask wins). */
  readonly masked = new Map<number, number>();
  private readonly counts: Record<string, number> = {};

  constructor(
    readonly n: number,
    readonly where: string,
    /** The input's shape as `28×28`, for messages. */
    readonly shapeText: string,
  ) {
    this.lo = new Float64Array(n).fill(-Infinity);
    this.hi = new Float64Array(n).fill(Infinity);
    this.loSource = new Int32Array(n).fill(-1);
    this.hiSource = new Int32Array(n).fill(-1);
    this.boxLo = new Float64Array(n).fill(-Infinity);
    this.boxHi = new Float64Array(n).fill(Infinity);
    this.groupOf = new Int32Array(n).fill(-1);
  }

  /** A new label: `box`, `l2 ball #2`, `linear[0]` …; returns it and its index. */
  label(c: Constraint): { name: string; label: number } {
    const base = c.kind === 'ball' ? `${c.p === 'inf' ? 'linf' : `l${c.p}`} ball` : c.kind;
    const k = (this.counts[base] = (this.counts[base] ?? 0) + 1) - 1;
    const name = c.kind === 'linear' || c.kind === 'oneHot' ? `${base}[${k}]` : k === 0 ? base : `${base} #${k + 1}`;
    return { name, label: this.labels.push(name) - 1 };
  }

  /** Narrow feature i's bounds to [l, h], remembering which constraint set each side. */
  tighten(i: number, l: number, h: number, source: number): void {
    if (l > this.lo[i]) {
      this.lo[i] = l;
      this.loSource[i] = source;
    }
    if (h < this.hi[i]) {
      this.hi[i] = h;
      this.hiSource[i] = source;
    }
  }

  /** n numbers (finite unless `allowInfinite`), or a `bad-input`/`bad-spec` line naming the constraint. */
  vector(v: unknown, what: string, label: string, allowInfinite = false): Float64Array {
    const { n, where } = this;
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) {
      throw new ActmaxError('bad-spec', `${label} on ${where}: ${what} must be an array of ${n} numbers`);
    }
    const arr = v as ArrayLike<unknown>;
    if (arr.length !== n) {
      throw new ActmaxError('bad-input', `${label} on ${where}: ${what} has ${arr.length} values, expected ${n} (shape ${this.shapeText})`);
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
  }

  /** One number for every feature, or n of them (±Infinity allowed). */
  scalarOrVector(v: unknown, what: string, label: string): Float64Array {
    if (typeof v === 'number') {
      if (Number.isNaN(v)) throw new ActmaxError('bad-spec', `${label} on ${this.where}: ${what} is NaN, expected a number`);
      return new Float64Array(this.n).fill(v);
    }
    return this.vector(v, what, label, true);
  }

  finiteNumber(v: unknown, what: string, label: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ActmaxError('bad-spec', `${label} on ${this.where}: ${what} is ${String(v)}, expected a finite number`);
    }
    return v;
  }

}

/** The boxes (intersected), or the input's default range when there is none: they define boxLo/boxHi. */
function readBoxes(r: Reading, boxes: Array<Of<'box'>>, range: [number, number]): void {
  const { n, where } = r;
  if (boxes.length === 0) {
    const [rlo, rhi] = range;
    const label = r.labels.push(`default range [${rlo}, ${rhi}]`) - 1;
    for (let i = 0; i < n; i++) r.tighten(i, rlo, rhi, label);
    r.boxLo.fill(rlo);
    r.boxHi.fill(rhi);
    return;
  }
  r.boxSource = 'constraint';
  for (const c of boxes) {
    const { name, label } = r.label(c);
    const l = r.scalarOrVector(c.lo, 'lo', name);
    const h = r.scalarOrVector(c.hi, 'hi', name);
    for (let i = 0; i < n; i++) {
      if (l[i] > h[i]) {
        throw new ActmaxError('bad-spec', `${name} on ${where}: lo ${l[i]} > hi ${h[i]} at feature ${i}`);
      }
      r.tighten(i, l[i], h[i], label);
      if (l[i] > r.boxLo[i]) r.boxLo[i] = l[i];
      if (h[i] < r.boxHi[i]) r.boxHi[i] = h[i];
    }
  }
}

/** An L∞ ball folds into the bounds; L2 and L1 balls are listed. */
function readBall(r: Reading, c: Of<'ball'>, name: string, label: number): void {
  if (c.p !== 1 && c.p !== 2 && c.p !== 'inf') {
    throw new ActmaxError('bad-spec', `ball on ${r.where}: p is ${String(c.p)}, expected 1, 2 or "inf"`);
  }
  const eps = r.finiteNumber(c.eps, 'eps', name);
  if (eps < 0) throw new ActmaxError('bad-spec', `${name} on ${r.where}: eps is ${eps}, expected eps ≥ 0`);
  const ref = r.vector(c.ref, 'ref', name);
  const ball = { ref, eps };
  r.ballLabels.set(ball, name);
  if (c.p === 'inf') {
    r.linf.push(ball);
    for (let i = 0; i < r.n; i++) r.tighten(i, ref[i] - eps, ref[i] + eps, label);
  } else (c.p === 2 ? r.l2 : r.l1).push(ball);
}

/** A mask fixes its non-editable features at `ref` (or the initial input). */
function readMask(r: Reading, c: Of<'mask'>, name: string, label: number, initial?: ArrayLike<number>): void {
  const { n, where } = r;
  const editable = c.editable as unknown;
  if (!Array.isArray(editable)) throw new ActmaxError('bad-spec', `mask on ${where}: editable must be an array of ${n} booleans`);
  if (editable.length !== n) {
    throw new ActmaxError('bad-input', `mask on ${where}: editable has ${editable.length} values, expected ${n} (shape ${r.shapeText})`);
  }
  let values: ArrayLike<number>;
  if (c.ref !== undefined) values = r.vector(c.ref, 'ref', name);
  else if (initial !== undefined) values = r.vector(Array.from(initial), 'initial input', name);
  else {
    throw new ActmaxError('bad-spec', `mask on ${where} has no ref and no initial input was given; give the mask a ref (the values of the fixed features)`);
  }
  for (let i = 0; i < n; i++) {
    const e = editable[i];
    if (typeof e !== 'boolean' && e !== 0 && e !== 1) {
      throw new ActmaxError('bad-spec', `mask on ${where}: editable[${i}] is ${String(e)}, expected true or false`);
    }
    if (e) continue;
    r.tighten(i, values[i], values[i], label);
    r.masked.set(i, values[i]);
  }
}

function readLevels(r: Reading, c: Of<'levels'>): void {
  const count = c.n;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 2) {
    throw new ActmaxError('bad-spec', `levels on ${r.where}: n is ${String(count)}, expected an integer ≥ 2`);
  }
  if (r.levels !== null && r.levels !== count) {
    throw new ActmaxError('bad-spec', `two levels constraints (${r.levels} and ${count}) on ${r.where}; give one`);
  }
  r.levels = count;
}

function readLinear(r: Reading, c: Of<'linear'>, name: string): void {
  const a = r.vector(c.a, 'a', name);
  const b = r.finiteNumber(c.b, 'b', name);
  r.linear.push({ a, b });
  r.linearLabels.push(name);
}

function readPrior(r: Reading, c: Of<'prior'>): void {
  if (r.prior) throw new ActmaxError('bad-spec', `two priors on ${r.where}; give one`);
  const p = c.prior as DataPrior | undefined;
  if (!p || (p.type !== 'subspace' && p.type !== 'decoder')) throw new ActmaxError('bad-spec', `prior on ${r.where}: expected a subspace or decoder prior (see subspacePrior)`);
  if (p.type === 'subspace' && p.mean.length !== r.n) throw new ActmaxError('bad-input', `prior on ${r.where} has ${p.mean.length} features, expected ${r.n} (shape ${r.shapeText})`);
  r.prior = p;
}

/** A one-hot group: its features in [0, 1], in no other group. */
function readOneHot(r: Reading, c: Of<'oneHot'>, name: string, label: number): void {
  const { n, where, groupOf } = r;
  const idx = c.indices as unknown;
  if (!Array.isArray(idx) || idx.length === 0) {
    throw new ActmaxError('bad-spec', `${name} on ${where}: indices must be a non-empty array of feature indices in [0, ${n - 1}]`);
  }
  const g = r.oneHot.length;
  for (const i of idx) {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n) {
      throw new ActmaxError('bad-spec', `${name} on ${where}: index ${String(i)} is out of range; features are 0…${n - 1}`);
    }
    if (groupOf[i] === g) throw new ActmaxError('bad-spec', `${name} on ${where}: index ${i} appears twice`);
    if (groupOf[i] >= 0) {
      throw new ActmaxError('bad-spec', `${name} on ${where}: feature ${i} is also in ${r.oneHotLabels[groupOf[i]]}; one-hot groups must not overlap`);
    }
    groupOf[i] = g;
    r.tighten(i, 0, 1, label);
  }
  r.oneHot.push({ indices: Int32Array.from(idx as number[]) });
  r.oneHotLabels.push(name);
}

const KINDS = ['box', 'ball', 'mask', 'levels', 'linear', 'oneHot', 'prior'];

/**
 * Reads the constraints that apply to one input (`mine`): checks each one's lengths and values,
 * folds the per-feature intervals (boxes, L∞ balls, masks, one-hot [0, 1]) into lo/hi and lists
 * the other sets. Throws ActmaxError `bad-input` or `bad-spec` naming the constraint.
 *
 * @example
 * const read = readConstraints([{ kind: 'box', lo: 0, hi: 1 }], { name: 'x', shape: [2], range: [0, 1] });
 * Array.from(read.hi) // [1, 1]
 */
export function readConstraints(mine: Constraint[], input: ConstraintInput, initial?: Float32Array | Float64Array | number[]): ReadConstraints {
  const n = input.shape.reduce((a, b) => a * b, 1);
  const r = new Reading(n, `input "${input.name}"`, input.shape.join('×'));
  if (initial !== undefined && initial.length !== n) {
    throw new ActmaxError('bad-input', `initial input for ${r.where} has ${initial.length} values, expected ${n} (shape ${r.shapeText})`);
  }
  readBoxes(r, mine.filter((c): c is Of<'box'> => c.kind === 'box'), input.range);
  for (const c of mine) {
    if (c.kind === 'box') continue;
    if (!KINDS.includes((c as { kind: string }).kind)) {
      throw new ActmaxError('bad-spec', `unknown constraint kind "${(c as { kind: string }).kind}"; kinds are ${KINDS.join(', ')}`);
    }
    const { name, label } = r.label(c);
    if (c.kind === 'ball') readBall(r, c, name, label);
    else if (c.kind === 'mask') readMask(r, c, name, label, initial);
    else if (c.kind === 'levels') readLevels(r, c);
    else if (c.kind === 'linear') readLinear(r, c, name);
    else if (c.kind === 'prior') readPrior(r, c);
    else readOneHot(r, c, name, label);
  }
  if (r.prior && (r.levels !== null || r.oneHot.length > 0)) {
    throw new ActmaxError('bad-spec', `a data prior on ${r.where} keeps the input on the data's ${r.prior.type}; ${r.levels !== null ? 'levels' : 'one-hot'} rounding would leave it, so leave that constraint out`);
  }
  const fixed = [...r.masked.keys()].sort((a, b) => a - b);
  if (fixed.length > 0) r.mask = { indices: Int32Array.from(fixed), values: Float64Array.from(fixed, (i) => r.masked.get(i)!) };
  return r;
}
