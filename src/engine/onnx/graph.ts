import type * as tf from '@tensorflow/tfjs';
import { tapKey } from '../../model/activations.js';
import type { ActmaxModel } from '../../model/types.js';
import type { LinearReadout } from '../../objectives/compile.js';
import { DataType, type AttrValue, type ModelDef, type NodeDef, type TensorDef } from './proto.js';

/*
 * Compiles a chain-shaped TF.js layers model plus a linear objective (Σ W[row]·tap[row]) into ONE
 * ONNX graph that computes, per row, the objective value, the gradient of the value w.r.t. the
 * input (backprop written out as ordinary ops: transposed MatMul, activation masks, ConvTranspose
 * with the conv's own weights, MaxPool indices → MaxUnpool), and the model's output.
 * Inside the graph image tensors are NCHW (ONNX's layout); the graph's input/outputs are in the
 * model's own (Keras, channels-last) layout.
 */

/** Names of the compiled graph's input and outputs. */
export const GRAPH_IO = { input: 'x', value: 'value', grad: 'grad', output: 'out' } as const;

type Layout = 'keras' | 'nchw';
interface State {
  name: string;
  layout: Layout;
  /** Keras shape without batch (channels last for images). */
  shape: number[];
}
interface Step {
  out: State;
  /** Gradient w.r.t. this step's input, given the gradient w.r.t. its output. */
  back(dy: string): string;
}

const ACTIVATIONS = new Set(['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'elu']);
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const pair = (v: unknown, dflt: number): [number, number] => (v === undefined || v === null ? [dflt, dflt] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v), Number(v)]);

/** The chain of layers from input to output, or a reason why the model is not a plain chain. */
function layerChain(model: ActmaxModel): tf.layers.Layer[] | string {
  const net = model.net as tf.LayersModel;
  if (!Array.isArray(net.layers)) return 'graph models are not compiled to ONNX';
  if (net.inputs.length !== 1 || net.outputs.length !== 1) return 'only single-input, single-output models are compiled to ONNX';
  type Inbound = { inboundNodes: Array<{ inboundLayers: tf.layers.Layer[] }> };
  const chain: tf.layers.Layer[] = [];
  let layer = (net.outputs[0] as unknown as { sourceLayer: tf.layers.Layer }).sourceLayer;
  for (;;) {
    if (layer.getClassName() === 'InputLayer') break;
    const nodes = (layer as unknown as Inbound).inboundNodes;
    if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1) return `layer "${layer.name}" is shared or merges several inputs`;
    chain.unshift(layer);
    layer = nodes[0].inboundLayers[0];
  }
  const real = net.layers.filter((l) => l.getClassName() !== 'InputLayer');
  if (real.length !== chain.length) return 'the model branches (layers off the input→output chain)';
  return chain;
}

function weightsOf(layer: tf.layers.Layer): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const w of layer.weights) {
    const short = w.originalName.split('/').pop()!.replace(/:\d+$/, '');
    const t = w.read();
    out.set(short, { shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) });
  }
  return out;
}

/**
 * Why this model cannot be compiled to ONNX, or null when it can. Supported: chains of Dense,
 * Flatten, Conv2D (valid/same, strides, dilations), MaxPooling2D (non-overlapping windows),
 * GlobalAveragePooling2D,
 * BatchNormalization, ReLU/Activation layers, Dropout; activations linear, relu, sigmoid, tanh,
 * softmax, elu.
 *
 * @example
 * const reason = onnxUnsupportedReason(model); // null for the bundled MLP
 */
