import { execFileSync } from 'node:child_process';
import { startServeCli } from '../test/helpers/serve-cli.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { emit, QUICK, root } from './common.js';

/*
 * The playground in headless Chromium (issue 12, target 4): `actmax serve`, the bundled model,
 * the page's default objective and restarts, a long run on each engine; the rate is the one the
 * page's own status line shows when the run is done (image-steps/s of the search, setup apart).
 */

const CHROMIUM = '/usr/bin/chromium';

/**
 * Image-steps/s the page reports for a run of `steps` steps on each engine (ONNX on
 * onnxruntime-web, TF.js), or a note when Chromium is missing.
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
    for (const engine of ['onnx', 'tfjs'] as const) {
      const page = await browser.newPage();
      await page.goto(`${server.url}?steps=${steps}&engine=${engine}&backend=wasm`);
      await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 120_000 });
      const restarts = Number(await page.inputValue('#restarts'));
      await page.getByRole('button', { name: 'Run' }).click();
      await page.waitForFunction(() => /^(Done|Stopped) after/.test(document.getElementById('run-info')?.textContent ?? ''), null, { timeout: 600_000 });
      const info = (await page.textContent('#run-info')) ?? '';
      const rate = Number(/· ([\d,]+) image-steps\/s/.exec(info)?.[1].replace(/,/g, '') ?? NaN);
      const setup = Number(/setup ([\d.]+) s/.exec(info)?.[1] ?? NaN);
      const isolated = await page.evaluate(() => crossOriginIsolated);
      emit({ bench: 'playground', model: 'fashion-mnist-mlp', engine: /engine (\S+)/.exec(info)?.[1] ?? engine, backend: 'chromium (headless)', threads: 0, batch: restarts, steps, imageStepsPerSec: rate, setupSeconds: setup, crossOriginIsolated: isolated, statusLine: info });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
