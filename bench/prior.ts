/**
 * Do the answers look like data? For the bundled model, `maximize --objective logit:all` under
 * several settings (box only, the image defaults, each data prior — CLI defaults otherwise), judged
 * without the model: mean distance to the 10 nearest Fashion-MNIST training images (pixels in
 * [0, 1]; real images: median 3.9, 90th percentile 5.2) and the classes of those 10.
 *
 *   npx tsx bench/prior.ts        (also part of `npm run bench`)
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import type { ActmaxModel } from '../src/model/types.js';
import { maximize, type MaximizeOptions } from '../src/optimize/maximize.js';
import { loadFashionMnist, type FashionData } from '../src/data/fashion.js';
import { looksLikeData, realism, REALISM_DISTANCE_LIMIT } from '../src/data/realism.js';
import { parsePrior } from '../src/cli/prior-spec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One setting's verdict over the ten classes. */
export interface PriorBenchRow {
  setting: string;
  perClass: Array<{ p: number; distance: number; majority: number; majorityCount: number; value: number; withoutPrior?: number }>;
  seconds: number;
}

/** The settings compared: name, `--prior` spec (or none), image options. */
export const PRIOR_SETTINGS: Array<{ name: string; prior?: string; image?: 'auto' }> = [
  { name: 'box only (--image none)' },
  { name: 'image defaults', image: 'auto' },
  { name: '--prior dataset:subspace:32:box=0.5-99.5 (one box)', prior: 'dataset:subspace:32:box=0.5-99.5', image: 'auto' },
  { name: '--prior dataset:subspace:32 (one of 100 cluster boxes: 5–95 %, half-diagonal ≤ 6.25)', prior: 'dataset:subspace:32', image: 'auto' },
  { name: '--prior decoder:models/fashion-mnist-decoder:box=0.5-99.5 (one box around all codes)', prior: 'decoder:models/fashion-mnist-decoder:box=0.5-99.5', image: 'auto' },
  { name: '--prior decoder:models/fashion-mnist-decoder (one of 40 cluster boxes: 0.5–99.5 %)', prior: 'decoder:models/fashion-mnist-decoder', image: 'auto' },
];

/**
 * Runs one setting on all ten classes with the CLI's defaults and judges each answer.
 *
 * @example
 * const row = await judgeSetting(model, train, PRIOR_SETTINGS[2]);
 */
export async function judgeSetting(model: ActmaxModel, train: FashionData, s: (typeof PRIOR_SETTINGS)[number], options: MaximizeOptions = {}): Promise<PriorBenchRow> {
  const t0 = performance.now();
  const parsed = s.prior ? await parsePrior(s.prior, model) : null;
  try {
    const targets = Array.from({ length: 10 }, (_, index) => ({ kind: 'logit' as const, index }));
    const run = await maximize(model, targets, { steps: 150, restarts: 6, seed: 0, ...(s.image ? { image: s.image } : {}), constraints: [{ kind: 'box', lo: 0, hi: 1 }, ...(parsed ? [parsed.constraint] : [])], ...options });
    const out = model.outputs[0].name;
    const perClass = run.results.map((r, k) => {
      const j = realism(r.input, train);
      return { p: r.outputs[out][k], distance: j.distance, majority: j.majority, majorityCount: j.majorityCount, value: r.value };
    });
    return { setting: s.name, perClass, seconds: (performance.now() - t0) / 1000 };
  } finally {
    parsed?.dispose();
  }
}

/**
 * The markdown table of {@link judgeSetting} rows (one line per setting, per-class figures joined).
 *
 * @example
 * console.log(priorTable(rows).join('\n'));
 */
export function priorTable(rows: PriorBenchRow[]): string[] {
  const lines = [
    `Do the answers look like data? \`maximize --objective logit:all\` on the bundled model, CLI defaults otherwise (150 steps × 6 restarts, seed 0); judged without the model: mean distance to the 10 nearest of the 60,000 training images (≤ ${REALISM_DISTANCE_LIMIT} = real images' 90th percentile) and how many of those 10 share the answer's class. Load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}.`,
    '',
    '| setting | min p(class) | distance per class (0…9) | max distance | classes whose 10 nearest are mostly that class | classes meeting all three (p ≥ 0.99, distance ≤ 5.2, majority) | s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const minP = Math.min(...r.perClass.map((c) => c.p));
    const d = r.perClass.map((c) => c.distance.toFixed(1)).join(' ');
    const ok = r.perClass.filter((c, k) => c.majority === k && c.majorityCount > 5).length;
    const all = r.perClass.filter((c, k) => looksLikeData(c.p, c, k)).length;
    lines.push(`| ${r.setting} | ${minP.toFixed(4)} | ${d} | ${Math.max(...r.perClass.map((c) => c.distance)).toFixed(2)} | ${ok}/10 | ${all}/10 | ${r.seconds.toFixed(1)} |`);
  }
  return lines;
}

/** All settings, printed as JSON lines and a table. @example await priorBench() */
export async function priorBench(): Promise<string[]> {
  await useBackend('wasm');
  const model = await loadModel(path.join(root, 'models/fashion-mnist-mlp'));
  const train = loadFashionMnist({ split: 'train' });
  const rows: PriorBenchRow[] = [];
  try {
    for (const s of PRIOR_SETTINGS) {
      const row = await judgeSetting(model, train, s);
      console.log(JSON.stringify({ bench: 'prior-realism', ...row }));
      rows.push(row);
    }
  } finally {
    model.dispose();
  }
  return priorTable(rows);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log('\n' + (await priorBench()).join('\n'));
}
