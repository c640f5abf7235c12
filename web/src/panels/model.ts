/**
 * The model panel: which model is loaded (name, format, inputs, outputs, layers), dropping or
 * choosing model files, and going back to the bundled model.
 */
import type { App, Panel } from '../app.js';
import { $, esc } from '../dom.js';
import type { ModelSummary } from '../messages.js';

export interface ModelPanel extends Panel {
  /** Send the last dropped files again (the worker was restarted on another backend). */
  reloadDropped(): void;
  /** The model's display name. */
  displayName(s: ModelSummary): string;
}

const MODEL_FILE = /\.(json|keras|h5|hdf5)$/i;

/**
 * @example
 * const model = createModelPanel(app, bundledModelUrl); app.panels.push(model);
 */
export function createModelPanel(app: App, bundledModelUrl: string): ModelPanel {
  const el = {
    name: $<HTMLParagraphElement>('model-name'),
    drop: $<HTMLDivElement>('drop'),
    files: $<HTMLInputElement>('model-files'),
    useBundled: $<HTMLButtonElement>('use-bundled'),
    info: $<HTMLDivElement>('model-info'),
  };
  /** The last dropped files, kept so a backend change can reload them. */
  let dropped: Record<string, ArrayBuffer> | null = null;

  const sendFiles = (files: Record<string, ArrayBuffer>) => {
    const copies: Record<string, ArrayBuffer> = {};
    for (const [k, v] of Object.entries(files)) copies[k] = v.slice(0);
    app.send({ type: 'load-files', files: copies }, Object.values(copies));
  };

  async function open(list: FileList | File[]): Promise<void> {
    const files = Array.from(list);
    if (!files.length) return;
    const names = files.map((f) => f.name);
    if (!names.some((n) => MODEL_FILE.test(n))) {
      app.say(`None of ${names.join(', ')} is a model file; give model.json (with its weight files), a .keras or a .h5 file.`, 'error');
      return;
    }
    const record: Record<string, ArrayBuffer> = {};
    for (const f of files) record[f.name] = await f.arrayBuffer();
    dropped = record;
    app.model = null;
    app.setBusy();
    sendFiles(record);
  }

  el.files.addEventListener('change', () => {
    if (el.files.files) void open(el.files.files);
  });
  el.useBundled.addEventListener('click', () => {
    dropped = null;
    app.send({ type: 'load-url', url: bundledModelUrl });
  });
  for (const target of [el.drop, document.body]) {
    target.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      el.drop.classList.add('over');
    });
    target.addEventListener('dragleave', () => el.drop.classList.remove('over'));
    target.addEventListener('drop', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      el.drop.classList.remove('over');
      if (ev.dataTransfer?.files?.length) void open(ev.dataTransfer.files);
    });
  }

  const displayName = (s: ModelSummary) => (s.bundled ? 'Bundled Fashion-MNIST MLP' : s.source);

  return {
    displayName,
    reloadDropped() {
      if (dropped) sendFiles(dropped);
    },
    onModel(s) {
      const input = s.inputs[0];
      el.name.textContent = `${displayName(s)} — ${s.format}${s.kerasVersion ? ` (Keras ${s.kerasVersion})` : ''}, input ${input.shape.join('×')}, ${s.outputs.length === 1 ? `${s.outputs[0].units} outputs` : `${s.outputs.length} outputs`}, ${s.layers.length} layers`;
      const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('');
      el.info.innerHTML = `
    <h3>Inputs</h3>
    <table><thead><tr><th>name</th><th>shape</th><th>range</th></tr></thead><tbody>${rows(s.inputs.map((i) => [i.name, i.shape.join('×'), `[${i.range.join(', ')}] (${i.rangeSource})`]))}</tbody></table>
    <h3>Outputs</h3>
    <table><thead><tr><th>name</th><th>units</th><th>activation</th><th>classes</th></tr></thead><tbody>${rows(s.outputs.map((o) => [o.name, String(o.units), o.finalActivation ?? 'linear', o.classNames ? o.classNames.map((c, k) => `${k} ${c}`).join(', ') : '—']))}</tbody></table>
    <h3>Layers</h3>
    <table><thead><tr><th>name</th><th>type</th><th>output</th><th>activation</th></tr></thead><tbody>${rows(s.layers.map((l) => [l.name, l.className, l.outputShape.join('×'), l.activation ?? '']))}</tbody></table>`;
    },
  };
}
