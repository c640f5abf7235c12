/**
 * Test support: where a real model fixture lives. The repository carries the fixtures whose licence
 * allows it (test/fixtures, see its PROVENANCE.md); the others exist only in ../shared/fixtures
 * beside a checkout (CI has it, a fresh clone does not). Tests ask `fixture(rel)` and skip, with
 * one printed line saying why, when it answers null.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Fixtures the repository carries (licence permitting). */
export const repoFixturesDir = path.join(repoRoot, 'test', 'fixtures');
/** All fixtures, outside the repository; absent in a fresh clone. */
export const sharedFixturesDir = path.resolve(repoRoot, '../shared/fixtures');

/** The fixture folders, in the order they are searched. */
export function fixtureRoots(): string[] {
  return [repoFixturesDir, sharedFixturesDir].filter((d) => existsSync(d));
}

/**
 * The path of fixture `rel` (relative to a fixtures folder): the repository's copy if there is one,
 * else the one in ../shared/fixtures, else null.
 * @example
 * const file = fixture('tfjs-layers-abalone-mlp/model.json'); // '/…/test/fixtures/tfjs-layers-abalone-mlp/model.json'
 * const none = fixture('no-such/model.json'); // null
 */
export function fixture(rel: string): string | null {
  for (const root of fixtureRoots()) {
    const p = path.join(root, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Like {@link fixture}, for a test that has already been skipped when it is missing. */
export function fixturePath(rel: string): string {
  const p = fixture(rel);
  if (!p) throw new Error(`fixture ${rel} is missing: guard the test with skipWithout('${rel}')`);
  return p;
}

const announced = new Set<string>();

/**
 * '' when every fixture named is found; otherwise the reason to skip (for the test's title), printed
 * once per fixture so that a run without ../shared/fixtures says what it left out.
 * @example
 * const why = skipWithout('keras2-h5-hls4ml/keras_conv2d_model.h5');
 * it.skipIf(why)(`loads the hls4ml CNN${why}`, async () => { … });
 */
export function skipWithout(...rels: string[]): string {
  const missing = rels.filter((r) => !fixture(r));
  if (missing.length === 0) return '';
  const why = ` [skipped: needs ${missing.join(', ')} from ../shared/fixtures, not redistributable so not in test/fixtures]`;
  for (const m of missing) {
    if (announced.has(m)) continue;
    announced.add(m);
    console.log(`skipped: tests that need ${m}: ../shared/fixtures is not beside this checkout (fixture without a redistribution licence)`);
  }
  return why;
}

/**
 * Every file under the fixture folders whose name passes `keep`, as paths relative to a fixtures
 * folder (a file in both folders is listed once, the repository's copy winning), sorted.
 */
export function listFixtures(keep: (name: string) => boolean): string[] {
  const seen = new Set<string>();
  const walk = (root: string, dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(root, p);
      else if (keep(e.name)) seen.add(path.relative(root, p));
    }
  };
  for (const root of fixtureRoots()) walk(root, root);
  return [...seen].sort();
}

/**
 * '' when long tests run (ACTMAX_LONG_TESTS=1: `.ci/run` sets it for the full suite); otherwise the
 * reason to skip, for the test's title, printed once. Long tests are the real-model-size checks
 * (nanodet's 416×416 input: ≈ 7–11 CPU s each) that a plain `npm test` leaves out to stay within
 * 3 minutes on 2 cores.
 * @example
 * const why = skipUnlessLong('nanodet at 416×416');
 * it.skipIf(why)(`nanodet${why}`, async () => { … });
 */
export function skipUnlessLong(what: string): string {
  if (process.env.ACTMAX_LONG_TESTS === '1') return '';
  if (!announced.has(`long:${what}`)) {
    announced.add(`long:${what}`);
    console.log(`skipped: ${what} (a long test: ACTMAX_LONG_TESTS=1 runs it, as .ci/run does)`);
  }
  return ' [skipped: long test, ACTMAX_LONG_TESTS=1 runs it]';
}
