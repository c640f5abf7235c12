import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
// @ts-expect-error omggif ships no types; it is only used here to decode GIFs independently of the encoder.
import { GifReader } from 'omggif';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeModel } from '../model/describe.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { maximize } from '../optimize/maximize.js';
import { encodePng } from '../io/png.js';
import { imageDefaults } from '../pipeline/defaults.js';
import { atlasImage } from './atlas.js';
import { animationFrames, encodeGif, frameSteps } from './animation.js';
import { totalVariation } from '../engine/tfjs-pipeline.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLED = path.join(REPO, 'models', 'fashion-mnist-mlp');

function wrap(net: tf.LayersModel): ActmaxModel {
  return describeModel({ net, format: 'tfjs-layers', metadata: {}, notes: [] }, 'memory');
}

/** A seeded CNN on H×W×C inputs: Conv(6, relu) → MaxPool → Conv(8, relu) → Flatten → Dense(4, softmax). */
function cnn(shape: number[], seed = 1): ActmaxModel {
  return wrap(tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: shape, filters: 6, kernelSize: 3, activation: 'relu', name: 'c1', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'c2', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 4, activation: 'softmax', name: 'out', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  }));
}

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y; }
  return sab / Math.sqrt(saa * sbb);
}

/** Mean Pearson correlation between the restarts of each target (rendered inputs). */
function meanRestartCorrelation(x: Float32Array, targets: number, restarts: number, n: number): number {
  let s = 0, c = 0;
  for (let t = 0; t < targets; t++) for (let i = 0; i < restarts; i++) for (let j = i + 1; j < restarts; j++) {
    s += corr(x.subarray((t * restarts + i) * n, (t * restarts + i + 1) * n), x.subarray((t * restarts + j) * n, (t * restarts + j + 1) * n));
    c++;
  }
  return s / c;
}

let bundled: ActmaxModel;
beforeAll(async () => {
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  bundled = await loadModel(BUNDLED);
});

describe('imageDefaults', () => {
  it('chooses from the input shape', () => {
    const flat = wrap(tf.sequential({ layers: [tf.layers.dense({ inputShape: [16], units: 2 })] }));
    expect(imageDefaults(flat)).toMatchObject({ kind: 'none', param: 'pixel', transforms: [], regularizers: [] });
    expect(imageDefaults(bundled)).toMatchObject({ kind: 'small', param: 'pixel', transforms: [{ kind: 'jitter', pixels: 2 }], regularizers: [{ kind: 'tv' }] });
    expect(imageDefaults(cnn([8, 8, 1]))).toMatchObject({ kind: 'small', transforms: [{ kind: 'jitter', pixels: 1 }] });
    const big = imageDefaults(cnn([96, 96, 3]));
    expect(big).toMatchObject({ kind: 'large', param: { kind: 'spectral', decorrelate: true }, regularizers: [] });
    expect(big.transforms.map((t) => t.kind)).toEqual(['pad', 'jitter', 'scale', 'rotate', 'jitter']);
    expect(imageDefaults(cnn([96, 96, 1])).param).toEqual({ kind: 'spectral', decorrelate: false });
  });
});

