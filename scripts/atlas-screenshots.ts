/*
 * The README's atlas pictures: the atlas of the bundled Fashion-MNIST model (every unit of its
 * dense and output layers, the 20 reference images as dataset examples), a layer page and a unit
 * page in Debian's Chromium. `npx tsx scripts/atlas-screenshots.ts [ATLAS_DIR]` (an existing
 * atlas folder is reused; by default one is made in a temporary folder).
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { useBackend } from '../src/backend.js';
import { runAtlas } from '../src/atlas/run.js';
import { loadModel } from '../src/model/load.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundled = path.join(root, 'models', 'fashion-mnist-mlp');
const images = path.join(root, 'docs', 'images');

let dir = process.argv[2];
if (!dir || !existsSync(path.join(dir, 'manifest.json'))) {
  dir ??= await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-atlas-shots-'));
  await useBackend('wasm');
  const model = await loadModel(bundled);
  await runAtlas(model, { out: dir, examples: path.join(bundled, 'examples.json') });
  model.dispose();
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1000, height: 640 }, deviceScaleFactor: 1 });
await page.goto(pathToFileURL(path.join(dir, 'layers', 'dense.html')).href);
await page.screenshot({ path: path.join(images, 'atlas-layer.png') });
await page.goto(pathToFileURL(path.join(dir, 'units', 'dense_1', '1', 'index.html')).href);
await page.setViewportSize({ width: 1000, height: 1290 });
await page.screenshot({ path: path.join(images, 'atlas-unit.png') });
await browser.close();
console.log(`wrote ${path.join(images, 'atlas-layer.png')} and atlas-unit.png from ${dir}`);
