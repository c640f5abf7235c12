/**
 * Layer names for graph nodes, as a person reads them: the converter's scopes and fused-op
 * suffixes removed (`StatefulPartitionedCall/model_1/conv2d_1/BiasAdd` → `conv2d_1`), and one
 * {@link IrLayer} per name with its output and pre-activation values.
 */
import type { IrGraph, IrLayer } from './ir.js';
import { ACTIVATION_OPS, preValue, producer } from './values.js';

const WRAPPERS = /^(StatefulPartitionedCall|PartitionedCall)(_\d+)?$/;
const MODEL_SCOPE = /^(model|sequential|functional)(_\d+)?$/;

/**
 * The layer a graph node belongs to.
 *
 * @example
 * graphLayerName('StatefulPartitionedCall/model_1/conv2d_1/BiasAdd') // 'conv2d_1'
 * graphLayerName('Identity') // 'Identity'
 */
export function graphLayerName(node: string): string {
  let parts = node.split('/');
  while (parts.length > 1 && WRAPPERS.test(parts[0])) parts = parts.slice(1);
  if (parts.length > 2 && MODEL_SCOPE.test(parts[0])) parts = parts.slice(1);
  return parts.length > 1 ? parts[0] : parts[0];
}

/**
 * One layer per name, in the order their last node appears: `output` is that node's value, `pre`
 * its input when it is an activation.
 *
 * @example
 * const layers = graphLayers(ir, new Map([['conv2d_1', 'Conv2D']]));
 */
export function graphLayers(ir: IrGraph, kinds: Map<string, string>): IrLayer[] {
  const last = new Map<string, number>();
  ir.nodes.forEach((n, i) => last.set(n.layer, i));
  return [...last.entries()]
    .sort((a, b) => a[1] - b[1])
    .map(([name, i]) => {
      const output = ir.nodes[i].name;
      const pre = preValue(ir, output);
      const act = pre !== output ? producer(ir, ir.nodes[i].op === 'Identity' ? ir.nodes[i].inputs[0] : output)?.op : undefined;
      return { name, kind: kinds.get(name) ?? ir.nodes[i].op, output, pre, ...(act && ACTIVATION_OPS.has(act) ? { activation: act.toLowerCase() } : {}) };
    });
}
