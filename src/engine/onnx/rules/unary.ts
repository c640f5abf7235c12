import type { IrOpName } from '../../../ir/ir.js';
import type { Val } from '../layout.js';
import type { NetEmitter } from '../net.js';
import { like, mask, valueInput, type NodeOf, type Rule, type Rules } from './common.js';

/*
 * Elementwise ops of one input. Each rule gives the forward op and dy ⊙ f′ written with the
 * forward input x and output y. Where TF decides a tie at a kink (ReLU at 0, clip bounds), the
 * rule decides it the same way, so gradients match the TF.js reference exactly there too.
 */

type Unary = 'Mish' | 'ThresholdedRelu' | 'Identity' | 'Relu' | 'Relu6' | 'LeakyRelu' | 'Prelu' | 'Elu' | 'Selu' | 'Sigmoid' | 'HardSigmoid' | 'Tanh' | 'Softplus' | 'Softsign' | 'Swish' | 'HardSwish' | 'Gelu' | 'Exp' | 'Log' | 'Sqrt' | 'Rsqrt' | 'Square' | 'Neg' | 'Abs' | 'Reciprocal' | 'Clip';

/** A rule from the forward op and the derivative factor (dx = dy · factor, or a custom dx). */
function unary<K extends IrOpName>(
  forward: (net: NetEmitter, x: string, node: NodeOf<K>) => string,
  grad: (net: NetEmitter, ctx: { x: string; y: string; dy: string; node: NodeOf<K>; xv: Val }) => string,
): Rule<K> {
  return {
    forward(node, net) {
      const x = valueInput(net, node);
      return like(x, forward(net, x.name, node));
    },
    backward(node, net, dy) {
      const xv = valueInput(net, node);
      const y = net.val(node.name);
      const g = grad(net, { x: xv.name, y: net.as(y, xv.layout).name, dy: net.as(dy, xv.layout).name, node, xv });
      return [like(xv, g), ...node.inputs.slice(1).map(() => null)];
    },
  };
}

