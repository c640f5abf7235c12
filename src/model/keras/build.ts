/**
 * Builds a TF.js layers model from a normalised config (without allocating more than a fixed
 * budget) and sets its weights from arrays read out of a file.
 */
import * as tf from '@tensorflow/tfjs';
import { ActmaxError, isActmaxError } from '../../errors.js';
import { closeWeightBudget, openWeightBudget, registerCustomLayers } from './custom-layers.js';
import { normaliseModelConfig, type NormalisedModel } from './normalise-config.js';

/** Most floats a model's weights (or one example's activations in one layer) may need: 2^28 = 1 GiB. */
export const MAX_FLOATS = 2 ** 28;

/** One weight array as read from a file. */
export interface WeightArray {
  /** The name the file gives it, when it gives one (`dense/kernel:0`, `dense/kernel`). */
  name?: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Short name of a weight. @example shortWeightName('sequential/dense/kernel:0'); // 'kernel' */
export function shortWeightName(name: string): string {
  const last = name.split('/').pop() ?? name;
  return last.replace(/:\d+$/, '');
}

/** Product of a shape's dimensions (1 for a scalar). @example shapeSize([28, 28, 1]); // 784 */
export function shapeSize(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((a, b) => a * (b ?? 1), 1);
}

/**
 * Normalises `rawConfig` and builds it with tfjs-layers, refusing configs whose weights would
 * exceed {@link MAX_FLOATS} floats or whose layers produce absurdly large activations.
 *
 * @example
 * const notes: string[] = [];
 * const { model, normalised } = await buildFromConfig(JSON.parse(json), 'm.keras', 3, notes);
 */
export async function buildFromConfig(
  rawConfig: unknown,
  file: string,
  kerasMajor: number,
  notes: string[],
): Promise<{ model: tf.LayersModel; normalised: NormalisedModel }> {
  registerCustomLayers();
  const budgetId = openWeightBudget(MAX_FLOATS, file);
  try {
    const normalised = normaliseModelConfig(rawConfig, { file, kerasMajor, budgetId, notes });
    let model: tf.LayersModel;
    try {
      model = await tf.models.modelFromJSON({ modelTopology: normalised.topology } as unknown as tf.io.ModelJSON);
    } catch (e) {
      if (isActmaxError(e)) throw e;
      throw new ActmaxError('bad-model', `${file}: cannot build the model from its config: ${(e as Error).message}`);
    }
    // A Sequential only fills in inputNames/inputLayers/outputNames once built.
    if (model instanceof tf.Sequential && !model.built) model.build();
    for (const layer of model.layers) {
      const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
      for (const s of shapes) {
        const size = shapeSize(s.slice(1));
        if (!Number.isFinite(size) || size > MAX_FLOATS) {
          model.dispose();
          throw new ActmaxError('bad-model', `${file}: layer "${layer.name}" would output ${size} values per example (shape [${s.join(', ')}]); more than ${MAX_FLOATS} is refused`);
        }
      }
    }
    return { model, normalised };
  } finally {
    closeWeightBudget(budgetId);
  }
}

/**
 * Sets one layer's weights from file arrays given in the layer's own weight order, checking
 * every shape.
 *
 * @example
 * setLayerWeights(model.getLayer('dense'), [kernel, bias], 'm.h5');
 */
export function setLayerWeights(layer: tf.layers.Layer, values: WeightArray[], file: string): void {
  const expected = layer.weights;
  if (values.length !== expected.length) {
    throw new ActmaxError('bad-model', `${file}: layer "${layer.name}" needs ${expected.length} weight arrays (${expected.map((w) => shortWeightName(w.originalName)).join(', ')}) but the file has ${values.length}`);
  }
  const tensors = values.map((v, i) => {
    const want = expected[i].shape;
    const same = want.length === v.shape.length && want.every((d, j) => d === v.shape[j]);
    if (!same || shapeSize(v.shape) !== v.data.length) {
      throw new ActmaxError('bad-model', `${file}: weight ${shortWeightName(expected[i].originalName)} of layer "${layer.name}" has shape [${v.shape.join(', ')}] (${v.data.length} values) in the file, but the config needs [${want.join(', ')}]`);
    }
    return tf.tensor(v.data instanceof Float32Array ? v.data : Float32Array.from(v.data), v.shape, 'float32');
  });
  try {
    layer.setWeights(tensors);
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}

/**
 * Sets a layer's weights from arrays the file names (`kernel`, `bias`, …): each of the layer's
 * weights is matched by short name, never by position. Keras 2's `count` of Normalization is
 * filled in when absent.
 *
 * @example
 * setNamedLayerWeights(layer, [{ name: 'dense/bias:0', … }, { name: 'dense/kernel:0', … }], 'm.h5');
 */
export function setNamedLayerWeights(layer: tf.layers.Layer, values: WeightArray[], file: string): void {
  const byName = new Map<string, WeightArray>();
  for (const v of values) {
    const short = shortWeightName(v.name ?? '');
    if (byName.has(short)) {
      throw new ActmaxError('bad-model', `${file}: layer "${layer.name}" has two weights named "${short}" in the file; cannot tell them apart`);
    }
    byName.set(short, v);
  }
  const ordered: WeightArray[] = [];
  for (const w of layer.weights) {
    const short = shortWeightName(w.originalName);
    const v = byName.get(short);
    if (!v) {
      if (short === 'count') {
        ordered.push({ shape: [], data: new Float32Array([0]) });
        continue;
      }
      const has = values.length ? `only has ${values.map((x) => `"${x.name}"`).join(', ')} for it` : 'has no weights for it';
      throw new ActmaxError('bad-model', `${file}: layer "${layer.name}" needs a weight "${short}" but the file ${has}`);
    }
    byName.delete(short);
    ordered.push(v);
  }
  if (byName.size > 0) {
    throw new ActmaxError('bad-model', `${file}: the file has weight(s) ${[...byName.values()].map((x) => `"${x.name}"`).join(', ')} for layer "${layer.name}" that the layer does not have (it has ${layer.weights.map((w) => shortWeightName(w.originalName)).join(', ') || 'none'})`);
  }
  setLayerWeights(layer, ordered, file);
}

/** Layers of a model that hold weights. @example weightedLayers(model).map((l) => l.name) */
export function weightedLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

/** Converts a float64/int array from a file to float32, noting float64. @example toFloat32(new Float64Array([1, 2]), notes, 'm.h5') */
export function toFloat32(data: ArrayLike<number | bigint>, notes: string[], what: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) {
    notes.push(`${what}: float64 weights are computed as float32`);
    return Float32Array.from(data);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
