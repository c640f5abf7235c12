/**
 * The nine real-world TF.js graph models (test/fixtures/tfjs-graph-realworld, MIT) load as the
 * IR: `inspect` lists their outputs with shapes and their addressable nodes; `predict` equals the
 * outputs TF.js itself stored, within 1e-4 of each output's scale (max |expected|); `maximize`
 * raises logit:0 (or, for the detector whose outputs come after non-max suppression, a node
 * before it) over 20 steps; an objective on a post-NMS value gets a one-line refusal; antispoof's
 * `logit` is the input of its final Sigmoid as TF.js computes that node. WASM backend.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { buildForward } from '../src/model/activations.js';
import { summarizeModel } from '../src/model/inspect.js';
import { renderInspect } from '../src/cli/commands/inspect.js';
import { maximize } from '../src/optimize/maximize.js';
import type { ActmaxModel } from '../src/model/types.js';
import type { ObjectiveSpec } from '../src/objectives/spec.js';
import { batchTerms } from '../src/objectives/terms.js';
import { REPO, skipUnlessLong } from './helpers.js';

const DIR = path.join(REPO, 'test/fixtures/tfjs-graph-realworld');
const MODELS = ['age', 'antispoof', 'blazeface-front', 'emotion', 'faceboxes', 'facemesh-detection-short', 'gender', 'liveness', 'nanodet'];

/**
 * nanodet (416×416, NCHW) takes ≈ 5 s of CPU per TF.js gradient step on this machine: 2 steps
 * here keep the suite inside its budget; `npm run bench` times it over more.
 */
const STEPS: Record<string, number> = { nanodet: 2 };

interface Expected {
  inputs: Record<string, { shape: number[]; first5: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[]; sum?: number; sumsq?: number }>;
}

/** The stored input rule: an LCG in row-major order; TF.js stored it as int32 (truncated) for integer inputs. */
function ruleInput(n: number, integer: boolean): Float32Array {
  let s = 20261130;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = integer ? Math.trunc(s / 2 ** 31) : Math.fround(s / 2 ** 31);
  }
  return out;
}

