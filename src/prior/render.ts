import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { subspaceInput } from './subspace.js';
import { latentSize, type DataPrior } from './types.js';

/**
 * The inputs of `rows` codes of a prior (rows × K, flat): x = mean + Uᵀz for a subspace,
 * x = G(z) for a decoder (its output as it is; the search clips it into the input's box, a no-op
 * for a sigmoid decoder on [0, 1]). For showing a run's progress, whose `onStep` sees the codes.
 *
 * @example
 * const prior = subspacePrior((await loadDatasetPrior(model)).stored, 32);
 * priorInputs(prior, new Float32Array(2 * 32), 2).length // 1568: two mean images
 */
export function priorInputs(prior: DataPrior, codes: Float32Array, rows: number): Float32Array {
  const k = latentSize(prior);
  if (codes.length < rows * k) throw new ActmaxError('bad-input', `priorInputs: ${rows} codes of ${k} need ${rows * k} values, got ${codes.length}`);
  if (prior.type === 'subspace') {
    const n = prior.mean.length;
    const out = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) out.set(subspaceInput(prior, codes.subarray(r * k, (r + 1) * k)), r * n);
    return out;
  }
  const g = prior.decoder;
  const y = tf.tidy(() => {
    const out = g.net.predict(tf.tensor(codes.subarray(0, rows * k), [rows, ...g.inputs[0].shape])) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out[0] : out).reshape([rows, -1]);
  });
  const data = Float32Array.from(y.dataSync());
  y.dispose();
  return data;
}
