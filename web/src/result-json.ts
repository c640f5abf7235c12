import type { TargetResult } from '../../src/optimize/maximize.js';
import type { ExactResult } from '../../src/exact/maximizeExact.js';
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

/**
 * The JSON document of an exact (MILP) result, in the schema of the CLI's `actmax exact`
 * result.json (src/cli/commands/exact.ts `exactJson`, which cannot run here): the library's
 * ExactResult without its spec (status, value, upperBound, gap, input, outputs, residuals, nodes,
 * solveSeconds, …), the model, method, time limit and timings; plus the gradient search's value
 * for the same target when a run preceded it.
 *
 * @example
 * const doc = exactJson(result, 'models/fashion-mnist-mlp/model.json', 30, { value: 3.1, restart: 2 });
 */
export function exactJson(r: ExactResult, modelSource: string, timeLimit: number, gradient: { value: number; restart: number } | null): Record<string, unknown> {
  const { spec: _spec, ...rest } = r;
  return {
    ...rest,
    model: modelSource,
    method: 'exact (MILP, HiGHS)',
    timeLimit,
    timings: { totalMs: r.totalSeconds * 1000, solveSeconds: r.solveSeconds },
    ...(gradient ? { gradientSearch: gradient } : {}),
  };
}
