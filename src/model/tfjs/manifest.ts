/**
 * Reads the weight shards a TF.js `model.json` manifest names, checking each shard exists and
 * that the bytes add up to what the manifest declares before decoding anything.
 */
import * as tf from '@tensorflow/tfjs';
import { ActmaxError, isActmaxError } from '../../errors.js';
import type { ModelFiles } from '../formats.js';
import { validate, z } from '../../io/validate.js';

/** Largest total weight size accepted: 2^28 floats (1 GiB). */
const MAX_WEIGHT_BYTES = 2 ** 30;

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, string: 0 };

/** The weightsManifest of a TF.js model.json: groups of shard paths and the weights they hold. */
export const WeightsManifestSchema = z.array(
  z.looseObject({
    paths: z.array(z.string()),
    weights: z.array(
      z.looseObject({
        name: z.string().min(1),
        shape: z.array(z.number().int().nonnegative()),
        dtype: z.string(),
        quantization: z.looseObject({ dtype: z.string() }).optional(),
      }),
    ),
  }),
);

/**
 * The top level of a TF.js model.json (layers or graph model): what actmax reads from it. The
 * topology itself is checked by the layers/graph loaders; the manifest by {@link readManifestWeights}.
 */
export const ModelJsonSchema = z.looseObject({
  format: z.string().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.unknown().optional(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).nullish(),
  signature: z.record(z.string(), z.unknown()).nullish(),
});

/** Bytes a manifest entry takes in its shard. */
function entryBytes(w: tf.io.WeightsManifestEntry, file: string): number {
  const size = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  const per = BYTES_PER[dtype];
  if (per === undefined || per === 0) {
    throw new ActmaxError('unsupported', `${file}: weight "${w.name}" has dtype ${dtype}, which actmax does not read`);
  }
  return size * per;
}

/** A shard path as written (`./x.bin`, `group1-shard1of1.bin`) → a sibling path. */
function cleanPath(p: string): string {
  return p.replace(/^\.\//, '');
}

/**
 * Reads and checks all weights a manifest names. Returns the weight specs in manifest order and
 * the concatenated bytes, as `tf.io.decodeWeights` and `tf.io.fromMemory` expect.
 *
 * @example
 * const { specs, data } = await readManifestWeights(json.weightsManifest, files, 'model.json');
 */
export async function readManifestWeights(
  manifest: unknown,
  files: ModelFiles,
  file: string,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  if (manifest === undefined || manifest === null) return { specs: [], data: new ArrayBuffer(0) };
  const groups = validate(WeightsManifestSchema, manifest, {
    where: file,
    root: 'weightsManifest',
    expected: 'groups of {"paths": [shard files], "weights": [{"name", "shape": [sizes ≥ 0], "dtype"}]}',
    code: 'bad-model',
  });
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const raw of groups as Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>) {
    const declared = raw.weights.reduce((a, w) => a + entryBytes(w, file), 0);
    total += declared;
    if (total > MAX_WEIGHT_BYTES) {
      throw new ActmaxError('bad-model', `${file}: the manifest declares ${total} bytes of weights; more than ${MAX_WEIGHT_BYTES} is refused`);
    }
    let got = 0;
    for (const p of raw.paths) {
      let bytes: Uint8Array;
      try {
        bytes = await files.readSibling(cleanPath(p));
      } catch (e) {
        if (isActmaxError(e)) throw e;
        throw new ActmaxError('file-not-found', `${file}: weight shard "${p}" named in the manifest cannot be read: ${(e as Error).message}`);
      }
      got += bytes.length;
      if (got > declared) break;
      chunks.push(bytes);
    }
    if (got !== declared) {
      throw new ActmaxError('bad-model', `${file}: the weight shards ${raw.paths.join(', ')} hold ${got} bytes but the manifest declares ${declared} for ${raw.weights.length} weights (wrong or truncated shard?)`);
    }
    specs.push(...raw.weights);
  }
  const data = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.length;
  }
  return { specs, data: data.buffer };
}
