import type { Ascent, AscentPlan, AscentState, Engine } from '../engine/engine.js';
import { drawSteps } from '../pipeline/resolve.js';
import type { StepDraws } from '../pipeline/spec.js';
import { AFFINE_SIZE } from '../transforms/affine.js';
import { ADAM } from './optimizers.js';
import type { Problem } from './problem.js';
import type { Progress } from './progress.js';
import type { Rng } from './rng.js';

/*
 * The fused fast path of `maximize`: when the engine offers `ascent` (several optimiser steps +
 * box clip + best tracking in one native call) and every optimised input's constraints are a
 * per-feature box (box, L∞ balls, masks; parameters are unbounded), the steps run in chunks of
 * that call instead of one engine call and one JavaScript update per step. Same maths and the same
 * transform draws as the per-step loop (the optimiser in float32 inside the engine instead of
 * float64 in JavaScript: results agree to float32 rounding).
 */

/**
 * The fused plan for this problem, or null when the per-step loop must run (the engine has no
 * fused path, or some constraint needs the exact JavaScript projection: L2/L1 balls, half-spaces,
 * one-hot groups).
 *
 * @example
 * const plan = fusedPlan(engine, problem); // null for the TF.js engine
 */
export function fusedPlan(engine: Engine, p: Problem): AscentPlan | null {
  if (!engine.ascent) return null;
  const f32 = (a: Float64Array) => Float32Array.from(a, (v) => Math.min(Math.max(v, -Number.MAX_VALUE), Number.MAX_VALUE));
  const bounds: AscentPlan['bounds'] = [];
  for (const inp of p.inputs) {
    const rc = inp.constraints;
    if (rc.l2.length || rc.l1.length || rc.linear.length || rc.oneHot.length || rc.work.exactPieces.length || inp.project) return null;
    bounds.push(inp.param ? null : { lo: f32(rc.lo), hi: f32(rc.hi) });
  }
  return { optimizer: p.optimizer, bounds, b1: ADAM.b1, b2: ADAM.b2, eps: ADAM.eps / Math.sqrt(1 - ADAM.b2) };
}

/**
 * Wall time one fused call aims at. Each call has a fixed cost (the state in and out, the Loop's
 * set-up, the chunk's bookkeeping): ≈ 17 ms at 1000 rows of 784, measured as the difference
 * between 10 and 50 steps a call — a third of `--image none`'s time at 10. 0.25 s keeps progress
 * and Ctrl-C prompt. Calls never get shorter than the first: for the conv nets of the real-world
 * fixtures (60–380 ms a step) 3 steps a call instead of 10 cost 10–16 %.
 */
const CALL_SECONDS = 0.25;
/** The most steps one call takes. */
const MAX_CHUNK = 100;

/**
 * Steps per call for steps of `secondsPerStep`: about {@link CALL_SECONDS} of work, from `least`
 * (the first call's length) to {@link MAX_CHUNK}.
 *
 * @example
 * timedChunk(0.0045, 10) // 55 (the bundled model at batch 1000)
 */
export function timedChunk(secondsPerStep: number, least: number): number {
  if (!(secondsPerStep > 0)) return MAX_CHUNK;
  return Math.max(least, Math.min(MAX_CHUNK, Math.floor(CALL_SECONDS / secondsPerStep)));
}

/** Steps `from`…`from + count` of chunk draws (steps × rows × 6 per input). */
function sliceDraws(draws: StepDraws | undefined, rows: number, from: number, count: number): StepDraws | undefined {
  const w = rows * AFFINE_SIZE;
  return draws?.map((d) => (d ? d.subarray(from * w, (from + count) * w) : null));
}

/**
 * The state of a fused run between calls: the optimiser state the engine carries, each row's step
 * count t (for Adam's bias corrections), and the caller's progress it keeps up to date.
 */
class FusedRun {
  state: AscentState;
  /** Steps taken per row since its last (re-)initialisation. */
  readonly t: Int32Array;
  private readonly sizes: number[];
  private readonly k1: number;

