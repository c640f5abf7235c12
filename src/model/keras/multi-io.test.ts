/**
 * A Keras-3-style functional model with two inputs and two outputs, written by a test helper in
 * the real `.keras` and legacy `.h5` layouts from known weights, loads and computes what a plain
 * float64 hand computation says.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFiles } from '../formats.js';
import { filesFromMemory, relError, useBackend } from '../testing/model-files.js';
import { k3Functional, k3Layer, writeKerasV3, writeLegacyH5, type Var } from '../testing/write-keras.js';

/** Deterministic weights in [-1, 1). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}
function makeVar(shape: number[], rnd: () => number): Var {
  return { shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd) };
}

const rnd = seeded(42);
const W = {
  fc_a: [makeVar([4, 5], rnd), makeVar([5], rnd)],
  fc_b: [makeVar([3, 5], rnd), makeVar([5], rnd)],
  cls: [makeVar([10, 3], rnd), makeVar([3], rnd)],
  reg: [makeVar([5, 2], rnd), makeVar([2], rnd)],
};

const config = k3Functional(
  'two_in_two_out',
  [
    k3Layer('InputLayer', 'in_a', { batch_shape: [null, 4] }),
    k3Layer('InputLayer', 'in_b', { batch_shape: [null, 3] }),
    k3Layer('Dense', 'fc_a', { units: 5, activation: 'relu', use_bias: true }, ['in_a']),
    k3Layer('Dense', 'fc_b', { units: 5, activation: 'tanh', use_bias: true }, ['in_b']),
    k3Layer('Subtract', 'diff', {}, ['fc_a', 'fc_b']),
    k3Layer('Multiply', 'prod', {}, ['fc_a', 'fc_b']),
    k3Layer('Concatenate', 'cat', { axis: -1 }, ['diff', 'prod']),
    k3Layer('Dense', 'cls', { units: 3, activation: 'softmax', use_bias: true }, ['cat']),
    k3Layer('Add', 'sum', {}, ['fc_a', 'fc_b']),
    k3Layer('Dense', 'reg', { units: 2, activation: 'linear', use_bias: true }, ['sum']),
  ],
  ['in_a', 'in_b'],
  ['cls', 'reg'],
);

/** x · W + b in float64. */
function dense(x: number[], [k, b]: Var[]): number[] {
  const [n, m] = k.shape;
  return Array.from({ length: m }, (_, j) => {
    let s = Number(b.data[j]);
    for (let i = 0; i < n; i++) s += x[i] * Number(k.data[i * m + j]);
    return s;
  });
}
/** The model by hand: returns [cls, reg]. */
function byHand(a: number[], b: number[]): [number[], number[]] {
  const fa = dense(a, W.fc_a).map((v) => Math.max(0, v));
  const fb = dense(b, W.fc_b).map(Math.tanh);
  const cat = [...fa.map((v, i) => v - fb[i]), ...fa.map((v, i) => v * fb[i])];
  const z = dense(cat, W.cls);
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  const sum = e.reduce((p, q) => p + q, 0);
  return [e.map((v) => v / sum), dense(fa.map((v, i) => v + fb[i]), W.reg)];
}

const A = [
  [0.1, 0.9, -0.4, 0.3],
  [1.5, -0.2, 0.7, -1.1],
];
const B = [
  [0.5, -0.6, 0.2],
  [-0.3, 0.8, 1.2],
];

