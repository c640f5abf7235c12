import type { EngineRequest } from '../engine.js';
import type { ShardSession, WireTensor } from './shards.js';

/*
 * Data parallelism for the fused ascent: the batch's rows split into contiguous runs, each run a
 * request of its own (its rows' targets) compiled into its own graph and run by its own session;
 * the calls' inputs are cut along the row axis and the outputs put back together. Every row's
 * maths is unchanged (rows never mix, except diversity, which mixes only the restarts of one
 * target: those then stay together).
 */

/**
 * The fewest rows a run gets: below it a thread's share of each op is too small to win back its
 * call (measured, bundled MLP, image defaults, 2 threads: 5 rows a run ≈ one session, 1 row a
 * run 0.78×; the antispoof conv net at 4 rows a run 1.11×).
 */
export const MIN_RUN_ROWS = 4;
/**
 * The least work of a run (rows × multiply-adds per row × steps) worth its threads' set-up (a
 * graph and a session per run, ≈ 50–100 ms more than one session for the bundled MLP): 10¹⁰
 * is ≈ 0.7 s of the bundled MLP's image-defaults path on one two-thread session. Measured
 * steady state, split into two runs against one two-thread session: bundled MLP 20 rows 1.47×,
 * 40 rows 1.56×, 60 rows 1.51×, 1000 rows 1.06–1.08×; mnist_cnn at 60 rows 1.27×.
 */
export const RUNS_OF_ROWS_MACS = 1e10;

/**
 * Whether a fused run of `rows` rows and `steps` steps splits into runs of rows over `threads` ≥ 2
 * worker threads: at least {@link MIN_RUN_ROWS} rows a run and {@link RUNS_OF_ROWS_MACS} of work.
 *
 * @example
 * worthRunsOfRows(2, 1000, 101_632, 1000) // true
 * worthRunsOfRows(2, 60, 101_632, 150) // false: about 0.06 s of work
 */
export function worthRunsOfRows(threads: number, rows: number, macsPerRow: number, steps: number): boolean {
  return threads >= 2 && rows >= threads * MIN_RUN_ROWS && rows * macsPerRow * steps >= RUNS_OF_ROWS_MACS;
}

/**
 * The most optimised values (rows × values per row) one run takes: larger batches split into more
 * runs than threads, each thread running its share one after another, so that each op's tensors
 * stay in the core's cache (≈ 400 kB of float32). Measured, bundled MLP (784 values a row), two
 * threads, one run each: 60–250 rows 187k–205k image-steps/s with the image defaults and
 * 367k–388k without, but 1000 rows (500 a run) 157k and 316k; 1000 rows in runs of 125 (this
 * limit): 211k and 397k; runs of 64 (50,000): 192k and 402k; runs of 250 (200,000): 194k and 368k.
 */
export const RUN_VALUES = 100_000;

/**
 * How many runs of rows a split batch gets: a multiple of `threads`, enough that no run holds
 * more than {@link RUN_VALUES} values where the rows allow (each run keeps {@link MIN_RUN_ROWS}).
 *
 * @example
 * runCount(2, 1000, 784) // 8: runs of 125 rows
 * runCount(2, 60, 784) // 2
 */
export function runCount(threads: number, rows: number, valuesPerRow: number): number {
  const perThread = Math.max(1, Math.min(Math.floor(rows / (threads * MIN_RUN_ROWS)), Math.ceil((rows * valuesPerRow) / (threads * RUN_VALUES))));
  return threads * perThread;
}

/** A contiguous run of the batch's rows and the request that computes them. */
export interface Shard {
  from: number;
  to: number;
  request: EngineRequest;
}

/**
 * How to split a request's rows over `count` sessions, or null when it should not be split (fewer
 * than `minRows` rows each, or diversity with one target). Rows are target-major (target t holds
 * rows t·R … t·R + R − 1); with diversity the runs end at target boundaries.
 *
 * @example
 * shardRequest({ ...req, targets: ten, rowsPerTarget: 100 }, 2, 32)!.map((s) => [s.from, s.to]) // [[0, 500], [500, 1000]]
 */
