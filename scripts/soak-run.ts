import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { maximize } from '../src/optimize/maximize.js';

/** One sample of the process's state during a soak run. */
export interface SoakSample {
  step: number;
  numTensors: number;
  numBytes: number;
  rssMb: number;
  heapMb: number;
}

export interface SoakReport {
  engine: string;
  steps: number;
  rows: number;
  backend: string;
  samples: SoakSample[];
  /** numTensors between steps: one value when nothing leaks. */
  tensorCounts: number[];
  /** RSS after the first `warmup` steps, and the extremes after it. */
  rssAtWarmup: number;
  rssMin: number;
  rssMax: number;
  rssFinal: number;
  /** Largest |RSS − RSS at warm-up| / RSS at warm-up over the samples after warm-up. */
  rssDrift: number;
  seconds: number;
  best: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Run `steps` gradient steps on the bundled model, sampling tf.memory() and the process RSS every
 * `every` steps.
 *
 * @example
 * const r = await soak({ steps: 2000 }); console.log(r.tensorCounts, r.rssDrift);
 */
export async function soak(opts: { steps: number; every?: number; warmup?: number; restarts?: number; backend?: 'wasm' | 'cpu'; gc?: boolean; engine?: 'tfjs' | 'onnx' | 'auto' }): Promise<SoakReport> {
  const backend = await useBackend(opts.backend ?? 'wasm');
  const model = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
  const every = opts.every ?? 100;
  const warmup = opts.warmup ?? 500;
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  const sample = (step: number) => {
    const m = tf.memory();
    if (opts.gc && typeof globalThis.gc === 'function') globalThis.gc();
    const mu = process.memoryUsage();
    samples.push({ step, numTensors: m.numTensors, numBytes: m.numBytes, rssMb: mu.rss / 2 ** 20, heapMb: mu.heapUsed / 2 ** 20 });
  };
  const res = await maximize(model, [{ kind: 'logit', index: 3 }, { kind: 'logit', index: 8 }], {
    steps: opts.steps,
    restarts: opts.restarts ?? 4,
    seed: 3,
    engine: opts.engine ?? 'tfjs',
    onStep: (s) => {
      if ((s.step + 1) % every === 0) sample(s.step + 1);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  const after = samples.filter((s) => s.step >= warmup);
  const atWarmup = samples.find((s) => s.step >= warmup) ?? samples[samples.length - 1];
  const rss = after.map((s) => s.rssMb);
  return {
    engine: res.engine,
    steps: res.steps,
    rows: 2 * (opts.restarts ?? 4),
    backend,
    samples,
    tensorCounts: [...new Set(samples.map((s) => s.numTensors))],
    rssAtWarmup: atWarmup.rssMb,
    rssMin: Math.min(...rss),
    rssMax: Math.max(...rss),
    rssFinal: rss[rss.length - 1],
    rssDrift: Math.max(...rss.map((r) => Math.abs(r - atWarmup.rssMb) / atWarmup.rssMb)),
    seconds,
    best: Math.max(...res.results.map((r) => r.value)),
  };
}
