/**
 * Reading values out of an {@link IrGraph}: which node makes a value, the value before an
 * activation, and what a name in an objective (`neuron:NAME:I`) refers to.
 */
import type { IrGraph, IrNode, IrOpName } from './ir.js';

/** Ops that are an activation: `pre` of their value is their input. */
export const ACTIVATION_OPS: ReadonlySet<IrOpName> = new Set<IrOpName>([
  'Relu', 'Relu6', 'LeakyRelu', 'Prelu', 'Elu', 'Selu', 'Sigmoid', 'HardSigmoid', 'Tanh', 'Softplus',
  'Softsign', 'Swish', 'Mish', 'HardSwish', 'Gelu', 'Softmax', 'LogSoftmax', 'Clip', 'ThresholdedRelu',
]);

const producers = new WeakMap<IrGraph, Map<string, IrNode>>();

/** The node that computes `value` (undefined for inputs and constants). @example producer(ir, 'dense/Softmax')?.op // 'Softmax' */
export function producer(ir: IrGraph, value: string): IrNode | undefined {
  let map = producers.get(ir);
  if (!map) {
    map = new Map(ir.nodes.map((n) => [n.name, n]));
    producers.set(ir, map);
  }
  return map.get(value);
}

/** `value` with Identity nodes skipped. */
function throughIdentity(ir: IrGraph, value: string): string {
  let v = value;
  for (let n = producer(ir, v); n?.op === 'Identity'; n = producer(ir, v)) v = n.inputs[0];
  return v;
}

/**
 * The value before the activation that computes `value` (Identity nodes skipped): the input of a
 * Softmax/Sigmoid/Relu/… node, else `value` itself.
 *
 * @example
 * preValue(ir, 'Identity') // 'StatefulPartitionedCall/model/dense/BiasAdd' when Identity ← Softmax ← BiasAdd
 */
export function preValue(ir: IrGraph, value: string): string {
  const v = throughIdentity(ir, value);
  const n = producer(ir, v);
  return n && ACTIVATION_OPS.has(n.op) ? n.inputs[0] : value;
}

/** The final softmax/sigmoid that computes `value` (Identity nodes skipped), if any. @example finalActivation(ir, ir.outputs[0].value) // 'softmax' */
export function finalActivation(ir: IrGraph, value: string): 'softmax' | 'sigmoid' | null {
  const n = producer(ir, throughIdentity(ir, value));
  return n?.op === 'Softmax' ? 'softmax' : n?.op === 'Sigmoid' ? 'sigmoid' : null;
}

/** What a name in an objective refers to. */
export type ResolvedValue =
  | { kind: 'value'; value: string; shape: number[] }
  | { kind: 'dynamic'; op: string }
  | { kind: 'unknown' };

/**
 * Resolve a layer name, node name or input name (`:0` suffix allowed) to a value: a layer gives its
 * `output` (or `pre`); a node gives its value (with `pre`, the input of its activation).
 *
 * @example
 * resolveValue(ir, 'dense_1', true) // { kind: 'value', value: 'dense_1/MatMul', shape: [10] }
 */
export function resolveValue(ir: IrGraph, name: string, pre: boolean): ResolvedValue {
  const layer = ir.layers.find((l) => l.name === name);
  let value: string | undefined;
  if (layer) value = pre ? layer.pre : layer.output;
  else {
    const bare = ir.shapes.has(name) || ir.dynamic.has(name) ? name : name.replace(/:0$/, '');
    if (ir.dynamic.has(bare)) return { kind: 'dynamic', op: ir.dynamic.get(bare)! };
    if (!ir.shapes.has(bare)) return { kind: 'unknown' };
    value = pre ? preValue(ir, bare) : bare;
  }
  return { kind: 'value', value, shape: ir.shapes.get(value)! };
}
