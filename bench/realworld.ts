/*
 * Real-models part of `npm run bench`: for each TF.js graph model in test/fixtures/tfjs-graph-realworld,
 * seconds per 100 gradient steps of `maximize` (the model's image defaults, engine `auto`) at batch 1
 * and batch 8, wall and CPU, with the engine `auto` chose. BENCH_REAL=0 skips it; BENCH_REAL_MODELS=a,b
 * picks models.
 */
import path from 'node:path';
import { loadModel } from '../src/model/load.js';
import type { ObjectiveSpec } from '../src/objectives/spec.js';
import { maximize } from '../src/optimize/maximize.js';

/** What one measurement found. */
interface Measured {
  input: string;
  engine: string;
  backend: string;
  threads: number;
  secondsPer100: number;
  cpuSecondsPer100: number;
  steps: number;
}

export interface RealRow extends Measured {
  bench: 'real-model';
  model: string;
  batch: number;
  [k: string]: unknown;
}

const MODELS = ['liveness', 'emotion', 'gender', 'age', 'antispoof', 'blazeface-front', 'facemesh-detection-short', 'faceboxes', 'nanodet'];

/** logit:0, or for the detector whose outputs follow non-max suppression, its mean face logit before it. */
function objective(name: string, restarts: number): { targets: ObjectiveSpec[]; restarts: number } {
  const t: ObjectiveSpec = name === 'faceboxes' ? { kind: 'channel', layer: 'reshaping/concat_1', channel: 1 } : { kind: 'logit', index: 0 };
  return { targets: [t], restarts };
}

/**
 * Time `maximize` per step: a 1-step run (setup, first calls) and runs of doubling length until one
 * lasts `budgetMs` (at most 32 steps); the per-step cost is (long − short)/(steps − 1).
 */
async function perStep(dir: string, name: string, batch: number, budgetMs: number): Promise<Measured> {
  const model = await loadModel(path.join(dir, name));
  try {
    const { targets, restarts } = objective(name, batch);
    const run = async (steps: number) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await maximize(model, targets, { steps, restarts, seed: 1, image: 'auto', historyEvery: 1_000_000 });
      const c = process.cpuUsage(c0);
      return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, engine: r.engine, backend: r.backend };
    };
    const base = await run(1);
    let steps = 2;
    let long = await run(steps);
    while (long.wall * 1000 < budgetMs && steps < 32) {
      steps *= 2;
      long = await run(steps);
    }
    const per = Math.max(0, long.wall - base.wall) / (steps - 1), cpuPer = Math.max(0, long.cpu - base.cpu) / (steps - 1);
    return { input: `[${model.inputs[0].shape.join(', ')}]`, engine: long.engine, backend: long.backend, threads: 1, secondsPer100: +(per * 100).toFixed(1), cpuSecondsPer100: +(cpuPer * 100).toFixed(1), steps };
  } finally {
    model.dispose();
  }
}

/**
 * Measure every real model at batch 1 and 8; `emit` gets one row per measurement.
 *
 * @example
 * await realModelRows(root, (r) => rows.push(r), 3000);
 */
export async function realModelRows(root: string, emit: (r: RealRow) => void, budgetMs: number): Promise<void> {
  if (process.env.BENCH_REAL === '0') return;
  const dir = path.join(root, 'test/fixtures/tfjs-graph-realworld');
  const pick = process.env.BENCH_REAL_MODELS?.split(',') ?? MODELS;
  for (const name of pick) {
    for (const batch of [1, 8]) emit({ bench: 'real-model', model: name, batch, ...(await perStep(dir, name, batch, budgetMs)) });
  }
}

/**
 * The BENCHMARKS.md section for the real models.
 *
 * @example
 * lines.push(...realModelTable(rows));
 */
export function realModelTable(rows: RealRow[]): string[] {
  if (!rows.length) return [];
  const lines = [
    '',
    'Real models (test/fixtures/tfjs-graph-realworld, TF.js graph models as shipped): seconds per 100 gradient steps of `maximize` with the model\'s image defaults and engine `auto` (one restart per row; batch = rows), from runs of 1 and N steps (setup excluded).',
    '',
    '| model | input | batch | engine | s / 100 steps (wall) | CPU-s / 100 steps |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) lines.push(`| ${r.model} | ${String(r.input ?? '')} | ${r.batch} | ${r.engine} | ${r.secondsPer100} | ${r.cpuSecondsPer100} |`);
  return lines;
}

// `npx tsx bench/realworld.ts`: this table alone (the full bench runs it too).
if (process.argv[1] && /realworld\.ts$/.test(process.argv[1])) {
  const { useBackend } = await import('../src/backend.js');
  const { fileURLToPath } = await import('node:url');
  await useBackend('wasm');
  const rows: RealRow[] = [];
  await realModelRows(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), (r) => (rows.push(r), console.log(JSON.stringify(r))), Number(process.env.BENCH_BUDGET_MS ?? 1500) * 2);
  console.log(realModelTable(rows).join('\n'));
}
