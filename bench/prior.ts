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
import { extractNetwork, forwardValues } from '../src/exact/network.js';
import { exactObjective, exactObjectiveValue } from '../src/exact/objective.js';

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
  { name: '--prior dataset:subspace:32:clusters=5-95 (one of 100 cluster boxes: 5–95 %, half-diagonal ≤ 6.25; the default before core examples)', prior: 'dataset:subspace:32:clusters=5-95', image: 'auto' },
  { name: '--prior dataset:subspace:32 (one of 500 boxes of half-diagonal 3 around the 5 core examples of each cluster)', prior: 'dataset:subspace:32', image: 'auto' },
  { name: '--prior decoder:models/fashion-mnist-decoder:clusters=0.5-99.5 (one of 40 cluster boxes: 0.5–99.5 %, the class code fixed)', prior: 'decoder:models/fashion-mnist-decoder:clusters=0.5-99.5', image: 'auto' },
  { name: '--prior decoder:models/fashion-mnist-decoder (one of 400 boxes of half-diagonal 1 around the 10 core codes of each cluster, the class code fixed)', prior: 'decoder:models/fashion-mnist-decoder', image: 'auto' },
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

/** How many of each class's most activating real images the reference judges. */
const REAL_TOP = 20;

/**
 * The data's own maxima, judged the same way: per class, the test images of that class with the
 * largest logit (float64 forward pass). The row holds each class's top image; `topPass` counts,
 * per class, how many of its {@link REAL_TOP} top images meet all three checks. It shows what a
 * maximum that looks like data can reach: for a class whose most activating real images are
 * themselves far from the rest of the data, no answer that maximises the logit will pass.
 *
 * @example
 * const { row, topPass } = realMaxima(model, train, loadFashionMnist({ split: 'test' }));
 */
export function realMaxima(model: ActmaxModel, train: FashionData, test: FashionData): { row: PriorBenchRow; topPass: number[]; topDistance: number[] } {
  const t0 = performance.now();
  const net = extractNetwork(model);
  const n = test.images.length / test.count;
  const logits = Array.from({ length: 10 }, (_, k) => exactObjective(model, net, { kind: 'logit', index: k }));
  // Every test image's ten logits (float64), once.
  const all = new Float64Array(test.count * 10);
  for (let i = 0; i < test.count; i++) {
    const values = forwardValues(net, test.images.subarray(i * n, (i + 1) * n));
    for (let k = 0; k < 10; k++) all[i * 10 + k] = exactObjectiveValue(logits[k], values);
  }
  const softmax = (i: number, k: number) => {
    const row = all.subarray(i * 10, i * 10 + 10);
    const top = Math.max(...row);
    return Math.exp(row[k] - top) / row.reduce((s, v) => s + Math.exp(v - top), 0);
  };
  const perClass: PriorBenchRow['perClass'] = [];
  const topPass: number[] = [];
  const topDistance: number[] = [];
  for (let k = 0; k < 10; k++) {
    const members: number[] = [];
    for (let i = 0; i < test.count; i++) if (test.labels[i] === k) members.push(i);
    members.sort((a, b) => all[b * 10 + k] - all[a * 10 + k]);
    const judged = members.slice(0, REAL_TOP).map((i) => {
      const j = realism(test.images.subarray(i * n, (i + 1) * n), train);
      return { p: softmax(i, k), distance: j.distance, majority: j.majority, majorityCount: j.majorityCount, value: all[i * 10 + k] };
    });
    perClass.push(judged[0]);
    topPass.push(judged.filter((c) => looksLikeData(c.p, c, k)).length);
    topDistance.push(judged.map((c) => c.distance).sort((a, b) => a - b)[judged.length >> 1]);
  }
  return { row: { setting: `real data: each class's test image of largest logit`, perClass, seconds: (performance.now() - t0) / 1000 }, topPass, topDistance };
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
  let real: ReturnType<typeof realMaxima>;
  try {
    for (const s of PRIOR_SETTINGS) {
      const row = await judgeSetting(model, train, s);
      console.log(JSON.stringify({ bench: 'prior-realism', ...row }));
      rows.push(row);
    }
    real = realMaxima(model, train, loadFashionMnist({ split: 'test' }));
    console.log(JSON.stringify({ bench: 'prior-realism', ...real.row, topPass: real.topPass, topDistance: real.topDistance }));
    rows.push(real.row);
  } finally {
    model.dispose();
  }
  return [
    ...priorTable(rows),
    '',
    `The data's own maxima (last row): of each class's ${REAL_TOP} test images with the largest logit, how many meet all three checks (classes 0…9): ${real.topPass.join(' ')}; their median distance: ${real.topDistance.map((d) => d.toFixed(2)).join(' ')}.`,
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log('\n' + (await priorBench()).join('\n'));
}
