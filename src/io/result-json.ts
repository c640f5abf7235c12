// The result.json schema, shared by the CLI and the web page (no Node imports here).
import type { ExactResult } from '../exact/maximizeExact.js';

/** Display names of the exact solvers (`method` in result.json). */
const EXACT_METHOD: Record<ExactResult['method'], string> = { bnb: 'exact (branch-and-bound, SDP bounds)', milp: 'exact (MILP, HiGHS)' };
import type { MaximizeResult, TargetResult } from '../optimize/maximize.js';

/** A run's settings and totals, as in maximize's result (minus the per-target results). */
export type RunSummary = Pick<MaximizeResult, 'seed' | 'steps' | 'restarts' | 'optimizer' | 'lr' | 'engine' | 'backend' | 'reinitialized' | 'interrupted' | 'timings'>;

/**
 * The JSON document of one target: what `result.json`, `--json` and the web page's download hold.
 *
 * @example
 * const doc = targetJson(run.results[0], run, model.source);
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

/** The whole run as one JSON document (`{results: [...]}` for several targets). @example runJson(run, model.source) */
export function runJson(run: MaximizeResult, modelSource: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (run.results.length === 1) return targetJson(run.results[0], run, modelSource, extra);
  return { results: run.results.map((r) => targetJson(r, run, modelSource, extra)) };
}

/**
 * The JSON document of an exact answer: maximize's fields plus status, upperBound, gap, nodes,
 * solveSeconds and the solver (`method`, with `solver` = bnb | milp); `gradientSearch` when a
 * gradient run preceded it (web page).
 *
 * @example
 * const doc = exactJson(result, model.source, 60);
 */
export function exactJson(r: ExactResult, modelSource: string, timeLimit: number, gradient: { value: number; restart: number } | null = null): Record<string, unknown> {
  const { spec: _spec, method, ...rest } = r;
  return {
    ...rest,
    model: modelSource,
    method: EXACT_METHOD[method],
    solver: method,
    timeLimit,
    timings: { totalMs: r.totalSeconds * 1000, solveSeconds: r.solveSeconds },
    ...(gradient ? { gradientSearch: gradient } : {}),
  };
}
