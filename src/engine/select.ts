import { ActmaxError } from '../errors.js';
import { perRowMacs } from '../ir/cost.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import type { PipelineSpec } from '../pipeline/spec.js';
import type { EngineFactory } from './engine.js';
import { irOf, loadOnnxRuntime, onnxEngineFactory, onnxSupport } from './onnx/engine.js';
import { networkGaps } from './onnx/net.js';
import { createTfjsEngine } from './tfjs.js';
import { worthRunsOfRows } from './onnx/sharding.js';
import { shardCores } from './onnx/shards.js';

export { perRowMacs };

/** Which compute engine to use: `auto` picks ONNX when it can run the job, else TF.js. */
export type EngineChoice = 'auto' | 'tfjs' | 'onnx';

/** What {@link chooseEngine} decided. */
export interface EngineSelection {
  name: 'tfjs' | 'onnx';
  factory: EngineFactory;
  /** Why ONNX was not used (when `auto` fell back to TF.js). */
  fallbackReason?: string;
}

/** Options of {@link chooseEngine}. */
export interface ChooseEngineOptions {
  engine?: EngineChoice;
  /** onnxruntime intra-op threads; default: 2 from 64 rows or {@link TWO_THREAD_MACS} multiply-adds per step up, else 1. */
  threads?: number;
  /** The image pipeline the engine must run too. */
  pipeline?: PipelineSpec | null;
}

/**
 * Pick the compute engine for a model, its objectives and pipeline. `auto` (default) uses the
 * ONNX engine when onnxruntime is installed and every op the job needs has a gradient rule;
 * otherwise the TF.js reference engine, saying why. `onnx` insists (and says why it cannot);
 * `tfjs` always uses TF.js.
 *
 * @example
 * const { factory, name, fallbackReason } = await chooseEngine(model, [{ kind: 'logit', index: 3 }]);
 * const res = await maximize(model, logit(3), { engine: factory });
 */
export async function chooseEngine(model: ActmaxModel, targets: ObjectiveSpec[], opts: ChooseEngineOptions = {}): Promise<EngineSelection> {
  const want = opts.engine ?? 'auto';
  if (want !== 'auto' && want !== 'tfjs' && want !== 'onnx') throw new ActmaxError('bad-option', `unknown engine "${String(want)}"; choose auto, tfjs or onnx`);
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) throw new ActmaxError('bad-option', `onnxruntime intra-op threads must be an integer ≥ 1, got ${opts.threads}`);
  const tfjs: EngineSelection = { name: 'tfjs', factory: (req) => createTfjsEngine(req) };
  if (want === 'tfjs') return tfjs;
  const reason = onnxSupport({ model, targets, pipeline: opts.pipeline }) ?? ((await loadOnnxRuntime()) ? null : 'the optional package onnxruntime-node is not installed');
  if (!reason) {
    const threads = opts.threads;
    const macs = perRowMacs(irOf(model)!);
    return {
      name: 'onnx',
      factory: (req) => {
        const rows = req.targets.length * req.rowsPerTarget;
        return onnxEngineFactory({ threads: threads ?? defaultThreads(rows, macs, req.steps), runThreads: threads ?? runThreads(rows, macs, req.steps, shardCores()) })(req);
      },
    };
  }
  if (want === 'onnx') throw new ActmaxError('bad-option', `engine "onnx" cannot run this: ${reason}; use engine tfjs or auto`);
  return { ...tfjs, fallbackReason: reason };
}

/**
 * Multiply-adds of one step's forward pass from which a second intra-op thread pays: the bundled
 * MLP (≈100k per row) at 64 rows. Convolutions split well across threads, so a conv net gets two
 * at a few rows (mnist_cnn, ≈3.2M per row: from 2 rows).
 */
export const TWO_THREAD_MACS = 6_400_000;

/**
 * Threads for a batch: 2 from 64 rows or {@link TWO_THREAD_MACS} a step up, or for a run of
 * `steps` long enough to split into two runs of rows, one thread each (`worthRunsOfRows`); else 1.
 *
 * @example
 * defaultThreads(60, 3_200_000) // 2
 * defaultThreads(60, 101_632, 150) // 1
 * defaultThreads(60, 101_632, 2000) // 2: two runs of 30 rows
 */
export function defaultThreads(rows: number, macsPerRow: number, steps?: number): number {
  if (rows >= 64 || rows * macsPerRow >= TWO_THREAD_MACS) return 2;
  return steps !== undefined && worthRunsOfRows(2, rows, macsPerRow, steps) ? 2 : 1;
}

/**
 * Worker threads for a fused run's runs of rows on a machine with `cores` (see `shardCores`): the
 * most, up to one a core, that still leave each run long enough (`worthRunsOfRows`), or undefined
 * for as many as {@link defaultThreads} gives. The runs are independent single-threaded sessions,
 * which never wait for each other within a step, so more cores take more runs at once.
 *
 * @example
 * runThreads(1000, 101_632, 1000, 8) // 8
 * runThreads(1000, 101_632, 1000, 2) // undefined: two, as defaultThreads gives
 * runThreads(60, 101_632, 150, 8) // undefined: too short to split
 */
export function runThreads(rows: number, macsPerRow: number, steps: number | undefined, cores: number): number | undefined {
  if (steps === undefined) return undefined;
  for (let t = cores; t > 2; t--) if (worthRunsOfRows(t, rows, macsPerRow, steps)) return t;
  return undefined;
}

/** Which engine `auto` would use for a model's network, and why not ONNX (for `inspect`). */
export interface EngineReport {
  engine: 'onnx' | 'tfjs';
  /** Everything the ONNX engine cannot compile (ops without a gradient rule, dynamic ops …); empty when it can. */
  gaps: string[];
}

/**
 * Can the ONNX engine compile this model's network (every op on the way to its outputs)?
 * Objectives and pipelines are checked again when `maximize` runs.
 *
 * @example
 * engineReport(model) // { engine: 'onnx', gaps: [] }
 */
export function engineReport(model: ActmaxModel): EngineReport {
  const ir = irOf(model);
  if (!ir) return { engine: 'tfjs', gaps: ['the model has no network IR'] };
  // Outputs of dynamic ops come after the differentiable part: TF.js computes them at evaluation.
  const gaps = networkGaps(ir, ir.outputs.filter((o) => !ir.dynamic.has(o.value)).map((o) => o.value));
  return { engine: gaps.length ? 'tfjs' : 'onnx', gaps };
}
