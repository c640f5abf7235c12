import type { Milp } from './encode.js';
import { polytopeTuning, type CodeRows } from './polytopeBound.js';
import { startSolverThread, type SolverThread } from './solver-thread.js';

/**
 * The one adapter to HiGHS (npm `highs`, HiGHS compiled to WebAssembly). Solves run in a worker
 * (a Node worker thread, or a Web Worker in the browser build: solver-thread.ts) so the calling
 * thread stays free: progress and every new incumbent come back as messages, an abort asks HiGHS
 * to stop at its next checkpoint, and a worker that does not answer (HiGHS does not check its time
 * limit during presolve; a browser without shared memory cannot signal it at all) is terminated,
 * keeping the best incumbent seen. The solver's own code is in highs-core.ts.
 */

/** Progress of a MILP solve. `incumbent`/`bound` are objective values (maximised). */
export interface SolveProgress {
  incumbent: number | null;
  bound: number | null;
  gap: number | null;
  nodes: number;
  seconds: number;
}

/** How a solve ended. */
export interface SolveOutcome {
  status: 'optimal' | 'infeasible' | 'time-limit' | 'interrupted' | 'unbounded' | 'other';
  /** HiGHS model status code, for diagnostics. */
  modelStatus: number;
  objective: number | null;
  bound: number | null;
  /** Best solution (all columns), or null when none was found. */
  colValue: Float64Array | null;
  nodes: number;
  seconds: number;
  /** True when the worker had to be terminated (it did not stop in time). */
  killed: boolean;
}

/** Options of {@link HighsSolver.solveMip}. */
export interface MipOptions {
  timeLimit: number;
  /** Relative gap at which HiGHS stops and reports optimal (0 = a proof). */
  gapTolerance: number;
  start?: Float64Array;
  onProgress?: (p: SolveProgress) => void;
  onIncumbent?: (objective: number, colValue: Float64Array) => void;
  signal?: AbortSignal;
  /** Stop at the first feasible solution HiGHS finds (status 'interrupted' with that solution). */
  stopAtSolution?: boolean;
  /** Extra HiGHS options (names as in HiGHS, e.g. `mip_heuristic_effort`); they override actmax's defaults. */
  solverOptions?: Record<string, number | string | boolean>;
}

/** HiGHS options actmax sets for MILP solves (tight tolerances: big-M rows magnify slack). */
export const DEFAULT_MIP_OPTIONS: Record<string, number | string | boolean> = { mip_feasibility_tolerance: 1e-9, primal_feasibility_tolerance: 1e-9 };

/**
 * With a warm start the incumbent is already good (gradient search matches HiGHS's best
 * incumbents), so primal heuristics mostly cost time: off, the proofs below ran ≈4× faster
 * (Fashion-MNIST MLP, L∞ ε = 0.02, logit: 14.2 s → 3.4 s, same nodes).
 */
export const WARM_MIP_OPTIONS: Record<string, number | string | boolean> = {
  mip_heuristic_effort: 0,
  mip_heuristic_run_feasibility_jump: false,
  mip_heuristic_run_rins: false,
  mip_heuristic_run_rens: false,
};

interface WireModel {
  numCols: number;
  numRows: number;
  offset: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  starts: Int32Array;
  indices: Int32Array;
  values: Float64Array;
  integrality: Int32Array;
  maximize: boolean;
}

