/**
 * A TF.js graph model (`modelTopology.node`) → {@link IrGraph}.
 *
 * 1. Classify nodes: constants; values folded at import because they depend only on constants
 *    and static shapes; dynamic ones (control flow, non-max suppression, and everything after
 *    them: `IrGraph.dynamic`); the rest become IR nodes.
 * 2. Run the graph once with TF.js at batch 1 (graph-probe.ts) for every value's shape and the
 *    folded values.
 * 3. Translate node by node (graph-ops.ts, graph-windows.ts), per example (graph-context.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { IrGraph } from './ir.js';
import { IrBuilder } from './builder.js';
import { IrError } from './errors.js';
import { canonical, GraphContext } from './graph-context.js';
import { GraphNode, nodeOf, topoSort, valueName, type GraphNodeJson } from './graph-nodes.js';
import { translateGraphNode } from './graph-ops.js';
import { graphLayerName, graphLayers } from './graph-layers.js';
import { probeGraph, type Probed } from './graph-probe.js';

/** Control flow: never folded, always dynamic. */
const CONTROL_FLOW = /^(Enter|Exit|Merge|Switch|NextIteration|LoopCond|If|StatelessIf|While|StatelessWhile|TensorArray.*|TensorList.*)$/;
/** Output shape depends on values: dynamic unless every input is a constant. */
const DYNAMIC_SHAPE = new Set(['Where', 'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'Unique', 'ListDiff']);
/** Read only their input's (static) shape. */
const SHAPE_OPS = new Set(['Shape', 'ShapeN', 'Size', 'Rank']);

type Kind = { kind: 'const' } | { kind: 'folded' } | { kind: 'dynamic'; op: string } | { kind: 'value' };

/** Which nodes are constants, folded, dynamic (with the op that makes them so) or IR values. */
function classify(nodes: GraphNode[]): Map<string, Kind> {
  const kinds = new Map<string, Kind>();
  for (const n of nodes) {
    const ins = n.inputs.map((i) => kinds.get(nodeOf(i)) ?? { kind: 'dynamic', op: 'a loop back-edge' } as Kind);
    // The op a refusal names: a non-max suppression or Where on the path rather than the loop around it.
    const dyns = ins.filter((k) => k.kind === 'dynamic') as Array<{ op: string }>;
    const dyn = dyns.length ? (DYNAMIC_SHAPE.has(n.op) ? { op: n.op } : (dyns.find((d) => DYNAMIC_SHAPE.has(d.op)) ?? dyns[0])) : undefined;
    const folded = ins.every((k) => k.kind === 'const' || k.kind === 'folded');
    let kind: Kind;
    if (n.op === 'Const') kind = { kind: 'const' };
    else if (n.op === 'Placeholder') kind = { kind: 'value' };
    else if (dyn) kind = { kind: 'dynamic', op: dyn.op };
    else if (CONTROL_FLOW.test(n.op)) kind = { kind: 'dynamic', op: n.op };
    else if (DYNAMIC_SHAPE.has(n.op)) kind = folded ? { kind: 'folded' } : { kind: 'dynamic', op: n.op };
    else if (SHAPE_OPS.has(n.op) || folded) kind = { kind: 'folded' };
    else kind = { kind: 'value' };
    kinds.set(n.name, kind);
  }
  nameDynamicParts(nodes, kinds);
  return kinds;
}

/** How telling an op is as the reason a value is dynamic: non-max suppression, then Where, then loop machinery. */
const rank = (op: string) => (/^NonMaxSuppression/.test(op) ? 3 : op === 'Where' ? 2 : 1);

/**
 * Every dynamic value names the most telling dynamic op it depends on, loop back-edges included
 * (the outputs of a while loop name the non-max suppression inside it, not the loop's Enter).
 */
function nameDynamicParts(nodes: GraphNode[], kinds: Map<string, Kind>): void {
  for (let changed = true, rounds = 0; changed && rounds < 20; rounds++) {
    changed = false;
    for (const n of nodes) {
      const k = kinds.get(n.name)!;
      if (k.kind !== 'dynamic') continue;
      let best = k.op;
      for (const i of n.inputs) {
        const ki = kinds.get(nodeOf(i));
        if (ki?.kind === 'dynamic' && rank(ki.op) > rank(best)) best = ki.op;
      }
      if (best !== k.op) {
        kinds.set(n.name, { kind: 'dynamic', op: best });
        changed = true;
      }
    }
  }
}

/**
 * Values computed by dynamic ops (and everything after them), each with the op that makes it
 * dynamic.
 *
 * @example
 * dynamicValues(json.modelTopology).get('num_boxes') // 'NonMaxSuppressionV3'
 */
export function dynamicValues(topology: { node?: GraphNodeJson[] }): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, k] of classify(topoSort((topology.node ?? []).map((j) => new GraphNode(j))))) if (k.kind === 'dynamic') out.set(name, k.op);
  return out;
}