export function onnxUnsupportedReason(model: ActmaxModel): string | null {
  const chain = layerChain(model);
  if (typeof chain === 'string') return chain;
  for (const layer of chain) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const act = cfg.activation as string | undefined;
    if (act !== undefined && !ACTIVATIONS.has(act)) return `layer "${layer.name}": activation "${act}" is not compiled to ONNX`;
    switch (cls) {
      case 'Dense':
      case 'Flatten':
      case 'Dropout':
        break;
      case 'GlobalAveragePooling2D':
        if (cfg.dataFormat === 'channelsFirst' || cfg.keepdims) return `layer "${layer.name}": this GlobalAveragePooling2D variant is not compiled to ONNX`;
        break;
      case 'Conv2D':
        if (cfg.dataFormat === 'channelsFirst') return `layer "${layer.name}": channels-first Conv2D is not compiled to ONNX`;
        if (cfg.padding !== 'valid' && cfg.padding !== 'same') return `layer "${layer.name}": padding "${String(cfg.padding)}" is not compiled to ONNX`;
        if ((cfg.groups as number | undefined ?? 1) !== 1) return `layer "${layer.name}": grouped Conv2D is not compiled to ONNX`;
        break;
      case 'MaxPooling2D': {
        if (cfg.dataFormat === 'channelsFirst') return `layer "${layer.name}": channels-first pooling is not compiled to ONNX`;
        const p = pair(cfg.poolSize, 2);
        const s = pair(cfg.strides ?? cfg.poolSize, 2);
        if (s[0] < p[0] || s[1] < p[1]) return `layer "${layer.name}": overlapping max-pool windows are not compiled to ONNX`;
        break;
      }
      case 'BatchNormalization': {
        const rank = (layer.getInputAt(0) as tf.SymbolicTensor).shape.length;
        const axis = Number(cfg.axis ?? -1);
        if (axis !== -1 && axis !== rank - 1) return `layer "${layer.name}": BatchNormalization over axis ${axis} is not compiled to ONNX`;
        if (rank !== 2 && rank !== 4) return `layer "${layer.name}": BatchNormalization on a ${rank - 1}-D tensor is not compiled to ONNX`;
        break;
      }
      case 'ReLU':
        if ((cfg.maxValue ?? null) !== null || Number(cfg.negativeSlope ?? 0) !== 0 || Number(cfg.threshold ?? 0) !== 0) return `layer "${layer.name}": ReLU with max/slope/threshold is not compiled to ONNX`;
        break;
      case 'Activation':
        break;
      default:
        return `layer "${layer.name}" (${cls}) is not compiled to ONNX`;
    }
  }
  return null;
}

class GraphBuilder {
  nodes: NodeDef[] = [];
  inits: TensorDef[] = [];
  private n = 0;
  fresh(base: string): string {
    return `${base}_${this.n++}`;
  }
  constF(base: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(base);
    this.inits.push({ name, dims, dataType: DataType.FLOAT, data });
    return name;
  }
  constI64(base: string, data: number[]): string {
    const name = this.fresh(base);
    this.inits.push({ name, dims: [data.length], dataType: DataType.INT64, data });
    return name;
  }
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, nOut = 1, out?: string[]): string[] {
    const outputs = out ?? Array.from({ length: nOut }, () => this.fresh(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs, attrs });
    return outputs;
  }
  op1(op: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    return this.op(op, inputs, attrs)[0];
  }
}

/**
 * Build the ONNX graph: input `x` [rows, ...inputShape] → `value` [rows], `grad` (same shape as
 * `x`) and `out` (the model's output). `readouts` are the objective's linear read-outs (model layout).
 *
 * @example
 * const def = buildGradientGraph(model, linearReadouts(model, [{ kind: 'logit', index: 0 }], 4)!, 4);
 * const bytes = encodeModel(def);
 */
