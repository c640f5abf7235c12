/**
 * The web playground end to end, in Debian's Chromium driven by playwright-core: the served app
 * loads the bundled model, maximises "Trouser" live in its worker, stays responsive, downloads
 * a result, proves an exact maximum (MILP, HiGHS in a Web Worker), stops a branch-and-bound
 * mid-run, keeps an answer on the data (subspace prior), and loads a dropped Keras model. Screenshots go to test-artifacts/.
 */
import { startServeCli } from './helpers/serve-cli.js';
import { buildWebIfChanged } from './helpers/web-build.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { marabouCnnKeras } from './helpers.js';

import { encodeMask } from '../web/src/settings.js';
import { readStoredPrior } from '../src/prior/dataset.js';
import { subspacePrior, subspaceResidual } from '../src/prior/subspace.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const artifacts = path.join(repoRoot, 'test-artifacts');
// CI (.ci/run sets CI=1 and installs Debian's chromium) must run this suite: there a missing browser fails.
const requireBrowser = !!process.env.CI;

if (!hasChromium && !requireBrowser) console.warn(`web-e2e: skipped — ${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)`);

describe.runIf(!hasChromium && requireBrowser)('web playground in Chromium (CI)', () => {
  it('has a browser to run in', () => {
    expect.fail(`${CHROMIUM} is absent but CI is set: the browser suite must run in CI (apt-get install -y chromium)`);
  });
});

const probOf = (page: Page, label: string) =>
  page.evaluate((l) => Number((document.querySelector(`#probs li[data-label="${l}"]`) as HTMLElement | null)?.dataset.p ?? NaN), label);

/** Distinct grey levels and spread of the pixels of a canvas. */
const canvasStats = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const levels = new Set<number>();
    let min = 255, max = 0;
    for (let i = 0; i < d.length; i += 4) {
      levels.add(d[i]);
      min = Math.min(min, d[i]);
      max = Math.max(max, d[i]);
    }
    return { width: c.width, height: c.height, levels: levels.size, min, max };
  }, selector);

