/** Test support (not part of the library API): model files from disk or memory, the fixture folder, backend set-up, vector comparison. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ModelFiles } from '../formats.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export { fixture, fixturePath, skipWithout, listFixtures } from './fixtures.js';

/** ModelFiles for a file on disk; siblings are read relative to its folder. */
export async function filesFromDisk(file: string): Promise<ModelFiles> {
  return {
    main: new Uint8Array(await readFile(file)),
    mainName: path.basename(file),
    readSibling: async (rel) => new Uint8Array(await readFile(path.resolve(path.dirname(file), rel))),
  };
}

/** ModelFiles held in memory (siblings from a map). */
export function filesFromMemory(mainName: string, main: Uint8Array, siblings: Record<string, Uint8Array> = {}): ModelFiles {
  return {
    main,
    mainName,
    readSibling: async (rel) => {
      const s = siblings[rel];
      if (!s) throw new Error(`ENOENT: no such file ${rel}`);
      return s;
    },
  };
}

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend ${name} did not start`);
  }
  await tf.ready();
}

/** max|a − e| / max(1, max|e|): the fixtures' tolerance measure (must be ≤ 1e-4). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let maxAbs = 0;
  let maxE = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
    maxE = Math.max(maxE, Math.abs(expected[i]));
  }
  return Number.isNaN(maxAbs) ? Infinity : maxAbs / Math.max(1, maxE);
}

/** max|a − b| / max|b| (Infinity on a length mismatch): the engines' 1e-5 agreement measure. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return Number.isNaN(worst) ? Infinity : worst;
}
