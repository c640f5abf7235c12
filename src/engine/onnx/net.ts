import type { IrConst, IrGraph, IrNode } from '../../ir/ir.js';
import type { OnnxBuilder } from './builder.js';
import { canBeNchw, layoutShape, relayoutConst, TO_NCHW, TO_NHWC, type Layout, type Val } from './layout.js';
import { RULES } from './rules/index.js';

/*
 * Reverse-mode differentiation of an IR network, written out as ONNX ops. The forward pass emits
 * every node the wanted values need (one rule per op, src/engine/onnx/rules/); the backward pass
 * walks the same nodes in reverse, asks each rule for the vector–Jacobian product of its value
 * inputs and sums the contributions per value. Constants never get a gradient.
 */

/** How image values are laid out around Conv/pooling: kept NCHW between them, or transposed back after each. */
export type LayoutMode = 'propagate' | 'transposes';

/** The emission of one IR graph into a builder: values by IR name, layout conversions, constants. */
export class NetEmitter {
  /** Forward values by IR value name (inputs and node outputs). */
  readonly values = new Map<string, Val>();
  private readonly converted = new Map<string, Val>();
  /** Side results of forward ops that their backward reads (MaxPool indices), by ONNX name. */
  readonly extras = new Map<string, string>();
  /**
   * Gradients (ONNX names) already zero wherever their forward value is 0: a ReLU whose output
   * they are the gradient of passes them on without masking again (MaxPool gates at its output).
   */
  readonly vanishAtZero = new Set<string>();
  private producers: Map<string, IrNode> | null = null;

  /**
   * `constants` is shared by every emission of the same IR into one builder (one per unrolled
   * step), so weights are written once.
   */
  constructor(
    readonly b: OnnxBuilder,
    readonly ir: IrGraph,
    readonly mode: LayoutMode = 'propagate',
    private readonly constants: Map<string, string> = new Map(),
  ) {}

  /** A fresh emission of the same IR (another step, or into a Loop body's builder), sharing constants. */
  again(b: OnnxBuilder = this.b): NetEmitter {
    return new NetEmitter(b, this.ir, this.mode, this.constants);
  }

  /** The IR node whose output is this value (undefined for inputs and constants). */
  producer(name: string): IrNode | undefined {
    this.producers ??= new Map(this.ir.nodes.map((n) => [n.name, n]));
    return this.producers.get(name);
  }

  /** Is this IR name a constant? */
  isConst(name: string): boolean {
    return this.ir.consts.has(name);
  }

  /** The IR constant of that name. */
  constant(name: string): IrConst {
    const c = this.ir.consts.get(name);
    if (!c) throw new Error(`IR constant "${name}" is missing`);
    return c;
  }

  /** The forward value of an IR value name (must be emitted already). */
  val(name: string): Val {
    const v = this.values.get(name);
    if (!v) throw new Error(`IR value "${name}" has not been emitted`);
    return v;
  }

  /** The value in the wanted layout (one Transpose, remembered, when it is not there yet). */
  as(v: Val, layout: Layout): Val {
    if (v.layout === layout) return v;
    if (layout === 'nchw' && !canBeNchw(v.shape)) throw new Error(`a value of shape [${v.shape}] cannot be held NCHW`);
    const key = `${v.name}->${layout}`;
    let out = this.converted.get(key);
    if (!out) {
      out = { name: this.b.op1('Transpose', [v.name], { perm: layout === 'nchw' ? TO_NCHW : TO_NHWC }), shape: v.shape, layout };
      this.converted.set(key, out);
      // Converting back gives the original name.
      this.converted.set(`${out.name}->${v.layout}`, v);
    }
    return out;
  }

  /** Where a Conv/pool output goes: stays NCHW, or back to the IR layout at once (`transposes` mode). */
  settle(v: Val): Val {
    return this.mode === 'transposes' && v.layout === 'nchw' ? this.as(v, 'ir') : v;
  }

  /**
   * An IR constant as an ONNX initializer that broadcasts against a value of per-example rank
   * `rank` held in `layout` (or the constant as is, for the IR layout).
   */
  constFor(name: string, rank: number, layout: Layout): string | null {
    const key = `${name}@${layout}${rank}`;
    const known = this.constants.get(key);
    if (known) return known;
    const c = this.constant(name);
    const r = relayoutConst(c.data, c.shape, rank, layout);
    if (!r) return null;
    const out = this.b.f32(name.replace(/[^A-Za-z0-9_]/g, '_').slice(-40), r.data, r.dims);
    this.constants.set(key, out);
    return out;
  }

  /** Build a constant once per key (weights in ONNX layout) and reuse it; only for step-independent things. */
  memo(key: string, make: () => string): string {
    let v = this.constants.get(`memo:${key}`);
    if (v === undefined) this.constants.set(`memo:${key}`, (v = make()));
    return v;
  }

  /** A new value in `layout`. */
  make(name: string, shape: number[], layout: Layout): Val {
    return { name, shape, layout };
  }

  /** ONNX Reshape to a per-example shape (batch kept). */
  reshape(x: string, shape: number[]): string {
    return this.b.op1('Reshape', [x, this.b.i64([-1, ...shape])]);
  }

