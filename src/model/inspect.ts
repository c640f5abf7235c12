import type { ActmaxModel } from './types.js';
import { channelAxis } from '../ir/channels.js';

/** A summary of a model for people and tools: what `actmax inspect` prints. */
export interface ModelSummary {
  source: string;
  format: string;
  kerasVersion?: string;
  inputs: Array<{ name: string; shape: number[]; range: [number, number]; rangeSource: string }>;
  outputs: Array<{ name: string; shape: number[]; units: number; finalActivation: string | null; classes: Array<{ index: number; name?: string }>; dynamic?: string }>;
  /** How actmax computes the network: on its IR (with how rows are batched), or on TF.js and why. */
  network: { ir: boolean; reason?: string; batch: string; layouts: string[]; dynamic?: { values: number; ops: string[] } };
  /** Every addressable node of a graph model (`neuron:NODE:I`), with its layer, op and shape. */
  /** `channels`: the size of the channel axis (`channel:NODE:C`), for values of rank ≥ 2. */
  nodes?: Array<{ name: string; layer: string; op: string; shape: number[]; channels?: number }>;
  /** `channels`: the size of the channel axis (axis 0 of a channels-first output, else the last), for outputs of rank ≥ 2. */
  layers: Array<{ name: string; className: string; outputShape: number[]; units: number; channels?: number; activation?: string }>;
  exampleObjectives: string[];
  /** The dataset the model names in its metadata (`dataset.name`, `dataset.source`), or null. */
  dataset: { name: string; source?: string } | null;
  notes: string[];
  metadata: Record<string, unknown>;
}

/**
 * Summarise a model: inputs with ranges (and whether the range came from metadata), every layer,
 * outputs with class names, and objective specs that are valid for it.
 *
 * @example
 * const s = summarizeModel(model); console.log(s.exampleObjectives); // ['logit:0', 'logit:all', …]
 */
export function summarizeModel(model: ActmaxModel): ModelSummary {
  const out0 = model.outputs[0];
  const multiOut = model.outputs.length > 1;
  const o = (k: number) => (multiOut ? `${out0.name}:${k}` : `${k}`);
  const examples = out0.dynamic ? [] : [`logit:${o(0)}`, `logit:${multiOut ? out0.name + ':' : ''}all`, `prob:${o(Math.min(1, out0.units - 1))}`];
  if (out0.units > 1 && !out0.dynamic) examples.push(`margin:${o(0)}`, `logit:${o(0)}-0.5*logit:${o(1)}`);
  const hidden = model.layers.filter((l) => !['InputLayer', 'Placeholder', 'Flatten', 'Dropout', 'Reshape', 'Identity', 'Cast'].includes(l.className) && !model.outputs.some((x) => x.layer === l.name) && l.units > 1);
  const dense = hidden.find((l) => l.outputShape.length === 1 && /Dense|MatMul/.test(l.className)) ?? hidden.find((l) => l.outputShape.length === 1);
  if (dense) examples.push(`neuron:${dense.name}:0`, `layer:${dense.name}`);
  const conv = hidden.find((l) => l.outputShape.length >= 2 && /Conv/.test(l.className)) ?? hidden.find((l) => l.outputShape.length >= 2);
  if (conv) examples.push(`channel:${conv.name}:0`, `channel:${conv.name}:all`);
  return {
    source: model.source,
    format: model.format,
    ...(model.kerasVersion ? { kerasVersion: model.kerasVersion } : {}),
    inputs: model.inputs.map((i) => ({ name: i.name, shape: i.shape, range: i.range, rangeSource: i.rangeSource })),
    outputs: model.outputs.map((x) => ({
      name: x.name,
      shape: x.shape,
      units: x.units,
      finalActivation: x.finalActivation,
      classes: Array.from({ length: Math.min(x.units, 1000) }, (_, index) => ({ index, ...(x.classNames ? { name: x.classNames[index] } : {}) })),
      ...(x.dynamic ? { dynamic: x.dynamic } : {}),
    })),
    network: networkSummary(model),
    ...(model.format === 'tfjs-graph' && model.ir ? { nodes: graphNodes(model) } : {}),
    layers: model.layers.map((l) => ({ name: l.name, className: l.className, outputShape: l.outputShape, units: l.units, ...channelsOf(l.outputShape, l.channelAxis ?? l.outputShape.length - 1), ...(l.activation ? { activation: l.activation } : {}) })),
    exampleObjectives: examples,
    dataset: datasetOf(model.metadata),
    notes: model.notes,
    metadata: model.metadata,
  };
}

/** `{ channels }` for a value of rank ≥ 2, else nothing. */
function channelsOf(shape: number[], axis: number): { channels?: number } {
  return shape.length >= 2 ? { channels: shape[axis] } : {};
}

function graphNodes(model: ActmaxModel): NonNullable<ModelSummary['nodes']> {
  const ir = model.ir!;
  const layouts = model.inputs.map((i) => i.layout);
  return ir.nodes.map((n) => {
    const shape = ir.shapes.get(n.name)!;
    return { name: n.name, layer: n.layer, op: n.op, shape, ...channelsOf(shape, channelAxis(ir, n.name, layouts)) };
  });
}

function networkSummary(model: ActmaxModel): ModelSummary['network'] {
  const ir = model.ir;
  const layouts = model.inputs.map((i) => i.layout ?? 'nhwc');
  if (!ir) return { ir: false, ...(model.irReason ? { reason: model.irReason } : {}), batch: model.batch, layouts };
  const ops = [...new Set(ir.dynamic.values())];
  return { ir: true, batch: model.batch, layouts, ...(ir.dynamic.size ? { dynamic: { values: ir.dynamic.size, ops } } : {}) };
}

function datasetOf(metadata: Record<string, unknown>): ModelSummary['dataset'] {
  const d = metadata.dataset as { name?: unknown; source?: unknown } | string | undefined;
  if (typeof d === 'string' && d) return { name: d };
  if (d && typeof d === 'object' && typeof d.name === 'string') return { name: d.name, ...(typeof d.source === 'string' ? { source: d.source } : {}) };
  return null;
}
