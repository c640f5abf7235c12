import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../../errors.js';
import { buildForward } from '../../model/activations.js';
import type { ActmaxModel } from '../../model/types.js';

/**
 * Run the model on one example: all outputs, or one layer's activation.
 *
 * @example
 * const { outputs } = predictOnce(model, { flatten_input: x });
 */
export function predictOnce(model: ActmaxModel, values: Record<string, Float32Array>, layer?: string): { outputs: Record<string, number[]>; activation?: number[] } {
  for (const i of model.inputs) {
    if (!values[i.name]) throw new ActmaxError('bad-input', `no value for input "${i.name}"; give a JSON object with keys ${model.inputs.map((x) => `"${x.name}"`).join(', ')}`);
  }
  const forward = buildForward(model, layer ? [{ layer, pre: false }] : []);
  try {
    const res = tf.tidy(() => {
      const { outputs, taps } = forward.run(model.inputs.map((i) => tf.tensor(values[i.name], [1, ...i.shape])));
      return { outputs: outputs.map((o) => Array.from(o.dataSync())), activation: taps[0] ? Array.from(taps[0].dataSync()) : undefined };
    });
    const outputs: Record<string, number[]> = {};
    model.outputs.forEach((o, k) => (outputs[o.name] = res.outputs[k]));
    return { outputs, ...(res.activation ? { activation: res.activation } : {}) };
  } finally {
    forward.dispose();
  }
}
