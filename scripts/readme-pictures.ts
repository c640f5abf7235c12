// Generate the README's example pictures (docs/images/) from the bundled model and the CNN
// fixtures (test/fixtures, else ../shared/fixtures): `npx tsx scripts/readme-pictures.ts` (add `atlas` to redo only the
// channel atlases, `prior` only the data-prior row, `prior exact` only the exact answers under the prior). Deterministic (fixed seeds).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { isActmaxError } from '../src/errors.js';
import { animationFrames, encodeGif, frameSteps } from '../src/image/animation.js';
import { atlasImage } from '../src/image/atlas.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { encodePng, gridImage } from '../src/io/png.js';
import { targetLabel } from '../src/objectives/check.js';
import { loadModel } from '../src/model/load.js';
import type { ActmaxModel } from '../src/model/types.js';
import { fixture } from '../src/model/testing/fixtures.js';
import { parseObjective } from '../src/objectives/parse.js';
import { maximize, type MaximizeOptions, type MaximizeResult } from '../src/optimize/maximize.js';
import { parsePrior } from '../src/cli/prior-spec.js';
import { loadFashionMnist } from '../src/data/fashion.js';
import { realism } from '../src/data/realism.js';
import { maximizeExact } from '../src/exact/maximizeExact.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(repo, 'docs', 'images');
const atlasOnly = process.argv[2] === 'atlas';
const priorOnly = process.argv[2] === 'prior';

async function grid(file: string, run: MaximizeResult, model: ActmaxModel): Promise<void> {
  const panels = run.results.map((r) => ({ values: r.input, label: targetLabel(r.spec, model), sublabel: r.value.toFixed(1) }));
  const img = gridImage(panels, run.results[0].shape, model.inputs[0].range, { scale: 3 });
  await writeFileAtomic(path.join(outDir, file), encodePng(img));
  console.log(`wrote docs/images/${file} (${img.width}×${img.height})`);
}

async function classes(model: ActmaxModel, name: string, objective: string, opts: MaximizeOptions): Promise<void> {
  const targets = parseObjective(objective, { outputUnits: () => model.outputs[0].units });
  const box = [{ kind: 'box' as const, lo: model.inputs[0].range[0], hi: model.inputs[0].range[1] }];
  const plain = await maximize(model, targets, { seed: 1, constraints: box, ...opts });
  await grid(`${name}-plain.png`, plain, model);
  const pictures = await maximize(model, targets, { seed: 1, constraints: box, ...opts, image: 'auto' });
  await grid(`${name}-defaults.png`, pictures, model);
}

async function channels(model: ActmaxModel, name: string, layer: string, units: number): Promise<void> {
  const targets = Array.from({ length: units }, (_, channel) => ({ kind: 'channel' as const, layer, channel }));
  const run = await maximize(model, targets, { seed: 2, steps: 150, restarts: 3, keepRestarts: true, image: { regularizers: [{ kind: 'tv', weight: 0.05 }, { kind: 'diversity', weight: 0.1, layer }] } });
  const img = atlasImage(run, model, { scale: 3 });
  await writeFileAtomic(path.join(outDir, `${name}-atlas.png`), encodePng(img));
  console.log(`wrote docs/images/${name}-atlas.png (${img.width}×${img.height})`);
}

/** The bundled model's `logit:all` with the CLI's defaults: box only, image defaults, each data prior. */
async function priorRow(model: ActmaxModel): Promise<void> {
  const targets = parseObjective('logit:all', { outputUnits: () => model.outputs[0].units });
  const box = [{ kind: 'box' as const, lo: 0, hi: 1 }];
  const settings: Array<[string, string | null, boolean]> = [['box', null, false], ['defaults', null, true], ['subspace', 'dataset:subspace:32', true], ['decoder', 'decoder:models/fashion-mnist-decoder', true]];
  // `prior subspace decoder`: only those pictures.
  const only = priorOnly ? process.argv.slice(3) : [];
  const train = loadFashionMnist({ split: 'train' });
  for (const [name, spec, image] of settings.filter(([n]) => only.length === 0 || only.includes(n))) {
    const prior = spec ? await parsePrior(spec, model) : null;
    const run = await maximize(model, targets, { seed: 0, steps: 150, restarts: 6, constraints: [...box, ...(prior ? [prior.constraint] : [])], ...(image ? { image: 'auto' as const } : {}) });
    prior?.dispose();
    await grid(`fashion-logit-${name}.png`, run, model);
    // The realism judge of bench/prior.ts on the same answers: p(class), distance to the 10 nearest training images, their majority.
    const out = model.outputs[0].name;
    console.log(`${name}: ${run.results.map((r, k) => { const j = realism(r.input, train); return `${k}: p ${r.outputs[out][k].toFixed(4)} d ${j.distance.toFixed(2)} ${j.majority}×${j.majorityCount}`; }).join(' | ')}`);
  }
}

