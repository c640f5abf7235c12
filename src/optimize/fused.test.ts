import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { describeModel } from '../model/describe.js';
import type { ActmaxModel } from '../model/types.js';
import type { Ascent, AscentState, Engine, EngineFactory } from '../engine/engine.js';
import { onnxEngineFactory } from '../engine/onnx/engine.js';
import { box } from '../constraints/index.js';
import type { Constraint } from '../constraints/constraint.js';
import { maximize, type MaximizeOptions } from './maximize.js';
import { timedChunk } from './fused.js';

/*
 * The fused fast path (several steps per ONNX run) must give the per-step loop's answers: the same
 * engine with and without `ascent`, same seeds. Adam runs in float32 inside the graph instead of
 * float64 in JavaScript, so values agree to 1e-4 relative, not bit for bit.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const onnx = onnxEngineFactory({ threads: 1 });

/**
 * The ONNX engine with its fused ascent passed through `wrap` (to count, slow or keep its calls).
 * With `kept`, engines outlive maximize (which disposes what it made): they go there, for the caller to dispose.
 */
function wrappedOnnx(wrap: (a: Ascent) => Ascent, kept?: Engine[]): EngineFactory {
  return async (req) => {
    const e = await onnx(req);
    const ascent = e.ascent!.bind(e);
    kept?.push(e);
    return { ...e, ascent: async (plan) => wrap(await ascent(plan)), ...(kept ? { dispose: () => {} } : {}) };
  };
}

/** The ONNX engine, counting fused calls. */
function counting(): { factory: EngineFactory; calls: () => number } {
  let calls = 0;
  const factory = wrappedOnnx((a) => ({ run: (s, al, d) => ((calls += 1), a.run(s, al, d)) }));
  return { factory, calls: () => calls };
}
/** The same engine without the fused path: maximize runs its per-step loop. */
const perStep: EngineFactory = async (req) => ({ ...(await onnx(req)), ascent: undefined });

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-9, Math.abs(b));

