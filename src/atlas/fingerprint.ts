import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs';
import type { ActmaxModel } from '../model/types.js';

function weightsOf(net: tf.LayersModel | tf.GraphModel): Array<{ name: string; tensor: tf.Tensor }> {
  // Named by layer and position: TF.js makes variable names unique per process (`kernel_1`).
  if (Array.isArray((net as tf.LayersModel).layers)) return (net as tf.LayersModel).layers.flatMap((l) => l.weights.map((w, i) => ({ name: `${l.name}/${i}`, tensor: w.read() })));
  const map = (net as tf.GraphModel).weights as Record<string, tf.Tensor[]>;
  return Object.keys(map).sort().flatMap((name) => map[name].map((tensor) => ({ name, tensor })));
}

/**
 * A SHA-256 of what decides the model's function: inputs, outputs, layers (names, classes, shapes)
 * and every weight's bytes. Two machines that load the same model from different paths or URLs get
 * the same digest; a worker checks it before running a coordinator's batch.
 *
 * @example
 * modelDigest(model) // 'c0ffee…' (64 hex digits)
 */
export function modelDigest(model: ActmaxModel): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ inputs: model.inputs.map((i) => [i.name, i.shape, i.range]), outputs: model.outputs.map((o) => [o.name, o.shape]), layers: model.layers.map((l) => [l.name, l.className, l.outputShape]) }));
  for (const { name, tensor } of weightsOf(model.net)) {
    h.update(name);
    h.update(JSON.stringify(tensor.shape));
    const data = tensor.dataSync() as ArrayLike<number> & { buffer?: ArrayBufferLike; byteOffset?: number; byteLength?: number };
    if (data.buffer && data.byteLength !== undefined) h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else h.update(JSON.stringify(Array.from(data)));
  }
  return h.digest('hex');
}

/**
 * A short id for anything JSON: the first 16 hex digits of its SHA-256.
 *
 * @example
 * shortHash({ steps: 100 }) // '5d1c…' (16 hex digits)
 */
export function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
