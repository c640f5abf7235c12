/**
 * Constraints on the input as plain data. The same values drive the projection of gradient
 * search (`project.ts`) and the MILP encoding of the exact maximiser (`exact/`), so the two
 * cannot disagree about what is allowed. All vectors are flat over one model input
 * (row-major, no batch). `input` names the model input (by name or index); omitted = the first.
 */
import type { DataPrior } from '../prior/types.js';

export type Constraint =
  /** lo ≤ x ≤ hi, scalar or per feature. */
  | { kind: 'box'; lo: number | number[]; hi: number | number[]; input?: string | number }
  /** ‖x − ref‖_p ≤ eps with p = ∞, 2 or 1. */
  | { kind: 'ball'; ref: number[]; eps: number; p: 1 | 2 | 'inf'; input?: string | number }
  /** Only features with editable[i] = true may change; the others keep `ref` (or the initial input when ref is absent). */
  | { kind: 'mask'; editable: boolean[]; ref?: number[]; input?: string | number }
  /** The final input is rounded to n evenly spaced values across the box, then re-evaluated. */
  | { kind: 'levels'; n: number; input?: string | number }
  /** a·x ≤ b. */
  | { kind: 'linear'; a: number[]; b: number; input?: string | number }
  /** Features `indices` form a one-hot category: the simplex during search, one-hot at the end. */
  | { kind: 'oneHot'; indices: number[]; input?: string | number }
  /** The input looks like the data: x = mean + Uᵀz (subspace) or G(z) (decoder), z in the prior's set (src/prior). */
  | { kind: 'prior'; prior: DataPrior; input?: string | number };

export type ConstraintKind = Constraint['kind'];
