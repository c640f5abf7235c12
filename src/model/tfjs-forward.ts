/**
 * Forward programs on a model's TF.js form, for models without an IR (recurrent layers models,
 * graph models with ops the IR cannot express) and for the outputs only dynamic ops compute.
 * Graph models recorded with a fixed batch of 1 run one row per call.
 */
import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { Forward, Tap } from './activations.js';
import type { ActmaxModel } from './types.js';
import { executeGraph } from '../ir/graph-probe.js';

const ACTIVATION_LAYERS = new Set(['Activation', 'Softmax', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU']);
const ACTIVATION_NODES = /^(Softmax|Sigmoid|Relu|Relu6|Elu|Selu|Tanh|LeakyRelu)$/;
let cloneCounter = 0;

type GraphNodes = Record<string, { op: string; inputs: Array<{ name: string }> }>;

function graphNodes(net: tf.GraphModel): GraphNodes {
  return (net as unknown as { executor: { graph: { nodes: GraphNodes } } }).executor.graph.nodes;
}

/** True when a graph input was recorded with a fixed batch size (rows must run one per call). */
function fixedBatch(net: tf.GraphModel): boolean {
  return net.inputs.some((t) => (t.shape?.[0] ?? -1) >= 0);
}

/** Feeds for one graph call: integer placeholders (uint8 images) get rounded values. */
function feeds(net: tf.GraphModel, inputs: tf.Tensor[]): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  net.inputs.forEach((t, i) => (out[t.name] = t.dtype === 'int32' ? inputs[i].round().cast('int32') : inputs[i]));
  return out;
}

/** Rows of a batch run through `fn` one at a time (fixed-batch graphs), results concatenated per output. */
function perRow(inputs: tf.Tensor[], fn: (rows: tf.Tensor[]) => tf.Tensor[]): tf.Tensor[] {
  const n = inputs[0].shape[0];
  if (n === 1) return fn(inputs);
  const parts = Array.from({ length: n }, (_, r) => fn(inputs.map((x) => x.slice([r], [1]))));
  return parts[0].map((_, k) => tf.concat(parts.map((p) => p[k])));
}

/**
 * The forward program of a model without an IR, on its TF.js form.
 *
 * @example
 * const fwd = buildTfjsForward(model, [{ layer: 'lstm', pre: false }]);
 */
export function buildTfjsForward(model: ActmaxModel, taps: Tap[]): Forward {
  const net = model.net;
  if (!Array.isArray((net as tf.LayersModel).layers)) return graphForward(model, net as tf.GraphModel, taps);
  return layersForward(model, net as tf.LayersModel, taps);
}

function layersForward(model: ActmaxModel, lm: tf.LayersModel, taps: Tap[]): Forward {
  const extra: tf.layers.Layer[] = [];
  const tapTensors = taps.map((t) => {
    let layer: tf.layers.Layer;
    try {
      layer = lm.getLayer(t.layer);
    } catch {
      throw new ActmaxError('unknown-layer', `layer "${t.layer}" does not exist; layers are: ${model.layers.map((l) => l.name).join(', ')}`);
    }
    const out = layer.getOutputAt(0) as tf.SymbolicTensor;
    if (!t.pre) return out;
    if (ACTIVATION_LAYERS.has(layer.getClassName())) return layer.getInputAt(0) as tf.SymbolicTensor;
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (cfg.activation === undefined || cfg.activation === 'linear') return out;
    // Same layer without its activation, sharing the weights' values.
    const Ctor = layer.constructor as unknown as new (args: Record<string, unknown>) => tf.layers.Layer;
    const clone = new Ctor({ ...cfg, activation: 'linear', name: `${layer.name}__actmax_pre${cloneCounter++}` });
    const sym = clone.apply(layer.getInputAt(0) as tf.SymbolicTensor) as tf.SymbolicTensor;
    clone.setWeights(layer.getWeights());
    extra.push(clone);
    return sym;
  });
  const all = [...lm.outputs, ...tapTensors];
  const distinct: tf.SymbolicTensor[] = [];
  const index = all.map((s) => {
    const at = distinct.indexOf(s);
    if (at >= 0) return at;
    distinct.push(s);
    return distinct.length - 1;
  });
  const multi = tf.model({ inputs: lm.inputs, outputs: distinct });
  const nOut = lm.outputs.length;
  const run = (inputs: tf.Tensor[]) => {
    const res = multi.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor | tf.Tensor[];
    const arr = Array.isArray(res) ? res : [res];
    return { outputs: index.slice(0, nOut).map((i) => arr[i]), taps: index.slice(nOut).map((i) => arr[i]) };
  };
  return {
    taps,
    tapShapes: tapTensors.map((s) => (s.shape.slice(1) as Array<number | null>).map((d) => d ?? 1)),
    run,
    outputsAsync: async (inputs) => tf.tidy(() => run(inputs).outputs),
    dispose() {
      for (const l of extra) l.dispose();
    },
  };
}

function graphForward(model: ActmaxModel, net: tf.GraphModel, taps: Tap[]): Forward {
  // Taps are node names; a `pre` tap of an activation node reads the node's input.
  const nodes = graphNodes(net);
  const names = taps.map((t) => {
    const node = nodes[t.layer.replace(/:0$/, '')];
    if (!node) throw new ActmaxError('unknown-layer', `node "${t.layer}" does not exist in this graph model; nodes are: ${Object.keys(nodes).slice(0, 20).join(', ')}`);
    if (t.pre && ACTIVATION_NODES.test(node.op)) return node.inputs[0].name;
    return t.layer.replace(/:0$/, '');
  });
  const dynamic = model.outputs.map((o) => o.dynamic !== undefined);
  const outNames = net.outputs.map((o) => o.name).filter((_, k) => !dynamic[k]);
  const single = fixedBatch(net);
  const call = (inputs: tf.Tensor[]) => {
    const res = net.execute(feeds(net, inputs), [...outNames, ...names]) as tf.Tensor | tf.Tensor[];
    return Array.isArray(res) ? res : [res];
  };
  const run = (inputs: tf.Tensor[]) => {
    const arr = single ? perRow(inputs, call) : call(inputs);
    let k = 0;
    return { outputs: dynamic.map((d) => (d ? undefined : arr[k++])), taps: arr.slice(outNames.length) };
  };
  // Node shapes are known only by running the graph: probe them with one zero example.
  const tapShapes = tf.tidy(() => run(model.inputs.map((i) => tf.zeros([1, ...i.shape]))).taps.map((t) => t.shape.slice(1)));
  return {
    taps,
    tapShapes,
    run,
    async outputsAsync(inputs) {
      const own = tf.tidy(() => run(inputs).outputs.map((o) => (o ? tf.keep(o) : undefined)));
      if (own.every((o) => o !== undefined)) return own as tf.Tensor[];
      const dyn = await graphOutputsAsync(model, inputs, dynamic);
      return own.map((o, k) => o ?? dyn[k]!);
    },
    dispose() {},
  };
}

/**
 * The model's outputs computed by TF.js's own graph executor (`executeAsync`: loops and non-max
 * suppression), one row per call, for the outputs marked in `which` (undefined elsewhere).
 *
 * @example
 * const [scores] = await graphOutputsAsync(model, [x], [true]);
 */
export async function graphOutputsAsync(model: ActmaxModel, inputs: tf.Tensor[], which: boolean[]): Promise<Array<tf.Tensor | undefined>> {
  const net = model.net as tf.GraphModel;
  const names = net.outputs.map((o) => o.name).filter((_, k) => which[k]);
  const rows = inputs[0].shape[0];
  const parts: tf.Tensor[][] = [];
  for (let r = 0; r < rows; r++) {
    const one = inputs.map((x) => x.slice([r], [1]));
    const f = feeds(net, one);
    parts.push(await executeGraph(net, f, names));
    tf.dispose([...one, ...Object.values(f)]);
  }
  const joined = names.map((_, k) => {
    const t = tf.concat(parts.map((p) => (p[k].shape.length === 0 ? p[k].reshape([1]) : p[k])));
    return t;
  });
  tf.dispose(parts.flat());
  let k = 0;
  return which.map((w) => (w ? joined[k++] : undefined));
}
