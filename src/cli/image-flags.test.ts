import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
// @ts-expect-error omggif ships no types; used only to decode the GIF independently of the encoder.
import { GifReader } from 'omggif';
import { describe, expect, it } from 'vitest';
import { runCli } from './main.js';
import { expandUnits } from './image-flags.js';
import { parseParamSpec, parseRegularizerSpec, parseTransformSpec } from '../pipeline/specs.js';

const BUNDLED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models/fashion-mnist-mlp');

async function cli(args: string[]) {
  let out = '', err = '';
  const code = await runCli(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('image flag grammars', () => {
  it('parse params, transforms and regularizers', () => {
    expect(parseParamSpec('spectral:decay=1.5,decorrelate=no')).toEqual({ kind: 'spectral', decay: 1.5, decorrelate: false });
    expect(parseParamSpec('sigmoid')).toEqual({ kind: 'sigmoid' });
    expect(() => parseParamSpec('fourier')).toThrow(/unknown kind "fourier".*param specs: pixel \| sigmoid \| spectral/);
    expect(parseTransformSpec('scale:0.9,1.1', [28, 28])).toEqual([{ kind: 'scale', min: 0.9, max: 1.1 }]);
    expect(parseTransformSpec('standard', [224, 224]).map((t) => t.kind)).toEqual(['pad', 'jitter', 'scale', 'rotate', 'jitter']);
    expect(() => parseTransformSpec('jitter:x', [28, 28])).toThrow(/PIXELS must be a whole number.*transform specs/);
    expect(parseRegularizerSpec('diversity:10:conv2d_1')).toEqual([{ kind: 'diversity', weight: 10, layer: 'conv2d_1' }]);
    expect(parseRegularizerSpec('none')).toEqual([]);
    expect(() => parseRegularizerSpec('tv')).toThrow(/W must be a number.*regularizer specs/);
  });

  it('--units expands channel/neuron objectives and refuses others', () => {
    const ctx = { layerShape: () => [5, 5, 3] };
    expect(expandUnits('channel:c', 'all', ctx)).toHaveLength(3);
    expect(expandUnits('neuron:c', '0-2,7', ctx).map((s) => (s as { index: number }).index)).toEqual([0, 1, 2, 7]);
    expect(() => expandUnits('logit', 'all', ctx)).toThrow(/--units needs --objective channel:LAYER or neuron:LAYER/);
  });
});

describe('actmax maximize with image flags', () => {
  it('--units writes an atlas (units × restarts), --animate a GIF with the asked frame count; result.json says what applied', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-img-'));
    const r = await cli(['maximize', BUNDLED, '--objective', 'neuron:dense:pre', '--units', '0-3', '--restarts', '2', '--steps', '20', '--animate', '4', '--regularizer', 'tv:0.2', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const atlas = PNG.sync.read(await fs.readFile(path.join(out, 'atlas.png')));
    expect(atlas.height).toBeGreaterThanOrEqual(4 * 112);
    const gif = new GifReader(await fs.readFile(path.join(out, 'animation.gif')));
    expect(gif.numFrames()).toBe(4);
    const json = JSON.parse(await fs.readFile(path.join(out, 'result.json'), 'utf8'));
    expect(json.results).toHaveLength(4);
    expect(json.image[0]).toMatch(/transforms jitter ±2px; regularizers tv 0.2/);
    expect(json.results[0].perRestart).toHaveLength(2);
  });

  it('--image none with image flags is refused; bad specs name the grammar', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-img-'));
    const a = await cli(['maximize', BUNDLED, '--objective', 'logit:1', '--image', 'none', '--param', 'sigmoid', '--out', out]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--image none turns the image machinery off/);
    const b = await cli(['maximize', BUNDLED, '--objective', 'logit:1', '--transform', 'spin:3', '--out', out]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/unknown kind "spin".*transform specs/);
  });

  it('inspect prints the image defaults', async () => {
    const r = await cli(['inspect', BUNDLED]);
    expect(r.out).toMatch(/image defaults\n\s+28×28 grayscale image \(≤ 64 px\): param pixel; transforms jitter ±2px; regularizers tv 0.5/);
  });
});
