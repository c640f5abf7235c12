import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import type { ActmaxModel } from '../model/types.js';
import { spectralConstants } from '../param/param.js';
import { Rng } from '../optimize/rng.js';
import { penaltyReference, pipelineReference, testDraw, testStage } from '../pipeline/reference64.js';
import type { InputStage } from '../pipeline/spec.js';
import { standardTransforms } from '../transforms/spec.js';
import { onnxStages, type StageParts } from './onnx/pipeline/testing.js';
import { tfjsPipeline } from './tfjs-pipeline.js';
import { createTfjsEngine } from './tfjs.js';
import { createOnnxEngine } from './onnx/engine.js';
import { describeModel } from '../model/describe.js';
import { drawSteps, resolvePipeline } from '../pipeline/resolve.js';
import type { StepDraws } from '../pipeline/spec.js';
import type { EngineRequest } from './engine.js';
import { skipUnlessLong } from '../model/testing/fixtures.js';

/*
 * Each pipeline stage of both engines (the parameterisation, the row's transform, and the two
 * together) against the float64 reference (src/pipeline/reference64.ts, itself checked against
 * float64 finite differences): the input the network sees, and the gradient of Σ R ⊙ seen
 * w.r.t. the variables, to 1e-5 relative to the largest magnitude of the compared vector. Sizes
 * from small up to the real models' defaults: 416×416 RGB channels-first (nanodet; a long test:
 * ACTMAX_LONG_TESTS=1, as in .ci/run) and 128×128
 * RGB (antispoof, blazeface, facemesh), spectral + decorrelation + standard transforms + edge fill.
 * Then the whole step (pipeline → a small smooth conv net → logit, with the penalties and the
 * diversity term) of both engines against central finite differences of a float64 forward pass.
 */

const TOL = 1e-5;

function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-30, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

/** The TF.js reference pipeline's stages on one row. */
function tfjsStages(stage: InputStage, parts: StageParts, x: Float32Array, affine: Float64Array | null, r: Float32Array): { seen: Float32Array; grad: Float32Array } {
  // The model is only read by data priors, which these stages are not.
  const pipeline = tfjsPipeline({ inputs: [stage], diversity: null }, null as unknown as ActmaxModel);
  try {
    return tf.tidy(() => {
      const through = (v: tf.Tensor) => {
        const rendered = parts.render ? pipeline.render(v, 0) : v.reshape([1, ...stage.shape]);
        return parts.warp ? pipeline.transform(rendered, 0, affine) : rendered;
      };
      const input = tf.tensor2d(x, [1, x.length]);
      const readout = tf.tensor(r, [1, ...stage.shape]);
      const grad = tf.grad((v: tf.Tensor) => through(v).mul(readout).sum())(input);
      return { seen: through(input).dataSync() as Float32Array, grad: grad.dataSync() as Float32Array };
    });
  } finally {
    pipeline.dispose();
  }
}

/** `whole`: only the stages together (the stages alone are covered at the smaller sizes). */
const CASES: Array<{ name: string; stage: InputStage; whole?: boolean }> = [
  { name: '416×416 RGB channels-first: spectral, decorrelated, standard transforms, edge fill (nanodet defaults)', stage: testStage([416, 416, 3], 'spectral', standardTransforms(416, 416), 'edge', true), whole: true },
  { name: '128×128 RGB: spectral, decorrelated, standard transforms, edge fill (antispoof defaults)', stage: testStage([128, 128, 3], 'spectral', standardTransforms(128, 128), 'edge') },
  { name: '12×10 RGB channels-first: spectral, standard transforms, constant fill', stage: testStage([12, 10, 3], 'spectral', standardTransforms(12, 10), 0.25, true) },
  { name: '9×8 grey: spectral, pad + jitter (a shift chain) with edge fill', stage: testStage([9, 8, 1], 'spectral', [{ kind: 'pad', pixels: 2 }, { kind: 'jitter', pixels: 2 }], 'edge') },
  { name: '8×9 RGB: sigmoid, decorrelated, pad + jitter with a constant fill (window gathers)', stage: testStage([8, 9, 3], 'sigmoid', [{ kind: 'pad', pixels: 2 }, { kind: 'jitter', pixels: 2 }], 0.1) },
  { name: '28×28 grey pixels: scale + rotate, edge fill', stage: testStage([28, 28, 1], 'pixel', [{ kind: 'scale', min: 0.8, max: 1.2 }, { kind: 'rotate', degrees: 30 }], 'edge') },
];

