/**
 * Loader for legacy HDF5 models (`model.save('x.h5')` in Keras 2 / tf.keras and Keras 3):
 * config from the root `model_config` attribute, weights from `/model_weights/<layer>` resolved
 * through each group's `weight_names` attribute.
 */
import type { LoadedNet } from '../types.js';
import { ActmaxError } from '../../errors.js';
import { buildFromConfig, setNamedLayerWeights, weightedLayers, type WeightArray } from './build.js';
import { getEntity, readDataset, readStringAttr, readStringListAttr, withH5, type Dataset, type Group } from './h5.js';

/** Major version from a Keras version string (2 when unknown). @example kerasMajorVersion('3.3.3'); // 3 */
export function kerasMajorVersion(version: string | undefined): number {
  const m = /^(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : 2;
}

/**
 * Loads a full-model legacy `.h5` file.
 *
 * @example
 * const net = await loadLegacyH5(bytes, 'model.h5');
 * (net.net as tf.LayersModel).predict(x);
 */
export async function loadLegacyH5(bytes: Uint8Array, file: string): Promise<LoadedNet> {
  return withH5(bytes, file, async (f) => {
    const configText = readStringAttr(f, 'model_config');
    if (!configText) {
      const isWeightsOnly = getEntity(f, 'model_weights') !== null || readStringListAttr(f, 'layer_names').length > 0;
      throw new ActmaxError(
        'bad-model',
        isWeightsOnly
          ? `${file}: holds weights only (saved with save_weights), no model config; save the whole model with model.save("model.keras")`
          : `${file}: an HDF5 file without a Keras model_config attribute; not a Keras model file`,
      );
    }
    let config: unknown;
    try {
      config = JSON.parse(configText);
    } catch (e) {
      throw new ActmaxError('bad-model', `${file}: the model_config attribute is not valid JSON: ${(e as Error).message}`);
    }
    const kerasVersion = readStringAttr(f, 'keras_version');
    const notes: string[] = [];
    const { model } = await buildFromConfig(config, file, kerasMajorVersion(kerasVersion), notes);
    try {
      const root = getEntity(f, 'model_weights') as Group | null;
      // Keras 2 can also save weights at the root (no /model_weights group).
      const weightsRoot: Group = root && root.type === 'Group' ? root : (f as unknown as Group);
      for (const layer of weightedLayers(model)) {
        const group = getEntity(weightsRoot, layer.name) as Group | null;
        if (!group || group.type !== 'Group') {
          throw new ActmaxError('bad-model', `${file}: no weights for layer "${layer.name}" (expected the group /model_weights/${layer.name})`);
        }
        const names = readStringListAttr(group, 'weight_names');
        const values: WeightArray[] = names.map((name) => {
          const ds = getEntity(group, name) as Dataset | null;
          if (!ds || ds.type !== 'Dataset') {
            throw new ActmaxError('bad-model', `${file}: weight "${name}" listed for layer "${layer.name}" is missing from the file`);
          }
          return { name, ...readDataset(ds, file, notes) };
        });
        setNamedLayerWeights(layer, values, file);
      }
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { net: model, format: 'keras-h5', kerasVersion, metadata: {}, notes: [...new Set(notes)] };
  });
}
