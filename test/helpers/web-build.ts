/**
 * web-dist/ for the browser tests, built only when its inputs changed: a stamp in .tmp/ holds the
 * hash of everything the vite build reads (web/, the non-test sources under src/, the vite config's
 * helper, package.json's browser twins, package-lock.json) and of the web-dist/index.html that
 * build wrote (it names every bundle by its content hash). A fresh clone, a changed input, or a
 * web-dist/ rebuilt from another tree (`npm run build:web`) all rebuild; a repeat run does not.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function inputFiles(repoRoot: string): string[] {
  const under = (dir: string) =>
    readdirSync(path.join(repoRoot, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && !e.name.endsWith('.test.ts'))
      .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)));
  return [...under('web'), ...under('src'), 'scripts/browser-twins.ts', 'package.json', 'package-lock.json'].sort();
}

/** SHA-256 over the build's input files, names and contents. */
export function webInputsHash(repoRoot: string): string {
  const h = createHash('sha256');
  for (const f of inputFiles(repoRoot)) h.update(f).update('\0').update(readFileSync(path.join(repoRoot, f))).update('\0');
  return h.digest('hex');
}

const sha = (file: string) => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent');

/** Runs `vite build` unless web-dist/ was built by this helper from the same inputs; says which. */
export function buildWebIfChanged(repoRoot: string): 'built' | 'reused' {
  const stampFile = path.join(repoRoot, '.tmp', 'web-dist.stamp.json');
  const index = path.join(repoRoot, 'web-dist', 'index.html');
  const inputs = webInputsHash(repoRoot);
  const stamp = existsSync(stampFile) ? (JSON.parse(readFileSync(stampFile, 'utf8')) as { inputs?: string; index?: string }) : {};
  if (stamp.inputs === inputs && stamp.index === sha(index)) return 'reused';
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(path.dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, JSON.stringify({ inputs, index: sha(index) }) + '\n');
  return 'built';
}
