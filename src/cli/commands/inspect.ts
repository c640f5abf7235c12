import { summarizeModel } from '../../model/inspect.js';
import type { ActmaxModel } from '../../model/types.js';
import { table } from '../render.js';
import { imageDefaults } from '../../pipeline/defaults.js';
import { describeImageOptions } from '../../pipeline/resolve.js';
import { engineReport } from '../../engine/select.js';

/**
 * Text shown by `actmax inspect` (or the JSON document with --json). `priorFile`: the data prior
 * stored with the model (for `--prior dataset`), or null when it has none.
 */
export function renderInspect(model: ActmaxModel, json: boolean, priorFile: string | null = null): string {
  const s = summarizeModel(model);
  const engine = engineReport(model);
  if (json) return JSON.stringify({ ...s, imageDefaults: imageDefaults(model), engine, dataPrior: priorFile }, null, 2);
  const lines: string[] = [];
  lines.push(`model   ${s.source}`);
  lines.push(`format  ${s.format}${s.kerasVersion ? ` (Keras ${s.kerasVersion})` : ''}`);
  s.inputs.forEach((i, k) => {
    const layout = s.network.layouts[k] === 'nchw' && i.shape.length === 3 ? '  layout nchw (channels first)' : '';
    lines.push(`input   ${i.name}  shape [${i.shape.join(', ')}]  range [${i.range.join(', ')}] (${i.rangeSource === 'metadata' ? "from the model's metadata" : 'default: the model does not say'})${layout}`);
  });
  lines.push(`network ${networkLine(s.network)}`);
  lines.push('', 'layers');
  lines.push(table([['  name', 'class', 'output shape', 'units', 'channels', 'activation'], ...s.layers.map((l) => [`  ${l.name}`, l.className, `[${l.outputShape.join(', ')}]`, String(l.units), l.channels === undefined ? '' : String(l.channels), l.activation ?? ''])]));
  if (s.nodes) {
    lines.push(`  objectives address a layer above or any of the ${s.nodes.length} graph nodes inside them by name (neuron:NODE:I, channel:NODE:C, layer:NODE); --json lists them`);
  }
  for (const o of s.outputs) {
    const dyn = o.dynamic ? `  computed by the dynamic op ${o.dynamic}: predict reports it, objectives cannot read it` : '';
    lines.push('', `output  ${o.name}  shape [${o.shape.join(', ')}]${o.finalActivation ? `  ends in ${o.finalActivation} (logit:K reads the pre-${o.finalActivation} value)` : ''}${dyn}`);
    const shown = o.classes.slice(0, 20);
    lines.push('  ' + shown.map((c) => `${c.index}${c.name ? ` ${c.name}` : ''}`).join(' | ') + (o.classes.length > shown.length ? ' | …' : ''));
  }
  lines.push('', 'example objectives', ...s.exampleObjectives.map((e) => `  --objective ${e}`));
  lines.push('', 'data', `  dataset     ${s.dataset ? `${s.dataset.name}${s.dataset.source ? ` (${s.dataset.source})` : ''}` : "not named in the model's metadata"}`);
  lines.push(`  data prior  ${priorFile ? `${priorFile} (--prior dataset[:subspace:K])` : 'none stored with the model (--prior EXAMPLES:subspace:K computes one from example inputs)'}`);
  // Image pipeline defaults (issue 5): what `maximize` applies unless told otherwise.
  const d = imageDefaults(model);
  lines.push('', 'image defaults', d.kind === 'none' ? `  none: ${d.reason}` : `  ${d.reason}: ${describeImageOptions(d)}`, '  (override with --param, --transform, --regularizer; --image none turns them off)');
  lines.push('', 'gradient engine', engine.engine === 'onnx' ? '  onnx: every op compiles to the ONNX gradient engine (when onnxruntime is installed)' : '  tfjs: the ONNX engine cannot compile this network:', ...engine.gaps.map((g) => `    ${g}`));
  if (s.notes.length) lines.push('', 'notes', ...s.notes.map((n) => `  ${n}`));
  return lines.join('\n');
}

/** One line on how actmax computes the network. */
function networkLine(n: ReturnType<typeof summarizeModel>['network']): string {
  const batch = n.batch === 'free' ? 'rows run together' : n.batch === 'rewritten' ? 'the file fixes a batch of 1; rewritten so rows run together' : 'the file fixes a batch of 1; rows run one per call';
  if (!n.ir) return `computed by TF.js (${n.reason ?? 'no IR'}); ${batch}`;
  const dyn = n.dynamic ? `; ${n.dynamic.values} values after ${n.dynamic.ops.join(', ')} are dynamic (TF.js computes them for predict; objectives cannot read them)` : '';
  return `actmax IR; ${batch}${dyn}`;
}
