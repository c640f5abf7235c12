import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel, InputInfo, LayerInfo, LoadedNet, LoadOptions, OutputInfo } from './types.js';
import { classNamesFor, metadataNotes, rangeFor } from './metadata.js';
import type { IrGraph } from '../ir/ir.js';
import { IrError } from '../ir/errors.js';
import { irFromLayers } from '../ir/from-layers.js';
import { finalActivation, producer } from '../ir/values.js';
import { channelAxis } from '../ir/channels.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function isLayers(net: tf.LayersModel | tf.GraphModel): net is tf.LayersModel {
  return Array.isArray((net as tf.LayersModel).layers);
}

function cleanShape(shape: Array<number | null> | undefined, what: string, source: string): number[] {
  const s = (shape ?? []).slice(1);
  if (s.some((d) => d == null || d < 0)) {
    throw new ActmaxError('unsupported', `${source}: ${what} has an unknown dimension (shape [${s.map((d) => d ?? '?').join(', ')}]); actmax needs a fixed input shape`);
  }
  if (s.some((d) => !Number.isInteger(d) || (d as number) < 1)) {
    throw new ActmaxError('bad-model', `${source}: ${what} has shape [${s.map((d) => JSON.stringify(d)).join(', ')}]; dimensions must be positive integers`);
  }
  return s as number[];
}

/** Final activation of a layer as actmax sees it: the function it ends with, when that is softmax/sigmoid. */
export function finalActivationOf(layer: tf.layers.Layer): 'softmax' | 'sigmoid' | null {
  const cls = layer.getClassName();
  if (cls === 'Softmax') return 'softmax';
  const act = (layer.getConfig() as { activation?: unknown }).activation;
  if (act === 'softmax' || act === 'sigmoid') return act;
  return null;
}

/** Layout of a layers-model input: `nchw` when asked, or when a [C, H, W] shape says so (C of 1, 3 or 4 first, not last). */
function layersLayout(shape: number[], wanted: LoadOptions['layout']): 'nchw' | 'nhwc' | undefined {
  if (shape.length !== 3) return undefined;
  if (wanted) return wanted;
  const ch = (d: number) => d === 1 || d === 3 || d === 4;
  return ch(shape[0]) && !ch(shape[2]) ? 'nchw' : 'nhwc';
}

/** A graph input's range: from metadata, else [0, 255] for integer (uint8 image) inputs, else [0, 1]. */
function graphRange(metadata: Record<string, unknown>, t: tf.ModelTensorInfo, i: number): Pick<InputInfo, 'range' | 'rangeSource'> {
  const r = rangeFor(metadata, t.name, i);
  return r.rangeSource === 'default' && t.dtype === 'int32' ? { range: [0, 255], rangeSource: 'default' } : r;
}

/** The IR of a layers model, or why there is none. */
function layersIr(net: tf.LayersModel): { ir: IrGraph | null; irReason?: string } {
  try {
    return { ir: irFromLayers(net) };
  } catch (e) {
    if (e instanceof IrError) return { ir: null, irReason: e.message };
    throw e;
  }
}

/** Layers as `inspect` and objectives list them, read from the IR: the listed inputs first, then every IR layer. */
function irLayerInfos(ir: IrGraph, listedInputs: Array<{ name: string; className: string }>, inputLayouts: Array<string | undefined>): LayerInfo[] {
  const layerOf = (value: string) => producer(ir, value)?.layer ?? value;
  const firstAxis = (value: string) => (channelAxis(ir, value, inputLayouts) === 0 && ir.shapes.get(value)!.length > 1 ? { channelAxis: 0 } : {});
  const inputs: LayerInfo[] = listedInputs.map(({ name, className }) => {
    const shape = ir.shapes.get(name)!;
    return { name, className, outputShape: shape, units: prod(shape), ...firstAxis(name), inbound: [] };
  });
  const inbound = new Map<string, Set<string>>();
  for (const n of ir.nodes) {
    const set = inbound.get(n.layer) ?? new Set<string>();
    for (const v of n.inputs) if (!ir.consts.has(v) && layerOf(v) !== n.layer) set.add(layerOf(v));
    inbound.set(n.layer, set);
  }
  const known = new Set(inputs.map((i) => i.name));
  const layers = ir.layers.filter((l) => !known.has(l.name)).map((l) => {
    const outputShape = ir.shapes.get(l.output)!;
    return { name: l.name, className: l.kind, outputShape, units: prod(outputShape), ...firstAxis(l.output), ...(l.activation ? { activation: l.activation } : {}), inbound: [...(inbound.get(l.name) ?? [])] };
  });
  return [...inputs, ...layers];
}

