import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../backend.js';
import { box } from '../../constraints/index.js';
import { loadModel } from '../../model/load.js';
import { k3Functional, k3Layer, writeKerasV3, type Var } from '../../model/testing/write-keras.js';
import type { ActmaxModel } from '../../model/types.js';
import { maximize, type MaximizeOptions } from '../../optimize/maximize.js';
import type { EngineFactory, EngineRequest } from '../engine.js';
import { onnxEngineFactory, type OnnxAscent } from './engine.js';
import { cutRows, joinRows, runCount, shardRequest, worthRunsOfRows } from './sharding.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const logit = (index: number) => ({ kind: 'logit' as const, index });
const request = (targets: number, rowsPerTarget: number, diversity = false): EngineRequest =>
  ({ model: null as unknown as ActmaxModel, targets: Array.from({ length: targets }, (_, i) => logit(i)), rowsPerTarget, optimize: [0], fixed: new Map(), ...(diversity ? { pipeline: { inputs: [], diversity: { weight: 1, layer: 'd' } } as never } : {}) });

describe('splitting the batch into runs of rows', () => {
  it('runs of whole targets where they fall evenly, else one target per row; diversity keeps each target\'s restarts together', () => {
    const even = shardRequest(request(10, 100), 2, 32)!;
    expect(even.map((s) => [s.from, s.to])).toEqual([[0, 500], [500, 1000]]);
    expect(even[1].request.targets).toEqual([5, 6, 7, 8, 9].map(logit));
    expect(even[1].request.rowsPerTarget).toBe(100);
    // 3 targets × 25 rows in two runs of 37 and 38: the cut target's rows go one target per row.
    const cut = shardRequest(request(3, 25), 2, 32)!;
    expect(cut.map((s) => [s.from, s.to])).toEqual([[0, 37], [37, 75]]);
    expect(cut[0].request.rowsPerTarget).toBe(1);
    expect(cut[0].request.targets.map((t) => (t as { index: number }).index)).toEqual([...Array(25).fill(0), ...Array(12).fill(1)]);
    expect(cut[1].request.targets.map((t) => (t as { index: number }).index)).toEqual([...Array(13).fill(1), ...Array(25).fill(2)]);
    const diverse = shardRequest(request(3, 40, true), 2, 32)!;
    expect(diverse.map((s) => [s.from, s.to])).toEqual([[0, 40], [40, 120]]);
    expect(diverse[1].request.targets).toEqual([1, 2].map(logit));
    expect(shardRequest(request(1, 200, true), 2, 32)).toBeNull();
    expect(shardRequest(request(2, 20), 2, 32)).toBeNull();
    expect(shardRequest(request(10, 100), 1, 32)).toBeNull();
  });

  it('splits only runs long enough to win back the threads\' set-up, with at least 4 rows a run', () => {
    const mlp = 101_632; // multiply-adds per row of the bundled MLP
    expect(worthRunsOfRows(2, 1000, mlp, 1000)).toBe(true);
    expect(worthRunsOfRows(2, 60, mlp, 2000)).toBe(true);
    expect(worthRunsOfRows(2, 60, mlp, 150)).toBe(false); // the CLI's default run: ≈ 0.06 s of work
    expect(worthRunsOfRows(1, 1000, mlp, 1000)).toBe(false);
    expect(worthRunsOfRows(2, 7, 1e9, 1000)).toBe(false); // 3 rows a run
    expect(worthRunsOfRows(4, 16, 1e9, 1000)).toBe(true);
  });

  it('gives large batches more runs than threads (a multiple of them), each of at most 100,000 values and at least 4 rows', () => {
    expect(runCount(2, 1000, 784)).toBe(8);
    expect(runCount(2, 500, 784)).toBe(4);
    expect(runCount(2, 250, 784)).toBe(2);
    expect(runCount(2, 60, 784)).toBe(2);
    expect(runCount(2, 8, 49_152)).toBe(2); // 4 rows a run at least, however large the rows
    expect(runCount(4, 1000, 784)).toBe(8);
  });

  it('cuts feeds along their row axis (first, or behind the step axis) and joins the parts back', () => {
    const rows = 5;
    const flat = { type: 'float32' as const, data: Float32Array.from({ length: rows * 3 }, (_, i) => i), dims: [rows, 3] };
    const steps = { type: 'int32' as const, data: Int32Array.from({ length: 2 * rows }, (_, i) => 100 + i), dims: [2, rows] };
    const runs = [{ from: 0, to: 2 }, { from: 2, to: 5 }];
    const a = runs.map((r) => cutRows(flat, rows, 0, r.from, r.to));
    expect([...(a[1].data as Float32Array)]).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(a[1].dims).toEqual([3, 3]);
    const b = runs.map((r) => cutRows(steps, rows, 1, r.from, r.to));
    expect([...(b[0].data as Int32Array)]).toEqual([100, 101, 105, 106]);
    expect(b[1].dims).toEqual([2, 3]);
    expect(b[1].data).toBeInstanceOf(Int32Array);
    expect(joinRows(a, runs, rows, 0)).toEqual(flat);
    expect(joinRows(b, runs, rows, 1)).toEqual(steps);
  });
});

