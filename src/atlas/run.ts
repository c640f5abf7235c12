import os from 'node:os';
import path from 'node:path';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';
import { readExamples, scoreExamples } from './examples.js';
import { planAtlas, type PlanOptions } from './plan.js';
import { startThreadPool } from './pool.js';
import { AtlasStore } from './store.js';
import type { AtlasPlan, BatchResult, PlannedBatch } from './types.js';

/** Something that runs planned batches somewhere: worker threads here, or workers behind a queue. */
export interface BatchRunner {
  /** Run the batches; `onResult` is awaited for each finished one, in any order. Returns when all are done or `signal` fires. */
  run(batches: PlannedBatch[], plan: AtlasPlan, onResult: (r: BatchResult) => Promise<void>, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Progress of an atlas run. */
export interface AtlasProgress {
  /** Units finished, this run and earlier ones. */
  done: number;
  total: number;
  /** Units finished by this run. */
  recorded: number;
  /** Units left when this run started (the ETA's denominator). */
  todo: number;
  /** Seconds since this run started. */
  seconds: number;
}

/** Options of {@link runAtlas}. */
export interface AtlasOptions extends PlanOptions {
  /** The atlas folder (site, manifest, unit files). */
  out: string;
  /** Dataset examples (a folder of inputs or a JSON list), scored on every unit. */
  examples?: string;
  /** Worker threads without a queue (default: the machine's cores). */
  threads?: number;
  /** onnxruntime intra-op threads of each local thread (default 1: one thread per core). */
  intraOpThreads?: number;
  /** Run the batches here instead of on new local threads (e.g. `queueRunner`); the caller closes it. */
  runner?: BatchRunner;
  /** TF.js backend of the local threads (default wasm). */
  backend?: string;
  signal?: AbortSignal;
  onProgress?: (p: AtlasProgress) => void;
  /** Called once the plan is known and finished units are counted. */
  onPlan?: (plan: AtlasPlan, done: number) => void;
}

/** What {@link runAtlas} did. */
export interface AtlasSummary {
  dir: string;
  atlasId: string;
  total: number;
  done: number;
  recorded: number;
  interrupted: boolean;
  seconds: number;
}

/**
 * Where workers load the model from: an absolute path, or the URL as given.
 *
 * @example
 * modelLocation(await loadModel('models/fashion-mnist-mlp')) // '/home/me/actmax/models/fashion-mnist-mlp'
 */
export function modelLocation(model: ActmaxModel): string {
  if (/^(https?|file):\/\//i.test(model.source)) return model.source;
  if (model.source === 'memory' || model.source === '') throw new ActmaxError('bad-option', 'an atlas runs its batches in workers that load the model themselves: give a model file, folder or URL, not a model in memory');
  return path.resolve(model.source);
}

/**
 * Run batches on `threads` local worker threads (each loads the model once, and keeps it across
 * runs until `close`). Without `digest` the threads check the model against each run's plan. Each
 * thread runs onnxruntime on `intraOpThreads` threads (default 1), so `threads` = cores fills the
 * machine.
 *
 * @example
 * const runner = localRunner(model, { threads: 1 }); // one worker thread, which loads the model itself
 * await runner.close();
 */
export function localRunner(model: ActmaxModel, opts: { threads?: number; intraOpThreads?: number; backend?: string; digest?: string }): BatchRunner {
  const pool = startThreadPool(opts.threads ?? os.availableParallelism(), { source: modelLocation(model), backend: opts.backend ?? 'wasm', digest: opts.digest, intraOpThreads: opts.intraOpThreads });
  return {
    async run(batches, plan, onResult, signal) {
      await pool.ready();
      const inner = new AbortController();
      const stop = () => inner.abort();
      signal?.addEventListener('abort', stop, { once: true });
      if (signal?.aborted) inner.abort(); // it fired while the threads were starting
      let failure: unknown = null;
      try {
        await Promise.all(
          batches.map(async (b) => {
            try {
              await onResult(await pool.run(b, { ...plan.settings, atlasId: plan.atlasId }, inner.signal, plan.modelDigest));
            } catch (e) {
              if (inner.signal.aborted) return;
              failure ??= e;
              inner.abort();
            }
          }),
        );
      } finally {
        signal?.removeEventListener('abort', stop);
      }
      if (failure) throw failure;
    },
    close: () => pool.close(),
  };
}

/**
 * Map every unit of the chosen layers: plan the batches, skip units an earlier run finished in
 * `out`, run the rest (worker threads, or `runner`), record each unit once, and keep the site and
 * manifest current. An abort stops cleanly: finished units stay, running batches are dropped.
 *
 * @example
 * const summary = await runAtlas(model, { out: 'atlas', layers: ['dense_1'], steps: 100, threads: 1 });
 * summary.total // 10
 * // open atlas/index.html (layers: 'all' maps every layer)
 */
export async function runAtlas(model: ActmaxModel, options: AtlasOptions): Promise<AtlasSummary> {
  const t0 = performance.now();
  const plan = planAtlas(model, options);
  const examples = options.examples ? await readExamples(options.examples, model) : undefined;
  const store = await AtlasStore.open(options.out, plan, model, examples ? { examples: { set: examples, top: scoreExamples(model, plan.layers, examples) } } : {});
  options.onPlan?.(plan, store.done);
  const pending = plan.batches.filter((b) => b.units.some((u) => !store.has(u.id)));
  const todo = plan.units.length - store.done;
  let recorded = 0;
  const progress = () => options.onProgress?.({ done: store.done, total: plan.units.length, recorded, todo, seconds: (performance.now() - t0) / 1000 });
  progress();
  // A runner given by the caller is the caller's to close.
  const runner = options.runner ?? localRunner(model, { threads: options.threads, intraOpThreads: options.intraOpThreads, backend: options.backend, digest: plan.modelDigest });
  let lastFlush = 0;
  let chain = Promise.resolve();
  const onResult = (r: BatchResult) => {
    // One result at a time: records and flushes never interleave.
    chain = chain.then(async () => {
      if (r.atlasId !== plan.atlasId) return;
      for (const u of r.units) if (await store.record(u)) recorded++;
      if (performance.now() - lastFlush > 1000) {
        lastFlush = performance.now();
        await store.flush();
      }
      progress();
    });
    return chain;
  };
  try {
    if (pending.length > 0 && !options.signal?.aborted) await runner.run(pending, plan, onResult, options.signal);
    await chain;
  } finally {
    if (!options.runner) await runner.close();
    await store.flush();
  }
  progress();
  return { dir: options.out, atlasId: plan.atlasId, total: plan.units.length, done: store.done, recorded, interrupted: store.done < plan.units.length, seconds: (performance.now() - t0) / 1000 };
}
