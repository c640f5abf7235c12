import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IrProgram } from '../../../ir/tfjs-exec.js';
import { size } from '../../../ir/ir.js';
import { afterConv, opCases, type OpCase } from './cases.js';
import { probe, randomConst } from '../testing.js';

/*
 * Every op rule against the TF.js reference (the IR interpreter, CPU backend): the forward values
 * and the input gradients of value = Σ R ⊙ output must agree to 1e-5 relative to the largest
 * magnitude of each compared vector, in the IR layout and after a convolution (NCHW inside the graph).
 */

const TOL = 1e-5;
const ROWS = 3;

/**
 * Cases where the TF.js reference itself cannot give the input gradient; finite differences
 * (rules.test.ts) judge those. The forward values are still compared.
 */
const TFJS_GRADIENT_GAPS: Record<string, string> = {
  'Maximum value·value[1,1,C]': 'TF.js does not sum a broadcast gradient back to the input shape (maximum)',
  'Minimum value·value[1,1,C]': 'TF.js does not sum a broadcast gradient back to the input shape (minimum)',
  'SquaredDifference value·value[1,1,C]': 'TF.js does not sum a broadcast gradient back to the input shape (squaredDifference)',
  'Conv2D dilated': 'TF.js has no gradient for dilated conv2d',
};

function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-12, worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

/** Three rows: the case's separated values, then two scaled/shifted copies (still away from kinks). */
function batch(c: OpCase): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => {
    const out = new Float32Array(ROWS * v.length);
    for (let r = 0; r < ROWS; r++) out.set(v.map((x) => x * (1 + 0.1 * r)), r * v.length);
    return [k, out];
  }));
}

function reference(c: OpCase, inputs: Record<string, Float32Array>, withGrads: boolean): { value: Float32Array; scale: number; grads: Float32Array[]; outputs: Float32Array[] } {
  const prog = new IrProgram(c.ir);
  try {
    return tf.tidy(() => {
      const xs = c.ir.inputs.map((i) => tf.tensor(inputs[i.name], [ROWS, ...i.shape]));
      const readouts = c.ir.outputs.map((o, k) => tf.tensor(randomConst(c.ir.shapes.get(o.value)!, 1 + 101 * k).data, [1, ...c.ir.shapes.get(o.value)!]));
      const f = (...ins: tf.Tensor[]) => {
        const ys = prog.run(ins, c.ir.outputs.map((o) => o.value));
        return ys.reduce<tf.Tensor>((acc, y, k) => acc.add(y.mul(readouts[k]).reshape([ROWS, -1]).sum(1)), tf.zeros([ROWS]));
      };
      const value = f(...xs);
      const grads = withGrads ? tf.grads((...ins: tf.Tensor[]) => f(...ins).sum())(xs) : [];
      const outputs = prog.run(xs, c.ir.outputs.map((o) => o.value));
      // The value is a sum of many products: its rounding scale is Σ|R ⊙ y|, not |Σ R ⊙ y|.
      const scale = outputs.reduce((acc, y, k) => acc + (y.mul(readouts[k]).abs().sum().dataSync()[0] as number), 0) / ROWS;
      return { value: value.dataSync() as Float32Array, scale, grads: grads.map((g) => g.dataSync() as Float32Array), outputs: outputs.map((o) => o.dataSync() as Float32Array) };
    });
  } finally {
    prog.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('op rules = the TF.js reference (IR interpreter, CPU backend), values and input gradients to 1e-5', () => {
  for (const c0 of opCases()) {
    it(c0.name, async () => {
      for (const c of [c0, afterConv(c0)].filter((v): v is OpCase => v !== null)) {
        const inputs = batch(c);
        const gap = TFJS_GRADIENT_GAPS[c0.name];
        const ref = reference(c, inputs, !gap);
        const p = await probe(c.ir, 1);
        try {
          const got = await p.run(inputs, ROWS);
          const valueErr = Math.max(...Array.from(got.value, (v, i) => Math.abs(v - ref.value[i]))) / Math.max(ref.scale, 1e-12);
          expect(valueErr, `${c.name}: value`).toBeLessThan(TOL);
          c.ir.outputs.forEach((_, k) => expect(rel(got.outputs[k], ref.outputs[k]), `${c.name}: output`).toBeLessThan(TOL));
          if (gap) continue;
          c.ir.inputs.forEach((inp, k) => {
            expect(got.grads[inp.name].length).toBe(ROWS * size(inp.shape));
            expect(rel(got.grads[inp.name], ref.grads[k]), `${c.name}: gradient of ${inp.name}`).toBeLessThan(TOL);
          });
        } finally {
          await p.release();
        }
      }
    });
  }
});