export function buildGradientGraph(model: ActmaxModel, readouts: LinearReadout[], rows: number): ModelDef {
  const reason = onnxUnsupportedReason(model);
  if (reason) throw new Error(reason);
  if (readouts.length === 0) throw new Error('the objective has no linear read-out to compile');
  const chain = layerChain(model) as tf.layers.Layer[];
  const g = new GraphBuilder();
  const inputShape = model.inputs[0].shape;
  const states: State[] = [{ name: GRAPH_IO.input, layout: 'keras', shape: inputShape }];
  const steps: Step[] = [];
  /** State index of each tap (after its layer's activation, or before it for `pre`). */
  const tapAt = new Map<string, number>();
  const cur = () => states[states.length - 1];
  const push = (out: State, back: (dy: string) => string) => {
    steps.push({ out, back });
    states.push(out);
  };

  const toNchw = () => {
    const s = cur();
    if (s.layout === 'nchw') return;
    if (s.shape.length !== 3) throw new Error(`a ${s.shape.length}-D tensor cannot be an image`);
    push({ name: g.op1('Transpose', [s.name], { perm: [0, 3, 1, 2] }), layout: 'nchw', shape: s.shape }, (dy) => g.op1('Transpose', [dy], { perm: [0, 2, 3, 1] }));
  };
  const toKeras = () => {
    const s = cur();
    if (s.layout === 'keras') return;
    push({ name: g.op1('Transpose', [s.name], { perm: [0, 2, 3, 1] }), layout: 'keras', shape: s.shape }, (dy) => g.op1('Transpose', [dy], { perm: [0, 3, 1, 2] }));
  };
  /** Per-channel constant broadcast over the current layout ([C] for flat, [1,C,1,1] for NCHW). */
  const channelConst = (base: string, v: Float32Array) => (cur().layout === 'nchw' ? g.constF(base, v, [1, v.length, 1, 1]) : g.constF(base, v, [v.length]));

  const activation = (act: string) => {
    const s = cur();
    const z = s.name;
    switch (act) {
      case 'linear':
        return;
      case 'relu': {
        const y = g.op1('Relu', [z]);
        // Mask by the output's sign: relu(z) > 0 ⇔ z > 0.
        return push({ ...s, name: y }, (dy) => g.op1('Mul', [dy, g.op1('Sign', [y])]));
      }
      case 'sigmoid': {
        const y = g.op1('Sigmoid', [z]);
        const one = () => g.constF('one', Float32Array.of(1), []);
        return push({ ...s, name: y }, (dy) => g.op1('Mul', [dy, g.op1('Mul', [y, g.op1('Sub', [one(), y])])]));
      }
      case 'tanh': {
        const y = g.op1('Tanh', [z]);
        const one = () => g.constF('one', Float32Array.of(1), []);
        return push({ ...s, name: y }, (dy) => g.op1('Mul', [dy, g.op1('Sub', [one(), g.op1('Mul', [y, y])])]));
      }
      case 'elu': {
        const y = g.op1('Elu', [z], { alpha: { float: 1 } });
        const one = () => g.constF('one', Float32Array.of(1), []);
        const zero = () => g.constF('zero', Float32Array.of(0), []);
        return push({ ...s, name: y }, (dy) => g.op1('Where', [g.op1('Greater', [z, zero()]), dy, g.op1('Mul', [dy, g.op1('Add', [y, one()])])]));
      }
      case 'softmax': {
        if (s.layout !== 'keras' || s.shape.length !== 1) throw new Error('softmax is compiled on flat tensors only');
        const y = g.op1('Softmax', [z], { axis: 1 });
        return push({ ...s, name: y }, (dy) => g.op1('Mul', [y, g.op1('Sub', [dy, g.op1('ReduceSum', [g.op1('Mul', [dy, y]), g.constI64('axes', [1])], { keepdims: 1 })])]));
      }
      default:
        throw new Error(`activation "${act}" is not compiled to ONNX`);
    }
  };

  for (const layer of chain) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const w = weightsOf(layer);
    const act = (cfg.activation as string | undefined) ?? 'linear';
    const markPre = () => tapAt.set(tapKey({ layer: layer.name, pre: true }), states.length - 1);
    switch (cls) {
      case 'Dropout':
        markPre();
        break;
      case 'Flatten': {
        const s = cur();
        if (s.shape.length > 1) {
          toKeras();
          const k = cur();
          const flatShape = g.constI64('shape', [-1, prod(k.shape)]);
          const backShape = g.constI64('shape', [-1, ...k.shape]);
          push({ name: g.op1('Reshape', [k.name, flatShape]), layout: 'keras', shape: [prod(k.shape)] }, (dy) => g.op1('Reshape', [dy, backShape]));
        }
        markPre();
        break;
      }
      case 'Dense': {
        const s = cur();
        if (s.layout !== 'keras' || s.shape.length !== 1) throw new Error(`layer "${layer.name}": Dense on a ${s.shape.length}-D tensor is not compiled to ONNX`);
        const kernel = w.get('kernel')!;
        const [nIn, nOut] = kernel.shape;
        const K = g.constF('kernel', kernel.data, [nIn, nOut]);
        const kt = new Float32Array(nIn * nOut);
        for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) kt[o * nIn + i] = kernel.data[i * nOut + o];
        const KT = g.constF('kernelT', kt, [nOut, nIn]);
        let z = g.op1('MatMul', [s.name, K]);
        const bias = w.get('bias');
        if (bias) z = g.op1('Add', [z, g.constF('bias', bias.data, [nOut])]);
        push({ name: z, layout: 'keras', shape: [nOut] }, (dy) => g.op1('MatMul', [dy, KT]));
        markPre();
        activation(act);
        break;
      }
      case 'Conv2D': {
        toNchw();
        const s = cur();
        const [H, W] = s.shape;
        const kernel = w.get('kernel')!;
        const [kh, kw, ci, co] = kernel.shape;
        // Keras [kh, kw, ci, co] → ONNX [co, ci, kh, kw]; ConvTranspose reads the same array as [C_in(=co), C_out(=ci), kh, kw].
        const wo = new Float32Array(kernel.data.length);
        for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) wo[((o * ci + c) * kh + a) * kw + b] = kernel.data[((a * kw + b) * ci + c) * co + o];
        const Wn = g.constF('convW', wo, [co, ci, kh, kw]);
        const [sh, sw] = pair(cfg.strides, 1);
        const [dh, dw] = pair(cfg.dilationRate, 1);
        const geo = convGeometry([H, W], [kh, kw], [sh, sw], [dh, dw], cfg.padding as 'valid' | 'same');
        const bias = w.get('bias');
        const ins = bias ? [s.name, Wn, g.constF('convB', bias.data, [co])] : [s.name, Wn];
        const z = g.op1('Conv', ins, { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: geo.pads });
        push({ name: z, layout: 'nchw', shape: [geo.out[0], geo.out[1], co] }, (dy) =>
          g.op1('ConvTranspose', [dy, Wn], { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: geo.pads, output_padding: geo.outputPadding }),
        );
        markPre();
        activation(act);
        break;
      }
      case 'MaxPooling2D': {
        toNchw();
        const s = cur();
        const [H, W, C] = s.shape;
        const [ph, pw] = pair(cfg.poolSize, 2);
        const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 2);
        const geo = convGeometry([H, W], [ph, pw], [sh, sw], [1, 1], cfg.padding as 'valid' | 'same');
        if (geo.pads.some((p) => p !== 0)) throw new Error(`layer "${layer.name}": padded max pooling is not compiled to ONNX`);
        const [y, idx] = g.op('MaxPool', [s.name], { kernel_shape: [ph, pw], strides: [sh, sw] }, 2);
        const outShape = g.constI64('shape', [rows, C, H, W]);
        push({ name: y, layout: 'nchw', shape: [geo.out[0], geo.out[1], C] }, (dy) => g.op1('MaxUnpool', [dy, idx, outShape], { kernel_shape: [ph, pw], strides: [sh, sw] }));
        markPre();
        break;
      }
      case 'GlobalAveragePooling2D': {
        toNchw();
        const s = cur();
        const [H, W, C] = s.shape;
        const y = g.op1('Reshape', [g.op1('GlobalAveragePool', [s.name]), g.constI64('shape', [-1, C])]);
        const inv = g.constF('invArea', Float32Array.of(1 / (H * W)), []);
        push({ name: y, layout: 'keras', shape: [C] }, (dy) =>
          g.op1('Expand', [g.op1('Mul', [g.op1('Reshape', [dy, g.constI64('shape', [-1, C, 1, 1])]), inv]), g.constI64('shape', [rows, C, H, W])]),
        );
        markPre();
        break;
      }
      case 'BatchNormalization': {
        const s = cur();
        const C = s.shape[s.shape.length - 1];
        const eps = Number(cfg.epsilon ?? 1e-3);
        const gamma = w.get('gamma')?.data ?? new Float32Array(C).fill(1);
        const beta = w.get('beta')?.data ?? new Float32Array(C);
        const mean = w.get('moving_mean')!.data;
        const variance = w.get('moving_variance')!.data;
        const scale = new Float32Array(C), shift = new Float32Array(C);
        for (let c = 0; c < C; c++) {
          scale[c] = gamma[c] / Math.sqrt(variance[c] + eps);
          shift[c] = beta[c] - mean[c] * scale[c];
        }
        if (s.layout === 'keras' && s.shape.length > 1 && s.shape.length !== 3) throw new Error(`layer "${layer.name}": BatchNormalization on a ${s.shape.length}-D tensor is not compiled to ONNX`);
        if (s.shape.length === 3) toNchw();
        const S = channelConst('bnScale', scale);
        const B = channelConst('bnShift', shift);
        const x = cur();
        push({ ...x, name: g.op1('Add', [g.op1('Mul', [x.name, S]), B]) }, (dy) => g.op1('Mul', [dy, S]));
        markPre();
        break;
      }
      case 'ReLU':
        markPre();
        activation('relu');
        break;
      case 'Activation':
        markPre();
        activation(act);
        break;
      default:
        throw new Error(`layer "${layer.name}" (${cls}) is not compiled to ONNX`);
    }
    tapAt.set(tapKey({ layer: layer.name, pre: false }), states.length - 1);
    // A `pre` tap of a layer without a separate activation is its output.
    if (act === 'linear' && cls !== 'ReLU' && cls !== 'Activation') tapAt.set(tapKey({ layer: layer.name, pre: true }), states.length - 1);
  }

  // Objective value: Σ over read-outs of Σ_u W[row, u] · tap[row, u], in the tap's own layout.
  const seeds = new Map<number, string[]>();
  const terms: string[] = [];
  const axes = g.constI64('axes', [1]);
  for (const r of readouts) {
    const at = tapAt.get(tapKey(r.tap));
    if (at === undefined) throw new Error(`tap ${tapKey(r.tap)} is not a layer of the compiled chain`);
    const s = states[at];
    const units = prod(s.shape);
    if (units !== r.units) throw new Error(`tap ${tapKey(r.tap)} has ${units} units, the objective ${r.units}`);
    const wl = s.layout === 'nchw' ? nhwcRowsToNchw(r.w, rows, s.shape) : r.w;
    const internalShape = s.layout === 'nchw' ? [rows, s.shape[2], s.shape[0], s.shape[1]] : [rows, ...s.shape];
    const Wc = g.constF('readout', wl, internalShape);
    terms.push(g.op1('ReduceSum', [g.op1('Reshape', [g.op1('Mul', [s.name, Wc]), g.constI64('shape', [rows, -1])]), axes], { keepdims: 0 }));
    // d value / d tap = W (the rows are independent), so W itself seeds the backward pass.
    seeds.set(at, [...(seeds.get(at) ?? []), Wc]);
  }
  let value = terms[0];
  for (const t of terms.slice(1)) value = g.op1('Add', [value, t]);
  g.op('Identity', [value], undefined, 1, [GRAPH_IO.value]);

  // Model output in the model's layout.
  toKeras();
  g.op('Identity', [cur().name], undefined, 1, [GRAPH_IO.output]);
  const outUnits = prod(cur().shape);

  // Backward from the deepest seed to the input.
  const deepest = Math.max(...seeds.keys());
  let grad: string | null = null;
  for (let k = deepest; k >= 1; k--) {
    for (const sd of seeds.get(k) ?? []) grad = grad === null ? sd : g.op1('Add', [grad, sd]);
    if (grad !== null) grad = steps[k - 1].back(grad);
  }
  for (const sd of seeds.get(0) ?? []) grad = grad === null ? sd : g.op1('Add', [grad, sd]);
  g.op('Identity', [grad!], undefined, 1, [GRAPH_IO.grad]);

  return {
    opset: 17,
    nodes: g.nodes,
    initializers: g.inits,
    inputs: [{ name: GRAPH_IO.input, dataType: DataType.FLOAT, dims: [rows, ...inputShape] }],
    outputs: [
      { name: GRAPH_IO.value, dataType: DataType.FLOAT, dims: [rows] },
      { name: GRAPH_IO.grad, dataType: DataType.FLOAT, dims: [rows, ...inputShape] },
      { name: GRAPH_IO.output, dataType: DataType.FLOAT, dims: outUnits === prod(model.outputs[0].shape) ? [rows, ...model.outputs[0].shape] : [rows, outUnits] },
    ],
  };
}

