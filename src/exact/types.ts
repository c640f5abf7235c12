/**
 * Public types of the exact maximiser (maximizeExact.ts re-exports them).
 */
import type { Constraint } from '../constraints/constraint.js';
import type { ObjectiveSpec } from '../objectives/spec.js';

/** Progress of an exact maximisation, passed to `onProgress`. */
export interface ExactProgress {
  /** `warm-start`: gradient search; `bounds`: bound tightening (MILP) or the root bound and the start's polish (branch-and-bound); `solve`: the search. */
  phase: 'warm-start' | 'bounds' | 'solve';
  /** Best verified objective value so far (null before the first). */
  incumbent: number | null;
  /** Proven upper bound on the maximum (null while unknown). */
  bound: number | null;
  /** (bound − incumbent) / |incumbent|. */
  gap: number | null;
  nodes: number;
  /** Seconds since the call started. */
  seconds: number;
}

/** Options of {@link maximizeExact}. */
export interface ExactOptions {
  constraints?: Constraint[];
  /** Seconds for the MILP solve (default 60). Bound tightening and the warm start come on top. */
  timeLimit?: number;
  /** Stop when (bound − value)/|value| ≤ this, reported as `optimal` (default 0: a full proof). */
  gapTolerance?: number;
  /**
   * Start the solver from a good input: `true` runs gradient search first (the default, except
   * over a data prior's union of boxes, whose boxes' polished LP maximisers are better starts); an
   * input (flat; the optimised inputs concatenated in order) is used as given; `false` starts
   * cold; an object sets the gradient search's budget.
   */
  warmStart?: boolean | ArrayLike<number> | { steps?: number; restarts?: number; seed?: number };
  /** Seconds for LP bound tightening, or false to skip it (default: up to 20 % of timeLimit, at most 30 s). Over a data prior's union of boxes, false also skips the per-box tightening of the boxes a MILP does not close at once. */
  tighten?: number | false;
  onProgress?: (p: ExactProgress) => void;
  /**
   * Which solver: `bnb` (branch-and-bound with SDP bounds, for one hidden ReLU layer, a linear
   * objective, a box and linear constraints), `milp` (HiGHS, any piecewise-linear network), or
   * `auto` (default): `bnb` where it applies, else `milp`.
   */
  method?: ExactMethodChoice;
  /** Worker threads of the branch-and-bound (default: the cores; 0 = the calling thread). */
  threads?: number;
  /** Extra HiGHS options, e.g. `{ mip_heuristic_effort: 0.2 }` (names as in HiGHS; unknown names throw). */
  solverOptions?: Record<string, number | string | boolean>;
  /** Abort: the solve stops and the best input so far is returned (`interrupted: true`). */
  signal?: AbortSignal;
  /** Model inputs to optimise, by name or index (default: all); the others are constants. */
  optimize?: Array<string | number>;
  /** Values of the inputs that are not optimised (flat), by input name. */
  inputs?: Record<string, ArrayLike<number>>;
}

/** Size of the MILP and how it was built. */
export interface ExactEncodingInfo {
  columns: number;
  rows: number;
  binaries: number;
  integers: number;
  unstable: number;
  stable: number;
  /** Unstable units encoded without a binary (the objective cannot gain from them). */
  withoutBinary: number;
  /** Pre-activations whose bounds LP tightening improved, and the seconds it took. */
  tightened: number;
  boundsSeconds: number;
}

/**
 * The answer of {@link maximizeExact}. `value` is the objective at `input`, computed in float64
 * and checked against TF.js; `upperBound` is proven: no feasible input does better.
 */
export interface ExactResult {
  status: 'optimal' | 'time-limit' | 'infeasible' | 'unsupported';
  objective: string;
  spec: ObjectiveSpec;
  value: number | null;
  upperBound: number | null;
  /** (upperBound − value) / |value|; 0 when proven optimal. */
  gap: number | null;
  input: number[];
  shape: number[];
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  residuals: Record<string, number>;
  /** Which solver answered: `bnb` (branch-and-bound, SDP bounds) or `milp` (HiGHS). */
  method: ExactMethod;
  /** Why that solver (e.g. why branch-and-bound did not apply). */
  methodReason: string;
  /** Branch-and-bound nodes and seconds in the solver. */
  nodes: number;
  solveSeconds: number;
  totalSeconds: number;
  /** The warm start's objective value, when there was one. */
  warmStartValue: number | null;
  /** Whether the returned input came from the solver (`milp`, `bnb`) or is the warm start. */
  source: 'milp' | 'bnb' | 'warm-start' | null;
  /** True when `signal` stopped the solve. */
  interrupted: boolean;
  /** Size of the MILP (method `milp`). */
  encoding: ExactEncodingInfo | null;
  /** How the branch-and-bound went (method `bnb`). */
  bnb: BnbInfo | null;
  /** With a union of code boxes (a clustered data prior): how its boxes ended, whichever solver closed them. */
  union?: UnionBoxesInfo;
  /** The objective at `input` three ways: TF.js (float32), float64 forward pass, the solver's own value. */
  check: { tfjs: number; float64: number; solver: number | null } | null;
  /** Why the answer is what it is, in one line. */
  message: string;
}

/** Solver choice of {@link ExactOptions.method}. */
export type ExactMethodChoice = 'auto' | 'bnb' | 'milp';
export type ExactMethod = 'bnb' | 'milp';

/** What the branch-and-bound did (ExactResult.bnb). */
export interface BnbInfo {
  /** Unstable hidden units, and those it branches on (positive objective weight). */
  units: number;
  branchUnits: number;
  /** The root's certified bound and when it was known (seconds from the call). */
  rootBound: number;
  rootSeconds: number;
  /** Leaves solved by LP, mixing-method sweeps, worker threads. */
  leaves: number;
  sweeps: number;
  threads: number;
  /** The warm start's polish by region LPs: value before and after, LPs solved. */
  polish: { start: number; value: number; lps: number } | null;
  /** Relative tolerance a node was pruned at. */
  pruneTolerance: number;
  /** With a union of code boxes (a clustered data prior): how its boxes ended. */
  boxes?: UnionBoxesInfo;
}

/** How the union's boxes ended (ExactResult.bnb.boxes). */
export interface UnionBoxesInfo {
  total: number;
  /** Closed before any solve: their interval bound, or their polytope bound (the pixel box read in the code), did not beat the incumbent. */
  pruned: number;
  /** Closed by a solve (its proof, or its tree pruned by the incumbent). */
  solved: number;
  /** Boxes whose units' ranges were tightened by LP, over their relaxation where the objective reaches the incumbent (their MILP did not close them at once); some then close by the tighter bound, counted in `pruned`. */
  tightened: number;
  /** Boxes left open at the time limit (indices), with their bounds. */
  open: Array<{ box: number; bound: number }>;
}