  constructor(
    private readonly p: Problem,
    private readonly ascent: Ascent,
    private readonly plan: AscentPlan,
    private readonly progress: Progress,
  ) {
    const rows = p.rows;
    this.sizes = p.inputs.map((i) => i.size);
    const moments = plan.optimizer === 'adam' ? 2 : plan.optimizer === 'sgd' ? 1 : 0;
    const zeros = () => this.sizes.map((n) => new Float32Array(rows * n));
    this.state = {
      x: progress.xs.map((x) => x.slice()),
      ...(moments >= 1 ? { m: zeros() } : {}),
      ...(moments >= 2 ? { v: zeros() } : {}),
      bestX: progress.bestX.map((x) => x.slice()),
      bestValue: Float32Array.from(progress.bestValue),
    };
    this.t = new Int32Array(rows);
    this.k1 = (1 - plan.b1) / Math.sqrt(1 - plan.b2);
  }

  /** Values per call: rows × the optimised values of a row. */
  get features(): number {
    return this.sizes.reduce((a, b) => a + b, 0) * this.p.rows;
  }

  /** Per input, the step size of every row at steps `step`…`step + count − 1` (Adam's bias corrections folded in). */
  alphas(step: number, count: number): Float32Array[] {
    const { p, plan, t, k1 } = this;
    const rows = p.rows;
    return p.inputs.map((inp) => {
      const a = new Float32Array(count * rows);
      for (let j = 0; j < count; j++) {
        const lr = p.lrAt(step + j) * inp.stepScale;
        for (let r = 0; r < rows; r++) {
          const tr = t[r] + j + 1;
          // Adam's bias corrections, and the constants of the unnormalised moments.
          a[j * rows + r] = plan.optimizer === 'adam' ? ((lr * Math.sqrt(1 - Math.pow(plan.b2, tr))) / (1 - Math.pow(plan.b1, tr))) * k1 : lr;
        }
      }
      return a;
    });
  }

  /** The caller's x, bestX and bestValue show the latest state (onStep reads them). */
  publish(): void {
    const { progress, state } = this;
    progress.xs.forEach((x, k) => x.set(state.x[k]));
    progress.bestX.forEach((x, k) => x.set(state.bestX[k]));
    for (let r = 0; r < this.p.rows; r++) progress.bestValue[r] = state.bestValue[r];
  }

  /** One step, with the per-step loop's handling of rows whose value or gradient is not finite; false when onStep stops the run. */
  async singleStep(step: number, draws: StepDraws | undefined, report: boolean): Promise<boolean> {
    const { p, progress, sizes, t } = this;
    const before = this.state;
    const o = await this.ascent.run(before, this.alphas(step, 1), draws);
    const next = o.state;
    for (let r = 0; r < p.rows; r++) {
      t[r]++;
      if (Number.isFinite(o.bad[r])) continue;
      // Re-initialise the row, forget its optimiser state, do not record its value; the per-step
      // loop then takes a zero-gradient step, so x stays and t = 1.
      progress.reinitialized++;
      o.values[r] = NaN;
      next.bestValue[r] = before.bestValue[r];
      sizes.forEach((n, k) => {
        next.bestX[k].set(before.bestX[k].subarray(r * n, (r + 1) * n), r * n);
        p.reinitRow(k, next.x[k], r);
        next.m?.[k].fill(0, r * n, (r + 1) * n);
        next.v?.[k].fill(0, r * n, (r + 1) * n);
      });
      t[r] = 1;
    }
    this.state = next;
    if (!report) return true;
    this.publish();
    return progress.afterStep(step, o.values);
  }

