/**
 * Exact maximisation for piecewise-linear networks: the global maximum of a linear objective
 * (logit, margin, neuron, channel, direction, weighted sums) under the input constraints — by a
 * branch-and-bound with certified SDP bounds for one hidden ReLU layer (src/exact/bnb/), by
 * mixed-integer programming with HiGHS otherwise — or the best input found with a proven upper bound.
 *
 * @example
 * import { maximizeExact } from './exact/index.js';
 * const res = await maximizeExact(model, { kind: 'margin', index: 3 }, { constraints: [linf(image, 0.02)], timeLimit: 60 });
 * if (res.status === 'optimal') console.log('proven maximum', res.value);
 */
export { maximizeExact, tightenBounds, type ExactOptions, type ExactResult, type ExactProgress, type ExactEncodingInfo, type ExactMethod, type ExactMethodChoice, type BnbInfo } from './maximizeExact.js';
export { shallowProblem, shallowValue, shallowInput, type ShallowProblem } from './bnb/shallow.js';
export { solveBnb, type BnbOptions, type BnbOutcome, type BnbProgress } from './bnb/solve.js';
export { extractNetwork, forwardValues, layerValues, evalExpr, type PLNetwork, type PLVar, type PLValues, type LinExpr } from './network.js';
export { intervalBounds, exprBounds, type Bounds } from './bounds.js';
export { encode, startSolution, type Milp, type MilpColumn, type MilpRow, type ExactObjective, type EncodeOptions } from './encode.js';
export { toLpText } from './lpText.js';
export { exactObjective, exactObjectiveValue } from './objective.js';
export { HighsSolver, type SolveOutcome, type SolveProgress, type MipOptions } from './highs.js';
