import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend.js';
import { describeModel } from '../model/describe.js';
import { summarizeModel } from '../model/inspect.js';
import { tapChannelAxis } from '../model/activations.js';
import type { ActmaxModel } from '../model/types.js';
import type { EngineFactory } from '../engine/engine.js';
import { createTfjsEngine } from '../engine/tfjs.js';
import { diversityTerm } from '../engine/tfjs-pipeline.js';
import { createOnnxEngine } from '../engine/onnx/engine.js';
import { uniforms } from '../engine/onnx/testing.js';
import { channelAxis } from '../ir/channels.js';
import type { IrGraph } from '../ir/ir.js';
import { drawSteps, resolvePipeline } from '../pipeline/resolve.js';
import { Rng } from '../optimize/rng.js';
import { parseObjectiveFor } from './check.js';
import { batchTerms } from './terms.js';

/*
 * A channels-first layer ([C, H, W]: a Keras conv with data_format channels_first, a graph recorded
 * NCHW) holds its channels on axis 0. `channel:L:K` is the mean of filter K, the diversity Gram is
 * over filters, and `inspect`/index checks count filters — on both engines. The reference is a
 * float64 convolution written out here (no engine involved), so a mistake both engines share
 * (reading the last axis, i.e. columns of W) is caught.
 */

const [C, H, W, F] = [3, 16, 14, 4]; // input [3, 16, 14] → conv 3×3 valid → [4, 14, 12]
const [OH, OW] = [H - 2, W - 2];

function channelsFirstConv(): ActmaxModel {
  const m = tf.sequential({ name: 'chw' });
  m.add(tf.layers.conv2d({ name: 'c1', inputShape: [C, H, W], dataFormat: 'channelsFirst', filters: F, kernelSize: 3, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 6 }) }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ name: 'out', units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }));
  return describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, 'chw');
}

/** The conv's output in float64, [filter, y, x] per row, from the model's own kernel (HWIO) and bias. */
function conv64(model: ActmaxModel): (x: ArrayLike<number>) => Float64Array {
  const [k, b] = (model.net as tf.LayersModel).getWeights().map((t) => t.dataSync());
  return (x) => {
    const act = new Float64Array(F * OH * OW);
    for (let o = 0; o < F; o++) for (let y = 0; y < OH; y++) for (let xx = 0; xx < OW; xx++) {
      let a = b[o];
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) for (let c = 0; c < C; c++) a += k[((ky * 3 + kx) * C + c) * F + o] * x[c * H * W + (y + ky) * W + xx + kx];
      act[(o * OH + y) * OW + xx] = Math.tanh(a);
    }
    return act;
  };
}

/** Mean of filter `k` of a [filter, y, x] activation. */
const filterMean = (act: Float64Array, k: number) => act.subarray(k * OH * OW, (k + 1) * OH * OW).reduce((s, v) => s + v, 0) / (OH * OW);

/** Lucid's diversity per row, in float64, with the Gram matrix over filters of [filter, position] activations. */
function diversityRows64(acts: Float64Array[], weight: number): number[] {
  const n = OH * OW;
  const grams = acts.map((a) => {
    const g = new Float64Array(F * F);
    for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) for (let q = 0; q < n; q++) g[i * F + j] += a[i * n + q] * a[j * n + q];
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0) + 1e-10);
    return g.map((v) => v / norm);
  });
  return grams.map((gi, i) => grams.reduce((s, gj, j) => (i === j ? s : s - (weight * gi.reduce((t, v, q) => t + v * gj[q], 0)) / grams.length), 0));
}

/** Largest |a − b| relative to the largest |b|. */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-12, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}

const ENGINES: Array<[string, EngineFactory]> = [
  ['tfjs', (req) => createTfjsEngine(req)],
  ['onnx', (req) => createOnnxEngine(req, { threads: 1 })],
];

