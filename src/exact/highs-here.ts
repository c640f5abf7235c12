import { createRequire } from 'node:module';
import type { Highs } from 'highs';
import { ActmaxError } from '../errors.js';

/**
 * HiGHS in the calling thread (for small LPs that must answer synchronously: region LPs of the
 * branch-and-bound and of the polish step). This is the Node variant; the web build aliases it to
 * highs-here.browser.ts. The module is loaded once per thread and kept.
 */
let loading: Promise<Highs> | null = null;

/**
 * The `highs` module, loaded in this thread (once).
 *
 * @example
 * const highs = await loadHighsHere();
 * const model = highs.createModel();
 */
export function loadHighsHere(): Promise<Highs> {
  if (!loading) {
    let load: () => Promise<Highs>;
    try {
      load = createRequire(import.meta.url)('highs') as () => Promise<Highs>;
    } catch {
      throw new ActmaxError('unsupported', 'exact mode needs the npm package "highs"; install it with npm install highs');
    }
    loading = load();
  }
  return loading;
}