describe('the fused ascent in runs of rows, one thread each', () => {
  let mlp: ActmaxModel;
  beforeAll(async () => {
    await useBackend('wasm');
    mlp = await loadModel(path.join(repoRoot, 'models/fashion-mnist-mlp'));
  });

  /** The two-thread ONNX engine, recording how many runs of rows its fused ascents used (and whether they ran stepwise). */
  const recording = (shards: boolean, runs: number[], stepwise: boolean[] = []): EngineFactory => async (req) => {
    const e = await onnxEngineFactory({ threads: 2, shards })(req);
    const ascent = e.ascent!.bind(e);
    return { ...e, ascent: async (plan) => { const a = (await ascent(plan)) as OnnxAscent; runs.push(a.runsOfRows); stepwise.push(a.stepwise); return a; } };
  };

  it('gives one session\'s answers (image defaults: per-row jitter + TV; 9 targets × 15 restarts in runs of 67 and 68 rows, cutting target 4)', async () => {
    const targets = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(logit);
    // 135 rows × 750 steps: ≈ 10¹⁰ multiply-adds, long enough to split.
    const opts: MaximizeOptions = { steps: 750, restarts: 15, seed: 3, image: 'auto', constraints: [box(0, 1)] };
    const runs: number[] = [], single: number[] = [], stepwise: boolean[] = [];
    const a = await maximize(mlp, targets, { ...opts, engine: recording(true, runs, stepwise) });
    const b = await maximize(mlp, targets, { ...opts, engine: recording(false, single) });
    expect(runs).toEqual([2]);
    // The runs take a network call a step between the pipeline's WebAssembly kernels; one session runs the Loop graph.
    expect(stepwise).toEqual([true]);
    expect(single).toEqual([1]);
    expect(a.engine).toBe('onnx-2t');
    a.results.forEach((r, t) => {
      expect(Math.abs(r.value - b.results[t].value) / Math.abs(b.results[t].value), `target ${t}`).toBeLessThan(1e-5);
      expect(r.restart).toBe(b.results[t].restart);
      let worst = 0;
      r.input.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.results[t].input[i]))));
      expect(worst).toBeLessThan(1e-4);
    });
  }, 60_000);

  it('cuts every optimised input of a two-input model (a run declared long enough to split)', async () => {
    const v = (shape: number[], f: (i: number) => number): Var => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });
    const config = k3Functional('two_in', [
      k3Layer('InputLayer', 'a', { batch_shape: [null, 4] }),
      k3Layer('InputLayer', 'b', { batch_shape: [null, 3] }),
      k3Layer('Concatenate', 'cat', { axis: -1 }, ['a', 'b']),
      k3Layer('Dense', 'hidden', { units: 6, activation: 'relu', use_bias: true }, ['cat']),
      k3Layer('Dense', 'cls', { units: 3, activation: 'linear', use_bias: true }, ['hidden']),
    ], ['a', 'b'], ['cls']);
    const bytes = await writeKerasV3(config, [
      { key: 'dense', name: 'hidden', vars: [v([7, 6], (i) => Math.sin(i + 1)), v([6], (i) => 0.1 * i)] },
      { key: 'dense_1', name: 'cls', vars: [v([6, 3], (i) => Math.cos(i * 0.7)), v([3], () => 0)] },
    ]);
    const model = await loadModel({ files: { 'two_in.keras': bytes }, main: 'two_in.keras' });
    const runs: number[] = [];
    // The request claims a very long run, so this short one splits as a long one would.
    const long = (shards: boolean): EngineFactory => async (req) => recording(shards, runs)({ ...req, steps: 1e12 });
    const opts: MaximizeOptions = { steps: 30, restarts: 9, seed: 1, constraints: [box(0, 1)] };
    const a = await maximize(model, [logit(0), logit(2)], { ...opts, engine: long(true) });
    const b = await maximize(model, [logit(0), logit(2)], { ...opts, engine: long(false) });
    expect(runs).toEqual([2, 1]);
    a.results.forEach((r, t) => {
      expect(Object.keys(r.inputs)).toEqual(['a', 'b']);
      for (const name of ['a', 'b']) r.inputs[name].forEach((x, i) => expect(x).toBeCloseTo(b.results[t].inputs[name][i], 5));
      expect(r.value).toBeCloseTo(b.results[t].value, 5);
    });
    model.dispose();
  });

  it('more runs than threads: each thread runs its runs one after another, the answers stay one session\'s', async () => {
    const runs: number[] = [];
    const long = (shards: boolean): EngineFactory => async (req) => recording(shards, runs)({ ...req, steps: 1e12 });
    // 9 targets × 30 restarts = 270 rows of 784 values: four runs of 67–68 rows, two per thread.
    const targets = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(logit);
    const opts: MaximizeOptions = { steps: 30, restarts: 30, seed: 2, image: 'auto', constraints: [box(0, 1)] };
    const a = await maximize(mlp, targets, { ...opts, engine: long(true) });
    const b = await maximize(mlp, targets, { ...opts, engine: long(false) });
    expect(runs).toEqual([4, 1]);
    a.results.forEach((r, t) => {
      expect(Math.abs(r.value - b.results[t].value) / Math.abs(b.results[t].value), `target ${t}`).toBeLessThan(1e-5);
      expect(r.restart).toBe(b.results[t].restart);
    });
  });

  it('takes more worker threads than intra-op threads where given (runThreads: more cores), with the same answers', async () => {
    const targets = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(logit);
    const opts: MaximizeOptions = { steps: 750, restarts: 15, seed: 3, image: 'auto', constraints: [box(0, 1)] };
    const runs: number[] = [];
    const three: EngineFactory = async (req) => {
      const e = await onnxEngineFactory({ threads: 1, runThreads: 3 })(req);
      const ascent = e.ascent!.bind(e);
      return { ...e, ascent: async (plan) => { const a = (await ascent(plan)) as OnnxAscent; runs.push(a.runsOfRows); return a; } };
    };
    const a = await maximize(mlp, targets, { ...opts, engine: three });
    const b = await maximize(mlp, targets, { ...opts, engine: onnxEngineFactory({ threads: 1, shards: false }) });
    // 135 rows of 784 values: more than one run's 100,000 values, so a multiple of 3 runs: three of 45 rows.
    expect(runs).toEqual([3]);
    expect(a.engine).toBe('onnx-3t');
    expect(b.engine).toBe('onnx-1t');
    a.results.forEach((r, t) => {
      expect(Math.abs(r.value - b.results[t].value) / Math.abs(b.results[t].value), `target ${t}`).toBeLessThan(1e-5);
      expect(r.restart).toBe(b.results[t].restart);
    });
  }, 60_000);

  it('short runs and small batches keep one session', async () => {
    const runs: number[] = [];
    const targets = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(logit);
    await maximize(mlp, targets, { steps: 40, restarts: 15, seed: 0, constraints: [box(0, 1)], engine: recording(true, runs) });
    await maximize(mlp, [logit(1)], { steps: 20_000, restarts: 6, seed: 0, constraints: [box(0, 1)], engine: recording(true, runs), onStep: ({ step }) => step < 30 });
    expect(runs).toEqual([1, 1]);
  });
});