/** Outputs read from the IR (shapes of dynamic outputs from the loader). */
function irOutputs(ir: IrGraph, loaded: LoadedNet, layersModel: tf.LayersModel | null): OutputInfo[] {
  return ir.outputs.map((o, i) => {
    const dyn = ir.dynamic.get(o.value);
    const shape = dyn ? (loaded.dynamicOutputs?.get(o.name)?.shape ?? []) : ir.shapes.get(o.value)!;
    const units = prod(shape);
    // Layers models: objectives address the output by its layer; graph models by the output's value.
    const layer = layersModel ? o.name : o.value;
    return {
      name: o.name,
      shape,
      units,
      layer,
      finalActivation: dyn ? null : finalActivation(ir, o.value),
      classNames: classNamesFor(loaded.metadata, o.name, i, units),
      ...(dyn ? { dynamic: dyn } : {}),
    };
  });
}

/**
 * A graph recorded with a fixed batch of 1 runs one row per call; any other fixed batch cannot run
 * the rows actmax evaluates (it crashed in predict), so it is refused.
 */
function refuseFixedBatch(net: tf.GraphModel, source: string): void {
  for (const t of net.inputs) {
    const shape = (t.shape ?? []) as Array<number | null>;
    const batch = shape[0];
    if (batch != null && batch > 1) {
      throw new ActmaxError('unsupported', `${source}: graph input "${t.name}" has a fixed batch size of ${batch} (shape [${shape.join(', ')}]); actmax needs a free batch dimension (-1) or a batch of 1: convert the model with a None batch size`);
    }
  }
}

/**
 * Turn a format loader's result into an {@link ActmaxModel}: inputs with their default ranges,
 * outputs with their final activation and class names, and every layer. Layers models get their
 * IR here (graph models bring theirs from the loader).
 *
 * @example
 * const model = describeModel(await loadModelFiles(files, 'model.json'), 'model.json');
 */
