/**
 * The atlas through a real Redis (Debian redis-server on a free port, persistence off) and BullMQ:
 * a coordinator that stops after queueing, a worker that runs every batch once, a restarted
 * coordinator that collects the finished jobs; a worker stopping mid-job puts it back; a worker
 * that cannot load the model stops without failing the job; a batch that throws fails after its
 * attempts and stops the coordinator, and a rerun retries it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { planAtlas } from './plan.js';
import { QUEUE_NAME, checkRedis, queueRunner, redisOptions } from './queue.js';
import { runAtlasBatch } from './run-batch.js';
import { runAtlas } from './run.js';
import type { Manifest } from './store.js';
import { startRedis, redisServerPath, type TestRedis } from './testing/redis.js';
import { tinyCnn, writeModelFolder } from './testing/small-model.js';
import { runQueueWorker } from './worker.js';

const hasRedis = redisServerPath() !== null;
if (!hasRedis) console.warn('atlas queue tests: skipped — redis-server is absent (apt-get install -y redis-server; .ci/run installs it)');

const SETTINGS = { steps: 5, restarts: 2, batchUnits: 3, seed: 1 } as const;

describe('redisOptions / checkRedis', () => {
  it('reads redis:// URLs and refuses others with the form expected', () => {
    expect(redisOptions('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(redisOptions('redis://u:p%40ss@h')).toMatchObject({ host: 'h', port: 6379, username: 'u', password: 'p@ss' });
    expect(() => redisOptions('http://x:1')).toThrow(/not a Redis URL.*redis:\/\/HOST:PORT/);
    expect(() => redisOptions('nonsense')).toThrow(/redis:\/\/HOST:PORT/);
  });

  it('says in one line when nothing answers', async () => {
    await expect(checkRedis('redis://127.0.0.1:1')).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*start redis-server/);
  });
});

describe.skipIf(!hasRedis)('atlas through a BullMQ queue', () => {
  let redis: TestRedis;
  let tmp: string;
  let model: ActmaxModel;
  let queue: Queue;

  beforeAll(async () => {
    await useBackend('wasm');
    redis = await startRedis();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-queue-'));
    model = await loadModel(await writeModelFolder(tinyCnn(3), path.join(tmp, 'model')));
    queue = new Queue(QUEUE_NAME, { connection: redisOptions(redis.url) });
  });
  afterAll(async () => {
    await queue?.close();
    await redis?.stop();
    model?.dispose();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const counts = () => queue.getJobCounts('wait', 'active', 'completed', 'failed', 'delayed');
  async function until(what: () => Promise<boolean>, ms = 60_000): Promise<void> {
    const t0 = Date.now();
    while (!(await what())) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a coordinator queues every batch, a worker runs each once, a restarted coordinator collects them', async () => {
    const out = path.join(tmp, 'atlas');
    const plan = planAtlas(model, SETTINGS);
    // Coordinator 1 queues the batches, then dies (no worker is running yet).
    const first = await queueRunner(redis.url, model.source, { pollMs: 50 });
    const stop1 = new AbortController();
    setTimeout(() => stop1.abort(), 1500);
    const s1 = await runAtlas(model, { ...SETTINGS, out, runner: first, signal: stop1.signal });
    await first.close();
    expect(s1).toMatchObject({ done: 0, interrupted: true });
    expect(await counts()).toMatchObject({ wait: 3, active: 0, completed: 0 });
    // Adding the same batches again adds nothing (job ids are the atlas id and batch index).
    const again = await queueRunner(redis.url, model.source);
    const stop2 = new AbortController();
    stop2.abort();
    await again.run(plan.batches, plan, async () => {}, stop2.signal);
    await again.close();
    expect((await counts()).wait).toBe(3);

    // A worker runs them while no coordinator is listening.
    const stopWorker = new AbortController();
    const worker = runQueueWorker(redis.url, { lockSeconds: 5, signal: stopWorker.signal });
    await until(async () => (await counts()).completed === 3);

    // Coordinator 2 collects the finished jobs and removes them.
    const second = await queueRunner(redis.url, model.source, { pollMs: 50 });
    const s2 = await runAtlas(model, { ...SETTINGS, out, runner: second });
    await second.close();
    expect(s2).toMatchObject({ done: 7, recorded: 7, interrupted: false });
    expect(await counts()).toEqual({ wait: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
    stopWorker.abort();
    expect(await worker).toEqual({ jobs: 3, units: 7 });

    const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.units.map((u) => u.id)).toEqual(plan.units.map((u) => u.id));
    for (const batch of plan.batches) {
      const direct = await runAtlasBatch(model, batch, { ...plan.settings, atlasId: plan.atlasId });
      for (const u of direct.units) expect(Math.abs(manifest.units.find((m) => m.id === u.id)!.value - u.value), u.id).toBeLessThan(1e-5);
    }
  });

  it('a worker stopped mid-job puts the job back untouched; one that cannot load the model stops and leaves it', async () => {
    const plan = planAtlas(model, { ...SETTINGS, steps: 50_000 });
    await queue.add('batch', { atlasId: plan.atlasId, model: { location: model.source, digest: plan.modelDigest }, settings: { ...plan.settings, atlasId: plan.atlasId }, batch: plan.batches[0] }, { jobId: `${plan.atlasId}-0`, attempts: 3 });
    const stop = new AbortController();
    const worker = runQueueWorker(redis.url, { lockSeconds: 5, signal: stop.signal });
    await until(async () => (await counts()).active === 1);
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    expect(await worker).toEqual({ jobs: 0, units: 0 });
    expect(await counts()).toMatchObject({ wait: 1, active: 0, failed: 0 });
    const job = await queue.getJob(`${plan.atlasId}-0`);
    expect(job?.attemptsMade).toBe(0);

    // Another model under --model: the digests differ, so the worker gives the job back and stops.
    const other = await writeModelFolder(tinyCnn(9), path.join(tmp, 'other'));
    await expect(runQueueWorker(redis.url, { lockSeconds: 5, model: other })).rejects.toThrow(/cannot run jobs of atlas .*is not the model this atlas was planned on/);
    expect(await counts()).toMatchObject({ wait: 1, active: 0, failed: 0 });
    await queue.obliterate({ force: true });
  });

  it('a batch that throws is tried 3 times, then the coordinator stops with the reason; a rerun tries it again', async () => {
    const plan = planAtlas(model, { ...SETTINGS, seed: 2 });
    // A unit no model can run (logit 99 of 3): every attempt throws on the worker.
    const broken = { ...plan.batches[0], units: [{ ...plan.batches[0].units[0], spec: { kind: 'logit' as const, index: 99 } }] };
    const stop = new AbortController();
    const worker = runQueueWorker(redis.url, { lockSeconds: 5, signal: stop.signal });
    try {
      for (let run = 1; run <= 2; run++) {
        const coordinator = await queueRunner(redis.url, model.source, { pollMs: 50 });
        await expect(coordinator.run([broken], plan, async () => {})).rejects.toThrow(new RegExp(`^batch 0 failed 3 time\\(s\\) on the workers: .*99.*; fix the cause and rerun`));
        await coordinator.close();
        expect(await counts(), `run ${run}`).toMatchObject({ wait: 0, active: 0, failed: 1 });
      }
    } finally {
      stop.abort();
      await worker;
      await queue.obliterate({ force: true });
    }
  });
});
