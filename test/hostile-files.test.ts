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
import { fixturePath, skipWithout } from '../src/model/testing/fixtures.js';
import { k3Layer, k3Sequential, writeKerasV3, writeLegacyH5 } from '../src/model/testing/write-keras.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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

/** A Keras 2 functional model in a legacy .h5 (input → Dense "a" → Dense "b"), its config bent by `bend`. */
async function functionalH5(bend: (layers: Record<string, unknown>[]) => void): Promise<Uint8Array> {
  const dense = (name: string, from: string) => ({
    name,
    class_name: 'Dense',
    config: { name, trainable: true, dtype: 'float32', units: 2, activation: 'relu', use_bias: true },
    inbound_nodes: [[[from, 0, 0, {}]]],
  });
  const layers: Record<string, unknown>[] = [
    { name: 'input_1', class_name: 'InputLayer', config: { batch_input_shape: [null, 2], dtype: 'float32', name: 'input_1' }, inbound_nodes: [] },
    dense('a', 'input_1'),
    dense('b', 'a'),
  ];
  bend(layers);
  const config = { class_name: 'Model', config: { name: 'model', layers, input_layers: [['input_1', 0, 0]], output_layers: [['b', 0, 0]] } };
  const w = (layer: string) => ({
    layer,
    weights: [
      { name: `${layer}/kernel:0`, var: { shape: [2, 2], data: [1, 0, 0, 1] } },
      { name: `${layer}/bias:0`, var: { shape: [2], data: [0, 0] } },
    ],
  });
  return writeLegacyH5(config, [{ layer: 'input_1', weights: [] }, w('a'), w('b')], '2.3.1');
}

describe('damaged files fail fast with one line naming the file', () => {
  it('functional config naming a layer that does not exist (TF.js fromConfig looped forever)', async () => {
    const bytes = await functionalH5((layers) => { layers[2].inbound_nodes = [[['a_9', 0, 0, {}]]]; });
    const f = put('dangling', { 'm.h5': bytes });
    expect((await loadError(f)).message).toMatch(/refers to layer "a_9", which is not in the model/);
  });

  it('functional config whose layer lost its inbound_nodes key (also looped forever)', async () => {
    const bytes = await functionalH5((layers) => { delete layers[2].inbound_nodes; });
    const f = put('uncalled', { 'm.h5': bytes });
    expect((await loadError(f)).message).toMatch(/is never called \(it has no inbound nodes\)/);
  });

  const jet = skipWithout('keras2-h5-hls4ml/keras_jetTagger_Conv2D_small.h5');
  it.skipIf(jet)(`the same two damages, made by patching the bytes of a real Keras 2 file${jet}`, async () => {
    const jetTagger = () => new Uint8Array(readFileSync(fixturePath('keras2-h5-hls4ml/keras_jetTagger_Conv2D_small.h5')));
    const dangling = put('dangling-real', { 'm.h5': patch(jetTagger(), '[[["batch_normalization_1", 0', '[[["batch_normalization_9", 0') });
    expect((await loadError(dangling)).message).toMatch(/refers to layer "batch_normalization_9", which is not in the model/);
    const uncalled = put('uncalled-real', { 'm.h5': patch(jetTagger(), '"inbound_nodes": [[["batch_normalization_1"', '"inbound_nodeX": [[["batch_normalization_1"') });
    expect((await loadError(uncalled)).message).toMatch(/is never called \(it has no inbound nodes\)/);
  });

  it('graph model with a fixed batch size (predict crashed)', async () => {
    const dir = fixturePath('tfjs-e2e-load-predict/graph_model');
    const f = put('fixed-batch', { 'model.json': readFileSync(path.join(dir, 'model_new.json')), 'weights.bin': readFileSync(path.join(dir, 'weights.bin')) });
    const e = await loadError(f);
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(/fixed batch size of 2/);
  });

  const bn = skipWithout('keras2.15-mlp-bn-mnist-multiformat/tfjs_layers/model.json');
  it.skipIf(bn)(`weight shards in the wrong order: finite weights, NaN outputs (negative BN variance)${bn}`, async () => {
    const dir = path.dirname(fixturePath('keras2.15-mlp-bn-mnist-multiformat/tfjs_layers/model.json'));
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
    const src = await writeKerasV3(
      k3Sequential('seq', [k3Layer('InputLayer', 'inp', { batch_shape: [null, 2] }), k3Layer('Dense', 'fc', { units: 2, activation: 'linear', use_bias: true })]),
      [{ key: 'dense', name: 'fc', vars: [{ shape: [2, 2], data: [1, 0, 0, 1] }, { shape: [2], data: [0, 0] }] }],
    );
    const members = unzipSync(src);
    const zip = writeZip(Object.entries(members).map(([n, d]) => (n === 'metadata.json' ? bombEntry(n) : entry(n, d))));
    const f = put('bomb', { 'm.keras': zip });
    expect((await loadError(f)).message).toMatch(/metadata\.json \(268435456 bytes\) would inflate past the 67108864-byte limit/);
  });
});
