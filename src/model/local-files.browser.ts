// In a browser there is no file system: a model comes from an http(s) URL or from files in memory.
import { ActmaxError } from '../errors.js';
import type { ModelFiles } from './formats.js';

/**
 * The browser twin of local-files.ts: a path cannot be read here, so say what can.
 *
 * @example
 * await localFiles('model.json'); // throws: … in a browser, give an http(s) URL or the files themselves
 */
export async function localFiles(source: string): Promise<ModelFiles> {
  throw new ActmaxError('file-not-found', `cannot read "${source}" in a browser: give an http(s) URL or the files themselves ({ files: { 'model.json': bytes, … } })`);
}
