import { execFileSync } from 'node:child_process';
import { startServeCli } from '../test/helpers/serve-cli.js';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emit, QUICK, root } from './common.js';

/*
 * The playground in headless Chromium (issue 12, target 4): `actmax serve`, the bundled model,
 * the page's default objective and restarts, a long run on each engine; the rate is the one the
 * page's own status line shows when the run is done (image-steps/s of the search, setup apart).
 * ONNX runs twice: with the page's default thread pool (half the logical cores, at most 4) and,
 * as its peer, on as many threads as there are cores (`?threads=N`, at most 4).
 */

/** The page's runs: engine and the URL's thread count (none: the page's default). */
const RUNS: Array<{ engine: 'onnx' | 'tfjs'; threads?: number }> = [{ engine: 'onnx' }, { engine: 'onnx', threads: Math.min(4, os.cpus().length) }, { engine: 'tfjs' }];

const CHROMIUM = '/usr/bin/chromium';

/**
 * Image-steps/s the page reports for a run of `steps` steps on each engine (ONNX on
 * onnxruntime-web, threaded and on one thread; TF.js), or a note when Chromium is missing.
 *
 * @example
 * await playgroundRates();
 */
export async function playgroundRates(steps = QUICK ? 800 : 3000): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    emit({ bench: 'playground', model: 'fashion-mnist-mlp', engine: '-', backend: 'unavailable', threads: 0, batch: 0, note: `${CHROMIUM} is absent (apt-get install -y chromium)` });
    return;
  }
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  const { chromium } = await import('playwright-core');
  const server = await startServeCli();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    for (const { engine, threads } of RUNS) {
      const page = await browser.newPage();
      await page.goto(`${server.url}?steps=${steps}&engine=${engine}&backend=wasm${threads ? `&threads=${threads}` : ''}`);
      await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 120_000 });
      const restarts = Number(await page.inputValue('#restarts'));
      await page.getByRole('button', { name: 'Run' }).click();
      await page.waitForFunction(() => /^(Done|Stopped) after/.test(document.getElementById('run-info')?.textContent ?? ''), null, { timeout: 600_000 });
      const info = (await page.textContent('#run-info')) ?? '';
      const rate = Number(/· ([\d,]+) image-steps\/s/.exec(info)?.[1].replace(/,/g, '') ?? NaN);
      const setup = Number(/setup ([\d.]+) s/.exec(info)?.[1] ?? NaN);
      const { isolated, cores } = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
      const name = /engine (\S+)/.exec(info)?.[1] ?? engine;
      // onnx-web-wasm-2t: the runtime's pool; TF.js's WASM backend runs on one thread here.
      const used = Number(/-(\d+)t$/.exec(name)?.[1] ?? 1);
      emit({ bench: 'playground', model: 'fashion-mnist-mlp', engine: name, backend: 'chromium (headless)', threads: used, batch: restarts, steps, imageStepsPerSec: rate, setupSeconds: setup, crossOriginIsolated: isolated, cores, load1: +os.loadavg()[0].toFixed(1), statusLine: info });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
