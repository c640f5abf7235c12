import type * as Ort from 'onnxruntime-node';
import { ActmaxError } from '../../errors.js';
import type { ActmaxModel } from '../../model/types.js';
import { linearReadouts } from '../../objectives/compile.js';
import type { ObjectiveSpec } from '../../objectives/spec.js';
import type { Engine, EngineFactory, EngineRequest, Evaluation } from '../engine.js';
import { buildGradientGraph, GRAPH_IO, onnxUnsupportedReason } from './graph.js';
import { encodeModel } from './proto.js';

type OrtModule = typeof Ort;
let ortPromise: Promise<OrtModule | null> | null = null;

/**
 * Load `onnxruntime-node` if it is installed (it is an optional dependency); null otherwise.
 *
 * @example
 * if (await loadOnnxRuntime()) console.log('native engine available');
 */
export function loadOnnxRuntime(): Promise<OrtModule | null> {
  ortPromise ??= (async () => {
    try {
      const name = 'onnxruntime-node';
      const mod = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
      return mod.InferenceSession ? mod : (mod.default ?? null);
    } catch {
      return null;
    }
  })();
  return ortPromise;
}

/**
 * Why the ONNX engine cannot run these objectives on this model (null when it can): the model must
 * be a chain of supported layers with one input, and every objective a linear read-out of a layer
 * (logit, neuron, channel, direction and their weighted sums).
 *
 * @example
 * onnxSupport(model, [{ kind: 'logit', index: 0 }]) // null
 */
export function onnxSupport(model: ActmaxModel, targets: ObjectiveSpec[]): string | null {
  const reason = onnxUnsupportedReason(model);
  if (reason) return reason;
  let readouts;
  try {
    readouts = linearReadouts(model, targets, 1);
  } catch (e) {
    return (e as Error).message;
  }
  if (!readouts) return 'only linear objectives (logit, neuron, channel, direction and their sums) are compiled to ONNX';
  try {
    buildGradientGraph(model, readouts, 1);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** Options of the ONNX engine. */
export interface OnnxEngineOptions {
  /** Intra-op threads of onnxruntime (default 1; 2 helps at large batches on 2 cores). */
  threads?: number;
}

/**
 * The native engine: the model's forward pass, the objective and its input gradient compiled into
 * one ONNX graph, run by onnxruntime-node. Gives the same numbers as the TF.js reference engine
 * (to float32 rounding).
 *
 * @example
 * const factory = onnxEngineFactory({ threads: 2 });
 * const res = await maximize(model, logit(3), { engine: factory });
 */
export function onnxEngineFactory(opts: OnnxEngineOptions = {}): EngineFactory {
  return (req) => createOnnxEngine(req, opts);
}

/** Build an ONNX engine for one request. @example const engine = await createOnnxEngine(request, { threads: 1 }) */
export async function createOnnxEngine(req: EngineRequest, opts: OnnxEngineOptions = {}): Promise<Engine> {
  const ort = await loadOnnxRuntime();
  if (!ort) throw new ActmaxError('bad-option', 'engine "onnx" needs the optional package onnxruntime-node, which is not installed; use engine tfjs');
  const { model, targets, rowsPerTarget } = req;
  if (req.optimize.length !== 1 || req.optimize[0] !== 0 || req.fixed.size > 0 || model.inputs.length !== 1) {
    throw new ActmaxError('bad-option', 'engine "onnx" supports single-input models only; use engine tfjs');
  }
  const reason = onnxSupport(model, targets);
  if (reason) throw new ActmaxError('unsupported-layer', `engine "onnx" cannot run this: ${reason}; use engine tfjs`);
  const rows = targets.length * rowsPerTarget;
  const readouts = linearReadouts(model, targets, rowsPerTarget)!;
  const bytes = encodeModel(buildGradientGraph(model, readouts, rows));
  const threads = opts.threads ?? 1;
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // No busy-waiting between ops: spinning threads burn a core that other work (or another process) needs.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const dims = [rows, ...model.inputs[0].shape];
  const run = async (x: Float32Array, fetch: string[]) => {
    const feeds = { [GRAPH_IO.input]: new ort.Tensor('float32', x, dims) };
    return session.run(feeds, fetch);
  };
  return {
    name: `onnx-${threads}t`,
    rows,
    async valueAndGrad(xs) {
      const out = await run(xs[0], [GRAPH_IO.value, GRAPH_IO.grad]);
      return { values: out[GRAPH_IO.value].data as Float32Array, grads: [out[GRAPH_IO.grad].data as Float32Array] };
    },
    async evaluate(xs): Promise<Evaluation> {
      const out = await run(xs[0], [GRAPH_IO.value, GRAPH_IO.output]);
      return { values: out[GRAPH_IO.value].data as Float32Array, outputs: [out[GRAPH_IO.output].data as Float32Array] };
    },
    dispose() {
      void session.release();
    },
  };
}
