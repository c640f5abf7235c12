import { unitNorms } from './lagrange.js';
import { NodeSolver, type NodeEffort } from './node.js';
import { climbVertex, polishInRegion, type PolishResult } from './polish.js';
import type { RegionLp } from './regionLp.js';
import { rootNode } from './search.js';
import { shallowValue, type ShallowProblem } from './shallow.js';

/**
 * The polish of an answer that may sit in the wrong basin (gradient search's end-of-run step):
 * the LP ascent with flips from the answer; on box-only problems also hill climbing over box
 * vertices from the answer and from random-hyperplane roundings of a short solve of the root SDP
 * relaxation, then short LP ascents from the best two vertices. The budget counts LPs, so the same
 * input always gives the same answer.
 */

/** A short root solve: enough for roundings, no certificate. */
export const EXPLORE_EFFORT: NodeEffort = { maxSweeps: 30, rootSweeps: 30, stall: 0.1, rootStall: 0.01, window: 4, etaRoot: 0.5, eta: 0.3 };

/** Roundings of the root relaxation tried (8: class 1 of the bundled model was missed with 6). */
export const ROUNDINGS = 8;

/** Options of {@link explore}. */
export interface ExploreOptions {
  /** LPs in all (default 30). */
  lps?: number;
  /** Seconds, a safety stop only (default 30). */
  timeLimit?: number;
  stop?: Int32Array | null;
}

/**
 * Polish s ∈ [0,1]^n (see above) with the ascent-only LP `lp` (RegionLp built without region rows)
 * and a node solver of EXPLORE_EFFORT for the roundings.
 *
 * @example
 * const r = explore(problem, new RegionLp(highs, problem, false), new NodeSolver(problem, unitNorms(problem), EXPLORE_EFFORT), s);
 */
export function explore(p: ShallowProblem, lp: RegionLp, solver: NodeSolver, start: Float64Array, o: ExploreOptions = {}): PolishResult {
  const t0 = performance.now();
  const timeLimit = o.timeLimit ?? 30;
  const maxLps = o.lps ?? 30;
  const left = () => timeLimit - (performance.now() - t0) / 1000;
  let best: Float64Array = start;
  const startValue = shallowValue(p, start);
  let bestValue = startValue, lps = 0, moves = 0;
  const consider = (s: Float64Array, flips: number, budget: number) => {
    budget = Math.min(maxLps - lps, budget);
    if (left() <= 0 || budget <= 0) return;
    const r = polishInRegion(p, lp, s, { timeLimit: left(), flips, maxLps: budget, stop: o.stop });
    lps += r.lps;
    moves += r.moves;
    if (r.value > bestValue) {
      best = r.s;
      bestValue = r.value;
    }
  };
  if (p.rows > 0) {
    // Vertices may break the linear constraints: the LP ascent from the start alone.
    consider(start, 12, maxLps);
  } else {
    solver.bound(rootNode(p, unitNorms(p)), -Infinity, (s) => solver.sdp.value(s), false);
    const starts: Float64Array[] = [start];
    for (let k = 0; k < ROUNDINGS; k++) {
      const s = new Float64Array(p.n);
      solver.roundOnce(s);
      starts.push(s);
    }
    const climbed = starts.map((s) => climbVertex(p, s)).sort((u, v) => v.value - u.value);
    consider(start, 2, Math.ceil(maxLps / 3));
    for (const c of climbed.slice(0, 2)) consider(c.s, 2, Math.ceil(maxLps / 3));
  }
  return { s: best, value: bestValue, start: startValue, lps, moves, seconds: (performance.now() - t0) / 1000 };
}

/**
 * A node solver for {@link explore}.
 *
 * @example
 * const solver = exploreSolver(problem);
 */
export function exploreSolver(p: ShallowProblem): NodeSolver {
  return new NodeSolver(p, unitNorms(p), EXPLORE_EFFORT);
}
