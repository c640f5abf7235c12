import type * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';

/**
 * A piecewise-linear network as plain data, extracted from a TF.js layers model for the exact
 * (MILP) maximiser.
 *
 * Every value inside the network is a sparse affine expression over *variables*. Variables are
 * the input features and the outputs of the nonlinear pieces (ReLU, LeakyReLU, max); each
 * nonlinear piece reads a variable of its own that holds its pre-activation. Linear layers
 * (Dense, Conv, BatchNormalization, pooling averages, Add, Concatenate, reshapes, padding) only
 * compose expressions, so BatchNormalization is folded into the affine map for free.
 * Variables are numbered in topological order: a variable only refers to lower numbers.
 */
export interface LinExpr {
  /** Variable indices. */
  idx: number[];
  /** Coefficients, parallel to `idx`. */
  coef: number[];
  /** Constant term. */
  c: number;
}

/** One variable of a {@link PLNetwork}. `layer` names the layer that created it (for messages). */
export type PLVar =
  | { kind: 'input'; feature: number }
  /** A pre-activation: the value of an affine expression. */
  | { kind: 'affine'; expr: LinExpr; layer: string }
  /** max(0, src). */
  | { kind: 'relu'; src: number; layer: string }
  /** max(src, alpha·src), 0 ≤ alpha < 1. */
  | { kind: 'leaky'; src: number; alpha: number; layer: string }
  /** max over srcs. */
  | { kind: 'max'; srcs: number[]; layer: string };

/** Values of one tensor: one expression per element (row-major, no batch), or why there are none. */
export type PLValues = { shape: number[]; exprs: LinExpr[] } | { shape: number[]; unsupported: string };

/** A piecewise-linear network: variables plus the expressions of every layer's values. */
export interface PLNetwork {
  /** The first optimised input's name and shape (the whole input for a one-input model). */
  inputName: string;
  inputShape: number[];
  /** Features of all optimised inputs together: variables 0 … inputSize−1. */
  inputSize: number;
  /** The optimised model inputs in order, each a slice [offset, offset + size) of the input variables. */
  inputParts: InputPart[];
  vars: PLVar[];
  /** Per layer: `pre` (before the layer's activation) and `post` (its output). */
  layers: Map<string, { pre: PLValues; post: PLValues }>;
}