describe('maximize with the image pipeline', () => {
  it('spectral: the value rises, the result is the rendered image in range, and the model gives that value on it', async () => {
    const model = cnn([16, 16, 3], 4);
    const spec = { kind: 'logit' as const, index: 2 };
    const start = await maximize(model, spec, { steps: 0, restarts: 2, image: { param: 'spectral', transforms: [] }, seed: 1 });
    const run = await maximize(model, spec, { steps: 100, restarts: 2, image: { param: 'spectral', regularizers: [] }, seed: 1 });
    expect(run.image?.[0]).toMatch(/spectral \+ colour decorrelation/);
    const r = run.results[0];
    expect(r.value).toBeGreaterThan(start.results[0].value + 0.3);
    expect(r.input).toHaveLength(16 * 16 * 3);
    expect(Math.min(...r.input)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r.input)).toBeLessThanOrEqual(1);
    // The reported input reproduces the reported value (it is the picture, not the spectrum).
    const logits = tf.tidy(() => {
      const net = model.net as tf.LayersModel;
      const h = tf.model({ inputs: net.inputs, outputs: net.getLayer('flat').output as tf.SymbolicTensor }).predict(tf.tensor(r.input, [1, 16, 16, 3])) as tf.Tensor;
      const [w, b] = net.getLayer('out').getWeights();
      return h.matMul(w).add(b).dataSync();
    });
    expect(logits[2]).toBeCloseTo(r.value, 4);
    expect(r.residuals.box ?? 0).toBe(0);
    model.dispose();
  });

  it('sigmoid squashes into a given box and refuses other constraints clearly', async () => {
    const model = cnn([8, 8, 1]);
    const run = await maximize(model, { kind: 'logit', index: 0 }, { steps: 20, restarts: 1, image: { param: 'sigmoid' }, constraints: [{ kind: 'box', lo: 0.2, hi: 0.6 }] });
    expect(Math.min(...run.results[0].input)).toBeGreaterThanOrEqual(0.2);
    expect(Math.max(...run.results[0].input)).toBeLessThanOrEqual(0.6);
    await expect(maximize(model, { kind: 'logit', index: 0 }, { steps: 2, image: { param: 'sigmoid' }, constraints: [{ kind: 'ball', p: 'inf', eps: 0.1, ref: new Array(64).fill(0.5) }] }))
      .rejects.toThrow(/--param sigmoid keeps input ".*" in a box by construction and cannot also hold constraint "linf"; use --param pixel/);
    await expect(maximize(model, { kind: 'logit', index: 0 }, { steps: 2, image: { param: 'spectral', regularizers: [{ kind: 'blur', weight: 0.5 }] } }))
      .rejects.toThrow(/blur .* needs --param pixel/);
    model.dispose();
  });

  it('image-only settings on a flat input are refused with the shapes', async () => {
    const flat = wrap(tf.sequential({ layers: [tf.layers.dense({ inputShape: [16], units: 2, name: 'd' })] }));
    await expect(maximize(flat, { kind: 'logit', index: 0 }, { steps: 1, image: { transforms: [{ kind: 'jitter', pixels: 1 }] } }))
      .rejects.toThrow(/transforms need an image input \(H×W or H×W×C\); the optimised inputs are ".*" \[16\]/);
    // 'auto' on a flat input is a no-op: same answer as without the pipeline.
    const a = await maximize(flat, { kind: 'logit', index: 0 }, { steps: 10, restarts: 2, image: 'auto' });
    const b = await maximize(flat, { kind: 'logit', index: 0 }, { steps: 10, restarts: 2 });
    expect(a.results[0].input).toEqual(b.results[0].input);
    flat.dispose();
  });

  it('transforms are seeded: the same seed gives the same picture', async () => {
    const model = cnn([12, 12, 1]);
    const opts = { steps: 15, restarts: 2, seed: 7, image: { transforms: [{ kind: 'jitter' as const, pixels: 2 }, { kind: 'rotate' as const, degrees: 10 }] } };
    const a = await maximize(model, { kind: 'channel', layer: 'c2', channel: 1 }, opts);
    const b = await maximize(model, { kind: 'channel', layer: 'c2', channel: 1 }, opts);
    expect(a.results[0].input).toEqual(b.results[0].input);
    model.dispose();
  });

  it('blur each step gives a smoother picture', async () => {
    const spec = { kind: 'logit' as const, index: 3 };
    const base = { steps: 60, restarts: 1, seed: 2, constraints: [{ kind: 'box' as const, lo: 0, hi: 1 }] };
    const plain = await maximize(bundled, spec, { ...base, image: { transforms: [], regularizers: [] } });
    const blurred = await maximize(bundled, spec, { ...base, image: { transforms: [], regularizers: [{ kind: 'blur', weight: 0.5 }] } });
    const tv = (x: number[]) => tf.tidy(() => totalVariation(tf.tensor(x, [1, 28, 28]), false).dataSync()[0]);
    expect(tv(blurred.results[0].input)).toBeLessThan(0.7 * tv(plain.results[0].input));
  });

  it('diversity lowers the correlation between restarts', async () => {
    const targets = [0, 1, 2].map((index) => ({ kind: 'logit' as const, index }));
    const base = { steps: 120, restarts: 4, seed: 3, keepRestarts: true, constraints: [{ kind: 'box' as const, lo: 0, hi: 1 }] };
    const without = await maximize(bundled, targets, { ...base, image: 'auto' });
    const withDiv = await maximize(bundled, targets, { ...base, image: { regularizers: [{ kind: 'tv', weight: 0.5 }, { kind: 'diversity', weight: 10 }] } });
    expect(withDiv.image?.[0]).toMatch(/diversity 10 on dense/);
    const cWithout = meanRestartCorrelation(without.restartInputs!, 3, 4, 784);
    const cWith = meanRestartCorrelation(withDiv.restartInputs!, 3, 4, 784);
    console.log(`mean pairwise correlation between restarts (bundled model, 3 classes × 4 restarts): without diversity ${cWithout.toFixed(3)}, with diversity 10 ${cWith.toFixed(3)}`);
    expect(cWith).toBeLessThan(cWithout - 0.1);
    expect(withDiv.results[0].perRestart).toHaveLength(4);
  });

  it('diversity on a conv layer (Gram matrices) also separates restarts', async () => {
    const model = cnn([12, 12, 1], 9);
    const base = { steps: 80, restarts: 4, seed: 5, keepRestarts: true, image: { transforms: [] as [], regularizers: [] as Array<{ kind: 'diversity'; weight: number; layer: string }> } };
    const without = await maximize(model, { kind: 'channel', layer: 'c2', channel: 0 }, base);
    const withDiv = await maximize(model, { kind: 'channel', layer: 'c2', channel: 0 }, { ...base, image: { transforms: [], regularizers: [{ kind: 'diversity', weight: 5, layer: 'c1' }] } });
    expect(meanRestartCorrelation(withDiv.restartInputs!, 1, 4, 144)).toBeLessThan(meanRestartCorrelation(without.restartInputs!, 1, 4, 144));
    model.dispose();
  });
});

