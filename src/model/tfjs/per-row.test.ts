/**
 * A graph recorded with a fixed batch of 1 whose ops the IR cannot express (here Erf) runs on
 * TF.js one row per call: outputs and input gradients of a 3-row batch equal the closed form
 * row by row, and `maximize` runs on it.
 */
import * as tf from '@tensorflow/tfjs';
import { strToU8 } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backend.js';
import { loadModel } from '../load.js';
import { buildForward } from '../activations.js';
import { maximize } from '../../optimize/maximize.js';
import { renderInspect } from '../../cli/commands/inspect.js';

const W = [0.5, -1, 0.25, 2, -0.75, 0.1]; // [3, 2]

function erfGraph(): Record<string, Uint8Array> {
  const f32 = { type: 'DT_FLOAT' };
  const json = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'w', op: 'Const', attr: { dtype: f32, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } } } },
        { name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: { dim: [{ size: '1' }, { size: '3' }] } } } },
        { name: 'm', op: 'MatMul', input: ['x', 'w'], attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'y', op: 'Erf', input: ['m'], attr: { T: f32 } },
      ],
      versions: { producer: 175 },
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [3, 2], dtype: 'float32' }] }],
  };
  return { 'model.json': strToU8(JSON.stringify(json)), 'w.bin': new Uint8Array(new Float32Array(W).buffer) };
}

const erf = (z: number) => {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
  const t = 1 / (1 + 0.3275911 * Math.abs(z));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return Math.sign(z) * y;
};

beforeAll(async () => {
  await useBackend('wasm');
});

describe('graphs the IR cannot express, recorded with batch 1', () => {
  it('run one row per call on TF.js: outputs and gradients of every row, and maximize', async () => {
    const model = await loadModel({ files: erfGraph() });
    expect(model.ir).toBeNull();
    expect(model.irReason).toMatch(/op Erf \(node "y"\) has no IR translation/);
    expect(model.batch).toBe('per-row');
    expect(renderInspect(model, false)).toMatch(/computed by TF\.js \(op Erf .*\); the file fixes a batch of 1; rows run one per call/);
    const rows = [[0.1, 0.2, 0.3], [-1, 0.5, 2], [0.7, -0.4, 0]];
    const fwd = buildForward(model, []);
    const x = tf.tensor2d(rows);
    const y = tf.tidy(() => fwd.run([x]).outputs[0]!);
    const g = tf.tidy(() => tf.grad((xx: tf.Tensor) => fwd.run([xx]).outputs[0]!.sum())(x));
    rows.forEach((r, i) => {
      for (let j = 0; j < 2; j++) {
        const z = r.reduce((s, v, k) => s + v * W[k * 2 + j], 0);
        expect(y.dataSync()[i * 2 + j]).toBeCloseTo(erf(z), 5);
      }
      for (let k = 0; k < 3; k++) {
        const d = [0, 1].reduce((s, j) => {
          const z = r.reduce((a, v, q) => a + v * W[q * 2 + j], 0);
          return s + (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * W[k * 2 + j];
        }, 0);
        expect(g.dataSync()[i * 3 + k]).toBeCloseTo(d, 4);
      }
    });
    const run = await maximize(model, { kind: 'logit', index: 1 }, { steps: 20, restarts: 3 });
    expect(run.engine).toMatch(/^tfjs-wasm \(onnx: op Erf/); // the result says why ONNX did not run
    expect(run.results[0].value).toBeGreaterThan(run.results[0].history[0].value);
    tf.dispose([x, y, g]);
    fwd.dispose();
    model.dispose();
  });
});