export function describeModel(loaded: LoadedNet, source: string, options: LoadOptions = {}): ActmaxModel {
  const { net, metadata } = loaded;
  if (loaded.fixedBatch) {
    const t = (net as tf.GraphModel).inputs[0];
    throw new ActmaxError('unsupported', `${source}: graph input "${t.name}" has a fixed batch size of ${loaded.fixedBatch} (shape [${(t.shape ?? []).join(', ')}]); actmax runs graphs recorded with a free batch (-1) or a batch of 1: convert the model with a None batch size`);
  }
  let inputs: InputInfo[];
  let outputs: OutputInfo[];
  let layers: LayerInfo[];
  if (!isLayers(net)) refuseFixedBatch(net, source);
  let { ir, irReason } = loaded.ir !== undefined ? { ir: loaded.ir, irReason: loaded.irReason } : isLayers(net) ? layersIr(net) : { ir: null, irReason: loaded.irReason };
  ir ??= null;
  if (isLayers(net)) {
    inputs = net.inputs.map((t, i) => {
      const name = (t.sourceLayer as tf.layers.Layer | undefined)?.name ?? t.name;
      if (t.dtype !== 'float32') {
        throw new ActmaxError('unsupported', `${source}: input "${name}" has dtype ${JSON.stringify(t.dtype)}; actmax optimises float32 inputs`);
      }
      const shape = cleanShape(t.shape, `input "${name}"`, source);
      const layout = layersLayout(shape, options.layout);
      return { name, shape, ...rangeFor(metadata, name, i), ...(layout ? { layout } : {}) };
    });
  } else {
    const shapes = ir ? ir.inputs.map((inp) => inp.shape) : (loaded.inputShapes ?? net.inputs.map((t) => cleanShape(t.shape as number[], `input "${t.name}"`, source)));
    inputs = net.inputs.map((t, i) => ({
      name: ir ? ir.inputs[i].name : t.name,
      shape: shapes[i],
      ...graphRange(metadata, t, i),
      ...(loaded.layouts?.[i] && shapes[i].length === 3 ? { layout: loaded.layouts[i] } : {}),
    }));
  }
  if (ir) {
    outputs = irOutputs(ir, loaded, isLayers(net) ? net : null);
    // A Sequential model does not list its input layer; a functional one does.
    const listed = isLayers(net) ? net.layers.filter((l) => l.getClassName() === 'InputLayer').map((l) => ({ name: l.name, className: 'InputLayer' })) : ir.inputs.map((i) => ({ name: i.name, className: 'Placeholder' }));
    layers = irLayerInfos(ir, listed, inputs.map((i) => i.layout));
  } else if (isLayers(net)) {
    ({ outputs, layers } = tfjsLayersInfo(net, metadata));
  } else {
    outputs = net.outputs.map((t, i) => {
      const dyn = loaded.dynamicOutputs?.get(t.name);
      const shape = dyn?.shape ?? loaded.outputShapes?.get(t.name) ?? ((t.shape ?? []) as number[]).slice(1).map((d) => (d < 0 ? 1 : d));
      const units = prod(shape);
      return { name: t.name, shape, units, layer: t.name, finalActivation: null, classNames: classNamesFor(metadata, t.name, i, units), ...(dyn ? { dynamic: dyn.op } : {}) };
    });
    layers = [];
  }
  return {
    source,
    format: loaded.format,
    kerasVersion: loaded.kerasVersion,
    inputs,
    outputs,
    layers,
    metadata,
    notes: [...loaded.notes, ...metadataNotes(metadata)],
    ir,
    ...(irReason ? { irReason } : {}),
    batch: loaded.batch ?? ir?.batch ?? 'free',
    net,
    dispose: () => net.dispose(),
  };
}

/** Outputs and layers of a layers model without an IR, read from TF.js (recurrent models and the like). */
function tfjsLayersInfo(net: tf.LayersModel, metadata: Record<string, unknown>): { outputs: OutputInfo[]; layers: LayerInfo[] } {
  const outputs = net.outputs.map((t, i) => {
    const layer = t.sourceLayer as tf.layers.Layer;
    const name = layer.name;
    const shape = (t.shape.slice(1) as Array<number | null>).map((d) => d ?? 1);
    const units = prod(shape);
    return { name, shape, units, layer: layer.name, finalActivation: finalActivationOf(layer), classNames: classNamesFor(metadata, name, i, units) };
  });
  const layers = net.layers.map((l) => {
    const raw = l.outputShape as unknown;
    const first = Array.isArray(raw) && Array.isArray(raw[0]) ? (raw[0] as Array<number | null>) : (raw as Array<number | null>);
    const outputShape = first.slice(1).map((d) => d ?? 1);
    const cfg = l.getConfig() as { activation?: unknown; dataFormat?: unknown };
    const inbound = (l.inboundNodes[0]?.inboundLayers ?? []).map((x) => x.name);
    return {
      name: l.name,
      className: l.getClassName(),
      outputShape,
      units: prod(outputShape),
      ...(cfg.dataFormat === 'channelsFirst' && outputShape.length > 1 ? { channelAxis: 0 } : {}),
      activation: typeof cfg.activation === 'string' ? cfg.activation : undefined,
      inbound,
    };
  });
  return { outputs, layers };
}
