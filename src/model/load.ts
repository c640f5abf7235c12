import type * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { loadModelFiles, type ModelFiles } from './formats.js';
import { describeModel } from './describe.js';
import { checkFiniteOutputs, checkFiniteWeights, oneLine } from './guards.js';
import type { ActmaxModel, LoadedNet, LoadOptions } from './types.js';
// Node reads paths and file:// URLs; the browser build swaps in local-files.browser.ts (package.json "browser").
import { localFiles } from './local-files.js';

import { MAX_MODEL_FILE_BYTES } from './limits.js';

export { MAX_MODEL_FILE_BYTES };
/** How long one HTTP request for a model file may take. */
const FETCH_TIMEOUT_MS = 60_000;

/**
 * Where a model can come from: a file path, a directory holding `model.json`, an http(s) or
 * file URL, or files already in memory (e.g. dropped in a browser): `{ files: { 'model.json': bytes,
 * 'weights.bin': bytes }, main?: 'model.json' }`.
 */
export type ModelSource =
  | string
  | URL
  | { files: Record<string, Uint8Array | ArrayBuffer>; main?: string };

const MAIN_NAMES = ['model.json', '.keras', '.h5', '.hdf5'];

/**
 * Load a model (TF.js layers or graph model, Keras `.keras`, Keras `.h5`) for maximisation.
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');            // a directory with model.json
 * const same = await loadModel('models/fashion-mnist-mlp/model.json');  // or the file itself
 * const h5 = await loadModel('test/fixtures/keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5'); // Keras .h5 (and .keras, http(s) URLs)
 * h5.format // 'keras-h5'
 * const faces = await loadModel('test/fixtures/tfjs-graph-realworld/faceboxes', { inputShape: [96, 96] }); // a free image size
 * faces.inputs[0].shape // [96, 96, 3]
 */
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<ActmaxModel> {
  checkLoadOptions(options);
  const files = await resolveSource(source);
  const name = files.mainName;
  let loaded: LoadedNet;
  try {
    loaded = await loadModelFiles(files, name, options);
  } catch (e) {
    throw asLoadError(e, name);
  }
  try {
    // Graph models may hold legitimate non-finite constants (a −∞ pad before max pooling): the
    // output probe below is what catches their damage.
    if (isLayersModel(loaded.net)) checkFiniteWeights(namedWeights(loaded.net), name);
    const model = describeModel(loaded, typeof source === 'string' ? source : source instanceof URL ? source.href : name, options);
    await checkFiniteOutputs(model, name);
    return model;
  } catch (e) {
    loaded.net.dispose();
    throw asLoadError(e, name);
  }
}

function checkLoadOptions(o: LoadOptions): void {
  if (o.inputShape !== undefined && (!Array.isArray(o.inputShape) || o.inputShape.length < 2 || o.inputShape.length > 3 || o.inputShape.some((d) => !Number.isInteger(d) || d < 1 || d > 16384))) {
    throw new ActmaxError('bad-option', `input shape ${JSON.stringify(o.inputShape)} is not H,W or H,W,C with positive integer sizes (e.g. 224,224)`);
  }
  if (o.layout !== undefined && o.layout !== 'nchw' && o.layout !== 'nhwc') throw new ActmaxError('bad-option', `layout "${String(o.layout)}" is not nchw or nhwc`);
}

/**
 * Last line of defence for hostile files: an error that is not an ActmaxError escaped a format
 * reader (a third-party parser choking on damaged bytes). The user gets one line naming the file;
 * the original stays in `cause`, and the fuzzer (`npm run fuzz`) counts these so they get a
 * proper check at the source.
 */
function asLoadError(e: unknown, name: string): ActmaxError {
  if (e instanceof ActmaxError) {
    const flat = oneLine(e.message);
    return flat === e.message ? e : Object.assign(new ActmaxError(e.code, flat), { cause: e });
  }
  if (e instanceof RangeError && /allocat|memory|Invalid (typed )?array length/i.test(e.message)) {
    return Object.assign(new ActmaxError('bad-model', `${name}: the file asks for more memory than is available (${oneLine(e.message)}); it is damaged or far larger than actmax handles`), { cause: e });
  }
  const err = e as Error;
  return Object.assign(new ActmaxError('bad-model', `${name}: cannot be read as a model (${err?.name ?? 'Error'}: ${oneLine(String(err?.message ?? e))})`), { cause: e });
}

/** Every weight tensor of a layers or graph model, with its name. */
function namedWeights(net: tf.LayersModel | tf.GraphModel): Array<{ name: string; dataSync(): ArrayLike<number> }> {
  if (isLayersModel(net)) return net.weights.map((w) => ({ name: w.name, dataSync: () => w.read().dataSync() as ArrayLike<number> }));
  const map = (net as tf.GraphModel).weights as Record<string, tf.Tensor[]>;
  return Object.entries(map).flatMap(([name, ts]) => ts.filter((t) => t.dtype === 'float32').map((t) => ({ name, dataSync: () => t.dataSync() as ArrayLike<number> })));
}

async function resolveSource(source: ModelSource): Promise<ModelFiles> {
  if (typeof source === 'object' && !(source instanceof URL)) return memoryFiles(source.files, source.main);
  const href = source instanceof URL ? source.href : source;
  if (/^https?:\/\//i.test(href)) return urlFiles(href);
  return localFiles(href);
}

function memoryFiles(files: Record<string, Uint8Array | ArrayBuffer>, main?: string): ModelFiles {
  const names = Object.keys(files);
  const mainName = main ?? names.find((n) => n.endsWith('model.json')) ?? names.find((n) => MAIN_NAMES.some((m) => n.endsWith(m))) ?? names[0];
  if (!mainName || !(mainName in files)) {
    throw new ActmaxError('file-not-found', `no model file among the given files (${names.join(', ') || 'none'}); give model.json, a .keras or a .h5 file`);
  }
  const bytes = (n: string) => { const b = files[n]; return b instanceof Uint8Array ? b : new Uint8Array(b); };
  return {
    main: bytes(mainName),
    mainName,
    async readSibling(rel: string) {
      const clean = rel.replace(/^\.\//, '');
      const hit = names.find((n) => n === clean || n.endsWith('/' + clean));
      if (!hit) throw new ActmaxError('file-not-found', `${mainName}: weight file "${rel}" is missing; drop it together with the model file`);
      return bytes(hit);
    },
  };
}

async function urlFiles(href: string): Promise<ModelFiles> {
  const get = async (u: string): Promise<Uint8Array> => {
    let res: Response;
    try {
      res = await fetch(u, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (e) {
      throw new ActmaxError('file-unreadable', `cannot fetch ${u}: ${oneLine((e as Error).message)}`);
    }
    if (!res.ok) throw new ActmaxError('file-not-found', `cannot fetch ${u}: HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_MODEL_FILE_BYTES) throw new ActmaxError('bad-model', `${u} is ${declared} bytes; actmax reads model files up to ${MAX_MODEL_FILE_BYTES} bytes`);
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new ActmaxError('file-unreadable', `cannot fetch ${u}: ${oneLine((e as Error).message)}`);
    }
  };
  return { main: await get(href), mainName: href, readSibling: (rel) => get(new URL(rel, href).href) };
}

/** Type guard: is this TF.js model a layers model (rather than a graph model)? @example if (isLayersModel(m.net)) m.net.summary() */
export function isLayersModel(net: tf.LayersModel | tf.GraphModel): net is tf.LayersModel {
  return Array.isArray((net as tf.LayersModel).layers);
}