/** Column-and-row arrays of a MILP, ready to pass to HiGHS without text parsing. */
function toWire(milp: Milp, withObjective = true): WireModel {
  const numCols = milp.columns.length;
  const numRows = milp.rows.length;
  const colCost = new Float64Array(numCols);
  if (withObjective) milp.objective.idx.forEach((c, k) => (colCost[c] += milp.objective.coef[k]));
  let nnz = 0;
  for (const r of milp.rows) nnz += r.idx.length;
  const starts = new Int32Array(numRows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const rowLower = new Float64Array(numRows);
  const rowUpper = new Float64Array(numRows);
  let p = 0;
  milp.rows.forEach((r, i) => {
    starts[i] = p;
    r.idx.forEach((c, k) => {
      indices[p] = c;
      values[p++] = r.coef[k];
    });
    rowLower[i] = r.sense === '<=' ? -Infinity : r.rhs;
    rowUpper[i] = r.sense === '>=' ? Infinity : r.rhs;
  });
  starts[numRows] = p;
  return {
    numCols,
    numRows,
    offset: withObjective ? milp.objective.c : 0,
    colCost,
    colLower: Float64Array.from(milp.columns, (c) => c.lo),
    colUpper: Float64Array.from(milp.columns, (c) => c.hi),
    rowLower,
    rowUpper,
    starts,
    indices,
    values,
    integrality: Int32Array.from(milp.columns, (c) => (c.integer ? 1 : 0)),
    maximize: true,
  };
}

/** An LP of dense rows (CodeRows) as HiGHS's arrays, zero costs, maximised. */
function denseWire(rows: CodeRows, lo: Float64Array, hi: Float64Array): WireModel {
  const { k, G } = rows;
  const starts = new Int32Array(rows.rows + 1), indices: number[] = [], values: number[] = [];
  for (let q = 0; q < rows.rows; q++) {
    for (let c = 0; c < k; c++) if (G[q * k + c] !== 0) (indices.push(c), values.push(G[q * k + c]));
    starts[q + 1] = indices.length;
  }
  return {
    numCols: k, numRows: rows.rows, offset: 0, colCost: new Float64Array(k), colLower: lo, colUpper: hi, rowLower: rows.lower, rowUpper: rows.upper,
    starts, indices: Int32Array.from(indices), values: Float64Array.from(values), integrality: new Int32Array(k), maximize: true,
  };
}

const STATUS: Record<number, SolveOutcome['status']> = { 7: 'optimal', 8: 'infeasible', 9: 'infeasible', 10: 'unbounded', 13: 'time-limit', 17: 'interrupted' };

/**
 * A HiGHS instance in a worker (thread). Start one per exact maximisation, close it at the end.
 *
 * @example
 * const solver = await HighsSolver.start();
 * try { const out = await solver.solveMip(milp, { timeLimit: 60, gapTolerance: 0 }); }
 * finally { await solver.close(); }
 */
export class HighsSolver {
  /** True once the worker was terminated (by close, or to stop a solve that could not be signalled). */
  private ended = false;
  private constructor(private readonly thread: SolverThread) {}

  /** Start the worker (HiGHS loads its WebAssembly there). */
  static async start(): Promise<HighsSolver> {
    return new HighsSolver(startSolverThread());
  }

  /** Terminate the worker. */
  async close(): Promise<void> {
    this.ended = true;
    await this.thread.terminate();
  }

  private kill(): void {
    this.ended = true;
    void this.thread.terminate();
  }

  /**
   * Min and max of each target column over the LP relaxation `milp` (its objective is ignored),
   * within `seconds`. Targets not reached keep ±Infinity.
   */
  solveBounds(milp: Milp, targets: number[], seconds: number, signal?: AbortSignal): Promise<{ lo: Float64Array; hi: Float64Array; done: number }> {
    const unreached = () => ({ lo: new Float64Array(targets.length).fill(-Infinity), hi: new Float64Array(targets.length).fill(Infinity), done: 0 });
    return this.request({ type: 'bounds', model: toWire(milp, false), targets, seconds }, 'bounds', unreached, signal);
  }

  /**
   * Maximise each cost vector over one LP {lower ≤ G v ≤ upper, lo ≤ v ≤ hi} (G dense, row-major,
   * rows.k columns), each LP warm-started from the last: the row duals of each (null where it
   * found no optimum within `seconds` for all, or `polytopeTuning.lpSeconds` (1 s) for one). The caller certifies bounds from
   * the duals (codeDualBound), so nothing here is trusted as it is.
   *
   * @example
   * const duals = await solver.solveLps(rows, lo, hi, [g1, g2], 10);
   * const bound = duals[0] ? codeDualBound(rows, g1, 0, lo, hi, duals[0]) : Infinity;
   */
  solveLps(rows: CodeRows, lo: Float64Array, hi: Float64Array, costs: Float64Array[], seconds: number, signal?: AbortSignal): Promise<Array<Float64Array | null>> {
    const model = denseWire(rows, lo, hi);
    return this.request({ type: 'lps', model, costs, seconds, lpSeconds: polytopeTuning.lpSeconds }, 'lps', () => ({ duals: costs.map(() => null) }), signal).then((m) => m.duals);
  }

  /** One request to the worker: its reply of type `reply`, or `unreached()` when stopped before one. */
  private request<T>(message: Record<string, unknown>, reply: string, unreached: () => T, signal?: AbortSignal): Promise<T> {
    if (this.ended || signal?.aborted) return Promise.resolve(unreached());
    this.thread.clearStop();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        offMessage();
        offError();
        signal?.removeEventListener('abort', onAbort);
        f();
      };
      const onAbort = () => {
        // Without a stop signal the LPs run on until their budget is spent: end the worker instead.
        if (!this.thread.requestStop()) {
          this.kill();
          settle(() => resolve(unreached()));
        }
      };
      const offMessage = this.thread.onMessage((m) => {
        if (m.type === reply) settle(() => resolve(m as unknown as T));
        else if (m.type === 'error') settle(() => reject(new Error(`HiGHS worker: ${String(m.message)}`)));
      });
      const offError = this.thread.onError((e) => settle(() => reject(e)));
      signal?.addEventListener('abort', onAbort);
      this.thread.post(message);
    });
  }

  /**
   * Solve the MILP (maximise) with a time limit; `onIncumbent` sees every improving solution, so
   * an abort or a hung presolve still returns the best one found.
   */
  solveMip(milp: Milp, options: MipOptions): Promise<SolveOutcome> {
    const started = performance.now();
    let best: { objective: number; colValue: Float64Array } | null = null;
    let lastProgress: SolveProgress | null = null;
    const stopped = (): SolveOutcome => ({
      status: options.signal?.aborted ? 'interrupted' : 'time-limit',
      modelStatus: -1,
      objective: best?.objective ?? null,
      bound: lastProgress?.bound ?? null,
      colValue: best?.colValue ?? null,
      nodes: lastProgress?.nodes ?? 0,
      seconds: (performance.now() - started) / 1000,
      killed: true,
    });
    if (this.ended) return Promise.resolve(stopped());
    const model = toWire(milp);
    this.thread.clearStop();
    return new Promise((resolve, reject) => {
      let settled = false;
      // Grace beyond the time limit before the worker is terminated (presolve ignores time_limit).
      const hardStop = setTimeout(() => kill(), (options.timeLimit + Math.max(3, options.timeLimit * 0.1)) * 1000);
      let abortTimer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        if (this.thread.requestStop()) abortTimer = setTimeout(() => kill(), 2000);
        else kill();
      };
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(hardStop);
        if (abortTimer) clearTimeout(abortTimer);
        options.signal?.removeEventListener('abort', onAbort);
        offMessage();
        offError();
        f();
      };
      const kill = () => {
        this.kill();
        settle(() => resolve(stopped()));
      };
      const offMessage = this.thread.onMessage((m) => {
        if (m.type === 'progress') {
          lastProgress = m as unknown as SolveProgress;
          const bound = lastProgress.bound;
          if (bound !== null && Math.abs(bound) >= 1e30) lastProgress.bound = null;
          options.onProgress?.(lastProgress);
        } else if (m.type === 'incumbent') {
          const objective = m.objective as number;
          const colValue = m.colValue as Float64Array;
          if (!best || objective > best.objective) best = { objective, colValue };
          options.onIncumbent?.(objective, colValue);
        } else if (m.type === 'done') {
          const code = m.modelStatus as number;
          let bound = m.bound as number | null;
          if (bound !== null && (!Number.isFinite(bound) || Math.abs(bound) >= 1e30)) bound = null;
          const colValue = (m.colValue as Float64Array | null) ?? best?.colValue ?? null;
          const out: SolveOutcome = {
            status: STATUS[code] ?? 'other',
            modelStatus: code,
            objective: (m.objective as number | null) ?? best?.objective ?? null,
            bound,
            colValue,
            nodes: m.nodes as number,
            seconds: m.seconds as number,
            killed: false,
          };
          settle(() => resolve(out));
        } else if (m.type === 'error') {
          settle(() => reject(new Error(`HiGHS worker: ${String(m.message)}`)));
        }
      });
      const offError = this.thread.onError((e) => settle(() => reject(e)));
      options.signal?.addEventListener('abort', onAbort);
      this.thread.post({ type: 'mip', model, timeLimit: options.timeLimit, gap: options.gapTolerance, start: options.start, stopAtSolution: options.stopAtSolution ?? false, options: { ...DEFAULT_MIP_OPTIONS, ...(options.start ? WARM_MIP_OPTIONS : {}), ...options.solverOptions } });
      if (options.signal?.aborted) onAbort();
    });
  }
}
