// TEMPORARY minimal TF.js layers-model reader; replaced by the full multi-format reader (branch keras).
import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { checkWeightManifest, oneLine, weightBytes } from './guards.js';
import type { LoadedNet } from './types.js';

/** The main model file's bytes plus a way to read sibling files (weight shards) by relative path. */
export interface ModelFiles {
  main: Uint8Array;
  mainName: string;
  readSibling(relPath: string): Promise<Uint8Array>;
}

/** Read a model from its files, whatever the format. @example await loadModelFiles(files, 'model.json') */
export async function loadModelFiles(files: ModelFiles, name: string): Promise<LoadedNet> {
  let json: { modelTopology?: unknown; weightsManifest?: unknown; userDefinedMetadata?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(files.main));
  } catch (e) {
    throw new ActmaxError('bad-model', `${name} is not a TF.js model.json (${oneLine((e as Error).message)}); give model.json with its weight files, a .keras or a .h5 file`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json) || !json.modelTopology || typeof json.modelTopology !== 'object') {
    throw new ActmaxError('bad-model', `${name} is JSON but not a TF.js model.json (no "modelTopology" object)`);
  }
  const groups = checkWeightManifest(json.weightsManifest, name);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of groups) {
    for (const p of group.paths) buffers.push(await files.readSibling(p));
    specs.push(...group.weights);
  }
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const expected = specs.reduce((s, w) => s + weightBytes(w), 0);
  if (total !== expected) {
    throw new ActmaxError('bad-model', `${name}: the weights manifest describes ${expected} bytes of weights, the weight files hold ${total}; the files are damaged or do not belong together`);
  }
  const data = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) { data.set(b, off); off += b.byteLength; }
  const metadata = json.userDefinedMetadata && typeof json.userDefinedMetadata === 'object' && !Array.isArray(json.userDefinedMetadata) ? (json.userDefinedMetadata as Record<string, unknown>) : {};
  try {
    const net = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer, userDefinedMetadata: metadata }));
    return { net, format: 'tfjs-layers', metadata, notes: [] };
  } catch (e) {
    throw new ActmaxError('bad-model', `${name}: ${oneLine((e as Error)?.message ?? String(e))}`);
  }
}
