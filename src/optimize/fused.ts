import type { ResolvedConstraints } from '../constraints/index.js';
import type { Ascent, AscentPlan, AscentState, Engine } from '../engine/engine.js';
import { ADAM, type OptimizerName } from './optimizers.js';

/*
 * The fused fast path of `maximize`: when the engine offers `ascent` (several optimiser steps +
 * box clip + best tracking in one native call), the constraints are a per-feature box (box, L∞
 * balls, masks) and the optimiser is adam or sign, the steps run in chunks of that call instead of
 * one engine call and one JavaScript update per step. Same maths as the per-step loop (Adam in
 * float32 inside the engine instead of float64 in JavaScript: results agree to float32 rounding).
 */

/**
 * The fused plan for these settings, or null when the per-step loop must run (another optimiser,
 * several optimised inputs, or constraints beyond a per-feature box: L2/L1 balls, half-spaces, one-hot).
 *
 * @example
 * const plan = fusedPlan(engine, 'adam', 1, resolved[0]); // null for the TF.js engine
 */
export function fusedPlan(engine: Engine, optimizer: OptimizerName, optimizedInputs: number, rc: ResolvedConstraints): AscentPlan | null {
  if (!engine.ascent || optimizedInputs !== 1) return null;
  if (optimizer !== 'adam' && optimizer !== 'sign') return null;
  if (rc.l2.length || rc.l1.length || rc.linear.length || rc.oneHot.length || rc.work.exactPieces.length) return null;
  const f32 = (a: Float64Array) => Float32Array.from(a, (v) => Math.min(Math.max(v, -Number.MAX_VALUE), Number.MAX_VALUE));
  return { optimizer, lo: f32(rc.lo), hi: f32(rc.hi), b1: ADAM.b1, b2: ADAM.b2, eps: ADAM.eps / Math.sqrt(1 - ADAM.b2) };
}

/** Everything the fused loop reads from and writes back to `maximize`. */
export interface FusedRun {
  engine: Engine;
  plan: AscentPlan;
  rows: number;
  /** Features per row. */
  n: number;
  steps: number;
  /** Current input (rows × n), updated in place. */
  x: Float32Array;
  /** Best value and input per row, updated in place. */
  bestValue: Float64Array;
  bestX: Float32Array;
  /** Step size of step `s` in input units (schedule and range scale applied). */
  lrAt(step: number): number;
  /** Start row `r` of `x` again from a random feasible point (after a non-finite value or gradient). */
  reinitRow(x: Float32Array, r: number): void;
  /** After each step, with that step's values (bestValue holds the best after it); false stops. */
  afterStep(step: number, values: Float32Array): boolean;
  signal?: AbortSignal;
  /** Most steps per native call (default: 25 for small batches, 10 from 100k values up). */
  chunk?: number;
}

/**
 * Run the steps through the engine's fused ascent. onStep-style callbacks still see every step
 * (values, best), but they arrive after each chunk (with `x` at the chunk's end); a stop (onStep
 * returning false) or an abort ends the run exactly after that step, as in the per-step loop (the
 * chunk's first steps are replayed one at a time). Rows whose value or gradient turns non-finite are handled as in the
 * per-step loop: that chunk is replayed one step at a time and those rows re-initialised.
 *
 * @example
 * const { stepsRun } = await runFused({ engine, plan, rows, n, steps: 150, x, bestValue, bestX, lrAt, reinitRow, afterStep });
 */
