import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';
import { preValue } from '../ir/values.js';
import { atom, PLBuilder } from './pl-builder.js';
import { plNode, type Operand } from './pl-ops.js';

export { atom } from './pl-builder.js';

/**
 * A piecewise-linear network as plain data, extracted from a model's IR (src/ir/ir.ts: layers
 * and graph models alike) for the exact (MILP) maximiser.
 *
 * Every value inside the network is a sparse affine expression over *variables*. Variables are
 * the input features and the outputs of the nonlinear pieces (ReLU, LeakyReLU, max); each
 * nonlinear piece reads a variable of its own that holds its pre-activation. Linear layers
 * (MatMul, convolutions, scales and shifts, average pooling, Add, Concat, reshapes, padding,
 * resizing) only compose expressions, so a folded batch norm costs nothing.
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
  /** Per layer, then per IR node name: `pre` (before the activation) and `post` (the output). */
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

/** Value of an expression given all variable values. @example evalExpr(e, values) */
export function evalExpr(e: LinExpr, values: ArrayLike<number>): number {
  let s = e.c;
  for (let k = 0; k < e.idx.length; k++) s += e.coef[k] * values[e.idx[k]];
  return s;
}

/**
 * Extracts the piecewise-linear network of a model from its IR. Nodes that are not
 * piecewise-linear (sigmoid, tanh, softmax, …) do not fail here: their outputs are marked
 * unsupported, and reading them (for an objective) throws the reason.
 *
 * @example
 * const net = extractNetwork(model);
 * const logits = layerValues(net, 'dense_1', true); // pre-softmax expressions
 */
export function extractNetwork(model: ActmaxModel, options: ExtractOptions = {}): PLNetwork {
  const ir = model.ir;
  if (!ir) throw new ActmaxError('unsupported', `${model.source}: exact mode reads the network's IR, which this model does not have (${model.irReason ?? 'unknown reason'})`);
  const optimize = options.optimize ?? model.inputs.map((_, i) => i);
  const b = new PLBuilder();
  const values = new Map<string, PLValues>();
  const inputParts: InputPart[] = [];
  // Optimised inputs first (their features are variables 0 … inputSize−1), then held inputs as constants.
  for (const index of optimize) {
    const info = model.inputs[index];
    const size = prod(info.shape);
    const offset = b.vars.length;
    for (let i = 0; i < size; i++) b.vars.push({ kind: 'input', feature: offset + i });
    values.set(ir.inputs[index].name, { shape: info.shape, exprs: Array.from({ length: size }, (_, i) => atom(offset + i)) });
    inputParts.push({ index, name: info.name, shape: info.shape, offset, size });
  }
  const inputSize = b.vars.length;
  model.inputs.forEach((info, index) => {
    if (optimize.includes(index)) return;
    const given = options.fixed?.get(index);
    const size = prod(info.shape);
    if (!given || given.length !== size) {
      throw new ActmaxError('bad-input', `input "${info.name}" is not optimised, so its ${size} values must be given (--input FILE with a "${info.name}" entry)`);
    }
    values.set(ir.inputs[index].name, { shape: info.shape, exprs: Array.from(given, (c) => ({ idx: [], coef: [], c })) });
  });
  for (const node of ir.nodes) {
    const shape = ir.shapes.get(node.name)!;
    const ins: Operand[] = [];
    let why: string | null = null;
    for (const name of node.inputs) {
      const c = ir.consts.get(name);
      if (c) {
        ins.push({ shape: c.shape, data: c.data });
        continue;
      }
      const v = values.get(name);
      if (!v || 'unsupported' in v) {
        why = v && 'unsupported' in v ? v.unsupported : `exact mode: the input of node "${node.name}" is not available`;
        break;
      }
      ins.push({ shape: v.shape, exprs: v.exprs });
    }
    const r = why ? { unsupported: why } : plNode(node, b, ins, shape);
    if ('exprs' in r && r.exprs.length !== prod(shape)) {
      throw new ActmaxError('internal-check', `exact mode: node "${node.name}" (${node.op}) gave ${r.exprs.length} values, the IR says ${prod(shape)}`);
    }
    values.set(node.name, 'exprs' in r ? { shape, exprs: r.exprs } : { shape, unsupported: r.unsupported });
  }
  const layers = new Map<string, { pre: PLValues; post: PLValues }>();
  const get = (v: string) => values.get(v) ?? { shape: ir.shapes.get(v) ?? [], unsupported: `exact mode: "${v}" is not computed by the network` };
  for (const l of ir.layers) layers.set(l.name, { pre: get(l.pre), post: get(l.output) });
  for (const name of values.keys()) if (!layers.has(name)) layers.set(name, { pre: get(preValue(ir, name)), post: get(name) });
  return { inputName: inputParts[0].name, inputShape: inputParts[0].shape, inputSize, inputParts, vars: b.vars, layers };
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
