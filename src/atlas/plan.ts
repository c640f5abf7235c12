import { ActmaxError } from '../errors.js';
import { imageDefaults } from '../pipeline/defaults.js';
import type { ActmaxModel, LayerInfo } from '../model/types.js';
import { formatObjective } from '../objectives/format.js';
import { channelLayout, layerChannelAxis } from '../objectives/indices.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { mulberry32 } from '../optimize/rng.js';
import { modelDigest, shortHash } from './fingerprint.js';
import type { AtlasPlan, AtlasSettings, PlannedBatch, PlannedLayer, PlannedUnit, UnitKind } from './types.js';

/** Layers `--layers all` takes: those with their own units (convolutions, dense), and the outputs. */
const UNIT_LAYER = /conv|dense/i;

/**
 * Rows (units × restarts) a batch aims at: wide enough to keep a core busy, small enough for big
 * images. Small images take 32: on mnist_cnn.keras (362 units, quiet 2 cores, one intra-op thread
 * per worker) 64-row batches ran 41.5 s on one worker and 25.6 s on two (1.62×), 32-row batches
 * 39.1 s and 21.4 s (1.83×) — two workers' larger batches contend for the shared cache.
 */
const TARGET_ROWS = { none: 64, small: 32, large: 16 } as const;

/**
 * Units per batch when none is given: about 32 rows for small images, 64 for tabular inputs, 16 for
 * images larger than 64 px.
 *
 * @example
 * defaultBatchUnits(model, 4) // 8 for a 28×28 model
 */
export function defaultBatchUnits(model: ActmaxModel, restarts: number): number {
  const kind = imageDefaults(model).kind;
  return Math.max(1, Math.round(TARGET_ROWS[kind] / restarts));
}

function outputOf(model: ActmaxModel, layer: string): number {
  return model.outputs.findIndex((o) => o.layer === layer);
}

function isCandidate(model: ActmaxModel, l: LayerInfo): boolean {
  return l.className !== 'InputLayer' && (UNIT_LAYER.test(l.className) || outputOf(model, l.name) >= 0);
}

/** Unique, file-name-safe names for layers (graph node names hold `/`, Keras names may hold anything). */
function slugs(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    const base = n.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_').slice(0, 80) || 'layer';
    let s = base;
    for (let k = 2; used.has(s.toLowerCase()); k++) s = `${base}-${k}`;
    used.add(s.toLowerCase());
    return s;
  });
}

/**
 * The layers an atlas covers: `all` (every convolution and dense layer, and the model's outputs)
 * or the named ones, each with how its units are read: output units as logits, spatial layers by
 * channel (mean over positions), flat layers by neuron.
 *
 * @example
 * chooseLayers(model, 'all').map((l) => `${l.name}:${l.units}`) // ['conv2d:32', …, 'dense_1:10']
 */
export function chooseLayers(model: ActmaxModel, layers: 'all' | string[]): PlannedLayer[] {
  const valid = model.layers.filter((l) => l.className !== 'InputLayer' && l.outputShape.length > 0);
  let chosen: Array<{ name: string; className: string; outputShape: number[] }>;
  if (layers === 'all') {
    chosen = model.layers.filter((l) => isCandidate(model, l));
    // Graph models list no layers: their outputs still have units.
    for (const o of model.outputs) if (!chosen.some((l) => l.name === o.layer)) chosen.push({ name: o.layer, className: 'Output', outputShape: o.shape });
    if (chosen.length === 0) throw new ActmaxError('bad-option', 'the model has no convolution, dense or output layer to map; name layers with --layers');
  } else {
    if (layers.length === 0) throw new ActmaxError('bad-option', '--layers needs "all" or layer names separated by commas');
    chosen = layers.map((name) => {
      const l = valid.find((x) => x.name === name);
      if (!l) throw new ActmaxError('unknown-layer', `layer "${name}" has no units to map; choose from: ${valid.map((x) => x.name).join(', ')} (or all)`);
      return l;
    });
    const dup = layers.find((n, i) => layers.indexOf(n) !== i);
    if (dup) throw new ActmaxError('bad-option', `--layers names "${dup}" twice`);
  }
  const names = slugs(chosen.map((l) => l.name));
  return chosen.map((l, i) => {
    const out = outputOf(model, l.name);
    const kind: UnitKind = out >= 0 && l.outputShape.length === 1 ? 'logit' : l.outputShape.length > 1 ? 'channel' : 'neuron';
    const units = kind === 'channel' ? channelLayout(l.outputShape, layerChannelAxis(l)).channels : l.outputShape.reduce((a, b) => a * b, 1);
    return { name: l.name, className: l.className, kind, units, outputShape: l.outputShape, slug: names[i] };
  });
}

