/**
 * One Keras/TF.js layer call → IR nodes. The layer's weights become constants; its activation
 * (if any) becomes the last node, so `pre` is the value before it.
 */
import type { IrBuilder } from './builder.js';
import type { Pads2D } from './ir.js';
import { IrError } from './errors.js';
import { applyActivation } from './activation-ops.js';

type Dict = Record<string, unknown>;

/** What a layer translation needs: the builder, the layer's config and weights, and names. */
export interface LayerCall {
  b: IrBuilder;
  /** Layer name (the IR layer every node belongs to). */
  layer: string;
  /** Prefix of node names for this call (`dense`, or `dense@1` for a shared layer's second call). */
  prefix: string;
  className: string;
  cfg: Dict;
  /** A weight by its short name (`kernel`, `bias`, `gamma`, …); undefined when the layer has none. */
  weight(short: string): { shape: number[]; data: Float32Array } | undefined;
  inputs: string[];
  /** The output shape TF.js computed (per example). */
  outShape: number[];
}

/** The result of one call: output value, value before the activation, the activation's name. */
export interface LayerResult {
  output: string;
  pre: string;
  activation?: string;
}

const list = (v: unknown, n: number, dflt: number): number[] =>
  v === undefined || v === null ? new Array(n).fill(dflt) : Array.isArray(v) ? (v as number[]) : new Array(n).fill(v as number);

/**
 * [before, after] padding of a window along one axis under TF's `same`/`valid`/`causal` rules.
 *
 * @example
 * windowPads(28, 3, 1, 1, 'same') // [1, 1]
 */
