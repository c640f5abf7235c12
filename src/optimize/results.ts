import { ActmaxError } from '../errors.js';
import { residuals, roundOneHot, roundToLevels } from '../constraints/index.js';
import type { Engine, Evaluation } from '../engine/engine.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { formatObjective } from '../objectives/format.js';
import type { Problem } from './problem.js';
import type { Progress } from './progress.js';

/** The answer for one target. */
export interface TargetResult {
  objective: string;
  spec: ObjectiveSpec;
  /** Objective value of `input` (after rounding, when `levels`/`oneHot` apply). */
  value: number;
  /** The best input (flat, first optimised input); `inputs` has all of them by name. */
  input: number[];
  shape: number[];
  inputs: Record<string, number[]>;
  /** Every model output for `input`, flat, by output name. */
  outputs: Record<string, number[]>;
  /** Violation of each constraint at `input` (0 = satisfied). */
  residuals: Record<string, number>;
  /** Which restart won. */
  restart: number;
  /** Value before rounding to levels / one-hot, when rounding applied. */
  unrounded?: { value: number; input: number[] };
  /** Best value so far, sampled over the steps. */
  history: Array<{ step: number; value: number }>;
  /** Each restart's best value (with `keepRestarts`). */
  perRestart?: Array<{ restart: number; value: number }>;
  /** With a data prior: the value the same search reaches without it (set by `addValueWithoutPrior`). */
  withoutPrior?: { value: number; definition: string };
}

/** The best rows, rounded where the constraints say so, evaluated: one result per target. */
export interface Finished {
  results: TargetResult[];
  /** Each row's best rendered first optimised input (rows × features), with `keepRestarts`. */
  restartInputs?: Float32Array;
}

/**
 * After the steps: pick the best restart per target, round (levels / one-hot), evaluate once more
 * and assemble the results with outputs and constraint residuals.
 *
 * @example
 * const { results } = await finish(problem, engine, progress, false);
 */
export async function finish(p: Problem, engine: Engine, progress: Progress, keepRestarts: boolean): Promise<Finished> {
  const { rows, restarts, targets, model } = p;
  const sizes = p.inputs.map((i) => i.size);
  const { bestValue, bestX } = progress;
  // Every restart's best input, evaluated as the result reports it: without the per-step random
  // transforms (jitter, scale, rotate) the search saw. The winner is the restart whose input scores
  // highest there, so no other restart's input reports a higher value than the result.
  const restartEval = await engine.evaluate(bestX);
  const score = (r: number) => (Number.isFinite(restartEval.values[r]) ? restartEval.values[r] : Number.isFinite(bestValue[r]) ? -Infinity : NaN);
  const winners = targets.map((_, t) => {
    let best = t * restarts;
    for (let r = t * restarts; r < (t + 1) * restarts; r++) if (score(r) > score(best) || (Number.isNaN(score(best)) && !Number.isNaN(score(r)))) best = r;
    return best;
  });
  if (!winners.every((r) => Number.isFinite(bestValue[r]))) {
    throw new ActmaxError('bad-input', 'every step gave NaN or Infinity; check the model and the input range');
  }
  // Every restart of a target gets its winner, so one batched evaluation serves all.
  const finalX = sizes.map((n, k) => {
    const out = new Float32Array(rows * n);
    winners.forEach((r, t) => {
      for (let j = 0; j < restarts; j++) out.set(bestX[k].subarray(r * n, (r + 1) * n), (t * restarts + j) * n);
    });
    return out;
  });
  const unrounded = await engine.evaluate(finalX);
  const rounded = finalX.map((x) => Float32Array.from(x));
  let didRound = false;
  rounded.forEach((x, k) => {
    const rc = p.inputs[k].constraints;
    if (rc.oneHot.length > 0) roundOneHot(x, rows, rc);
    if (rc.levels !== null) roundToLevels(x, rows, rc);
    didRound ||= rc.oneHot.length > 0 || rc.levels !== null;
  });
  const final: Evaluation = didRound ? await engine.evaluate(rounded) : unrounded;

  // What the model saw: the rendered inputs when a parameterisation is in use.
  const shown = p.inputs.map((_, k) => final.inputs?.[k] ?? rounded[k]);
  const results = targets.map((spec, t): TargetResult => {
    const row = t * restarts;
    const inputs: Record<string, number[]> = {};
    p.inputs.forEach((inp, k) => (inputs[inp.info.name] = Array.from(shown[k].subarray(row * inp.inputSize, (row + 1) * inp.inputSize))));
    const outputs: Record<string, number[]> = {};
    model.outputs.forEach((o, k) => (outputs[o.name] = Array.from(final.outputs[k].subarray(row * o.units, (row + 1) * o.units))));
    const res: Record<string, number> = {};
    p.inputs.forEach((inp, k) => {
      const r = residuals(shown[k].subarray(row * inp.inputSize, (row + 1) * inp.inputSize), inp.inputConstraints);
      for (const [name, v] of Object.entries(r)) res[p.inputs.length > 1 ? `${inp.info.name}.${name}` : name] = v;
    });
    const first = p.inputs[0].info;
    return {
      objective: formatObjective(spec),
      spec,
      value: final.values[row],
      input: inputs[first.name],
      shape: first.shape,
      inputs,
      outputs,
      residuals: res,
      restart: winners[t] - t * restarts,
      ...(didRound ? { unrounded: { value: unrounded.values[row], input: Array.from(finalX[0].subarray(row * sizes[0], (row + 1) * sizes[0])) } } : {}),
      history: progress.history[t],
      ...(keepRestarts ? { perRestart: Array.from({ length: restarts }, (_, j) => ({ restart: j, value: restartEval.values[row + j] })) } : {}),
    };
  });
  return { results, ...(keepRestarts ? { restartInputs: restartEval.inputs?.[0] ?? Float32Array.from(bestX[0]) } : {}) };
}