  /** Per-example dims of a value in its layout. */
  dims(v: Val): number[] {
    return layoutShape(v.shape, v.layout);
  }
}

/** Why the IR cannot be differentiated to ONNX (the first node without a rule), or null. @example networkSupport(ir, ['dense_1']) */
export function networkSupport(ir: IrGraph, wanted: string[]): string | null {
  return networkGaps(ir, wanted)[0] ?? null;
}

/**
 * Every reason the IR cannot be differentiated to ONNX on the way to `wanted` (one per op kind
 * and detail), for `inspect`; empty when it can.
 *
 * @example
 * networkGaps(ir, ir.outputs.map((o) => o.value)) // ['no gradient rule for Pad "p" (symmetric padding wider than the tensor)']
 */
export function networkGaps(ir: IrGraph, wanted: string[]): string[] {
  const out = new Set<string>();
  if (ir.batch === 'per-row') out.add('the graph mixes the batch (it runs one row at a time)');
  for (const w of wanted) {
    const op = ir.dynamic.get(w);
    if (op) out.add(`"${w}" is computed by the dynamic op ${op}`);
  }
  for (const node of neededNodes(ir, wanted)) {
    const rule = RULES[node.op] as RuleOf | undefined;
    const reason = rule ? (rule.check?.(node, ir) ?? null) : `no gradient rule for ${node.op}`;
    if (reason) out.add(reason);
  }
  return [...out];
}

type RuleOf = {
  check?(node: IrNode, ir: IrGraph): string | null;
  forward(node: IrNode, net: NetEmitter): Val;
  backward(node: IrNode, net: NetEmitter, dy: Val): Array<Val | null>;
};

/** The nodes the wanted values depend on, in topological order. */
export function neededNodes(ir: IrGraph, wanted: string[]): IrNode[] {
  const byName = new Map(ir.nodes.map((n) => [n.name, n]));
  const need = new Set<string>();
  const stack = [...wanted];
  while (stack.length) {
    const name = stack.pop()!;
    if (need.has(name)) continue;
    const node = byName.get(name);
    if (!node) continue;
    need.add(name);
    stack.push(...node.inputs);
  }
  return ir.nodes.filter((n) => need.has(n.name));
}

/**
 * Emit the forward pass of every node the wanted values need. `inputs` gives the ONNX value of
 * each IR input (IR layout, batch first).
 *
 * @example
 * const net = new NetEmitter(b, ir);
 * emitForward(net, new Map([['x', 'x']]), ['dense_1']);
 */
export function emitForward(net: NetEmitter, inputs: Map<string, string>, wanted: string[]): void {
  for (const inp of net.ir.inputs) {
    const name = inputs.get(inp.name);
    if (name && !net.values.has(inp.name)) net.values.set(inp.name, { name, shape: inp.shape, layout: 'ir' });
  }
  for (const node of neededNodes(net.ir, wanted)) {
    if (net.values.has(node.name)) continue;
    const rule = RULES[node.op] as RuleOf;
    const reason = rule.check?.(node, net.ir);
    if (reason) throw new Error(reason);
    net.values.set(node.name, rule.forward(node, net));
  }
}

/**
 * Reverse mode: given seeds (gradients of the objective w.r.t. some values, each in that value's
 * layout or any other), the gradient w.r.t. each IR input in `wrt` (IR layout), or null where the
 * objective does not depend on it.
 *
 * @example
 * const grads = emitBackward(net, new Map([['dense_1', [seed]]]), ['x']);
 */
export function emitBackward(net: NetEmitter, seeds: Map<string, Val[]>, wrt: string[]): Map<string, Val | null> {
  const grads = new Map<string, Val[]>();
  const add = (name: string, g: Val) => {
    const list = grads.get(name) ?? [];
    list.push(g);
    grads.set(name, list);
  };
  for (const [name, list] of seeds) for (const g of list) add(name, g);
  // Only nodes between the inputs we differentiate for and the seeds.
  const live = dependsOn(net.ir, new Set(wrt));
  const nodes = neededNodes(net.ir, [...seeds.keys()]).filter((n) => live.has(n.name));
  const total = (name: string): Val | null => {
    const list = grads.get(name);
    if (!list?.length) return null;
    const fwd = net.val(name);
    const aligned = list.map((g) => net.as(g, fwd.layout));
    return { name: net.b.sum(aligned.map((g) => g.name)), shape: fwd.shape, layout: fwd.layout };
  };
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const dy = total(node.name);
    if (!dy) continue;
    const rule = RULES[node.op] as RuleOf;
    const dxs = rule.backward(node, net, dy);
    node.inputs.forEach((inp, k) => {
      const g = dxs[k];
      if (g && !net.isConst(inp) && (live.has(inp) || wrt.includes(inp))) add(inp, g);
    });
  }
  return new Map(wrt.map((w) => {
    const g = total(w);
    return [w, g ? net.as(g, 'ir') : null];
  }));
}

/** Names of the values that depend on any of `roots` (the roots included). */
function dependsOn(ir: IrGraph, roots: Set<string>): Set<string> {
  const live = new Set(roots);
  for (const n of ir.nodes) if (n.inputs.some((i) => live.has(i))) live.add(n.name);
  return live;
}