export function shardRequest(req: EngineRequest, count: number, minRows = MIN_RUN_ROWS): Shard[] | null {
  const R = req.rowsPerTarget;
  const T = req.targets.length;
  const rows = T * R;
  if (count < 2 || rows < count * minRows) return null;
  if (req.pipeline?.diversity) {
    // Whole targets only: diversity pushes a target's restarts apart.
    const n = Math.min(count, T);
    if (n < 2 || R < minRows) return null;
    return evenRuns(T, n).map(([a, b]) => ({ from: a * R, to: b * R, request: { ...req, targets: req.targets.slice(a, b) } }));
  }
  return evenRuns(rows, count).map(([from, to]) => {
    if (from % R === 0 && to % R === 0) return { from, to, request: { ...req, targets: req.targets.slice(from / R, to / R) } };
    // A run that cuts a target's restarts: one target per row.
    const targets = Array.from({ length: to - from }, (_, i) => req.targets[Math.floor((from + i) / R)]);
    return { from, to, request: { ...req, targets, rowsPerTarget: 1 } };
  });
}

/** `n` items in `parts` contiguous runs whose sizes differ by at most one. */
function evenRuns(n: number, parts: number): Array<[number, number]> {
  return Array.from({ length: parts }, (_, i) => [Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
}

type Data = WireTensor['data'];

/** Rows `from`…`to` of `t` (a fresh array) along `axis` (0: [rows, …]; 1: [K, rows, …]). */
export function cutRows(t: WireTensor, rows: number, axis: 0 | 1, from: number, to: number): WireTensor {
  const lead = axis === 0 ? 1 : t.dims[0];
  const per = t.data.length / (lead * rows);
  const out = new (t.data.constructor as new (n: number) => Data)(lead * (to - from) * per);
  for (let j = 0; j < lead; j++) out.set(t.data.subarray((j * rows + from) * per, (j * rows + to) * per) as never, j * (to - from) * per);
  const dims = axis === 0 ? [to - from, ...t.dims.slice(1)] : [lead, to - from, ...t.dims.slice(2)];
  return { type: t.type, data: out, dims };
}

/** The inverse of {@link cutRows}: the runs' parts of one tensor put back together. */
export function joinRows(parts: WireTensor[], shards: Array<{ from: number; to: number }>, rows: number, axis: 0 | 1): WireTensor {
  const first = parts[0];
  const lead = axis === 0 ? 1 : first.dims[0];
  const per = first.data.length / (lead * (shards[0].to - shards[0].from));
  const out = new (first.data.constructor as new (n: number) => Data)(lead * rows * per);
  parts.forEach((p, s) => {
    const n = shards[s].to - shards[s].from;
    for (let j = 0; j < lead; j++) out.set(p.data.subarray(j * n * per, (j + 1) * n * per) as never, (j * rows + shards[s].from) * per);
  });
  const dims = axis === 0 ? [rows, ...first.dims.slice(1)] : [lead, rows, ...first.dims.slice(2)];
  return { type: first.type, data: out, dims };
}

/**
 * One call over every run: each session gets its rows of every feed, the outputs come back whole.
 * `rowAxis` names the row axis of each feed and output (0, or 1 behind a leading step axis).
 *
 * @example
 * const run = shardedRun(sessions, shards, 1000, (name) => (name.startsWith('alpha') ? 1 : 0));
 * const out = await run(feeds);
 */
export function shardedRun(sessions: ShardSession[], shards: Array<{ from: number; to: number }>, rows: number, rowAxis: (name: string) => 0 | 1) {
  return async (feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> => {
    const outs = await Promise.all(
      sessions.map((s, i) => s.run(Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, cutRows(t, rows, rowAxis(name), shards[i].from, shards[i].to)])))),
    );
    return Object.fromEntries(Object.keys(outs[0]).map((name) => [name, joinRows(outs.map((o) => o[name]), shards, rows, rowAxis(name))]));
  };
}
