/**
 * Layers models whose manifest holds quantised weights (the TF.js converter's
 * `--quantize_uint8/uint16/float16`): written here with the converter's own rules
 * (tensorflowjs/quantization.py: the range widened to include 0, the zero point nudged to an
 * integer), loaded by actmax, and compared with TF.js's own `loadLayersModel` on the same files.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { strToU8 } from 'fflate';
import { useBackend } from '../../backend.js';
import { loadModel } from '../load.js';
import { buildForward } from '../activations.js';
import { relError } from '../testing/model-files.js';

/** The converter's affine quantisation of one weight (uint8/uint16): quantised values, scale and min. */
function quantize(data: Float32Array, bits: 8 | 16): { q: Uint8Array | Uint16Array; scale: number; min: number } {
  const qmax = bits === 8 ? 255 : 65535;
  let lo = Math.min(0, ...data), hi = Math.max(0, ...data);
  if (lo === hi) return { q: bits === 8 ? new Uint8Array(data.length) : new Uint16Array(data.length), scale: 1, min: lo };
  const scale = (hi - lo) / qmax;
  const zero = Math.round(-lo / scale);
  lo = -zero * scale;
  hi = qmax * scale + lo;
  const q = bits === 8 ? new Uint8Array(data.length) : new Uint16Array(data.length);
  data.forEach((v, i) => (q[i] = Math.round((Math.min(hi, Math.max(lo, v)) - lo) / scale)));
  return { q, scale, min: lo };
}

/** A small CNN saved as TF.js layers artifacts, then every weight quantised. */
async function quantizedFiles(bits: 8 | 16): Promise<{ json: Record<string, unknown>; bin: Uint8Array }> {
  const init = (seed: number) => tf.initializers.randomUniform({ minval: -0.4, maxval: 0.4, seed });
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(1), biasInitializer: init(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3), biasInitializer: init(4) }));
  let artifacts: tf.io.ModelArtifacts | null = null;
  await m.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  m.dispose();
  const a = artifacts as unknown as tf.io.ModelArtifacts;
  const floats = new Float32Array(a.weightData as ArrayBuffer);
  const parts: Uint8Array[] = [];
  let off = 0;
  const weights = a.weightSpecs!.map((spec) => {
    const n = spec.shape.reduce((x, y) => x * y, 1);
    const { q, scale, min } = quantize(floats.subarray(off, off + n), bits);
    off += n;
    parts.push(new Uint8Array(q.buffer));
    return { ...spec, quantization: { dtype: bits === 8 ? 'uint8' : 'uint16', scale, min, original_dtype: 'float32' } };
  });
  const bin = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((o, p) => (bin.set(p, o), o + p.length), 0);
  const json = { format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights }] };
  return { json, bin };
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('quantised layers models', () => {
  for (const bits of [8, 16] as const) {
    it(`uint${bits} weights load and compute what TF.js's loadLayersModel computes`, async () => {
      const { json, bin } = await quantizedFiles(bits);
      const ours = await loadModel({ files: { 'model.json': strToU8(JSON.stringify(json)), 'weights.bin': bin } });
      const manifest = (json.weightsManifest as Array<{ weights: tf.io.WeightsManifestEntry[] }>)[0].weights;
      const ref = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: manifest, weightData: bin.slice().buffer }));
      const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 9);
      expect(ours.ir).not.toBeNull();
      const fwd = buildForward(ours, []);
      const y = tf.tidy(() => fwd.run([x]).outputs[0]!);
      const r = ref.predict(x) as tf.Tensor;
      expect(relError(y.dataSync(), r.dataSync())).toBeLessThanOrEqual(1e-6);
      // The dequantised kernel is what TF.js's own decodeWeights gives.
      const k = (ours.net as tf.LayersModel).getWeights()[0].dataSync();
      expect(Array.from(k)).toEqual(Array.from(ref.getWeights()[0].dataSync()));
      tf.dispose([x, y, r]);
      fwd.dispose();
      ref.dispose();
      ours.dispose();
    });
  }
});
