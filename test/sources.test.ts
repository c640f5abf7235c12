import { createServer, type Server } from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/model/load.js';
import { useBackend } from '../src/backend.js';
import { BUNDLED, fixturePath, marabouCnnKeras } from './helpers.js';

// One model, every way a user can point at it: path, directory, file:// URL, http URL, bytes in memory.
let server: Server;
let base: string;
beforeAll(async () => {
  await useBackend('wasm');
  server = createServer(async (req, res) => {
    const name = path.basename(decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    try {
      res.end(await fs.readFile(path.join(BUNDLED, name)));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function firstOutput(source: Parameters<typeof loadModel>[0], shape = [1, 28, 28]): Promise<number[]> {
  const m = await loadModel(source);
  const tf = await import('@tensorflow/tfjs');
  const y = tf.tidy(() => (m.net as import('@tensorflow/tfjs').LayersModel).predict(tf.fill(shape, 0.5)) as import('@tensorflow/tfjs').Tensor);
  const v = Array.from(await y.data());
  y.dispose();
  m.dispose();
  return v;
}

describe('model sources', () => {
  it('path, directory, file:// URL, http URL and in-memory files give the same model', async () => {
    const ref = await firstOutput(path.join(BUNDLED, 'model.json'));
    expect(await firstOutput(BUNDLED)).toEqual(ref);
    expect(await firstOutput(pathToFileURL(path.join(BUNDLED, 'model.json')).href)).toEqual(ref);
    expect(await firstOutput(`${base}model.json`)).toEqual(ref);
    const files = { 'model.json': await fs.readFile(path.join(BUNDLED, 'model.json')), 'weights.bin': await fs.readFile(path.join(BUNDLED, 'weights.bin')) };
    expect(await firstOutput({ files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new Uint8Array(v)])) })).toEqual(ref);
  });

  it('a Keras file from memory (as dropped in a browser) computes what the same network read from .h5 does', async () => {
    const bytes = await marabouCnnKeras();
    const m = await loadModel({ files: { 'mnist_cnn.keras': bytes } });
    expect(m.format).toBe('keras-v3');
    expect(m.inputs[0].shape).toEqual([28, 28, 1]);
    m.dispose();
    const fromKeras = await firstOutput({ files: { 'mnist_cnn.keras': bytes } }, [1, 28, 28, 1]);
    const fromH5 = await firstOutput(fixturePath('keras2-h5-cnn-mnist-marabou/cnn_max_mnist2.h5'), [1, 28, 28, 1]);
    expect(fromKeras).toHaveLength(10);
    expect(fromKeras).toEqual(fromH5);
  });

  it('a missing shard over http names the file and the status', async () => {
    const json = JSON.parse(await fs.readFile(path.join(BUNDLED, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['nope.bin'];
    await expect(loadModel({ files: { 'model.json': new TextEncoder().encode(JSON.stringify(json)) } })).rejects.toThrow(/nope\.bin/);
    await expect(loadModel(`${base}missing.json`)).rejects.toThrow(/HTTP 404/);
  });
});
