import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from './types.js';

/** A value inside the model an objective reads: a layer's output, or its pre-activation (`pre`). */
export interface Tap {
  layer: string;
  pre: boolean;
}

/** Stable key of a tap. @example tapKey({ layer: 'dense_1', pre: true }) // 'dense_1:pre' */
export function tapKey(t: Tap): string {
  return t.pre ? `${t.layer}:pre` : t.layer;
}

/**
 * One differentiable forward program: model inputs → the model's outputs and the taps the
 * objectives need, in a single pass. Build it once per maximisation.
 */
export interface Forward {
  readonly taps: Tap[];
  /** Shape (no batch) of each tap. */
  readonly tapShapes: number[][];
  /** Run on batch-first inputs (one per model input). Call inside tf.tidy / tf.grad. */
  run(inputs: tf.Tensor[]): { outputs: tf.Tensor[]; taps: tf.Tensor[] };
  dispose(): void;
}

const ACTIVATION_LAYERS = new Set(['Activation', 'Softmax', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU']);
let cloneCounter = 0;

function layerNames(model: ActmaxModel): string {
  const names = model.layers.map((l) => l.name);
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length} in all; see \`actmax inspect\`)` : names.join(', ');
}

/**
 * Build the forward program for a set of taps.
 *
 * @example
 * const fwd = buildForward(model, [{ layer: 'dense_1', pre: true }]);
 * const logits = tf.tidy(() => fwd.run([x]).taps[0]);
 */
export function buildForward(model: ActmaxModel, taps: Tap[]): Forward {
  const unique = dedupeTaps(taps);
  const net = model.net;
  if (!Array.isArray((net as tf.LayersModel).layers)) return buildGraphForward(model, net as tf.GraphModel, unique);
  const lm = net as tf.LayersModel;
  const extra: tf.layers.Layer[] = [];
  const tapTensors = unique.map((t) => {
    let layer: tf.layers.Layer;
    try {
      layer = lm.getLayer(t.layer);
    } catch {
      throw new ActmaxError('unknown-layer', `layer "${t.layer}" does not exist; layers are: ${layerNames(model)}`);
    }
    const out = layer.getOutputAt(0) as tf.SymbolicTensor;
    if (!t.pre) return out;
    const cls = layer.getClassName();
    if (ACTIVATION_LAYERS.has(cls)) return layer.getInputAt(0) as tf.SymbolicTensor;
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
  return {
    taps: unique,
    tapShapes: tapTensors.map((s) => (s.shape.slice(1) as Array<number | null>).map((d) => d ?? 1)),
    run(inputs) {
      const res = multi.apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor | tf.Tensor[];
      const arr = Array.isArray(res) ? res : [res];
      return { outputs: index.slice(0, nOut).map((i) => arr[i]), taps: index.slice(nOut).map((i) => arr[i]) };
    },
    dispose() {
      for (const l of extra) l.dispose();
    },
  };
}

function dedupeTaps(taps: Tap[]): Tap[] {
  const seen = new Map<string, Tap>();
  for (const t of taps) if (!seen.has(tapKey(t))) seen.set(tapKey(t), t);
  return [...seen.values()];
}

function buildGraphForward(model: ActmaxModel, net: tf.GraphModel, taps: Tap[]): Forward {
  // Graph models: taps are node names; a `pre` tap of an activation node reads the node's input.
  const nodes = (net as unknown as { executor: { graph: { nodes: Record<string, { op: string; inputs: Array<{ name: string }> }> } } }).executor.graph.nodes;
  const nodeNames = Object.keys(nodes);
  const names = taps.map((t) => {
    const node = nodes[t.layer.replace(/:0$/, '')];
    if (!node) throw new ActmaxError('unknown-layer', `node "${t.layer}" does not exist in this graph model; nodes are: ${nodeNames.slice(0, 20).join(', ')}`);
    if (t.pre && /^(Softmax|Sigmoid|Relu|Relu6|Elu|Selu|Tanh|LeakyRelu)$/.test(node.op)) return node.inputs[0].name;
    return t.layer.replace(/:0$/, '');
  });
  const outNames = net.outputs.map((o) => o.name);
  const inNames = net.inputs.map((i) => i.name);
  const run = (inputs: tf.Tensor[]) => {
    const feed: tf.NamedTensorMap = {};
    inNames.forEach((n, i) => (feed[n] = inputs[i]));
    const res = net.execute(feed, [...outNames, ...names]) as tf.Tensor | tf.Tensor[];
    const arr = Array.isArray(res) ? res : [res];
    return { outputs: arr.slice(0, outNames.length), taps: arr.slice(outNames.length) };
  };
  // Graph models do not record node shapes reliably: probe them with one zero example.
  const tapShapes = tf.tidy(() => run(model.inputs.map((i) => tf.zeros([1, ...i.shape]))).taps.map((t) => t.shape.slice(1)));
  return { taps, tapShapes, run, dispose() {} };
}
