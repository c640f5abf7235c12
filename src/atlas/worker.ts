/**
 * The atlas on many machines, worker side: `actmax worker redis://HOST:PORT` takes batch jobs
 * from the queue, runs them in worker threads (the model loaded once per thread and kept between
 * jobs), and returns the results through Redis. The main thread only talks to Redis, so job locks
 * are renewed on time however long a step takes; a worker that dies loses its lock, and BullMQ's
 * stalled-job check gives the job to another worker.
 */
import { hostname } from 'node:os';
import { Worker, WaitingError, type Job } from 'bullmq';
import { ActmaxError, isActmaxError } from '../errors.js';
import { startThreadPool, type ThreadPool } from './pool.js';
import { QUEUE_NAME, checkRedis, redisOptions, type AtlasJobData } from './queue.js';
import type { BatchResult } from './types.js';

/** Options of {@link runQueueWorker}. */
export interface QueueWorkerOptions {
  /** Most units per maximize call; larger batches run in pieces (see RunBatchOptions.maxUnits). */
  maxBatch?: number;
  /** Batches run at once, each on its own thread holding the model (default 1). */
  threads?: number;
  /** onnxruntime intra-op threads of each thread (default 1: run one worker thread per core). */
  intraOpThreads?: number;
  /** TF.js backend of the threads (default wasm). */
  backend?: string;
  /** Load the model from here instead of the coordinator's path/URL (checked against the plan's digest). */
  model?: string;
  /**
   * Seconds a job's lock lasts without renewal (renewed every half of it). Stalled checks run
   * every half of it and move a job that the previous check saw active and that has lost its lock,
   * so a dead worker's job goes to another 0.5–1.5× this long after the death. Default 30.
   */
  lockSeconds?: number;
  /** Times a job may be recovered from a dead worker before it is failed (default 2). */
  maxStalled?: number;
  signal?: AbortSignal;
  /** One line per event (job done, model loaded …). */
  log?: (line: string) => void;
}

export { WORKER_DEFAULTS } from './defaults.js';
import { WORKER_DEFAULTS } from './defaults.js';

/** What {@link runQueueWorker} did before it stopped. */
export interface QueueWorkerSummary {
  jobs: number;
  units: number;
}

/** The thread pool for the job's model, started on first use and kept while jobs name the same model. */
function poolCache(opts: QueueWorkerOptions, log: (line: string) => void) {
  let current: { key: string; pool: ThreadPool; ready: Promise<void> } | null = null;
  return {
    async get(data: AtlasJobData): Promise<ThreadPool> {
      const location = opts.model ?? data.model.location;
      const key = `${location}\n${data.model.digest}`;
      if (current?.key !== key) {
        await current?.pool.close();
        const pool = startThreadPool(opts.threads ?? WORKER_DEFAULTS.threads, { source: location, backend: opts.backend ?? 'wasm', digest: data.model.digest, maxUnits: opts.maxBatch, intraOpThreads: opts.intraOpThreads, label: `${hostname()}:${process.pid}` });
        current = { key, pool, ready: pool.ready() };
        current.ready.then(() => log(`loaded ${location}`), () => {});
      }
      await current.ready;
      return current.pool;
    },
    close: async () => current?.pool.close(),
  };
}

/** A worker's shared state: its model pools, running jobs, counts, and how it stops. */
interface WorkerState {
  pools: ReturnType<typeof poolCache>;
  running: Map<string, AbortController>;
  summary: QueueWorkerSummary;
  /** Stop taking jobs; `fatal` is thrown by runQueueWorker once stopped. */
  stop(fatal?: ActmaxError): void;
  log: (line: string) => void;
}

/**
 * BullMQ's processor: run the job's batch on a thread holding its model. A job this machine
 * cannot serve (model not loadable, not the planned model) or one interrupted by stopping goes back
 * to the queue untouched (no attempt used); an error of the batch itself fails the attempt.
 */
