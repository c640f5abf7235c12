import type { IrGraph, IrNode, IrOpName } from '../../../ir/ir.js';
import { DataType } from '../proto.js';
import { onnxAxis, type Layout, type Val } from '../layout.js';
import type { NetEmitter } from '../net.js';

/** The IR node of one op kind. */
export type NodeOf<K extends IrOpName> = IrNode & { op: K };

/**
 * What the compiler knows about one IR op: whether a node can be compiled (`check`: null, or
 * the reason it cannot — `inspect` and the result's `engine` field show it), its forward ONNX
 * ops, and its vector–Jacobian product for each input (null for constants).
 */
export interface Rule<K extends IrOpName> {
  check?(node: NodeOf<K>, ir: IrGraph): string | null;
  forward(node: NodeOf<K>, net: NetEmitter): Val;
  backward(node: NodeOf<K>, net: NetEmitter, dy: Val): Array<Val | null>;
}

/** One rule per op of a family. */
export type Rules<K extends IrOpName> = { [P in K]: Rule<P> };

/** The value of a node's input `k` (an error for a constant: the importer puts values there). */
export function valueInput(net: NetEmitter, node: IrNode, k = 0): Val {
  const name = node.inputs[k];
  if (net.isConst(name)) throw new Error(`${node.op} "${node.name}": input ${k} must be a value, not the constant "${name}"`);
  return net.val(name);
}

/** A value like `like` (same shape and layout) named `name`. */
export function like(v: Val, name: string): Val {
  return { name, shape: v.shape, layout: v.layout };
}

/** Cast a boolean tensor to 0/1 float. */
export function mask(net: NetEmitter, cond: string): string {
  return net.b.op1('Cast', [cond], { to: DataType.FLOAT });
}

/** ONNX axes (batch = 0) of IR axes of a value in `layout`. */
export function axesIn(axes: number[], layout: Layout): number[] {
  return axes.map((a) => onnxAxis(a, layout));
}

/** Sum `g` (shape `from`, per example) down to the broadcast operand shape `to` (same rank, same layout). */
export function unbroadcast(net: NetEmitter, g: string, from: number[], to: number[], layout: Layout): string {
  if (from.length !== to.length) throw new Error(`cannot reduce a gradient of rank ${from.length} to rank ${to.length}`);
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) if (to[i] === 1 && from[i] !== 1) axes.push(i + 1);
  if (!axes.length) return g;
  return net.b.op1('ReduceSum', [g, net.b.i64(axesIn(axes, layout))], { keepdims: 1 });
}

/** Numpy broadcast of two per-example shapes (right-aligned). */
export function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Product of a shape. */
export const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** An IR axis with negative values counted from the end (the batch axis is 0): `rank` is the per-example rank. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank + 1 : axis;
}
