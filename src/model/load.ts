import type * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { loadModelFiles, type ModelFiles } from './formats.js';
import { describeModel } from './describe.js';
import type { ActmaxModel } from './types.js';

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
 * const model = await loadModel('models/fashion-mnist-mlp');           // directory with model.json
 * const keras = await loadModel('my_model.keras');
 * const web = await loadModel('https://example.org/model/model.json');
 */
export async function loadModel(source: ModelSource): Promise<ActmaxModel> {
  const files = await resolveSource(source);
  const loaded = await loadModelFiles(files, files.mainName);
  return describeModel(loaded, typeof source === 'string' ? source : source instanceof URL ? source.href : files.mainName);
}

async function resolveSource(source: ModelSource): Promise<ModelFiles> {
  if (typeof source === 'object' && !(source instanceof URL)) return memoryFiles(source.files, source.main);
  const href = source instanceof URL ? source.href : source;
  if (/^https?:\/\//i.test(href)) return urlFiles(href);
  if (/^file:\/\//i.test(href)) {
    const { fileURLToPath } = await import('node:url');
    return pathFiles(fileURLToPath(href));
  }
  return pathFiles(href);
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
      res = await fetch(u);
    } catch (e) {
      throw new ActmaxError('file-unreadable', `cannot fetch ${u}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ActmaxError('file-not-found', `cannot fetch ${u}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  return { main: await get(href), mainName: href, readSibling: (rel) => get(new URL(rel, href).href) };
}

async function pathFiles(p: string): Promise<ModelFiles> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let stat;
  try {
    stat = await fs.stat(p);
  } catch {
    throw new ActmaxError('file-not-found', `model file not found: ${p}`);
  }
  let file = p;
  if (stat.isDirectory()) {
    file = path.join(p, 'model.json');
    try {
      await fs.access(file);
    } catch {
      throw new ActmaxError('file-not-found', `${p} is a directory without model.json; give model.json, a .keras or a .h5 file`);
    }
  }
  const read = async (f: string, what: string) => {
    try {
      return new Uint8Array(await fs.readFile(f));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ActmaxError('file-not-found', what);
      throw new ActmaxError('file-unreadable', `cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const dir = path.dirname(file);
  return {
    main: await read(file, `model file not found: ${file}`),
    mainName: file,
    readSibling: (rel) => {
      const target = path.resolve(dir, rel);
      return read(target, `${file}: weight file "${rel}" is missing (looked for ${target})`);
    },
  };
}

/** Type guard: is this TF.js model a layers model (rather than a graph model)? @example if (isLayersModel(m.net)) m.net.summary() */
export function isLayersModel(net: tf.LayersModel | tf.GraphModel): net is tf.LayersModel {
  return Array.isArray((net as tf.LayersModel).layers);
}
