/*
 * actmax benchmark (`npm run bench`): gradient-ascent throughput per engine/backend/batch, the
 * classic Keras-answer loop as baseline, time-to-quality, and PyTorch peers when available.
 * Prints one JSON line per measurement, then a summary table, and writes BENCHMARKS.md.
 * Options (env): BENCH_BUDGET_MS (time per throughput run, default 1500), BENCH_QUICK=1 (fewer runs),
 * BENCH_REF_STEPS (steps of the 16-restart reference run for time-to-quality, default 3000 as the issue asks).
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { describeModel } from '../src/model/describe.js';
import { buildForward } from '../src/model/activations.js';
import type { ActmaxModel } from '../src/model/types.js';
import type { ObjectiveSpec } from '../src/objectives/spec.js';
import { maximize, type MaximizeOptions } from '../src/optimize/maximize.js';
import { box } from '../src/constraints/index.js';
import type { EngineFactory } from '../src/engine/engine.js';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { loadOnnxRuntime, onnxEngineFactory } from '../src/engine/onnx/engine.js';
import { chooseEngine } from '../src/engine/select.js';
import { realModelRows, realModelTable, type RealRow } from './realworld.js';

import { priorBench } from './prior.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 1500);
const QUICK = process.env.BENCH_QUICK === '1';
const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()}-${os.arch()}` };

interface Row {
  bench: string;
  model: string;
  engine: string;
  backend: string;
  threads: number;
  batch: number;
  imageStepsPerSec?: number;
  [k: string]: unknown;
}
const rows: Row[] = [];
function emit(r: Row): void {
  const line = { ...r, machine: { ...machine, load1: +os.loadavg()[0].toFixed(1) } };
  rows.push(r);
  console.log(JSON.stringify(line));
}

/** Measured reference figures (shared notes, same kind of machine) for when PyTorch is not installed. */
const TORCH_REFERENCE = [
  { model: 'fashion-mnist-mlp', batch: 1, imageStepsPerSec: 4300 },
  { model: 'fashion-mnist-mlp', batch: 160, imageStepsPerSec: 120000 },
  { model: 'fashion-mnist-mlp', batch: 1000, imageStepsPerSec: 120000 },
  { model: 'small-cnn', batch: 64, imageStepsPerSec: 2540 },
];

/** Logit targets × restarts giving `batch` rows. */
function targetsFor(batch: number, classes: number): { targets: ObjectiveSpec[]; restarts: number } {
  const n = Math.min(classes, batch);
  const use = batch % n === 0 ? n : 1;
  return { targets: Array.from({ length: use }, (_, i) => ({ kind: 'logit', index: i }) as ObjectiveSpec), restarts: batch / use };
}

/** One `maximize` run of `steps` steps: wall and CPU seconds (this process, all threads). */
async function timedRun(model: ActmaxModel, batch: number, engine: EngineFactory, steps: number): Promise<{ wall: number; cpu: number }> {
  const { targets, restarts } = targetsFor(batch, model.outputs[0].units);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await maximize(model, targets, { steps, restarts, seed: 1, optimizer: 'adam', constraints: [box(0, 1)], engine, historyEvery: 1_000_000, polish: false });
  const cu = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (cu.user + cu.system) / 1e6 };
}

/**
 * Steady-state image-steps/s of `maximize` (forward + input gradient + Adam + box projection):
 * the difference of a long and a short run (same settings), so that setup (engine and graph
 * building, first-call costs) cancels out. Works the same for the per-step loop and the fused path.
 */
async function throughput(model: ActmaxModel, batch: number, engine: EngineFactory, budgetMs = BUDGET_MS): Promise<{ rate: number; cpuRate: number; steps: number; seconds: number }> {
  const short = 20;
  const a = await timedRun(model, batch, engine, short);
  // Grow the long run until its extra steps fill most of the budget (setup noise then stays small).
  let steps = 20;
  let b = await timedRun(model, batch, engine, short + steps);
  while (b.wall - a.wall < 0.6 * (budgetMs / 1000) && steps < 1_000_000) {
    const d = b.wall - a.wall;
    steps = Math.min(1_000_000, d > 0.05 ? Math.ceil((steps * (budgetMs / 1000)) / d) : steps * 8);
    b = await timedRun(model, batch, engine, short + steps);
  }
  const seconds = Math.max(1e-6, b.wall - a.wall);
  const cpuSeconds = Math.max(1e-6, b.cpu - a.cpu);
  return { rate: (steps * batch) / seconds, cpuRate: (steps * batch) / cpuSeconds, steps, seconds };
}