/** Value names the probe must record: every output of a non-constant, non-dynamic node that something reads. */
function probedNames(nodes: GraphNode[], kinds: Map<string, Kind>, outputs: string[]): string[] {
  const names = new Set<string>();
  const want = (ref: string) => {
    const k = kinds.get(nodeOf(ref))?.kind;
    if (k === 'value' || k === 'folded') names.add(ref);
  };
  for (const n of nodes) {
    if (n.op === 'Placeholder' || n.op === 'Const') continue;
    want(n.name);
    n.inputs.forEach(want);
  }
  outputs.forEach(want);
  return [...names].filter((r) => nodes.find((n) => n.name === nodeOf(r))?.op !== 'Placeholder');
}

/** Zero inputs at the planned shapes (the caller disposes them). */
function zeroFeeds(inputs: GraphInputSpec[]): tf.NamedTensorMap {
  const feeds: tf.NamedTensorMap = {};
  for (const i of inputs) feeds[i.name] = tf.zeros(i.shape, i.dtype as tf.DataType);
  return feeds;
}

/** Names to probe and which of them to read values of. */
function probePlan(nodes: GraphNode[], kinds: Map<string, Kind>, outputs: string[]): [string[], Set<string>] {
  const names = probedNames(nodes, kinds, outputs);
  return [names, new Set(names.filter((r) => kinds.get(nodeOf(r))?.kind === 'folded'))];
}

/**
 * The one TF.js run an import needs (batch 1, zeros at the planned shapes): shapes of every value
 * and of the outputs that are not dynamic, and the values folded at import. It doubles as the
 * load-time check that the graph runs at all.
 *
 * @example
 * const seen = await probeForImport(net, json.modelTopology, inputs);
 */
export async function probeForImport(net: tf.GraphModel, topology: { node?: GraphNodeJson[] }, inputs: GraphInputSpec[]): Promise<Map<string, Probed>> {
  const nodes = topoSort((topology.node ?? []).map((j) => new GraphNode(j)));
  const kinds = classify(nodes);
  const feeds = zeroFeeds(inputs);
  try {
    return await probeGraph(net, feeds, ...probePlan(nodes, kinds, net.outputs.map((o) => valueName(o.name))));
  } finally {
    tf.dispose(Object.values(feeds));
  }
}

/** One graph input for the import: its name and the shape it runs at (batch 1, free sizes chosen). */
export interface GraphInputSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/**
 * Build the IR of a TF.js graph model. Throws {@link IrError} for the first op the IR cannot
 * express (the model then runs on TF.js as a whole).
 *
 * @example
 * const ir = await irFromGraph(net, json.modelTopology, [{ name: 'input_1', shape: [1, 64, 64, 3], dtype: 'float32' }], 'free');
 */
export async function irFromGraph(net: tf.GraphModel, topology: { node?: GraphNodeJson[] }, inputs: GraphInputSpec[], batch: IrGraph['batch'], seen?: Map<string, Probed>): Promise<IrGraph> {
  const nodes = topoSort((topology.node ?? []).map((j) => new GraphNode(j)));
  const kinds = classify(nodes);
  const outputs = net.outputs.map((o) => valueName(o.name));
  const probed = seen ?? (await probeForImport(net, topology, inputs));
  const b = new IrBuilder();
  const ctx = new GraphContext(b, graphLayerName);
  for (const [name, p] of probed) {
    ctx.recorded.set(name, p.shape);
    ctx.dtypes.set(name, p.dtype);
  }
  for (const i of inputs) {
    b.input(i.name, canonical(i.shape));
    ctx.values.set(i.name, { kind: 'ir', ir: i.name, recorded: i.shape });
    ctx.dtypes.set(i.name, 'float32');
  }
  const graphKinds = new Map<string, string>();
  const weights = net.weights as Record<string, tf.Tensor[]>;
  for (const n of nodes) {
    const kind = kinds.get(n.name)!;
    ctx.node = n;
    if (kind.kind === 'dynamic') {
      b.dynamic.set(n.name, kind.op);
    } else if (kind.kind === 'const') {
      const t = weights[n.name]?.[0];
      if (t && t.dtype !== 'string') ctx.values.set(n.name, { kind: 'const', shape: t.shape.slice(), data: t.dataSync() as Float32Array, dtype: t.dtype });
    } else if (kind.kind === 'folded') {
      for (const [name, p] of probed) if (nodeOf(name) === n.name && p.data) ctx.values.set(name, { kind: 'const', shape: p.shape, data: p.data, dtype: p.dtype });
    } else if (n.op !== 'Placeholder') {
      translateGraphNode(ctx);
      graphKinds.set(graphLayerName(n.name), n.op);
    }
  }
  for (const out of outputs) {
    if (kinds.get(nodeOf(out))?.kind === 'dynamic') {
      b.dynamic.set(out, (kinds.get(nodeOf(out)) as { op: string }).op);
      b.output(out, out);
      continue;
    }
    const v = ctx.values.get(out);
    if (!v || v.kind !== 'ir') throw new IrError(`output "${out}" does not depend on the input`);
    b.output(out, v.ir);
  }
  const ir = b.finish(batch);
  ir.layers.push(...graphLayers(ir, graphKinds));
  return ir;
}