beforeAll(async () => {
  await useBackend('wasm');
});

describe('pipeline stages of both engines = the float64 reference (1e-5)', () => {
  for (const { name, stage, whole } of CASES) {
    const why = Math.max(...stage.shape) > 128 ? skipUnlessLong(`pipeline stages at 416×416 (nanodet)`) : '';
    it.skipIf(why)(`${name}${why}`, async () => {
      const rng = new Rng(23);
      const n = stage.shape.reduce((a, b) => a * b, 1);
      // A mid-contrast picture: white noise of sd 1 before the squash (the spectral basis is
      // orthonormal, so white spectra divided by the frequency scale), or plain pixels in the range.
      const plan = stage.param;
      const scale = plan?.kind === 'spectral' ? spectralConstants(plan).scale : null;
      const p = Float32Array.from({ length: plan?.size ?? n }, (_, i) => (plan ? rng.normal() / (scale ? scale[i % scale.length] : 1) : -0.4 + 1.8 * rng.uniform()));
      const r = Float32Array.from({ length: n }, () => rng.normal());
      const affine = testDraw(stage, 9);
      const variants: StageParts[] = [{ render: true, warp: true }, { render: true, warp: false }, { render: false, warp: true }].slice(0, whole ? 1 : 3).filter((v) => (v.render || !!affine) && (v.warp || !!stage.param) && (!v.render || !!stage.param));
      for (const parts of variants) {
        // The stage alone: render without the transform, or the transform of the reference's rendered input.
        const x = parts.render ? p : Float32Array.from(pipelineReference({ ...stage, transforms: [] }, p, null).rendered);
        const ref = parts.render
          ? pipelineReference(parts.warp ? stage : { ...stage, transforms: [] }, p, parts.warp ? affine : null)
          : pipelineReference({ ...stage, param: null }, x, affine);
        const want = ref.backward(r).dp;
        for (const [engine, got] of [['tfjs', tfjsStages(stage, parts, x, affine, r)], ['onnx', await onnxStages(stage, parts, x, affine, r)]] as const) {
          const what = `${engine} render=${parts.render} warp=${parts.warp}`;
          expect(rel(got.seen, ref.seen), `${what}: seen`).toBeLessThan(TOL);
          expect(rel(got.grad, want), `${what}: gradient`).toBeLessThan(TOL);
        }
      }
    }, 120_000);
  }
});

/** conv 3×3 'same' (tanh) → global average pooling → dense: smooth, so float64 finite differences are exact to O(h²). */
function smoothConvNet(h: number, w: number, c: number, channelsFirst: boolean): ActmaxModel {
  const dataFormat = channelsFirst ? 'channelsFirst' : 'channelsLast';
  const m = tf.sequential({ name: 'smooth' });
  m.add(tf.layers.conv2d({ name: 'c1', inputShape: channelsFirst ? [c, h, w] : [h, w, c], dataFormat, filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 6 }) }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap', dataFormat }));
  m.add(tf.layers.dense({ name: 'out', units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }));
  return describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, 'smooth');
}

