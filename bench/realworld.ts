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
 * Time `maximize` per step from inside one run: the clock (wall and this process's CPU) is read
 * at every step, and the steps after the first two count (setup and first calls excluded). A
 * 3-step run first sizes the timed run to about `budgetMs` (4 to 40 steps).
 */
async function perStep(dir: string, name: string, batch: number, budgetMs: number): Promise<Measured> {
  const model = await loadModel(path.join(dir, name));
  try {
    const { targets, restarts } = objective(name, batch);
    const run = async (steps: number) => {
      const marks: Array<{ wall: number; cpu: number }> = [];
      const mark = () => {
        const c = process.cpuUsage();
        marks.push({ wall: performance.now() / 1000, cpu: (c.user + c.system) / 1e6 });
      };
      const r = await maximize(model, targets, { steps, restarts, seed: 1, image: 'auto', historyEvery: 1_000_000, onStep: mark });
      const from = marks[Math.min(1, marks.length - 1)], to = marks[marks.length - 1];
      const n = Math.max(1, marks.length - 1 - Math.min(1, marks.length - 1));
      return { wall: (to.wall - from.wall) / n, cpu: (to.cpu - from.cpu) / n, engine: r.engine, backend: r.backend };
    };
    const probe = await run(3);
    const steps = Math.max(4, Math.min(40, Math.round(budgetMs / 1000 / Math.max(probe.wall, 1e-3))));
    const timed = await run(steps);
    return { input: `[${model.inputs[0].shape.join(', ')}]`, engine: timed.engine, backend: timed.backend, threads: 1, secondsPer100: +(timed.wall * 100).toFixed(1), cpuSecondsPer100: +(timed.cpu * 100).toFixed(1), steps };
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
    for (const batch of [1, 8]) {
      try {
        emit({ bench: 'real-model', model: name, batch, ...(await perStep(dir, name, batch, budgetMs)) });
      } catch (e) {
        // A batch that does not fit an engine's memory is a result too (TF.js-WASM stops at 4 GB).
        emit({ bench: 'real-model', model: name, batch, input: '', engine: `not run: ${(e as Error).message.split(';')[0]}`, backend: '-', threads: 0, secondsPer100: NaN, cpuSecondsPer100: NaN, steps: 0 });
      }
    }
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
    'Real models (test/fixtures/tfjs-graph-realworld, TF.js graph models as shipped): seconds per 100 gradient steps of `maximize` with the model\'s image defaults and engine `auto` (one objective, batch = restarts), timed step by step inside one run after its first two steps.',
    '',
    '| model | input | batch | engine | s / 100 steps (wall) | CPU-s / 100 steps |',
    '|---|---|---|---|---|---|',
  ];
  const num = (v: number) => (Number.isFinite(v) ? String(v) : '—');
  for (const r of rows) lines.push(`| ${r.model} | ${String(r.input ?? '')} | ${r.batch} | ${r.engine} | ${num(r.secondsPer100)} | ${num(r.cpuSecondsPer100)} |`);
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
