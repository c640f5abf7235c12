// Files with a Node and a browser variant (src/x.ts and src/x.browser.ts), as package.json's
// "browser" field lists them for the published dist/. The web build (web/vite.config.ts) and the
// browser-entry test (test/browser-entry.test.ts) apply the same swap to the TypeScript sources.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Absolute src/ path of each Node file → its browser twin, from package.json's "browser" field.
 * @example
 * browserTwins().get('/repo/src/exact/solver-thread.ts') // '/repo/src/exact/solver-thread.browser.ts'
 */
export function browserTwins(root = repoRoot): Map<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { browser?: Record<string, string> };
  const toSrc = (dist: string) => path.join(root, dist.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
  return new Map(Object.entries(pkg.browser ?? {}).map(([from, to]) => [toSrc(from), toSrc(to)]));
}

/**
 * The browser twin of a relative import `source` made from `importer`, or null.
 * @example
 * twinOf('./solver-thread.js', '/repo/src/exact/highs.ts') // '/repo/src/exact/solver-thread.browser.ts'
 */
export function twinOf(source: string, importer: string, twins = browserTwins()): string | null {
  if (!source.startsWith('.')) return null;
  const abs = path.resolve(path.dirname(importer), source).replace(/\.js$/, '.ts');
  return twins.get(abs) ?? null;
}
