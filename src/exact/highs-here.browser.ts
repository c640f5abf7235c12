import type { Highs } from 'highs';
import { highsLocation } from './solver-thread.browser.js';

/**
 * HiGHS in the calling thread of a browser build (a compute worker): imports `highs.mjs` and its
 * WebAssembly from the folder set by `setHighsLocation`. The web build aliases highs-here.ts here.
 */
let loading: Promise<Highs> | null = null;

/**
 * The `highs` module, loaded in this thread (once).
 *
 * @example
 * const highs = await loadHighsHere();
 */
export function loadHighsHere(): Promise<Highs> {
  if (!loading) {
    const base = highsLocation();
    loading = import(/* @vite-ignore */ new URL('highs.mjs', base).href).then((mod: { default: (o: object) => Promise<Highs> }) =>
      mod.default({ locateFile: (file: string) => new URL(file, base).href }),
    );
  }
  return loading;
}
