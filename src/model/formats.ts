// TEMPORARY minimal TF.js layers-model reader; replaced by the full multi-format reader (branch keras).
import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { LoadedNet } from './types.js';

/** The main model file's bytes plus a way to read sibling files (weight shards) by relative path. */
export interface ModelFiles {
  main: Uint8Array;
  mainName: string;
  readSibling(relPath: string): Promise<Uint8Array>;
}

/** Read a model from its files, whatever the format. @example await loadModelFiles(files, 'model.json') */
export async function loadModelFiles(files: ModelFiles, name: string): Promise<LoadedNet> {
  const json = JSON.parse(new TextDecoder().decode(files.main));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) buffers.push(await files.readSibling(p));
    specs.push(...group.weights);
  }
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) { data.set(b, off); off += b.byteLength; }
  try {
    const net = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer, userDefinedMetadata: json.userDefinedMetadata }));
    return { net, format: 'tfjs-layers', metadata: json.userDefinedMetadata ?? {}, notes: [] };
  } catch (e) {
    throw new ActmaxError('bad-model', `${name}: ${(e as Error).message}`);
  }
}