describe('fused ascent = per-step loop', () => {
  let mlp: ActmaxModel;
  beforeAll(async () => {
    await useBackend('wasm');
    mlp = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
  });

  const ref = Array.from({ length: 784 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.37));
  const cases: Array<[string, MaximizeOptions['optimizer'], Constraint[], MaximizeOptions['schedule'], MaximizeOptions['image']?]> = [
    ['adam, box', 'adam', [box(0, 1)], undefined],
    ['sign, box, constant step', 'sign', [box(0, 1)], 'constant'],
    ['adam, L∞ ball + mask (per-feature bounds)', 'adam', [box(0, 1), { kind: 'ball', p: 'inf', eps: 0.2, ref }, { kind: 'mask', editable: Array.from({ length: 784 }, (_, i) => i % 3 !== 0), ref }], undefined],
    ['adam, image defaults (per-row jitter + TV)', 'adam', [box(0, 1)], undefined, 'auto'],
    ['sgd, spectral + rotation', 'sgd', [], undefined, { param: 'spectral', transforms: [{ kind: 'jitter', pixels: 1 }, { kind: 'rotate', degrees: 8 }] }],
    ['normalized, sigmoid + L2 + diversity', 'normalized', [], undefined, { param: 'sigmoid', transforms: [], regularizers: [{ kind: 'l2', weight: 0.5 }, { kind: 'diversity', weight: 2, layer: 'dense' }] }],
    ['adam, pixels with blur', 'adam', [box(0, 1)], undefined, { transforms: [], regularizers: [{ kind: 'blur', weight: 0.3 }] }],
  ];
  for (const [name, optimizer, constraints, schedule, image] of cases) {
    it(name, async () => {
      for (const seed of [0, 1]) {
        const opts: MaximizeOptions = { steps: 47, restarts: 3, seed, optimizer, constraints, schedule, ...(image ? { image } : {}) };
        const counter = counting();
        const a = await maximize(mlp, [{ kind: 'logit', index: 2 }, { kind: 'logit', index: 7 }], { ...opts, engine: counter.factory });
        const b = await maximize(mlp, [{ kind: 'logit', index: 2 }, { kind: 'logit', index: 7 }], { ...opts, engine: perStep });
        // 47 steps in two chunks of 24/23 steps: the fused path really ran.
        expect(counter.calls()).toBe(2);
        expect(a.steps).toBe(47);
        for (let t = 0; t < 2; t++) {
          expect(rel(a.results[t].value, b.results[t].value)).toBeLessThan(1e-4);
          expect(a.results[t].restart).toBe(b.results[t].restart);
          expect(a.results[t].history.length).toBe(b.results[t].history.length);
          for (const [k, v] of Object.entries(a.results[t].residuals)) expect(v, k).toBeLessThan(1e-6);
        }
      }
    });
  }

  it('same seed: identical result', async () => {
    const opts: MaximizeOptions = { steps: 30, restarts: 2, seed: 4, constraints: [box(0, 1)], engine: onnx };
    const a = await maximize(mlp, { kind: 'logit', index: 5 }, opts);
    const b = await maximize(mlp, { kind: 'logit', index: 5 }, opts);
    expect(a.results[0].input).toEqual(b.results[0].input);
    expect(a.results[0].value).toBe(b.results[0].value);
  });

  it('onStep sees every step; a stop inside a chunk ends the run right after that step', async () => {
    const seen: number[] = [];
    const opts: MaximizeOptions = { steps: 100, restarts: 2, seed: 1, constraints: [box(0, 1)] };
    const a = await maximize(mlp, { kind: 'logit', index: 3 }, { ...opts, engine: onnx, onStep: ({ step }) => (seen.push(step), step < 12) });
    const b = await maximize(mlp, { kind: 'logit', index: 3 }, { ...opts, engine: perStep, onStep: ({ step }) => step < 12 });
    expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => i));
    expect(a.steps).toBe(13);
    expect(b.steps).toBe(13);
    expect(rel(a.results[0].value, b.results[0].value)).toBeLessThan(1e-4);
    const ctl = new AbortController();
    const c = await maximize(mlp, { kind: 'logit', index: 3 }, { ...opts, engine: onnx, signal: ctl.signal, onStep: ({ step }) => void (step === 6 && ctl.abort()) });
    expect(c.interrupted).toBe(true);
    expect(c.steps).toBe(7);
  });

  it('rows whose value or gradient overflows are re-initialised exactly as in the per-step loop', async () => {
    // value = 1e20·relu(1e20·(x0 − 0.5)) + relu(x1): Infinity (value and gradient) once x0 > 0.5.
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 2, activation: 'relu', name: 'h' }));
    m.add(tf.layers.dense({ units: 1, name: 'out' }));
    m.layers[0].setWeights([tf.tensor2d([[1e20, 0], [0, 1], [0, 0], [0, 0]]), tf.tensor1d([-0.5e20, 0])]);
    m.layers[1].setWeights([tf.tensor2d([[1e20], [1]]), tf.tensor1d([0])]);
    const model = describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, 'overflow');
    const opts: MaximizeOptions = { steps: 40, restarts: 8, seed: 3, constraints: [box(0, 1)] };
    const counter = counting();
    const a = await maximize(model, { kind: 'logit', index: 0 }, { ...opts, engine: counter.factory });
    const b = await maximize(model, { kind: 'logit', index: 0 }, { ...opts, engine: perStep });
    expect(counter.calls()).toBeGreaterThan(2);
    expect(b.reinitialized).toBeGreaterThan(0);
    expect(a.reinitialized).toBe(b.reinitialized);
    expect(Number.isFinite(a.results[0].value)).toBe(true);
    expect(rel(a.results[0].value, b.results[0].value)).toBeLessThan(1e-6);
    expect(a.results[0].input).toEqual(b.results[0].input);
    model.dispose();
  });

  it('calls are sized by their time (about 0.25 s each, never shorter than the first), and the answer does not depend on how the steps are cut', async () => {
    // The same engine, its calls slowed by `delay(count)` ms, recording how many steps each call took.
    const timedBy = (delay: (count: number) => number, fixed?: number) => {
      const counts: number[] = [];
      const factory = wrappedOnnx((a) => ({
        ...(fixed ? { stepsPerCall: fixed } : { anyLength: a.anyLength }),
        async run(st, al, d) {
          counts.push(al[0].length / 6);
          await new Promise((res) => setTimeout(res, delay(al[0].length / 6)));
          return a.run(st, al, d);
        },
      }));
      return { factory, counts };
    };
    const opts: MaximizeOptions = { steps: 120, restarts: 3, seed: 2, constraints: [box(0, 1)], image: 'auto' };
    const targets = [{ kind: 'logit' as const, index: 1 }, { kind: 'logit' as const, index: 8 }];
    // Cheap steps: after the first call (25 steps) the next ones take up to 100.
    const quick = timedBy(() => 0);
    const a = await maximize(mlp, targets, { ...opts, engine: quick.factory });
    expect(quick.counts[0]).toBe(24);
    expect(Math.max(...quick.counts.slice(1))).toBeGreaterThan(24);
    // 50 ms a step: calls stay as long as the first (never shorter).
    const slow = timedBy((count) => 50 * count);
    const b = await maximize(mlp, targets, { ...opts, steps: 40, engine: slow.factory });
    expect(slow.counts).toEqual([20, 20]);
    // Fixed calls of 7 steps: the same answers, bit for bit.
    const fixed = timedBy(() => 0, 7);
    const c = await maximize(mlp, targets, { ...opts, engine: fixed.factory });
    expect(fixed.counts.every((k, i) => k === 7 || i === fixed.counts.length - 1)).toBe(true);
    for (let t = 0; t < 2; t++) {
      expect(a.results[t].input).toEqual(c.results[t].input);
      expect(a.results[t].value).toBe(c.results[t].value);
    }
    expect(b.steps).toBe(40);
  });

  it('timedChunk: about 0.25 s of steps a call, from the first call\'s length to 100', () => {
    expect(timedChunk(0.0045, 10)).toBe(55);
    expect(timedChunk(1, 10)).toBe(10);
    expect(timedChunk(0.05, 1)).toBe(5);
    expect(timedChunk(1e-6, 10)).toBe(100);
    expect(timedChunk(0, 10)).toBe(100);
  });

  it('best so far: exactly the rows whose value beats their best take x (none, every other one, all)', async () => {
    // Capture the fused ascent of a small run, then call it directly with chosen best values.
    let captured: Ascent | null = null;
    const kept: Engine[] = [];
    const capture = wrappedOnnx((a) => (captured = a), kept);
    await maximize(mlp, [{ kind: 'logit', index: 2 }, { kind: 'logit', index: 7 }], { steps: 4, restarts: 3, seed: 0, constraints: [box(0, 1)], engine: capture });
    const rows = 6, n = 784;
    const x = Float32Array.from({ length: rows * n }, (_, i) => ((i * 7919) % 1000) / 1000);
    for (const improves of [(_: number) => false, (r: number) => r % 2 === 0, (_: number) => true]) {
      const state: AscentState = {
        x: [x.slice()],
        m: [new Float32Array(rows * n)],
        v: [new Float32Array(rows * n)],
        bestX: [new Float32Array(rows * n).fill(0.123)],
        bestValue: Float32Array.from({ length: rows }, (_, r) => (improves(r) ? -Infinity : Infinity)),
      };
      const out = await captured!.run(state, [new Float32Array(rows)]);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(out.state.bestX[0].subarray(r * n, (r + 1) * n));
        expect(row).toEqual(improves(r) ? Array.from(x.subarray(r * n, (r + 1) * n)) : new Array(n).fill(Math.fround(0.123)));
        expect(out.state.bestValue[r]).toBe(improves(r) ? out.values[r] : Infinity);
      }
    }
    kept.forEach((e) => e.dispose());
  });
});
