import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../backend.js';
import { describeModel } from '../../model/describe.js';
import { loadModel } from '../../model/load.js';
import type { ActmaxModel } from '../../model/types.js';
import type { ObjectiveSpec } from '../../objectives/spec.js';
import { resolvePipeline, drawSteps } from '../../pipeline/resolve.js';
import type { ImageOptions } from '../../pipeline/defaults.js';
import { Rng } from '../../optimize/rng.js';
import type { EngineRequest } from '../engine.js';
import type { Constraint } from '../../constraints/constraint.js';
import { loadDatasetPrior } from '../../prior/dataset.js';
import { subspacePrior } from '../../prior/subspace.js';
import { onnxSupport } from './engine.js';
import { createTfjsEngine } from '../tfjs.js';
import { createOnnxEngine } from './engine.js';
import { uniforms } from './testing.js';
import { maxRelDiff } from '../../model/testing/model-files.js';

/*
 * The ONNX engine must give the TF.js reference engine's numbers for the whole step: values and
 * input gradients (regularisers included) within 1e-5, relative to the largest magnitude of the
 * compared quantity, for every objective kind and every pipeline stage (parameterisations,
 * per-row transforms, penalties, diversity), and the same evaluations (values, outputs, rendered
 * inputs).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TOL = 1e-5;

interface Case {
  targets: ObjectiveSpec[];
  restarts?: number;
  image?: ImageOptions | 'auto';
  /** Starting variables in [lo, hi]. */
  range?: [number, number];
  /** Override the transforms' fill rule. */
  fill?: 'edge' | number;
  /** Round the starting variables to this many levels in [lo, hi] (ties between neighbours, as after clipping). */
  levels?: number;
  /** Constraints the pipeline reads (a data prior becomes the parameterisation). */
  constraints?: Constraint[];
}

async function compare(model: ActmaxModel, c: Case): Promise<void> {
  const restarts = c.restarts ?? 2;
  const pipeline = c.image ? resolvePipeline(model, [0], c.image, { constraints: c.constraints ?? [] }).spec : undefined;
  if (pipeline && c.fill !== undefined) pipeline.inputs[0].fill = c.fill;
  const req: EngineRequest = { model, targets: c.targets, rowsPerTarget: restarts, optimize: [0], fixed: new Map(), ...(pipeline ? { pipeline } : {}) };
  const ref = await createTfjsEngine(req);
  const onnx = await createOnnxEngine(req, { threads: 1 });
  try {
    const rows = ref.rows;
    const n = pipeline?.inputs[0].param?.size ?? model.inputs[0].shape.reduce((a, b) => a * b, 1);
    const rand = uniforms(7);
    const [lo, hi] = c.range ?? [0, 1];
    const level = (u: number) => (c.levels ? Math.round(u * c.levels) / c.levels : u);
    const x = Float32Array.from({ length: rows * n }, () => lo + (hi - lo) * level(rand()));
    const draws = pipeline ? drawSteps(pipeline, new Rng(3), rows) : undefined;
    const a = await ref.valueAndGrad([x], draws);
    const b = await onnx.valueAndGrad([x], draws);
    expect(maxRelDiff(b.values, a.values), 'values').toBeLessThan(TOL);
    expect(maxRelDiff(b.grads[0], a.grads[0]), 'gradients').toBeLessThan(TOL);
    expect(a.grads[0].some((g) => g !== 0)).toBe(true);
    const ea = await ref.evaluate([x]);
    const eb = await onnx.evaluate([x]);
    expect(maxRelDiff(eb.values, ea.values), 'evaluated values').toBeLessThan(TOL);
    expect(maxRelDiff(eb.outputs[0], ea.outputs[0]), 'outputs').toBeLessThan(TOL);
    if (ea.inputs) expect(maxRelDiff(eb.inputs![0], ea.inputs[0]), 'rendered inputs').toBeLessThan(TOL);
  } finally {
    ref.dispose();
    onnx.dispose();
  }
}

const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });
const bias = (seed: number) => tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed });

/** A small RGB CNN (conv, pooling, dense, softmax). */
function rgbCnn(): ActmaxModel {
  const m = tf.sequential({ name: 'rgb' });
  m.add(tf.layers.conv2d({ name: 'c1', inputShape: [12, 12, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(1), biasInitializer: bias(2) }));
  m.add(tf.layers.maxPooling2d({ name: 'p1', poolSize: 2 }));
  m.add(tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, strides: 2, activation: 'elu', kernelInitializer: glorot(3), biasInitializer: bias(4) }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ name: 'out', units: 3, activation: 'softmax', kernelInitializer: glorot(7), biasInitializer: bias(8) }));
  return describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, 'rgb');
}

