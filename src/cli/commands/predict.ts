import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../../errors.js';
import { buildForward } from '../../model/activations.js';
import type { ActmaxModel } from '../../model/types.js';

/**
 * Run the model on one example: all outputs, or one layer's activation.
 *
 * @example
 * const { outputs } = await predictOnce(model, { flatten_input: x });
 */
export async function predictOnce(model: ActmaxModel, values: Record<string, Float32Array>, layer?: string): Promise<{ outputs: Record<string, number[]>; activation?: number[] }> {
  for (const i of model.inputs) {
    if (!values[i.name]) throw new ActmaxError('bad-input', `no value for input "${i.name}"; give a JSON object with keys ${model.inputs.map((x) => `"${x.name}"`).join(', ')}`);
  }
  const forward = buildForward(model, layer ? [{ layer, pre: false }] : []);
  try {
    const xs = model.inputs.map((i) => tf.tensor(values[i.name], [1, ...i.shape]));
    const activation = layer ? tf.tidy(() => Array.from(forward.run(xs).taps[0].dataSync())) : undefined;
    const outs = await forward.outputsAsync(xs);
    const outputs: Record<string, number[]> = {};
    model.outputs.forEach((o, k) => (outputs[o.name] = Array.from(outs[k].dataSync())));
    tf.dispose([...xs, ...outs]);
    return { outputs, ...(activation ? { activation } : {}) };
  } finally {
    forward.dispose();
  }
}
