/**
 * Assembles an {@link IrGraph} node by node: unique names, constants, per-example shapes
 * inferred for every node (and checked when the source states them).
 */
import type { IrConst, IrGraph, IrInput, IrLayer, IrNode, IrOp, IrOutput } from './ir.js';
import { IrError } from './errors.js';
import { inferShape } from './shapes.js';

/**
 * Mutable graph under construction.
 *
 * @example
 * const b = new IrBuilder();
 * const x = b.input('x', [4]);
 * const w = b.constant('w', [4, 2], new Float32Array(8));
 * const y = b.node({ op: 'MatMul' }, [x, w], 'dense');
 * b.layer({ name: 'dense', kind: 'Dense', output: y, pre: y });
 * b.output('dense', y);
 * const ir = b.finish('free');
 */
export class IrBuilder {
  readonly nodes: IrNode[] = [];
  readonly consts = new Map<string, IrConst>();
  readonly shapes = new Map<string, number[]>();
  readonly inputs: IrInput[] = [];
  readonly outputs: IrOutput[] = [];
  readonly layers: IrLayer[] = [];
  readonly dynamic = new Map<string, string>();
  private readonly used = new Set<string>();

  /** Is `name` taken by an input, node or constant? */
  isUsed(name: string): boolean {
    return this.used.has(name);
  }

  /** A name not used yet: `base`, else `base_1`, `base_2`, … */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  input(name: string, shape: number[]): string {
    if (this.used.has(name)) throw new IrError(`two values are named "${name}"`);
    this.used.add(name);
    this.inputs.push({ name, shape: shape.slice() });
    this.shapes.set(name, shape.slice());
    return name;
  }

  /** Add a constant (name made unique). */
  constant(base: string, shape: number[], data: Float32Array): string {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new IrError(`constant "${base}" has ${data.length} values for shape [${shape.join(', ')}]`);
    const name = this.fresh(base);
    this.consts.set(name, { shape: shape.slice(), data });
    return name;
  }

  /** Shape of a value or constant. */
  shapeOf(name: string): number[] {
    const s = this.shapes.get(name) ?? this.consts.get(name)?.shape;
    if (!s) throw new IrError(`value "${name}" is not defined before it is used`);
    return s;
  }

  /**
   * Append a node; returns its (unique) name. `expect` is the shape the source says the node has;
   * a different inferred shape is an importer bug and throws.
   */
  node(op: IrOp, inputs: string[], layer: string, name?: string, expect?: number[]): string {
    const shapes = inputs.map((i) => this.shapeOf(i));
    if (inputs.length === 0 || inputs.every((i) => this.consts.has(i))) throw new IrError(`node ${name ?? op.op} of layer "${layer}" has no non-constant input`);
    const shape = inferShape(op, shapes);
    if (expect && (expect.length !== shape.length || expect.some((d, i) => d !== shape[i]))) {
      throw new IrError(`${op.op} of "${layer}" gives shape [${shape.join(', ')}] but the model says [${expect.join(', ')}]`);
    }
    const unique = name !== undefined && !this.used.has(name) ? (this.used.add(name), name) : this.fresh(name ?? `${layer}/${op.op}`);
    this.nodes.push({ ...op, name: unique, inputs, layer } as IrNode);
    this.shapes.set(unique, shape);
    return unique;
  }

  layer(l: IrLayer): void {
    this.layers.push(l);
  }

  output(name: string, value: string): void {
    this.outputs.push({ name, value });
  }

  finish(batch: IrGraph['batch']): IrGraph {
    return { inputs: this.inputs, outputs: this.outputs, nodes: this.nodes, consts: this.consts, shapes: this.shapes, layers: this.layers, batch, dynamic: this.dynamic };
  }
}