const op = (net: NetEmitter, type: string, inputs: string[], attrs?: Parameters<NetEmitter['b']['op1']>[2]) => net.b.op1(type, inputs, attrs);
const mul = (net: NetEmitter, a: string, b: string) => op(net, 'Mul', [a, b]);
const c = (net: NetEmitter, v: number) => net.b.scalar(v);
/** dy where cond holds, 0 elsewhere (dy · Cast(cond): onnxruntime's Where with a scalar branch is slower). */
const gate = (net: NetEmitter, dy: string, cond: string) => mul(net, dy, mask(net, cond));

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** The rules of the one-input elementwise ops. */
export const UNARY_RULES: Rules<Unary> = {
  Identity: unary((net, x) => op(net, 'Identity', [x]), (_n, { dy }) => dy),
  // The mask reads the output (y > 0 exactly where x > 0), so x feeds only the Relu and
  // onnxruntime can fuse it into the Conv or Gemm before it. A gradient already zero where y is
  // (a MaxPool after the ReLU gated it at its own, smaller output) needs no mask.
  Relu: unary((net, x) => op(net, 'Relu', [x]), (net, { y, dy }) => (net.vanishAtZero.has(dy) ? dy : gate(net, dy, op(net, 'Greater', [y, c(net, 0)])))),
  // TF.js: dy where 0 < x ≤ 6.
  Relu6: unary(
    (net, x) => op(net, 'Clip', [x, c(net, 0), c(net, 6)]),
    (net, { x, dy }) => gate(net, dy, op(net, 'And', [op(net, 'Greater', [x, c(net, 0)]), op(net, 'LessOrEqual', [x, c(net, 6)])])),
  ),
  LeakyRelu: unary(
    (net, x, n) => op(net, 'LeakyRelu', [x], { alpha: { float: n.alpha } }),
    (net, { x, dy, node }) => mul(net, dy, op(net, 'Where', [op(net, 'Greater', [x, c(net, 0)]), c(net, 1), c(net, node.alpha)])),
  ),
  Prelu: {
    check: (node, ir) => (ir.consts.has(node.inputs[1]) ? null : 'no gradient rule for Prelu with a computed slope'),
    forward(node, net) {
      const x = valueInput(net, node);
      const slope = net.constFor(node.inputs[1], x.shape.length, x.layout);
      if (!slope) throw new Error(`Prelu "${node.name}": the slope does not broadcast`);
      return like(x, op(net, 'PRelu', [x.name, slope]));
    },
    backward(node, net, dy) {
      const x = valueInput(net, node);
      const slope = net.constFor(node.inputs[1], x.shape.length, x.layout)!;
      const factor = op(net, 'Where', [op(net, 'Greater', [x.name, c(net, 0)]), c(net, 1), slope]);
      return [like(x, mul(net, net.as(dy, x.layout).name, factor)), null];
    },
  },
  // y + alpha for x ≤ 0 (y = alpha·(eˣ − 1)).
  Elu: unary(
    (net, x, n) => op(net, 'Elu', [x], { alpha: { float: eluAlpha(n) } }),
    (net, { x, y, dy, node }) => mul(net, dy, op(net, 'Where', [op(net, 'Greater', [x, c(net, 0)]), c(net, 1), op(net, 'Add', [y, c(net, eluAlpha(node))])])),
  ),
  Selu: unary(
    (net, x) => op(net, 'Selu', [x], { alpha: { float: SELU_ALPHA }, gamma: { float: SELU_SCALE } }),
    (net, { x, y, dy }) => mul(net, dy, op(net, 'Where', [op(net, 'Greater', [x, c(net, 0)]), c(net, SELU_SCALE), op(net, 'Add', [y, c(net, SELU_SCALE * SELU_ALPHA)])])),
  ),
  Sigmoid: unary((net, x) => op(net, 'Sigmoid', [x]), (net, { y, dy }) => mul(net, dy, mul(net, y, op(net, 'Sub', [c(net, 1), y])))),
  HardSigmoid: unary(
    (net, x, n) => op(net, 'HardSigmoid', [x], { alpha: { float: n.alpha }, beta: { float: n.beta } }),
    (net, { x, dy, node }) => {
      const z = op(net, 'Add', [mul(net, x, c(net, node.alpha)), c(net, node.beta)]);
      return mul(net, gate(net, dy, op(net, 'And', [op(net, 'Greater', [z, c(net, 0)]), op(net, 'Less', [z, c(net, 1)])])), c(net, node.alpha));
    },
  ),
  Tanh: unary((net, x) => op(net, 'Tanh', [x]), (net, { y, dy }) => mul(net, dy, op(net, 'Sub', [c(net, 1), mul(net, y, y)]))),
  Softplus: unary((net, x) => op(net, 'Softplus', [x]), (net, { x, dy }) => mul(net, dy, op(net, 'Sigmoid', [x]))),
  Softsign: unary(
    (net, x) => op(net, 'Softsign', [x]),
    (net, { x, dy }) => {
      const d = op(net, 'Add', [c(net, 1), op(net, 'Abs', [x])]);
      return op(net, 'Div', [dy, mul(net, d, d)]);
    },
  ),
  // σ(x)·(1 + x·(1 − σ(x))).
  Swish: unary(
    (net, x) => mul(net, x, op(net, 'Sigmoid', [x])),
    (net, { x, dy }) => {
      const s = op(net, 'Sigmoid', [x]);
      return mul(net, dy, mul(net, s, op(net, 'Add', [c(net, 1), mul(net, x, op(net, 'Sub', [c(net, 1), s]))])));
    },
  ),
  // x·tanh(softplus(x)): t + x·(1 − t²)·σ(x).
  Mish: unary(
    (net, x) => mul(net, x, op(net, 'Tanh', [op(net, 'Softplus', [x])])),
    (net, { x, dy }) => {
      const t = op(net, 'Tanh', [op(net, 'Softplus', [x])]);
      return mul(net, dy, op(net, 'Add', [t, mul(net, mul(net, x, op(net, 'Sub', [c(net, 1), mul(net, t, t)])), op(net, 'Sigmoid', [x]))]));
    },
  ),
  ThresholdedRelu: unary(
    (net, x, n) => op(net, 'ThresholdedRelu', [x], { alpha: { float: n.theta } }),
    (net, { x, dy, node }) => gate(net, dy, op(net, 'Greater', [x, c(net, node.theta)])),
  ),
  // x·relu6(x + 3)/6: 0 below −3, 1 above 3, (2x + 3)/6 between.
  HardSwish: unary(
    (net, x) => op(net, 'HardSwish', [x]),
    (net, { x, dy }) => {
      const mid = op(net, 'Add', [mul(net, x, c(net, 1 / 3)), c(net, 0.5)]);
      const f = op(net, 'Where', [op(net, 'Less', [x, c(net, -3)]), c(net, 0), op(net, 'Where', [op(net, 'Greater', [x, c(net, 3)]), c(net, 1), mid])]);
      return mul(net, dy, f);
    },
  ),
  Gelu: unary(
    (net, x, n) => (n.approximate ? geluTanh(net, x).y : geluErf(net, x).y),
    (net, { x, dy, node }) => mul(net, dy, node.approximate ? geluTanh(net, x).dydx() : geluErf(net, x).dydx()),
  ),
  Exp: unary((net, x) => op(net, 'Exp', [x]), (net, { y, dy }) => mul(net, dy, y)),
  Log: unary((net, x) => op(net, 'Log', [x]), (net, { x, dy }) => op(net, 'Div', [dy, x])),
  Sqrt: unary((net, x) => op(net, 'Sqrt', [x]), (net, { y, dy }) => op(net, 'Div', [dy, mul(net, y, c(net, 2))])),
  // y = x^(−1/2): dy/dx = −y³/2.
  Rsqrt: unary(
    (net, x) => op(net, 'Reciprocal', [op(net, 'Sqrt', [x])]),
    (net, { y, dy }) => mul(net, dy, mul(net, mul(net, y, mul(net, y, y)), c(net, -0.5))),
  ),
  Square: unary((net, x) => mul(net, x, x), (net, { x, dy }) => mul(net, dy, mul(net, x, c(net, 2)))),
  Neg: unary((net, x) => op(net, 'Neg', [x]), (net, { dy }) => op(net, 'Neg', [dy])),
  // TF's subgradient at 0 is −1.
  Abs: unary((net, x) => op(net, 'Abs', [x]), (net, { x, dy }) => mul(net, dy, op(net, 'Where', [op(net, 'Greater', [x, c(net, 0)]), c(net, 1), c(net, -1)]))),
  Reciprocal: unary((net, x) => op(net, 'Reciprocal', [x]), (net, { y, dy }) => op(net, 'Neg', [mul(net, dy, mul(net, y, y))])),
  // TF: dy where min ≤ x ≤ max.
  Clip: unary(
    (net, x, n) => op(net, 'Clip', [x, c(net, n.min), c(net, n.max)]),
    (net, { x, dy, node }) => gate(net, dy, op(net, 'And', [op(net, 'GreaterOrEqual', [x, c(net, node.min)]), op(net, 'LessOrEqual', [x, c(net, node.max)])])),
  ),
};

