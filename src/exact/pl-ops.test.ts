/**
 * The exact encoder reads the IR: for every piecewise-linear op kind, the float64 forward pass
 * of the extracted network (forwardValues) equals the IR run on TF.js, within 1e-5 of the output
 * scale; non-piecewise-linear ops are refused naming the layer; a real graph model (liveness)
 * is exact-able up to its logits.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { IrBuilder } from '../ir/builder.js';
import type { IrOp } from '../ir/ir.js';
import { IrProgram } from '../ir/tfjs-exec.js';
import { describeModel } from '../model/describe.js';
import { loadModel } from '../model/load.js';
import { buildForward } from '../model/activations.js';
import { repoRoot } from '../model/testing/model-files.js';
import { evalExpr, extractNetwork, forwardValues, layerValues } from './network.js';
import { seeded } from './test-nets.js';

const rnd = seeded(11);
const vals = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + ((rnd() + 1) / 2) * (hi - lo));

type Step = (b: IrBuilder, x: string) => string;
/** An op on x with constant operands: a shape (values in [−1, 1]) or [shape, lo, hi]. */
const op = (o: IrOp, ...consts: Array<number[] | [number[], number, number]>): Step => (b, x) =>
  b.node(o, [x, ...consts.map((c) => {
    const [s, lo, hi] = Array.isArray(c[0]) ? (c as [number[], number, number]) : [c as number[], -1, 1];
    return b.constant('k', s, vals(s.reduce((p, q) => p * q, 1), lo, hi));
  })], 'L');

const CASES: Array<[string, Step[]]> = [
  ['Conv2D (stride 2, asymmetric pads, groups 2) → Relu → MaxPool with −∞ padding', [op({ op: 'Conv2D', strides: [2, 2], dilations: [1, 1], pads: [0, 1, 1, 0], groups: 2 }, [3, 3, 2, 4], [4]), op({ op: 'Relu' }), (b, x) => b.node({ op: 'MaxPool', ksize: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0] }, [b.node({ op: 'Pad', pads: [[1, 0], [0, 1], [0, 0]], mode: 'constant', value: -Infinity }, [x], 'L')], 'L')]],
  ['DepthwiseConv2D (multiplier 2, dilation 2) → AvgPool with pads → LeakyRelu', [op({ op: 'DepthwiseConv2D', strides: [1, 1], dilations: [2, 2], pads: [2, 2, 1, 1] }, [3, 2, 4, 2], [8]), op({ op: 'AvgPool', ksize: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), op({ op: 'LeakyRelu', alpha: 0.1 })]],
  ['Conv2DTranspose → Resize (bilinear, half-pixel) → Clip', [op({ op: 'Conv2DTranspose', strides: [2, 2], pads: [1, 1, 1, 1], outputSize: [11, 13] }, [3, 3, 3, 4], [3]), op({ op: 'Resize', size: [7, 9], method: 'bilinear', alignCorners: false, halfPixelCenters: true }), op({ op: 'Clip', min: -0.3, max: 0.4 })]],
  ['Pad reflect → Transpose → Slice with steps → Tile → Abs', [op({ op: 'Pad', pads: [[1, 2], [2, 1], [0, 0]], mode: 'reflect', value: 0 }), op({ op: 'Transpose', perm: [0, 3, 1, 2] }), op({ op: 'Slice', begin: [0, 1, 0], end: [4, 9, 9], steps: [2, 3, 2] }), op({ op: 'Tile', reps: [1, 2, 1] }), op({ op: 'Abs' })]],
  ['Mul/Div/Sub by constants → Maximum/Minimum with constants → Prelu → HardSigmoid → Relu6', [op({ op: 'Mul' }, [4]), op({ op: 'Div' }, [[6, 1, 1], 0.5, 2]), op({ op: 'Sub' }, []), op({ op: 'Maximum' }, [6, 7, 1]), op({ op: 'Minimum' }, [[4], 0, 1]), op({ op: 'Prelu' }, [[4], -0.5, 2]), op({ op: 'HardSigmoid', alpha: 0.2, beta: 0.5 }), op({ op: 'Relu6' })]],
  ['Mean, Max and Min over axes, Concat with a constant, Reshape, MatMul (transposed) with bias', [
    (b, x) => b.node({ op: 'Concat', axis: -1 }, [b.node({ op: 'Mean', axes: [1], keepDims: true }, [x], 'L'), b.node({ op: 'Max', axes: [1], keepDims: true }, [x], 'L'), b.node({ op: 'Min', axes: [-3], keepDims: true }, [x], 'L'), b.constant('k', [1, 7, 2], vals(14))], 'L'),
    op({ op: 'Reshape', shape: [98] }), op({ op: 'MatMul', transposeB: true }, [5, 98], [5]),
  ]],
];

beforeAll(async () => {
  await useBackend('cpu');
});

describe('exact encoder on the IR: float64 forward = TF.js', () => {
  for (const [title, steps] of CASES) {
    it(title, () => {
      const b = new IrBuilder();
      let v = b.input('x', [6, 7, 4]);
      for (const s of steps) v = s(b, v);
      b.layer({ name: 'L', kind: 'test', output: v, pre: v });
      b.output('L', v);
      const ir = b.finish('free');
      const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
      const model = { ...describeModel({ net, format: 'tfjs-layers', metadata: {}, notes: [], ir }, 'test'), inputs: [{ name: 'x', shape: [6, 7, 4], range: [-1, 1] as [number, number], rangeSource: 'default' as const }] };
      const pl = extractNetwork(model);
      const exprs = layerValues(pl, 'L', false);
      const prog = new IrProgram(ir);
      for (let t = 0; t < 3; t++) {
        const x = vals(6 * 7 * 4);
        const mine = exprs.map((e) => evalExpr(e, forwardValues(pl, x)));
        const ref = tf.tidy(() => prog.run([tf.tensor(x, [1, 6, 7, 4])], [v])[0].dataSync());
        const scale = Math.max(1, ...Array.from(ref, Math.abs));
        mine.forEach((m, i) => expect(Math.abs(m - ref[i]) / scale, `${i}`).toBeLessThanOrEqual(1e-5));
      }
      prog.dispose();
      net.dispose();
    });
  }

  it('liveness (a TF.js graph model): its logits are exact-able, its softmax output is refused', async () => {
    const model = await loadModel(path.join(repoRoot, 'test/fixtures/tfjs-graph-realworld/liveness'));
    const pl = extractNetwork(model);
    const out = model.outputs[0];
    expect(() => layerValues(pl, out.layer, false)).toThrow(/exact mode needs a piecewise-linear network: layer "(activation_6|Identity)" uses softmax/);
    const logits = layerValues(pl, out.layer, true);
    const fwd = buildForward(model, [{ layer: out.layer, pre: true }]);
    const x = vals(pl.inputSize, 0, 1);
    const mine = logits.map((e) => evalExpr(e, forwardValues(pl, x)));
    const ref = tf.tidy(() => fwd.run([tf.tensor(x, [1, ...model.inputs[0].shape])]).taps[0].dataSync());
    mine.forEach((m, i) => expect(Math.abs(m - ref[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref[i]))));
    fwd.dispose();
    model.dispose();
  });
});