/**
 * The classic Keras answer's loop: one class at a time, batch 1, a fresh gradient function call per
 * step, the loss and gradient downloaded every step, a normalised step (g / (rms(g) + 1e-5)) taken
 * on the host. No projection (the classic answer has none).
 */
async function classicLoop(model: ActmaxModel, classes: number, stepsPerClass: number): Promise<{ rate: number; cpuRate: number; seconds: number }> {
  const fwd = buildForward(model, [{ layer: model.outputs[0].layer, pre: true }]);
  const shape = [1, ...model.inputs[0].shape];
  const n = shape.reduce((a, b) => a * b, 1);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let c = 0; c < classes; c++) {
    const x = new Float32Array(n).map((_, i) => ((i * 2654435761) % 1000) / 1000);
    for (let s = 0; s < stepsPerClass; s++) {
      const [loss, grads] = tf.tidy(() => {
        const xt = tf.tensor(x, shape);
        const f = (xi: tf.Tensor) => (fwd.run([xi]).taps[0].reshape([-1]).slice([c], [1]).sum() as tf.Scalar);
        const { value, grad } = tf.valueAndGrad(f)(xt);
        return [value.dataSync()[0], grad.dataSync() as Float32Array];
      });
      void loss;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += grads[i] * grads[i];
      const k = 1 / (Math.sqrt(ss / n) + 1e-5);
      for (let i = 0; i < n; i++) x[i] += grads[i] * k * 0.01;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  fwd.dispose();
  return { rate: (classes * stepsPerClass) / seconds, cpuRate: (classes * stepsPerClass) / ((cu.user + cu.system) / 1e6), seconds };
}

/** The ONNX engine without its fused path: maximize's per-step loop (JS optimiser and projection). */
function perStepOnnx(threads: number): EngineFactory {
  const f = onnxEngineFactory({ threads });
  return async (req) => ({ ...(await f(req)), ascent: undefined });
}

/** The small CNN on 28×28×1 inputs, seeded random weights. */
function smallCnn(): ActmaxModel {
  const g = (seed: number) => tf.initializers.glorotUniform({ seed });
  const m = tf.sequential({ name: 'small_cnn' });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: g(1) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: g(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, kernelInitializer: g(3) }));
  return describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, 'small-cnn');
}

/**
 * Time to quality: the default `maximize` on all 10 classes vs the best known value: the proven
 * optima of bench/proven-optima.json (written by `npm run bench:exact`) when present, else the best
 * of a long gradient run. Reports, per class and for all classes together, the steps and seconds
 * (wall and this process's CPU) to reach 99 % and 99.9 % of it during the gradient steps, and the
 * final ratio (after the end-of-run polish, which the step trace does not see).
 */