/** The same network in float64 on one input (the model's layout): conv c1's activations [position, filter] and the logits. */
function smoothConvNet64(model: ActmaxModel, h: number, w: number, c: number, channelsFirst: boolean): (x: Float64Array) => { act: Float64Array; logits: Float64Array } {
  const [k, kb, d, db] = (model.net as tf.LayersModel).getWeights().map((t) => Float64Array.from(t.dataSync()));
  const f = kb.length;
  const at = (ch: number, y: number, x: number) => (channelsFirst ? (ch * h + y) * w + x : (y * w + x) * c + ch);
  return (x) => {
    const act = new Float64Array(h * w * f);
    const logits = Float64Array.from(db);
    for (let o = 0; o < f; o++) {
      let sum = 0;
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
        let a = kb[o];
        for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) {
          const sy = y + dy - 1, sx = xx + dx - 1;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
          for (let ch = 0; ch < c; ch++) a += k[((dy * 3 + dx) * c + ch) * f + o] * x[at(ch, sy, sx)];
        }
        act[(y * w + xx) * f + o] = Math.tanh(a);
        sum += act[(y * w + xx) * f + o];
      }
      for (let u = 0; u < logits.length; u++) logits[u] += (sum / (h * w)) * d[o * logits.length + u];
    }
    return { act, logits };
  };
}

/** Lucid's diversity of one target's restarts in float64 (channels-last activations [position, filter] per row): −weight·Σ_{j≠i} ⟨Ĝ_i, Ĝ_j⟩ / restarts, summed over rows. */
function diversity64(acts: Float64Array[], f: number, weight: number): number {
  const grams = acts.map((a) => {
    const g = new Float64Array(f * f);
    for (let q = 0; q < a.length / f; q++) for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) g[i * f + j] += a[q * f + i] * a[q * f + j];
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0) + 1e-10);
    return g.map((v) => v / norm);
  });
  let total = 0;
  grams.forEach((gi, i) => grams.forEach((gj, j) => {
    if (i !== j) total -= (weight * gi.reduce((s, v, k) => s + v * gj[k], 0)) / grams.length;
  }));
  return total;
}

/** Central differences (step 1e-5) of `f` at `p`, every coordinate. */
function centralDifferences(f: (q: Float64Array) => number, p: Float64Array): Float64Array {
  const step = 1e-5;
  return Float64Array.from(p, (_, i) => {
    const up = Float64Array.from(p), down = Float64Array.from(p);
    up[i] += step;
    down[i] -= step;
    return (f(up) - f(down)) / (2 * step);
  });
}

/** Both engines' value and gradient of `req` at `p` against the float64 logits and finite differences. */
async function compareWithFloat64(req: EngineRequest, p: Float64Array, draws: StepDraws, logits: number[], fd: Float64Array): Promise<void> {
  for (const make of [() => createTfjsEngine(req), () => createOnnxEngine(req, { threads: 1 })]) {
    const engine = await make();
    try {
      const got = await engine.valueAndGrad([Float32Array.from(p)], draws);
      expect(rel(got.values, logits), `${engine.name}: values`).toBeLessThan(TOL);
      expect(rel(got.grads[0], fd), `${engine.name}: gradient`).toBeLessThan(TOL);
    } finally {
      engine.dispose();
    }
  }
}

