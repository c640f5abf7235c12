import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { encodePng, isImageShape } from '../io/png.js';
import type { ActmaxModel } from '../model/types.js';
import { pictureShape } from '../param/layout.js';
import type { MaximizeResult } from '../optimize/maximize.js';
import { animationFrames, encodeGif } from './animation.js';
import { atlasImage } from './atlas.js';

/**
 * Write the image outputs of a run: `atlas.png` (targets × restarts; needs `keepRestarts`) when
 * there is more than one restart, and `animation.gif` when frames were recorded. Returns the
 * paths written (none for non-image inputs).
 *
 * @example
 * const run = await maximize(model, logit(1), { steps: 10, restarts: 1, frames: frameSteps(10, 3) });
 * await writeImageFiles('actmax-out', run, model); // ['actmax-out/animation.gif']
 */
export async function writeImageFiles(outDir: string, run: MaximizeResult, model: ActmaxModel, opts: { delayMs?: number } = {}): Promise<string[]> {
  const written: string[] = [];
  const info = model.inputs.find((i) => i.name in run.results[0].inputs) ?? model.inputs[0];
  if (!isImageShape(pictureShape({ shape: run.results[0].shape, layout: info.layout }))) return written;
  if (run.restartInputs && run.restarts > 1) {
    const f = path.join(outDir, 'atlas.png');
    await writeFileAtomic(f, encodePng(atlasImage(run, model)));
    written.push(f);
  }
  if (run.frames?.length) {
    const f = path.join(outDir, 'animation.gif');
    await writeFileAtomic(f, encodeGif(animationFrames(run, model), opts.delayMs ?? 120));
    written.push(f);
  }
  return written;
}
