import type { IrGraph, IrNode } from '../../../ir/ir.js';
import type { Layout, Val } from '../layout.js';
import { canBeNchw } from '../layout.js';
import type { NetEmitter } from '../net.js';
import { broadcastShape, mask, unbroadcast, type Rule, type Rules } from './common.js';

/*
 * Elementwise ops of two inputs with numpy broadcasting. Either input may be a constant (no
 * batch, right-aligned). The gradient of a value input that was broadcast is summed back down
 * to its own shape. TF's tie rules: Maximum sends dy to a where a ≥ b, Minimum where a ≤ b.
 */

type Binary = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Maximum' | 'Minimum' | 'SquaredDifference' | 'Pow';

interface Operand {
  /** ONNX name in the op's layout. */
  name: string;
  shape: number[];
  /** The forward value, for value inputs. */
  value: Val | null;
}

function constShape(ir: IrGraph, name: string): number[] | null {
  return ir.consts.get(name)?.shape ?? null;
}

function checkBinary(node: IrNode, ir: IrGraph): string | null {
  const consts = node.inputs.map((i) => constShape(ir, i));
  if (consts.every((c) => c !== null)) return `${node.op} "${node.name}" of two constants (fold it on import)`;
  const valueRank = Math.max(...node.inputs.map((i, k) => (consts[k] ? -1 : (ir.shapes.get(i)?.length ?? 0))));
  for (let k = 0; k < node.inputs.length; k++) {
    const s = consts[k];
    if (s && s.length > valueRank) return `${node.op} "${node.name}": the constant has more axes than the value it meets`;
    if (!s && (ir.shapes.get(node.inputs[k])?.length ?? 0) !== valueRank) return `${node.op} "${node.name}": values of different rank`;
  }
  return null;
}

/** Both operands in one layout: NCHW when an image value already is, else the IR's. */
function operands(net: NetEmitter, node: IrNode): { ops: Operand[]; layout: Layout; shape: number[] } {
  const vals = node.inputs.map((i) => (net.isConst(i) ? null : net.val(i)));
  const shapes = node.inputs.map((i, k) => vals[k]?.shape ?? net.constant(i).shape);
  const shape = broadcastShape(shapes[0], shapes[1]);
  const rank = shape.length;
  let layout: Layout = vals.some((v) => v?.layout === 'nchw') && canBeNchw(shape) ? 'nchw' : 'ir';
  if (layout === 'nchw' && node.inputs.some((i, k) => !vals[k] && net.constFor(i, rank, 'nchw') === null)) layout = 'ir';
  const ops = node.inputs.map((i, k): Operand => {
    const v = vals[k];
    if (v) return { name: net.as(v, layout).name, shape: v.shape, value: v };
    return { name: net.constFor(i, rank, layout)!, shape: shapes[k], value: null };
  });
  return { ops, layout, shape };
}

/** A binary rule from the forward op and the two partial gradients (full output shape). */
function binary(forward: (net: NetEmitter, a: string, b: string) => string, grads: (net: NetEmitter, c: { a: string; b: string; y: string; dy: string }) => [() => string, () => string]): Rule<Binary> {
  return {
    check: checkBinary,
    forward(node, net) {
      const { ops, layout, shape } = operands(net, node);
      return { name: forward(net, ops[0].name, ops[1].name), shape, layout };
    },
    backward(node, net, dy) {
      const { ops, layout, shape } = operands(net, node);
      const y = net.as(net.val(node.name), layout).name;
      const partials = grads(net, { a: ops[0].name, b: ops[1].name, y, dy: net.as(dy, layout).name });
      return ops.map((o, k) => (o.value ? { name: unbroadcast(net, partials[k](), shape, o.shape, layout), shape: o.shape, layout } : null));
    },
  };
}

const op = (net: NetEmitter, type: string, inputs: string[]) => net.b.op1(type, inputs);

/** The rules of the two-input elementwise ops. */
export const BINARY_RULES: Rules<Binary> = {
  Add: binary((net, a, b) => op(net, 'Add', [a, b]), (_net, { dy }) => [() => dy, () => dy]),
  Sub: binary((net, a, b) => op(net, 'Sub', [a, b]), (net, { dy }) => [() => dy, () => op(net, 'Neg', [dy])]),
  Mul: binary((net, a, b) => op(net, 'Mul', [a, b]), (net, { a, b, dy }) => [() => op(net, 'Mul', [dy, b]), () => op(net, 'Mul', [dy, a])]),
  Div: binary(
    (net, a, b) => op(net, 'Div', [a, b]),
    (net, { b, y, dy }) => [() => op(net, 'Div', [dy, b]), () => op(net, 'Neg', [op(net, 'Div', [op(net, 'Mul', [dy, y]), b])])],
  ),
  Maximum: binary(
    (net, a, b) => op(net, 'Max', [a, b]),
    (net, { a, b, dy }) => [() => op(net, 'Mul', [dy, mask(net, op(net, 'GreaterOrEqual', [a, b]))]), () => op(net, 'Mul', [dy, mask(net, op(net, 'Less', [a, b]))])],
  ),
  Minimum: binary(
    (net, a, b) => op(net, 'Min', [a, b]),
    (net, { a, b, dy }) => [() => op(net, 'Mul', [dy, mask(net, op(net, 'LessOrEqual', [a, b]))]), () => op(net, 'Mul', [dy, mask(net, op(net, 'Greater', [a, b]))])],
  ),
  // TF: ∂/∂a = b·a^(b−1); ∂/∂b = y·log(a) where a > 0, else 0.
  Pow: binary(
    (net, a, b) => op(net, 'Pow', [a, b]),
    (net, { a, b, y, dy }) => [
      () => op(net, 'Mul', [dy, op(net, 'Mul', [b, op(net, 'Pow', [a, op(net, 'Sub', [b, net.b.scalar(1)])])])]),
      () => {
        const positive = op(net, 'Greater', [a, net.b.scalar(0)]);
        const safe = net.b.op1('Where', [positive, a, net.b.scalar(1)]);
        return op(net, 'Mul', [dy, op(net, 'Mul', [y, net.b.op1('Where', [positive, op(net, 'Log', [safe]), net.b.scalar(0)])])]);
      },
    ],
  ),
  SquaredDifference: binary(
    (net, a, b) => {
      const d = op(net, 'Sub', [a, b]);
      return op(net, 'Mul', [d, d]);
    },
    (net, { a, b, dy }) => {
      const ga = () => op(net, 'Mul', [dy, op(net, 'Mul', [op(net, 'Sub', [a, b]), net.b.scalar(2)])]);
      return [ga, () => op(net, 'Neg', [ga()])];
    },
  ),
};
