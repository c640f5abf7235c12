// The one JSON document of a run: result.json, `maximize --json`, `exact --json` and the web
// page's downloads. Run-level fields once, then `results`: one entry per target, even for one
// target. No Node imports here (the web page uses it).
import type { ExactResult } from '../exact/maximizeExact.js';
import type { MaximizeResult, TargetResult } from '../optimize/maximize.js';

/** A run's settings and totals, as in maximize's result (minus the per-target results). */
export type RunSummary = Pick<MaximizeResult, 'seed' | 'steps' | 'restarts' | 'optimizer' | 'lr' | 'engine' | 'backend' | 'reinitialized' | 'interrupted' | 'timings'>;

/** One target of a gradient-search document: its {@link TargetResult} without the parsed spec. */
export type TargetDocument = Omit<TargetResult, 'spec'>;

/** The document of a gradient-search run (`method: "gradient"`). */
export interface RunDocument extends RunSummary {
  model: string;
  method: 'gradient';
  /** What the image pipeline did, when it ran. */
  image?: string[];
  results: TargetDocument[];
}

/** One target of an exact document: its {@link ExactResult} without the parsed spec. */
export type ExactTargetDocument = Omit<ExactResult, 'spec'> & {
  /** The gradient search that preceded it (web page), for comparison. */
  gradientSearch?: { value: number; restart: number };
};

/** The document of an exact run (`method: "exact (MILP, HiGHS)"`). */
export interface ExactDocument {
  model: string;
  method: 'exact (MILP, HiGHS)';
  /** Seconds the MILP solve of each target could take. */
  timeLimit: number;
  interrupted: boolean;
  timings: { totalMs: number; solveSeconds: number };
  results: ExactTargetDocument[];
}

const withoutSpec = <T extends { spec: unknown }>(r: T): Omit<T, 'spec'> => {
  const { spec: _spec, ...rest } = r;
  return rest;
};

/**
 * The JSON document of a gradient-search run: the run's settings once, one entry per target.
 * `targets` picks some of the run's targets (the web page downloads the one shown).
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');
 * const run = await maximize(model, logit(1), { steps: 5, restarts: 1 });
 * const doc = runJson(run, model.source); // { model, method: 'gradient', seed, steps, …, results: [{ objective: 'logit:1', value, input, … }] }
 */
export function runJson(run: RunSummary & Pick<MaximizeResult, 'results' | 'image'>, modelSource: string, targets?: number[]): RunDocument {
  const picked = targets ? targets.map((t) => run.results[t]) : run.results;
  return {
    model: modelSource,
    method: 'gradient',
    seed: run.seed,
    steps: run.steps,
    restarts: run.restarts,
    optimizer: run.optimizer,
    lr: run.lr,
    engine: run.engine,
    backend: run.backend,
    interrupted: run.interrupted,
    reinitialized: run.reinitialized,
    timings: run.timings,
    ...(run.image ? { image: run.image } : {}),
    results: picked.map(withoutSpec),
  };
}

/**
 * The JSON document of exact (MILP) answers: the time limit once, one entry per target with its
 * status, value, upperBound, gap, nodes and solveSeconds; `gradientSearch` when a gradient run
 * preceded it (web page).
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');
 * const r = await maximizeExact(model, logit(3), { constraints: [linf(image, 0.005)], timeLimit: 30 });
 * const doc = exactRunJson([r], model.source, 30); // { model, method: 'exact (MILP, HiGHS)', timeLimit: 30, results: [{ status: 'optimal', … }] }
 */
export function exactRunJson(results: ExactResult[], modelSource: string, timeLimit: number, gradient: Array<{ value: number; restart: number } | null> = []): ExactDocument {
  return {
    model: modelSource,
    method: 'exact (MILP, HiGHS)',
    timeLimit,
    interrupted: results.some((r) => r.interrupted),
    timings: {
      totalMs: 1000 * results.reduce((s, r) => s + r.totalSeconds, 0),
      solveSeconds: results.reduce((s, r) => s + r.solveSeconds, 0),
    },
    results: results.map((r, t) => ({ ...withoutSpec(r), ...(gradient[t] ? { gradientSearch: gradient[t]! } : {}) })),
  };
}
