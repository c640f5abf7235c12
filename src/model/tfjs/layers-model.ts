/**
 * Loader for TF.js layers models (`model.json` + weight shards) in all three layouts: converter
 * output (`modelTopology.model_config`), tfjs-native saves (`class_name`/`config` directly in
 * `modelTopology`) and the oldest Sequential (`config` a bare list). The config goes through the
 * same normaliser as Keras files; weights are matched to layers by name (manifests may list them
 * alphabetically).
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedNet } from '../types.js';
import type { ModelFiles } from '../formats.js';
import { ActmaxError } from '../../errors.js';
import { buildFromConfig, setLayerWeights, shortWeightName, type WeightArray } from '../keras/build.js';
import { kerasMajorVersion } from '../keras/legacy-h5.js';
import { readManifestWeights } from './manifest.js';

type Dict = Record<string, unknown>;

/** The variable a manifest name refers to: exact `originalName`, else with the cell scope dropped (`lstm/lstm_cell/kernel` → `lstm/kernel`), as tfjs does. */
function findVariable(byName: Map<string, tf.LayerVariable>, name: string): tf.LayerVariable | undefined {
  const exact = byName.get(name);
  if (exact) return exact;
  const tokens = name.split('/');
  if (tokens.length < 3) return undefined;
  return byName.get([...tokens.slice(0, -2), tokens[tokens.length - 1]].join('/'));
}

/**
 * Loads a TF.js layers model from its parsed `model.json`.
 *
 * @example
 * const net = await loadTfjsLayersModel(JSON.parse(text), files, 'model.json');
 */
export async function loadTfjsLayersModel(json: Dict, files: ModelFiles, file: string): Promise<LoadedNet> {
  const topology = json.modelTopology as Dict;
  const modelConfig = (topology.model_config ?? topology) as Dict;
  const kerasVersion = typeof topology.keras_version === 'string' ? topology.keras_version : typeof modelConfig.keras_version === 'string' ? (modelConfig.keras_version as string) : undefined;
  const { specs, data } = await readManifestWeights(json.weightsManifest, files, file);
  const notes: string[] = [];
  const { model } = await buildFromConfig(modelConfig, file, kerasMajorVersion(kerasVersion), notes);
  let named: tf.NamedTensorMap = {};
  try {
    const byName = new Map<string, tf.LayerVariable>();
    for (const w of model.weights) byName.set(w.originalName, w);
    const perVariable = new Map<tf.LayerVariable, WeightArray>();
    let decoded: tf.NamedTensorMap;
    try {
      decoded = tf.io.decodeWeights(data, specs);
    } catch (e) {
      throw new ActmaxError('bad-model', `${file}: cannot decode the weights: ${(e as Error).message}`);
    }
    named = decoded;
    for (const spec of specs) {
      const v = findVariable(byName, spec.name);
      if (!v) {
        throw new ActmaxError('bad-model', `${file}: the manifest has weight "${spec.name}", which no layer of the model has (layer weights: ${[...byName.keys()].slice(0, 8).join(', ')}${byName.size > 8 ? ', …' : ''})`);
      }
      const t = named[spec.name];
      perVariable.set(v, { name: spec.name, shape: t.shape, data: Float32Array.from(t.dataSync()) });
    }
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const values = layer.weights.map((w) => {
        const v = perVariable.get(w);
        if (!v) throw new ActmaxError('bad-model', `${file}: layer "${layer.name}" needs weight "${shortWeightName(w.originalName)}" (${w.originalName}) but the manifest does not list it`);
        return v;
      });
      setLayerWeights(layer, values, file);
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    Object.values(named).forEach((t) => t.dispose());
  }
  const metadata = (json.userDefinedMetadata && typeof json.userDefinedMetadata === 'object' ? json.userDefinedMetadata : {}) as Record<string, unknown>;
  return { net: model, format: 'tfjs-layers', kerasVersion, metadata, notes: [...new Set(notes)] };
}