/**
 * The proven (or best found, at the 60 s limit) maximum of every class's logit over the default
 * subspace prior: `exact --prior dataset:subspace:32` (`prior exact` redoes only this picture).
 */
async function exactRow(model: ActmaxModel): Promise<void> {
  const prior = await parsePrior('dataset:subspace:32', model);
  const train = loadFashionMnist({ split: 'train' });
  const out = model.outputs[0].name;
  const panels = [];
  try {
    for (let k = 0; k < model.outputs[0].units; k++) {
      const r = await maximizeExact(model, { kind: 'logit', index: k }, { timeLimit: 60, constraints: [{ kind: 'box', lo: 0, hi: 1 }, prior.constraint] });
      const j = realism(r.input, train);
      console.log(`exact ${k}: ${r.status} ${r.value?.toFixed(4)} p ${r.outputs[out][k].toFixed(4)} d ${j.distance.toFixed(2)} ${j.majority}×${j.majorityCount}`);
      panels.push({ values: Float32Array.from(r.input), label: targetLabel({ kind: 'logit', index: k }, model), sublabel: `${r.value!.toFixed(1)}${r.status === 'optimal' ? ' proven' : ''}` });
    }
  } finally {
    prior.dispose();
  }
  const img = gridImage(panels, model.inputs[0].shape, model.inputs[0].range, { scale: 3 });
  await writeFileAtomic(path.join(outDir, 'fashion-logit-exact-subspace.png'), encodePng(img));
  console.log(`wrote docs/images/fashion-logit-exact-subspace.png (${img.width}×${img.height})`);
}

await useBackend('wasm');

// The bundled model: every class without and with the image defaults, and an animation.
const bundled = await loadModel(path.join(repo, 'models', 'fashion-mnist-mlp'));
if (priorOnly) {
  if (process.argv.slice(3).includes('exact')) await exactRow(bundled);
  if (process.argv.slice(3).some((n) => n !== 'exact') || process.argv.length === 3) await priorRow(bundled);
  bundled.dispose();
  process.exit(0);
}
await priorRow(bundled);
await exactRow(bundled);
if (!atlasOnly) await classes(bundled, 'fashion', 'margin:all', { steps: 200, restarts: 4 });
const anim = await maximize(bundled, parseObjective('margin:0', {}).concat(parseObjective('margin:5', {}), parseObjective('margin:8', {})), { seed: 1, steps: 120, restarts: 1, image: 'auto', frames: frameSteps(120, 13), constraints: [{ kind: 'box', lo: 0, hi: 1 }] });
if (!atlasOnly) {
  await writeFileAtomic(path.join(outDir, 'fashion-animation.gif'), encodeGif(animationFrames(anim, bundled), 150));
  console.log('wrote docs/images/fashion-animation.gif');
}
bundled.dispose();

// CNN fixtures (read with the Keras loaders; skipped with a note where a file cannot be read).
const cnns: Array<[string, string, string, number, number]> = [
  ['keras3-keras-mnist-mlp-cnn/mnist_cnn.keras', 'mnist-cnn', 'conv2d_1', 8, 100],
  ['keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5', 'marabou-cnn', 'conv2d_15', 4, 200],
];
for (const [file, name, layer, units, steps] of cnns) {
  const f = fixture(file);
  if (!f) {
    console.log(`skip ${file}: not in test/fixtures and no ../shared/fixtures beside the checkout`);
    continue;
  }
  let model: ActmaxModel;
  try {
    model = await loadModel(f);
  } catch (e) {
    if (!isActmaxError(e)) throw e;
    console.log(`skip ${file}: ${e.message}`);
    continue;
  }
  if (!atlasOnly) await classes(model, name, 'margin:all', { steps, restarts: 2 });
  await channels(model, name, layer, units);
  model.dispose();
}
