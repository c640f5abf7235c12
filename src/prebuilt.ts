/**
 * Worker threads started from the TypeScript sources load their entry through tsx, which
 * transpiles every module again in each thread. A test run transpiles src/ once into a scratch
 * directory (test/helpers/prebuild.ts) and names it in ACTMAX_PREBUILT; threads load that instead.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SOURCE_ROOT = path.dirname(fileURLToPath(import.meta.url));

/**
 * The URL of the test run's JavaScript build (in `dir`, by default ACTMAX_PREBUILT) of a source
 * module (a `.ts` file under src/), or undefined when there is none.
 * @example
 * prebuiltModule(new URL('./atlas/thread.ts', import.meta.url).href); // a file:// URL in a test run, else undefined
 */
export function prebuiltModule(sourceUrl: string, dir = process.env.ACTMAX_PREBUILT): string | undefined {
  if (!dir) return undefined;
  const file = fileURLToPath(new URL(new URL(sourceUrl).pathname, 'file:'));
  const rel = path.relative(SOURCE_ROOT, file);
  if (rel.startsWith('..') || !rel.endsWith('.ts')) return undefined;
  const built = path.join(dir, rel.replace(/\.ts$/, '.js'));
  return existsSync(built) ? pathToFileURL(built).href : undefined;
}
