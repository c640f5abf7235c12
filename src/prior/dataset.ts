/**
 * Stored priors on disk (Node): the prior stored with a model (`dataset`) and priors computed
 * from example inputs, cached next to them.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel, InputInfo } from '../model/types.js';
import { parseInputBytes } from '../io/inputs.js';
import { writeFileAtomic } from '../io/atomic.js';
import { buildStoredPrior, decodeStoredPrior, encodeStoredPrior, type StoredPrior } from './store.js';

import { PRIOR_FILE } from './fetch.js';

export { PRIOR_FILE };
/** Components kept when a prior is computed from examples (fewer when the examples span fewer). */
export const EXAMPLE_PRIOR_COMPONENTS = 64;

/**
 * Where the prior of a model lives: `prior.json` in the folder of its model.json, or
 * `NAME.prior.json` beside a single-file model (.keras, .h5); null for URLs.
 *
 * @example
 * await datasetPriorPath('models/fashion-mnist-mlp') // 'models/fashion-mnist-mlp/prior.json'
 */
export async function datasetPriorPath(modelSource: string): Promise<string | null> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(modelSource) && !modelSource.startsWith('file://')) return null;
  const p = modelSource.startsWith('file://') ? new URL(modelSource).pathname : modelSource;
  const stat = await fs.stat(p).catch(() => null);
  if (stat?.isDirectory()) return path.join(p, PRIOR_FILE);
  if (path.basename(p) === 'model.json') return path.join(path.dirname(p), PRIOR_FILE);
  return p.replace(/\.[^./\\]+$/, '') + '.' + PRIOR_FILE;
}

/**
 * Reads a stored prior (JSON header + the binary it names).
 *
 * @example
 * const stored = await readStoredPrior('models/fashion-mnist-mlp/prior.json');
 * stored.components // 64
 */
export async function readStoredPrior(file: string): Promise<StoredPrior> {
  let header: unknown;
  try {
    header = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ActmaxError(code === 'ENOENT' ? 'file-not-found' : 'bad-input', code === 'ENOENT' ? `prior not found: ${file}` : `${file} is not valid JSON: ${(e as Error).message}`);
  }
  const name = (header as { binary?: unknown })?.binary;
  if (typeof name !== 'string' || name.includes('/') || name.includes('\\')) throw new ActmaxError('bad-input', `${file}: "binary" must name a file in the same folder`);
  const bin = await fs.readFile(path.join(path.dirname(file), name)).catch(() => {
    throw new ActmaxError('file-not-found', `${file} names ${name}, which is missing`);
  });
  return decodeStoredPrior(header, new Uint8Array(bin), file);
}

/**
 * The prior stored with a model (`--prior dataset`); a one-line error when it has none.
 *
 * @example
 * const { stored, file } = await loadDatasetPrior(model);
 */
export async function loadDatasetPrior(model: ActmaxModel): Promise<{ stored: StoredPrior; file: string }> {
  const file = await datasetPriorPath(model.source);
  const exists = file ? await fs.stat(file).then(() => true, () => false) : false;
  if (!file || !exists) {
    throw new ActmaxError('file-not-found', `model ${model.source} stores no data prior (${file ?? 'a URL has none'}); give example inputs instead, e.g. --prior examples/:subspace:16`);
  }
  return { stored: await readStoredPrior(file), file };
}

const EXAMPLE_EXTENSIONS = new Set(['.png', '.json', '.csv']);

/**
 * Reads example inputs for `input` as `predict` reads inputs: a folder of .png/.json/.csv files
 * (one example each), a JSON file holding an array of examples (or `{"examples": [{"input": …}]}`),
 * or a CSV file with one example per row (a header row is allowed).
 *
 * @example
 * const { data, count } = await readExamples('shirts/', model, model.inputs[0]);
 */
