/**
 * A worker thread that runs atlas batches (started by pool.ts): it loads the model once, checks
 * its digest against the plan's, then answers `run` messages with batch results.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { hostname } from 'node:os';
import { useBackend, type BackendName } from '../backend.js';
import { ActmaxError, isActmaxError } from '../errors.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { modelDigest } from './fingerprint.js';
import { runAtlasBatch } from './run-batch.js';
import type { ThreadRequest, ThreadReply, ThreadSetup } from './pool.js';

const setup = workerData as ThreadSetup;
let loading: Promise<{ model: ActmaxModel; digest: string }> | null = null;

function notThisModel(): ActmaxError {
  return new ActmaxError('bad-model', `${setup.source} is not the model this atlas was planned on (its weights or layers differ); give every worker the same model file`);
}

function loaded(): Promise<{ model: ActmaxModel; digest: string }> {
  loading ??= (async () => {
    await useBackend(setup.backend as BackendName);
    const model = await loadModel(setup.source);
    const digest = modelDigest(model);
    if (setup.digest && digest !== setup.digest) {
      model.dispose();
      throw notThisModel();
    }
    return { model, digest };
  })();
  return loading;
}

function errorReply(id: number, e: unknown): ThreadReply {
  const err = e as Error;
  return { id, error: { message: err?.message ?? String(e), actmax: isActmaxError(e), code: isActmaxError(e) ? e.code : undefined, stack: err?.stack } };
}

/** The runs in progress, so that `stop` can end them at their next step. */
const running = new Set<AbortController>();
let idle: Promise<void> = Promise.resolve();

parentPort!.on('message', async (msg: ThreadRequest) => {
  if (msg.type === 'stop') {
    for (const c of running) c.abort();
    await idle;
    parentPort!.postMessage({ id: msg.id, stopped: true } satisfies ThreadReply);
    return;
  }
  const controller = new AbortController();
  running.add(controller);
  let finished = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const before = idle;
  idle = before.then(() => done);
  try {
    const { model, digest } = await loaded();
    if (msg.type === 'load') {
      parentPort!.postMessage({ id: msg.id, loaded: true } satisfies ThreadReply);
      return;
    }
    if (msg.digest && msg.digest !== digest) throw notThisModel();
    const result = await runAtlasBatch(model, msg.batch, msg.settings, { maxUnits: setup.maxUnits, worker: `${setup.label ?? `${hostname()}:${process.pid}`}/t${threadId}`, intraOpThreads: setup.intraOpThreads, signal: controller.signal });
    parentPort!.postMessage({ id: msg.id, result } satisfies ThreadReply);
  } catch (e) {
    parentPort!.postMessage(errorReply(msg.id, e));
  } finally {
    running.delete(controller);
    finished();
  }
});