export function windowPads(n: number, k: number, s: number, d: number, padding: string): [number, number] {
  const eff = (k - 1) * d + 1;
  if (padding === 'valid') return [0, 0];
  if (padding === 'causal') return [eff - 1, 0];
  if (padding !== 'same') throw new IrError(`padding "${padding}" is not supported`);
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + eff - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function need(c: LayerCall, short: string): { shape: number[]; data: Float32Array } {
  const w = c.weight(short);
  if (!w) throw new IrError(`layer "${c.layer}" (${c.className}) has no weight "${short}"`);
  return w;
}

/** The bias constant when the layer uses one. */
function biasOf(c: LayerCall): string[] {
  if (c.cfg.useBias === false) return [];
  const b = c.weight('bias');
  return b ? [c.b.constant(`${c.prefix}/bias`, b.shape, b.data)] : [];
}

/** Finish a layer: apply its activation (from the config). */
function activate(c: LayerCall, pre: string): LayerResult {
  const act = typeof c.cfg.activation === 'string' ? c.cfg.activation : 'linear';
  const output = applyActivation(c.b, act, pre, c.layer, `${c.prefix}/${act}`);
  return { output, pre, ...(output !== pre ? { activation: act } : {}) };
}

/** Run `body` on an NHWC view of x when the layer is channels-first, transposing back after. */
function channelsLast(c: LayerCall, x: string, body: (x: string) => string): string {
  if (c.cfg.dataFormat !== 'channelsFirst') return body(x);
  const t = c.b.node({ op: 'Transpose', perm: [0, 2, 3, 1] }, [x], c.layer, `${c.prefix}/to_nhwc`);
  return c.b.node({ op: 'Transpose', perm: [0, 3, 1, 2] }, [body(t)], c.layer, `${c.prefix}/to_nchw`);
}

/** 2-D window geometry (kernel, strides, dilations, pads) of a conv/pool layer on an [H, W, C] value. */
function geometry(c: LayerCall, hw: [number, number], k: number[], strideKey: string, defaultStride?: number[]) {
  const strides = list(c.cfg[strideKey] ?? defaultStride, 2, 1);
  const dil = list(c.cfg.dilationRate, 2, 1);
  const padding = String(c.cfg.padding ?? 'valid');
  const ph = windowPads(hw[0], k[0], strides[0], dil[0], padding);
  const pw = windowPads(hw[1], k[1], strides[1], dil[1], padding);
  return { strides: strides as [number, number], dilations: dil as [number, number], pads: [ph[0], ph[1], pw[0], pw[1]] as Pads2D };
}

function conv2d(c: LayerCall, x: string, kernel: { shape: number[]; data: Float32Array }, extra: string[] = []): string {
  const s = c.b.shapeOf(x);
  const g = geometry(c, [s[0], s[1]], kernel.shape.slice(0, 2), 'strides');
  const w = c.b.constant(`${c.prefix}/kernel`, kernel.shape, kernel.data);
  return c.b.node({ op: 'Conv2D', strides: g.strides, dilations: g.dilations, pads: g.pads }, [x, w, ...extra], c.layer, `${c.prefix}/Conv2D`);
}

function depthwise(c: LayerCall, x: string, kernel: { shape: number[]; data: Float32Array }, extra: string[] = []): string {
  const s = c.b.shapeOf(x);
  const g = geometry(c, [s[0], s[1]], kernel.shape.slice(0, 2), 'strides');
  const w = c.b.constant(`${c.prefix}/depthwise_kernel`, kernel.shape, kernel.data);
  return c.b.node({ op: 'DepthwiseConv2D', strides: g.strides, dilations: g.dilations, pads: g.pads }, [x, w, ...extra], c.layer, `${c.prefix}/DepthwiseConv2D`);
}

/** [L, C] ↔ [1, L, C]: 1-D layers run as 2-D ones on a height-1 image. */
function as2d(c: LayerCall, x: string, body: (x: string) => string): string {
  const [l, ch] = c.b.shapeOf(x);
  const x2 = c.b.node({ op: 'Reshape', shape: [1, l, ch] }, [x], c.layer, `${c.prefix}/to_2d`);
  const y = body(x2);
  const [, lo, co] = c.b.shapeOf(y);
  return c.b.node({ op: 'Reshape', shape: [lo, co] }, [y], c.layer, `${c.prefix}/to_1d`);
}

function pool(c: LayerCall, x: string, kind: 'MaxPool' | 'AvgPool', rank: 1 | 2): string {
  const run = (v: string, k: [number, number], strides: number[]) => {
    const s = c.b.shapeOf(v);
    const padding = String(c.cfg.padding ?? 'valid');
    const ph = windowPads(s[0], k[0], strides[0], 1, padding), pw = windowPads(s[1], k[1], strides[1], 1, padding);
    return c.b.node({ op: kind, ksize: k, strides: strides as [number, number], pads: [ph[0], ph[1], pw[0], pw[1]] }, [v], c.layer, `${c.prefix}/${kind}`);
  };
  if (rank === 1) {
    const k = list(c.cfg.poolSize, 1, 2)[0];
    const s = list(c.cfg.strides ?? k, 1, k)[0];
    return as2d(c, x, (v) => run(v, [1, k], [1, s]));
  }
  const k = list(c.cfg.poolSize, 2, 2) as [number, number];
  return channelsLast(c, x, (v) => run(v, k, list(c.cfg.strides ?? k, 2, 1)));
}

/** Merge layers: a chain of binary ops over all inputs. */
function merge(c: LayerCall, op: 'Add' | 'Mul' | 'Maximum' | 'Minimum'): string {
  let acc = c.inputs[0];
  c.inputs.slice(1).forEach((v, i) => (acc = c.b.node({ op }, [acc, v], c.layer, `${c.prefix}/${op}${i ? `_${i}` : ''}`)));
  return acc;
}

/** Keras BatchNormalization at inference, folded into one multiply and one add per channel. */
function batchNorm(c: LayerCall, x: string): string {
  const shape = c.b.shapeOf(x);
  const axisCfg = Array.isArray(c.cfg.axis) ? (c.cfg.axis as number[])[0] : ((c.cfg.axis as number | undefined) ?? -1);
  const ax = axisCfg < 0 ? shape.length + axisCfg + 1 : axisCfg; // counts the batch as 0
  const ch = shape[ax - 1];
  const mean = need(c, 'moving_mean').data, variance = need(c, 'moving_variance').data;
  const gamma = c.cfg.scale === false ? null : need(c, 'gamma').data;
  const beta = c.cfg.center === false ? null : need(c, 'beta').data;
  const eps = (c.cfg.epsilon as number | undefined) ?? 1e-3;
  const scale = new Float32Array(ch), shift = new Float32Array(ch);
  for (let i = 0; i < ch; i++) {
    // Float32 like TF.js: (x − mean)·(γ/√(var + ε)) + β.
    scale[i] = Math.fround((gamma ? gamma[i] : 1) / Math.sqrt(Math.fround(variance[i] + eps)));
    shift[i] = Math.fround((beta ? beta[i] : 0) - mean[i] * scale[i]);
  }
  const cshape = shape.slice(ax - 1).map((d, i) => (i === 0 ? d : 1));
  const m = c.b.node({ op: 'Mul' }, [x, c.b.constant(`${c.prefix}/scale`, cshape, scale)], c.layer, `${c.prefix}/scale`);
  return c.b.node({ op: 'Add' }, [m, c.b.constant(`${c.prefix}/shift`, cshape, shift)], c.layer, `${c.prefix}/shift`);
}

/** Keras LayerNormalization: (x − mean)/√(var + ε)·γ + β over `axis`. */
function layerNorm(c: LayerCall, x: string): string {
  const shape = c.b.shapeOf(x);
  const rank = shape.length + 1;
  const axes = (Array.isArray(c.cfg.axis) ? (c.cfg.axis as number[]) : [(c.cfg.axis as number | undefined) ?? -1]).map((a) => (a < 0 ? a + rank : a));
  if (axes.includes(0)) throw new IrError(`layer "${c.layer}" normalises over the batch axis`);
  const n = (op: Parameters<IrBuilder['node']>[0], ins: string[], suffix: string) => c.b.node(op, ins, c.layer, `${c.prefix}/${suffix}`);
  const mean = n({ op: 'Mean', axes, keepDims: true }, [x], 'mean');
  const d = n({ op: 'Sub' }, [x, mean], 'centered');
  const v = n({ op: 'Mean', axes, keepDims: true }, [n({ op: 'Square' }, [d], 'squared')], 'variance');
  const eps = c.b.constant(`${c.prefix}/epsilon`, [], new Float32Array([(c.cfg.epsilon as number | undefined) ?? 1e-3]));
  let y = n({ op: 'Mul' }, [d, n({ op: 'Rsqrt' }, [n({ op: 'Add' }, [v, eps], 'variance_eps')], 'rsqrt')], 'normalized');
  const pshape = shape.map((dim, i) => (axes.includes(i + 1) ? dim : 1)).slice(Math.min(...axes) - 1);
  if (c.cfg.scale !== false) y = n({ op: 'Mul' }, [y, c.b.constant(`${c.prefix}/gamma`, pshape, need(c, 'gamma').data)], 'gamma');
  if (c.cfg.center !== false) y = n({ op: 'Add' }, [y, c.b.constant(`${c.prefix}/beta`, pshape, need(c, 'beta').data)], 'beta');
  return y;
}

/** actmax's Normalization layer: (x − mean)/max(√var, 1e-7), or the inverse. */
function normalization(c: LayerCall, x: string): string {
  const shape = c.b.shapeOf(x);
  const rank = shape.length + 1;
  const axisCfg = c.cfg.axis === undefined ? [-1] : c.cfg.axis === null ? [] : Array.isArray(c.cfg.axis) ? (c.cfg.axis as number[]) : [c.cfg.axis as number];
  const keep = axisCfg.map((a) => (a < 0 ? a + rank : a));
  const fromCfg = (v: unknown) => Float32Array.from(Array.isArray(v) ? (v as number[]) : [v as number]);
  const mean = c.cfg.mean != null ? fromCfg(c.cfg.mean) : need(c, 'mean').data;
  const variance = c.cfg.variance != null ? fromCfg(c.cfg.variance) : need(c, 'variance').data;
  const full = shape.map((d, i) => (keep.includes(i + 1) ? d : 1));
  const cshape = mean.length === 1 ? [] : full.slice(full.findIndex((d, i) => keep.includes(i + 1)));
  const sd = variance.map((v) => Math.sqrt(v));
  const n = (op: 'Mul' | 'Add' | 'Sub' | 'Div', ins: string[], suffix: string) => c.b.node({ op }, ins, c.layer, `${c.prefix}/${suffix}`);
  const k = (name: string, data: Float32Array) => c.b.constant(`${c.prefix}/${name}`, cshape, data);
  if (c.cfg.invert) return n('Add', [n('Mul', [x, k('stddev', sd)], 'scale'), k('mean', mean)], 'shift');
  return n('Div', [n('Sub', [x, k('mean', mean)], 'centered'), k('stddev', sd.map((s) => Math.max(s, 1e-7)))], 'scaled');
}

/** Activation layers (their `pre` is their input). */
function activationLayer(c: LayerCall, x: string): LayerResult | null {
  const n = (op: Parameters<IrBuilder['node']>[0]) => c.b.node(op, [x], c.layer, `${c.prefix}/${op.op}`);
  const cfg = c.cfg;
  switch (c.className) {
    case 'Activation': {
      const act = String(cfg.activation ?? 'linear');
      const y = applyActivation(c.b, act, x, c.layer, `${c.prefix}/${act}`);
      return { output: y, pre: x, ...(y !== x ? { activation: act } : {}) };
    }
    case 'Softmax': return { output: n({ op: 'Softmax', axis: (cfg.axis as number | undefined) ?? -1 }), pre: x, activation: 'softmax' };
    case 'LeakyReLU': return { output: n({ op: 'LeakyRelu', alpha: (cfg.alpha as number | undefined) ?? 0.3 }), pre: x, activation: 'leaky_relu' };
    case 'ELU': return { output: n({ op: 'Elu', alpha: (cfg.alpha as number | undefined) ?? 1 }), pre: x, activation: 'elu' };
    case 'ThresholdedReLU': return { output: n({ op: 'ThresholdedRelu', theta: (cfg.theta as number | undefined) ?? 1 }), pre: x, activation: 'thresholded_relu' };
    case 'PReLU': {
      const alpha = need(c, 'alpha');
      const y = c.b.node({ op: 'Prelu' }, [x, c.b.constant(`${c.prefix}/alpha`, alpha.shape, alpha.data)], c.layer, `${c.prefix}/Prelu`);
      return { output: y, pre: x, activation: 'prelu' };
    }
    case 'ReLU': {
      const max = (cfg.maxValue as number | null | undefined) ?? null;
      const slope = (cfg.negativeSlope as number | undefined) ?? 0;
      const t = (cfg.threshold as number | undefined) ?? 0;
      const k = (name: string, v: number) => c.b.constant(`${c.prefix}/${name}`, [], new Float32Array([v]));
      let y: string;
      if (t !== 0) {
        // x ≥ t ? x : slope·(x − t)  =  x·[x > t] + slope·min(x − t, 0).
        y = n({ op: 'ThresholdedRelu', theta: t });
        if (slope !== 0) {
          const below = c.b.node({ op: 'Minimum' }, [c.b.node({ op: 'Sub' }, [x, k('threshold', t)], c.layer, `${c.prefix}/shifted`), k('zero', 0)], c.layer, `${c.prefix}/below`);
          y = c.b.node({ op: 'Add' }, [y, c.b.node({ op: 'Mul' }, [below, k('negative_slope', slope)], c.layer, `${c.prefix}/leak`)], c.layer, `${c.prefix}/ReLU`);
        }
      } else y = slope === 0 ? (max === null ? n({ op: 'Relu' }) : max === 6 ? n({ op: 'Relu6' }) : n({ op: 'Clip', min: 0, max })) : n({ op: 'LeakyRelu', alpha: slope });
      if ((slope !== 0 || t !== 0) && max !== null) y = c.b.node({ op: 'Minimum' }, [y, k('max_value', max)], c.layer, `${c.prefix}/Minimum`);
      return { output: y, pre: x, activation: max === 6 && slope === 0 && t === 0 ? 'relu6' : 'relu' };
    }
    default: return null;
  }
}

/**
 * Translate one layer call. Throws {@link IrError} for layers the IR cannot express.
 *
 * @example
 * const { output, pre } = translateLayer(call); // Dense with softmax: pre = the MatMul, output = the Softmax
 */
export function translateLayer(c: LayerCall): LayerResult {
  const x = c.inputs[0];
  const b = c.b;
  const n = (op: Parameters<IrBuilder['node']>[0], ins: string[], suffix: string) => b.node(op, ins, c.layer, `${c.prefix}/${suffix}`);
  const same = (v: string): LayerResult => ({ output: v, pre: v });
  const act = activationLayer(c, x);
  if (act) return act;
  switch (c.className) {
    case 'Dense': {
      const k = need(c, 'kernel');
      return activate(c, n({ op: 'MatMul' }, [x, b.constant(`${c.prefix}/kernel`, k.shape, k.data), ...biasOf(c)], 'MatMul'));
    }
    case 'Conv2D':
      return activate(c, channelsLast(c, x, (v) => conv2d(c, v, need(c, 'kernel'), biasOf(c))));
    case 'Conv1D': {
      const k = need(c, 'kernel');
      const k2 = { shape: [1, ...k.shape], data: k.data };
      const cfg1 = { ...c.cfg, strides: [1, list(c.cfg.strides, 1, 1)[0]], dilationRate: [1, list(c.cfg.dilationRate, 1, 1)[0]] };
      return activate(c, as2d(c, x, (v) => conv2d({ ...c, cfg: cfg1 }, v, k2, biasOf(c))));
    }
    case 'DepthwiseConv2D':
      return activate(c, channelsLast(c, x, (v) => depthwise(c, v, need(c, 'depthwise_kernel'), biasOf(c))));
    case 'SeparableConv2D':
      return activate(c, channelsLast(c, x, (v) => {
        const d = depthwise(c, v, need(c, 'depthwise_kernel'));
        const pk = need(c, 'pointwise_kernel');
        const w = b.constant(`${c.prefix}/pointwise_kernel`, pk.shape, pk.data);
        return n({ op: 'Conv2D', strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }, [d, w, ...biasOf(c)], 'pointwise');
      }));
    case 'Conv2DTranspose':
      return activate(c, channelsLast(c, x, (v) => {
        const k = need(c, 'kernel');
        const out = c.cfg.dataFormat === 'channelsFirst' ? [c.outShape[1], c.outShape[2]] : [c.outShape[0], c.outShape[1]];
        const strides = list(c.cfg.strides, 2, 1);
        const padding = String(c.cfg.padding ?? 'valid');
        // The pads of the forward conv (output → input) this layer is the transpose of.
        const ph = windowPads(out[0], k.shape[0], strides[0], 1, padding), pw = windowPads(out[1], k.shape[1], strides[1], 1, padding);
        const w = b.constant(`${c.prefix}/kernel`, k.shape, k.data);
        return n({ op: 'Conv2DTranspose', strides: strides as [number, number], pads: [ph[0], ph[1], pw[0], pw[1]], outputSize: out as [number, number] }, [v, w, ...biasOf(c)], 'Conv2DTranspose');
      }));
    case 'MaxPooling1D': return same(pool(c, x, 'MaxPool', 1));
    case 'AveragePooling1D': return same(pool(c, x, 'AvgPool', 1));
    case 'MaxPooling2D': return same(pool(c, x, 'MaxPool', 2));
    case 'AveragePooling2D': return same(pool(c, x, 'AvgPool', 2));
    case 'GlobalAveragePooling1D': case 'GlobalMaxPooling1D': case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D': {
      const rank = b.shapeOf(x).length;
      const first = c.cfg.dataFormat === 'channelsFirst';
      const axes = Array.from({ length: rank - 1 }, (_, i) => i + (first ? 2 : 1));
      return same(n({ op: c.className.startsWith('GlobalMax') ? 'Max' : 'Mean', axes, keepDims: false }, [x], 'pool'));
    }
    case 'BatchNormalization': return same(batchNorm(c, x));
    case 'LayerNormalization': return same(layerNorm(c, x));
    case 'Normalization': return same(normalization(c, x));
    case 'Rescaling': {
      const k = (name: string, v: unknown) => b.constant(`${c.prefix}/${name}`, Array.isArray(v) ? [v.length] : [], Float32Array.from(Array.isArray(v) ? (v as number[]) : [v as number]));
      return same(n({ op: 'Add' }, [n({ op: 'Mul' }, [x, k('scale', c.cfg.scale ?? 1)], 'scale'), k('offset', c.cfg.offset ?? 0)], 'offset'));
    }
    case 'Dropout': case 'SpatialDropout1D': case 'SpatialDropout2D': case 'GaussianNoise': case 'GaussianDropout': case 'AlphaDropout': case 'ActivityRegularization':
      return same(n({ op: 'Identity' }, [x], 'Identity'));
    case 'Flatten': {
      const v = c.cfg.dataFormat === 'channelsFirst' && b.shapeOf(x).length > 1
        ? n({ op: 'Transpose', perm: [0, ...Array.from({ length: b.shapeOf(x).length - 1 }, (_, i) => i + 2), 1] }, [x], 'to_channels_last')
        : x;
      return same(n({ op: 'Reshape', shape: c.outShape }, [v], 'Reshape'));
    }
    case 'Reshape': return same(n({ op: 'Reshape', shape: c.outShape }, [x], 'Reshape'));
    case 'Permute': return same(n({ op: 'Transpose', perm: [0, ...(c.cfg.dims as number[])] }, [x], 'Transpose'));
    case 'RepeatVector': {
      const f = b.shapeOf(x)[0];
      return same(n({ op: 'Tile', reps: [c.cfg.n as number, 1] }, [n({ op: 'Reshape', shape: [1, f] }, [x], 'Reshape')], 'Tile'));
    }
    case 'ZeroPadding2D': return same(channelsLast(c, x, (v) => {
      const [[t, bo], [l, r]] = c.cfg.padding as number[][];
      return n({ op: 'Pad', pads: [[t, bo], [l, r], [0, 0]], mode: 'constant', value: 0 }, [v], 'Pad');
    }));
    case 'Cropping2D': return same(channelsLast(c, x, (v) => {
      const [[t, bo], [l, r]] = c.cfg.cropping as number[][];
      const [h, w, ch] = b.shapeOf(v);
      return n({ op: 'Slice', begin: [t, l, 0], end: [h - bo, w - r, ch], steps: [1, 1, 1] }, [v], 'Slice');
    }));
    case 'UpSampling2D': return same(channelsLast(c, x, (v) => {
      const [sh, sw] = list(c.cfg.size, 2, 2);
      const [h, w] = b.shapeOf(v);
      const method = c.cfg.interpolation === 'bilinear' ? 'bilinear' : 'nearest';
      return n({ op: 'Resize', size: [h * sh, w * sw], method, alignCorners: false, halfPixelCenters: false }, [v], 'Resize');
    }));
    case 'Add': return same(merge(c, 'Add'));
    case 'Multiply': return same(merge(c, 'Mul'));
    case 'Maximum': return same(merge(c, 'Maximum'));
    case 'Minimum': return same(merge(c, 'Minimum'));
    case 'Subtract': return same(n({ op: 'Sub' }, [c.inputs[0], c.inputs[1]], 'Sub'));
    case 'Average': {
      const k = b.constant(`${c.prefix}/one_over_n`, [], new Float32Array([1 / c.inputs.length]));
      return same(n({ op: 'Mul' }, [merge(c, 'Add'), k], 'mean'));
    }
    case 'Concatenate': return same(n({ op: 'Concat', axis: (c.cfg.axis as number | undefined) ?? -1 }, c.inputs, 'Concat'));
    case 'SimpleRNN': case 'GRU': case 'LSTM':
      throw new IrError(`layer "${c.layer}" (${c.className}) is recurrent`);
    case 'Embedding':
      throw new IrError(`layer "${c.layer}" (Embedding) looks up integer indices`);
    default:
      throw new IrError(`layer "${c.layer}" (${c.className}) has no IR translation`);
  }
}