async function timeToQuality(model: ActmaxModel, referenceSteps: number, referenceRestarts: number, settings: MaximizeOptions = {}, label = 'defaults'): Promise<void> {
  const targets = Array.from({ length: 10 }, (_, i) => ({ kind: 'logit', index: i }) as ObjectiveSpec);
  referenceCache ??= (async () => {
    const proven = provenOptima();
    if (proven) return { best: proven, seconds: 0, engine: 'proven optima (bench/proven-optima.json)' };
    const t0 = performance.now();
    const ref = await maximize(model, targets, { steps: referenceSteps, restarts: referenceRestarts, seed: 99, constraints: [box(0, 1)], polish: false });
    return { best: ref.results.map((r) => r.value), seconds: (performance.now() - t0) / 1000, engine: ref.engine };
  })();
  const reference = await referenceCache;
  const best = reference.best;
  const trace: Array<{ t: number; cpu: number; best: number[] }> = [];
  const c0 = process.cpuUsage();
  const t1 = performance.now();
  const sinceStart = () => ({ t: (performance.now() - t1) / 1000, cpu: (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6 });
  const run = await maximize(model, targets, { constraints: [box(0, 1)], ...settings, onStep: (info) => void trace.push({ ...sinceStart(), best: info.best.slice() }) });
  const end = sinceStart();
  const goal = (frac: number, c: number) => (best[c] >= 0 ? best[c] * frac : best[c] / frac);
  const at = (i: number) => (i < 0 ? null : { step: i + 1, seconds: +trace[i].t.toFixed(3), cpuSeconds: +trace[i].cpu.toFixed(3) });
  const reach = (frac: number, c: number) => at(trace.findIndex((p) => p.best[c] >= goal(frac, c)));
  const reachAll = (frac: number) => at(trace.findIndex((p) => p.best.every((b, c) => b >= goal(frac, c))));
  const perClass = best.map((b, c) => ({ class: c, best: +b.toFixed(4), final: +run.results[c].value.toFixed(4), ratio: +(run.results[c].value / b).toFixed(5), to99: reach(0.99, c), to999: reach(0.999, c) }));
  emit({
    bench: 'time-to-quality',
    model: 'fashion-mnist-mlp',
    engine: run.engine,
    backend: run.backend,
    threads: 0,
    batch: run.restarts * 10,
    settings: label,
    steps: run.steps,
    restarts: run.restarts,
    wallSeconds: +end.t.toFixed(3),
    cpuSeconds: +end.cpu.toFixed(3),
    allTo99: reachAll(0.99),
    allTo999: reachAll(0.999),
    reference: { steps: referenceSteps, restarts: referenceRestarts, seconds: +reference.seconds.toFixed(2), engine: reference.engine },
    worstRatio: Math.min(...perClass.map((p) => p.ratio)),
    classesWithin0_1pct: perClass.filter((p) => p.ratio >= 0.999).length,
    perClass,
  });
}
let referenceCache: Promise<{ best: number[]; seconds: number; engine: string }> | null = null;

/** The bundled model's proven logit maxima over [0,1]^784, when bench:exact has written them. */
function provenOptima(): number[] | null {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'proven-optima.json'), 'utf8')) as { optima?: number[] };
    return Array.isArray(j.optima) && j.optima.length === 10 ? j.optima : null;
  } catch {
    return null;
  }
}

/** CPU seconds of finished child processes (Linux /proc; 0 elsewhere). */
function childCpuSeconds(): number {
  try {
    const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // Fields 16 and 17 of stat (cutime, cstime), in clock ticks (100 per second on Linux).
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

/** `actmax demo` end to end: process start to files written, as a user runs it. */
function demoWall(): { wallSeconds: number; cpuSeconds: number; ok: boolean } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'actmax-demo-'));
  const c0 = childCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(root, 'bin/actmax.js'), 'demo', '--out', out], { encoding: 'utf8', timeout: 120_000 });
  const wallSeconds = (performance.now() - t0) / 1000;
  const ok = r.status === 0 && fs.existsSync(path.join(out, 'report.json'));
  fs.rmSync(out, { recursive: true, force: true });
  return { wallSeconds, cpuSeconds: childCpuSeconds() - c0, ok };
}

function torchPeers(): void {
  // `python3` may be another interpreter (pyenv) than the one Debian's python3-torch installs into.
  const python = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) {
    emit({ bench: 'torch', model: '-', engine: 'pytorch', backend: 'unavailable', threads: 1, batch: 0, note: 'PyTorch is not installed here (python3 -c "import torch" fails); reference figures from measured-facts (PyTorch 1.13, 1 thread, same kind of machine)', reference: TORCH_REFERENCE });
    return;
  }
  const out = spawnSync(python, [path.join(root, 'bench/peers/torch_loop.py'), path.join(root, 'models/fashion-mnist-mlp')], { encoding: 'utf8', timeout: 120_000 });
  for (const line of out.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const r = JSON.parse(line) as Row;
    emit({ ...r, bench: 'torch' });
  }
  if (out.status !== 0) console.error(out.stderr);
}

function fmt(n: number | undefined): string {
  return n === undefined ? '—' : Math.round(n).toLocaleString('en-US');
}

const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(' / ');

