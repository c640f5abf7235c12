import type { Problem } from './problem.js';

/** Progress of a run, passed to `onStep`. */
export interface StepInfo {
  step: number;
  steps: number;
  /** Best objective value so far per target. */
  best: number[];
  /** Current value per row (targets × restarts). */
  current: Float32Array;
  /** Current variables of each row of the first optimised input (rows × features; the parameters p when `image.param` renders them); read, do not keep. */
  x: Float32Array;
  rowsPerTarget: number;
}

/**
 * The run's memory, shared by the per-step and the fused loop: current variables, the best value
 * and variables per row, the sampled history per target, and the caller's `onStep`.
 */
export class Progress {
  readonly bestValue: Float64Array;
  readonly bestX: Float32Array[];
  readonly history: Array<Array<{ step: number; value: number }>>;
  reinitialized = 0;
  interrupted = false;
  stepsRun = 0;

  constructor(
    readonly p: Problem,
    /** Current variables per optimised input (rows × size), updated in place. */
    readonly xs: Float32Array[],
    private readonly historyEvery: number,
    private readonly onStep?: (info: StepInfo) => void | boolean,
  ) {
    this.bestValue = new Float64Array(p.rows).fill(-Infinity);
    this.bestX = xs.map((x) => new Float32Array(x.length));
    this.history = p.targets.map(() => []);
  }

  /** Keep each row's value when it is its best so far (NaN never wins). */
  record(values: Float32Array): void {
    const sizes = this.p.inputs.map((i) => i.size);
    for (let r = 0; r < this.p.rows; r++) {
      const v = values[r];
      if (Number.isFinite(v) && v > this.bestValue[r]) {
        this.bestValue[r] = v;
        this.xs.forEach((x, k) => this.bestX[k].set(x.subarray(r * sizes[k], (r + 1) * sizes[k]), r * sizes[k]));
      }
    }
  }

  /** Best value so far per target. */
  targetBest(): number[] {
    const { restarts } = this.p;
    return this.p.targets.map((_, t) => {
      let b = -Infinity;
      for (let r = t * restarts; r < (t + 1) * restarts; r++) b = Math.max(b, this.bestValue[r]);
      return b;
    });
  }

  /** History and onStep after a step; false when onStep asks to stop. */
  afterStep(step: number, values: Float32Array): boolean {
    if (step % this.historyEvery === 0) this.targetBest().forEach((v, t) => this.history[t].push({ step, value: v }));
    return this.onStep?.({ step, steps: this.p.steps, best: this.targetBest(), current: values, x: this.xs[0], rowsPerTarget: this.p.restarts }) !== false;
  }
}
