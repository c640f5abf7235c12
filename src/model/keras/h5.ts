/**
 * Reading HDF5 bytes with h5wasm through its in-memory file system (works the same in Node and in
 * the browser), with size checks before any dataset is read.
 */
import type { Dataset, File as H5File, Group } from 'h5wasm';
import { ActmaxError } from '../../errors.js';
import { MAX_FLOATS, shapeSize, toFloat32 } from './build.js';

let nextFileId = 0;
type H5wasm = typeof import('h5wasm').default;
let readyModule: Promise<{ h5wasm: H5wasm; m: Awaited<H5wasm['ready']> }> | null = null;

/** h5wasm (4 MB of JavaScript and WebAssembly) loads on the first HDF5 file, not with the model loaders. */
async function h5Module(): Promise<{ h5wasm: H5wasm; m: Awaited<H5wasm['ready']> }> {
  if (!readyModule) {
    readyModule = import('h5wasm').then(async ({ default: h5wasm }) => {
      const m = await h5wasm.ready;
      // Throw HDF5 errors as exceptions instead of printing them to stderr.
      m.activate_throwing_error_handler();
      return { h5wasm, m };
    });
  }
  return readyModule;
}

/**
 * Opens HDF5 bytes, runs `fn` on the file, then closes and deletes it from the in-memory FS.
 *
 * @example
 * const version = await withH5(bytes, 'model.h5', (f) => readStringAttr(f, 'keras_version'));
 */
export async function withH5<T>(bytes: Uint8Array, file: string, fn: (f: H5File) => T | Promise<T>): Promise<T> {
  const { h5wasm, m } = await h5Module();
  const path = `/actmax-${Date.now().toString(36)}-${nextFileId++}.h5`;
  m.FS!.writeFile(path, bytes);
  let f: H5File;
  try {
    f = new h5wasm.File(path, 'r');
  } catch (e) {
    m.FS!.unlink(path);
    throw new ActmaxError('bad-model', `${file}: not a readable HDF5 file (truncated or corrupted?): ${firstLine(e)}`);
  }
  try {
    return await fn(f);
  } catch (e) {
    // h5wasm throws plain Errors (HDF5 diagnostics) when a damaged structure is read lazily.
    if (e instanceof ActmaxError || !(e instanceof Error) || !/HDF5|H5[A-Z]/.test(e.message)) throw e;
    throw new ActmaxError('bad-model', `${file}: cannot read the HDF5 file (truncated or corrupted?): ${firstLine(e)}`);
  } finally {
    try {
      f.close();
    } catch {
      /* already failed; nothing more to free */
    }
    m.FS!.unlink(path);
  }
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  // h5wasm's error text starts with the HDF5 diagnostic banner; the last "minor:" line says why.
  const minor = lines.filter((l) => l.startsWith('minor:')).pop();
  return minor ? minor.replace(/^minor:\s*/, '') : (lines[0] ?? 'unknown error');
}

/** An attribute as a string (or undefined when absent). @example readStringAttr(f, 'keras_version') */
export function readStringAttr(obj: H5File | Group | Dataset, name: string): string | undefined {
  const attr = obj.attrs[name];
  if (!attr) return undefined;
  const v = attr.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return v == null ? undefined : String(v);
}

/** An attribute as a list of strings; empty for an absent or empty attribute. @example readStringListAttr(g, 'weight_names') */
export function readStringListAttr(obj: H5File | Group | Dataset, name: string): string[] {
  const attr = obj.attrs[name];
  if (!attr) return [];
  const v = attr.value;
  if (v == null || v === '') return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x)));
  return [];
}

/** The entity at `path`, or null (never throws for a missing path). */
export function getEntity(f: H5File | Group, path: string): ReturnType<Group['get']> {
  try {
    return f.get(path);
  } catch {
    return null;
  }
}

/**
 * Reads a dataset as float32, refusing it before reading when its declared size exceeds the
 * budget.
 *
 * @example
 * const { shape, data } = readDataset(f.get('layers/dense/vars/0') as Dataset, 'm.keras', notes);
 */
export function readDataset(ds: Dataset, file: string, notes: string[]): { shape: number[]; data: Float32Array } {
  const shape = ds.shape ?? [];
  const size = shapeSize(shape);
  if (!Number.isFinite(size) || size > MAX_FLOATS) {
    throw new ActmaxError('bad-model', `${file}: dataset ${ds.path} claims shape [${shape.join(', ')}]; more than ${MAX_FLOATS} values is refused`);
  }
  let value: unknown;
  try {
    value = ds.value;
  } catch (e) {
    throw new ActmaxError('bad-model', `${file}: cannot read dataset ${ds.path} (truncated or corrupted file?): ${firstLine(e)}`);
  }
  if (typeof value === 'number' || typeof value === 'bigint') value = [value];
  if (!value || typeof (value as ArrayLike<number>).length !== 'number' || typeof value === 'string') {
    throw new ActmaxError('bad-model', `${file}: dataset ${ds.path} does not hold numbers`);
  }
  const data = toFloat32(value as ArrayLike<number>, notes, file);
  if (data.length !== size) {
    throw new ActmaxError('bad-model', `${file}: dataset ${ds.path} has ${data.length} values but shape [${shape.join(', ')}]`);
  }
  return { shape, data };
}

export type { Dataset, H5File, Group };
