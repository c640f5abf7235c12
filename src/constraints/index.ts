/**
 * Constraints on a model input: the plain data type, factories that build it, the normal form
 * ({@link resolveConstraints}) and the exact projection used after every gradient step.
 */
import type { Constraint } from './constraint.js';

export type { Constraint, ConstraintKind } from './constraint.js';
export {
  resolveConstraints,
  checkConstraintInputs,
  type ConstraintInput,
  type ResolvedConstraints,
  type ResolvedBall,
  type ResolvedHalfspace,
  type ResolvedSimplex,
  type ResolvedMask,
} from './resolve.js';
export { projectInPlace, projectRow } from './project.js';
export { roundToLevels, roundOneHot } from './rounding.js';
export { residuals } from './residuals.js';
import type { DataPrior } from '../prior/types.js';

/** Values for one feature each, or one value for all. */
type PerFeature = number | ArrayLike<number>;

const list = (v: ArrayLike<number>): number[] => Array.from(v);
const perFeature = (v: PerFeature): number | number[] => (typeof v === 'number' ? v : list(v));

/**
 * lo ≤ x ≤ hi, with scalars or one value per feature. Replaces the input's default range.
 * To aim a constraint at another model input, spread it: `{ ...box(0, 1), input: 'mask' }`.
 *
 * @example
 * box(-1, 1)                       // every feature in [-1, 1]
 * box([0, 0, 10], [1, 1, 20])      // per feature
 */
export function box(lo: PerFeature, hi: PerFeature): Constraint {
  return { kind: 'box', lo: perFeature(lo), hi: perFeature(hi) };
}

/**
 * ‖x − ref‖_p ≤ eps around a reference input (p = 'inf', 2 or 1).
 *
 * @example
 * ball(image, 0.1, 'inf')          // each pixel within ±0.1 of `image`
 */
export function ball(ref: ArrayLike<number>, eps: number, p: 1 | 2 | 'inf'): Constraint {
  return { kind: 'ball', ref: list(ref), eps, p };
}

/**
 * ‖x − ref‖∞ ≤ eps: every feature within ±eps of the reference.
 *
 * @example
 * linf(image, 8 / 255)
 */
export function linf(ref: ArrayLike<number>, eps: number): Constraint {
  return ball(ref, eps, 'inf');
}

/**
 * ‖x − ref‖₂ ≤ eps.
 *
 * @example
 * l2(image, 1.5)
 */
export function l2(ref: ArrayLike<number>, eps: number): Constraint {
  return ball(ref, eps, 2);
}

/**
 * ‖x − ref‖₁ ≤ eps (changes concentrate on few features).
 *
 * @example
 * l1(image, 5)
 */
export function l1(ref: ArrayLike<number>, eps: number): Constraint {
  return ball(ref, eps, 1);
}

/**
 * Only features with editable[i] = true may change; the others keep `ref` (or the initial input
 * when `ref` is omitted).
 *
 * @example
 * mask(image.map((_, i) => i % 28 < 14), image)    // edit only the left half
 */
export function mask(editable: ArrayLike<boolean>, ref?: ArrayLike<number>): Constraint {
  return ref === undefined ? { kind: 'mask', editable: Array.from(editable) } : { kind: 'mask', editable: Array.from(editable), ref: list(ref) };
}

/**
 * The final input is rounded to n evenly spaced values across the box (then re-evaluated).
 *
 * @example
 * levels(256)                      // 8-bit pixels: k/255 on the box [0, 1]
 */
export function levels(n: number): Constraint {
  return { kind: 'levels', n };
}

/**
 * a·x ≤ b.
 *
 * @example
 * linear(new Array(784).fill(1), 100)   // total ink at most 100
 */
export function linear(a: ArrayLike<number>, b: number): Constraint {
  return { kind: 'linear', a: list(a), b };
}

/**
 * Features `indices` form a one-hot category: the simplex (x ≥ 0, Σ = 1) during search, rounded
 * to one-hot at the end.
 *
 * @example
 * oneHot([3, 4, 5])                // colour ∈ {red, green, blue}
 */
export function oneHot(indices: ArrayLike<number>): Constraint {
  return { kind: 'oneHot', indices: list(indices) };
}

/**
 * The input must look like the data: it lies in the prior's set (a subspace of the examples or a
 * decoder's range, with its code in a box or ball). Gradient search optimises the code; exact
 * mode encodes a subspace's code as the MILP's variables. Build priors with `subspacePrior` or
 * `--prior` on the command line.
 *
 * @example
 * const { stored } = await loadDatasetPrior(model);   // the bundled model's prior.json
 * prior(subspacePrior(stored, 32))   // x = mean + Uᵀz, z in the examples' 0.5–99.5 % box
 */
export function prior(p: DataPrior): Constraint {
  return { kind: 'prior', prior: p };
}
