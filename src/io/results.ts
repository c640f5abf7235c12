import path from 'node:path';
import type { ActmaxModel } from '../model/types.js';
import type { MaximizeResult } from '../optimize/maximize.js';
import { targetLabel } from '../objectives/check.js';
import { writeFileAtomic } from './atomic.js';
import { encodePng } from './png.js';
import { gridImage, isImageShape, toRgba } from './raster.js';
import { runJson } from './result-json.js';

/**
 * Write a run's files atomically: `result.json`, then `input.png` (image inputs) or `input.csv`
 * (1-D inputs) for one target, or a labelled `grid.png` for several. Returns the paths written.
 *
 * @example
 * await writeRunFiles('actmax-out', run, model);
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
  if (isImageShape(first.shape)) {
    if (panels.length === 1) {
      const scale = Math.max(1, Math.floor(280 / Math.max(first.shape[0], first.shape[1])));
      const f = path.join(outDir, 'input.png');
      await writeFileAtomic(f, encodePng(toRgba(first.input, first.shape, range, scale)));
      written.push(f);
    } else {
      const f = path.join(outDir, 'grid.png');
      const cells = panels.map((p) => ({ values: p.input, label: p.label, sublabel: p.value === null ? '-' : p.value.toFixed(2) }));
      await writeFileAtomic(f, encodePng(gridImage(cells, first.shape, range)));
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