async function check(bytes: Uint8Array, name: string, format: string, kerasVersion: string): Promise<void> {
  const loaded = await loadModelFiles(filesFromMemory(name, bytes), name);
  expect(loaded.format).toBe(format);
  expect(loaded.kerasVersion).toBe(kerasVersion);
  const net = loaded.net as tf.LayersModel;
  expect(net.inputNames).toEqual(['in_a', 'in_b']);
  expect(net.outputNames).toEqual(['cls', 'reg']);
  const [cls, reg] = net.predict([tf.tensor(A), tf.tensor(B)]) as tf.Tensor[];
  const c = cls.arraySync() as number[][];
  const r = reg.arraySync() as number[][];
  for (let k = 0; k < A.length; k++) {
    const [ec, er] = byHand(A[k], B[k]);
    expect(relError(c[k], ec)).toBeLessThanOrEqual(1e-6);
    expect(relError(r[k], er)).toBeLessThanOrEqual(1e-6);
  }
  tf.dispose([cls, reg]);
  net.dispose();
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('Keras 3 functional model with two inputs and two outputs', () => {
  it('.keras with `name` attrs on the vars groups (Keras 3.10+)', async () => {
    const bytes = await writeKerasV3(config, [
      { key: 'input_layer', name: 'in_a', vars: [] },
      { key: 'input_layer_1', name: 'in_b', vars: [] },
      // Deliberately not in class order: the name attribute decides.
      { key: 'dense_3', name: 'fc_a', vars: W.fc_a },
      { key: 'dense', name: 'fc_b', vars: W.fc_b },
      { key: 'dense_1', name: 'cls', vars: W.cls },
      { key: 'dense_2', name: 'reg', vars: W.reg },
    ]);
    await check(bytes, 'two_io.keras', 'keras-v3', '3.10.0');
  });

  it('.keras without `name` attrs: groups follow the class-name + counter rule', async () => {
    const bytes = await writeKerasV3(
      config,
      [
        { key: 'dense', vars: W.fc_a },
        { key: 'dense_1', vars: W.fc_b },
        { key: 'dense_2', vars: W.cls },
        { key: 'dense_3', vars: W.reg },
      ],
      { kerasVersion: '3.3.3' },
    );
    await check(bytes, 'two_io_noname.keras', 'keras-v3', '3.3.3');
  });

  it('.keras with float64 weights computes in float32 and says so', async () => {
    const bytes = await writeKerasV3(
      config,
      [
        { key: 'dense', vars: W.fc_a },
        { key: 'dense_1', vars: W.fc_b },
        { key: 'dense_2', vars: W.cls },
        { key: 'dense_3', vars: W.reg },
      ],
      { float64: true },
    );
    const loaded = await loadModelFiles(filesFromMemory('f64.keras', bytes), 'f64.keras');
    expect(loaded.notes.some((n) => n.includes('float64 weights are computed as float32'))).toBe(true);
    loaded.net.dispose();
    await check(bytes, 'f64.keras', 'keras-v3', '3.10.0');
  });

  it('legacy .h5 written by Keras 3 (model-name prefix, no :0), weights found by weight_names not position', async () => {
    const named = (layer: string, [k, b]: Var[], biasFirst = false) => {
      const ws = [
        { name: `two_in_two_out/${layer}/kernel`, var: k },
        { name: `two_in_two_out/${layer}/bias`, var: b },
      ];
      return { layer, weights: biasFirst ? ws.reverse() : ws };
    };
    const bytes = await writeLegacyH5(
      config,
      [
        { layer: 'in_a', weights: [] },
        { layer: 'in_b', weights: [] },
        named('fc_a', W.fc_a, true),
        named('fc_b', W.fc_b),
        named('cls', W.cls, true),
        named('reg', W.reg),
      ],
      '3.3.3',
    );
    await check(bytes, 'two_io.h5', 'keras-h5', '3.3.3');
  });

  it('legacy .h5 with Keras 2 weight names (`<other>/kernel:0`)', async () => {
    const named = (layer: string, [k, b]: Var[]) => ({
      layer,
      weights: [
        { name: `${layer}_7/kernel:0`, var: k },
        { name: `${layer}_7/bias:0`, var: b },
      ],
    });
    const bytes = await writeLegacyH5(config, [named('fc_a', W.fc_a), named('fc_b', W.fc_b), named('cls', W.cls), named('reg', W.reg)], '2.15.0');
    await check(bytes, 'two_io_k2.h5', 'keras-h5', '2.15.0');
  });
});