/** One optimised model input inside a {@link PLNetwork}'s input variables. */
export interface InputPart {
  /** Index in `model.inputs`. */
  index: number;
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Which model inputs {@link extractNetwork} treats as variables; the others are constants. */
export interface ExtractOptions {
  /** Indices of the optimised inputs, in order (default: all). */
  optimize?: number[];
  /** Values of the held inputs (flat), by input index. */
  fixed?: Map<number, ArrayLike<number>>;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const IDENTITY_LAYERS = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization', 'Flatten', 'Reshape']);

/** An expression with one variable. @example atom(3) // 1·v3 + 0 */
export function atom(v: number): LinExpr {
  return { idx: [v], coef: [1], c: 0 };
}

/** Value of an expression given all variable values. @example evalExpr(e, values) */
export function evalExpr(e: LinExpr, values: ArrayLike<number>): number {
  let s = e.c;
  for (let k = 0; k < e.idx.length; k++) s += e.coef[k] * values[e.idx[k]];
  return s;
}

/** Sums weighted expressions, merging repeated variables. Reuses one dense scratch array. */
class Accumulator {
  private acc = new Float64Array(1024);
  private mark = new Uint8Array(1024);
  private touched: number[] = [];
  private c = 0;
  add(e: LinExpr, w: number): void {
    if (w === 0) return;
    this.c += w * e.c;
    for (let k = 0; k < e.idx.length; k++) {
      const v = e.idx[k];
      if (v >= this.acc.length) this.grow(v + 1);
      if (!this.mark[v]) {
        this.mark[v] = 1;
        this.touched.push(v);
      }
      this.acc[v] += w * e.coef[k];
    }
  }
  constant(c: number): void {
    this.c += c;
  }
  take(): LinExpr {
    const idx: number[] = [];
    const coef: number[] = [];
    for (const v of this.touched) {
      if (this.acc[v] !== 0) {
        idx.push(v);
        coef.push(this.acc[v]);
      }
      this.acc[v] = 0;
      this.mark[v] = 0;
    }
    this.touched = [];
    const out = { idx, coef, c: this.c };
    this.c = 0;
    return out;
  }
  private grow(n: number): void {
    const size = Math.max(n, this.acc.length * 2);
    const acc = new Float64Array(size);
    acc.set(this.acc);
    const mark = new Uint8Array(size);
    mark.set(this.mark);
    this.acc = acc;
    this.mark = mark;
  }
}

interface LayerConfig {
  activation?: string;
  useBias?: boolean;
  strides?: number | number[];
  padding?: string | number | number[] | number[][];
  dilationRate?: number | number[];
  dataFormat?: string;
  poolSize?: number | number[];
  alpha?: number;
  maxValue?: number | null;
  axis?: number | number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  targetShape?: number[];
  kernelSize?: number | number[];
  [k: string]: unknown;
}

const asList = (v: number | number[] | undefined, n: number, dflt: number): number[] =>
  v === undefined ? new Array(n).fill(dflt) : Array.isArray(v) ? v : new Array(n).fill(v);

/**
 * Extracts the piecewise-linear network of a TF.js layers model. Layers that are not
 * piecewise-linear (sigmoid, tanh, softmax, …) do not fail here: their outputs are marked
 * unsupported, and reading them (for an objective) throws the reason.
 *
 * @example
 * const net = extractNetwork(model);
 * const logits = layerValues(net, 'dense_1', true); // pre-softmax expressions
 */
export function extractNetwork(model: ActmaxModel, options: ExtractOptions = {}): PLNetwork {
  const lm = model.net as tf.LayersModel;
  if (!Array.isArray(lm.layers)) {
    throw new ActmaxError('unsupported', `${model.source}: exact mode needs a layers model (TF.js layers or Keras); this is a TF.js graph model`);
  }
  const optimize = options.optimize ?? model.inputs.map((_, i) => i);
  const vars: PLVar[] = [];
  const tensors = new Map<number, PLValues>();
  const inputParts: InputPart[] = [];
  // Optimised inputs first (their features are variables 0 … inputSize−1), then held inputs as constants.
  for (const index of optimize) {
    const info = model.inputs[index];
    const size = prod(info.shape);
    const offset = vars.length;
    for (let i = 0; i < size; i++) vars.push({ kind: 'input', feature: offset + i });
    tensors.set(lm.inputs[index].id, { shape: info.shape, exprs: Array.from({ length: size }, (_, i) => atom(offset + i)) });
    inputParts.push({ index, name: info.name, shape: info.shape, offset, size });
  }
  const inputSize = vars.length;
  model.inputs.forEach((info, index) => {
    if (optimize.includes(index)) return;
    const values = options.fixed?.get(index);
    const size = prod(info.shape);
    if (!values || values.length !== size) {
      throw new ActmaxError('bad-input', `input "${info.name}" is not optimised, so its ${size} values must be given (--input FILE with a "${info.name}" entry)`);
    }
    tensors.set(lm.inputs[index].id, { shape: info.shape, exprs: Array.from(values, (c) => ({ idx: [], coef: [], c })) });
  });
  const layers = new Map<string, { pre: PLValues; post: PLValues }>();
  const acc = new Accumulator();

  /** A variable holding e (reuses e's variable when e is exactly one variable). */
  const materialize = (e: LinExpr, layer: string): number => {
    if (e.idx.length === 1 && e.coef[0] === 1 && e.c === 0) return e.idx[0];
    vars.push({ kind: 'affine', expr: e, layer });
    return vars.length - 1;
  };
  /** Dense/conv read at most one variable per input value, so expressions stay as sparse as the weights. */
  const atomic = (exprs: LinExpr[], layer: string): LinExpr[] => exprs.map((e) => (e.idx.length <= 1 ? e : atom(materialize(e, layer))));
  /** A `max` variable over expressions; each is held in a variable of its own first. */
  const maxOf = (exprs: LinExpr[], layer: string): LinExpr => {
    if (exprs.length === 1) return exprs[0];
    const srcs = exprs.map((e) => materialize(e, layer));
    vars.push({ kind: 'max', srcs, layer });
    return atom(vars.length - 1);
  };

  const activate = (pre: LinExpr[], shape: number[], act: string, layerName: string, alpha = 0.3, maxValue: number | null = null): PLValues => {
    switch (act) {
      case 'linear':
        return { shape, exprs: pre };
      case 'relu':
      case 'relu6': {
        const cap = act === 'relu6' ? 6 : maxValue;
        return {
          shape,
          exprs: pre.map((e) => {
            const z = materialize(e, layerName);
            vars.push({ kind: 'relu', src: z, layer: layerName });
            const y = vars.length - 1;
            if (cap === null || cap === undefined) return atom(y);
            // min(relu(z), cap) = relu(z) − relu(z − cap).
            const z2 = materialize({ idx: [z], coef: [1], c: -cap }, layerName);
            vars.push({ kind: 'relu', src: z2, layer: layerName });
            return { idx: [y, vars.length - 1], coef: [1, -1], c: 0 };
          }),
        };
      }
      case 'leakyrelu':
      case 'leaky_relu': {
        if (!(alpha >= 0 && alpha < 1)) return { shape, unsupported: `layer "${layerName}" is a LeakyReLU with alpha ${alpha}; exact mode supports 0 ≤ alpha < 1` };
        return {
          shape,
          exprs: pre.map((e) => {
            const z = materialize(e, layerName);
            vars.push({ kind: 'leaky', src: z, alpha, layer: layerName });
            return atom(vars.length - 1);
          }),
        };
      }
      default:
        return { shape, unsupported: `exact mode needs a piecewise-linear network: layer "${layerName}" uses ${act}` };
    }
  };

  for (const layer of lm.layers) {
    const cls = layer.getClassName();
    const name = layer.name;
    if (cls === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) {
      throw new ActmaxError('unsupported', `exact mode: layer "${name}" is used ${layer.inboundNodes.length} times; shared layers are not supported`);
    }
    const node = layer.inboundNodes[0];
    const ins = node.inputTensors.map((t) => tensors.get(t.id));
    const outT = node.outputTensors[0];
    const outShape = (outT.shape.slice(1) as number[]).map((d) => d ?? -1);
    const cfg = layer.getConfig() as LayerConfig;
    let pre: PLValues;
    let post: PLValues;
    const bad = ins.find((v) => !v || 'unsupported' in v);
    if (bad || ins.some((v) => v === undefined)) {
      const why = bad && 'unsupported' in bad ? bad.unsupported : `exact mode: the input of layer "${name}" is not available`;
      pre = post = { shape: outShape, unsupported: why };
    } else {
      const inputs = ins as Array<{ shape: number[]; exprs: LinExpr[] }>;
      const r = linearPart(cls, name, cfg, layer, inputs, outShape, { acc, atomic, maxOf });
      if ('unsupported' in r) {
        pre = post = r;
      } else {
        pre = r;
        const act = activationOf(cls, cfg);
        post = activate(r.exprs, r.shape, act.name, name, act.alpha, act.maxValue);
      }
      if ('exprs' in post && prod(post.shape) !== prod(outShape)) {
        throw new ActmaxError('internal-check', `exact mode: layer "${name}" (${cls}) gave ${prod(post.shape)} values, TF.js says ${prod(outShape)}`);
      }
      if ('exprs' in post) post = { shape: outShape, exprs: post.exprs };
    }
    layers.set(name, { pre, post });
    tensors.set(outT.id, post);
  }
  return { inputName: inputParts[0].name, inputShape: inputParts[0].shape, inputSize, inputParts, vars, layers };
}

function activationOf(cls: string, cfg: LayerConfig): { name: string; alpha?: number; maxValue?: number | null } {
  if (cls === 'ReLU') return { name: 'relu', maxValue: cfg.maxValue ?? null };
  if (cls === 'LeakyReLU') return { name: 'leakyrelu', alpha: cfg.alpha ?? 0.3 };
  if (cls === 'Softmax') return { name: 'softmax' };
  if (cls === 'ELU' || cls === 'PReLU' || cls === 'ThresholdedReLU') return { name: cls.toLowerCase() };
  const a = typeof cfg.activation === 'string' ? cfg.activation.toLowerCase() : 'linear';
  return { name: a };
}

interface Builder {
  acc: Accumulator;
  atomic(e: LinExpr[], layer: string): LinExpr[];
  maxOf(e: LinExpr[], layer: string): LinExpr;
}

type LinearResult = { shape: number[]; exprs: LinExpr[] } | { shape: number[]; unsupported: string };

/** The affine part of one layer (before its activation). */
function linearPart(
  cls: string,
  name: string,
  cfg: LayerConfig,
  layer: tf.layers.Layer,
  inputs: Array<{ shape: number[]; exprs: LinExpr[] }>,
  outShape: number[],
  b: Builder,
): LinearResult {
  const { acc, atomic } = b;
  const x = inputs[0];
  const weights = () => layer.getWeights().map((w) => w.dataSync() as Float32Array);
  if (cfg.dataFormat === 'channelsFirst') return { shape: outShape, unsupported: `exact mode: layer "${name}" uses channels-first data; only channels-last is supported` };
  if (IDENTITY_LAYERS.has(cls)) return { shape: outShape, exprs: x.exprs };
  switch (cls) {
    case 'Activation':
    case 'ReLU':
    case 'LeakyReLU':
    case 'Softmax':
      return { shape: x.shape, exprs: x.exprs };
    case 'Dense': {
      const w = weights();
      const kernel = w[0];
      const bias = cfg.useBias === false ? null : w[1];
      const inDim = x.shape[x.shape.length - 1];
      const units = kernel.length / inDim;
      const positions = x.exprs.length / inDim;
      const xe = atomic(x.exprs, name);
      const out: LinExpr[] = [];
      for (let p = 0; p < positions; p++) {
        for (let u = 0; u < units; u++) {
          for (let i = 0; i < inDim; i++) acc.add(xe[p * inDim + i], kernel[i * units + u]);
          if (bias) acc.constant(bias[u]);
          out.push(acc.take());
        }
      }
      return { shape: [...x.shape.slice(0, -1), units], exprs: out };
    }
    case 'Conv1D':
    case 'Conv2D': {
      const rank = cls === 'Conv1D' ? 1 : 2;
      const w = weights();
      const kernel = w[0];
      const bias = cfg.useBias === false ? null : w[1];
      const ks = asList(cfg.kernelSize as number | number[], rank, 1);
      const strides = asList(cfg.strides as number | number[] | undefined, rank, 1);
      const dil = asList(cfg.dilationRate as number | number[] | undefined, rank, 1);
      const padding = cfg.padding === 'same' ? 'same' : cfg.padding === 'valid' || cfg.padding === undefined ? 'valid' : null;
      if (!padding) return { shape: outShape, unsupported: `exact mode: layer "${name}" uses padding "${String(cfg.padding)}"; supported: valid, same` };
      const inSp = x.shape.slice(0, rank);
      const cin = x.shape[rank];
      const cout = kernel.length / (prod(ks) * cin);
      const geo = inSp.map((n, d) => windowGeometry(n, ks[d], strides[d], dil[d], padding));
      const outSp = geo.map((g) => g.out);
      const xe = atomic(x.exprs, name);
      const out: LinExpr[] = [];
      const H = inSp[0], W = rank === 2 ? inSp[1] : 1;
      const kh = ks[0], kw = rank === 2 ? ks[1] : 1;
      const oh = outSp[0], ow = rank === 2 ? outSp[1] : 1;
      const sh = strides[0], sw = rank === 2 ? strides[1] : 1;
      const dh = dil[0], dw = rank === 2 ? dil[1] : 1;
      const ph = geo[0].padBefore, pw = rank === 2 ? geo[1].padBefore : 0;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          for (let co = 0; co < cout; co++) {
            for (let a = 0; a < kh; a++) {
              const r = i * sh + a * dh - ph;
              if (r < 0 || r >= H) continue;
              for (let b = 0; b < kw; b++) {
                const c = j * sw + b * dw - pw;
                if (c < 0 || c >= W) continue;
                for (let ci = 0; ci < cin; ci++) {
                  acc.add(xe[(r * W + c) * cin + ci], kernel[((a * kw + b) * cin + ci) * cout + co]);
                }
              }
            }
            if (bias) acc.constant(bias[co]);
            out.push(acc.take());
          }
        }
      }
      return { shape: [...outSp, cout], exprs: out };
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1);
      if (axis !== -1 && axis !== x.shape.length) return { shape: outShape, unsupported: `exact mode: layer "${name}" normalises axis ${axis}; only the last axis is supported` };
      const w = weights();
      let k = 0;
      const ch = x.shape[x.shape.length - 1];
      const gamma = cfg.scale === false ? new Float32Array(ch).fill(1) : w[k++];
      const beta = cfg.center === false ? new Float32Array(ch) : w[k++];
      const mean = w[k++];
      const variance = w[k++];
      const eps = cfg.epsilon ?? 1e-3;
      const exprs = x.exprs.map((e, i) => {
        const c = i % ch;
        const s = gamma[c] / Math.sqrt(variance[c] + eps);
        acc.add(e, s);
        acc.constant(beta[c] - mean[c] * s);
        return acc.take();
      });
      return { shape: x.shape, exprs };
    }
    case 'ZeroPadding2D': {
      const p = cfg.padding as number | number[] | number[][];
      const pads: number[][] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p[0]) ? (p as number[][]) : [[(p as number[])[0], (p as number[])[0]], [(p as number[])[1], (p as number[])[1]]];
      const [H, W, C] = x.shape;
      const H2 = H + pads[0][0] + pads[0][1], W2 = W + pads[1][0] + pads[1][1];
      const exprs: LinExpr[] = [];
      for (let r = 0; r < H2; r++) for (let c = 0; c < W2; c++) for (let ch = 0; ch < C; ch++) {
        const r0 = r - pads[0][0], c0 = c - pads[1][0];
        exprs.push(r0 >= 0 && r0 < H && c0 >= 0 && c0 < W ? x.exprs[(r0 * W + c0) * C + ch] : { idx: [], coef: [], c: 0 });
      }
      return { shape: [H2, W2, C], exprs };
    }
    case 'AveragePooling1D':
    case 'AveragePooling2D':
    case 'MaxPooling1D':
    case 'MaxPooling2D': {
      const rank = cls.endsWith('1D') ? 1 : 2;
      const pool = asList(cfg.poolSize as number | number[], rank, 2);
      const strides = asList((cfg.strides as number | number[] | null | undefined) ?? pool, rank, 1);
      const padding = cfg.padding === 'same' ? 'same' : 'valid';
      const inSp = x.shape.slice(0, rank);
      const C = x.shape[rank];
      const geo = inSp.map((n, d) => windowGeometry(n, pool[d], strides[d], 1, padding));
      const windows: number[][] = [];
      const H = inSp[0], W = rank === 2 ? inSp[1] : 1;
      const oh = geo[0].out, ow = rank === 2 ? geo[1].out : 1;
      const kh = pool[0], kw = rank === 2 ? pool[1] : 1;
      const sh = strides[0], sw = rank === 2 ? strides[1] : 1;
      const ph = geo[0].padBefore, pw = rank === 2 ? geo[1].padBefore : 0;
      for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let c = 0; c < C; c++) {
        const win: number[] = [];
        for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
          const r = i * sh + a - ph, cc = j * sw + b - pw;
          if (r >= 0 && r < H && cc >= 0 && cc < W) win.push((r * W + cc) * C + c);
        }
        windows.push(win);
      }
      const shape = [...geo.map((g) => g.out), C];
      return pooled(cls.startsWith('Max') ? 'max' : 'avg', x.exprs, windows, shape, name, b);
    }
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D': {
      const C = x.shape[x.shape.length - 1];
      const positions = x.exprs.length / C;
      const windows = Array.from({ length: C }, (_, c) => Array.from({ length: positions }, (_, p) => p * C + c));
      return pooled(cls.startsWith('GlobalMax') ? 'max' : 'avg', x.exprs, windows, [C], name, b);
    }
    case 'Add':
    case 'Subtract':
    case 'Average': {
      const n = x.exprs.length;
      if (inputs.some((t) => t.exprs.length !== n)) return { shape: outShape, unsupported: `exact mode: layer "${name}" (${cls}) with broadcasting is not supported` };
      const exprs = x.exprs.map((_, i) => {
        inputs.forEach((t, k) => acc.add(t.exprs[i], cls === 'Subtract' ? (k === 0 ? 1 : -1) : cls === 'Average' ? 1 / inputs.length : 1));
        return acc.take();
      });
      return { shape: x.shape, exprs };
    }
    case 'Maximum': {
      const n = x.exprs.length;
      if (inputs.some((t) => t.exprs.length !== n)) return { shape: outShape, unsupported: `exact mode: layer "${name}" (Maximum) with broadcasting is not supported` };
      const all = inputs.flatMap((t) => t.exprs);
      const windows = Array.from({ length: n }, (_, i) => inputs.map((_, k) => k * n + i));
      return pooled('max', all, windows, x.shape, name, b);
    }
    case 'Concatenate': {
      const rank = x.shape.length;
      let axis = (cfg.axis as number | undefined) ?? -1;
      if (axis < 0) axis += rank + 1; // config axis counts the batch dimension
      const ax = axis - 1;
      if (ax < 0 || ax >= rank) return { shape: outShape, unsupported: `exact mode: layer "${name}" concatenates along axis ${cfg.axis}` };
      const outer = prod(x.shape.slice(0, ax));
      const exprs: LinExpr[] = [];
      for (let o = 0; o < outer; o++) {
        for (const t of inputs) {
          const block = prod(t.shape.slice(ax));
          for (let k = 0; k < block; k++) exprs.push(t.exprs[o * block + k]);
        }
      }
      const shape = x.shape.slice();
      shape[ax] = inputs.reduce((s, t) => s + t.shape[ax], 0);
      return { shape, exprs };
    }
    default:
      return { shape: outShape, unsupported: `exact mode: layer "${name}" (${cls}) is not supported; supported: Dense, Conv1D/2D, pooling, BatchNormalization, ReLU, LeakyReLU, Add, Concatenate, reshapes` };
  }
}

