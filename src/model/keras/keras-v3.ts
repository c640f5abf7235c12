/**
 * Loader for the native Keras `.keras` zip (`config.json`, `metadata.json`, `model.weights.h5`),
 * as written by Keras 3 and by tf.keras 2.13+. Weights live at `layers/<snake_class>[_n]/vars/<i>`:
 * groups are matched to layers by the `name` attribute on `vars` where present (Keras 3.10+),
 * else by the Keras rule (class name snake-cased, numbered in layer order); variables by number.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LoadedNet } from '../types.js';
import { ActmaxError } from '../../errors.js';
import { buildFromConfig, setLayerWeights, type WeightArray } from './build.js';
import { getEntity, readDataset, readStringAttr, withH5, type Dataset, type Group } from './h5.js';
import { kerasMajorVersion } from './legacy-h5.js';
import { kerasSnakeCase } from './normalise-config.js';
import { readZip } from './zip.js';

const WANTED = new Set(['config.json', 'metadata.json', 'model.weights.h5']);

function parseJson(bytes: Uint8Array, file: string, entry: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ActmaxError('bad-model', `${file}: ${entry} inside the .keras archive is not valid JSON: ${(e as Error).message}`);
  }
}

/** Variables of a `layers/<x>` group: its own `vars/<i>` in numeric order, then sub-layers' (e.g. an RNN's `cell`). */
function collectVars(group: Group, file: string, notes: string[]): WeightArray[] {
  const out: WeightArray[] = [];
  const vars = getEntity(group, 'vars') as Group | null;
  if (vars && vars.type === 'Group') {
    const keys = vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
    keys.forEach((k, i) => {
      if (Number(k) !== i) throw new ActmaxError('bad-model', `${file}: ${vars.path} has variables ${keys.join(', ')}; variable ${i} is missing`);
      const ds = vars.get(k) as Dataset;
      out.push(readDataset(ds, file, notes));
    });
  }
  for (const k of group.keys().sort()) {
    if (k === 'vars') continue;
    const sub = getEntity(group, k) as Group | null;
    if (sub && sub.type === 'Group') out.push(...collectVars(sub, file, notes));
  }
  return out;
}

/** Maps config layer names to their weight groups in `model.weights.h5`. */
function weightGroupsByLayer(layersGroup: Group, layers: { name: string; className: string }[]): Map<string, string> {
  const byName = new Map<string, string>();
  const keys = layersGroup.keys();
  for (const k of keys) {
    const vars = getEntity(layersGroup, `${k}/vars`);
    const name = vars ? readStringAttr(vars as Group, 'name') : undefined;
    if (name !== undefined) byName.set(name, k);
  }
  const result = new Map<string, string>();
  const used = new Map<string, number>();
  for (const { name, className } of layers) {
    const snake = kerasSnakeCase(className);
    const n = used.get(snake);
    const key = n === undefined ? snake : `${snake}_${n + 1}`;
    used.set(snake, n === undefined ? 0 : n + 1);
    result.set(name, byName.get(name) ?? key);
  }
  return result;
}

/**
 * Loads a `.keras` archive.
 *
 * @example
 * const net = await loadKerasV3(bytes, 'model.keras');
 */
export async function loadKerasV3(bytes: Uint8Array, file: string): Promise<LoadedNet> {
  const { names, entries } = readZip(bytes, file, (n) => WANTED.has(n));
  const configBytes = entries.get('config.json');
  if (!configBytes) {
    const listed = names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '');
    throw new ActmaxError('bad-model', `${file}: a zip archive but not a .keras model: it has no config.json (entries: ${listed || 'none'})`);
  }
  const weightsBytes = entries.get('model.weights.h5');
  if (!weightsBytes) {
    const sharded = names.includes('model.weights.json');
    throw new ActmaxError(
      sharded ? 'unsupported' : 'bad-model',
      sharded
        ? `${file}: sharded .keras weights (model.weights.json) are not supported; save without max_shard_size`
        : `${file}: the .keras archive has no model.weights.h5`,
    );
  }
  const config = parseJson(configBytes, file, 'config.json');
  const metaBytes = entries.get('metadata.json');
  const meta = metaBytes ? parseJson(metaBytes, file, 'metadata.json') : {};
  const kerasVersion = typeof (meta as { keras_version?: unknown }).keras_version === 'string' ? (meta as { keras_version: string }).keras_version : undefined;
  const notes: string[] = [];
  const { model, normalised } = await buildFromConfig(config, file, kerasMajorVersion(kerasVersion ?? '3.0'), notes);
  try {
    await withH5(weightsBytes, `${file} (model.weights.h5)`, (f) => {
      const layersGroup = getEntity(f, 'layers') as Group | null;
      if (!layersGroup || layersGroup.type !== 'Group') {
        throw new ActmaxError('bad-model', `${file}: model.weights.h5 has no /layers group`);
      }
      const groups = weightGroupsByLayer(layersGroup, normalised.layers);
      for (const layer of model.layers as tf.layers.Layer[]) {
        if (layer.weights.length === 0) continue;
        const key = groups.get(layer.name);
        const group = key ? (getEntity(layersGroup, key) as Group | null) : null;
        if (!group || group.type !== 'Group') {
          throw new ActmaxError('bad-model', `${file}: no weights for layer "${layer.name}" (expected /layers/${key ?? '?'} in model.weights.h5)`);
        }
        setLayerWeights(layer, collectVars(group, file, notes), file);
      }
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { net: model, format: 'keras-v3', kerasVersion, metadata: {}, notes: [...new Set(notes)] };
}
