import { summarizeModel } from '../../model/inspect.js';
import type { ActmaxModel } from '../../model/types.js';
import { table } from '../render.js';
import { imageDefaults } from '../../pipeline/defaults.js';
import { describeImageOptions } from '../../pipeline/resolve.js';
import { engineReport } from '../../engine/select.js';

/** Text shown by `actmax inspect` (or the JSON document with --json). */
export function renderInspect(model: ActmaxModel, json: boolean): string {
  const s = summarizeModel(model);
  const engine = engineReport(model);
  if (json) return JSON.stringify({ ...s, imageDefaults: imageDefaults(model), engine }, null, 2);
  const lines: string[] = [];
  lines.push(`model   ${s.source}`);
  lines.push(`format  ${s.format}${s.kerasVersion ? ` (Keras ${s.kerasVersion})` : ''}`);
  for (const i of s.inputs) {
    lines.push(`input   ${i.name}  shape [${i.shape.join(', ')}]  range [${i.range.join(', ')}] (${i.rangeSource === 'metadata' ? "from the model's metadata" : 'default: the model does not say'})`);
  }
  lines.push('', 'layers');
  lines.push(table([['  name', 'class', 'output shape', 'units', 'activation'], ...s.layers.map((l) => [`  ${l.name}`, l.className, `[${l.outputShape.join(', ')}]`, String(l.units), l.activation ?? ''])]));
  for (const o of s.outputs) {
    lines.push('', `output  ${o.name}  shape [${o.shape.join(', ')}]${o.finalActivation ? `  ends in ${o.finalActivation} (logit:K reads the pre-${o.finalActivation} value)` : ''}`);
    const shown = o.classes.slice(0, 20);
    lines.push('  ' + shown.map((c) => `${c.index}${c.name ? ` ${c.name}` : ''}`).join(' | ') + (o.classes.length > shown.length ? ' | …' : ''));
  }
  lines.push('', 'example objectives', ...s.exampleObjectives.map((e) => `  --objective ${e}`));
  // Image pipeline defaults (issue 5): what `maximize` applies unless told otherwise.
  const d = imageDefaults(model);
  lines.push('', 'image defaults', d.kind === 'none' ? `  none: ${d.reason}` : `  ${d.reason}: ${describeImageOptions(d)}`, '  (override with --param, --transform, --regularizer; --image none turns them off)');
  lines.push('', 'gradient engine', engine.engine === 'onnx' ? '  onnx: every op compiles to the ONNX gradient engine (when onnxruntime is installed)' : '  tfjs: the ONNX engine cannot compile this network:', ...engine.gaps.map((g) => `    ${g}`));
  if (s.notes.length) lines.push('', 'notes', ...s.notes.map((n) => `  ${n}`));
  return lines.join('\n');
}
