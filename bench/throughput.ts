import * as tf from '@tensorflow/tfjs';
import { describeModel } from '../src/model/describe.js';
import { buildForward } from '../src/model/activations.js';
import type { ActmaxModel } from '../src/model/types.js';
import type { ObjectiveSpec } from '../src/objectives/spec.js';
import { maximize, type MaximizeOptions } from '../src/optimize/maximize.js';
import { box } from '../src/constraints/index.js';
import type { EngineFactory } from '../src/engine/engine.js';
import { onnxEngineFactory } from '../src/engine/onnx/engine.js';
import { BUDGET_MS } from './common.js';

/** Logit targets × restarts giving `batch` rows. */
export function targetsFor(batch: number, classes: number): { targets: ObjectiveSpec[]; restarts: number } {
  const n = Math.min(classes, batch);
  const use = batch % n === 0 ? n : 1;
  return { targets: Array.from({ length: use }, (_, i) => ({ kind: 'logit', index: i }) as ObjectiveSpec), restarts: batch / use };
}

/** One `maximize` run of `steps` steps: wall and CPU seconds (this process, all threads). */
export async function timedRun(model: ActmaxModel, batch: number, engine: MaximizeOptions['engine'], steps: number, extra: MaximizeOptions = {}): Promise<{ wall: number; cpu: number; engine: string }> {
  const { targets, restarts } = targetsFor(batch, model.outputs[0].units);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await maximize(model, targets, { steps, restarts, seed: 1, optimizer: 'adam', constraints: [box(0, 1)], engine, historyEvery: 1_000_000, polish: false, ...extra });
  const cu = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (cu.user + cu.system) / 1e6, engine: run.engine };
}

/**
 * Steady-state image-steps/s of `maximize` (forward + input gradient + Adam + box projection):
 * the difference of a long and a short run (same settings), so that setup (engine and graph
 * building, first-call costs) cancels out. Works the same for the per-step loop and the fused path.
 */
export async function throughput(model: ActmaxModel, batch: number, engine: MaximizeOptions['engine'], budgetMs = BUDGET_MS, extra: MaximizeOptions = {}): Promise<{ rate: number; cpuRate: number; steps: number; seconds: number; engine: string }> {
  const short = 20;
  const a = await timedRun(model, batch, engine, short, extra);
  // Grow the long run until its extra steps fill most of the budget (setup noise then stays small).
  let steps = 20;
  let b = await timedRun(model, batch, engine, short + steps, extra);
  while (b.wall - a.wall < 0.6 * (budgetMs / 1000) && steps < 1_000_000) {
    const d = b.wall - a.wall;
    steps = Math.min(1_000_000, d > 0.05 ? Math.ceil((steps * (budgetMs / 1000)) / d) : steps * 8);
    b = await timedRun(model, batch, engine, short + steps, extra);
  }
  const seconds = Math.max(1e-6, b.wall - a.wall);
  const cpuSeconds = Math.max(1e-6, b.cpu - a.cpu);
  return { rate: (steps * batch) / seconds, cpuRate: (steps * batch) / cpuSeconds, steps, seconds, engine: b.engine };
}

/**
 * The classic Keras answer's loop: one class at a time, batch 1, a fresh gradient function call per
 * step, the loss and gradient downloaded every step, a normalised step (g / (rms(g) + 1e-5)) taken
 * on the host. No projection (the classic answer has none).
 */
export async function classicLoop(model: ActmaxModel, classes: number, stepsPerClass: number): Promise<{ rate: number; cpuRate: number; seconds: number }> {
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
export function perStepOnnx(threads: number): EngineFactory {
  const f = onnxEngineFactory({ threads });
  return async (req) => ({ ...(await f(req)), ascent: undefined });
}

/** The small CNN on 28×28×1 inputs, seeded random weights. */
export function smallCnn(): ActmaxModel {
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

