// Determinism: same model, options and seed ⇒ byte-identical result.json (timings aside) across
// two separate processes on the same backend.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'actmax-determinism-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runCliProcess(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/actmax.js', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** result.json text with every `timings` entry removed (they are wall-clock measurements). */
function withoutTimings(text: string): string {
  return JSON.stringify(JSON.parse(text), (k, v) => (k === 'timings' ? undefined : v), 2);
}

const args = (out: string, seed: number, backend: string, engine: string) => [
  'maximize', 'models/fashion-mnist-mlp', '--objective', 'logit:all', '--steps', '12', '--restarts', '2', '--seed', String(seed),
  '--constraint', 'box:0,1', '--backend', backend, '--engine', engine, '--out', out, '--json',
  // The native engine has no image pipeline (jitter etc.); TF.js runs the default one, seeded too.
  ...(engine === 'onnx' ? ['--image', 'none'] : []),
];

describe('same seed ⇒ byte-identical result.json in two processes', () => {
  for (const [engine, backend] of [['tfjs', 'wasm'], ['tfjs', 'cpu'], ['onnx', 'wasm']]) {
    it(`engine ${engine}, TF.js backend ${backend}`, async () => {
      const dirs = [0, 1].map((i) => path.join(tmp, `${engine}-${backend}-${i}`));
      const runs = await Promise.all(dirs.map((d) => runCliProcess(args(d, 11, backend, engine))));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(runs[0].stdout).engine).toMatch(engine === 'tfjs' ? `tfjs-${backend}` : /^onnx/);
      const [a, b] = dirs.map((d) => readFileSync(path.join(d, 'result.json'), 'utf8'));
      expect(withoutTimings(a)).toBe(withoutTimings(b));
      // The --json documents on stdout are identical too.
      expect(withoutTimings(runs[0].stdout)).toBe(withoutTimings(runs[1].stdout));
      // The grids are byte-identical too (they are drawn from the same numbers).
      expect(readFileSync(path.join(dirs[0], 'grid.png')).equals(readFileSync(path.join(dirs[1], 'grid.png')))).toBe(true);
      // And the comparison can fail: another seed gives another result (checked once: a process each).
      if (engine !== 'tfjs' || backend !== 'wasm') return;
      const other = path.join(tmp, `${engine}-${backend}-seed12`);
      const r = await runCliProcess(args(other, 12, backend, engine));
      expect(r.code, r.stderr).toBe(0);
      expect(withoutTimings(readFileSync(path.join(other, 'result.json'), 'utf8'))).not.toBe(withoutTimings(a));
    });
  }
});