function eluAlpha(node: NodeOf<'Elu'>): number {
  return (node as { alpha?: number }).alpha ?? 1;
}

/** 0.5·x·(1 + erf(x/√2)); derivative Φ(x) + x·φ(x). */
function geluErf(net: NetEmitter, x: string) {
  const phiCdf = () => mul(net, c(net, 0.5), op(net, 'Add', [c(net, 1), op(net, 'Erf', [mul(net, x, c(net, Math.SQRT1_2))])]));
  return {
    y: mul(net, x, phiCdf()),
    dydx: () => {
      const pdf = mul(net, op(net, 'Exp', [mul(net, mul(net, x, x), c(net, -0.5))]), c(net, INV_SQRT_2PI));
      return op(net, 'Add', [phiCdf(), mul(net, x, pdf)]);
    },
  };
}

/** 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
function geluTanh(net: NetEmitter, x: string) {
  const t = () => {
    const x3 = mul(net, x, mul(net, x, x));
    return op(net, 'Tanh', [mul(net, op(net, 'Add', [x, mul(net, x3, c(net, 0.044715))]), c(net, SQRT_2_OVER_PI))]);
  };
  return {
    y: mul(net, mul(net, x, c(net, 0.5)), op(net, 'Add', [c(net, 1), t()])),
    dydx: () => {
      const th = t();
      const inner = mul(net, op(net, 'Add', [c(net, 1), mul(net, mul(net, x, x), c(net, 3 * 0.044715))]), c(net, SQRT_2_OVER_PI));
      const a = mul(net, op(net, 'Add', [c(net, 1), th]), c(net, 0.5));
      const b = mul(net, mul(net, mul(net, x, c(net, 0.5)), op(net, 'Sub', [c(net, 1), mul(net, th, th)])), inner);
      return op(net, 'Add', [a, b]);
    },
  };
}
