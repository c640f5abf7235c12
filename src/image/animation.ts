import * as gifenc from 'gifenc';
import { ActmaxError } from '../errors.js';
import { gridImage, type RgbaImage } from '../io/raster.js';
import { drawText } from '../io/font.js';
import type { ActmaxModel } from '../model/types.js';
import { pictureShape, toPicture } from '../param/layout.js';
import type { MaximizeResult } from '../optimize/maximize.js';
import { targetLabel } from '../objectives/check.js';

// gifenc ships CommonJS: Node's ESM loader may put its exports under `default`.
const gif = ((gifenc as unknown as { GIFEncoder?: unknown }).GIFEncoder ? gifenc : (gifenc as unknown as { default: typeof gifenc }).default) as typeof gifenc;

/**
 * `count` evenly spaced steps from 0 to `steps` (both ends included), for `maximize({ frames })`.
 *
 * @example
 * frameSteps(200, 5) // [0, 50, 100, 150, 200]
 */
export function frameSteps(steps: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 2) throw new ActmaxError('bad-option', `an animation needs at least 2 frames, got ${count}`);
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.round((i * steps) / (count - 1)));
  return [...out];
}

/**
 * One picture per recorded frame: a grid of the first restart of every target at that step, with
 * the step number in the corner. Needs a run made with `frames`.
 *
 * @example
 * const run = await maximize(model, logit(1), { steps: 20, restarts: 1, frames: frameSteps(20, 5) });
 * animationFrames(run, model).length // 5
 */
export function animationFrames(run: MaximizeResult, model: ActmaxModel): RgbaImage[] {
  if (!run.frames?.length) throw new ActmaxError('bad-option', 'this run recorded no frames; pass frames (e.g. frameSteps(steps, 20)) to maximize');
  const first = run.results[0];
  const n = first.input.length;
  const info = model.inputs.find((i) => i.name in first.inputs) ?? model.inputs[0];
  return run.frames.map((f) => {
    const view = { shape: first.shape, layout: info.layout };
    const panels = run.results.map((r, t) => ({ values: toPicture(f.input.subarray(t * run.restarts * n, (t * run.restarts + 1) * n), view), label: targetLabel(r.spec, model) }));
    const grid = gridImage(panels, pictureShape(view), info.range);
    // A white strip on top holds the step number.
    const strip = 12;
    const data = new Uint8Array(grid.width * (grid.height + strip) * 4).fill(255);
    data.set(grid.data, grid.width * strip * 4);
    drawText(data, grid.width, 3, 3, `step ${f.step}`, [0, 0, 0]);
    return { width: grid.width, height: grid.height + strip, data };
  });
}

/**
 * Encode same-sized RGBA frames as a looping GIF (gifenc; grey frames keep exact grey levels,
 * colour frames share one 256-colour palette).
 *
 * @example
 * const run = await maximize(model, logit(1), { steps: 20, restarts: 1, frames: frameSteps(20, 5) });
 * const gif = encodeGif(animationFrames(run, model), 120); // GIF bytes: 5 frames, 120 ms each
 */
export function encodeGif(frames: RgbaImage[], delayMs = 100): Uint8Array {
  if (frames.length === 0) throw new ActmaxError('bad-option', 'no frames to encode');
  const { width, height } = frames[0];
  if (frames.some((f) => f.width !== width || f.height !== height)) throw new ActmaxError('bad-option', 'every animation frame must have the same size');
  const grey = frames.every((f) => {
    for (let i = 0; i < f.data.length; i += 4) if (f.data[i] !== f.data[i + 1] || f.data[i] !== f.data[i + 2]) return false;
    return true;
  });
  let palette: number[][];
  if (grey) palette = Array.from({ length: 256 }, (_, v) => [v, v, v]);
  else {
    // One palette from a sample of every frame keeps colours stable across the animation.
    const all = new Uint8Array(frames.reduce((s, f) => s + f.data.length, 0));
    let off = 0;
    for (const f of frames) { all.set(f.data, off); off += f.data.length; }
    palette = gif.quantize(all, 256);
  }
  const enc = gif.GIFEncoder();
  frames.forEach((f, i) => {
    let index: Uint8Array;
    if (grey) {
      index = new Uint8Array(width * height);
      for (let p = 0; p < index.length; p++) index[p] = f.data[p * 4];
    } else index = gif.applyPalette(f.data, palette);
    enc.writeFrame(index, width, height, { ...(i === 0 ? { palette, repeat: 0 } : {}), delay: delayMs });
  });
  enc.finish();
  return enc.bytes();
}