describe.skipIf(!hasChromium)('web playground in Chromium', () => {
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    console.log(`web-dist: ${buildWebIfChanged(repoRoot)}`);
    mkdirSync(artifacts, { recursive: true });
    server = await startServeCli();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 600_000); // a fresh clone builds the web app here first (minutes on a busy machine)

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('maximises Trouser live, stays responsive, and downloads the result', async () => {
    await page.goto(server.url);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    const status = await page.textContent('#status');
    console.log(`web-e2e: ${status}`);
    expect(await page.textContent('#model-name')).toContain('Fashion-MNIST');

    // Class "Trouser" from the class list (the spec box follows), and a run long enough to interact with.
    await page.getByLabel('Class', { exact: true }).selectOption({ label: 'Trouser (1)' });
    expect(await page.inputValue('#obj-spec')).toBe('logit:1');
    // Long enough to still be running when the checks below are done (the page stops it).
    await page.getByLabel('Steps', { exact: true }).fill('20000');
    await page.getByLabel('Steps', { exact: true }).dispatchEvent('change');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForFunction(() => !(document.getElementById('stop') as HTMLButtonElement).disabled, null, { timeout: 30_000 });
    await page.waitForSelector('#probs li[data-label="Trouser"]', { timeout: 30_000 });

    // Responsive while the worker computes: a click on restart 1 is answered and the run goes on.
    const tile = page.getByRole('button', { name: 'Trouser (logit): restart 1' });
    const stepBefore = await page.textContent('#run-info');
    const t0 = Date.now();
    await tile.click({ timeout: 5_000 });
    await page.waitForFunction(() => document.querySelector('button[aria-label="Trouser (logit): restart 1"]')?.getAttribute('aria-pressed') === 'true', null, { timeout: 5_000 });
    console.log(`web-e2e: tile click answered in ${Date.now() - t0} ms during the run (${stepBefore})`);
    expect(await page.isEnabled('#stop')).toBe(true);
    expect(await page.textContent('#probs-for')).toContain('restart 1');
    await page.getByRole('button', { name: /Trouser \(logit\): best input/ }).click();

    // The reported probability of Trouser for the current input reaches 0.99 while the run is live.
    await page.waitForFunction(() => Number((document.querySelector('#probs li[data-label="Trouser"]') as HTMLElement | null)?.dataset.p) >= 0.99, null, { timeout: 90_000 });
    const p = await probOf(page, 'Trouser');
    const runInfo = await page.textContent('#run-info');
    console.log(`web-e2e: P(Trouser) = ${p.toFixed(5)} for the current input at "${runInfo}"`);
    expect(p).toBeGreaterThanOrEqual(0.99);
    // The steps run on the ONNX engine (onnxruntime-web, WebAssembly, threaded: the page is cross-origin isolated).
    const threads = Number(/image-steps\/s · engine onnx-web-wasm-(\d+)t/.exec(runInfo ?? '')?.[1]);
    expect(runInfo).toMatch(/image-steps\/s · engine onnx-web-wasm-\d+t/);
    const { isolated, cores } = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
    expect(isolated).toBe(true);
    // The WebAssembly thread pool: half the logical cores, at most 4 (runtime.browser.ts says why
    // not one per core: its threads spin); more than one wherever there are more than two cores.
    expect(threads).toBe(Math.min(4, Math.ceil(cores / 2)));
    if (cores > 2) expect(threads).toBeGreaterThan(1);
    expect(await page.textContent('#probs-for')).toContain('current input');

    // The picture is not blank: many grey levels, from dark to bright.
    const stats = await canvasStats(page, 'canvas[data-role="best"][data-target="0"]');
    expect([stats.width, stats.height]).toEqual([28, 28]);
    expect(stats.levels).toBeGreaterThan(2);
    expect(stats.max - stats.min).toBeGreaterThan(100);
    await page.screenshot({ path: path.join(artifacts, 'web-trouser-running.png'), fullPage: true });

    // Stop, then the result is final and downloadable in the CLI's result.json schema.
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.waitForFunction(() => /Stopped|Finished/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const run = JSON.parse(readFileSync(await download.path(), 'utf8'));
    // The CLI's result.json document: run fields once, then one result per target.
    expect([run.method, run.seed, run.results.length]).toEqual(['gradient', 0, 1]);
    expect(run.engine).toMatch(/^onnx-web-wasm/);
    expect(run.steps).toBeGreaterThan(0);
    const doc = run.results[0];
    expect(doc.objective).toBe('logit:1');
    expect(doc.shape).toEqual([28, 28]);
    expect(doc.input).toHaveLength(784);
    expect(doc.input.every((v: number) => v >= 0 && v <= 1)).toBe(true);
    const probs = doc.outputs.dense_1 as number[];
    expect(probs.indexOf(Math.max(...probs))).toBe(1);
    expect(probs[1]).toBeGreaterThanOrEqual(0.99);
    expect(Array.isArray(doc.history)).toBe(true);
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PNG' }).click()]);
    expect(readFileSync(await png.path()).subarray(1, 4).toString()).toBe('PNG');

    // Exact from the run's result (full box: not provable in seconds): live numbers, then Stop returns the best input so far.
    await page.getByRole('button', { name: 'Exact' }).click();
    await page.waitForFunction(() => /branch and bound/.test(document.getElementById('exact-state')!.textContent ?? ''), null, { timeout: 60_000 });
    const live = (await page.textContent('#exact-numbers'))!.replace(/\s+/g, ' ');
    console.log(`web-e2e: Exact (full box, logit:1) live: ${live}`);
    expect(await page.isEnabled('#stop')).toBe(true);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.waitForFunction(() => !!document.getElementById('exact-state')!.dataset.status, null, { timeout: 30_000 });
    expect(await page.textContent('#exact-state')).toBe('time-limit (stopped)');
    const [stoppedDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const stoppedDoc = JSON.parse(readFileSync(await stoppedDl.path(), 'utf8'));
    expect([stoppedDoc.method, stoppedDoc.interrupted, stoppedDoc.timeLimit, stoppedDoc.results.length]).toEqual(['exact (branch-and-bound, SDP bounds)', true, 30, 1]);
    const stopped = stoppedDoc.results[0];
    console.log(`web-e2e: Exact stopped: value ${stopped.value}, bound ${stopped.upperBound}, ${stopped.nodes} nodes, ${stopped.solveSeconds} s`);
    // One hidden ReLU layer: the branch-and-bound, running in the compute worker.
    expect([stopped.method, stopped.status, stopped.interrupted]).toEqual(['bnb', 'time-limit', true]);
    expect(stopped.value).toBeGreaterThanOrEqual(doc.value - 1e-5 * Math.max(1, Math.abs(doc.value)));
    expect(stopped.upperBound).toBeGreaterThanOrEqual(stopped.value);
    expect(stopped.input.every((v: number) => v >= 0 && v <= 1)).toBe(true);

    // The settings are in the URL, so the link reproduces the run.
    const q = new URL(page.url()).searchParams;
    expect([q.get('obj'), q.get('steps')]).toEqual(['logit:1', '20000']);
    await page.screenshot({ path: path.join(artifacts, 'web-trouser-done.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(artifacts, 'web-trouser-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('reproduces a run with constraints from its link: example reference, L∞ ball, painted mask, levels', async () => {
    const examples = JSON.parse(readFileSync(path.join(repoRoot, 'models', 'fashion-mnist-mlp', 'examples.json'), 'utf8')).examples as Array<{ className: string; input: number[] }>;
    const ref = examples[2].input;
    // Editable: the left half of the picture only.
    const editable = Array.from({ length: 784 }, (_, i) => i % 28 < 14);
    const query = new URLSearchParams({ obj: 'logit:2', steps: '80', seed: '3', ref: 'ex:2', eps: '0.1', norm: 'inf', levels: '256', mask: encodeMask(editable) });
    await page.goto(`${server.url}?${query}`);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    expect(await page.inputValue('#ref')).toBe('ex:2');
    expect(await page.isChecked('#mask-on')).toBe(true);
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForFunction(() => /Finished/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    await page.screenshot({ path: path.join(artifacts, 'web-constraints.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const run = JSON.parse(readFileSync(await download.path(), 'utf8'));
    expect([run.seed, run.steps]).toEqual([3, 80]);
    const doc = run.results[0];
    expect(doc.objective).toBe('logit:2');
    const x = doc.input as number[];
    let maxDiff = 0;
    x.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - ref[i]));
      // Masked pixels keep the reference exactly; editable ones lie on the k/255 grid.
      if (!editable[i]) expect(Math.abs(v - ref[i]), `masked pixel ${i}`).toBeLessThan(1e-6);
      else expect(Math.abs(v * 255 - Math.round(v * 255)), `level of pixel ${i}`).toBeLessThan(1e-3);
    });
    // Rounding to 256 levels may move a pixel by half a level past the ball.
    expect(maxDiff).toBeLessThanOrEqual(0.1 + 0.5 / 255 + 1e-6);
    expect(maxDiff).toBeGreaterThan(0.05);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('proves the exact maximum in the browser: margin of Dress within L∞ ε = 0.02 of a T-shirt', async () => {
    const examples = JSON.parse(readFileSync(path.join(repoRoot, 'models', 'fashion-mnist-mlp', 'examples.json'), 'utf8')).examples as Array<{ className: string; input: number[] }>;
    const ref = examples[0].input;
    const query = new URLSearchParams({ obj: 'margin:3', steps: '150', ref: 'ex:0', eps: '0.02', norm: 'inf', xt: '60' });
    await page.goto(`${server.url}?${query}`);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    expect(await page.inputValue('#exact-time')).toBe('60');
    // Gradient search first: its value is what the exact answer must match or beat.
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForFunction(() => /Finished/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    const [gradDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const grad = JSON.parse(readFileSync(await gradDl.path(), 'utf8')).results[0];

    // Every state the Exact panel shows, to see that it reported progress before the end.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { exactStates: string[] }).exactStates = seen;
      const node = document.getElementById('exact-state')!;
      new MutationObserver(() => seen.push(node.textContent ?? '')).observe(node, { childList: true, characterData: true, subtree: true });
    });
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Exact' }).click();
    await page.waitForFunction(() => !!document.getElementById('exact-state')!.dataset.status, null, { timeout: 90_000 });
    const states = await page.evaluate(() => (window as unknown as { exactStates: string[] }).exactStates);
    console.log(`web-e2e: Exact margin:3 in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(await page.textContent('#exact-numbers'))!.replace(/\s+/g, ' ')}; states seen: ${[...new Set(states)].join(' → ')}`);
    expect(await page.textContent('#exact-state')).toBe('optimal');
    expect(new Set(states).size).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: path.join(artifacts, 'web-exact-optimal.png'), fullPage: true });

    const [exactDl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const exactDoc = JSON.parse(readFileSync(await exactDl.path(), 'utf8'));
    expect([exactDoc.method, exactDoc.timeLimit, exactDoc.results.length]).toEqual(['exact (MILP, HiGHS)', 60, 1]);
    const doc = exactDoc.results[0];
    console.log(`web-e2e: exact value ${doc.value} (gradient search ${grad.value}), bound ${doc.upperBound}, gap ${doc.gap}, ${doc.nodes} nodes, ${doc.solveSeconds} s in HiGHS`);
    expect([doc.status, doc.objective]).toEqual(['optimal', 'margin:3']);
    expect(doc.value).toBeGreaterThanOrEqual(grad.value - 1e-5 * Math.max(1, Math.abs(grad.value)));
    expect(doc.upperBound).toBeCloseTo(doc.value, 6);
    expect(doc.gap).toBeLessThanOrEqual(1e-6);
    expect(doc.nodes).toBeGreaterThanOrEqual(0);
    expect(doc.solveSeconds).toBeGreaterThan(0);
    expect(doc.gradientSearch.value).toBe(grad.value);
    // The answer respects the ball and the value range.
    const x = doc.input as number[];
    expect(x).toHaveLength(784);
    x.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      expect(Math.abs(v - ref[i]), `pixel ${i}`).toBeLessThanOrEqual(0.02 + 1e-9);
    });
    // The page shows it: the picture and the outputs are the exact input's.
    expect(await page.textContent('#probs-for')).toContain('exact result');
    expect(await page.textContent('#tiles figcaption')).toMatch(/exact optimum/);
    const stats = await canvasStats(page, 'canvas[data-role="best"][data-target="0"]');
    expect(stats.max - stats.min).toBeGreaterThan(100);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('says why Exact cannot run: a probability objective and an L2 ball', async () => {
    await page.goto(`${server.url}?${new URLSearchParams({ obj: 'prob:1' })}`);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    await page.getByRole('button', { name: 'Exact' }).click();
    await page.waitForFunction(() => /Exact solver: /.test(document.getElementById('exact-status')!.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.textContent('#exact-status')).toMatch(/cannot maximise prob:1: it is not linear/);
    await page.goto(`${server.url}?${new URLSearchParams({ obj: 'logit:1', ref: 'ex:0', eps: '0.5', norm: '2' })}`);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    await page.getByRole('button', { name: 'Exact' }).click();
    await page.waitForFunction(() => /Exact solver: /.test(document.getElementById('exact-status')!.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.textContent('#exact-status')).toMatch(/cannot use an L2 ball/);
    expect(await page.isEnabled('#exact')).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('keeps the answer on the data: the subspace prior from its link runs and the result reports it', async () => {
    const query = new URLSearchParams({ obj: 'logit:1', steps: '60', restarts: '2', prior: 'subspace:16' });
    await page.goto(`${server.url}?${query}`);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    expect([await page.inputValue('#prior'), await page.inputValue('#prior-k')]).toEqual(['subspace', '16']);
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForFunction(() => /Finished/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 120_000 });
    expect(await page.textContent('#run-info')).toContain('prior: subspace K=16');
    // Each target's line says what the polish of the code added.
    expect(await page.locator('body').textContent()).toMatch(/\(restart \d+; polished from [-\d.]+/);
    await page.screenshot({ path: path.join(artifacts, 'web-prior-subspace.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const run = JSON.parse(readFileSync(await download.path(), 'utf8'));
    expect([run.prior?.type, run.prior?.components]).toEqual(['subspace', 16]);
    // A subspace renders as a matrix product: the page's ONNX engine runs it (a decoder stays with TF.js).
    expect(run.engine).toMatch(/^onnx-web-wasm/);
    // The end-of-run polish of the code ran in the page's worker (HiGHS from the page's highs/ folder).
    expect(run.polish, JSON.stringify(run.polish)).toMatchObject({ applied: true, targets: [{ objective: 'logit:1', skipped: null }] });
    expect(run.polish.targets[0].after).toBeGreaterThanOrEqual(run.polish.targets[0].before);
    const doc = run.results[0];
    expect(doc.input.every((v: number) => v >= -1e-6 && v <= 1 + 1e-6)).toBe(true);
    // The answer lies in the prior's set: the 16-dimensional subspace of the stored prior, its code in the code set.
    const prior = subspacePrior(await readStoredPrior(path.join(repoRoot, 'models', 'fashion-mnist-mlp', 'prior.json')), 16);
    expect(subspaceResidual(prior, doc.input)).toBeLessThan(1e-4);
    const probs = doc.outputs.dense_1 as number[];
    expect(probs.indexOf(Math.max(...probs))).toBe(1);
    // The live pictures show the inputs, not the codes: a 28×28 picture with many grey levels.
    const stats = await canvasStats(page, 'canvas[data-role="best"][data-target="0"]');
    expect([stats.width, stats.height]).toEqual([28, 28]);
    expect(stats.levels).toBeGreaterThan(20);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('draws with the bundled decoder: its default code set (one of the 400 boxes around its core codes) runs in the page and the result reports it', async () => {
    const query = new URLSearchParams({ obj: 'logit:7', steps: '60', restarts: '2', prior: 'decoder' });
    await page.goto(`${server.url}?${query}`);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    expect(await page.inputValue('#prior')).toBe('decoder');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForFunction(() => /Finished/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 120_000 });
    expect(await page.textContent('#run-info')).toContain('prior: decoder');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
    const run = JSON.parse(readFileSync(await download.path(), 'utf8'));
    expect(run.prior).toMatchObject({ type: 'decoder', components: 18, latent: 'union of 400 boxes' });
    expect(run.engine).toMatch(/^tfjs/);
    const doc = run.results[0];
    expect(doc.input.every((v: number) => v >= 0 && v <= 1)).toBe(true);
    const probs = doc.outputs.dense_1 as number[];
    expect(probs.indexOf(Math.max(...probs))).toBe(7);
    // G draws smooth pictures: many grey levels, not the box's saturated corners.
    const stats = await canvasStats(page, 'canvas[data-role="best"][data-target="0"]');
    expect(stats.levels).toBeGreaterThan(20);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('loads a dropped .keras CNN and maximises one class on it', async () => {
    // The trained Marabou MNIST CNN written as a Keras 3 .keras file (see helpers.ts).
    const kerasFile = path.join(artifacts, 'mnist_cnn.keras');
    writeFileSync(kerasFile, await marabouCnnKeras());
    // A fresh page: the previous test's constraints (a Fashion-MNIST reference, mask) would carry over.
    await page.goto(server.url);
    await page.waitForFunction(() => /Model ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 90_000 });
    await page.setInputFiles('#model-files', kerasFile);
    await page.waitForFunction(() => /Model ready: mnist_cnn\.keras/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 120_000 });
    expect(await page.textContent('#model-name')).toContain('28×28×1');
    await page.getByLabel('Class', { exact: true }).selectOption({ index: 3 });
    expect(await page.inputValue('#obj-spec')).toBe('logit:3');
    await page.getByLabel('Steps', { exact: true }).fill('60');
    await page.getByLabel('Steps', { exact: true }).dispatchEvent('change');
    await page.getByLabel('Restarts', { exact: true }).fill('2');
    await page.getByLabel('Restarts', { exact: true }).dispatchEvent('change');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForFunction(() => /Finished/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 180_000 });
    const values = await page.$$eval('#probs li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.p)));
    console.log(`web-e2e: mnist_cnn.keras class 3 result: P = ${values[3]?.toFixed(4)} (${await page.textContent('#run-info')})`);
    expect(values).toHaveLength(10);
    expect(values.indexOf(Math.max(...values))).toBe(3);
    const stats = await canvasStats(page, 'canvas[data-role="best"][data-target="0"]');
    expect(stats.max - stats.min).toBeGreaterThan(50);
    await page.screenshot({ path: path.join(artifacts, 'web-keras-cnn.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
