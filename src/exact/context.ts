import type { ResolvedConstraints } from '../constraints/index.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import type { ExactObjective } from './encode.js';
import type { ExactInputSet } from './inputs.js';
import type { PLNetwork } from './network.js';
import type { MilpProblem } from './prior.js';
import type { BnbInfo, ExactEncodingInfo, ExactMethod, ExactOptions, ExactProgress, UnionBoxesInfo } from './types.js';

/** Everything a solver route of maximizeExact needs: the problem, its options, the warm start. */
export interface ExactContext {
  model: ActmaxModel;
  spec: ObjectiveSpec;
  /** The objective as text (for messages). */
  name: string;
  net: PLNetwork;
  obj: ExactObjective;
  /** The solvers' variable set: the optimised inputs' constraints joined, or lifted to a prior's code. */
  rc: ExactInputSet;
  /** The solvers' problem: maps between its variables and the model input. */
  problem: MilpProblem;
  /** The optimised inputs' slices of the model input. */
  inputParts: PLNetwork['inputParts'];
  parts: ResolvedConstraints[];
  optimize: number[];
  fixed: Map<number, Float32Array>;
  options: ExactOptions;
  timeLimit: number;
  gapTolerance: number;
  /** A feasible input (all optimised features) and its float64 objective, or null. */
  start: { x: Float64Array; value: number } | null;
  progress: (p: Omit<ExactProgress, 'seconds'>) => void;
  seconds: () => number;
}

/** What a solver route found, before the common checks. */
export interface SolverAnswer {
  method: ExactMethod;
  /** The solver's best input (all optimised features), or null. */
  x: Float64Array | null;
  /** The solver's own objective value at `x`. */
  solverValue: number | null;
  /** Proven upper bound (null when unknown). */
  bound: number | null;
  /** The solver proved its answer optimal within the tolerance. */
  proven: boolean;
  nodes: number;
  solveSeconds: number;
  encoding: ExactEncodingInfo | null;
  bnb: BnbInfo | null;
  /** How a union's boxes ended (src/exact/union.ts). */
  union?: UnionBoxesInfo;
  /** Why no input is feasible, when the solver proved that. */
  infeasible: string | null;
}
