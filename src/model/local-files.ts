// Model files from this machine's file system (Node). The browser build uses local-files.browser.ts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActmaxError } from '../errors.js';
import type { ModelFiles } from './formats.js';
import { MAX_MODEL_FILE_BYTES } from './limits.js';

/**
 * The files of a model on this machine: a path to model.json (or its directory), a .keras or .h5
 * file, or a file:// URL. Weight files must sit beside the model file.
 *
 * @example
 * const files = await localFiles('models/fashion-mnist-mlp'); // files.mainName === 'models/fashion-mnist-mlp/model.json'
 */
export async function localFiles(source: string): Promise<ModelFiles> {
  const p = /^file:\/\//i.test(source) ? fileURLToPath(source) : source;
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
      // Only regular files of sane size: a FIFO would hang, /dev/zero would never end.
      const st = await fs.stat(f);
      if (!st.isFile()) throw new ActmaxError('file-unreadable', `${f} is not a regular file${f === file ? '' : ` (named by ${file})`}`);
      if (st.size > MAX_MODEL_FILE_BYTES) throw new ActmaxError('bad-model', `${f} is ${st.size} bytes; actmax reads model files up to ${MAX_MODEL_FILE_BYTES} bytes`);
      return new Uint8Array(await fs.readFile(f));
    } catch (e) {
      if (e instanceof ActmaxError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ActmaxError('file-not-found', what);
      throw new ActmaxError('file-unreadable', `cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const dir = path.dirname(file);
  return {
    main: await read(file, `model file not found: ${file}`),
    mainName: file,
    readSibling: async (rel) => {
      const target = path.resolve(dir, rel);
      if (path.relative(dir, target).split(path.sep)[0] === '..' || path.isAbsolute(path.relative(dir, target))) {
        throw new ActmaxError('bad-model', `${file}: weight file "${rel}" lies outside the model's directory; weight files must sit beside the model file`);
      }
      return read(target, `${file}: weight file "${rel}" is missing (looked for ${target})`);
    },
  };
}
