// The one JSON document of a run: result.json, `maximize --json`, `exact --json` and the web
// page's downloads. Run-level fields once, then `results`: one entry per target, even for one
// target. No Node imports here (the web page uses it).
import type { ExactResult } from '../exact/maximizeExact.js';

/** Display names of the exact solvers (`method` in result.json). */
const EXACT_METHOD: Record<ExactResult['method'], string> = { bnb: 'exact (branch-and-bound, SDP bounds)', milp: 'exact (MILP, HiGHS)' };
import type { MaximizeResult, TargetResult } from '../optimize/maximize.js';
import type { PolishSummary } from '../exact/polish.js';
import type { PriorReport } from '../prior/param.js';

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
  /** The data prior the answers were held to (kind, K, code set), when there was one. */
  prior?: PriorReport;
  /** What the end-of-run polish did per target (value before → after), or why it did not apply; absent when it was off. */
  polish?: PolishSummary;
  results: TargetDocument[];
}

/** One target of an exact document: its {@link ExactResult} without the parsed spec. */
export type ExactTargetDocument = Omit<ExactResult, 'spec'> & {
  /** The gradient search that preceded it (web page), for comparison. */
  gradientSearch?: { value: number; restart: number };
};

/** The document of an exact run (`method`: how the targets were solved, e.g. "exact (branch-and-bound, SDP bounds)"). */
export interface ExactDocument {
  model: string;
  method: string;
  /** Seconds the MILP solve of each target could take. */
  timeLimit: number;
  interrupted: boolean;
  timings: { totalMs: number; solveSeconds: number };
  results: ExactTargetDocument[];
}

/** The document's method: the one solver every target used, or both named. */
function documentMethod(results: ExactResult[]): string {
  const used = [...new Set(results.map((r) => r.method))];
  return used.length === 1 ? EXACT_METHOD[used[0]] : 'exact (branch-and-bound and MILP)';
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
export function runJson(run: RunSummary & Pick<MaximizeResult, 'results' | 'image' | 'prior' | 'polish'>, modelSource: string, targets?: number[]): RunDocument {
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
    ...(run.prior ? { prior: run.prior } : {}),
    ...(run.polish ? { polish: pickedPolish(run.polish, targets) } : {}),
    results: picked.map(withoutSpec),
  };
}

/** The polish summary of the picked targets (all when none are picked). */
function pickedPolish(polish: PolishSummary, targets?: number[]): PolishSummary {
  if (!targets || polish.targets.length === 0) return polish;
  return { ...polish, targets: targets.map((t) => polish.targets[t]).filter((r) => r !== undefined) };
}

/**
 * The JSON document of exact answers: the method and time limit once, one entry per target with
 * its solver (`method`: bnb | milp), status, value, upperBound, gap, nodes and solveSeconds;
 * `gradientSearch` when a gradient run preceded it (web page).
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');
 * const r = await maximizeExact(model, logit(3), { constraints: [linf(image, 0.005)], timeLimit: 30 });
 * const doc = exactRunJson([r], model.source, 30); // { model, method: 'exact (branch-and-bound, SDP bounds)', timeLimit: 30, results: [{ method: 'bnb', status: 'optimal', … }] }
 */
export function exactRunJson(results: ExactResult[], modelSource: string, timeLimit: number, gradient: Array<{ value: number; restart: number } | null> = []): ExactDocument {
  return {
    model: modelSource,
    method: documentMethod(results),
    timeLimit,
    interrupted: results.some((r) => r.interrupted),
    timings: {
      totalMs: 1000 * results.reduce((s, r) => s + r.totalSeconds, 0),
      solveSeconds: results.reduce((s, r) => s + r.solveSeconds, 0),
    },
    results: results.map((r, t) => ({ ...withoutSpec(r), ...(gradient[t] ? { gradientSearch: gradient[t]! } : {}) })),
  };
}
