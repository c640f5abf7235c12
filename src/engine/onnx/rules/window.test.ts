import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IrProgram } from '../../../ir/tfjs-exec.js';
import { size, type IrGraph, type IrNode, type Pads2D } from '../../../ir/ir.js';
import { OnnxBuilder } from '../builder.js';
import { emitBackward, emitForward, NetEmitter } from '../net.js';
import { probe, randomConst, uniforms } from '../testing.js';
import { afterConv, type OpCase } from './cases.js';

/*
 * ReLU → MaxPool: the pool gates its gradient with the ReLU's mask at its own (pooled) size and
 * the ReLU passes it on unmasked. Inputs full of ties (zeros, negatives, equal positives in one
 * window), where finite differences cannot judge: the TF.js reference (CPU backend) gives each
 * window's gradient to its first maximum, and so must the graph.
 */

const ROWS = 3;

function reluPool(ksize: [number, number], strides: [number, number], pads: Pads2D, x: number[], y: number[]): IrGraph {
  const nodes = [
    { op: 'Relu', name: 'r', layer: 'r', inputs: ['x'] },
    { op: 'MaxPool', name: 'y', layer: 'y', inputs: ['r'], ksize, strides, pads },
  ] as IrNode[];
  return {
    inputs: [{ name: 'x', shape: x }],
    outputs: [{ name: 'y', value: 'y' }],
    nodes,
    consts: new Map(),
    shapes: new Map([['x', x], ['r', x], ['y', y]]),
    layers: nodes.map((n) => ({ name: n.name, kind: n.op, output: n.name, pre: n.name })),
    batch: 'free',
    dynamic: new Map(),
  };
}

/** Values from a few levels (ties everywhere), with whole windows of one positive value. */
function tied(shape: number[], seed: number): Float32Array {
  const rand = uniforms(seed);
  const levels = [-1, -0.5, 0, 0.5, 1, 1.5];
  const out = Float32Array.from({ length: ROWS * size(shape) }, () => levels[Math.floor(rand() * levels.length)]);
  const [, w, c] = shape;
  for (let r = 0; r < ROWS; r++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < c; k++) out[r * size(shape) + (i * w + j) * c + k] = 0.75;
  return out;
}

function referenceGrad(ir: IrGraph, x: Float32Array): Float32Array {
  const prog = new IrProgram(ir);
  try {
    return tf.tidy(() => {
      const shape = ir.shapes.get('y')!;
      const readout = tf.tensor(randomConst(shape, 1).data, [1, ...shape]);
      const f = (xt: tf.Tensor) => prog.run([xt], ['y'])[0].mul(readout).sum();
      return tf.grad(f)(tf.tensor(x, [ROWS, ...ir.inputs[0].shape])).dataSync() as Float32Array;
    });
  } finally {
    prog.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('ReLU → MaxPool with ties: the gradient = the TF.js reference (first maximum of each window)', () => {
  const cases: Array<[string, [number, number], [number, number], Pads2D, number[], number[]]> = [
    ['2×2/2 with a leftover column', [2, 2], [2, 2], [0, 0, 0, 0], [6, 9, 2], [3, 4, 2]],
    ['3×3/2 overlapping, padded', [3, 3], [2, 2], [1, 1, 1, 1], [6, 7, 2], [3, 4, 2]],
  ];
  for (const [name, k, s, p, x, y] of cases) {
    it(name, async () => {
      const base: OpCase = { name, ir: reluPool(k, s, p, x, y), inputs: {} };
      for (const c of [base, afterConv(base)!]) {
        const input = tied(x, 7);
        const ref = referenceGrad(c.ir, input);
        const pr = await probe(c.ir, 1);
        try {
          const got = (await pr.run({ x: input }, ROWS)).grads.x;
          const scale = Math.max(...Array.from(ref, Math.abs));
          const worst = Math.max(...Array.from(got, (g, i) => Math.abs(g - ref[i])));
          expect(worst / scale, c.name).toBeLessThan(1e-5);
        } finally {
          await pr.release();
        }
      }
    });
  }

  it('after a convolution (NCHW), the ReLU adds no mask of its own', () => {
    const c = afterConv({ name: 'relu-pool', ir: reluPool([2, 2], [2, 2], [0, 0, 0, 0], [6, 8, 2], [3, 4, 2]), inputs: {} })!;
    const b = new OnnxBuilder();
    const net = new NetEmitter(b, c.ir);
    emitForward(net, new Map([['x', 'x']]), ['y']);
    const seed = { name: 'seed', shape: [3, 4, 2], layout: 'ir' as const };
    emitBackward(net, new Map([['y', [seed]]]), ['x']);
    const relu = net.val('r').name;
    expect(net.vanishAtZero.size).toBe(1);
    expect(b.nodes.filter((n) => n.op === 'Greater' && n.inputs.includes(relu))).toEqual([]);
  });
});