describe('ONNX engine = TF.js reference engine (values and input gradients, 1e-5)', () => {
  let mlp: ActmaxModel;
  let cnn: ActmaxModel;
  beforeAll(async () => {
    await useBackend('wasm');
    mlp = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
    cnn = rgbCnn();
  });

  it('every objective kind on the bundled MLP', async () => {
    await compare(mlp, {
      targets: [
        { kind: 'logit', index: 3 },
        { kind: 'prob', index: 1 },
        { kind: 'margin', index: 7 },
        { kind: 'target', index: 2, value: 4 },
        { kind: 'neuron', layer: 'dense', index: 5, pre: true },
        { kind: 'layerEnergy', layer: 'dense' },
        { kind: 'direction', layer: 'dense', vector: Array.from({ length: 128 }, (_, i) => Math.sin(i)) },
        { kind: 'sum', terms: [{ weight: 1, objective: { kind: 'margin', index: 0 } }, { weight: -0.05, objective: { kind: 'totalVariation' } }, { weight: -0.1, objective: { kind: 'inputL1' } }, { weight: -0.2, objective: { kind: 'inputL2' } }] },
      ],
    });
  });

  it('image defaults of a small image: pixels, per-row jitter (constant fill), TV', async () => {
    await compare(mlp, { targets: [{ kind: 'logit', index: 0 }, { kind: 'margin', index: 4 }], restarts: 3, image: {} });
  });

  it('image defaults on pixels with ties between neighbours (TV takes TF\'s −1 at a tie), all-black and all-white rows included', async () => {
    await compare(mlp, { targets: [{ kind: 'logit', index: 3 }], restarts: 4, image: {}, levels: 3 });
    await compare(mlp, { targets: [{ kind: 'logit', index: 3 }], restarts: 2, image: {}, levels: 1 });
    // 130 rows: the batch the ONNX TV gradient takes in matrix form.
    await compare(mlp, { targets: Array.from({ length: 10 }, (_, i) => ({ kind: 'logit', index: i }) as ObjectiveSpec), restarts: 13, image: {}, levels: 3 });
  });

  it('a subspace prior\'s code as the parameterisation (x = z·U + mean); a decoder prior stays with TF.js, saying why', async () => {
    const prior = subspacePrior((await loadDatasetPrior(mlp)).stored, 16);
    const constraints: Constraint[] = [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior }];
    await compare(mlp, { targets: [{ kind: 'logit', index: 5 }, { kind: 'prob', index: 2 }, { kind: 'layerEnergy', layer: 'dense' }], restarts: 3, image: 'auto', constraints, range: [-3, 3] });
    const decoder = { ...prior, type: 'decoder' as const, decoder: mlp };
    const pipeline = resolvePipeline(mlp, [0], 'auto', { constraints: [{ kind: 'prior', prior: decoder as never }] }).spec;
    expect(onnxSupport({ model: mlp, targets: [{ kind: 'logit', index: 0 }], pipeline })).toMatch(/a decoder prior .* only TF\.js renders decoders/);
  });

  it('sigmoid parameterisation, L1/L2 penalties, diversity on a dense layer', async () => {
    await compare(mlp, { targets: [{ kind: 'logit', index: 5 }], restarts: 4, image: { param: 'sigmoid', transforms: [], regularizers: [{ kind: 'l1', weight: 0.3 }, { kind: 'l2', weight: 0.2 }, { kind: 'diversity', weight: 2, layer: 'dense' }] }, range: [-1, 1] });
  });

  it('spectral (grey) with pad, jitter, scale and rotate: the bilinear path, constant fill', async () => {
    await compare(mlp, { targets: [{ kind: 'logit', index: 9 }], restarts: 2, image: { param: 'spectral', transforms: [{ kind: 'pad', pixels: 2 }, { kind: 'jitter', pixels: 1 }, { kind: 'scale', min: 0.9, max: 1.1 }, { kind: 'rotate', degrees: 10 }] }, range: [-0.02, 0.02] });
  });

  it('RGB CNN: spectral with colour decorrelation, standard transforms with edge fill, Gram diversity, channel objective', async () => {
    await compare(cnn, {
      targets: [{ kind: 'channel', layer: 'c2', channel: 1 }, { kind: 'logit', index: 2 }],
      restarts: 3,
      fill: 'edge',
      image: { param: { kind: 'spectral', decorrelate: true }, transforms: [{ kind: 'pad', pixels: 1 }, { kind: 'jitter', pixels: 1 }, { kind: 'scale', min: 0.95, max: 1.05 }, { kind: 'rotate', degrees: 5 }, { kind: 'jitter', pixels: 1 }], regularizers: [{ kind: 'diversity', weight: 3, layer: 'c1' }] },
      range: [-0.02, 0.02],
    });
  });

  it('RGB CNN: pixels, jitter with a constant fill (window gathers) and with edge fill (scatter gradient), TV on channels, layer energy, prob', async () => {
    await compare(cnn, { targets: [{ kind: 'layerEnergy', layer: 'c1' }, { kind: 'logit', index: 1 }], restarts: 3, image: { param: 'pixel', transforms: [{ kind: 'jitter', pixels: 2 }, { kind: 'jitter', pixels: 1 }], regularizers: [{ kind: 'tv', weight: 0.5 }] } });
    await compare(cnn, { fill: 'edge', targets: [{ kind: 'layerEnergy', layer: 'c1' }, { kind: 'prob', index: 0 }], restarts: 2, image: { param: 'pixel', transforms: [{ kind: 'pad', pixels: 2 }, { kind: 'jitter', pixels: 2 }], regularizers: [{ kind: 'tv', weight: 0.5 }] } });
  });
});