/** The objective each model is maximised on: logit:0, or a node before the non-max suppression. */
function objectiveFor(name: string): ObjectiveSpec {
  // faceboxes: the mean face logit over its 341 anchors, before the softmax and the NMS loop.
  return name === 'faceboxes' ? { kind: 'channel', layer: 'reshaping/concat_1', channel: 1 } : { kind: 'logit', index: 0 };
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('real-world TF.js graph models', () => {
  const models = new Map<string, ActmaxModel>();
  const get = async (name: string) => {
    if (!models.has(name)) models.set(name, await loadModel(path.join(DIR, name)));
    return models.get(name)!;
  };
  afterAll(() => models.forEach((m) => m.dispose()));

  for (const name of MODELS) {
    const why = name === 'nanodet' ? skipUnlessLong('nanodet (416×416): predict and maximize on TF.js') : '';
    it.skipIf(why)(`${name}: inspect, predict = TF.js's stored outputs, maximize rises over 20 steps${why}`, async () => {
      const exp = JSON.parse(readFileSync(path.join(DIR, name, 'model.json.expected.json'), 'utf8')) as Expected;
      const model = await get(name);
      expect(model.ir, model.irReason).not.toBeNull();

      // inspect: every output with its shape (batch dropped), addressable layers and nodes.
      const summary = summarizeModel(model);
      for (const [out, e] of Object.entries(exp.outputs)) {
        const o = summary.outputs.find((x) => x.name === out);
        expect(o?.shape, out).toEqual(e.shape.slice(1));
      }
      expect(summary.layers.length).toBeGreaterThan(1);
      expect(summary.nodes!.length).toBeGreaterThanOrEqual(model.ir!.layers.length);
      const text = renderInspect(model, false);
      for (const o of summary.outputs) expect(text).toContain(`output  ${o.name}  shape [${o.shape.join(', ')}]`);

      // predict
      const inName = Object.keys(exp.inputs)[0];
      const info = model.inputs[0];
      const integer = (model.net as tf.GraphModel).inputs[0].dtype === 'int32';
      const x = ruleInput(info.shape.reduce((a, b) => a * b, 1), integer);
      (integer ? [0, 0, 0, 0, 0] : exp.inputs[inName].first5).forEach((v, i) => expect(Math.abs(x[i] - v)).toBeLessThanOrEqual(1e-6));
      const fwd = buildForward(model, []);
      const xs = [tf.tensor(x, [1, ...info.shape])];
      const outs = await fwd.outputsAsync(xs);
      model.outputs.forEach((o, k) => {
        const e = exp.outputs[o.name];
        const v = outs[k].dataSync();
        const scale = Math.max(...e.data.map(Math.abs), 1e-30);
        let worst = 0;
        e.data.forEach((d, i) => (worst = Math.max(worst, Math.abs(v[i] - d))));
        expect(worst / scale, `${o.name}`).toBeLessThanOrEqual(1e-4);
        if (e.sum !== undefined) {
          let sum = 0;
          for (const a of v) sum += a;
          expect(Math.abs(sum - e.sum), `${o.name} sum`).toBeLessThanOrEqual(1e-4 * scale * v.length);
        }
      });
      tf.dispose([...xs, ...outs]);
      fwd.dispose();

      // maximize: 20 steps, one restart, on the network alone (the image pipeline's cost is the
      // same for every model of a size; test/realworld-images checks pictures).
      const run = await maximize(model, objectiveFor(name), { steps: STEPS[name] ?? 20, restarts: 1, seed: 1 });
      const h = run.results[0].history;
      expect(h[h.length - 1].value).toBeGreaterThan(h[0].value);
      expect(Number.isFinite(run.results[0].value)).toBe(true);
    });
  }

  it('faceboxes: an objective on a post-NMS output or node is refused in one line naming the op', async () => {
    const model = await get('faceboxes');
    await expect(maximize(model, { kind: 'logit', index: 0 }, { steps: 1, restarts: 1 })).rejects.toThrow(/^logit:0: output "scores" is computed by the dynamic op NonMaxSuppressionV3 \(after the differentiable part of the graph\); objectives can read the nodes before it, listed by `actmax inspect`$/);
    await expect(maximize(model, { kind: 'neuron', layer: 'nms/map/while/non_max_suppression/NonMaxSuppressionV3', index: 0 }, { steps: 1, restarts: 1 })).rejects.toThrow(/^"nms\/map\/while\/non_max_suppression\/NonMaxSuppressionV3" is computed by the dynamic op NonMaxSuppressionV3/);
  });

  it('nanodet on TF.js: a batch too big for the 4 GB WASM heap is refused in one line, before any step', async () => {
    const model = await get('nanodet');
    // engine auto runs it on ONNX (native memory); the TF.js engine must refuse rather than abort.
    await expect(maximize(model, { kind: 'logit', index: 0 }, { steps: 1, restarts: 8, engine: 'tfjs' })).rejects.toThrow(/^8 rows of this model need about [\d.]+ GB per gradient step on TF\.js-WASM, whose memory stops at 4 GB; run at most \d rows at once \(--restarts \d\)$/);
  });

  it('nanodet (recorded NCHW): channels are axis 0 of its channels-first values and the last axis of the NHWC ones between its Transposes', async () => {
    const model = await get('nanodet');
    const s = summarizeModel(model);
    const channels = (name: string) => s.layers.find((l) => l.name === name)?.channels ?? s.nodes!.find((n) => n.name === name)?.channels;
    expect(s.layers.find((l) => l.name === 'transpose_2')!.outputShape).toEqual([32, 208, 208]);
    expect(channels('transpose_2')).toBe(32); // NCHW again after the conv
    expect(channels('convolution')).toBe(32); // [208, 208, 32]: the conv itself runs NHWC
    expect(channels('PartitionedCall/onnx_tf_prefix_Reshape_170')).toBe(44); // [44, 676]: head maps flattened, channels kept first
    expect(channels('Identity_4')).toBe(44); // [676, 44] after the head's Transpose
    // channel:L:K weighs map K (positions × channels, channel-major), and indices stop at 31.
    const [{ w }] = batchTerms(model, [{ kind: 'channel', layer: 'onnx_tf_prefix_LeakyRelu_1', channel: 5 }], 1).linear;
    const plane = 208 * 208;
    expect(w.length).toBe(32 * plane);
    expect(w.every((v, u) => v === (Math.floor(u / plane) === 5 ? Math.fround(1 / plane) : 0))).toBe(true);
    expect(() => batchTerms(model, [{ kind: 'channel', layer: 'onnx_tf_prefix_LeakyRelu_1', channel: 32 }], 1)).toThrow(/\(channels\) has 32 units \(0–31\)/);
  });

  it("antispoof: logit:0 is the input of the final Sigmoid, as TF.js computes that node", async () => {
    const model = await get('antispoof');
    const x = tf.randomUniform([3, ...model.inputs[0].shape], 0, 1, 'float32', 5);
    const node = 'StatefulPartitionedCall/sequential/dense_1/BiasAdd';
    const theirs = (model.net as tf.GraphModel).execute({ conv2d_input: x }, node) as tf.Tensor;
    const fwd = buildForward(model, [{ layer: model.outputs[0].layer, pre: true }]);
    const ours = tf.tidy(() => fwd.run([x]).taps[0]);
    const a = ours.dataSync(), b = theirs.dataSync();
    expect(a.length).toBe(3);
    b.forEach((v, i) => expect(Math.abs(a[i] - v)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))));
    expect(model.outputs[0].finalActivation).toBe('sigmoid');
    tf.dispose([x, theirs, ours]);
    fwd.dispose();
  });
});
