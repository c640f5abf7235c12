import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend.js';
import { describeModel } from '../model/describe.js';
import type { ActmaxModel } from '../model/types.js';
import type { EngineFactory, EngineRequest } from '../engine/engine.js';
import { createTfjsEngine } from '../engine/tfjs.js';
import { createOnnxEngine } from '../engine/onnx/engine.js';
import { uniforms } from '../engine/onnx/testing.js';
import { maximize } from '../optimize/maximize.js';
import { Rng } from '../optimize/rng.js';
import { fromPicture, toPicture } from '../param/layout.js';
import type { ImageOptions } from './defaults.js';
import { blurRows } from './regularizers.js';
import { drawSteps, resolvePipeline } from './resolve.js';
import { maxRelDiff } from '../model/testing/model-files.js';

/*
 * A channels-first input ([C, H, W]) and its channels-last twin (the same network reading
 * H×W×C) must see the same pictures: parameterisations render pictures, transforms, TV and blur
 * act on them, and only the model's edge differs. So on both engines the twins give the same
 * values, the same gradients (w.r.t. parameters: equal; w.r.t. pixels: equal after moving the
 * channel axis), and a whole run gives the same answer.
 */

const H = 9;
const W = 7;
const C = 3;
const TOL = 1e-5;

/** conv 3×3 → global average pooling → dense, channels-first or channels-last, same weights. */
function twin(channelsFirst: boolean): ActmaxModel {
  const fmt = channelsFirst ? 'channelsFirst' : 'channelsLast';
  const m = tf.sequential({ name: channelsFirst ? 'chw' : 'hwc' });
  m.add(tf.layers.conv2d({ name: 'c1', inputShape: channelsFirst ? [C, H, W] : [H, W, C], dataFormat: fmt, filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 6 }) }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap', dataFormat: fmt }));
  m.add(tf.layers.dense({ name: 'out', units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }));
  return describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, channelsFirst ? 'chw' : 'hwc');
}

const ENGINES: Array<[string, EngineFactory]> = [
  ['tfjs', (req) => createTfjsEngine(req)],
  ['onnx', (req) => createOnnxEngine(req, { threads: 1 })],
];

const PIPELINES: Array<[string, ImageOptions]> = [
  ['spectral + colour decorrelation, pad/jitter/scale/rotate, TV', { param: 'spectral', transforms: [{ kind: 'pad', pixels: 1 }, { kind: 'jitter', pixels: 1 }, { kind: 'scale', min: 0.9, max: 1.1 }, { kind: 'rotate', degrees: 8 }], regularizers: [{ kind: 'tv', weight: 0.3 }] }],
  ['pixels, jitter (window gathers), TV, L2', { param: 'pixel', transforms: [{ kind: 'jitter', pixels: 2 }], regularizers: [{ kind: 'tv', weight: 0.5 }, { kind: 'l2', weight: 0.1 }] }],
];

describe('channels-first inputs: the pipeline works on pictures, both engines', () => {
  let chw: ActmaxModel;
  let hwc: ActmaxModel;
  beforeAll(async () => {
    await useBackend('wasm');
    chw = twin(true);
    hwc = twin(false);
    (chw.net as tf.LayersModel).setWeights((hwc.net as tf.LayersModel).getWeights());
    expect(chw.inputs[0].layout).toBe('nchw');
  });

  for (const [engineName, factory] of ENGINES) {
    for (const [what, image] of PIPELINES) {
      it(`${engineName}: ${what}: values and gradients equal the channels-last twin's`, async () => {
        const rowsPerTarget = 2;
        const targets = [{ kind: 'logit' as const, index: 1 }];
        const specs = [chw, hwc].map((m) => resolvePipeline(m, [0], image, { constraints: [] }).spec);
        // Both read pictures of the same size with the same fill: the same draws apply.
        expect(specs[0].inputs[0].channelsFirst).toBe(true);
        expect(specs[0].inputs[0].dims).toEqual(specs[1].inputs[0].dims);
        const engines = await Promise.all([chw, hwc].map((model, i) => factory({ model, targets, rowsPerTarget, optimize: [0], fixed: new Map(), pipeline: specs[i] } as EngineRequest)));
        try {
          const rows = engines[0].rows;
          const param = specs[1].inputs[0].param;
          const n = param?.size ?? H * W * C;
          const rand = uniforms(11);
          const pictures = Float32Array.from({ length: rows * n }, () => (param ? 0.02 * (rand() - 0.5) : rand()));
          const info = chw.inputs[0];
          // Parameters are the same for both; pixels are the model's own layout.
          const xChw = param ? pictures : fromPicture(pictures, info);
          const draws = drawSteps(specs[1], new Rng(4), rows);
          const a = await engines[0].valueAndGrad([xChw], draws);
          const b = await engines[1].valueAndGrad([pictures], draws);
          expect(maxRelDiff(a.values, b.values), 'values').toBeLessThan(TOL);
          const gradA = param ? a.grads[0] : toPicture(a.grads[0], info);
          expect(maxRelDiff(gradA, b.grads[0]), 'gradients').toBeLessThan(TOL);
          expect(b.grads[0].some((g) => g !== 0)).toBe(true);
          const ea = await engines[0].evaluate([xChw]);
          const eb = await engines[1].evaluate([pictures]);
          expect(maxRelDiff(ea.values, eb.values), 'evaluated values').toBeLessThan(TOL);
          // The rendered input is reported in the model's layout.
          if (eb.inputs) expect(maxRelDiff(toPicture(ea.inputs![0], info), eb.inputs[0]), 'rendered inputs').toBeLessThan(TOL);
        } finally {
          engines.forEach((e) => e.dispose());
        }
      });
    }

    it(`${engineName}: a run with jitter, TV and blur from a constant start gives the twin's answer, transposed`, async () => {
      const image: ImageOptions = { param: 'pixel', transforms: [{ kind: 'jitter', pixels: 1 }], regularizers: [{ kind: 'tv', weight: 0.2 }, { kind: 'blur', weight: 0.3 }] };
      const opts = { steps: 12, restarts: 2, seed: 3, image, init: { constant: 0.5 }, engine: factory, lr: 0.05 };
      const [a, b] = [await maximize(chw, { kind: 'logit', index: 2 }, opts), await maximize(hwc, { kind: 'logit', index: 2 }, opts)];
      expect(a.results[0].value).toBeGreaterThan(a.results[0].history[0].value);
      expect(Math.abs(a.results[0].value - b.results[0].value)).toBeLessThan(1e-4);
      expect(maxRelDiff(toPicture(a.results[0].input, chw.inputs[0]), b.results[0].input)).toBeLessThan(1e-4);
    });
  }

  it('blurRows on channels-first rows = blurRows on the pictures', () => {
    const info = { shape: [C, H, W], layout: 'nchw' as const };
    const rand = uniforms(2);
    const pictures = Float32Array.from({ length: 2 * H * W * C }, () => rand());
    const chwRows = fromPicture(pictures, info);
    blurRows(pictures, 2, [H, W, C], 0.4);
    blurRows(chwRows, 2, [H, W, C], 0.4, true);
    expect(maxRelDiff(toPicture(chwRows, info), pictures)).toBeLessThan(1e-6);
  });
});