  /**
   * A chunk's `count` steps from `step`, as the engine ran them: each reported to onStep in turn.
   * Returns how many steps count — all, or up to a stop (onStep, or an abort before the last),
   * after which the chunk's first steps are redone one at a time so the run ends exactly there.
   */
  async take(step: number, count: number, out: { state: AscentState; values: Float32Array; best: Float32Array }, draws: StepDraws | undefined, signal?: AbortSignal): Promise<{ done: number; stop: boolean }> {
    const { progress, p } = this;
    const rows = p.rows;
    progress.xs.forEach((x, k) => x.set(out.state.x[k]));
    progress.bestX.forEach((x, k) => x.set(out.state.bestX[k]));
    let stop = false;
    for (let j = 0; j < count && !stop; j++) {
      for (let r = 0; r < rows; r++) progress.bestValue[r] = out.best[j * rows + r];
      const last = j === count - 1;
      if (!progress.afterStep(step + j, out.values.subarray(j * rows, (j + 1) * rows)) || (!last && signal?.aborted)) {
        progress.interrupted = !!signal?.aborted;
        stop = true;
        if (last) break;
        // Stopped inside the chunk: redo its first steps from the chunk's start.
        for (let i = 0; i <= j; i++) await this.singleStep(step + i, sliceDraws(draws, rows, i, 1), false);
        return { done: j + 1, stop };
      }
    }
    for (let r = 0; r < rows; r++) this.t[r] += count;
    this.state = out.state;
    return { done: count, stop };
  }

  /** A chunk in which some row went non-finite, replayed step by step (re-initialising such rows). */
  async replay(step: number, count: number, draws: StepDraws | undefined, signal?: AbortSignal): Promise<{ done: number; stop: boolean }> {
    for (let j = 0; j < count; j++) {
      if (j > 0 && signal?.aborted) {
        this.progress.interrupted = true;
        return { done: j, stop: true };
      }
      if (!(await this.singleStep(step + j, sliceDraws(draws, this.p.rows, j, 1), true))) return { done: j + 1, stop: true };
    }
    return { done: count, stop: false };
  }
}

/**
 * Run the steps through the engine's fused ascent. onStep-style callbacks still see every step
 * (values, best), but they arrive after each chunk (with `x` at the chunk's end); a stop (onStep
 * returning false) or an abort ends the run exactly after that step, as in the per-step loop (the
 * chunk's first steps are replayed one at a time). Rows whose value or gradient turns non-finite
 * are handled as in the per-step loop: that chunk is replayed one step at a time and those rows
 * re-initialised.
 *
 * @example
 * await runFused(problem, await engine.ascent!(plan), plan, progress, pipelineRng, {});
 */
export async function runFused(p: Problem, ascent: Ascent, plan: AscentPlan, progress: Progress, pipelineRng: Rng, opts: { signal?: AbortSignal; chunk?: number }): Promise<void> {
  const run = new FusedRun(p, ascent, plan, progress);
  const { rows, steps } = p;
  const maxChunk = opts.chunk ?? ascent.stepsPerCall ?? (run.features >= 100_000 ? 10 : 25);
  // Equal chunks (at most one other length), so at most two native graphs are built.
  const first = Math.max(1, Math.ceil(steps / Math.max(1, Math.ceil(steps / maxChunk))));
  let chunk = first;
  // Where one graph serves any length and nobody fixed it, later calls are sized by time.
  const timed = opts.chunk === undefined && ascent.stepsPerCall === undefined && !!ascent.anyLength;
  let step = 0, stop = false;
  while (step < steps && !stop) {
    if (opts.signal?.aborted) {
      progress.interrupted = true;
      break;
    }
    const count = Math.min(chunk, steps - step);
    const draws = p.pipeline ? drawSteps(p.pipeline.spec, pipelineRng, rows, count) : undefined;
    const started = performance.now();
    const out = await ascent.run(run.state, run.alphas(step, count), draws);
    if (timed) chunk = timedChunk((performance.now() - started) / 1000 / count, first);
    const taken = out.bad.every(Number.isFinite) ? await run.take(step, count, out, draws, opts.signal) : await run.replay(step, count, draws, opts.signal);
    step += taken.done;
    stop = taken.stop;
  }
  progress.stepsRun = step;
  run.publish();
}