describe('the whole step of both engines = float64 central finite differences (1e-5)', () => {
  it('spectral + decorrelation + standard transforms with edge fill → a channels-first conv net → logit, with TV, L1 and L2 penalties', async () => {
    const [h, w, c] = [14, 12, 3];
    const model = smoothConvNet(h, w, c, true);
    const pipeline = resolvePipeline(model, [0], { param: 'spectral', transforms: standardTransforms(h, w), regularizers: [{ kind: 'tv', weight: 0.3 }, { kind: 'l1', weight: 0.2 }, { kind: 'l2', weight: 0.1 }] }, { constraints: [] }).spec;
    const stage = pipeline.inputs[0];
    stage.fill = 'edge';
    expect(stage.channelsFirst && stage.param?.decorrelate).toBe(true);
    expect(stage.penalties.length).toBe(3);
    const scale = spectralConstants(stage.param!).scale;
    const rng = new Rng(31);
    const p = Float64Array.from({ length: stage.param!.size }, (_, i) => rng.normal() / scale[i % scale.length]);
    const draws = drawSteps(pipeline, new Rng(8), 1);
    const net64 = smoothConvNet64(model, h, w, c, true);
    // What the gradient climbs: the logit minus the weighted penalties of the rendered picture.
    const climbed = (q: Float64Array) => {
      const ref = pipelineReference(stage, q, draws[0]);
      return net64(ref.seen).logits[1] - stage.penalties.reduce((acc, pen) => acc + pen.weight * penaltyReference(stage, pen.kind, ref.rendered), 0);
    };
    const logit = net64(pipelineReference(stage, p, draws[0]).seen).logits[1];
    try {
      await compareWithFloat64({ model, targets: [{ kind: 'logit', index: 1 }], rowsPerTarget: 1, optimize: [0], fixed: new Map(), pipeline }, p, draws, [logit], centralDifferences(climbed, p));
    } finally {
      model.dispose();
    }
  });

  it('grey pixels + jitter with a constant fill → a channels-last conv net → logit, with TV', async () => {
    const [h, w, c] = [10, 9, 1];
    const model = smoothConvNet(h, w, c, false);
    const pipeline = resolvePipeline(model, [0], { param: 'pixel', transforms: [{ kind: 'jitter', pixels: 1 }], regularizers: [{ kind: 'tv', weight: 0.4 }] }, { constraints: [] }).spec;
    const stage = pipeline.inputs[0];
    stage.fill = 0.2;
    const rng = new Rng(41);
    const p = Float64Array.from({ length: h * w }, () => rng.normal());
    const draws = drawSteps(pipeline, new Rng(5), 1);
    const net64 = smoothConvNet64(model, h, w, c, false);
    const climbed = (q: Float64Array) => {
      const ref = pipelineReference(stage, q, draws[0]);
      return net64(ref.seen).logits[2] - 0.4 * penaltyReference(stage, 'tv', ref.rendered);
    };
    const logit = net64(pipelineReference(stage, p, draws[0]).seen).logits[2];
    try {
      await compareWithFloat64({ model, targets: [{ kind: 'logit', index: 2 }], rowsPerTarget: 1, optimize: [0], fixed: new Map(), pipeline }, p, draws, [logit], centralDifferences(climbed, p));
    } finally {
      model.dispose();
    }
  });

  it('two restarts with Gram diversity on the conv layer: spectral + standard transforms with a constant fill → a channels-last conv net → logit', async () => {
    const [h, w, c] = [10, 11, 3];
    const model = smoothConvNet(h, w, c, false);
    const pipeline = resolvePipeline(model, [0], { param: 'spectral', transforms: standardTransforms(h, w), regularizers: [{ kind: 'diversity', weight: 3, layer: 'c1' }] }, { constraints: [] }).spec;
    const stage = pipeline.inputs[0];
    stage.fill = 0.3;
    expect(pipeline.diversity).toEqual({ layer: 'c1', weight: 3, channelAxis: 2 });
    const size = stage.param!.size;
    const scale = spectralConstants(stage.param!).scale;
    const rng = new Rng(37);
    const p = Float64Array.from({ length: 2 * size }, (_, i) => rng.normal() / scale[i % scale.length]);
    const draws = drawSteps(pipeline, new Rng(2), 2);
    const net64 = smoothConvNet64(model, h, w, c, false);
    const rows = (q: Float64Array) => [0, 1].map((r) => net64(pipelineReference(stage, q.subarray(r * size, (r + 1) * size), draws[0]!.subarray(r * 6, (r + 1) * 6)).seen));
    // Σ over rows of the logit, plus the diversity term of the two restarts.
    const climbed = (q: Float64Array) => {
      const out = rows(q);
      return out[0].logits[0] + out[1].logits[0] + diversity64(out.map((o) => o.act), 4, 3);
    };
    try {
      await compareWithFloat64({ model, targets: [{ kind: 'logit', index: 0 }], rowsPerTarget: 2, optimize: [0], fixed: new Map(), pipeline }, p, draws, rows(p).map((o) => o.logits[0]), centralDifferences(climbed, p));
    } finally {
      model.dispose();
    }
  });
});
