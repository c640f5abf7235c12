/**
 * One run of the graph by TF.js itself (batch 1, zero input of the chosen size) that records the
 * shape and dtype of every value the IR import needs, and the values of those computed from
 * constants and static shapes only (Shape → StridedSlice → Pack → Reshape targets and the like).
 * Using TF.js's own executor for this folding gives TF's exact semantics for every op.
 */
import * as tf from '@tensorflow/tfjs';

/** What the probe saw of one value. */
export interface Probed {
  shape: number[];
  dtype: string;
  /** Values, for the values asked for with `withData`. */
  data?: Float32Array | Int32Array | Uint8Array;
}

/** Values fetched per run: bounds memory on big graphs (every fetched value is held until read). */
const CHUNK = 1000;

/**
 * Run a graph model: `execute` when the requested part has no dynamic op, else `executeAsync`
 * (which prints a warning when it was not needed, so it is not tried first).
 *
 * @example
 * const [y] = await executeGraph(net, { input_1: x }, ['Identity']);
 */
export async function executeGraph(net: tf.GraphModel, feeds: tf.NamedTensorMap, outputs?: string[]): Promise<tf.Tensor[]> {
  let res: tf.Tensor | tf.Tensor[];
  try {
    res = net.execute(feeds, outputs);
  } catch (e) {
    if (!/executeAsync/.test((e as Error).message)) throw e;
    res = (await net.executeAsync(feeds, outputs)) as tf.Tensor | tf.Tensor[];
  }
  return Array.isArray(res) ? res : [res];
}

/**
 * Run the graph on `feeds` and record `names` (value names: `node` or `node:k`).
 *
 * @example
 * const seen = await probeGraph(net, { input_1: tf.zeros([1, 64, 64, 3]) }, ['conv/Relu'], new Set());
 */
export async function probeGraph(net: tf.GraphModel, feeds: tf.NamedTensorMap, names: string[], withData: Set<string>): Promise<Map<string, Probed>> {
  const out = new Map<string, Probed>();
  for (let i = 0; i < names.length; i += CHUNK) {
    const chunk = names.slice(i, i + CHUNK);
    const list = await executeGraph(net, feeds, chunk);
    try {
      chunk.forEach((name, k) => {
        const t = list[k];
        const data = withData.has(name) ? (t.dataSync() as Float32Array | Int32Array | Uint8Array).slice() : undefined;
        out.set(name, { shape: t.shape.slice(), dtype: t.dtype, ...(data ? { data } : {}) });
      });
    } finally {
      tf.dispose(list);
    }
  }
  return out;
}
