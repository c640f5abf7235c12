import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { buildForward } from './activations.js';
import type { ActmaxModel } from './types.js';

/** Longest third-party message quoted inside an ActmaxError: some quote whole configs. */
const MAX_QUOTED = 300;

/**
 * A third-party error message as one short line (newlines folded, long quotes cut).
 *
 * @example
 * oneLine('Improper config format: {...10 kB...}\nmore') // 'Improper config format: {... (cut)'
 */
export function oneLine(message: string): string {
  const flat = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED)}… (cut)` : flat;
}

/**
 * Refuse a model whose weights hold NaN or Infinity: a trained network never does, a damaged file
 * often does, and every answer computed from it would be meaningless.
 *
 * @example
 * checkFiniteWeights(model.net, 'model.json');
 */
export function checkFiniteWeights(weights: Array<{ name: string; dataSync(): ArrayLike<number> | Uint8Array }>, file: string): void {
  for (const w of weights) {
    const v = w.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i] as number)) {
        throw new ActmaxError('bad-model', `${file}: weight "${w.name}" holds ${v[i]} at index ${i}; a trained model has finite weights, so the file is damaged`);
      }
    }
  }
}

/**
 * Run the model once on plain inputs (each input's lower bound and its midpoint) and refuse it when
 * an output is NaN or Infinity there: finite weights can still be nonsense (shards in the wrong
 * order give a BatchNormalization a negative variance), and every answer from such a model would be
 * meaningless.
 *
 * @example
 * await checkFiniteOutputs(model, 'model.json');
 */
export async function checkFiniteOutputs(model: ActmaxModel, file: string): Promise<void> {
  const xs = model.inputs.map((i) => {
    const n = i.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(2 * n);
    values.fill(i.range[0], 0, n);
    values.fill((i.range[0] + i.range[1]) / 2, n);
    return tf.tensor(values, [2, ...i.shape]);
  });
  const forward = buildForward(model, []);
  let outs: tf.Tensor[] = [];
  let problem: string | null = null;
  try {
    outs = await forward.outputsAsync(xs);
    for (const [k, o] of outs.entries()) {
      const v = o.dataSync();
      const j = v.findIndex((x) => !Number.isFinite(x));
      if (j >= 0) {
        problem = `output ${k} is ${v[j]} for the input ${j < v.length / 2 ? 'at the lower end of its range' : 'at the middle of its range'}`;
        break;
      }
    }
  } finally {
    tf.dispose([...outs, ...xs]);
    forward.dispose();
  }
  if (problem) throw new ActmaxError('bad-model', `${file}: ${problem}; the weights are damaged or do not fit the layers (e.g. a negative BatchNormalization variance)`);
}
