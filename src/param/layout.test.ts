/**
 * Channels-first image inputs ([C, H, W]): pictures round-trip through the layout helpers and
 * through input.png; the image pipeline (spectral parameterisation, transforms, TV) renders and
 * optimises such an input, and the model sees it channels-first.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { describeModel } from '../model/describe.js';
import { writeInputFiles } from '../io/results.js';
import { readInputFile } from '../io/inputs.js';
import { maximize } from '../optimize/maximize.js';
import { fromPicture, imageDimsOf, pictureShape, toPicture } from './layout.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** A [3, 12, 10] channels-first conv model. */
function chwModel() {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [3, 12, 10], dataFormat: 'channelsFirst', filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  m.add(tf.layers.flatten({ dataFormat: 'channelsFirst' }));
  m.add(tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  return describeModel({ net: m, format: 'tfjs-layers', metadata: {}, notes: [] }, 'chw');
}

describe('channels-first image inputs', () => {
  it('are detected, and pictures round-trip', () => {
    const model = chwModel();
    const info = model.inputs[0];
    expect(info.layout).toBe('nchw');
    expect(imageDimsOf(info)).toEqual([12, 10, 3]);
    expect(pictureShape(info)).toEqual([12, 10, 3]);
    const x = Float32Array.from({ length: 2 * 360 }, (_, i) => i);
    const pic = toPicture(x, info);
    expect(pic[1]).toBe(120); // pixel 0, green = channel 1's first value
    expect(Array.from(fromPicture(pic, info))).toEqual(Array.from(x));
    model.dispose();
  });

  it('input.png holds the H×W×C picture and reads back into the model layout', async () => {
    const model = chwModel();
    const dir = mkdtempSync(path.join(tmpdir(), 'actmax-chw-'));
    const input = Array.from({ length: 360 }, (_, i) => ((i * 37) % 256) / 255);
    await writeInputFiles(dir, [{ objective: 'logit:0', input, shape: [3, 12, 10], inputs: { [model.inputs[0].name]: input }, label: 'x', value: 1 }], model);
    const { decodePng, encodePng, toRgba } = await import('../io/png.js');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const png = decodePng(new Uint8Array(readFileSync(path.join(dir, 'input.png'))), 'input.png');
    expect(png.width / png.height).toBeCloseTo(10 / 12, 5);
    // Its top-left pixel is the picture's first pixel: channel c of it sits at c·120 in the input.
    [0, 120, 240].forEach((at, c) => expect(Math.abs(png.data[c] - input[at] * 255)).toBeLessThanOrEqual(1));
    // A picture at the model's size reads back into the model's layout.
    writeFileSync(path.join(dir, 'small.png'), encodePng(toRgba(toPicture(input, model.inputs[0]), [12, 10, 3], [0, 1], 1)));
    const back = (await readInputFile(path.join(dir, 'small.png'), model))[model.inputs[0].name];
    back.forEach((v, i) => expect(Math.abs(v - input[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-6));
    model.dispose();
  });

  it('the image pipeline (spectral, transforms, TV) optimises a channels-first input', async () => {
    const model = chwModel();
    const run = await maximize(model, { kind: 'logit', index: 0 }, { steps: 15, restarts: 2, image: { param: 'spectral', transforms: [{ kind: 'jitter', pixels: 1 }, { kind: 'rotate', degrees: 5 }], regularizers: [{ kind: 'tv', weight: 0.1 }] } });
    const r = run.results[0];
    expect(r.value).toBeGreaterThan(r.history[0].value);
    expect(r.input.every((v) => v >= 0 && v <= 1)).toBe(true);
    // The reported input is channels-first: the model gives the reported value on it.
    const y = tf.tidy(() => (model.net as tf.LayersModel).predict(tf.tensor(r.input, [1, 3, 12, 10])) as tf.Tensor);
    expect(y.dataSync()[0]).toBeCloseTo(r.value, 4);
    y.dispose();
    model.dispose();
  });
});
