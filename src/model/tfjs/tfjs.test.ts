/**
 * TF.js specifics: gradients flow through a loaded graph model (CPU backend), metadata and
 * signature locations, and weight matching by name whatever the manifest order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { strToU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFiles } from '../formats.js';
import { fixturePath as fixture } from '../testing/fixtures.js';
import { filesFromDisk, filesFromMemory, relError, useBackend } from '../testing/model-files.js';

// Every fixture here is one the repository carries (test/fixtures).
/** A little-endian float32 file as numbers (copied out of Node's pooled Buffer). */
const floats = (p: string) => new Float32Array(Uint8Array.from(readFileSync(fixture(p))).buffer);

describe('TF.js graph models on the CPU backend', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  afterAll(async () => {
    await useBackend('wasm');
  });

  it('the input gradient through model.execute of the MatMul graph equals the analytic one', async () => {
    for (const m of ['graph_model/model.json', 'graph_model/model_new.json']) {
      const loaded = await loadModelFiles(await filesFromDisk(fixture(`tfjs-e2e-load-predict/${m}`)), 'model.json');
      const net = loaded.net as tf.GraphModel;
      const w = floats('tfjs-e2e-load-predict/graph_model/weights.bin');
      // d/dX sum(X·W) = 1·Wᵀ: every entry (i, k) is the sum of W's row k.
      const rowSums = [w[0] + w[1], w[2] + w[3]];
      const x = tf.tensor([[0.3, -1.2], [2, 0.5]]);
      const g = tf.grad((xx: tf.Tensor) => tf.sum(net.execute({ Placeholder: xx }) as tf.Tensor))(x);
      expect(relError(g.dataSync(), [...rowSums, ...rowSums])).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, g]);
      net.dispose();
    }
  });

  it('the gradient flows through _FusedMatMul (Dense folded into the graph)', async () => {
    const loaded = await loadModelFiles(await filesFromDisk(fixture('tfjs-graph-dense-fusedmatmul/model.json')), 'model.json');
    const net = loaded.net as tf.GraphModel;
    const [kernel] = floats('tfjs-graph-dense-fusedmatmul/group1-shard1of1.bin');
    const x = tf.tensor([[0.25], [0.75]]);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(net.execute({ dense_dense1_input: xx }) as tf.Tensor))(x);
    expect(relError(g.dataSync(), [kernel, kernel])).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, g]);
    net.dispose();
  });
});

describe('TF.js model.json details', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('userDefinedMetadata becomes metadata (layers and graph models)', async () => {
    const dir = fixture('tfjs-layers-legacy-list-config');
    const json = JSON.parse(readFileSync(path.join(dir, 'bundle_model_test.json'), 'utf8'));
    json.userDefinedMetadata = { classNames: ['score'], inputRange: [0, 1] };
    const bin = new Uint8Array(readFileSync(path.join(dir, 'bundle_model_test_weights.bin')));
    const loaded = await loadModelFiles(filesFromMemory('m.json', strToU8(JSON.stringify(json)), { 'bundle_model_test_weights.bin': bin }), 'm.json');
    expect(loaded.metadata).toEqual({ classNames: ['score'], inputRange: [0, 1] });
    expect(loaded.kerasVersion).toBe('tfjs-layers 1.2.7');
    loaded.net.dispose();

    const graph = await loadModelFiles(await filesFromDisk(fixture('tfjs-e2e-load-predict/graph_model/model.json')), 'model.json');
    expect(Object.keys(graph.metadata)).toContain('signature');
    graph.net.dispose();
  });

  it('weights are matched by name, whatever order the manifest lists them in', async () => {
    const dir = fixture('tfjs-layers-abalone-mlp');
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const bin = new Uint8Array(readFileSync(path.join(dir, 'weights.bin')));
    // Reverse the manifest and the shard's weight blocks together.
    const specs = json.weightsManifest[0].weights as { name: string; shape: number[] }[];
    const blocks: Uint8Array[] = [];
    let off = 0;
    for (const s of specs) {
      const n = s.shape.reduce((a, b) => a * b, 1) * 4;
      blocks.push(bin.subarray(off, off + n));
      off += n;
    }
    const reversedBin = new Uint8Array(bin.length);
    let o = 0;
    for (const b of [...blocks].reverse()) {
      reversedBin.set(b, o);
      o += b.length;
    }
    const reversed = { ...json, weightsManifest: [{ paths: ['weights.bin'], weights: [...specs].reverse() }] };
    const a = await loadModelFiles(await filesFromDisk(path.join(dir, 'model.json')), 'model.json');
    const b = await loadModelFiles(filesFromMemory('r.json', strToU8(JSON.stringify(reversed)), { 'weights.bin': reversedBin }), 'r.json');
    const x = tf.randomUniform([4, 8], 0, 1, 'float32', 3);
    const ya = (a.net as tf.LayersModel).predict(x) as tf.Tensor;
    const yb = (b.net as tf.LayersModel).predict(x) as tf.Tensor;
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, ya, yb]);
    a.net.dispose();
    b.net.dispose();
  });
});
