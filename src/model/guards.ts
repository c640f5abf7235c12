import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';

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

/** Largest weight tensor actmax accepts from a file (elements): 2^28 floats = 1 GiB. */
export const MAX_WEIGHT_ELEMENTS = 2 ** 28;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, int8: 1, uint16: 2, int16: 2 };

/**
 * Check a TF.js `weightsManifest` before any weight is read or allocated: an array of groups, each
 * with string `paths` and entries `{name, shape, dtype}` whose shapes are small non-negative
 * integers and dtypes TF.js knows.
 *
 * @example
 * const groups = checkWeightManifest(json.weightsManifest, 'model.json');
 */
export function checkWeightManifest(manifest: unknown, file: string): Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> {
  if (manifest === undefined || manifest === null) return [];
  const bad = (why: string): never => {
    throw new ActmaxError('bad-model', `${file}: bad weightsManifest: ${why}`);
  };
  if (!Array.isArray(manifest)) bad('it must be an array of {paths, weights} groups');
  const seenNames = new Set<string>();
  return (manifest as unknown[]).map((g, gi) => {
    if (!g || typeof g !== 'object') bad(`group ${gi} is not an object`);
    const { paths, weights } = g as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p.length > 0)) bad(`group ${gi} needs "paths": a list of file names`);
    if (new Set(paths as string[]).size !== (paths as string[]).length) bad(`group ${gi} lists the same weight file twice`);
    for (const p of paths as string[]) {
      if (p.startsWith('/') || /^[a-z]+:/i.test(p) || p.split(/[\\/]/).includes('..')) bad(`weight file "${p}" must be a plain name beside the model file`);
    }
    if (!Array.isArray(weights)) bad(`group ${gi} needs "weights": a list of {name, shape, dtype}`);
    const entries = (weights as unknown[]).map((w, wi) => {
      const e = w as { name?: unknown; shape?: unknown; dtype?: unknown; quantization?: unknown };
      if (!e || typeof e !== 'object' || typeof e.name !== 'string') bad(`weight ${wi} of group ${gi} has no name`);
      const label = `weight "${e.name}"`;
      if (seenNames.has(e.name as string)) bad(`${label} appears twice`);
      seenNames.add(e.name as string);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`${label} has shape ${JSON.stringify(e.shape)}; a shape is a list of non-negative integers`);
      const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
      if (count > MAX_WEIGHT_ELEMENTS) bad(`${label} has ${count} values (shape [${(e.shape as number[]).join(', ')}]), more than the ${MAX_WEIGHT_ELEMENTS} actmax accepts`);
      if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) bad(`${label} has dtype ${JSON.stringify(e.dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
      if (e.quantization !== undefined) {
        const q = e.quantization as { dtype?: unknown };
        if (!q || typeof q !== 'object' || typeof q.dtype !== 'string' || !(q.dtype in DTYPE_BYTES)) bad(`${label} has a quantization without a known dtype`);
      }
      return e as tf.io.WeightsManifestEntry;
    });
    return { paths: paths as string[], weights: entries };
  });
}

/** Bytes one manifest entry occupies in the weight files. @example weightBytes({ name: 'k', shape: [2, 3], dtype: 'float32' }) // 24 */
export function weightBytes(e: tf.io.WeightsManifestEntry): number {
  const count = e.shape.reduce((a, b) => a * b, 1);
  return count * DTYPE_BYTES[e.quantization?.dtype ?? e.dtype];
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
 * checkFiniteOutputs(model, 'model.json');
 */
export function checkFiniteOutputs(model: { net: tf.LayersModel | tf.GraphModel; inputs: Array<{ name: string; shape: number[]; range: [number, number] }> }, file: string): void {
  const outs = tf.tidy(() => {
    const xs = model.inputs.map((i) => {
      const n = i.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(2 * n);
      values.fill(i.range[0], 0, n);
      values.fill((i.range[0] + i.range[1]) / 2, n);
      return tf.tensor(values, [2, ...i.shape]);
    });
    const net = model.net;
    const res = Array.isArray((net as tf.LayersModel).layers)
      ? (net as tf.LayersModel).predict(xs.length === 1 ? xs[0] : xs)
      : (net as tf.GraphModel).execute(xs.length === 1 ? xs[0] : Object.fromEntries((net as tf.GraphModel).inputs.map((t, k) => [t.name, xs[k]])));
    return Array.isArray(res) ? res : [res as tf.Tensor];
  });
  let problem: string | null = null;
  try {
    for (const [k, o] of outs.entries()) {
      const v = o.dataSync();
      const j = v.findIndex((x) => !Number.isFinite(x));
      if (j >= 0) {
        problem = `output ${k} is ${v[j]} for the input ${j < v.length / 2 ? 'at the lower end of its range' : 'at the middle of its range'}`;
        break;
      }
    }
  } finally {
    tf.dispose(outs);
  }
  if (problem) throw new ActmaxError('bad-model', `${file}: ${problem}; the weights are damaged or do not fit the layers (e.g. a negative BatchNormalization variance)`);
}
