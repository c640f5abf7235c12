import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from './types.js';

/** A TF.js layers model as files: `model.json` and one weights file. */
export interface TfjsLayersFiles {
  'model.json': string;
  'weights.bin': Uint8Array;
}

/**
 * Serialise a loaded model (from any format) as a TF.js layers model, keeping its metadata (class
 * names, input range) and recording where it came from, so it can be served to a browser.
 *
 * @example
 * const files = await toTfjsLayers(await loadModel('test/fixtures/keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5'));
 * JSON.parse(files['model.json']).format // 'layers-model'
 */
export async function toTfjsLayers(model: ActmaxModel): Promise<TfjsLayersFiles> {
  const net = model.net;
  if (!Array.isArray((net as tf.LayersModel).layers)) {
    throw new ActmaxError('unsupported', `${model.source} is a TF.js graph model; it cannot become a layers model — serve its model.json and weights as they are`);
  }
  let artifacts: tf.io.ModelArtifacts | null = null;
  await (net as tf.LayersModel).save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as unknown as tf.io.ModelArtifacts;
  const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]));
  const json = {
    format: 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: `actmax (from ${model.format}${model.kerasVersion ? `, Keras ${model.kerasVersion}` : ''})`,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    userDefinedMetadata: { ...model.metadata, convertedFrom: { format: model.format, kerasVersion: model.kerasVersion ?? null, source: model.source.split(/[\\/]/).pop() } },
  };
  return { 'model.json': JSON.stringify(json), 'weights.bin': data };
}
