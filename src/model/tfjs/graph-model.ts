/**
 * Loader for TF.js graph models (converted SavedModels / frozen graphs). The signature is read
 * from the top level (newer converters) or `userDefinedMetadata.signature` (older ones). The
 * graph is run once on zeros so that unsupported ops are reported at load time.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedNet } from '../types.js';
import type { ModelFiles } from '../formats.js';
import { ActmaxError, isActmaxError } from '../../errors.js';
import { MAX_FLOATS, shapeSize } from '../keras/build.js';
import { readManifestWeights } from './manifest.js';

type Dict = Record<string, unknown>;

/**
 * Loads a TF.js graph model from its parsed `model.json`.
 *
 * @example
 * const { net } = await loadTfjsGraphModel(JSON.parse(text), files, 'model.json');
 * const y = (net as tf.GraphModel).execute(x) as tf.Tensor;
 */
export async function loadTfjsGraphModel(json: Dict, files: ModelFiles, file: string): Promise<LoadedNet> {
  const { specs, data } = await readManifestWeights(json.weightsManifest, files, file);
  const userMeta = (json.userDefinedMetadata && typeof json.userDefinedMetadata === 'object' ? json.userDefinedMetadata : {}) as Dict;
  const signature = (json.signature ?? userMeta.signature) as Dict | undefined;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: 'graph-model',
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
    weightSpecs: specs,
    weightData: data,
    signature,
    userDefinedMetadata: userMeta as Record<string, never>,
    modelInitializer: json.modelInitializer as tf.io.ModelArtifacts['modelInitializer'],
  };
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new ActmaxError('bad-model', `${file}: cannot load the graph model: ${(e as Error).message}`);
  }
  try {
    dryRun(model, file);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const notes: string[] = [];
  return { net: model, format: 'tfjs-graph', metadata: userMeta, notes };
}

/** Runs the graph once on zeros (unknown dimensions as 1) so missing ops fail now, clearly. */
function dryRun(model: tf.GraphModel, file: string): void {
  const inputs = model.inputs;
  if (inputs.length === 0) throw new ActmaxError('bad-model', `${file}: the graph model has no inputs`);
  const feeds: tf.NamedTensorMap = {};
  try {
    for (const input of inputs) {
      if (!input.shape) throw new ActmaxError('unsupported', `${file}: graph input "${input.name}" has no known shape`);
      const shape = input.shape.map((d) => (d == null || d < 0 ? 1 : d));
      if (shapeSize(shape) > MAX_FLOATS) {
        throw new ActmaxError('bad-model', `${file}: graph input "${input.name}" has shape [${input.shape.join(', ')}]; more than ${MAX_FLOATS} values is refused`);
      }
      feeds[input.name] = tf.zeros(shape, (input.dtype ?? 'float32') as tf.DataType);
    }
    const out = model.execute(feeds);
    (Array.isArray(out) ? out : [out]).forEach((t) => t.dispose());
  } catch (e) {
    if (isActmaxError(e)) throw e;
    const msg = (e as Error).message;
    const code = /not supported|not implemented|unsupported/i.test(msg) ? 'unsupported-layer' : 'bad-model';
    throw new ActmaxError(code, `${file}: the graph model does not run in TF.js: ${msg.split('\n')[0]}`);
  } finally {
    Object.values(feeds).forEach((t) => t.dispose());
  }
}
