/**
 * Bad files give one typed ActmaxError naming the file and what is wrong: no crash, no hang, no
 * allocation of what a file merely claims.
 */
import { readFileSync } from 'node:fs';
import { zipSync, strToU8, deflateSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActmaxError } from '../../errors.js';
import { loadModelFiles } from '../formats.js';
import { readZip } from './zip.js';
import { fixturePath } from '../testing/fixtures.js';
import { filesFromMemory, useBackend } from '../testing/model-files.js';
import { k3Functional, k3Layer, k3Sequential, writeKerasV3, writeLegacyH5 } from '../testing/write-keras.js';

// Only fixtures the repository carries (test/fixtures); a Keras 3 file is written here.
const fixture = (p: string) => new Uint8Array(readFileSync(fixturePath(p)));

async function loadError(name: string, main: Uint8Array, siblings: Record<string, Uint8Array> = {}): Promise<ActmaxError> {
  const result = await loadModelFiles(filesFromMemory(name, main, siblings), name).then(
    (net) => {
      net.net.dispose();
      return null;
    },
    (e: unknown) => e,
  );
  expect(result).toBeInstanceOf(ActmaxError);
  const err = result as ActmaxError;
  expect(err.message.startsWith(name)).toBe(true);
  expect(err.message).not.toContain('\n');
  return err;
}

/** A small Keras 3 Sequential: input (4,) → Dense(units). */
function denseConfig(units: number, inputShape: number[] = [4]): unknown {
  return k3Sequential('seq', [
    k3Layer('InputLayer', 'inp', { batch_shape: [null, ...inputShape] }),
    k3Layer('Flatten', 'flat', {}),
    k3Layer('Dense', 'fc', { units, activation: 'relu', use_bias: true }),
  ]);
}
const goodVars = [
  { shape: [4, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] },
  { shape: [2], data: [0.5, -0.5] },
];

beforeAll(async () => {
  await useBackend('wasm');
});

