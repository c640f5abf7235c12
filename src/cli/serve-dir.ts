import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ActmaxError } from '../errors.js';
import { handle, listen, type RunningServer } from './serve.js';

/** The file types an atlas folder holds; nothing else in the folder is served. */
const SERVED_EXT = new Set(['.html', '.css', '.png', '.json', '.svg', '.gif', '.csv', '.txt']);

/**
 * The file a cleaned request path names inside `root`, or undefined: only allowed file types,
 * no hidden segment (temporary files of atomic writes start with a dot), and — after following
 * links — a regular file inside the folder.
 */
export function fileInside(root: string, key: string): string | undefined {
  const segments = key.split('/').slice(1);
  if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined;
  if (!SERVED_EXT.has(path.extname(key).toLowerCase())) return undefined;
  const abs = path.join(root, ...segments);
  try {
    const real = realpathSync(abs);
    if (!real.startsWith(root + path.sep) || !statSync(real).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/**
 * Serve a folder of static pages (an atlas made by `actmax atlas --out DIR`) on 127.0.0.1 unless
 * told otherwise. Files are looked up per request — an atlas that is still running gains pages —
 * under the same rules as the playground: one decoding, no dot segments or traversal, no
 * listings; plus only page, picture and data file types, no hidden files, nothing reached through
 * a link that leaves the folder.
 *
 * @example
 * const { url, close } = await startDirServer({ dir: 'atlas-out', port: 8080 });
 */
export async function startDirServer(options: { dir: string; port?: number; host?: string; log?: (line: string) => void }): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ActmaxError('bad-option', `port must be an integer 0–65535, got ${options.port}`);
  let root: string;
  try {
    root = realpathSync(path.resolve(options.dir));
  } catch {
    throw new ActmaxError('file-not-found', `${options.dir} does not exist; give an atlas folder (actmax atlas MODEL --out DIR)`);
  }
  if (!fileInside(root, '/index.html')) throw new ActmaxError('file-not-found', `${options.dir} has no index.html; give an atlas folder (actmax atlas MODEL --out DIR)`);
  return listen((req, res) => handle(req, res, (key) => fileInside(root, key)), host, port, options.log ?? console.log, `serving ${options.dir}`);
}
