/**
 * Vitest globalSetup: transpiles src/ once per test run (esbuild, one file in → one file out, the
 * same transform tsx applies) into a scratch directory beside src/, and names it in
 * ACTMAX_PREBUILT for the test processes and their children. bin/actmax.js and the atlas / bnb
 * worker threads then load that JavaScript instead of registering tsx and transpiling the sources
 * again in every child (≈ 1.5 CPU s per CLI run). The build is made from the current sources by
 * this run (again before each rerun in watch mode) and removed at its end, so no child runs stale
 * code. Tests that must exercise the tsx path spawn without the variable (test/stderr.test.ts).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Scratch builds sit beside src/ (same depth), so `../..` from a module still reaches the package root. */
const PREFIX = '.test-build-';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Builds left by runs that were killed before their teardown. */
function removeAbandoned(): void {
  for (const name of readdirSync(REPO)) {
    const pid = Number(name.slice(PREFIX.length));
    if (name.startsWith(PREFIX) && Number.isInteger(pid) && !alive(pid)) rmSync(path.join(REPO, name), { recursive: true, force: true });
  }
}

function transpile(outdir: string) {
  return build({
    entryPoints: sourceFiles(path.join(REPO, 'src')),
    outdir,
    outbase: path.join(REPO, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}

export default async function setup(project?: TestProject): Promise<(() => void) | void> {
  // Both vitest projects run this file in the same process: build once.
  if (process.env.ACTMAX_PREBUILT && existsSync(process.env.ACTMAX_PREBUILT)) return;
  removeAbandoned();
  const outdir = path.join(REPO, `${PREFIX}${process.pid}`);
  await transpile(outdir);
  process.env.ACTMAX_PREBUILT = outdir;
  // Watch mode: the sources may have changed since; a rerun builds them afresh first.
  project?.onTestsRerun(async () => {
    rmSync(outdir, { recursive: true, force: true });
    await transpile(outdir);
  });
  return () => rmSync(outdir, { recursive: true, force: true });
}
