/**
 * The atlas on many machines, coordinator side: one BullMQ job per planned batch on the queue
 * `actmax-atlas` in Redis; workers (worker.ts) run them; the coordinator collects results into the
 * atlas folder. Job ids are `ATLASID-BATCH`, so adding a batch that is already queued, running or
 * finished adds nothing; a job is removed only after its units are recorded, so a coordinator that
 * dies and is restarted collects what finished meanwhile and records no unit twice.
 */
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ActmaxError, isActmaxError } from '../errors.js';
import type { BatchRunner } from './run.js';
import type { AtlasPlan, AtlasSettings, BatchResult, PlannedBatch } from './types.js';

/** The queue every atlas coordinator and worker uses. */
export const QUEUE_NAME = 'actmax-atlas';

/** What a job carries: everything a worker needs, nothing it must share with the coordinator but Redis. */
export interface AtlasJobData {
  atlasId: string;
  /** Where the coordinator loaded the model from (absolute path or URL; a worker may override it) and its digest. */
  model: { location: string; digest: string };
  settings: AtlasSettings & { atlasId: string };
  batch: PlannedBatch;
}

/** Attempts per job when a worker reports an error (a worker that dies is handled by stalled-job checks instead). */
export const JOB_ATTEMPTS = 3;

/** Where Redis is: what both ioredis and BullMQ take as connection options. */
export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

/**
 * Redis connection options from `redis://[user:password@]HOST:PORT[/DB]` (or `rediss://` for TLS).
 *
 * @example
 * redisOptions('redis://10.0.0.5:6379') // { host: '10.0.0.5', port: 6379, db: 0 }
 */
export function redisOptions(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ActmaxError('bad-option', `"${url}" is not a Redis URL; give redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ActmaxError('bad-option', `"${url}" is not a Redis URL (it starts with ${u.protocol}); give redis://HOST:PORT`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new ActmaxError('bad-option', `"${url}": the database number must be an integer ≥ 0, got "${u.pathname.slice(1)}"`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Check that Redis answers (one try, 5 s): a one-line error instead of a client retrying forever.
 *
 * @example
 * await checkRedis('redis://127.0.0.1:6379');
 */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {}); // reported below
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new ActmaxError('bad-option', `cannot reach Redis at ${url} (${(e as Error).message}); start redis-server there or fix the URL`);
  } finally {
    client.disconnect();
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The job id of a batch. @example jobId('a1b2', 7) // 'a1b2-7' */
export function jobId(atlasId: string, batch: number): string {
  return `${atlasId}-${batch}`;
}

/**
 * A {@link BatchRunner} that queues batches for `actmax worker` processes and collects their
 * results. Polls Redis every `pollMs` (default 250).
 *
 * @example
 * // With redis-server at the URL and `actmax worker` processes taking the jobs:
 * //   const runner = await queueRunner('redis://127.0.0.1:6379', '/data/model.keras');
 * //   await runAtlas(model, { out: 'atlas', runner });
 * await queueRunner('redis://127.0.0.1:1', 'models/fashion-mnist-mlp'); // throws: cannot reach Redis at redis://127.0.0.1:1 (…)
 */
export async function queueRunner(url: string, modelLocation: string, opts: { pollMs?: number } = {}): Promise<BatchRunner> {
  await checkRedis(url);
  const queue = new Queue<AtlasJobData, BatchResult, 'batch'>(QUEUE_NAME, { connection: { ...redisOptions(url), maxRetriesPerRequest: 1 } });
  queue.on('error', () => {}); // connection errors surface as failed calls
  const pollMs = opts.pollMs ?? 250;
  return {
    async run(batches, plan, onResult, signal) {
      // Errors of recording (the disk) pass through; other errors come from Redis.
      let recordError: unknown = null;
      const record = (r: BatchResult) => onResult(r).catch((e) => Promise.reject((recordError = e)));
      try {
        await coordinate(queue, modelLocation, pollMs, batches, plan, record, signal);
      } catch (e) {
        if (isActmaxError(e) || e === recordError) throw e;
        throw new ActmaxError('aborted', `lost Redis at ${url} (${(e as Error).message.split('\n')[0]}); rerun when it is back (finished units are kept)`);
      }
    },
    close: () => queue.close(),
  };
}

/** Collect what finished, queue what is missing, then poll until every batch is recorded. */
async function coordinate(
  queue: Queue<AtlasJobData, BatchResult, 'batch'>,
  modelLocation: string,
  pollMs: number,
  batches: PlannedBatch[],
  plan: AtlasPlan,
  onResult: (r: BatchResult) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const prefix = `${plan.atlasId}-`;
  const model = { location: modelLocation, digest: plan.modelDigest };
  const wanted = new Set(batches.map((b) => b.index));
  const seen = new Set<number>();
  const batchOf = (j: Job) => Number(j.id!.slice(prefix.length));
  const mine = (j: Job | undefined): j is Job => !!j?.id?.startsWith(prefix);
  const ours = (j: Job | undefined): j is Job => mine(j) && wanted.has(batchOf(j));
  /**
   * Record finished jobs (this coordinator's or an earlier one's), then remove them — also those
   * of this atlas already recorded (a crash between recording and removing left them).
   */
  const collect = async () => {
    for (let start = 0; ; start += 50) {
      const jobs = await queue.getJobs(['completed'], start, start + 49, true);
      let removed = 0;
      for (const job of jobs.filter(mine)) {
        const b = batchOf(job);
        const result = job.returnvalue as BatchResult | null;
        if (wanted.has(b) && !seen.has(b) && result) await onResult(result);
        if (wanted.has(b)) seen.add(b);
        await job.remove();
        removed++;
      }
      if (jobs.length < 50) return;
      start -= removed;
    }
  };
  await collect();
  // A rerun after a batch failed on every attempt gives it all its attempts again.
  for (const job of (await queue.getJobs(['failed'])).filter(ours)) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  await queue.addBulk(
    batches
      .filter((b) => !seen.has(b.index))
      .map((b) => ({
        name: 'batch' as const,
        data: { atlasId: plan.atlasId, model, settings: { ...plan.settings, atlasId: plan.atlasId }, batch: b },
        opts: { jobId: jobId(plan.atlasId, b.index), attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: false, removeOnFail: false },
      })),
  );
  while (seen.size < wanted.size && !signal?.aborted) {
    await sleep(pollMs, signal);
    if (signal?.aborted) break;
    await collect();
    const failed = (await queue.getJobs(['failed'])).filter(ours);
    if (failed.length > 0) {
      const j = failed[0];
      throw new ActmaxError('aborted', `batch ${j.id!.slice(prefix.length)} failed ${j.attemptsMade} time(s) on the workers: ${String(j.failedReason).split('\n')[0]}; fix the cause and rerun (finished units are kept)`);
    }
  }
}
