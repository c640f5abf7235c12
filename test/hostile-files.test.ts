// Regressions for damaged model files the fuzzer found (each hung, crashed or returned NaN before).
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { useBackend } from '../src/backend.js';
import { isActmaxError } from '../src/errors.js';
import { loadModel } from '../src/model/load.js';
import { bombEntry, entry, writeZip } from '../scripts/fuzz/zip.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.resolve(repoRoot, '../shared/fixtures');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'actmax-hostile-'));
beforeAll(async () => { await useBackend('wasm'); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Write files under a fresh directory; returns the path of the first. */
function put(dir: string, files: Record<string, Uint8Array | string>): string {
  const d = path.join(tmp, dir);
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
    writeFileSync(path.join(d, name), data);
  }
  return path.join(d, Object.keys(files)[0]);
}

async function loadError(file: string): Promise<{ code: string; message: string }> {
  const t = performance.now();
  const e = await loadModel(file).then((m) => { m.dispose(); return new Error('loaded'); }, (err) => err);
  expect(isActmaxError(e), String(e?.stack ?? e)).toBe(true);
  expect(e.message).not.toMatch(/\n/);
  expect(e.message).toContain(path.basename(file));
  expect(performance.now() - t).toBeLessThan(10_000); // a hang is what these files used to cause
  return { code: e.code, message: e.message };
}

/** Replace `from` by `to` (same byte length) inside binary bytes. */
function patch(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const text = Buffer.from(bytes).toString('latin1');
  const at = text.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  const out = bytes.slice();
  out.set(Buffer.from(to, 'latin1'), at);
  return out;
}

const jetTagger = () => new Uint8Array(readFileSync(path.join(fixtures, 'keras2-h5-hls4ml/keras_jetTagger_Conv2D_small.h5')));

describe('damaged files fail fast with one line naming the file', () => {
  it('functional config naming a layer that does not exist (TF.js fromConfig looped forever)', async () => {
    const f = put('dangling', { 'm.h5': patch(jetTagger(), '[[["batch_normalization_1", 0', '[[["batch_normalization_9", 0') });
    expect((await loadError(f)).message).toMatch(/refers to layer "batch_normalization_9", which is not in the model/);
  });

  it('functional config whose layer lost its inbound_nodes key (also looped forever)', async () => {
    const f = put('uncalled', { 'm.h5': patch(jetTagger(), '"inbound_nodes": [[["batch_normalization_1"', '"inbound_nodeX": [[["batch_normalization_1"') });
    expect((await loadError(f)).message).toMatch(/is never called \(it has no inbound nodes\)/);
  });

  it('graph model with a fixed batch size (predict crashed)', async () => {
    const dir = path.join(fixtures, 'tfjs-e2e-load-predict/graph_model');
    const f = put('fixed-batch', { 'model.json': readFileSync(path.join(dir, 'model_new.json')), 'weights.bin': readFileSync(path.join(dir, 'weights.bin')) });
    const e = await loadError(f);
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(/fixed batch size of 2/);
  });

  it('weight shards in the wrong order: finite weights, NaN outputs (negative BN variance)', async () => {
    const dir = path.join(fixtures, 'keras2.15-mlp-bn-mnist-multiformat/tfjs_layers');
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].weights.reverse();
    const f = put('reversed', { 'model.json': JSON.stringify(json), 'group1-shard1of1.bin': readFileSync(path.join(dir, 'group1-shard1of1.bin')) });
    expect((await loadError(f)).message).toMatch(/output 0 is NaN .*weights are damaged/);
  });

  it('a NaN weight', async () => {
    const dir = path.join(repoRoot, 'models/fashion-mnist-mlp');
    const bin = new Uint8Array(readFileSync(path.join(dir, 'weights.bin')));
    new DataView(bin.buffer).setFloat32(4 * 1000, NaN, true);
    const f = put('nan-weight', { 'model.json': readFileSync(path.join(dir, 'model.json')), 'weights.bin': bin });
    expect((await loadError(f)).message).toMatch(/weight "dense\/kernel" holds NaN at index 1000/);
  });

  it('a weight path leading outside the model directory', async () => {
    const dir = path.join(repoRoot, 'models/fashion-mnist-mlp');
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../../../../../../../etc/passwd'];
    const f = put('escape', { 'model.json': JSON.stringify(json) });
    expect((await loadError(f)).message).toMatch(/lies outside the model's directory/);
  });

  it('a .keras whose metadata.json inflates to 256 MiB (took ~10 s to parse)', async () => {
    const src = new Uint8Array(readFileSync(path.join(fixtures, 'keras3-keras-mnist-mlp-cnn/mnist_mlp.keras')));
    const members = unzipSync(src);
    const zip = writeZip(Object.entries(members).map(([n, d]) => (n === 'metadata.json' ? bombEntry(n) : entry(n, d))));
    const f = put('bomb', { 'm.keras': zip });
    expect((await loadError(f)).message).toMatch(/metadata\.json \(268435456 bytes\) would inflate past the 67108864-byte limit/);
  });
});
