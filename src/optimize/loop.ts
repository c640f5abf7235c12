import { projectInPlace } from '../constraints/index.js';
import type { Engine } from '../engine/engine.js';
import { blurRows } from '../pipeline/regularizers.js';
import { drawSteps } from '../pipeline/resolve.js';
import type { Rng } from './rng.js';
import { createOptimizer } from './optimizers.js';
import type { Problem } from './problem.js';
import type { Progress } from './progress.js';

/** How often (ms) a run lets other tasks run: signal handlers, timers, UI events. */
const YIELD_EVERY_MS = 20;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Is a row's value or gradient NaN/Infinity? */
function badRow(values: Float32Array, grads: Float32Array[], r: number, sizes: number[]): boolean {
  if (!Number.isFinite(values[r])) return true;
  return grads.some((g, k) => {
    // NaN and ±Infinity propagate into a sum (±Inf together give NaN): one test per row.
    let sum = 0;
    for (let i = r * sizes[k], e = i + sizes[k]; i < e; i++) sum += g[i];
    return !Number.isFinite(sum) && g.subarray(r * sizes[k], (r + 1) * sizes[k]).some((v) => !Number.isFinite(v));
  });
}

/**
 * The per-step loop (every engine, optimiser and constraint): one engine call per step, then the
 * optimiser, blur and the exact projection in JavaScript. Rows whose value or gradient is not
 * finite start again from a random point.
 *
 * @example
 * await runSteps(problem, engine, progress, pipelineRng, { frames: new Set([0]), onFrame });
 */
export async function runSteps(p: Problem, engine: Engine, progress: Progress, pipelineRng: Rng, opts: { signal?: AbortSignal; frames: Set<number>; onFrame(step: number): Promise<void> }): Promise<void> {
  const sizes = p.inputs.map((i) => i.size);
  const optimizers = sizes.map((n) => createOptimizer(p.optimizer, p.rows, n));
  const xs = progress.xs;
  let lastYield = performance.now();
  for (let step = 0; step < p.steps; step++) {
    // The engine's work is synchronous: without a macrotask break now and then, signal handlers
    // (Ctrl-C), timers and a browser's UI never run, so an abort could not arrive mid-run.
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    if (opts.signal?.aborted) {
      progress.interrupted = true;
      break;
    }
    if (opts.frames.has(step)) await opts.onFrame(step);
    const draws = p.pipeline ? drawSteps(p.pipeline.spec, pipelineRng, p.rows) : undefined;
    const { values, grads } = await engine.valueAndGrad(xs, draws);
    for (let r = 0; r < p.rows; r++) {
      if (!badRow(values, grads, r, sizes)) continue;
      progress.reinitialized++;
      values[r] = NaN;
      xs.forEach((x, k) => {
        p.reinitRow(k, x, r);
        grads[k].fill(0, r * sizes[k], (r + 1) * sizes[k]);
        optimizers[k].resetRow(r);
      });
    }
    progress.record(values);
    const lr = p.lrAt(step);
    xs.forEach((x, k) => {
      const inp = p.inputs[k];
      optimizers[k].step(x, grads[k], lr * inp.stepScale);
      const stage = p.pipeline?.spec.inputs[k];
      if (stage && stage.blur > 0 && stage.dims && !stage.param) blurRows(x, p.rows, stage.dims, stage.blur, stage.channelsFirst);
      projectInPlace(x, p.rows, inp.constraints);
      inp.project?.(x, p.rows);
    });
    progress.stepsRun++;
    if (!progress.afterStep(step, values)) break;
  }
}