export async function readExamples(source: string, model: ActmaxModel, input: InputInfo): Promise<{ data: Float32Array; count: number; bytes: Uint8Array[] }> {
  const n = input.shape.reduce((a, b) => a * b, 1);
  const stat = await fs.stat(source).catch(() => null);
  if (!stat) throw new ActmaxError('file-not-found', `examples not found: ${source}`);
  const rows: Float32Array[] = [];
  const bytes: Uint8Array[] = [];
  if (stat.isDirectory()) {
    const names = (await fs.readdir(source)).filter((f) => EXAMPLE_EXTENSIONS.has(path.extname(f).toLowerCase()) && !f.startsWith('.')).sort();
    for (const name of names) {
      const b = new Uint8Array(await fs.readFile(path.join(source, name)));
      bytes.push(b);
      rows.push(parseInputBytes(b, name, model, input)[input.name]);
    }
  } else {
    const b = new Uint8Array(await fs.readFile(source));
    bytes.push(b);
    rows.push(...manyFromFile(b, source, model, input, n));
  }
  if (rows.length < 2) throw new ActmaxError('bad-input', `${source} holds ${rows.length} example(s); a prior needs at least 2 (a folder of .png/.json/.csv files, or a JSON array / CSV rows of examples)`);
  const data = new Float32Array(rows.length * n);
  rows.forEach((r, i) => {
    if (r.length !== n) throw new ActmaxError('bad-input', `${source}: example ${i} has ${r.length} values; input "${input.name}" needs ${n}`);
    data.set(r, i * n);
  });
  return { data, count: rows.length, bytes };
}

function manyFromFile(bytes: Uint8Array, file: string, model: ActmaxModel, input: InputInfo, n: number): Float32Array[] {
  const ext = path.extname(file).toLowerCase();
  const text = new TextDecoder().decode(bytes);
  if (ext === '.csv') {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    const body = lines.filter((l) => l.split(',').every((c) => c.trim() !== '' && Number.isFinite(Number(c))));
    return body.map((l, i) => parseInputBytes(new TextEncoder().encode(l), `${file} row ${i + 1}.csv`, model, input)[input.name]);
  }
  if (ext === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ActmaxError('bad-input', `${file} is not valid JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(json) ? json : (json as { examples?: unknown })?.examples;
    if (!Array.isArray(list) || list.length === 0 || typeof list[0] === 'number') {
      throw new ActmaxError('bad-input', `${file}: expected an array of examples (each a flat or nested array of ${n} numbers) or {"examples": [{"input": […]}, …]}`);
    }
    return list.map((e, i) => {
      const values = e && typeof e === 'object' && !Array.isArray(e) && 'input' in e ? (e as { input: unknown }).input : e;
      return parseInputBytes(new TextEncoder().encode(JSON.stringify(values)), `${file} example ${i}.json`, model, input)[input.name];
    });
  }
  return [parseInputBytes(bytes, file, model, input)[input.name]];
}

/**
 * The stored prior of a set of examples: read from the cache next to them when it matches their
 * content (sha256), else computed (PCA, quantiles) and cached — `.actmax-prior.json` inside a
 * folder, `FILE.actmax-prior.json` beside a file.
 *
 * @example
 * // A folder of .png/.json/.csv inputs, or one JSON/CSV file of many (cached beside it):
 * const { stored, cached } = await examplesPrior('models/fashion-mnist-mlp/examples.json', model, model.inputs[0]);
 */
export async function examplesPrior(source: string, model: ActmaxModel, input: InputInfo): Promise<{ stored: StoredPrior; file: string; cached: boolean }> {
  const { data, count, bytes } = await readExamples(source, model, input);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ shape: input.shape, range: input.range }));
  bytes.forEach((b) => hash.update(b));
  const digest = hash.digest('hex').slice(0, 16);
  const isDir = (await fs.stat(source)).isDirectory();
  const file = isDir ? path.join(source, '.actmax-prior.json') : `${source}.actmax-prior.json`;
  try {
    const header = JSON.parse(await fs.readFile(file, 'utf8')) as { contentHash?: string };
    if (header.contentHash === digest) return { stored: await readStoredPrior(file), file, cached: true };
  } catch {
    // No cache yet (or an unreadable one): compute.
  }
  const k = Math.min(EXAMPLE_PRIOR_COMPONENTS, input.shape.reduce((a, b) => a * b, 1), count - 1);
  const stored = buildStoredPrior(data, count, input.shape, k, `${count} examples from ${source}`);
  const binaryName = path.basename(file).replace(/\.json$/, '.bin');
  const { header, binary } = encodeStoredPrior(stored, binaryName);
  try {
    await writeFileAtomic(path.join(path.dirname(file), binaryName), binary);
    await writeFileAtomic(file, JSON.stringify({ ...header, contentHash: digest }) + '\n');
  } catch {
    // A read-only folder: the prior still works, it is just not cached.
  }
  return { stored, file, cached: false };
}