describe('bad files', () => {
  it('an HTML page saved as .h5', async () => {
    const html = strToU8('<!DOCTYPE html>\n<html><head><title>GitHub</title></head></html>');
    const err = await loadError('x.h5', html);
    expect(err.code).toBe('bad-model');
    expect(err.message).toBe("x.h5 is not a model file: it starts with '<!DOCTYPE html>' (an HTML page?); expected a .keras zip, an HDF5 .h5 or a TF.js model.json");
  });

  it('an empty file and a binary file of unknown kind', async () => {
    expect((await loadError('empty.keras', new Uint8Array(0))).message).toContain('it is empty');
    expect((await loadError('blob.bin', new Uint8Array([0, 1, 2, 250, 251, 252, 7, 8, 9]))).message).toContain('it starts with bytes 00 01 02 fa fb fc 07 08');
  });

  it('a truncated .h5', async () => {
    const bytes = fixture('keras2-h5-mlp-sigmoid-marabou/robust_mnist_sigmoid_linear.h5');
    const err = await loadError('cut.h5', bytes.subarray(0, bytes.length >> 1));
    expect(err.code).toBe('bad-model');
    expect(err.message).toMatch(/^cut\.h5: not a readable HDF5 file \(truncated or corrupted\?\)/);
  });

  it('a corrupted .h5 (garbage after the signature)', async () => {
    const bytes = fixture('keras2-h5-mlp-sigmoid-marabou/fc_2-2sigmoids-3.h5').slice();
    for (let i = 8; i < 2048; i++) bytes[i] = (i * 7919) & 0xff;
    const err = await loadError('garbled.h5', bytes);
    expect(err.code).toBe('bad-model');
  });

  it('a truncated .keras', async () => {
    const bytes = await writeKerasV3(denseConfig(2), [{ key: 'dense', name: 'fc', vars: goodVars }]);
    const err = await loadError('cut.keras', bytes.subarray(0, bytes.length >> 1));
    expect(err.code).toBe('bad-model');
    expect(err.message).toMatch(/^cut\.keras: not a readable zip archive/);
  });

  it('a zip that is not a .keras', async () => {
    const zip = zipSync({ 'readme.txt': strToU8('hello'), 'data/x.csv': strToU8('1,2') });
    const err = await loadError('photos.keras', zip);
    expect(err.message).toBe('photos.keras: a zip archive but not a .keras model: it has no config.json (entries: readme.txt, data/x.csv)');
  });

  it('a zip entry declaring more than the inflate limit is refused before inflating', async () => {
    const zip = zipSync({ 'config.json': strToU8('{}'), 'metadata.json': strToU8('{}'), 'model.weights.h5': new Uint8Array(16) }, { level: 0 });
    // Patch the central-directory "uncompressed size" of model.weights.h5 to ~4 GiB.
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    let patched = 0;
    for (let o = 0; o + 46 < zip.length; o++) {
      if (view.getUint32(o, true) === 0x02014b50) {
        const nameLen = view.getUint16(o + 28, true);
        const name = new TextDecoder().decode(zip.subarray(o + 46, o + 46 + nameLen));
        if (name === 'model.weights.h5') {
          view.setUint32(o + 24, 0xfffffff0, true);
          patched++;
        }
      }
    }
    expect(patched).toBe(1);
    const err = await loadError('bomb.keras', zip);
    expect(err.message).toBe('bomb.keras: zip entry model.weights.h5 (4294967280 bytes) would inflate past the 1073741824-byte limit; refusing to unpack it');
  });

  it('a deflate bomb entry is capped by readZip', () => {
    const zeros = new Uint8Array(4 << 20); // 4 MiB of zeros compresses to a few KiB
    const zip = zipSync({ 'config.json': zeros }, { level: 9 });
    expect(zip.length).toBeLessThan(40_000);
    expect(() => readZip(zip, 'z.keras', () => true, 1 << 20)).toThrow(/z\.keras: zip entry config\.json \(4194304 bytes\) would inflate past the 1048576-byte limit/);
  });

  it('a zip whose header under-declares an entry cannot make it grow', async () => {
    const big = strToU8(JSON.stringify({ class_name: 'Sequential', config: { layers: [] }, pad: 'x'.repeat(100_000) }));
    const deflated = deflateSync(big);
    expect(deflated.length).toBeLessThan(big.length);
    const zip = zipSync({ 'config.json': [big, { level: 6 }], 'model.weights.h5': new Uint8Array(8) });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let o = 0; o + 46 < zip.length; o++) {
      if (view.getUint32(o, true) === 0x02014b50 && new TextDecoder().decode(zip.subarray(o + 46, o + 46 + 11)) === 'config.json') {
        view.setUint32(o + 24, 64, true); // claims 64 bytes
      }
    }
    const { entries } = readZip(zip, 'liar.keras', () => true);
    expect(entries.get('config.json')!.length).toBeLessThanOrEqual(64);
    const err = await loadError('liar.keras', zip);
    expect(err.code).toBe('bad-model');
  });

  it('a manifest pointing at a missing shard', async () => {
    const json = fixture('tfjs-layers-legacy-list-config/bundle_model_test.json');
    const err = await loadError('bundle_model_test.json', json, {});
    expect(err.code).toBe('file-not-found');
    expect(err.message).toMatch(/^bundle_model_test\.json: weight shard "\.\/bundle_model_test_weights\.bin" named in the manifest cannot be read/);
  });

  it('a shard of the wrong size', async () => {
    const json = fixture('tfjs-layers-legacy-list-config/bundle_model_test.json');
    const err = await loadError('bundle_model_test.json', json, { 'bundle_model_test_weights.bin': new Uint8Array(40) });
    expect(err.message).toBe(
      'bundle_model_test.json: the weight shards ./bundle_model_test_weights.bin hold 40 bytes but the manifest declares 44 for 2 weights (wrong or truncated shard?)',
    );
  });

  it('a manifest declaring a huge weight is refused before any shard is read', async () => {
    const json = JSON.parse(new TextDecoder().decode(fixture('tfjs-layers-legacy-list-config/bundle_model_test.json')));
    json.weightsManifest[0].weights[0].shape = [100000, 100000];
    let read = 0;
    const files = {
      main: strToU8(JSON.stringify(json)),
      mainName: 'huge.json',
      readSibling: async () => {
        read++;
        return new Uint8Array(44);
      },
    };
    const err = await loadModelFiles(files, 'huge.json').catch((e) => e);
    expect(err).toBeInstanceOf(ActmaxError);
    expect(err.message).toMatch(/^huge\.json: the manifest declares 40000000004 bytes of weights; more than 1073741824 is refused/);
    expect(read).toBe(0);
  });

  it('a manifest weight that no layer has', async () => {
    const json = JSON.parse(new TextDecoder().decode(fixture('tfjs-layers-legacy-list-config/bundle_model_test.json')));
    json.weightsManifest[0].weights[1].name = 'dense_Dense2/gamma';
    const err = await loadError('renamed.json', strToU8(JSON.stringify(json)), { 'bundle_model_test_weights.bin': fixture('tfjs-layers-legacy-list-config/bundle_model_test_weights.bin') });
    expect(err.message).toMatch(/^renamed\.json: the manifest has weight "dense_Dense2\/gamma", which no layer of the model has/);
  });

  it('a truncated model.json', async () => {
    const json = fixture('tfjs-layers-abalone-mlp/model.json');
    const err = await loadError('model.json', json.subarray(0, 500));
    expect(err.message).toMatch(/^model\.json: looks like JSON but does not parse \(truncated\?\)/);
  });

  it('a .keras whose weights have the wrong shape', async () => {
    const bytes = await writeKerasV3(denseConfig(2), [{ key: 'dense', vars: [{ shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }, goodVars[1]] }]);
    const err = await loadError('wrong.keras', bytes);
    expect(err.message).toBe('wrong.keras: weight kernel of layer "fc" has shape [3, 2] (6 values) in the file, but the config needs [4, 2]');
  });

  it('a .keras missing a layer\'s weights', async () => {
    const bytes = await writeKerasV3(denseConfig(2), [{ key: 'dense', vars: [goodVars[0]] }]);
    const err = await loadError('short.keras', bytes);
    expect(err.message).toBe('short.keras: layer "fc" needs 2 weight arrays (kernel, bias) but the file has 1');
  });

  it('a legacy .h5 with a wrong-size weight and one with weights only', async () => {
    const wrong = await writeLegacyH5(denseConfig(2), [{ layer: 'fc', weights: [{ name: 'fc/kernel:0', var: { shape: [4, 3], data: new Array(12).fill(0) } }, { name: 'fc/bias:0', var: goodVars[1] }] }]);
    expect((await loadError('wrong.h5', wrong)).message).toBe('wrong.h5: weight kernel of layer "fc" has shape [4, 3] (12 values) in the file, but the config needs [4, 2]');
    const missing = await writeLegacyH5(denseConfig(2), [{ layer: 'fc', weights: [{ name: 'fc/kernel:0', var: goodVars[0] }] }]);
    expect((await loadError('missing.h5', missing)).message).toBe('missing.h5: layer "fc" needs a weight "bias" but the file only has "fc/kernel:0" for it');
  });

  it('a config naming shapes that would exhaust memory is refused without allocating', async () => {
    const before = process.memoryUsage().rss;
    const bytes = await writeKerasV3(denseConfig(1_000_000_000), [{ key: 'dense', vars: goodVars }]);
    const err = await loadError('giant.keras', bytes);
    expect(err.message).toBe('giant.keras: the config asks for a weight of shape [4, 1000000000], which takes the model past 268435456 floats (1 GiB); refusing to allocate it');
    const huge = await writeKerasV3(denseConfig(2, [100000, 100000]), [{ key: 'dense', vars: goodVars }]);
    const err2 = await loadError('wide.keras', huge);
    expect(err2.message).toMatch(/^wide\.keras: (layer "flat" would output 10000000000 values per example|the config asks for a weight of shape \[10000000000, 2\])/);
    expect(process.memoryUsage().rss - before).toBeLessThan(512 * 2 ** 20);
  });

  it('a Lambda layer and a nested model are refused', async () => {
    const lambda = k3Sequential('seq', [
      k3Layer('InputLayer', 'inp', { batch_shape: [null, 4] }),
      k3Layer('Lambda', 'double_it', { function: { class_name: '__lambda__', config: { code: 'YmFk' } } }),
    ]);
    const err = await loadError('lambda.keras', await writeKerasV3(lambda, []));
    expect(err.code).toBe('unsupported-layer');
    expect(err.message).toBe(
      'lambda.keras: layer "double_it" of class Lambda (a Lambda layer holds Python code) is not supported; actmax never runs code from model files — rebuild it with standard Keras layers',
    );
    const nested = k3Functional('outer', [k3Layer('InputLayer', 'inp', { batch_shape: [null, 4] }), { ...k3Sequential('inner', []), name: 'inner', inbound_nodes: [] }], ['inp'], ['inner']);
    const err2 = await loadError('nested.keras', await writeKerasV3(nested, []));
    expect(err2.code).toBe('unsupported-layer');
    expect(err2.message).toMatch(/^nested\.keras: layer "inner" of class Sequential: nested models are not supported/);
  });

  it('a graph model with an op TF.js lacks', async () => {
    const json = JSON.parse(new TextDecoder().decode(fixture('tfjs-e2e-load-predict/graph_model/model_new.json')));
    json.modelTopology.node[2].op = 'FancyNewOp';
    const err = await loadError('graph.json', strToU8(JSON.stringify(json)), { 'weights.bin': fixture('tfjs-e2e-load-predict/graph_model/weights.bin') });
    expect(err.message).toContain('FancyNewOp');
  });

  it('a bare Keras config JSON and an unrelated JSON', async () => {
    expect((await loadError('arch.json', strToU8(JSON.stringify(denseConfig(2))))).message).toMatch(/^arch\.json: a bare Keras model config without weights/);
    expect((await loadError('pkg.json', strToU8('{"name":"x"}'))).message).toBe('pkg.json: a JSON file without "modelTopology"; not a TF.js model.json');
  });

  it('an h5 file holding weights only', async () => {
    const { default: h5wasm } = await import('h5wasm');
    const m = await h5wasm.ready;
    const f = new h5wasm.File('/weights-only.h5', 'w');
    f.create_attribute('layer_names', ['fc']);
    f.create_group('fc');
    f.close();
    const bytes = new Uint8Array(m.FS!.readFile('/weights-only.h5') as Uint8Array);
    m.FS!.unlink('/weights-only.h5');
    expect((await loadError('w.h5', bytes)).message).toBe(
      'w.h5: holds weights only (saved with save_weights), no model config; save the whole model with model.save("model.keras")',
    );
  });
});