async function main(): Promise<void> {
  const started = performance.now();
  await useBackend('wasm');
  const mlp = await loadModel(path.join(root, 'models/fashion-mnist-mlp'));
  const haveOnnx = (await loadOnnxRuntime()) !== null;
  const batches = QUICK ? [1, 1000] : [1, 10, 160, 1000];

  // Bundled MLP, every engine.
  for (const batch of batches) {
    await useBackend('wasm');
    let r = await throughput(mlp, batch, (req) => createTfjsEngine(req));
    emit({ bench: 'throughput', model: 'fashion-mnist-mlp', engine: 'tfjs', backend: 'wasm', threads: 1, batch, imageStepsPerSec: r.rate, imageStepsPerCpuSec: r.cpuRate, steps: r.steps, seconds: r.seconds });
    if (batch <= 10) {
      await useBackend('cpu');
      r = await throughput(mlp, batch, (req) => createTfjsEngine(req), Math.min(BUDGET_MS, 1000));
      emit({ bench: 'throughput', model: 'fashion-mnist-mlp', engine: 'tfjs', backend: 'cpu', threads: 1, batch, imageStepsPerSec: r.rate, imageStepsPerCpuSec: r.cpuRate, steps: r.steps, seconds: r.seconds });
      await useBackend('wasm');
    }
    if (haveOnnx) {
      for (const threads of [1, 2]) {
        r = await throughput(mlp, batch, onnxEngineFactory({ threads }));
        emit({ bench: 'throughput', model: 'fashion-mnist-mlp', engine: 'onnx (fused)', backend: 'onnxruntime-node', threads, batch, imageStepsPerSec: r.rate, imageStepsPerCpuSec: r.cpuRate, steps: r.steps, seconds: r.seconds });
      }
      if (batch === 1000 || batch === 1) {
        r = await throughput(mlp, batch, perStepOnnx(batch >= 64 ? 2 : 1));
        emit({ bench: 'throughput', model: 'fashion-mnist-mlp', engine: 'onnx (per-step JS update)', backend: 'onnxruntime-node', threads: batch >= 64 ? 2 : 1, batch, imageStepsPerSec: r.rate, imageStepsPerCpuSec: r.cpuRate, steps: r.steps, seconds: r.seconds });
      }
    }
  }

  // Small CNN at batch 64.
  const cnn = smallCnn();
  {
    const r = await throughput(cnn, 64, (req) => createTfjsEngine(req), BUDGET_MS * 2);
    emit({ bench: 'throughput', model: 'small-cnn', engine: 'tfjs', backend: 'wasm', threads: 1, batch: 64, imageStepsPerSec: r.rate, imageStepsPerCpuSec: r.cpuRate, steps: r.steps, seconds: r.seconds });
    if (haveOnnx) {
      for (const threads of [1, 2]) {
        const o = await throughput(cnn, 64, onnxEngineFactory({ threads }), BUDGET_MS * 2);
        emit({ bench: 'throughput', model: 'small-cnn', engine: 'onnx (fused)', backend: 'onnxruntime-node', threads, batch: 64, imageStepsPerSec: o.rate, imageStepsPerCpuSec: o.cpuRate, steps: o.steps, seconds: o.seconds });
      }
    }
  }
  cnn.dispose();

  // The classic answer's loop (baseline).
  {
    await useBackend('wasm');
    const c = await classicLoop(mlp, QUICK ? 2 : 10, 100);
    emit({ bench: 'classic-loop', model: 'fashion-mnist-mlp', engine: 'tfjs (fresh tf.grad per step)', backend: 'wasm', threads: 1, batch: 1, imageStepsPerSec: c.rate, imageStepsPerCpuSec: c.cpuRate, seconds: c.seconds });
  }

  // Time to quality (default settings, and a few others) against a long reference run.
  const refSteps = Number(process.env.BENCH_REF_STEPS ?? (QUICK ? 500 : 3000));
  await timeToQuality(mlp, refSteps, 16);
  if (!QUICK) {
    await timeToQuality(mlp, refSteps, 16, { steps: 300 }, 'steps 300');
    await timeToQuality(mlp, refSteps, 16, { restarts: 16, steps: 300 }, 'restarts 16, steps 300');
  }

  // actmax demo, end to end.
  const demo = demoWall();
  emit({ bench: 'demo', model: 'fashion-mnist-mlp', engine: 'auto', backend: '-', threads: 0, batch: 20, wallSeconds: +demo.wallSeconds.toFixed(2), cpuSeconds: +demo.cpuSeconds.toFixed(2), ok: demo.ok, runner: fs.existsSync(path.join(root, 'dist/cli/main.js')) ? 'dist' : 'tsx (sources)' });

  torchPeers();
  mlp.dispose();
  // Do the answers look like data (bench/prior.ts)? Minutes on 2 cores: skipped with BENCH_QUICK=1.
  const priorLines = QUICK ? [] : await priorBench();

  // Real-world graph models (test/fixtures/tfjs-graph-realworld).
  await useBackend('wasm');
  await realModelRows(root, (r) => emit(r), BUDGET_MS * 2);

  // Summary.
  const torch = rows.filter((r) => r.bench === 'torch' && r.backend !== 'unavailable');
  // PyTorch at its best thread count.
  const torchRate = (model: string, batch: number) => {
    const measured = torch.filter((t) => t.model === model && t.batch === batch).map((t) => t.imageStepsPerSec ?? 0);
    return measured.length ? Math.max(...measured) : TORCH_REFERENCE.find((t) => t.model === model && t.batch === batch)?.imageStepsPerSec;
  };
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}. ${new Date().toISOString().slice(0, 10)}.`);
  lines.push('');
  lines.push('Image-steps/s of gradient ascent on the input (forward + input gradient + Adam + box projection, `maximize` end to end, steady state: a long run minus a short one).');
  lines.push('`onnx (fused)`: several steps per onnxruntime call (optimiser, clip and best tracking inside the graph); `onnx (per-step JS update)`: one call per step, optimiser and projection in JavaScript.');
  lines.push(`PyTorch column: ${torch.length ? 'measured in this run (bench/peers/torch_loop.py, Debian python3-torch with libopenblas0-pthread — with Debian\'s reference BLAS alone it is ≈10× slower), at its best thread count' : 'reference figures from the shared notes (PyTorch 1.13, 1 thread; not installed here)'}.`);
  lines.push('');
  lines.push(`Load average at the start: ${loadAtStart}; other processes share these cores, so the per-CPU-second column (image-steps per second of this process's CPU time, all threads) is the steadier figure.`);
  lines.push('');
  lines.push('| model | batch | engine | backend | threads | image-steps/s (wall) | image-steps per CPU-s | × PyTorch (wall) |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows.filter((x) => x.bench === 'throughput' || x.bench === 'classic-loop' || (x.bench === 'torch' && x.backend !== 'unavailable'))) {
    const t = torchRate(r.model, r.batch);
    lines.push(`| ${r.model} | ${r.batch} | ${r.engine} | ${r.backend} | ${r.threads} | ${fmt(r.imageStepsPerSec)} | ${fmt(r.imageStepsPerCpuSec as number | undefined)} | ${t && r.imageStepsPerSec ? (r.imageStepsPerSec / t).toFixed(2) : '—'} |`);
  }
  type Reach = { step: number; seconds: number; cpuSeconds: number } | null;
  type Ttq = Row & { settings: string; wallSeconds: number; cpuSeconds: number; worstRatio: number; classesWithin0_1pct: number; steps: number; restarts: number; allTo99: Reach; allTo999: Reach; reference: { steps: number; restarts: number } };
  const ttqs = rows.filter((r) => r.bench === 'time-to-quality') as Ttq[];
  if (ttqs.length) {
    const reach = (r: Reach) => (r ? `step ${r.step}, ${r.seconds} s (${r.cpuSeconds} CPU-s)` : 'not reached');
    lines.push('');
    lines.push(`Time to quality: all 10 classes of the bundled model, box [0, 1], one batch; value relative to the best of a ${ttqs[0].reference.restarts} restarts × ${ttqs[0].reference.steps} steps run. Seconds from the \`maximize\` call (engine building included); on the fused path progress is seen at chunk ends.`);
    lines.push('');
    lines.push('| settings | engine | steps × restarts | all classes ≥ 99 % | all classes ≥ 99.9 % | final: classes within 0.1 % (worst ratio) | wall s | CPU s |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const t of ttqs) lines.push(`| ${t.settings} | ${t.engine} | ${t.steps} × ${t.restarts} | ${reach(t.allTo99)} | ${reach(t.allTo999)} | ${t.classesWithin0_1pct}/10 (${t.worstRatio}) | ${t.wallSeconds} | ${t.cpuSeconds} |`);
  }
  lines.push(...realModelTable(rows.filter((r) => r.bench === 'real-model') as RealRow[]));
  const demoRow = rows.find((r) => r.bench === 'demo') as (Row & { wallSeconds: number; cpuSeconds: number; ok: boolean; runner: string }) | undefined;
  if (demoRow) {
    lines.push('');
    lines.push(`\`actmax demo\` end to end (process start to files written, ${demoRow.runner}): ${demoRow.wallSeconds} s wall, ${demoRow.cpuSeconds} CPU-s${demoRow.ok ? '' : ' — FAILED'}.`);
  }
  if (priorLines.length) lines.push('', ...priorLines);
  lines.push('');
  lines.push(`Bench wall time: ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  const table = lines.join('\n');
  console.log('\n' + table);
  const md = `# Benchmarks\n\nLatest \`npm run bench\` (every figure: one process, this machine; JSON lines on stdout carry the details).\n\n${table}\n`;
  fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), md);
}

await main();