function unitSpec(model: ActmaxModel, layer: PlannedLayer, index: number): ObjectiveSpec {
  switch (layer.kind) {
    case 'logit': {
      const out = outputOf(model, layer.name);
      return model.outputs.length > 1 ? { kind: 'logit', index, output: model.outputs[out].name } : { kind: 'logit', index };
    }
    case 'channel':
      return { kind: 'channel', layer: layer.name, channel: index };
    case 'neuron':
      return { kind: 'neuron', layer: layer.name, index };
  }
}

/**
 * Every unit of the layers, in layer order then unit order.
 *
 * @example
 * planUnits(model, chooseLayers(model, 'all'))[0] // { id: 'conv2d/0', objective: 'channel:conv2d:0', … }
 */
export function planUnits(model: ActmaxModel, layers: PlannedLayer[]): PlannedUnit[] {
  return layers.flatMap((layer) =>
    Array.from({ length: layer.units }, (_, index) => {
      const spec = unitSpec(model, layer, index);
      return { id: `${layer.name}/${index}`, layer: layer.name, index, kind: layer.kind, objective: formatObjective(spec), spec };
    }),
  );
}

/**
 * The seed of batch `index`: a hash of the atlas seed and the batch index, so batches start from
 * unrelated random points and every batch's seed is fixed by the plan alone.
 *
 * @example
 * batchSeed(0, 3) // the same number on every machine
 */
export function batchSeed(seed: number, index: number): number {
  const mixed = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  return Math.floor(mulberry32(mixed)() * 0x7fffffff);
}

/**
 * Pack units into batches of `settings.batchUnits`, across layer boundaries, in plan order. The
 * packing depends on nothing but the units and the settings — never on how many workers run them —
 * so every unit's value is the same however the batches are spread.
 *
 * @example
 * packBatches(units, { steps: 100, restarts: 4, seed: 0, batchUnits: 16, image: 'auto' }).length // ⌈units / 16⌉
 */
export function packBatches(units: PlannedUnit[], settings: Pick<AtlasSettings, 'batchUnits' | 'seed'>): PlannedBatch[] {
  if (!Number.isInteger(settings.batchUnits) || settings.batchUnits < 1) throw new ActmaxError('bad-option', `the batch size must be an integer ≥ 1 unit, got ${settings.batchUnits}`);
  const batches: PlannedBatch[] = [];
  for (let i = 0, b = 0; i < units.length; i += settings.batchUnits, b++) {
    batches.push({ index: b, seed: batchSeed(settings.seed, b), units: units.slice(i, i + settings.batchUnits) });
  }
  return batches;
}

/** What {@link planAtlas} needs besides the model. */
export interface PlanOptions extends Partial<AtlasSettings> {
  layers?: 'all' | string[];
}

export { ATLAS_DEFAULTS } from './defaults.js';
import { ATLAS_DEFAULTS } from './defaults.js';

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new ActmaxError('bad-option', `${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/**
 * The whole plan of an atlas: its layers, every unit, the batches, and the atlas id (model digest
 * and settings hashed: a folder or a queue holding results of another id is not mixed in).
 *
 * @example
 * const plan = planAtlas(model, { layers: 'all', steps: 100 });
 * plan.units.length // 362 for mnist_cnn.keras
 */
export function planAtlas(model: ActmaxModel, options: PlanOptions = {}): AtlasPlan {
  const restarts = positiveInt('restarts', options.restarts ?? ATLAS_DEFAULTS.restarts, 1);
  const settings: AtlasSettings = {
    steps: positiveInt('steps', options.steps ?? ATLAS_DEFAULTS.steps, 1),
    restarts,
    seed: positiveInt('seed', options.seed ?? ATLAS_DEFAULTS.seed, 0),
    batchUnits: positiveInt('batch', options.batchUnits ?? defaultBatchUnits(model, restarts), 1),
    image: options.image ?? ATLAS_DEFAULTS.image,
  };
  if (settings.image !== 'auto' && settings.image !== 'none') throw new ActmaxError('bad-option', `image must be auto or none, got "${String(settings.image)}"`);
  const layers = chooseLayers(model, options.layers ?? 'all');
  const units = planUnits(model, layers);
  const digest = modelDigest(model);
  return {
    atlasId: shortHash({ digest, settings, layers: layers.map((l) => l.name) }),
    modelDigest: digest,
    settings,
    layers,
    units,
    batches: packBatches(units, settings),
  };
}
