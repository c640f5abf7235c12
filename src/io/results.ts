import path from 'node:path';
import type { ActmaxModel } from '../model/types.js';
import type { MaximizeResult } from '../optimize/maximize.js';
import { targetLabel } from '../objectives/check.js';
import { writeFileAtomic } from './atomic.js';
import { encodePng } from './png.js';
import { gridImage, isImageShape, toRgba } from './raster.js';
import { pictureShape, toPicture } from '../param/layout.js';
import { runJson } from './result-json.js';

/**
 * Write a run's files atomically: `result.json`, then `input.png` (image inputs) or `input.csv`
 * (1-D inputs) for one target, or a labelled `grid.png` for several. Returns the paths written.
 *
 * @example
 * const run = await maximize(model, logit(1), { steps: 10, restarts: 1 });
 * await writeRunFiles('actmax-out', run, model); // ['actmax-out/input.png', 'actmax-out/result.json']
 */
export async function writeRunFiles(outDir: string, run: MaximizeResult, model: ActmaxModel): Promise<string[]> {
  const panels = run.results.map((r) => ({ objective: r.objective, input: r.input, shape: r.shape, inputs: r.inputs, label: targetLabel(r.spec, model), value: r.value }));
  const written = await writeInputFiles(outDir, panels, model);
  const f = path.join(outDir, 'result.json');
  await writeFileAtomic(f, JSON.stringify(runJson(run, model.source), null, 2) + '\n');
  written.push(f);
  return written;
}

/** One answer to draw: its input (flat), shape, and the label/value for grids. */
export interface InputPanel {
  objective: string;
  input: number[];
  shape: number[];
  inputs: Record<string, number[]>;
  label: string;
  value: number | null;
}

/**
 * Write the answers' inputs: `input.png` (one image input), a labelled `grid.png` (several), or
 * `input.csv` (1-D inputs), atomically. Returns the paths written.
 *
 * @example
 * await writeInputFiles('out', [{ objective: 'logit:1', input, shape: [28, 28], inputs, label: 'Trouser', value: 40 }], model);
 */
export async function writeInputFiles(outDir: string, panels: InputPanel[], model: ActmaxModel): Promise<string[]> {
  const written: string[] = [];
  const first = panels[0];
  const info = model.inputs.find((i) => i.name in first.inputs) ?? model.inputs[0];
  const range = info.range;
  // Channels-first inputs are drawn as H×W×C pictures.
  const shape = pictureShape({ shape: first.shape, layout: info.layout });
  const picture = (x: ArrayLike<number>) => toPicture(x, { shape: first.shape, layout: info.layout });
  if (isImageShape(shape)) {
    if (panels.length === 1) {
      const scale = Math.max(1, Math.floor(280 / Math.max(shape[0], shape[1])));
      const f = path.join(outDir, 'input.png');
      await writeFileAtomic(f, encodePng(toRgba(picture(first.input), shape, range, scale)));
      written.push(f);
    } else {
      const f = path.join(outDir, 'grid.png');
      const cells = panels.map((p) => ({ values: picture(p.input), label: p.label, sublabel: p.value === null ? '-' : p.value.toFixed(2) }));
      await writeFileAtomic(f, encodePng(gridImage(cells, shape, range)));
      written.push(f);
    }
  } else if (first.shape.length <= 1) {
    const f = path.join(outDir, 'input.csv');
    const header = ['objective', ...first.input.map((_, i) => `x${i}`)].join(',');
    const lines = panels.map((p) => [JSON.stringify(p.objective), ...p.input.map((v) => String(v))].join(','));
    await writeFileAtomic(f, [header, ...lines].join('\n') + '\n');
    written.push(f);
  }
  return written;
}
