/**
 * The package as a user installs it: `npm pack` (its prepack builds dist/ and the web app), the
 * tarball installed into an empty folder, then `npx actmax demo | inspect | maximize | serve`, the
 * library imported from plain Node ESM, and `actmax/browser` bundled for a browser from there.
 * Slow (a build and an install of ≈ 650 MB): run by `npm run test:package` and .ci/run, not `npm test`.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers.js';

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'actmax-packaged-'));
const app = path.join(tmp, 'app');
let tarball = '';
let packed: string[] = [];

/** A command in the install folder, as a user types it; never throws (the test reads the code). */
async function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(cmd, args, { cwd: opts.cwd ?? app, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20, timeout: 600_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? String(e) };
  }
}

beforeAll(async () => {
  // What `npm pack` runs first (prepack: npm run build && npm run build:web), run on its own so
  // that its output stays out of pack's JSON.
  const prepack = await sh('npm', ['run', 'prepack'], { cwd: REPO });
  expect(prepack.code, prepack.err).toBe(0);
  const pack = await sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: REPO });
  expect(pack.code, pack.err).toBe(0);
  const info = JSON.parse(pack.out.slice(pack.out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(tmp, info[0].filename);
  packed = info[0].files.map((f) => f.path);
  // An empty project. Its allowScripts keeps onnxruntime-node's install script (a CUDA download) from running, as the README says.
  rmSync(app, { recursive: true, force: true });
  await sh('mkdir', ['-p', app], { cwd: tmp });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'uses-actmax', private: true, type: 'module', allowScripts: { 'onnxruntime-node': false, 'core-js': false, protobufjs: false } }, null, 2));
  const install = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { env: { ONNXRUNTIME_NODE_INSTALL: '' } });
  expect(install.code, install.err).toBe(0);
}, 1_500_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the packed package', () => {
  it('holds the built library, the CLI, the bundled model and the built web app, and no tests or sources', () => {
    for (const f of ['dist/index.js', 'dist/browser.js', 'dist/cli/main.js', 'bin/actmax.js', 'models/fashion-mnist-mlp/model.json', 'web-dist/index.html', 'README.md', 'LICENSE']) expect(packed, f).toContain(f);
    expect(packed.some((f) => f.startsWith('web-dist/assets/'))).toBe(true);
    expect(packed.filter((f) => /^(src|test|web\/|scripts)\/|\.test\.|testing\//.test(f))).toEqual([]);
  });

  it('installs with onnxruntime-node kept (its install script not run)', () => {
    expect(existsSync(path.join(app, 'node_modules', 'actmax', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(path.join(app, 'node_modules', 'onnxruntime-node', 'package.json'))).toBe(true);
  });

  it('npx actmax demo writes grid.png and report.json with every class at p ≥ 0.99', async () => {
    const r = await sh('npx', ['actmax', 'demo', '--out', 'demo-out']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(path.join(app, 'demo-out', 'report.json'), 'utf8')) as { classes: Array<{ name: string; probability: number }> };
    expect(existsSync(path.join(app, 'demo-out', 'grid.png'))).toBe(true);
    expect(report.classes.map((c) => c.name)).toContain('Trouser');
    expect(report.classes.filter((c) => c.probability < 0.99)).toEqual([]);
  }, 300_000);

  it('npx actmax inspect and maximize (TF.js, and the ONNX engine from the optional dependency)', async () => {
    const model = path.join('node_modules', 'actmax', 'models', 'fashion-mnist-mlp');
    const inspect = await sh('npx', ['actmax', 'inspect', model, '--json']);
    expect(inspect.code, inspect.err).toBe(0);
    expect(JSON.parse(inspect.out).inputs[0].shape).toEqual([28, 28]);
    const tfjs = await sh('npx', ['actmax', 'maximize', model, '--objective', 'logit:1', '--steps', '30', '--engine', 'tfjs', '--out', 'm1', '--json']);
    expect(tfjs.code, tfjs.err).toBe(0);
    const doc = JSON.parse(tfjs.out);
    expect([doc.method, doc.results.length, doc.results[0].objective]).toEqual(['gradient', 1, 'logit:1']);
    expect(doc.engine).toMatch(/^tfjs/);
    const onnx = await sh('npx', ['actmax', 'maximize', model, '--objective', 'logit:all', '--steps', '30', '--out', 'm2', '--json']); // auto: ONNX, image defaults included
    expect(onnx.code, onnx.err).toBe(0);
    expect(JSON.parse(onnx.out).engine).toMatch(/^onnx/);
  }, 300_000);

  it('npx actmax serve serves the shipped web app and the bundled model (no build step)', async () => {
    const child = spawn('npx', ['actmax', 'serve', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) { clearTimeout(timer); resolve(m[1]); }
        });
        child.stderr.on('data', (d) => (out += d));
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html);
      expect(script, html.slice(0, 500)).not.toBeNull();
      expect((await fetch(new URL(script![1], url))).status).toBe(200);
      expect((await fetch(new URL('models/fashion-mnist-mlp/model.json', url))).status).toBe(200);
      expect((await fetch(new URL('highs/highs.wasm', url))).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);

  it('imports from plain Node ESM and maximises a class', async () => {
    writeFileSync(path.join(app, 'use.mjs'), [
      "import { loadModel, maximize, logit, useBackend, parseObjectiveFor } from 'actmax';",
      "import * as browser from 'actmax/browser';",
      'await useBackend();',
      "const model = await loadModel('node_modules/actmax/models/fashion-mnist-mlp');",
      "const run = await maximize(model, logit(1), { steps: 30, restarts: 2, seed: 1 });",
      "console.log(JSON.stringify({ value: run.results[0].value, p: run.results[0].outputs.dense_1[1], specs: parseObjectiveFor('logit:all', model).length, browser: typeof browser.maximize }));",
    ].join('\n'));
    const r = await sh('node', ['use.mjs']);
    expect(r.code, r.err).toBe(0);
    const o = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(o.p).toBeGreaterThan(0.99);
    expect([o.specs, o.browser]).toEqual([10, 'function']);
  }, 120_000);

  it('actmax/browser bundles for the browser from the installed package (no Node module)', async () => {
    writeFileSync(path.join(app, 'page.js'), "import { loadModel, maximize, maximizeExact, setHighsLocation } from 'actmax/browser';\nconsole.log(loadModel, maximize, maximizeExact, setHighsLocation);\n");
    const result = await build({ entryPoints: [path.join(app, 'page.js')], absWorkingDir: app, bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs).toContain('node_modules/actmax/dist/exact/solver-thread.browser.js');
    expect(inputs).toContain('node_modules/actmax/dist/model/local-files.browser.js');
    expect(inputs.filter((i) => /^node:/.test(i) || /actmax\/dist\/(exact\/solver-thread|model\/local-files)\.js$/.test(i))).toEqual([]);
  }, 120_000);
});
