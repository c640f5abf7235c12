import type { ActmaxModel } from '../model/types.js';
import type { Objective } from '../objectives/objective.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { maximize, type MaximizeOptions, type MaximizeResult } from '../optimize/maximize.js';

/**
 * For honest reports: runs the same search without the `prior` constraint (same steps, restarts,
 * seed, image settings and other constraints) and records, per target, the value it reaches as
 * `withoutPrior` — what the prior costs in objective value. Returns `run` with those fields set.
 *
 * @example
 * const opts = { steps: 20, constraints: [prior(subspacePrior((await loadDatasetPrior(model)).stored, 8))] };
 * const run = await maximize(model, logit(1), opts);
 * await addValueWithoutPrior(model, logit(1), opts, run);
 * run.results[0].withoutPrior!.value > run.results[0].value // true
 */
export async function addValueWithoutPrior(
  model: ActmaxModel,
  objective: Objective | ObjectiveSpec | Array<Objective | ObjectiveSpec>,
  options: MaximizeOptions,
  run: MaximizeResult,
): Promise<MaximizeResult> {
  const constraints = (options.constraints ?? []).filter((c) => c.kind !== 'prior');
  const plain = await maximize(model, objective, { ...options, constraints, onStep: undefined, frames: undefined, keepRestarts: false });
  run.results.forEach((r, t) => {
    r.withoutPrior = { value: plain.results[t].value, definition: 'best value of the same search (steps, restarts, seed, image settings, other constraints) without the prior' };
  });
  return run;
}