export async function runFused(run: FusedRun): Promise<{ stepsRun: number; reinitialized: number; interrupted: boolean }> {
  const { rows, n, steps, plan } = run;
  const ascent: Ascent = await run.engine.ascent!(plan);
  const adam = plan.optimizer === 'adam';
  let state: AscentState = {
    x: run.x.slice(),
    ...(adam ? { m: new Float32Array(rows * n), v: new Float32Array(rows * n) } : {}),
    bestX: run.bestX.slice(),
    bestValue: Float32Array.from(run.bestValue),
  };
  const t = new Int32Array(rows);
  const maxChunk = run.chunk ?? (rows * n >= 100_000 ? 10 : 25);
  // Equal chunks (at most one other length), so at most two native graphs are built.
  const chunk = Math.max(1, Math.ceil(steps / Math.max(1, Math.ceil(steps / maxChunk))));
  const k1 = (1 - plan.b1) / Math.sqrt(1 - plan.b2);
  const alphasFor = (step: number, count: number) => {
    const a = new Float32Array(count * rows);
    for (let j = 0; j < count; j++) {
      const lr = run.lrAt(step + j);
      for (let r = 0; r < rows; r++) {
        const tr = t[r] + j + 1;
        // Adam's bias corrections, and the constants of the unnormalised moments.
        a[j * rows + r] = adam ? ((lr * Math.sqrt(1 - Math.pow(plan.b2, tr))) / (1 - Math.pow(plan.b1, tr))) * k1 : lr;
      }
    }
    return a;
  };
  // The caller's x, bestX (and, per step, bestValue) show the latest state: onStep reads them.
  const publish = (s: AscentState) => {
    run.x.set(s.x);
    run.bestX.set(s.bestX);
    for (let r = 0; r < rows; r++) run.bestValue[r] = s.bestValue[r];
  };
  let reinitialized = 0;
  /** One step, with the per-step loop's handling of rows whose value or gradient is not finite. */
  const singleStep = async (step: number, report: boolean): Promise<boolean> => {
    const before = state;
    const o = await ascent.run(before, alphasFor(step, 1));
    const next = o.state;
    for (let r = 0; r < rows; r++) {
      t[r]++;
      if (Number.isFinite(o.bad[r])) continue;
      // Re-initialise the row, forget its optimiser state, do not record its value; the per-step
      // loop then takes a zero-gradient step, so x stays and t = 1.
      reinitialized++;
      o.values[r] = NaN;
      next.bestValue[r] = before.bestValue[r];
      next.bestX.set(before.bestX.subarray(r * n, (r + 1) * n), r * n);
      run.reinitRow(next.x, r);
      if (adam) {
        next.m!.fill(0, r * n, (r + 1) * n);
        next.v!.fill(0, r * n, (r + 1) * n);
      }
      t[r] = 1;
    }
    state = next;
    if (!report) return true;
    publish(state);
    return run.afterStep(step, o.values);
  };

  let step = 0, interrupted = false, stop = false;
  while (step < steps && !stop) {
    if (run.signal?.aborted) {
      interrupted = true;
      break;
    }
    const count = Math.min(chunk, steps - step);
    const out = await ascent.run(state, alphasFor(step, count));
    if (!out.bad.every(Number.isFinite)) {
      // Some row went non-finite: replay this chunk step by step, re-initialising such rows.
      for (let j = 0; j < count && !stop; j++) {
        if (j > 0 && run.signal?.aborted) {
          interrupted = stop = true;
          break;
        }
        stop = !(await singleStep(step, true));
        step++;
      }
      continue;
    }
    run.x.set(out.state.x);
    run.bestX.set(out.state.bestX);
    let done = count;
    for (let j = 0; j < count; j++) {
      copyRow(run.bestValue, out.best, j, rows);
      const last = j === count - 1;
      if (!run.afterStep(step + j, out.values.subarray(j * rows, (j + 1) * rows)) || (!last && run.signal?.aborted)) {
        interrupted = !!run.signal?.aborted;
        stop = true;
        done = j + 1;
        break;
      }
    }
    if (done < count) {
      // Stopped inside the chunk: redo its first steps from the chunk's start, so the run ends
      // exactly where the per-step loop would.
      for (let j = 0; j < done; j++) await singleStep(step + j, false);
    } else {
      for (let r = 0; r < rows; r++) t[r] += count;
      state = out.state;
    }
    step += done;
  }
  publish(state);
  return { stepsRun: step, reinitialized, interrupted };
}

function copyRow(dst: Float64Array, src: Float32Array, j: number, rows: number): void {
  for (let r = 0; r < rows; r++) dst[r] = src[j * rows + r];
}
