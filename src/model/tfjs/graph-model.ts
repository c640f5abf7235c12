/**
 * Loader for TF.js graph models (converted SavedModels / frozen graphs). The signature is read
 * from the top level (newer converters) or `userDefinedMetadata.signature` (older ones). The
 * graph is run once on zeros so that unsupported ops are reported at load time, and brought into
 * the IR (src/ir/from-graph.ts) when its ops allow.
 */
import * as tf from '@tensorflow/tfjs';
import type { LoadedNet, LoadOptions } from '../types.js';
import type { IrGraph } from '../../ir/ir.js';
import { IrError } from '../../ir/errors.js';
import { dynamicValues, irFromGraph, probeForImport } from '../../ir/from-graph.js';
import { executeGraph } from '../../ir/graph-probe.js';
import { valueName, type GraphNodeJson } from '../../ir/graph-nodes.js';
import { planGraphInputs, type GraphInputPlan } from './graph-inputs.js';
import type { ModelFiles } from '../formats.js';
import { ActmaxError, isActmaxError } from '../../errors.js';
import { MAX_FLOATS, shapeSize } from '../keras/build.js';
import { readManifestWeights } from './manifest.js';

type Dict = Record<string, unknown>;

/**
 * Loads a TF.js graph model from its parsed `model.json`.
 *
 * @example
 * const { net } = await loadTfjsGraphModel(JSON.parse(text), files, 'model.json');
 * const y = (net as tf.GraphModel).execute(x) as tf.Tensor;
 */
export async function loadTfjsGraphModel(json: Dict, files: ModelFiles, file: string, opts: LoadOptions = {}): Promise<LoadedNet> {
  const { specs, data } = await readManifestWeights(json.weightsManifest, files, file);
  const userMeta = (json.userDefinedMetadata && typeof json.userDefinedMetadata === 'object' ? json.userDefinedMetadata : {}) as Dict;
  const signature = (json.signature ?? userMeta.signature) as Dict | undefined;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: 'graph-model',
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
    weightSpecs: specs,
    weightData: data,
    signature,
    userDefinedMetadata: userMeta as Record<string, never>,
    modelInitializer: json.modelInitializer as tf.io.ModelArtifacts['modelInitializer'],
  };
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new ActmaxError('bad-model', `${file}: cannot load the graph model: ${(e as Error).message}`);
  }
  try {
    return await describeGraph(model, json, file, opts);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Input plans, a dry run for the output shapes, and the IR (or why there is none). */
async function describeGraph(model: tf.GraphModel, json: Dict, file: string, opts: LoadOptions): Promise<LoadedNet> {
  const plans = planGraphInputs(model.inputs, file, opts);
  for (const p of plans) {
    if (shapeSize(p.shape) > MAX_FLOATS) throw new ActmaxError('bad-model', `${file}: graph input "${p.name}" has shape [${p.shape.join(', ')}]; more than ${MAX_FLOATS} values is refused`);
  }
  const topology = json.modelTopology as { node?: GraphNodeJson[] };
  const specs = plans.map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype }));
  const wide = plans.find((p) => (p.fixedBatch ?? 1) > 1);
  const dynamic = dynamicValues(topology);
  const dynNames = model.outputs.map((o) => o.name).filter((n) => dynamic.has(valueName(n)));
  // One TF.js run for every value's shape (and a clear load error when the graph does not run).
  const seen = wide ? null : await tfjsRun(file, () => probeForImport(model, topology, specs));
  const dynamicOutputs = new Map<string, { shape: number[]; op: string }>();
  if (dynNames.length || wide) {
    const names = wide ? model.outputs.map((o) => o.name) : dynNames;
    const shapes = await tfjsRun(file, () => runOutputShapes(model, plans, names));
    dynNames.forEach((n) => dynamicOutputs.set(n, { shape: shapes[names.indexOf(n)].slice(1), op: dynamic.get(valueName(n))! }));
  }
  const fixed = plans.some((p) => p.fixedBatch === 1);
  let ir: IrGraph | null = null;
  let irReason: string | undefined = wide ? `input "${wide.name}" has a fixed batch of ${wide.fixedBatch}` : undefined;
  try {
    if (seen) ir = await irFromGraph(model, topology, specs, fixed ? 'rewritten' : 'free', seen);
  } catch (e) {
    if (!(e instanceof IrError)) throw e;
    irReason = e.message;
  }
  // Every output's per-example shape, for models that run on TF.js as a whole (no signature needed).
  const outputShapes = new Map<string, number[]>();
  for (const o of model.outputs) {
    const rec = seen?.get(valueName(o.name))?.shape;
    if (rec) outputShapes.set(o.name, rec.slice(1));
  }
  const notes = plans.flatMap((p) => (p.note ? [p.note] : []));
  const userMeta = (json.userDefinedMetadata && typeof json.userDefinedMetadata === 'object' ? json.userDefinedMetadata : {}) as Record<string, unknown>;
  return {
    net: model,
    format: 'tfjs-graph',
    metadata: userMeta,
    notes,
    ir,
    ...(irReason ? { irReason } : {}),
    dynamicOutputs,
    outputShapes,
    layouts: plans.map((p) => p.layout ?? 'nhwc'),
    inputShapes: plans.map((p) => p.shape.slice(1)),
    batch: ir ? ir.batch : fixed ? 'per-row' : 'free',
    ...(wide ? { fixedBatch: wide.fixedBatch! } : {}),
  };
}

/** Shapes of some outputs at batch 1 (zeros), by TF.js's own executor (dynamic ops included). */
async function runOutputShapes(model: tf.GraphModel, plans: GraphInputPlan[], names: string[]): Promise<number[][]> {
  const feeds: tf.NamedTensorMap = {};
  try {
    for (const p of plans) feeds[p.name] = tf.zeros(p.shape, p.dtype as tf.DataType);
    const list = await executeGraph(model, feeds, names);
    const shapes = list.map((t) => (t.shape.length === 0 ? [1] : t.shape.slice()));
    tf.dispose(list);
    return shapes;
  } finally {
    Object.values(feeds).forEach((t) => t.dispose());
  }
}

/** A TF.js run at load time; its failure (a missing op, damaged weights) is the file's fault. */
async function tfjsRun<T>(file: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isActmaxError(e)) throw e;
    const msg = (e as Error).message;
    const code = /not supported|not implemented|unsupported/i.test(msg) ? 'unsupported-layer' : 'bad-model';
    throw new ActmaxError(code, `${file}: the graph model does not run in TF.js: ${msg.split('\n')[0]}`);
  }
}
