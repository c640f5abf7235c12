/**
 * The atlas on local worker threads, on a 7-unit CNN written to disk: every unit recorded once with
 * the value its planned batch gives in this thread; the same values with 1 or 2 threads; resuming
 * after a crash and after an abort; refusing a folder of another atlas; one onnxruntime intra-op
 * thread per batch by default; dataset examples.
 */
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { loadOnnxRuntime } from '../engine/onnx/runtime.js';
import { maximize } from '../optimize/maximize.js';
import { readExamples, scoreExamples } from './examples.js';
import { batchSeed, planAtlas } from './plan.js';
import { runAtlasBatch } from './run-batch.js';
import { localRunner, runAtlas, type BatchRunner } from './run.js';
import { AtlasStore, type Manifest } from './store.js';
import type { BatchResult } from './types.js';
import { tinyCnn, writeModelFolder } from './testing/small-model.js';

const hasOnnx = (await loadOnnxRuntime()) !== null;
const SETTINGS = { steps: 5, restarts: 2, batchUnits: 3, seed: 4 } as const;
let tmp: string;
let model: ActmaxModel;
// Thread start-up (TF.js and the model in each thread) is most of the cost: the tests share runners.
let twoThreads: BatchRunner;
let oneThread: BatchRunner;

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-atlas-'));
  model = await loadModel(await writeModelFolder(tinyCnn(3), path.join(tmp, 'model')));
  twoThreads = localRunner(model, { threads: 2 });
  oneThread = localRunner(model, { threads: 1 });
});
afterAll(async () => {
  await twoThreads?.close();
  await oneThread?.close();
  model?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

const readManifest = async (dir: string) => JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
const values = (m: Manifest) => Object.fromEntries(m.units.map((u) => [u.id, u.value]));

describe('runAtlas on local threads', () => {
  let first: Manifest;

  it('records every unit once, with the value of its planned batch run in this thread', async () => {
    const out = path.join(tmp, 'two-threads');
    const summary = await runAtlas(model, { ...SETTINGS, out, runner: twoThreads });
    expect(summary).toMatchObject({ total: 7, done: 7, recorded: 7, interrupted: false });
    first = await readManifest(out);
    expect(first.units.map((u) => u.id)).toEqual(['conv/0', 'conv/1', 'conv/2', 'conv/3', 'out/0', 'out/1', 'out/2']);
    const plan = planAtlas(model, SETTINGS);
    for (const batch of plan.batches) {
      const direct = await runAtlasBatch(model, batch, { ...plan.settings, atlasId: plan.atlasId });
      for (const u of direct.units) expect(Math.abs(values(first)[u.id] - u.value), u.id).toBeLessThan(1e-5);
    }
    for (const u of first.units) {
      expect(u).toMatchObject({ steps: 5, engine: expect.stringMatching(/^(onnx-\d+t|tfjs-wasm)$/), seed: batchSeed(4, u.batch) });
      for (const f of [u.files.page, u.files.json, u.files.best!, ...u.files.restarts]) expect(existsSync(path.join(out, f)), f).toBe(true);
      expect(u.files.restarts).toHaveLength(2);
      // The winner's picture is the best picture: listed as best.png, not written twice.
      const rec = JSON.parse(readFileSync(path.join(out, u.files.json), 'utf8')) as { winner: number };
      expect(u.files.restarts[rec.winner]).toBe(u.files.best);
      const pictures = readdirSync(path.join(out, path.dirname(u.files.json))).filter((f) => f.endsWith('.png'));
      expect(new Set(pictures.map((f) => readFileSync(path.join(out, path.dirname(u.files.json), f)).toString('base64'))).size).toBe(pictures.length);
    }
    for (const f of ['index.html', 'atlas.css', 'layers/conv.html', 'layers/out.html']) expect(existsSync(path.join(out, f)), f).toBe(true);
  });

  it('ends a thread whose batch is aborted mid-run; the next run starts a fresh one', async () => {
    const long = planAtlas(model, { ...SETTINGS, steps: 20_000 });
    await oneThread.run([], long, async () => {}); // the thread is up
    const stop = new AbortController();
    const got: BatchResult[] = [];
    setTimeout(() => stop.abort(), 500);
    const t0 = performance.now();
    await oneThread.run(long.batches.slice(0, 1), long, async (r) => void got.push(r), stop.signal);
    expect(got).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('refuses to run a batch planned on another model', async () => {
    const plan = planAtlas(model, SETTINGS);
    await expect(oneThread.run(plan.batches.slice(0, 1), { ...plan, modelDigest: '0'.repeat(64) }, async () => {})).rejects.toThrow(/is not the model this atlas was planned on/);
  });

  it('gives the same values with one thread', async () => {
    const out = path.join(tmp, 'one-thread');
    await runAtlas(model, { ...SETTINGS, out, runner: oneThread });
    const one = values(await readManifest(out));
    for (const [id, v] of Object.entries(values(first))) expect(Math.abs(one[id] - v), id).toBeLessThan(1e-5);
  });

  it('after a crash, redoes only units without a unit.json and reads back units the manifest missed', async () => {
    const out = path.join(tmp, 'two-threads');
    const manifest = await readManifest(out);
    // Crash before the manifest listed the last four units, and in the middle of out/2's files.
    await fs.writeFile(path.join(out, 'manifest.json'), JSON.stringify({ ...manifest, units: manifest.units.slice(0, 3) }));
    await fs.rm(path.join(out, 'units/out/2/unit.json'));
    const summary = await runAtlas(model, { ...SETTINGS, out, runner: twoThreads });
    expect(summary).toMatchObject({ done: 7, recorded: 1 });
    const after = await readManifest(out);
    expect(after.units.map((u) => u.id)).toEqual(manifest.units.map((u) => u.id));
    expect(Math.abs(values(after)['out/2'] - values(first)['out/2'])).toBeLessThan(1e-5);
    // Nothing left to do: a rerun records nothing.
    expect((await runAtlas(model, { ...SETTINGS, out, runner: twoThreads })).recorded).toBe(0);
  });

  it('stops cleanly on abort and finishes on the next run with the same values', async () => {
    const out = path.join(tmp, 'aborted');
    const stop = new AbortController();
    // A runner that finishes the first batch, then sees Ctrl-C: the other batches are never recorded.
    const runner: BatchRunner = {
      async run(batches, plan, onResult, signal) {
        for (const b of batches) {
          if (signal?.aborted) return;
          await onResult(await runAtlasBatch(model, b, { ...plan.settings, atlasId: plan.atlasId }));
          stop.abort();
        }
      },
      close: async () => {},
    };
    const summary = await runAtlas(model, { ...SETTINGS, out, runner, signal: stop.signal });
    expect(summary).toMatchObject({ interrupted: true, done: 3, recorded: 3 });
    expect((await readManifest(out)).units.map((u) => u.id)).toEqual(['conv/0', 'conv/1', 'conv/2']);
    const rest = await runAtlas(model, { ...SETTINGS, out, runner: oneThread });
    expect(rest).toMatchObject({ interrupted: false, done: 7, recorded: 4 });
    const full = values(await readManifest(out));
    for (const [id, v] of Object.entries(values(first))) expect(Math.abs(full[id] - v), id).toBeLessThan(1e-5);
  });
});

describe('AtlasStore', () => {
  it('refuses a folder holding another atlas (saying what differs) or other files', async () => {
    const out = path.join(tmp, 'two-threads');
    await expect(AtlasStore.open(out, planAtlas(model, { ...SETTINGS, steps: 6 }), model)).rejects.toThrow(/made with steps 5 \(now 6\); use another --out/);
    const other = path.join(tmp, 'other');
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, 'notes.txt'), 'mine');
    await expect(AtlasStore.open(other, planAtlas(model, SETTINGS), model)).rejects.toThrow(/not empty and holds no atlas/);
    expect(await fs.readdir(other)).toEqual(['notes.txt']);
  });

  it('records a unit once: a second result for it writes nothing', async () => {
    const out = path.join(tmp, 'once');
    const plan = planAtlas(model, SETTINGS);
    const store = await AtlasStore.open(out, plan, model);
    const result = await runAtlasBatch(model, plan.batches[2], { ...plan.settings, atlasId: plan.atlasId });
    const unit = result.units[0];
    const [a, b] = await Promise.all([store.record(unit), store.record({ ...unit, value: 123 })]);
    expect([a, b]).toEqual([true, false]);
    expect(await store.record({ ...unit, value: 456 })).toBe(false);
    await store.flush();
    const m = await readManifest(out);
    expect(m.units.map((u) => [u.id, u.value])).toEqual([[unit.id, unit.value]]);
  });
});

describe('runAtlasBatch', () => {
  it('runs a batch larger than a worker\'s cap in pieces with their own seeds', async () => {
    const plan = planAtlas(model, SETTINGS);
    const batch = plan.batches[0];
    const res = await runAtlasBatch(model, batch, { ...plan.settings, atlasId: plan.atlasId }, { maxUnits: 2 });
    expect(res.units.map((u) => [u.id, u.piece, u.seed])).toEqual([['conv/0', 0, batchSeed(batch.seed, 1)], ['conv/1', 0, batchSeed(batch.seed, 1)], ['conv/2', 1, batchSeed(batch.seed, 2)]]);
    const second = await maximize(model, [batch.units[2].spec], { steps: 5, restarts: 2, seed: batchSeed(batch.seed, 2), image: 'auto', keepRestarts: true });
    expect(Math.abs(res.units[2].value - second.results[0].value)).toBeLessThan(1e-6);
  });

  // 7 units × 10 restarts = 70 rows, where maximize alone would give onnxruntime two threads.
  it.skipIf(!hasOnnx)('runs on one intra-op thread (in a worker thread too), with the values two intra-op threads give', async () => {
    const wide = { ...SETTINGS, restarts: 10, batchUnits: 7 };
    const plan = planAtlas(model, wide);
    expect(plan.batches).toHaveLength(1);
    const alone = await maximize(model, plan.batches[0].units.map((u) => u.spec), { steps: 5, restarts: 10, seed: plan.batches[0].seed, image: 'auto' });
    expect(alone.engine).toBe('onnx-2t');
    const two = await runAtlasBatch(model, plan.batches[0], { ...plan.settings, atlasId: plan.atlasId }, { intraOpThreads: 2 });
    expect(new Set(two.units.map((u) => u.engine))).toEqual(new Set(['onnx-2t']));
    const out = path.join(tmp, 'intra-op');
    await runAtlas(model, { ...wide, out, runner: oneThread });
    const threaded = await readManifest(out);
    expect(new Set(threaded.units.map((u) => u.engine))).toEqual(new Set(['onnx-1t']));
    for (const u of two.units) expect(Math.abs(values(threaded)[u.id] - u.value), u.id).toBeLessThan(1e-5);
    await expect(runAtlasBatch(model, plan.batches[0], { ...plan.settings, atlasId: plan.atlasId }, { intraOpThreads: 0 })).rejects.toThrow(/intra-op threads must be an integer ≥ 1, got 0/);
  });
});

describe('dataset examples', () => {
  it('ranks examples by the value each unit reads (channel mean, logit)', async () => {
    const dir = path.join(tmp, 'examples');
    await fs.mkdir(dir);
    const inputs = Array.from({ length: 5 }, (_, k) => Array.from({ length: 64 }, (_, i) => ((i * (k + 3)) % 11) / 10));
    for (const [k, x] of inputs.entries()) await fs.writeFile(path.join(dir, `${k}.json`), JSON.stringify(x));
    const set = await readExamples(dir, model);
    expect(set.labels).toEqual(['0.json', '1.json', '2.json', '3.json', '4.json']);
    const plan = planAtlas(model, SETTINGS);
    const top = scoreExamples(model, plan.layers, set, 3);
    const net = model.net as tf.LayersModel;
    const conv = tf.tidy(() => (tf.model({ inputs: net.inputs, outputs: net.getLayer('conv').output as tf.SymbolicTensor }).predict(tf.tensor(inputs.flat(), [5, 8, 8, 1])) as tf.Tensor).mean([1, 2]).arraySync() as number[][]);
    const want = conv.map((row, k) => ({ example: k, value: row[2] })).sort((a, b) => b.value - a.value).slice(0, 3);
    const got = top.get('conv/2')!;
    expect(got.map((e) => e.example)).toEqual(want.map((e) => e.example));
    got.forEach((e, i) => expect(Math.abs(e.value - want[i].value)).toBeLessThan(1e-5));
    // A JSON list reads the same examples.
    await fs.writeFile(path.join(tmp, 'list.json'), JSON.stringify(inputs));
    const flat = (s: typeof set) => s.inputs.map((e) => Array.from(e[model.inputs[0].name]));
    expect(flat(await readExamples(path.join(tmp, 'list.json'), model))).toEqual(flat(set));
  });
});
