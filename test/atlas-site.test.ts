/**
 * The atlas site in Debian's Chromium (playwright-core), from file:// and through `actmax serve DIR`:
 * the front page lists the layers, a layer page shows one picture per unit, a unit page shows each
 * restart, the value curve, the output probabilities, the seed and the dataset examples.
 * Screenshots go to test-artifacts/.
 */
import { startServeCli } from './helpers/serve-cli.js';
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { runAtlasBatch } from '../src/atlas/run-batch.js';
import { runAtlas, type BatchRunner } from '../src/atlas/run.js';
import type { Manifest } from '../src/atlas/store.js';
import { tinyCnn, writeModelFolder } from '../src/atlas/testing/small-model.js';
import { loadModel } from '../src/model/load.js';
import { REPO } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`atlas site test: skipped — ${CHROMIUM} is absent (apt-get install -y chromium)`);
const artifacts = path.join(REPO, 'test-artifacts');

/** Images on the page that loaded (a broken path gives naturalWidth 0). */
const loadedImages = (page: Page, selector: string) =>
  page.$$eval(selector, (imgs) => Promise.all((imgs as HTMLImageElement[]).map((i) => (i.complete ? i.naturalWidth : new Promise<number>((r) => { i.onload = () => r(i.naturalWidth); i.onerror = () => r(0); })))));

describe.skipIf(!hasChromium)('atlas site in Chromium', () => {
  let tmp: string;
  let out: string;
  let manifest: Manifest;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await useBackend('wasm');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-site-'));
    const model = await loadModel(await writeModelFolder(tinyCnn(2), path.join(tmp, 'model')));
    const examples = path.join(tmp, 'examples');
    await fs.mkdir(examples);
    for (let k = 0; k < 6; k++) await fs.writeFile(path.join(examples, `digit-${k}.json`), JSON.stringify(Array.from({ length: 64 }, (_, i) => ((i * (k + 2)) % 9) / 8)));
    // The batches run in this process: the site is what is under test.
    const here: BatchRunner = {
      async run(batches, plan, onResult) {
        for (const b of batches) await onResult(await runAtlasBatch(model, b, { ...plan.settings, atlasId: plan.atlasId }));
      },
      close: async () => {},
    };
    out = path.join(tmp, 'atlas');
    await runAtlas(model, { out, runner: here, steps: 8, restarts: 3, batchUnits: 4, examples });
    model.dispose();
    manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
    mkdirSync(artifacts, { recursive: true });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('from file://: the front page, a layer grid with one picture per unit, and a unit page', async () => {
    await page.goto(pathToFileURL(path.join(out, 'index.html')).href);
    expect(await page.textContent('#progress')).toBe('7 of 7 units');
    await page.screenshot({ path: path.join(artifacts, 'atlas-index.png') });

    await page.click('a[href="layers/conv.html"]');
    await page.waitForSelector('#units');
    const pictures = await loadedImages(page, '#units img');
    expect(pictures).toHaveLength(manifest.layers.find((l) => l.name === 'conv')!.units);
    expect(pictures.every((w) => w === 8)).toBe(true); // the 8×8 input, drawn pixelated
    expect(await page.$$eval('#units .unit .val', (els) => els.map((e) => Number(e.textContent)))).toEqual(
      manifest.units.filter((u) => u.layer === 'conv').map((u) => Number(u.value.toPrecision(4))),
    );
    await page.screenshot({ path: path.join(artifacts, 'atlas-layer.png') });

    await page.click('#units a.unit >> nth=2');
    await page.waitForSelector('#restarts');
    const unit = manifest.units.find((u) => u.id === 'conv/2')!;
    expect(await loadedImages(page, '#restarts img')).toEqual([8, 8, 8]);
    expect(await page.textContent('table.facts')).toContain(`seed${unit.seed} (batch ${unit.batch})`);
    expect(await page.$$eval('svg.curve polyline', (p) => p.length)).toBe(1);
    const bars = await page.$$eval('svg.bars text', (t) => t.map((x) => x.textContent));
    expect(bars).toEqual(expect.arrayContaining(['ring', 'bar', 'dot']));
    expect(await page.textContent('body')).toContain('Dataset examples that excite it most');
    expect((await loadedImages(page, 'section:last-of-type img')).length).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(artifacts, 'atlas-unit.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('through actmax serve DIR: the same pages', async () => {
    const server = await startServeCli([out], 60_000);
    try {
      await page.goto(server.url);
      await page.click('a[href="layers/out.html"]');
      await page.waitForSelector('#units');
      expect(await loadedImages(page, '#units img')).toHaveLength(3);
      await page.click('#units a.unit >> nth=0');
      await page.waitForSelector('#restarts');
      expect(await loadedImages(page, '#restarts img')).toEqual([8, 8, 8]);
      expect(page.url()).toBe(`${server.url}units/out/0/index.html`);
    } finally {
      await server.close();
    }
  });
});
