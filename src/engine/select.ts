import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import type { EngineFactory } from './engine.js';
import { loadOnnxRuntime, onnxEngineFactory, onnxSupport } from './onnx/engine.js';
import { createTfjsEngine } from './tfjs.js';

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
  /** onnxruntime intra-op threads; default: 1 for small batches, 2 from 64 rows up. */
  threads?: number;
  /** Model inputs being optimised (ONNX handles a single optimised input only). */
  optimize?: number[];
}

/**
 * Pick the compute engine for a model and its objectives. `auto` (default) uses the native ONNX
 * engine when onnxruntime-node is installed, the model is a chain of supported layers and every
 * objective is linear; otherwise the TF.js reference engine. `onnx` insists (and says why it
 * cannot); `tfjs` always uses TF.js.
 *
 * @example
 * const { factory, name } = await chooseEngine(model, [{ kind: 'logit', index: 3 }]);
 * const res = await maximize(model, logit(3), { engine: factory });
 */
export async function chooseEngine(model: ActmaxModel, targets: ObjectiveSpec[], opts: ChooseEngineOptions = {}): Promise<EngineSelection> {
  const want = opts.engine ?? 'auto';
  if (want !== 'auto' && want !== 'tfjs' && want !== 'onnx') throw new ActmaxError('bad-option', `unknown engine "${String(want)}"; choose auto, tfjs or onnx`);
  const tfjs: EngineSelection = { name: 'tfjs', factory: (req) => createTfjsEngine(req) };
  if (want === 'tfjs') return tfjs;
  const reason = await onnxUnavailable(model, targets, opts.optimize);
  if (!reason) {
    const threads = opts.threads;
    return {
      name: 'onnx',
      factory: (req) => onnxEngineFactory({ threads: threads ?? (req.targets.length * req.rowsPerTarget >= 64 ? 2 : 1) })(req),
    };
  }
  if (want === 'onnx') throw new ActmaxError('bad-option', `engine "onnx" cannot run this: ${reason}; use engine tfjs or auto`);
  return { ...tfjs, fallbackReason: reason };
}

async function onnxUnavailable(model: ActmaxModel, targets: ObjectiveSpec[], optimize?: number[]): Promise<string | null> {
  if (model.inputs.length !== 1 || (optimize && (optimize.length !== 1 || optimize[0] !== 0))) return 'only single-input models are compiled to ONNX';
  const reason = onnxSupport(model, targets);
  if (reason) return reason;
  if (!(await loadOnnxRuntime())) return 'the optional package onnxruntime-node is not installed';
  return null;
}