function jobProcessor(st: WorkerState) {
  return async (job: Job<AtlasJobData, BatchResult>, token?: string): Promise<BatchResult> => {
    const ac = new AbortController();
    st.running.set(job.id!, ac);
    const putBack = async () => {
      await job.moveToWait(token);
      return new WaitingError();
    };
    try {
      let pool: ThreadPool;
      try {
        pool = await st.pools.get(job.data);
      } catch (e) {
        // Stop here rather than fail every job on this machine.
        const why = (e as Error).message.split('\n')[0];
        st.stop(new ActmaxError(isActmaxError(e) ? e.code : 'bad-model', `cannot run jobs of atlas ${job.data.atlasId}: ${why}`));
        throw await putBack();
      }
      const t0 = performance.now();
      try {
        const result = await pool.run(job.data.batch, job.data.settings, ac.signal, job.data.model.digest);
        st.summary.jobs++;
        st.summary.units += result.units.length;
        st.log(`batch ${job.data.batch.index} (${result.units.length} units) done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        return result;
      } catch (e) {
        if (ac.signal.aborted) throw await putBack();
        throw e;
      }
    } finally {
      st.running.delete(job.id!);
    }
  };
}

/**
 * Take atlas batches from the queue at `url` until `signal` fires (or the model a job names cannot
 * be loaded here: then the job goes back to the queue and this throws). On abort, running jobs are
 * put back on the queue at once for other workers.
 *
 * @example
 * // With redis-server at the URL, this runs until Ctrl-C:
 * //   const stop = new AbortController();
 * //   process.once('SIGINT', () => stop.abort());
 * //   await runQueueWorker('redis://10.0.0.5:6379', { signal: stop.signal, log: console.log });
 * await runQueueWorker('redis://127.0.0.1:1', {}); // throws: cannot reach Redis at redis://127.0.0.1:1 (…); start redis-server there or fix the URL
 */
export async function runQueueWorker(url: string, opts: QueueWorkerOptions = {}): Promise<QueueWorkerSummary> {
  await checkRedis(url);
  const log = opts.log ?? (() => {});
  const lockMs = Math.round((opts.lockSeconds ?? WORKER_DEFAULTS.lockSeconds) * 1000);
  if (!(lockMs >= 1000)) throw new ActmaxError('bad-option', `--lock-seconds must be at least 1, got ${opts.lockSeconds}`);
  if (opts.maxBatch !== undefined && (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1)) throw new ActmaxError('bad-option', `--max-batch must be an integer ≥ 1 unit, got ${opts.maxBatch}`);
  if (opts.intraOpThreads !== undefined && !(Number.isInteger(opts.intraOpThreads) && opts.intraOpThreads >= 1)) throw new ActmaxError('bad-option', `--intra-op-threads must be an integer ≥ 1, got ${opts.intraOpThreads}`);
  let fatal: ActmaxError | null = null;
  let release: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (release = resolve));
  const st: WorkerState = {
    pools: poolCache(opts, log),
    running: new Map(),
    summary: { jobs: 0, units: 0 },
    stop: (e) => {
      fatal ??= e ?? null;
      release();
    },
    log,
  };
  const worker = new Worker<AtlasJobData, BatchResult>(QUEUE_NAME, jobProcessor(st), {
    connection: { ...redisOptions(url), maxRetriesPerRequest: null },
    concurrency: opts.threads ?? WORKER_DEFAULTS.threads,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.round(lockMs / 2)),
    maxStalledCount: opts.maxStalled ?? WORKER_DEFAULTS.maxStalled,
    name: `${hostname()}:${process.pid}`,
  });
  worker.on('error', (e) => log(`redis: ${e.message}`));
  worker.on('failed', (job, e) => {
    if (job && e.name !== 'WaitingError') log(`batch ${job.data.batch.index} failed: ${e.message}`);
  });
  log(`waiting for atlas jobs on ${url} (queue ${QUEUE_NAME})`);
  const onAbort = () => st.stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) st.stop();
  try {
    await stopped;
    for (const ac of st.running.values()) ac.abort();
    await worker.close();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await st.pools.close();
  }
  if (fatal) throw fatal;
  return st.summary;
}