/** Output size and leading padding of a window along one axis (TF's `same`/`valid` rules). */
function windowGeometry(n: number, k: number, s: number, d: number, padding: 'same' | 'valid'): { out: number; padBefore: number } {
  const eff = (k - 1) * d + 1;
  if (padding === 'valid') return { out: Math.floor((n - eff) / s) + 1, padBefore: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + eff - n, 0);
  return { out, padBefore: Math.floor(total / 2) };
}

/** Max-pooling creates `max` variables; average pooling (TF averages over the valid cells only) composes. */
function pooled(kind: 'max' | 'avg', exprs: LinExpr[], windows: number[][], shape: number[], name: string, b: Builder): { shape: number[]; exprs: LinExpr[] } {
  if (kind === 'avg') {
    return {
      shape,
      exprs: windows.map((win) => {
        for (const i of win) b.acc.add(exprs[i], 1 / win.length);
        return b.acc.take();
      }),
    };
  }
  return { shape, exprs: windows.map((win) => b.maxOf(win.map((i) => exprs[i]), name)) };
}

/**
 * Every variable's value for one input, in float64 (the reference the MILP answer is checked
 * against, and the source of a consistent start solution).
 *
 * @example
 * const values = forwardValues(net, image);
 * const logit3 = evalExpr(layerValues(net, 'dense_1', true)[3], values);
 */
