/**
 * Reading a TF.js graph model's `modelTopology.node` list: attributes (base64 strings, int
 * strings, lists, fused-op names), input references (`name`, `name:1`, `^control`) and a
 * topological order.
 */
import { IrError } from './errors.js';

/** One node as the converter wrote it. */
export interface GraphNodeJson {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

/** An attribute value as JSON (TF's AttrValue proto). */
export interface AttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: Array<string | number>; f?: number[]; b?: boolean[]; type?: string[] };
  shape?: { dim?: Array<{ size?: string | number }>; unknownRank?: boolean };
  tensor?: unknown;
}

function b64(s: string): string {
  if (typeof atob === 'function') {
    const bin = atob(s);
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  return Buffer.from(s, 'base64').toString('utf8');
}

/**
 * A graph node with typed attribute readers.
 *
 * @example
 * const n = new GraphNode({ name: 'c', op: 'Conv2D', attr: { padding: { s: 'U0FNRQ==' } } });
 * n.str('padding') // 'SAME'
 */
export class GraphNode {
  readonly name: string;
  readonly op: string;
  /** Data inputs as value names (`node` or `node:k`); control inputs (`^x`) are dropped. */
  readonly inputs: string[];
  private readonly attr: Record<string, AttrValue>;

  constructor(json: GraphNodeJson) {
    this.name = json.name;
    this.op = json.op;
    this.inputs = (json.input ?? []).filter((i) => !i.startsWith('^')).map(valueName);
    this.attr = json.attr ?? {};
  }

  has(key: string): boolean {
    return key in this.attr;
  }
  str(key: string, dflt = ''): string {
    const s = this.attr[key]?.s;
    return s === undefined ? dflt : b64(s);
  }
  int(key: string, dflt = 0): number {
    const i = this.attr[key]?.i;
    return i === undefined ? dflt : Number(i);
  }
  float(key: string, dflt = 0): number {
    return this.attr[key]?.f ?? dflt;
  }
  bool(key: string, dflt = false): boolean {
    return this.attr[key]?.b ?? dflt;
  }
  ints(key: string): number[] {
    return (this.attr[key]?.list?.i ?? []).map(Number);
  }
  strs(key: string): string[] {
    return (this.attr[key]?.list?.s ?? []).map(b64);
  }
  type(key: string): string | undefined {
    return this.attr[key]?.type;
  }
  /** A `shape` attribute's dimensions (−1 for unknown), or null when absent or of unknown rank. */
  shape(key: string): number[] | null {
    const sh = this.attr[key]?.shape;
    if (!sh || sh.unknownRank) return null;
    return (sh.dim ?? []).map((d) => Number(d.size ?? -1));
  }
}

/** `x:0` → `x`; `x:2` stays; `^x` is a control input. @example valueName('conv:0') // 'conv' */
export function valueName(ref: string): string {
  return ref.replace(/:0$/, '');
}

/** The node a value name belongs to (`split:1` → `split`). @example nodeOf('split:1') // 'split' */
export function nodeOf(value: string): string {
  const m = /^(.*):(\d+)$/.exec(value);
  return m ? m[1] : value;
}

/**
 * The nodes in an order where every node comes after its data inputs (the converter's order is
 * not always topological). Throws on a cycle outside control flow (NextIteration edges are
 * loop back-edges and are not followed).
 *
 * @example
 * const order = topoSort(nodes);
 */
export function topoSort(nodes: GraphNode[]): GraphNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 1 | 2>();
  const out: GraphNode[] = [];
  const visit = (start: GraphNode) => {
    const stack: Array<{ node: GraphNode; i: number }> = [{ node: start, i: 0 }];
    state.set(start.name, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = top.node.op === 'Merge' ? top.node.inputs.filter((d) => byName.get(nodeOf(d))?.op !== 'NextIteration') : top.node.inputs;
      if (top.i < deps.length) {
        const dep = byName.get(nodeOf(deps[top.i++]));
        if (!dep || state.get(dep.name) === 2) continue;
        if (state.get(dep.name) === 1) throw new IrError(`the graph has a cycle through "${dep.name}"`);
        state.set(dep.name, 1);
        stack.push({ node: dep, i: 0 });
      } else {
        state.set(top.node.name, 2);
        out.push(top.node);
        stack.pop();
      }
    }
  };
  for (const n of nodes) if (!state.has(n.name)) visit(n);
  return out;
}
