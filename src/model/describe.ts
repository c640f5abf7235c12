import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel, InputInfo, LayerInfo, LoadedNet, OutputInfo } from './types.js';
import { classNamesFor, metadataNotes, rangeFor } from './metadata.js';

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

/**
 * Turn a format loader's result into an {@link ActmaxModel}: inputs with their default ranges,
 * outputs with their final activation and class names, and every layer.
 *
 * @example
 * const model = describeModel(await loadModelFiles(files, 'model.json'), 'model.json');
 */
export function describeModel(loaded: LoadedNet, source: string): ActmaxModel {
  const { net, metadata } = loaded;
  let inputs: InputInfo[];
  let outputs: OutputInfo[];
  let layers: LayerInfo[];
  if (isLayers(net)) {
    inputs = net.inputs.map((t, i) => {
      const name = (t.sourceLayer as tf.layers.Layer | undefined)?.name ?? t.name;
      if (t.dtype !== 'float32') {
        throw new ActmaxError('unsupported', `${source}: input "${name}" has dtype ${JSON.stringify(t.dtype)}; actmax optimises float32 inputs`);
      }
      return { name, shape: cleanShape(t.shape, `input "${name}"`, source), ...rangeFor(metadata, name, i) };
    });
    outputs = net.outputs.map((t, i) => {
      const layer = t.sourceLayer as tf.layers.Layer;
      const name = layer.name;
      const shape = (t.shape.slice(1) as Array<number | null>).map((d) => d ?? 1);
      const units = prod(shape);
      return { name, shape, units, layer: layer.name, finalActivation: finalActivationOf(layer), classNames: classNamesFor(metadata, name, i, units) };
    });
    layers = net.layers.map((l) => {
      const raw = l.outputShape as unknown;
      const first = Array.isArray(raw) && Array.isArray(raw[0]) ? (raw[0] as Array<number | null>) : (raw as Array<number | null>);
      const outputShape = first.slice(1).map((d) => d ?? 1);
      const cfg = l.getConfig() as { activation?: unknown };
      const inbound = (l.inboundNodes[0]?.inboundLayers ?? []).map((x) => x.name);
      return {
        name: l.name,
        className: l.getClassName(),
        outputShape,
        units: prod(outputShape),
        activation: typeof cfg.activation === 'string' ? cfg.activation : undefined,
        inbound,
      };
    });
  } else {
    inputs = net.inputs.map((t, i) => {
      // The graph executor insists on the recorded batch size; actmax evaluates many rows at once.
      const batch = (t.shape as Array<number | null> | undefined)?.[0];
      if (batch != null && batch >= 0) {
        throw new ActmaxError('unsupported', `${source}: graph input "${t.name}" has a fixed batch size of ${batch} (shape [${(t.shape as number[]).join(', ')}]); actmax needs a free batch dimension (-1): convert the model with a None batch size`);
      }
      return { name: t.name, shape: cleanShape(t.shape as number[], `input "${t.name}"`, source), ...rangeFor(metadata, t.name, i) };
    });
    outputs = net.outputs.map((t, i) => {
      const shape = ((t.shape ?? []) as number[]).slice(1).map((d) => (d < 0 ? 1 : d));
      const units = prod(shape);
      return { name: t.name, shape, units, layer: t.name, finalActivation: null, classNames: classNamesFor(metadata, t.name, i, units) };
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
    net,
    dispose: () => net.dispose(),
  };
}