export function forwardValues(net: PLNetwork, x: ArrayLike<number>): Float64Array {
  if (x.length !== net.inputSize) throw new ActmaxError('bad-input', `the input has ${x.length} values; ${net.inputParts.length > 1 ? `inputs ${net.inputParts.map((p) => `"${p.name}"`).join(' + ')} need` : `input "${net.inputName}" needs`} ${net.inputSize}`);
  const v = new Float64Array(net.vars.length);
  net.vars.forEach((d, i) => {
    switch (d.kind) {
      case 'input':
        v[i] = x[d.feature];
        break;
      case 'affine':
        v[i] = evalExpr(d.expr, v);
        break;
      case 'relu':
        v[i] = Math.max(0, v[d.src]);
        break;
      case 'leaky':
        v[i] = Math.max(v[d.src], d.alpha * v[d.src]);
        break;
      case 'max': {
        let m = -Infinity;
        for (const s of d.srcs) m = Math.max(m, v[s]);
        v[i] = m;
        break;
      }
    }
  });
  return v;
}

/**
 * The expressions of a layer's output (`pre` = before its activation). Throws the reason when
 * that layer's values are not piecewise-linear (or come after such a layer).
 *
 * @example
 * const logits = layerValues(net, 'dense_1', true);
 */
export function layerValues(net: PLNetwork, layer: string, pre: boolean): LinExpr[] {
  const l = net.layers.get(layer);
  if (!l) {
    const names = [...net.layers.keys()];
    throw new ActmaxError('unknown-layer', `layer "${layer}" does not exist; layers are: ${names.length > 15 ? names.slice(0, 15).join(', ') + ', …' : names.join(', ')}`);
  }
  const v = pre ? l.pre : l.post;
  if ('unsupported' in v) throw new ActmaxError('unsupported', v.unsupported);
  return v.exprs;
}
