/**
 * Format detection and dispatch: one entry point that turns a model file's bytes (plus a way to
 * fetch its siblings) into a TF.js model, whatever wrote it. Detection is by content, never by
 * file extension.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedNet, LoadOptions } from './types.js';
import { ActmaxError } from '../errors.js';
import { loadKerasV3 } from './keras/keras-v3.js';
import { loadLegacyH5 } from './keras/legacy-h5.js';
import { loadTfjsGraphModel } from './tfjs/graph-model.js';
import { loadTfjsLayersModel } from './tfjs/layers-model.js';
import { ModelJsonSchema } from './tfjs/manifest.js';
import { validate } from '../io/validate.js';

/**
 * A model's files, wherever they live: the main file's bytes and a way to fetch the files next to
 * it (weight shards) by relative path. The same shape serves Node paths, URLs and dropped files.
 */
export interface ModelFiles {
  /** Bytes of the main file (`.keras`, `.h5`, `model.json`). */
  main: Uint8Array;
  /** The main file's name, for messages. */
  mainName: string;
  /** Bytes of a file next to the main one (e.g. `group1-shard1of1.bin`); rejects when absent. */
  readSibling(relPath: string): Promise<Uint8Array>;
}

/** What a file's content says it is. */
export type DetectedFormat = 'hdf5' | 'zip' | 'tfjs-layers' | 'tfjs-graph';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const EMPTY_ZIP_MAGIC = [0x50, 0x4b, 0x05, 0x06];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** A short, printable description of how a file starts, for "not a model file" messages. */
function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'it is empty';
  const head = bytes.subarray(0, 48);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const printable = /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd');
  if (printable) {
    const firstLine = text.trimStart().split(/\r?\n/)[0].slice(0, 40);
    const html = /^<(!doctype html|html|head|body|\?xml|!--)/i.test(text.trimStart());
    return `it starts with '${firstLine}'${html ? ' (an HTML page?)' : ''}`;
  }
  const hex = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `it starts with bytes ${hex}`;
}

/**
 * Detects a model file's format from its bytes; for JSON also returns the parsed object.
 *
 * @example
 * detectFormat(bytes, 'model.h5').format; // 'hdf5'
 */
export function detectFormat(bytes: Uint8Array, file: string): { format: DetectedFormat; json?: Record<string, unknown> } {
  if (startsWith(bytes, HDF5_MAGIC)) return { format: 'hdf5' };
  if (startsWith(bytes, ZIP_MAGIC)) return { format: 'zip' };
  if (startsWith(bytes, EMPTY_ZIP_MAGIC)) throw new ActmaxError('bad-model', `${file}: an empty zip archive, not a .keras model`);
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b /* { */) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes.subarray(i)));
    } catch (e) {
      throw new ActmaxError('bad-model', `${file}: looks like JSON but does not parse (truncated?): ${(e as Error).message}`);
    }
    const obj = json as Record<string, unknown>;
    const topology = obj.modelTopology as Record<string, unknown> | undefined;
    if (!topology || typeof topology !== 'object') {
      const keras = typeof obj.class_name === 'string' && 'config' in obj;
      throw new ActmaxError(
        'bad-model',
        keras
          ? `${file}: a bare Keras model config without weights; save the whole model (model.save("model.keras")) or convert it with tensorflowjs_converter`
          : `${file}: a JSON file without "modelTopology"; not a TF.js model.json`,
      );
    }
    const checked = validate(ModelJsonSchema, obj, {
      where: file,
      expected: 'a TF.js model.json: {"modelTopology": {…}, "weightsManifest": [...], "format"?: string, "userDefinedMetadata"?: {…}}',
      code: 'bad-model',
    });
    const graph = checked.format === 'graph-model' || Array.isArray(topology.node);
    return { format: graph ? 'tfjs-graph' : 'tfjs-layers', json: checked };
  }
  throw new ActmaxError('bad-model', `${file} is not a model file: ${describeStart(bytes)}; expected a .keras zip, an HDF5 .h5 or a TF.js model.json`);
}

/**
 * Loads a model from its files, detecting the format by content.
 *
 * @example
 * const bytes = new Uint8Array(await fs.readFile('model.keras'));
 * const net = await loadModelFiles({ main: bytes, mainName: 'model.keras', readSibling: (p) => fs.readFile(p) }, 'model.keras');
 */
export async function loadModelFiles(files: ModelFiles, name: string, opts: LoadOptions = {}): Promise<LoadedNet> {
  const { format, json } = detectFormat(files.main, name);
  await tf.ready(); // building a model needs an initialised backend
  switch (format) {
    case 'hdf5':
      return loadLegacyH5(files.main, name);
    case 'zip':
      return loadKerasV3(files.main, name);
    case 'tfjs-layers':
      return loadTfjsLayersModel(json!, files, name);
    case 'tfjs-graph':
      return loadTfjsGraphModel(json!, files, name, opts);
  }
}
