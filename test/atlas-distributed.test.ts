/**
 * The atlas on several machines, as a user runs it: Debian redis-server (free port, persistence
 * off), `actmax atlas … --queue` and two `actmax worker` processes on mnist_cnn.keras. One worker
 * is killed with SIGKILL in the middle of a job; its job is recovered by BullMQ's stalled-job
 * check. Every unit must be present exactly once, with values within 1e-5 of a single-process run
 * with the same seed. Needs the shared fixtures (no licence to ship them): skipped without them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { QUEUE_NAME, redisOptions } from '../src/atlas/queue.js';
import { runAtlas, type BatchRunner } from '../src/atlas/run.js';
import { runAtlasBatch } from '../src/atlas/run-batch.js';
import type { Manifest } from '../src/atlas/store.js';
import { redisServerPath, startRedis, type TestRedis } from '../src/atlas/testing/redis.js';
import { loadModel } from '../src/model/load.js';
import { fixture, REPO } from './helpers.js';

const MODEL = fixture('keras3-keras-mnist-mlp-cnn/mnist_cnn.keras') ?? 'keras3-keras-mnist-mlp-cnn/mnist_cnn.keras';
const hasFixture = existsSync(MODEL);
const hasRedis = redisServerPath() !== null;
if (!hasFixture) console.warn(`atlas distributed test: skipped — ${MODEL} is absent (the shared fixtures are not part of the repository)`);
else if (!hasRedis) console.warn('atlas distributed test: skipped — redis-server is absent (apt-get install -y redis-server; .ci/run installs it)');

// Two layers (42 units), two steps, one restart, 7 batches: the test is about distribution, not pictures.
const ARGS = ['--layers', 'conv2d,dense_1', '--steps', '2', '--restarts', '1', '--batch', '6', '--seed', '11'];
const SETTINGS = { layers: ['conv2d', 'dense_1'], steps: 2, restarts: 1, batchUnits: 6, seed: 11 };
const UNITS = 42; // conv2d's 32 channels and dense_1's 10 logits
const BIN = path.join(REPO, 'bin', 'actmax.js');

interface Proc {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exit };
}

async function until(what: () => Promise<boolean> | boolean, ms: number, label: string): Promise<void> {
  const t0 = Date.now();
  while (!(await what())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasFixture || !hasRedis)('atlas: coordinator and two worker processes, one killed with SIGKILL', () => {
  let redis: TestRedis;
  let tmp: string;
  const procs: Proc[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-distributed-'));
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  // Two worker processes, a coordinator and a single-process reference on 2 shared cores: allow for a busy machine.
  it('records every unit of mnist_cnn.keras exactly once, with the single-process values', { timeout: 400_000 }, async () => {
    const url = redis.url;
    const workers = [0, 1].map(() => start(['worker', url, '--lock-seconds', '3']));
    procs.push(...workers);
    // Both workers wait on the queue before it fills: one that starts late could find it empty.
    await until(() => workers.every((w) => w.out().includes('waiting for atlas jobs')), 150_000, 'both workers to start');
    const coordinator = start(['atlas', MODEL, '--out', path.join(tmp, 'distributed'), '--queue', url, ...ARGS]);
    procs.push(coordinator);

    // Kill worker 0 once it has finished a batch and holds another one.
    const victim = workers[0];
    const victimName = `${hostname()}:${victim.child.pid}`;
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(url) });
    let stolen = '';
    try {
      await until(() => /batch \d+ \(\d+ units\) done/.test(victim.out()), 150_000, 'worker 0 to finish a batch');
      await until(async () => {
        const finished = new Set([...victim.out().matchAll(/batch (\d+) \(\d+ units\) done/g)].map((m) => m[1]));
        const active = await queue.getJobs(['active']);
        stolen = active.find((j) => j.processedBy === victimName && !finished.has(String(j.id).split('-').pop()!))?.id ?? '';
        return stolen !== '';
      }, 60_000, 'worker 0 to take another batch');
      victim.child.kill('SIGKILL');
      await victim.exit;

      let code: number | null | undefined;
      void coordinator.exit.then((c) => (code = c));
      await until(() => code !== undefined, 240_000, `the coordinator to finish:\n${coordinator.out()}\n--- worker 1:\n${workers[1].out()}`);
      expect(code, coordinator.out()).toBe(0);
      expect(await queue.getJobCounts('wait', 'active', 'completed', 'failed', 'delayed')).toEqual({ wait: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
    const survivor = workers[1];
    // The killed worker's batch was done by the survivor after the stall check gave it back.
    expect(survivor.out()).toMatch(new RegExp(`batch ${stolen.split('-').pop()} \\(\\d+ units\\) done`));
    survivor.child.kill('SIGINT');
    expect(await survivor.exit).toBe(130);

    const dist = JSON.parse(await fs.readFile(path.join(tmp, 'distributed', 'manifest.json'), 'utf8')) as Manifest;
    const ids = dist.units.map((u) => u.id);
    expect(dist).toMatchObject({ total: UNITS, done: UNITS });
    expect(new Set(ids).size).toBe(UNITS);
    expect(ids).toHaveLength(UNITS);

    // The same atlas in this one process (the batches run here, one after another).
    await useBackend('wasm');
    const model = await loadModel(MODEL);
    try {
      const out = path.join(tmp, 'single');
      const here: BatchRunner = {
        async run(batches, plan, onResult) {
          for (const b of batches) await onResult(await runAtlasBatch(model, b, { ...plan.settings, atlasId: plan.atlasId }));
        },
        close: async () => {},
      };
      await runAtlas(model, { out, runner: here, ...SETTINGS });
      const single = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
      expect(single.atlasId).toBe(dist.atlasId);
      const ref = new Map(single.units.map((u) => [u.id, u.value]));
      let worst = 0;
      for (const u of dist.units) worst = Math.max(worst, Math.abs(u.value - ref.get(u.id)!));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });
});
