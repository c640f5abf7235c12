import type { TargetResult } from '../../src/optimize/maximize.js';
import type { RunSummary } from './messages.js';

/**
 * The JSON document of one target, in the schema of the CLI's `result.json` (src/io/results.ts
 * `targetJson`, which imports Node modules and so cannot run here): the TargetResult without its
 * spec, then the model and the run's settings, history and timings.
 *
 * @example
 * const doc = targetJson(results[0], run, 'models/fashion-mnist-mlp/model.json');
 */
export function targetJson(r: TargetResult, run: RunSummary, modelSource: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { spec: _spec, history, ...rest } = r;
  return {
    ...rest,
    ...extra,
    model: modelSource,
    seed: run.seed,
    steps: run.steps,
    restarts: run.restarts,
    optimizer: run.optimizer,
    lr: run.lr,
    engine: run.engine,
    interrupted: run.interrupted,
    reinitialized: run.reinitialized,
    history,
    timings: run.timings,
  };
}
