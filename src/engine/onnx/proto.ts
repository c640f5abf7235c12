/*
 * A minimal writer for the ONNX protobuf messages actmax emits (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto). Field numbers follow onnx/onnx.proto (IR 8).
 * Only the encoding side is needed: actmax generates graphs, it never reads them.
 */

/** ONNX element types used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
  varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (n >= 0x80n) {
      out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(Number(n));
    this.push(Uint8Array.from(out));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  float(field: number, f: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    this.push(b);
  }
  message(field: number, w: Writer): void {
    this.bytes(field, w.finish());
  }
  packedInts(field: number, vs: ArrayLike<number>): void {
    const inner = new Writer();
    for (let i = 0; i < vs.length; i++) inner.varint(vs[i]);
    this.bytes(field, inner.finish());
  }
  packedFloats(field: number, vs: ArrayLike<number>): void {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat32(i * 4, vs[i], true);
    this.bytes(field, b);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A constant tensor (initializer). */
export interface TensorDef {
  name: string;
  dims: number[];
  dataType: number;
  /** float32, float64 or int32 data, or int64 data given as numbers. */
  data: Float32Array | Float64Array | Int32Array | number[];
}

/** An attribute value: number (int unless `float` is set), number[] (ints), float[] via `floats`, string, tensor, or a subgraph (Loop bodies). */
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { tensor: TensorDef } | { graph: GraphDef };

/** A subgraph (a Loop's body): it may read the enclosing graph's values by name. */
export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  inputs: ValueDef[];
  outputs: ValueDef[];
  /** Constants only this subgraph reads (onnxruntime's layout optimisations see only a graph's own). */
  initializers?: TensorDef[];
}

/** One graph node. */
export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
}

/** A graph input or output: name, element type and shape (a string is a symbolic dimension). */
export interface ValueDef {
  name: string;
  dataType: number;
  dims: Array<number | string>;
}

/** A whole model. */
export interface ModelDef {
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueDef[];
  outputs: ValueDef[];
  opset: number;
  name?: string;
}

function tensorProto(t: TensorDef): Writer {
  const w = new Writer();
  w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  if (t.dataType === DataType.FLOAT) {
    const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    w.bytes(9, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  } else if (t.dataType === DataType.INT32) {
    const f = t.data instanceof Int32Array ? t.data : Int32Array.from(t.data);
    w.bytes(9, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  } else if (t.dataType === DataType.DOUBLE) {
    const f = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data);
    w.bytes(9, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  } else if (t.dataType === DataType.INT64) {
    const b = new Uint8Array(t.data.length * 8);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < t.data.length; i++) dv.setBigInt64(i * 8, BigInt(t.data[i]), true);
    w.bytes(9, b);
  } else {
    throw new Error(`tensor ${t.name}: data type ${t.dataType} is not written by this encoder`);
  }
  return w;
}

function attributeProto(name: string, v: AttrValue): Writer {
  const w = new Writer();
  w.string(1, name);
  if (typeof v === 'number') {
    w.int(3, v);
    w.int(20, 2);
  } else if (typeof v === 'string') {
    w.bytes(4, new TextEncoder().encode(v));
    w.int(20, 3);
  } else if (Array.isArray(v)) {
    w.packedInts(8, v);
    w.int(20, 7);
  } else if ('float' in v) {
    w.float(2, v.float);
    w.int(20, 1);
  } else if ('floats' in v) {
    w.packedFloats(7, v.floats);
    w.int(20, 6);
  } else if ('graph' in v) {
    w.message(6, graphProto(v.graph.name, v.graph.nodes, v.graph.initializers ?? [], v.graph.inputs, v.graph.outputs));
    w.int(20, 5);
  } else {
    w.message(5, tensorProto(v.tensor));
    w.int(20, 4);
  }
  return w;
}

function graphProto(name: string, nodes: NodeDef[], initializers: TensorDef[], inputs: ValueDef[], outputs: ValueDef[]): Writer {
  const graph = new Writer();
  nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    node.string(3, n.name ?? `${name}_${n.op}_${i}`);
    node.string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, attributeProto(k, v));
    graph.message(1, node);
  });
  graph.string(2, name);
  for (const t of initializers) graph.message(5, tensorProto(t));
  for (const v of inputs) graph.message(11, valueInfo(v));
  for (const v of outputs) graph.message(12, valueInfo(v));
  return graph;
}

function valueInfo(v: ValueDef): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Writer();
  tensorType.int(1, v.dataType);
  tensorType.message(2, shape);
  const type = new Writer();
  type.message(1, tensorType);
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/**
 * Serialise a model to ONNX protobuf bytes, ready for `InferenceSession.create(bytes)`.
 *
 * @example
 * const bytes = encodeModel({ opset: 17, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], initializers: [],
 *   inputs: [{ name: 'x', dataType: DataType.FLOAT, dims: ['N', 4] }], outputs: [{ name: 'y', dataType: DataType.FLOAT, dims: ['N', 4] }] });
 */
export function encodeModel(m: ModelDef): Uint8Array {
  const graph = graphProto(m.name ?? 'actmax', m.nodes, m.initializers, m.inputs, m.outputs);
  const opset = new Writer();
  opset.string(1, '');
  opset.int(2, m.opset);
  const model = new Writer();
  model.int(1, 8);
  model.string(2, 'actmax');
  model.message(7, graph);
  model.message(8, opset);
  return model.finish();
}
