/**
 * State of one graph import: what every graph value became (a constant, or an IR value with the
 * shape TF.js recorded for it at batch 1), and the helpers op translations share.
 *
 * Batch handling: the IR computes per example what the graph computes for a batch of one. A
 * value recorded as [1, …rest] is stored with per-example shape `rest` (its axis 0 is the batch);
 * any other recorded shape is stored whole (its rows are the batch rows of the IR). Both readings
 * give the same per-example function, so every op is translated either directly (when its axis 0
 * is the batch) or on the "whole" reading, and the result is reshaped to the canonical form.
 */
import type { IrBuilder } from './builder.js';
import type { IrOp } from './ir.js';
import { IrError } from './errors.js';
import type { GraphNode } from './graph-nodes.js';

/** A graph value: a constant (folded at import) or an IR value. */
export type GraphValue =
  | { kind: 'const'; shape: number[]; data: Float32Array | Int32Array | Uint8Array; dtype: string }
  | { kind: 'ir'; ir: string; recorded: number[] };

/** Per-example shape of a value TF.js recorded at batch 1. @example canonical([1, 8, 8, 3]) // [8, 8, 3] */
export function canonical(recorded: number[]): number[] {
  return recorded.length >= 1 && recorded[0] === 1 ? recorded.slice(1) : recorded;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The import state and its helpers.
 *
 * @example
 * const ctx = new GraphContext(builder, layerOf);
 */
export class GraphContext {
  readonly values = new Map<string, GraphValue>();
  /** Recorded shapes (batch 1) of every value the probe saw. */
  readonly recorded = new Map<string, number[]>();
  /** TF.js dtypes of the values the probe saw (graph inputs count as float32: the IR's inputs are real-valued). */
  readonly dtypes = new Map<string, string>();
  node!: GraphNode;

  constructor(readonly b: IrBuilder, private readonly layerOf: (node: string) => string) {}

  get(ref: string): GraphValue {
    const v = this.values.get(ref);
    if (!v) throw new IrError(`node "${this.node.name}" reads "${ref}", which was not computed`);
    return v;
  }

  isConst(ref: string): boolean {
    return this.get(ref).kind === 'const';
  }

  /** A constant input's values (node attributes passed as tensors: axes, shapes, paddings). */
  constant(ref: string): { shape: number[]; data: ArrayLike<number> } {
    const v = this.get(ref);
    if (v.kind !== 'const') throw new IrError(`${this.node.op} "${this.node.name}" needs a constant for its input "${ref}", but it depends on the model input`);
    return v;
  }

  ints(ref: string): number[] {
    return Array.from(this.constant(ref).data, Number);
  }

  /** Recorded (batch 1) shape of the node's output k. */
  out(k = 0): number[] {
    const r = this.recorded.get(k === 0 ? this.node.name : `${this.node.name}:${k}`);
    if (!r) throw new IrError(`the shape of "${this.node.name}" is unknown`);
    return r;
  }

  /** Is this value's axis 0 the batch (recorded [1, …])? */
  lead(ref: string): boolean {
    const v = this.get(ref);
    return v.kind === 'ir' && v.recorded.length >= 1 && v.recorded[0] === 1;
  }

  /** The IR value of a non-constant input. */
  value(ref: string): string {
    const v = this.get(ref);
    if (v.kind !== 'ir') throw new IrError(`node "${this.node.name}": input "${ref}" is a constant where a value was expected`);
    return v.ir;
  }

  /**
   * An input as an IR operand of an elementwise op whose output TF.js recorded as `outRecorded`:
   * a constant loses the leading 1 that lines up with the batch, and leading 1s beyond the
   * output's per-example rank.
   */
  operand(ref: string, outRecorded: number[]): string {
    const v = this.get(ref);
    if (v.kind === 'ir') return v.ir;
    let shape = v.shape;
    if (outRecorded[0] === 1 && shape.length === outRecorded.length) shape = shape.slice(1);
    const rank = canonical(outRecorded).length;
    while (shape.length > rank && shape[0] === 1) shape = shape.slice(1);
    return this.b.constant(`${this.node.name}/${ref.split('/').pop()}`, shape, Float32Array.from(v.data));
  }

  /** Add a constant from numbers. */
  newConst(suffix: string, shape: number[], data: ArrayLike<number>): string {
    return this.b.constant(`${this.node.name}/${suffix}`, shape, Float32Array.from(data));
  }

  /** Emit an IR node of the current graph node; `suffix` names intermediate nodes. */
  emit(op: IrOp, inputs: string[], suffix?: string): string {
    return this.b.node(op, inputs, this.layerOf(this.node.name), suffix ? `${this.node.name}/${suffix}` : this.node.name);
  }

  /** An IR value whose per-example shape is the whole recorded shape (axis 0 becomes a per-example axis). */
  whole(ref: string): string {
    const v = this.get(ref);
    if (v.kind !== 'ir') throw new IrError(`node "${this.node.name}": input "${ref}" is constant`);
    const shape = this.b.shapeOf(v.ir);
    return sameShape(shape, v.recorded) ? v.ir : this.emit({ op: 'Reshape', shape: v.recorded }, [v.ir], `whole_${ref.split('/').pop()}`);
  }

  /** Record output k of the current node as IR value `ir`, reshaped to its canonical per-example shape when needed. */
  set(ir: string, k = 0): void {
    const rec = this.out(k);
    const want = canonical(rec);
    const have = this.b.shapeOf(ir);
    let v = ir;
    if (!sameShape(have, want)) {
      const n = (s: number[]) => s.reduce((a, d) => a * d, 1);
      if (n(have) !== n(want)) throw new IrError(`${this.node.op} "${this.node.name}" gives [${have.join(', ')}] in the IR but TF.js records [${rec.join(', ')}]`);
      v = this.emit({ op: 'Reshape', shape: want }, [ir], k ? `fit_${k}` : 'fit');
    }
    // The graph node's own name must address its value (`neuron:NODE:I`).
    const name = k === 0 ? this.node.name : `${this.node.name}:${k}`;
    if (v !== name && !this.b.isUsed(name)) v = this.b.node({ op: 'Identity' }, [v], this.layerOf(this.node.name), name);
    this.values.set(k === 0 ? this.node.name : `${this.node.name}:${k}`, { kind: 'ir', ir: v, recorded: rec });
  }
}
