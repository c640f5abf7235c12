import { DataType, type AttrValue, type ModelDef, type NodeDef, type TensorDef, type ValueDef } from './proto.js';

/*
 * The ONNX graph under construction: nodes, constants (initializers) and fresh names. Every
 * emitter (network ops, their gradients, the image pipeline, objectives, optimiser) writes
 * through one builder, so a whole optimisation step ends up in one graph.
 */

/** ONNX opset the generated graphs declare. */
export const OPSET = 17;

/** A graph being built: append ops, add constants, then `model(...)` to get a {@link ModelDef}. */
export class OnnxBuilder {
  readonly nodes: NodeDef[] = [];
  readonly inits: TensorDef[];
  private readonly shared: { counter: number; scalars: Map<number, string>; i64s: Map<string, string> };

  constructor(parent?: OnnxBuilder) {
    this.inits = parent ? parent.inits : [];
    this.shared = parent ? parent.shared : { counter: 0, scalars: new Map(), i64s: new Map() };
  }

  /** A builder for a subgraph (a Loop body): its own nodes, the same constants and name space. @example const body = b.body() */
  body(): OnnxBuilder {
    return new OnnxBuilder(this);
  }

  /** A name not used before, readable in a dumped graph. @example b.fresh('relu') // 'relu_7' */
  fresh(base: string): string {
    return `${base}_${this.shared.counter++}`;
  }

  /** A float32 constant. @example const w = b.f32('kernel', data, [784, 128]) */
  f32(base: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(base);
    this.inits.push({ name, dims, dataType: DataType.FLOAT, data });
    return name;
  }

  /** An int64 constant (shapes, axes, indices), shared when the same list is asked for again. @example b.i64([0, 2]) */
  i64(data: number[], dims: number[] = [data.length]): string {
    const key = `${dims.join(',')}:${data.join(',')}`;
    let name = this.shared.i64s.get(key);
    if (!name) {
      name = this.fresh('i64');
      this.inits.push({ name, dims, dataType: DataType.INT64, data });
      this.shared.i64s.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant, shared. @example b.scalar(0.5) */
  scalar(v: number): string {
    let name = this.shared.scalars.get(v);
    if (!name) {
      name = this.f32('c', Float32Array.of(v), []);
      this.shared.scalars.set(v, name);
    }
    return name;
  }

  /** Append a node with `nOut` fresh outputs (or the given output names). @example const [y, idx] = b.op('MaxPool', [x], { kernel_shape: [2, 2] }, 2) */
  op(type: string, inputs: string[], attrs?: Record<string, AttrValue>, nOut = 1, outputs?: string[]): string[] {
    const outs = outputs ?? Array.from({ length: nOut }, () => this.fresh(type.toLowerCase()));
    this.nodes.push({ op: type, inputs, outputs: outs, attrs });
    return outs;
  }

  /** Append a node with one output. @example const y = b.op1('Relu', [x]) */
  op1(type: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    return this.op(type, inputs, attrs)[0];
  }

  /** Append a node writing a fixed output name (graph outputs). @example b.named('Identity', [v], 'value') */
  named(type: string, inputs: string[], output: string, attrs?: Record<string, AttrValue>): string {
    this.op(type, inputs, attrs, 1, [output]);
    return output;
  }

  /**
   * Sum of several tensors as a chain of Adds (onnxruntime's Sum of three full-size tensors takes
   * 1.5× two Adds); a single one is returned as is.
   *
   * @example
   * b.sum([a, b, c]) // Add(Add(a, b), c)
   */
  sum(terms: string[]): string {
    if (terms.length === 0) throw new Error('sum of no terms');
    return terms.slice(1).reduce((acc, t) => this.op1('Add', [acc, t]), terms[0]);
  }

  /**
   * The finished model: only the nodes the outputs need (dead forward values are dropped), and
   * only the constants those nodes read.
   *
   * @example
   * const def = b.model([{ name: 'x', dataType: DataType.FLOAT, dims: [4, 784] }], [{ name: 'y', dataType: DataType.FLOAT, dims: [4, 10] }]);
   */
  model(inputs: ValueDef[], outputs: ValueDef[]): ModelDef {
    const pruned = prune(this.nodes, outputs.map((o) => o.name));
    const used = new Set(readNames(pruned));
    const { nodes, moved } = ownConstants(pruned, this.inits.filter((t) => used.has(t.name)));
    return { opset: OPSET, nodes, initializers: this.inits.filter((t) => used.has(t.name) && !moved.has(t.name)), inputs, outputs };
  }
}

/** Every name the nodes read, inside their subgraphs too. */
function readNames(nodes: NodeDef[]): string[] {
  return nodes.flatMap((n) => [...n.inputs, ...Object.values(n.attrs ?? {}).flatMap((a) => (typeof a === 'object' && a !== null && 'graph' in a ? readNames(a.graph.nodes) : []))]);
}

/**
 * Convolution weights and biases read only inside one node's subgraph (a Loop body) become that subgraph's
 * own initializers: onnxruntime's NCHWc layout transformer converts a Conv only when its weights
 * are initializers of the Conv's own graph. (Only conv weights: dense weights moved the same way
 * made the MLP's fused loop slower.)
 */
function ownConstants(nodes: NodeDef[], inits: TensorDef[]): { nodes: NodeDef[]; moved: Set<string> } {
  const outside = new Set(nodes.flatMap((n) => n.inputs));
  const readers = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const a of Object.values(n.attrs ?? {})) if (typeof a === 'object' && a !== null && 'graph' in a) for (const name of new Set(readNames(a.graph.nodes))) readers.set(name, readers.has(name) ? -1 : i);
  });
  const convWeights = new Set(nodes.flatMap((n) => Object.values(n.attrs ?? {}).flatMap((a) => (typeof a === 'object' && a !== null && 'graph' in a ? a.graph.nodes.filter((m) => m.op === 'Conv').flatMap((m) => m.inputs.slice(1)) : []))));
  const moved = new Set<string>();
  const out = nodes.map((n, i) => {
    if (!n.attrs) return n;
    const mine = inits.filter((t) => convWeights.has(t.name) && readers.get(t.name) === i && !outside.has(t.name));
    if (!mine.length) return n;
    mine.forEach((t) => moved.add(t.name));
    const attrs = Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, typeof a === 'object' && a !== null && 'graph' in a ? { graph: { ...a.graph, initializers: [...(a.graph.initializers ?? []), ...mine] } } : a]));
    return { ...n, attrs };
  });
  return { nodes: out, moved };
}

/** Nodes needed to compute `wanted`, in their original order. @example prune(nodes, ['value']) */
export function prune(nodes: NodeDef[], wanted: string[]): NodeDef[] {
  const producer = new Map<string, NodeDef>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<NodeDef>();
  const stack = [...wanted];
  while (stack.length) {
    const n = producer.get(stack.pop()!);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    stack.push(...readNames([n]));
  }
  return nodes.filter((n) => keep.has(n));
}

/** Float tensor description of a graph input/output. @example floatValue('x', [4, 784]) */
export function floatValue(name: string, dims: Array<number | string>): ValueDef {
  return { name, dataType: DataType.FLOAT, dims };
}
