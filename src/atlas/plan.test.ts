import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { ActmaxError } from '../errors.js';
import { describeModel } from '../model/describe.js';
import { tinyCnn as smallCnn } from './testing/small-model.js';
import { batchSeed, chooseLayers, defaultBatchUnits, packBatches, planAtlas, planUnits } from './plan.js';
import { modelDigest } from './fingerprint.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('planAtlas', () => {
  it('takes convolutions by channel and outputs by logit, skipping pooling and flatten', () => {
    const model = smallCnn();
    const layers = chooseLayers(model, 'all');
    expect(layers.map((l) => [l.name, l.kind, l.units])).toEqual([['conv', 'channel', 4], ['out', 'logit', 3]]);
    const units = planUnits(model, layers);
    expect(units.map((u) => u.objective)).toEqual(['channel:conv:0', 'channel:conv:1', 'channel:conv:2', 'channel:conv:3', 'logit:0', 'logit:1', 'logit:2']);
    expect(units[4]).toMatchObject({ id: 'out/0', layer: 'out', index: 0, spec: { kind: 'logit', index: 0 } });
  });

  it('reads named layers: spatial ones by channel, flat ones by neuron; unknown names list the valid ones', () => {
    const model = smallCnn();
    expect(chooseLayers(model, ['pool', 'flat']).map((l) => [l.kind, l.units])).toEqual([['channel', 4], ['neuron', 36]]);
    expect(() => chooseLayers(model, ['nope'])).toThrow(/layer "nope" has no units to map; choose from: conv, pool, flat, out/);
    expect(() => chooseLayers(model, ['conv', 'conv'])).toThrow(ActmaxError);
  });

  it('packs units across layers into batches fixed by the settings alone', () => {
    const model = smallCnn();
    const plan = planAtlas(model, { batchUnits: 3, restarts: 2, steps: 5 });
    expect(plan.batches.map((b) => b.units.map((u) => u.id))).toEqual([['conv/0', 'conv/1', 'conv/2'], ['conv/3', 'out/0', 'out/1'], ['out/2']]);
    expect(plan.batches.map((b) => b.seed)).toEqual([0, 1, 2].map((i) => batchSeed(0, i)));
    // Same model and settings ⇒ same id and batches; a different setting ⇒ another id.
    const again = planAtlas(smallCnn(), { batchUnits: 3, restarts: 2, steps: 5 });
    expect(again.atlasId).toBe(plan.atlasId);
    expect(again.batches).toEqual(plan.batches);
    expect(planAtlas(model, { batchUnits: 3, restarts: 2, steps: 6 }).atlasId).not.toBe(plan.atlasId);
    expect(planAtlas(smallCnn(7), { batchUnits: 3, restarts: 2, steps: 5 }).atlasId).not.toBe(plan.atlasId);
  });

  it('gives batches distinct, reproducible seeds and rejects impossible settings', () => {
    const seeds = Array.from({ length: 200 }, (_, i) => batchSeed(3, i));
    expect(new Set(seeds).size).toBe(200);
    expect(seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 31)).toBe(true);
    expect(batchSeed(3, 5)).toBe(seeds[5]);
    expect(batchSeed(4, 5)).not.toBe(seeds[5]);
    expect(() => packBatches([], { batchUnits: 0, seed: 0 })).toThrow(/batch size must be an integer ≥ 1/);
    expect(() => planAtlas(smallCnn(), { steps: 0 })).toThrow(/steps must be an integer ≥ 1/);
  });

  it('aims at about 32 rows per batch for small images', () => {
    expect(defaultBatchUnits(smallCnn(), 4)).toBe(8);
    expect(defaultBatchUnits(smallCnn(), 6)).toBe(5);
  });
});

describe('modelDigest', () => {
  it('depends on the weights, not on TF.js variable names or where the model came from', () => {
    const a = smallCnn(1), b = smallCnn(1), c = smallCnn(2);
    expect(modelDigest(a)).toBe(modelDigest(b)); // b's variables are named kernel_1 … in this process
    expect(modelDigest(a)).not.toBe(modelDigest(c));
    const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'd', kernelInitializer: 'ones' })] });
    const before = modelDigest(describeModel({ net, format: 'tfjs-layers', metadata: {}, notes: [] }, 'memory'));
    net.layers[0].setWeights([tf.ones([3, 2]).mul(2), tf.zeros([2])]);
    expect(modelDigest(describeModel({ net, format: 'tfjs-layers', metadata: {}, notes: [] }, 'memory'))).not.toBe(before);
  });
});
