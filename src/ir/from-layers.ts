/**
 * A TF.js layers model (what every Keras and TF.js-layers loader builds) → {@link IrGraph}.
 * Layer names are kept; every layer call becomes a few nodes (see layer-ops.ts) and one
 * {@link IrLayer} with its `output` and `pre` values.
 */
import type * as tf from '@tensorflow/tfjs';
import type { IrGraph } from './ir.js';
import { IrBuilder } from './builder.js';
import { IrError } from './errors.js';
import { translateLayer } from './layer-ops.js';
import { activationLabel } from './activation-ops.js';

type Dict = Record<string, unknown>;

/** Short name of a weight variable (`dense/kernel` → `kernel`, `bn/moving_mean:0` → `moving_mean`). */
function shortName(name: string): string {
  return (name.split('/').pop() ?? name).replace(/:\d+$/, '');
}

function perExample(shape: Array<number | null>): number[] {
  return shape.slice(1).map((d) => d ?? -1);
}

/**
 * Build the IR of a layers model. Throws {@link IrError} naming the first layer the IR cannot
 * express (recurrent layers, Embedding, …); the caller keeps the TF.js model for those.
 *
 * @example
 * const ir = irFromLayers(net as tf.LayersModel);
 * ir.layers.map((l) => l.name) // ['flatten', 'dense', 'dense_1']
 */
export function irFromLayers(model: tf.LayersModel): IrGraph {
  const b = new IrBuilder();
  const values = new Map<number, string>();
  model.inputs.forEach((t) => {
    const name = (t.sourceLayer as tf.layers.Layer | undefined)?.name ?? t.name;
    if (t.dtype !== 'float32') throw new IrError(`input "${name}" has dtype ${t.dtype}`);
    const shape = perExample(t.shape);
    if (shape.some((d) => d < 1)) throw new IrError(`input "${name}" has an unknown dimension`);
    values.set(t.id, b.input(name, shape));
  });
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const cfg = layer.getConfig() as Dict;
    const weights = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const w of layer.weights) weights.set(shortName(w.originalName), { shape: w.shape.map((d) => d ?? 1), data: Float32Array.from(w.read().dataSync() as Float32Array) });
    layer.inboundNodes.forEach((node, k) => {
      const inputs = node.inputTensors.map((t) => {
        const v = values.get(t.id);
        if (v === undefined) throw new IrError(`layer "${layer.name}" reads a tensor that no earlier layer made`);
        return v;
      });
      if (node.outputTensors.length !== 1) throw new IrError(`layer "${layer.name}" (${className}) has ${node.outputTensors.length} outputs`);
      const out = node.outputTensors[0];
      const outShape = perExample(out.shape);
      const res = translateLayer({ b, layer: layer.name, prefix: k === 0 ? layer.name : `${layer.name}@${k}`, className, cfg, weight: (s) => weights.get(s), inputs, outShape });
      const got = b.shapeOf(res.output);
      if (got.length !== outShape.length || got.some((d, i) => outShape[i] >= 0 && d !== outShape[i])) {
        throw new IrError(`layer "${layer.name}" (${className}) gives shape [${got.join(', ')}] in the IR but [${outShape.join(', ')}] in TF.js`);
      }
      values.set(out.id, res.output);
      if (k === 0) b.layer({ name: layer.name, kind: className, output: res.output, pre: res.pre, ...(res.activation ? { activation: activationLabel(res.activation) } : {}) });
    });
  }
  model.outputs.forEach((t) => {
    const v = values.get(t.id);
    if (v === undefined) throw new IrError(`output "${t.name}" is not computed by any layer`);
    b.output((t.sourceLayer as tf.layers.Layer).name, v);
  });
  return b.finish('free');
}
