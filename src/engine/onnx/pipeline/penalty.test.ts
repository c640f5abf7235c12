import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../backend.js';
import { maxRelDiff } from '../../../model/testing/model-files.js';
import { totalVariation } from '../../tfjs-pipeline.js';
import { floatValue, OnnxBuilder } from '../builder.js';
import { encodeModel } from '../proto.js';
import { loadOnnxRuntime } from '../runtime.js';
import { uniforms } from '../testing.js';
import { tvDifferences } from './testing.js';
import { emitPenalty } from './penalty.js';

/*
 * The ONNX TV gradient, both forms (the matrix form of large batches of one-channel pictures, the
 * shifts of everything else), against TF.js's gradient of its total variation — ties between
 * neighbours included, where TF's subgradient of |e| is −1 — and against float64 central
 * differences where no two neighbours are close.
 */

const TOL = 1e-5;

/** The ONNX gradient of `scale`·TV of `x` (rows of `shape`), and the ops its graph used. */
async function onnxTvGradient(x: Float32Array, rows: number, shape: number[], scale: number): Promise<{ grad: Float32Array; ops: string[] }> {
  const ort = (await loadOnnxRuntime()) as typeof Ort;
  const b = new OnnxBuilder();
  const { grads } = emitPenalty(b, 'tv', 'x', shape, [1, 2], false, rows, scale);
  b.named('Reshape', [b.sum(grads), b.i64([rows, -1])], 'grad');
  const n = x.length / rows;
  const def = b.model([floatValue('x', [rows, ...shape])], [floatValue('grad', [rows, n])]);
  const session = await ort.InferenceSession.create(encodeModel(def), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, [rows, ...shape]) });
    return { grad: out.grad.data as Float32Array, ops: def.nodes.map((node) => node.op) };
  } finally {
    await session.release();
  }
}

/** TF.js's gradient of Σ_rows `scale`·TV. */
function tfjsTvGradient(x: Float32Array, rows: number, shape: number[], scale: number): Float32Array {
  return tf.tidy(() => tf.grad((t: tf.Tensor) => totalVariation(t, shape.length === 3).sum().mul(scale))(tf.tensor(x, [rows, ...shape])).dataSync() as Float32Array);
}

beforeAll(async () => {
  await useBackend('wasm');
});

const CASES = [
  { name: '160 rows of 28×28 grey (the matrix form)', rows: 160, shape: [28, 28], matrix: true },
  { name: '130 rows of 31×27×1 (the matrix form, a channel axis)', rows: 130, shape: [31, 27, 1], matrix: true },
  { name: '3 rows of 9×8 grey (the shifts: a small batch)', rows: 3, shape: [9, 8], matrix: false },
  { name: '4 rows of 7×6×3 RGB (the shifts)', rows: 4, shape: [7, 6, 3], matrix: false },
];

describe('ONNX TV gradient = TF.js (1e-5) and float64 central differences', () => {
  for (const { name, rows, shape, matrix } of CASES) {
    it(name, async () => {
      const n = shape.reduce((a, v) => a * v, 1);
      const rand = uniforms(11);
      // Continuous values (no ties), then values on 3 levels (ties everywhere, as after clipping).
      const smooth = Float32Array.from({ length: rows * n }, () => rand());
      const levels = Float32Array.from({ length: rows * n }, () => Math.round(rand() * 2) / 2);
      for (const x of [smooth, levels]) {
        const got = await onnxTvGradient(x, rows, shape, -0.5);
        expect(got.ops.includes('Gemm'), 'route').toBe(matrix);
        expect(maxRelDiff(got.grad, tfjsTvGradient(x, rows, shape, -0.5))).toBeLessThan(TOL);
      }
      // The last row against float64 differences (its neighbours are ≥ 0.03 apart in every case here, so no step crosses a tie).
      const row = Float64Array.from({ length: n }, (_, i) => (((i * 7919) % n) / n) * 0.9 + 0.05 * (i % 2));
      const x = new Float32Array(rows * n);
      x.set(Float32Array.from(row), (rows - 1) * n);
      const got = await onnxTvGradient(x, rows, shape, 0.7);
      expect(maxRelDiff(got.grad.subarray((rows - 1) * n), tvDifferences(Float64Array.from(x.subarray((rows - 1) * n)), shape, 0.7))).toBeLessThan(TOL);
    });
  }
});
