import { gridImage, type GridPanel, type RgbaImage } from '../io/raster.js';
import { targetLabel } from '../objectives/check.js';
import type { ActmaxModel } from '../model/types.js';
import { pictureShape, toPicture } from '../param/layout.js';
import type { MaximizeResult } from '../optimize/maximize.js';

/**
 * A labelled atlas: one row per target (unit), one column per restart, each panel labelled with
 * the target and the restart's value. Needs a run made with `keepRestarts: true`.
 *
 * @example
 * const units = parseObjectiveFor('neuron:dense:all', model).slice(0, 4);
 * const run = await maximize(model, units, { steps: 20, restarts: 2, keepRestarts: true, image: 'auto' });
 * const atlas = atlasImage(run, model); // 4 rows (units) × 2 columns (restarts), RGBA
 */
export function atlasImage(run: MaximizeResult, model: ActmaxModel, opts: { scale?: number } = {}): RgbaImage {
  const first = run.results[0];
  const n = first.input.length;
  const info = model.inputs.find((i) => i.name in first.inputs) ?? model.inputs[0];
  const rows = run.restartInputs;
  const panels: GridPanel[] = [];
  run.results.forEach((r, t) => {
    const label = targetLabel(r.spec, model);
    for (let j = 0; j < run.restarts; j++) {
      const row = t * run.restarts + j;
      const values = rows ? rows.subarray(row * n, (row + 1) * n) : r.input;
      const value = r.perRestart?.[j]?.value ?? r.value;
      panels.push({ values: toPicture(values, { shape: first.shape, layout: info.layout }), label: j === 0 ? label : `#${j}`, sublabel: value.toFixed(2) });
    }
  });
  return gridImage(panels, pictureShape({ shape: first.shape, layout: info.layout }), info.range, { columns: run.restarts, ...(opts.scale ? { scale: opts.scale } : {}) });
}