describe('atlas and animation files', () => {
  it('decode with independent PNG/GIF readers with the expected size and frame count', async () => {
    const targets = [0, 1, 2].map((index) => ({ kind: 'logit' as const, index }));
    const run = await maximize(bundled, targets, { steps: 20, restarts: 2, keepRestarts: true, frames: frameSteps(20, 5), image: 'auto' });
    expect(run.frames?.map((f) => f.step)).toEqual([0, 5, 10, 15, 20]);
    const atlas = PNG.sync.read(Buffer.from(encodePng(atlasImage(run, bundled))));
    // 2 columns (restarts) × 3 rows (targets) of 112-px panels (28 px × 4) plus labels.
    expect(atlas.width).toBeGreaterThanOrEqual(2 * 112);
    expect(atlas.width).toBeLessThan(3 * 112);
    expect(atlas.height).toBeGreaterThanOrEqual(3 * 112);
    expect(atlas.height).toBeLessThan(4 * 112);
    const frames = animationFrames(run, bundled);
    const gif = new GifReader(Buffer.from(encodeGif(frames, 100)));
    expect(gif.numFrames()).toBe(5);
    expect(gif.width).toBe(frames[0].width);
    expect(gif.height).toBe(frames[0].height);
    // The last frame shows the final state: decode it and compare a pixel inside the first panel.
    const rgba = new Uint8Array(gif.width * gif.height * 4);
    gif.decodeAndBlitFrameRGBA(4, rgba);
    const f = frames[4];
    let same = 0;
    for (let i = 0; i < rgba.length; i += 4) if (rgba[i] === f.data[i]) same++;
    expect(same / (rgba.length / 4)).toBe(1);
  });
});