describe('channels-first layers: channels are axis 0 for objectives, diversity and inspect', () => {
  let model: ActmaxModel;
  let act64: (x: ArrayLike<number>) => Float64Array;
  beforeAll(async () => {
    await useBackend('wasm');
    model = channelsFirstConv();
    act64 = conv64(model);
  });

  it('the layer knows its channel axis; inspect, `all` and index errors count its 4 filters, not its 12 columns', () => {
    const c1 = model.layers.find((l) => l.name === 'c1')!;
    expect(c1.outputShape).toEqual([F, OH, OW]);
    expect(c1.channelAxis).toBe(0);
    expect(tapChannelAxis(model, { layer: 'c1', pre: true })).toBe(0);
    expect(tapChannelAxis(model, { layer: 'out', pre: false })).toBe(0); // [3]: its only axis
    expect(summarizeModel(model).layers.find((l) => l.name === 'c1')!.channels).toBe(F);
    expect(parseObjectiveFor('channel:c1:all', model)).toHaveLength(F);
    const range = /channel:c1:4: index 4 is out of range; layer "c1" \(channels\) has 4 units \(0–3\)/;
    expect(() => parseObjectiveFor('channel:c1:4', model)).toThrow(range);
    expect(() => batchTerms(model, [{ kind: 'channel', layer: 'c1', channel: 4 }], 1)).toThrow(range);
    // A per-channel direction has one value per filter and weighs the filters' maps like channel:c1:K.
    const [dir] = batchTerms(model, [{ kind: 'direction', layer: 'c1', vector: [0, 0, 1, 0] }], 1).linear;
    const [chan] = batchTerms(model, [{ kind: 'channel', layer: 'c1', channel: 2 }], 1).linear;
    expect(dir.w).toEqual(chan.w);
    expect(() => batchTerms(model, [{ kind: 'direction', layer: 'c1', vector: new Array(OW).fill(1) }], 1)).toThrow(/needs 672 \(all units\) or 4 \(one per channel\)/);
  });

  for (const [name, factory] of ENGINES) {
    it(`${name}: channel:c1:K is the mean of filter K (float64 convolution by hand)`, async () => {
      const targets = Array.from({ length: F }, (_, k) => ({ kind: 'channel' as const, layer: 'c1', channel: k }));
      const rowsPerTarget = 2;
      const engine = await factory({ model, targets, rowsPerTarget, optimize: [0], fixed: new Map() });
      try {
        const rand = uniforms(3);
        const x = Float32Array.from({ length: engine.rows * C * H * W }, () => rand());
        const want = Array.from({ length: engine.rows }, (_, r) => filterMean(act64(x.subarray(r * C * H * W, (r + 1) * C * H * W)), Math.floor(r / rowsPerTarget)));
        const got = await engine.evaluate([x]);
        expect(rel(got.values, want)).toBeLessThan(1e-5);
      } finally {
        engine.dispose();
      }
    });

    it(`${name}: the diversity gradient is the Gram over filters (float64 finite differences)`, async () => {
      const weight = 2, restarts = 3;
      const spec = resolvePipeline(model, [0], { param: 'pixel', transforms: [], regularizers: [{ kind: 'diversity', weight, layer: 'c1' }] }, { constraints: [] }).spec;
      expect(spec.diversity).toEqual({ layer: 'c1', weight, channelAxis: 0 });
      expect(spec.inputs[0].param).toBeNull();
      const targets = [{ kind: 'channel' as const, layer: 'c1', channel: 2 }];
      const engine = await factory({ model, targets, rowsPerTarget: restarts, optimize: [0], fixed: new Map(), pipeline: spec });
      try {
        const n = C * H * W;
        const rand = uniforms(8);
        const x = Float64Array.from({ length: restarts * n }, () => Math.fround(rand()));
        const rowsOf = (p: Float64Array) => Array.from({ length: restarts }, (_, r) => act64(p.subarray(r * n, (r + 1) * n)));
        // What the gradient is of: Σ rows (filter-2 mean + diversity).
        const total = (p: Float64Array) => {
          const acts = rowsOf(p);
          return acts.reduce((s, a) => s + filterMean(a, 2), 0) + diversityRows64(acts, weight).reduce((s, v) => s + v, 0);
        };
        // Every 5th coordinate (all rows, channels and positions take part).
        const coords = Array.from({ length: Math.ceil(x.length / 5) }, (_, j) => j * 5);
        const step = 1e-5;
        const fd = coords.map((i) => {
          const up = Float64Array.from(x), down = Float64Array.from(x);
          up[i] += step;
          down[i] -= step;
          return (total(up) - total(down)) / (2 * step);
        });
        const got = await engine.valueAndGrad([Float32Array.from(x)], drawSteps(spec, new Rng(1), restarts));
        expect(rel(got.values, rowsOf(x).map((a) => filterMean(a, 2))), 'values').toBeLessThan(1e-5);
        expect(rel(coords.map((i) => got.grads[0][i]), fd), 'gradient').toBeLessThan(1e-4);
      } finally {
        engine.dispose();
      }
    });
  }

  it('tfjs: the diversity value per row is the Gram over axis 0 of [C, H, W] activations', () => {
    const rand = uniforms(4);
    const acts = Array.from({ length: 3 }, () => Float64Array.from({ length: F * OH * OW }, () => Math.fround(rand() - 0.3)));
    const a = tf.tensor4d(Float32Array.from(acts.flatMap((r) => [...r])), [3, F, OH, OW]);
    const term = diversityTerm('c1', 2, 0);
    const got = term.fn({ tap: () => a, inputs: [], rowsPerTarget: 3 });
    expect(rel(got.dataSync(), diversityRows64(acts, 2))).toBeLessThan(1e-5);
    tf.dispose([a, got]);
  });

  it('the IR follows the channel axis through Transposes, reductions and reshapes', () => {
    const shapes = new Map<string, number[]>([['x', [3, 8, 8]], ['t', [8, 8, 3]], ['conv', [8, 8, 4]], ['back', [4, 8, 8]], ['act', [4, 8, 8]], ['rows', [4, 64]], ['pool', [4]], ['deep', [8, 8, 4]]]);
    const ir = {
      inputs: [{ name: 'x', shape: [3, 8, 8] }],
      nodes: [
        { name: 't', op: 'Transpose', perm: [0, 2, 3, 1], inputs: ['x'], layer: 't' },
        { name: 'conv', op: 'Conv2D', inputs: ['t', 'k'], layer: 'conv' },
        { name: 'back', op: 'Transpose', perm: [0, 3, 1, 2], inputs: ['conv'], layer: 'conv' },
        { name: 'act', op: 'Relu', inputs: ['back'], layer: 'conv' },
        { name: 'rows', op: 'Reshape', shape: [4, 64], inputs: ['act'], layer: 'r' },
        { name: 'pool', op: 'Mean', axes: [2], keepDims: false, inputs: ['rows'], layer: 'p' },
        { name: 'deep', op: 'Transpose', perm: [0, 2, 3, 1], inputs: ['act'], layer: 'd' },
      ],
      shapes,
      consts: new Map([['k', { shape: [3, 3, 3, 4], data: new Float32Array(108) }]]),
    } as unknown as IrGraph;
    const axes = ['x', 't', 'conv', 'back', 'act', 'rows', 'pool', 'deep'].map((v) => channelAxis(ir, v, ['nchw']));
    expect(axes).toEqual([0, 2, 2, 0, 0, 0, 0, 2]);
    // The same graph read as channels-last at its input: only the input itself changes.
    expect(channelAxis(ir, 'x', ['nhwc'])).toBe(2);
    expect(channelAxis(ir, 'act', ['nhwc'])).toBe(0);
  });
});
