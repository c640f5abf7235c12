/*
 * actmax benchmark (`npm run bench`): gradient-ascent throughput per engine/backend/batch, the
 * classic Keras-answer loop as baseline, the CLI's default path (image pipeline on) on the bundled
 * model and mnist_cnn.keras, time-to-quality, and PyTorch peers when available.
 * Prints one JSON line per measurement, then a summary table, and writes BENCHMARKS.md.
 * Options (env): BENCH_BUDGET_MS (time per throughput run, default 1500), BENCH_QUICK=1 (fewer runs),
 * BENCH_REF_STEPS (steps of the 16-restart reference run for time-to-quality, default 3000 as the issue asks).
 */
import fs from 'node:fs';
import path from 'node:path';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { fixture } from '../src/model/testing/fixtures.js';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { loadOnnxRuntime, onnxEngineFactory } from '../src/engine/onnx/engine.js';
import { BUDGET_MS, QUICK, emit, root } from './common.js';
import { classicLoop, perStepOnnx, smallCnn, throughput } from './throughput.js';
import { demoWall, timeToQuality } from './quality.js';
import { torchPeers, torchPipelinePeers } from './torch.js';
import { defaultPath } from './pipeline.js';
import { playgroundRates } from './playground.js';
import { summary } from './summary.js';
import { realModelRows } from './realworld.js';
import { priorBench } from './prior.js';

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

  // The CLI's default path (image defaults on) vs --image none and PyTorch's same loop.
  await defaultPath(mlp, 'fashion-mnist-mlp', 100);
  const cnnPath = fixture('keras3-keras-mnist-mlp-cnn/mnist_cnn.keras');
  const mnistCnn = cnnPath ? await loadModel(cnnPath) : null;
  if (mnistCnn) await defaultPath(mnistCnn, 'mnist_cnn', 6, false);
  torchPipelinePeers(mnistCnn);
  mnistCnn?.dispose();
  mlp.dispose();
  // Do the answers look like data (bench/prior.ts)? Minutes on 2 cores: skipped with BENCH_QUICK=1.
  const priorLines = QUICK ? [] : await priorBench();

  // The playground in headless Chromium: ONNX (onnxruntime-web) vs TF.js, as the page reports them.
  await playgroundRates();

  // Real-world graph models (test/fixtures/tfjs-graph-realworld): engine auto, seconds per 100 steps.
  await useBackend('wasm');
  await realModelRows(root, emit, BUDGET_MS * 2);

  summary(started, priorLines);
}

await main();
