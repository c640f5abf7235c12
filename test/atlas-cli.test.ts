/**
 * `actmax atlas` and `actmax worker` on the command line: one-line errors with exit 2 and nothing
 * written; Ctrl-C stops a running atlas cleanly (exit 130, a consistent manifest, no temporary
 * files). Resuming is tested in src/atlas/atlas.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAtlas } from '../src/atlas/plan.js';
import { AtlasStore, type Manifest } from '../src/atlas/store.js';
import { tinyCnn, writeModelFolder } from '../src/atlas/testing/small-model.js';
import { useBackend } from '../src/backend.js';
import { runCli } from '../src/cli/main.js';
import { loadModel } from '../src/model/load.js';
import { REPO } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

let tmp: string;
let modelDir: string;
beforeAll(async () => {
  await useBackend('wasm');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-atlas-cli-'));
  modelDir = await writeModelFolder(tinyCnn(4), path.join(tmp, 'model'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('actmax atlas / worker: errors', () => {
  it('bad layers, queue URLs and flags: one line, exit 2, nothing written', async () => {
    const out = path.join(tmp, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['--layers', 'conv,nope'], /^actmax: layer "nope" has no units to map; choose from: conv, pool, flat, out \(or all\)\n$/],
      [['--queue', 'http://127.0.0.1:6379'], /^actmax: "http:\/\/127\.0\.0\.1:6379" is not a Redis URL .*redis:\/\/HOST:PORT\n$/],
      [['--queue', 'redis://127.0.0.1:1'], /^actmax: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*\n$/],
      [['--queue', 'redis://127.0.0.1:1', '--threads', '2'], /^actmax: --threads sets local threads; with --queue the workers run the batches/],
      [['--queue', 'redis://127.0.0.1:1', '--intra-op-threads', '2'], /^actmax: --intra-op-threads sets the local threads' onnxruntime threads; with --queue give it to the workers \(actmax worker --intra-op-threads N\)\n$/],
      [['--intra-op-threads', '0'], /^actmax: --intra-op-threads must be an integer ≥ 1, got "0"\n$/],
      [['--steps', '0'], /^actmax: --steps must be an integer ≥ 1, got "0"\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['atlas', modelDir, '--out', out, ...args]);
      expect([r.code, r.err], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
    const w = await cli(['worker', 'nonsense']);
    expect([w.code, w.err]).toEqual([2, expect.stringMatching(/^actmax: "nonsense" is not a Redis URL/)]);
    const t = await cli(['worker', 'redis://127.0.0.1:1', '--intra-op-threads', '1.5']);
    expect([t.code, t.err]).toEqual([2, expect.stringMatching(/^actmax: --intra-op-threads must be an integer ≥ 1, got "1\.5"\n$/)]);
  });

  it('refuses a folder holding an atlas made with other settings, leaving it as it was', async () => {
    const out = path.join(tmp, 'other-settings');
    const model = await loadModel(modelDir);
    await AtlasStore.open(out, planAtlas(model, { steps: 7 }), model);
    model.dispose();
    const before = await fs.readFile(path.join(out, 'manifest.json'), 'utf8');
    const r = await cli(['atlas', modelDir, '--out', out, '--steps', '8']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^actmax: .*other-settings holds an atlas made with steps 7 \(now 8\); use another --out or the same model and settings\n$/);
    expect(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(before);
  });
});

describe('actmax atlas: Ctrl-C', () => {
  it('stops cleanly with exit 130, a consistent manifest and no temporary files', async () => {
    const out = path.join(tmp, 'interrupted');
    const args = [path.join(REPO, 'bin', 'actmax.js'), 'atlas', modelDir, '--out', out, '--steps', '400', '--batch', '1', '--restarts', '1', '--threads', '1'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const done = async () => ((JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8').catch(() => '{}')) as Partial<Manifest>).done ?? 0);
    for (let t0 = Date.now(); (await done()) < 1; ) {
      if (Date.now() - t0 > 150_000) throw new Error(`no unit finished: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const stoppedAt = Date.now();
    child.kill('SIGINT');
    expect(await exit, err).toBe(130);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(err).toMatch(/interrupted: rerun the same command to do the remaining \d unit/);
    const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.done).toBeGreaterThanOrEqual(1);
    expect(manifest.done).toBeLessThan(7);
    expect(manifest.units).toHaveLength(manifest.done);
    const all = await fs.readdir(out, { recursive: true });
    expect(all.filter((f) => /\.tmp$/.test(f))).toEqual([]);
  });
});