/** TF-style output size and padding of a conv/pool window, plus ConvTranspose's output padding. */
function convGeometry(size: [number, number], kernel: [number, number], strides: [number, number], dilations: [number, number], padding: 'valid' | 'same') {
  const out: number[] = [];
  const begin: number[] = [];
  const end: number[] = [];
  const outputPadding: number[] = [];
  for (let d = 0; d < 2; d++) {
    const keff = (kernel[d] - 1) * dilations[d] + 1;
    let o: number, total: number;
    if (padding === 'same') {
      o = Math.ceil(size[d] / strides[d]);
      total = Math.max((o - 1) * strides[d] + keff - size[d], 0);
    } else {
      o = Math.floor((size[d] - keff) / strides[d]) + 1;
      total = 0;
    }
    out.push(o);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
    outputPadding.push(size[d] - ((o - 1) * strides[d] + keff - total));
  }
  return { out, pads: [begin[0], begin[1], end[0], end[1]], outputPadding };
}

/** Permute each row of a weight matrix from channels-last [H, W, C] order to [C, H, W]. */
function nhwcRowsToNchw(w: Float32Array, rows: number, shape: number[]): Float32Array {
  const [H, W, C] = shape;
  const units = H * W * C;
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const base = r * units;
    for (let h = 0; h < H; h++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[base + (c * H + h) * W + x] = w[base + (h * W + x) * C + c];
  }
  return out;
}
