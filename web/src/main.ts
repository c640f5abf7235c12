/**
 * The playground page: settings form ⇄ URL, model summary, live pictures, chart, output bars,
 * downloads. All computation happens in worker.ts; this file only draws and sends messages.
 */
import './style.css';
import { parseObjective, OBJECTIVE_GRAMMAR } from '../../src/objectives/parse.js';
import { formatObjective } from '../../src/objectives/format.js';
import type { ObjectiveSpec } from '../../src/objectives/spec.js';
import type { Constraint } from '../../src/constraints/constraint.js';
import type { TargetResult } from '../../src/optimize/maximize.js';
import type { OptimizerName } from '../../src/optimize/optimizers.js';
import type { ExactResult } from '../../src/exact/maximizeExact.js';
import type { BackendChoice, ModelSummary, PageToWorker, RunSummary, WorkerToPage } from './messages.js';
import { DEFAULTS, settingsFromQuery, settingsToQuery, type Norm, type Settings } from './settings.js';
import { drawChart, drawInput, fmt, imageDims, isImageShape, PALETTE, scaledCanvas } from './draw.js';
import { exactJson, targetJson } from './result-json.js';

// ---------- elements ----------
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = {
  status: $<HTMLParagraphElement>('status'),
  form: $<HTMLFormElement>('controls'),
  modelName: $<HTMLParagraphElement>('model-name'),
  drop: $<HTMLDivElement>('drop'),
  modelFiles: $<HTMLInputElement>('model-files'),
  useBundled: $<HTMLButtonElement>('use-bundled'),
  modelInfo: $<HTMLDivElement>('model-info'),
  objKind: $<HTMLSelectElement>('obj-kind'),
  objOutput: $<HTMLSelectElement>('obj-output'),
  objClass: $<HTMLSelectElement>('obj-class'),
  objLayer: $<HTMLSelectElement>('obj-layer'),
  objUnit: $<HTMLInputElement>('obj-unit'),
  objUnitLabel: $<HTMLLabelElement>('obj-unit-label'),
  rowOutput: $<HTMLDivElement>('row-output'),
  rowClass: $<HTMLDivElement>('row-class'),
  rowLayer: $<HTMLDivElement>('row-layer'),
  rowUnit: $<HTMLDivElement>('row-unit'),
  objSpec: $<HTMLInputElement>('obj-spec'),
  objError: $<HTMLParagraphElement>('obj-error'),
  lo: $<HTMLInputElement>('lo'),
  hi: $<HTMLInputElement>('hi'),
  ref: $<HTMLSelectElement>('ref'),
  refFile: $<HTMLInputElement>('ref-file'),
  eps: $<HTMLInputElement>('eps'),
  norm: $<HTMLSelectElement>('norm'),
  maskOn: $<HTMLInputElement>('mask-on'),
  maskBox: $<HTMLDivElement>('mask-box'),
  maskCanvas: $<HTMLCanvasElement>('mask-canvas'),
  maskErase: $<HTMLInputElement>('mask-erase'),
  levels: $<HTMLInputElement>('levels'),
  steps: $<HTMLInputElement>('steps'),
  restarts: $<HTMLInputElement>('restarts'),
  optimizer: $<HTMLSelectElement>('optimizer'),
  lr: $<HTMLInputElement>('lr'),
  seed: $<HTMLInputElement>('seed'),
  backend: $<HTMLSelectElement>('backend'),
  run: $<HTMLButtonElement>('run'),
  stop: $<HTMLButtonElement>('stop'),
  exact: $<HTMLButtonElement>('exact'),
  copyLink: $<HTMLButtonElement>('copy-link'),
  runInfo: $<HTMLParagraphElement>('run-info'),
  tiles: $<HTMLDivElement>('tiles'),
  chart: $<HTMLCanvasElement>('chart'),
  probs: $<HTMLOListElement>('probs'),
  probsFor: $<HTMLSpanElement>('probs-for'),
  exactStatus: $<HTMLParagraphElement>('exact-status'),
  exactTime: $<HTMLInputElement>('exact-time'),
  exactNumbers: $<HTMLDListElement>('exact-numbers'),
  exactState: $<HTMLElement>('exact-state'),
  exactIncumbent: $<HTMLElement>('exact-incumbent'),
  exactBound: $<HTMLElement>('exact-bound'),
  exactGap: $<HTMLElement>('exact-gap'),
  exactTimeUsed: $<HTMLElement>('exact-time-used'),
  dlPng: $<HTMLButtonElement>('dl-png'),
  dlJson: $<HTMLButtonElement>('dl-json'),
};

// ---------- state ----------
interface Example { label: number; className: string; testIndex?: number; input: number[] }

const bundledModelUrl = new URL('models/fashion-mnist-mlp/model.json', document.baseURI).href;
const examplesUrl = new URL('models/fashion-mnist-mlp/examples.json', document.baseURI).href;
const wasmPrefix = new URL('wasm/', document.baseURI).href;
const highsPrefix = new URL('highs/', document.baseURI).href;

let settings: Settings = settingsFromQuery(location.search);
let worker: Worker | null = null;
let backend = '';
/** Why backends before the chosen one were not used. */
let backendNote = '';
let exactAvailable = false;
let summary: ModelSummary | null = null;
let examples: Example[] = [];
let uploadedRef: { name: string; values: number[] } | null = null;
let mask: boolean[] | null = settings.mask;
/** The last dropped files, kept so a backend change can reload them. */
let droppedFiles: Record<string, ArrayBuffer> | null = null;

interface RunView {
  id: number;
  targets: ObjectiveSpec[];
  labels: string[];
  restarts: number;
  steps: number;
  shape: number[];
  range: [number, number];
  series: Array<Array<[number, number]>>;
  /** Last progress: inputs, values and first outputs per row. */
  x: Float32Array | null;
  current: Float32Array | null;
  outputs: Float32Array | null;
  results: TargetResult[] | null;
  summary: RunSummary | null;
  /** The constraints the run used (JSON), so Exact knows whether a result may be its start. */
  constraintsKey: string;
  /** Exact results per target, once the solver has answered. */
  exact: Array<ExactResult | null>;
  /** The time limit each target's exact solve had (for its JSON). */
  exactTimeLimit: number[];
  bestCanvases: HTMLCanvasElement[];
  restartButtons: HTMLButtonElement[][];
}
let runId = 0;
let running = false;
let view: RunView | null = null;
/** Which target's picture/outputs are shown; restart null = follow the best restart. */
let selected: { target: number; restart: number | null } = { target: 0, restart: null };
let exactId = 0;
let exactRunning = false;
/** The target the exact solver works on and its live numbers (drawn on the chart). */
let exactLive: { target: number; incumbent: number | null; bound: number | null } | null = null;

// ---------- helpers ----------
function say(text: string, kind: 'info' | 'error' = 'info'): void {
  el.status.textContent = text;
  el.status.classList.toggle('error', kind === 'error');
}

function send(msg: PageToWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(msg, transfer);
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const inputInfo = () => summary?.inputs[0];
const featureCount = () => (summary ? prod(summary.inputs[0].shape) : 0);

function classNamesOf(outputIndex: number): string[] {
  const out = summary?.outputs[outputIndex];
  if (!out) return [];
  return out.classNames ?? Array.from({ length: out.units }, (_, i) => `class ${i}`);
}

function targetLabel(spec: ObjectiveSpec): string {
  if ((spec.kind === 'logit' || spec.kind === 'prob' || spec.kind === 'margin') && summary) {
    const oi = spec.output === undefined ? 0 : typeof spec.output === 'number' ? spec.output : summary.outputs.findIndex((o) => o.name === spec.output);
    const names = summary.outputs[oi]?.classNames;
    if (names && names[spec.index] !== undefined) return `${names[spec.index]} (${spec.kind})`;
  }
  return formatObjective(spec);
}

function option(value: string, text: string): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function numberOrNull(input: HTMLInputElement): number | null {
  if (input.value.trim() === '') return null;
  const v = Number(input.value);
  return Number.isFinite(v) ? v : null;
}

// ---------- worker ----------
function startWorker(choice: BackendChoice): void {
  worker?.terminate();
  running = false;
  exactRunning = false;
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<WorkerToPage>) => onWorkerMessage(ev.data);
  worker.onerror = (ev) => say(`The compute worker failed: ${ev.message || 'unknown error'}`, 'error');
  say('Starting the compute worker…');
  send({ type: 'init', backend: choice, wasmPrefix, highsPrefix, modelUrl: bundledModelUrl });
  if (droppedFiles) sendFiles(droppedFiles);
  updateButtons();
}

function sendFiles(files: Record<string, ArrayBuffer>): void {
  const copies: Record<string, ArrayBuffer> = {};
  for (const [k, v] of Object.entries(files)) copies[k] = v.slice(0);
  send({ type: 'load-files', files: copies }, Object.values(copies));
}

function onWorkerMessage(msg: WorkerToPage): void {
  switch (msg.type) {
    case 'ready':
      backend = msg.backend;
      backendNote = msg.tried.filter((t) => !t.endsWith(': ok')).join('; ');
      exactAvailable = msg.exactAvailable;
      document.body.dataset.backend = backend;
      say(`Compute backend: ${backend}. Loading the model…`);
      break;
    case 'loading':
      say(`Loading ${msg.what}…`);
      break;
    case 'model':
      onModel(msg.summary);
      break;
    case 'progress':
      if (view && msg.id === view.id) onProgress(msg);
      break;
    case 'done':
      if (view && msg.id === view.id) onDone(msg.results, msg.run);
      break;
    case 'error':
      if (msg.id !== undefined && msg.id === exactId && exactRunning) {
        exactRunning = false;
        exactLive = null;
        el.exactNumbers.hidden = true;
        el.exactStatus.textContent = `Exact solver: ${msg.message}`;
        redrawChart();
      } else if (msg.id !== undefined && view && msg.id === view.id) {
        running = false;
        say(msg.message, 'error');
      } else {
        say(msg.message, 'error');
      }
      updateButtons();
      break;
    case 'exact-unavailable':
      exactRunning = false;
      el.exactStatus.textContent = `Exact solver not available in this build: ${msg.message}.`;
      updateButtons();
      break;
    case 'exact-progress':
      if (msg.id === exactId && exactRunning) onExactProgress(msg);
      break;
    case 'exact-done':
      if (msg.id === exactId && exactRunning) onExactDone(msg.result);
      break;
  }
}

// ---------- model ----------
function onModel(s: ModelSummary): void {
  const previous = summary;
  summary = s;
  const input = s.inputs[0];
  const name = s.bundled ? 'Bundled Fashion-MNIST MLP' : s.source;
  el.modelName.textContent = `${name} — ${s.format}${s.kerasVersion ? ` (Keras ${s.kerasVersion})` : ''}, input ${input.shape.join('×')}, ${s.outputs.length === 1 ? `${s.outputs[0].units} outputs` : `${s.outputs.length} outputs`}, ${s.layers.length} layers`;
  renderModelInfo(s);
  populateObjectiveControls(s);
  if (previous && !s.bundled && !specFits(el.objSpec.value)) el.objSpec.value = 'logit:0';
  if (!specFits(el.objSpec.value)) el.objSpec.value = 'logit:0';
  specToBuilder(el.objSpec.value);
  if (settings.lo === null) el.lo.value = String(input.range[0]);
  if (settings.hi === null) el.hi.value = String(input.range[1]);
  el.lo.placeholder = String(input.range[0]);
  el.hi.placeholder = String(input.range[1]);
  populateReferences();
  const image = isImageShape(input.shape);
  el.maskOn.disabled = !image;
  if (!image) el.maskOn.checked = false;
  if (mask && mask.length !== prod(input.shape.slice(0, 2))) mask = null;
  el.maskBox.hidden = !el.maskOn.checked;
  drawMask();
  say(`Model ready: ${name} on ${backend}${backendNote ? ` (${backendNote})` : ''}.${s.notes.length ? ' Note: ' + s.notes.join(' ') : ''}`);
  validateObjective();
  updateButtons();
  clearResults();
}

function renderModelInfo(s: ModelSummary): void {
  const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('');
  el.modelInfo.innerHTML = `
    <h3>Inputs</h3>
    <table><thead><tr><th>name</th><th>shape</th><th>range</th></tr></thead><tbody>${rows(s.inputs.map((i) => [i.name, i.shape.join('×'), `[${i.range.join(', ')}] (${i.rangeSource})`]))}</tbody></table>
    <h3>Outputs</h3>
    <table><thead><tr><th>name</th><th>units</th><th>activation</th><th>classes</th></tr></thead><tbody>${rows(s.outputs.map((o) => [o.name, String(o.units), o.finalActivation ?? 'linear', o.classNames ? o.classNames.map((c, k) => `${k} ${c}`).join(', ') : '—']))}</tbody></table>
    <h3>Layers</h3>
    <table><thead><tr><th>name</th><th>type</th><th>output</th><th>activation</th></tr></thead><tbody>${rows(s.layers.map((l) => [l.name, l.className, l.outputShape.join('×'), l.activation ?? '']))}</tbody></table>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ---------- objective builder ----------
function populateObjectiveControls(s: ModelSummary): void {
  el.objOutput.replaceChildren(...s.outputs.map((o, i) => option(String(i), `${o.name} (${o.units})`)));
  el.rowOutput.hidden = s.outputs.length < 2;
  fillClasses();
  el.objLayer.replaceChildren(...s.layers.map((l) => option(l.name, `${l.name} · ${l.className} ${l.outputShape.join('×')}`)));
}

function fillClasses(): void {
  const names = classNamesOf(Number(el.objOutput.value || 0));
  el.objClass.replaceChildren(...names.map((n, i) => option(String(i), n === `class ${i}` ? n : `${n} (${i})`)), option('all', 'every class (one picture each)'));
}

function showBuilderRows(): void {
  const kind = el.objKind.value;
  const classKind = kind === 'logit' || kind === 'prob' || kind === 'margin';
  el.rowClass.hidden = !classKind;
  el.rowOutput.hidden = !classKind || (summary?.outputs.length ?? 0) < 2;
  el.rowLayer.hidden = !(kind === 'neuron' || kind === 'channel');
  el.rowUnit.hidden = !(kind === 'neuron' || kind === 'channel');
  el.objUnitLabel.textContent = kind === 'channel' ? 'Channel' : 'Unit (flat index)';
}

function builderToSpec(): void {
  const kind = el.objKind.value;
  showBuilderRows();
  if (kind === 'custom') return;
  if (kind === 'logit' || kind === 'prob' || kind === 'margin') {
    const output = Number(el.objOutput.value || 0);
    const outPart = (summary?.outputs.length ?? 1) > 1 ? `${output}:` : '';
    el.objSpec.value = `${kind}:${outPart}${el.objClass.value || '0'}`;
  } else {
    el.objSpec.value = `${kind}:${el.objLayer.value}:${Math.max(0, Math.floor(Number(el.objUnit.value) || 0))}`;
  }
  validateObjective();
  saveSettings();
}

/** Reflect a typed spec in the builder's controls when it is one simple term. */
function specToBuilder(text: string): void {
  const m = /^(logit|prob|margin):(?:(\d+):)?(\d+|all)$/.exec(text.trim());
  const n = /^(neuron|channel):([^:]+):(\d+)$/.exec(text.trim());
  if (m) {
    el.objKind.value = m[1];
    if (m[2] !== undefined) el.objOutput.value = m[2];
    fillClasses();
    el.objClass.value = m[3];
  } else if (n && summary?.layers.some((l) => l.name === n[2])) {
    el.objKind.value = n[1];
    el.objLayer.value = n[2];
    el.objUnit.value = n[3];
  } else {
    el.objKind.value = 'custom';
  }
  showBuilderRows();
}

function parseContext() {
  return {
    outputUnits: (o: string | number | undefined) => {
      const out = o === undefined ? summary?.outputs[0] : typeof o === 'number' ? summary?.outputs[o] : summary?.outputs.find((x) => x.name === o);
      if (!out) throw new Error(`unknown output ${o}`);
      return out.units;
    },
    layerShape: (layer: string) => {
      const l = summary?.layers.find((x) => x.name === layer);
      if (!l) throw new Error(`unknown layer "${layer}"; layers are: ${summary?.layers.map((x) => x.name).join(', ')}`);
      return l.outputShape;
    },
  };
}

/** Every output index and layer name the specs mention must exist in the loaded model. */
function checkSpec(spec: ObjectiveSpec): string | null {
  if (!summary) return 'no model loaded';
  switch (spec.kind) {
    case 'logit': case 'prob': case 'margin': case 'target': {
      const out = spec.output === undefined ? summary.outputs[0] : typeof spec.output === 'number' ? summary.outputs[spec.output] : summary.outputs.find((o) => o.name === spec.output);
      if (!out) return `unknown output "${spec.output}"; outputs are: ${summary.outputs.map((o, i) => `${i} ${o.name}`).join(', ')}`;
      if (spec.index >= out.units) return `class index ${spec.index} is out of range; output "${out.name}" has ${out.units} units (0–${out.units - 1})`;
      return null;
    }
    case 'neuron': case 'channel': case 'layerEnergy': case 'direction': {
      const l = summary.layers.find((x) => x.name === spec.layer);
      if (!l) return `unknown layer "${spec.layer}"; layers are: ${summary.layers.map((x) => x.name).join(', ')}`;
      if (spec.kind === 'neuron' && typeof spec.index === 'number' && spec.index >= l.units) return `unit ${spec.index} is out of range; layer "${l.name}" has ${l.units} units`;
      if (spec.kind === 'channel' && spec.channel >= l.outputShape[l.outputShape.length - 1]) return `channel ${spec.channel} is out of range; layer "${l.name}" has ${l.outputShape[l.outputShape.length - 1]} channels`;
      return null;
    }
    case 'sum':
      for (const t of spec.terms) {
        const e = checkSpec(t.objective);
        if (e) return e;
      }
      return null;
    default:
      return null;
  }
}

function parseTargets(): { specs: ObjectiveSpec[] } | { error: string } {
  try {
    const specs = parseObjective(el.objSpec.value, parseContext());
    for (const s of specs) {
      const e = checkSpec(s);
      if (e) return { error: e };
    }
    if (specs.length > 64) return { error: `${specs.length} targets is too many for the page; use at most 64` };
    return { specs };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function specFits(text: string): boolean {
  const saved = el.objSpec.value;
  el.objSpec.value = text;
  const ok = 'specs' in parseTargets();
  el.objSpec.value = saved;
  return ok;
}

function validateObjective(): boolean {
  if (!summary) return false;
  const r = parseTargets();
  const bad = 'error' in r;
  el.objError.textContent = bad ? r.error.replace(`; ${OBJECTIVE_GRAMMAR}`, '') : '';
  el.objSpec.setAttribute('aria-invalid', String(bad));
  return !bad;
}

// ---------- references and mask ----------
function populateReferences(): void {
  const n = featureCount();
  const keep = settings.ref;
  const opts = [option('none', 'none')];
  examples.forEach((ex, i) => {
    if (ex.input.length === n) opts.push(option(`ex:${i}`, `example ${i}: ${ex.className}`));
  });
  if (uploadedRef && uploadedRef.values.length === n) opts.push(option('upload', `uploaded: ${uploadedRef.name}`));
  el.ref.replaceChildren(...opts);
  el.ref.value = opts.some((o) => o.value === keep) ? keep : 'none';
}

function referenceValues(): number[] | null {
  const v = el.ref.value;
  if (v === 'upload') return uploadedRef?.values ?? null;
  const m = /^ex:(\d+)$/.exec(v);
  if (m) return examples[Number(m[1])]?.input ?? null;
  return null;
}

function currentRange(): [number, number] {
  const info = inputInfo();
  const lo = numberOrNull(el.lo) ?? info?.range[0] ?? 0;
  const hi = numberOrNull(el.hi) ?? info?.range[1] ?? 1;
  return [lo, hi];
}

async function loadReferenceImage(file: File): Promise<void> {
  const info = inputInfo();
  if (!info || !isImageShape(info.shape)) {
    say('A reference image needs a model whose input is a picture (H×W or H×W×C).', 'error');
    return;
  }
  const { h, w, c } = imageDims(info.shape);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    say(`${file.name} is not an image this browser can read; give a PNG`, 'error');
    return;
  }
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(bitmap, 0, 0, w, h);
  const px = ctx.getImageData(0, 0, w, h).data;
  const [lo, hi] = currentRange();
  const values: number[] = [];
  for (let i = 0; i < w * h; i++) {
    const r = px[i * 4], g = px[i * 4 + 1], b = px[i * 4 + 2];
    if (c === 1) values.push(lo + ((0.299 * r + 0.587 * g + 0.114 * b) / 255) * (hi - lo));
    else {
      values.push(lo + (r / 255) * (hi - lo), lo + (g / 255) * (hi - lo), lo + (b / 255) * (hi - lo));
      if (c === 4) values.push(hi);
    }
  }
  uploadedRef = { name: file.name, values };
  populateReferences();
  el.ref.value = 'upload';
  say(`Reference image ${file.name} scaled to ${w}×${h}.`);
  drawMask();
  saveSettings();
}

function maskSize(): { h: number; w: number } | null {
  const info = inputInfo();
  if (!info || !isImageShape(info.shape)) return null;
  const { h, w } = imageDims(info.shape);
  return { h, w };
}

function ensureMask(): boolean[] | null {
  const size = maskSize();
  if (!size) return null;
  if (!mask || mask.length !== size.h * size.w) mask = new Array(size.h * size.w).fill(true);
  return mask;
}

function drawMask(): void {
  const size = maskSize();
  if (!size || el.maskBox.hidden) return;
  const m = ensureMask()!;
  const ctx = el.maskCanvas.getContext('2d')!;
  const W = el.maskCanvas.width, H = el.maskCanvas.height;
  const ref = referenceValues();
  const small = document.createElement('canvas');
  const info = inputInfo()!;
  if (ref) drawInput(small, ref, 0, info.shape, currentRange());
  else {
    small.width = size.w;
    small.height = size.h;
    small.getContext('2d')!.fillStyle = '#777';
    small.getContext('2d')!.fillRect(0, 0, size.w, size.h);
  }
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, W, H);
  const cw = W / size.w, ch = H / size.h;
  ctx.fillStyle = 'rgba(255, 140, 0, 0.45)';
  for (let i = 0; i < m.length; i++) if (m[i]) ctx.fillRect((i % size.w) * cw, Math.floor(i / size.w) * ch, cw, ch);
}

function maskPaint(ev: PointerEvent, erase: boolean): void {
  const size = maskSize();
  const m = ensureMask();
  if (!size || !m) return;
  const rect = el.maskCanvas.getBoundingClientRect();
  const cx = Math.floor(((ev.clientX - rect.left) / rect.width) * size.w);
  const cy = Math.floor(((ev.clientY - rect.top) / rect.height) * size.h);
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const x = cx + dx, y = cy + dy;
      if (x >= 0 && y >= 0 && x < size.w && y < size.h) m[y * size.w + x] = !erase;
    }
  }
  drawMask();
}

// ---------- settings ⇄ form ⇄ URL ----------
function writeForm(s: Settings): void {
  el.objSpec.value = s.objective;
  el.steps.value = String(s.steps);
  el.restarts.value = String(s.restarts);
  el.optimizer.value = s.optimizer;
  el.lr.value = s.lr === null ? '' : String(s.lr);
  el.seed.value = String(s.seed);
  el.backend.value = s.backend;
  el.lo.value = s.lo === null ? '' : String(s.lo);
  el.hi.value = s.hi === null ? '' : String(s.hi);
  el.eps.value = s.eps === null ? '' : String(s.eps);
  el.norm.value = s.norm;
  el.maskOn.checked = s.mask !== null;
  el.maskBox.hidden = !el.maskOn.checked;
  el.levels.value = s.levels > 1 ? String(s.levels) : '';
  el.exactTime.value = String(s.exactTime);
}

function readForm(): Settings {
  const info = inputInfo();
  const int = (input: HTMLInputElement, dflt: number, min: number) => {
    const v = numberOrNull(input);
    return v !== null && Number.isInteger(v) && v >= min ? v : dflt;
  };
  const lo = numberOrNull(el.lo), hi = numberOrNull(el.hi);
  const lr = numberOrNull(el.lr);
  const eps = numberOrNull(el.eps);
  const levels = int(el.levels, 0, 0);
  return {
    objective: el.objSpec.value.trim() || DEFAULTS.objective,
    steps: int(el.steps, DEFAULTS.steps, 1),
    restarts: int(el.restarts, DEFAULTS.restarts, 1),
    optimizer: el.optimizer.value as OptimizerName,
    lr: lr !== null && lr > 0 ? lr : null,
    seed: int(el.seed, 0, 0),
    backend: el.backend.value as BackendChoice,
    lo: lo === null || (info && lo === info.range[0]) ? null : lo,
    hi: hi === null || (info && hi === info.range[1]) ? null : hi,
    ref: el.ref.value || 'none',
    eps: eps !== null && eps >= 0 ? eps : null,
    norm: el.norm.value as Norm,
    mask: el.maskOn.checked ? ensureMask() : null,
    levels: levels > 1 ? levels : 0,
    exactTime: exactTimeLimit(),
  };
}

function saveSettings(): void {
  settings = readForm();
  history.replaceState(null, '', `${location.pathname}?${settingsToQuery(settings)}`);
}

// ---------- run ----------
function buildConstraints(): { constraints: Constraint[]; init?: number[] } | { error: string } {
  const info = inputInfo();
  if (!info) return { error: 'no model loaded' };
  const n = prod(info.shape);
  const [lo, hi] = currentRange();
  if (!(lo < hi)) return { error: `the value range must have from < to, got [${lo}, ${hi}]` };
  const constraints: Constraint[] = [{ kind: 'box', lo, hi }];
  const ref = referenceValues();
  if (ref && ref.length !== n) return { error: `the reference has ${ref.length} values; the model input needs ${n}` };
  const eps = numberOrNull(el.eps);
  if (eps !== null) {
    if (!ref) return { error: 'ε needs a reference image: choose an example or upload one' };
    if (!(eps >= 0)) return { error: `ε must be ≥ 0, got ${eps}` };
    const p = el.norm.value === 'inf' ? 'inf' : el.norm.value === '2' ? 2 : 1;
    constraints.push({ kind: 'ball', ref: ref.map((v) => Math.min(hi, Math.max(lo, v))), eps, p });
  }
  if (el.maskOn.checked) {
    const m = ensureMask();
    if (m) {
      const c = info.shape.length === 3 ? info.shape[2] : 1;
      const editable = Array.from({ length: n }, (_, i) => m[Math.floor(i / c)]);
      if (!editable.some(Boolean)) return { error: 'the mask has no editable pixel: paint some, or press All' };
      constraints.push(ref ? { kind: 'mask', editable, ref: ref.map((v) => Math.min(hi, Math.max(lo, v))) } : { kind: 'mask', editable });
    }
  }
  const levels = numberOrNull(el.levels);
  if (levels !== null && levels !== 0) {
    if (!Number.isInteger(levels) || levels < 2) return { error: `levels must be an integer ≥ 2 (or empty for off), got ${levels}` };
    constraints.push({ kind: 'levels', n: levels });
  }
  return { constraints, ...(ref ? { init: ref.map((v) => Math.min(hi, Math.max(lo, v))) } : {}) };
}

function startRun(): void {
  if (!summary || running) return;
  if (!validateObjective()) {
    say('Fix the objective first.', 'error');
    el.objSpec.focus();
    return;
  }
  const parsed = parseTargets();
  if ('error' in parsed) return;
  const built = buildConstraints();
  if ('error' in built) {
    say(built.error, 'error');
    return;
  }
  saveSettings();
  const s = settings;
  const id = ++runId;
  view = newView(id, parsed.specs, s.restarts, s.steps, JSON.stringify(built.constraints));
  selected = { target: 0, restart: null };
  buildTiles(view);
  running = true;
  exactLive = null;
  el.exactNumbers.hidden = true;
  updateButtons();
  el.exactStatus.textContent = exactAvailable ? 'Press Exact to prove the best value for the selected target (this run\'s result becomes its starting point).' : el.exactStatus.textContent;
  say(`Running ${parsed.specs.length} target${parsed.specs.length > 1 ? 's' : ''} × ${s.restarts} restarts for ${s.steps} steps on ${backend}…`);
  send({
    type: 'run',
    run: {
      id, objectiveText: s.objective, targets: parsed.specs, steps: s.steps, restarts: s.restarts, optimizer: s.optimizer,
      ...(s.lr !== null ? { lr: s.lr } : {}), seed: s.seed, constraints: built.constraints, ...(built.init ? { init: built.init } : {}),
    },
  });
  redrawChart();
}

/** A fresh view of targets × restarts (restarts 0: an exact-only view, one picture per target). */
function newView(id: number, targets: ObjectiveSpec[], restarts: number, steps: number, constraintsKey: string): RunView {
  return {
    id,
    targets,
    labels: targets.map(targetLabel),
    restarts,
    steps,
    shape: summary!.inputs[0].shape,
    range: currentRange(),
    series: targets.map(() => []),
    x: null,
    current: null,
    outputs: null,
    results: null,
    summary: null,
    constraintsKey,
    exact: targets.map(() => null),
    exactTimeLimit: targets.map(() => DEFAULTS.exactTime),
    bestCanvases: [],
    restartButtons: [],
  };
}

/** The chart of the current view, with the exact solver's best value and bound when it has them. */
function redrawChart(): void {
  const v = view;
  const exact = exactLive && v ? { incumbent: exactLive.incumbent, bound: exactLive.bound, color: PALETTE[exactLive.target % PALETTE.length] } : null;
  if (!v) drawChart(el.chart, [], 1, []);
  else drawChart(el.chart, v.series, v.steps, v.labels, exact);
}

function buildTiles(v: RunView): void {
  el.tiles.replaceChildren();
  el.tiles.classList.toggle('many', v.targets.length > 4);
  v.bestCanvases = [];
  v.restartButtons = [];
  v.targets.forEach((_, t) => {
    const fig = document.createElement('figure');
    fig.className = 'target';
    const cap = document.createElement('figcaption');
    cap.innerHTML = `<span class="swatch" style="background:${PALETTE[t % PALETTE.length]}"></span><span class="label"></span> <span class="value"></span>`;
    (cap.querySelector('.label') as HTMLElement).textContent = v.labels[t];
    const bestBtn = document.createElement('button');
    bestBtn.type = 'button';
    bestBtn.className = 'tile best';
    bestBtn.setAttribute('aria-pressed', 'false');
    bestBtn.setAttribute('aria-label', `${v.labels[t]}: best input (follow the best restart)`);
    const best = document.createElement('canvas');
    best.className = 'pix big';
    best.dataset.target = String(t);
    best.dataset.role = 'best';
    bestBtn.append(best);
    bestBtn.addEventListener('click', () => select(t, null));
    const strip = document.createElement('div');
    strip.className = 'restarts';
    const buttons: HTMLButtonElement[] = [];
    for (let r = 0; r < v.restarts; r++) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'tile';
      b.setAttribute('aria-pressed', 'false');
      b.setAttribute('aria-label', `${v.labels[t]}: restart ${r}`);
      b.title = `restart ${r}`;
      const c = document.createElement('canvas');
      c.className = 'pix';
      b.append(c);
      b.addEventListener('click', () => select(t, r));
      strip.append(b);
      buttons.push(b);
    }
    fig.append(cap, bestBtn, strip);
    el.tiles.append(fig);
    v.bestCanvases.push(best);
    v.restartButtons.push(buttons);
  });
  markSelection();
}

function select(target: number, restart: number | null): void {
  selected = { target, restart };
  markSelection();
  renderOutputs();
  updateButtons();
}

function markSelection(): void {
  if (!view) return;
  view.bestCanvases.forEach((c, t) => c.parentElement!.setAttribute('aria-pressed', String(selected.target === t && selected.restart === null)));
  view.restartButtons.forEach((bs, t) => bs.forEach((b, r) => b.setAttribute('aria-pressed', String(selected.target === t && selected.restart === r))));
}

function bestRow(v: RunView, t: number): number {
  const cur = v.current;
  let best = t * v.restarts;
  if (!cur) return best;
  for (let r = t * v.restarts; r < (t + 1) * v.restarts; r++) if (cur[r] > cur[best] || !Number.isFinite(cur[best])) best = r;
  return best;
}

function onProgress(msg: Extract<WorkerToPage, { type: 'progress' }>): void {
  const v = view!;
  v.x = msg.x;
  v.current = msg.current;
  v.outputs = msg.outputs;
  const n = prod(v.shape);
  msg.best.forEach((b, t) => { if (Number.isFinite(b)) v.series[t].push([msg.step, b]); });
  v.targets.forEach((_, t) => {
    const bestR = bestRow(v, t);
    drawInput(v.bestCanvases[t], msg.x, bestR * n, v.shape, v.range);
    v.restartButtons[t].forEach((b, r) => {
      const row = t * v.restarts + r;
      drawInput(b.firstElementChild as HTMLCanvasElement, msg.x, row * n, v.shape, v.range);
      b.classList.toggle('leader', row === bestR);
    });
    const valueEl = v.bestCanvases[t].closest('figure')!.querySelector('.value') as HTMLElement;
    valueEl.textContent = Number.isFinite(msg.best[t]) ? `best ${fmt(msg.best[t])}` : '';
  });
  redrawChart();
  el.runInfo.textContent = `Step ${msg.step} / ${msg.steps} · ${Math.round(msg.imageStepsPerSecond).toLocaleString('en')} image-steps/s · ${backend}`;
  renderOutputs();
}

function onDone(results: TargetResult[], run: RunSummary): void {
  const v = view!;
  running = false;
  v.results = results;
  v.summary = run;
  results.forEach((r, t) => {
    drawInput(v.bestCanvases[t], r.input, 0, v.shape, v.range);
    const valueEl = v.bestCanvases[t].closest('figure')!.querySelector('.value') as HTMLElement;
    valueEl.textContent = `value ${fmt(r.value)} (restart ${r.restart}${r.unrounded ? `; ${fmt(r.unrounded.value)} before rounding` : ''})`;
    // The library's own sampled history is exact; the live series only saw throttled updates.
    if (r.history.length) v.series[t] = r.history.filter((h) => Number.isFinite(h.value)).map((h) => [h.step, h.value]);
  });
  v.steps = Math.max(1, run.steps); // a stopped run's chart spans the steps it ran
  redrawChart();
  el.runInfo.textContent = `${run.interrupted ? 'Stopped' : 'Done'} after ${run.steps} steps in ${(run.timings.totalMs / 1000).toFixed(1)} s · ${Math.round(run.timings.imageStepsPerSecond).toLocaleString('en')} image-steps/s · ${run.backend}`;
  say(`${run.interrupted ? 'Stopped' : 'Finished'}: ${results.map((r, t) => `${v.labels[t]} = ${fmt(r.value)}`).slice(0, 4).join(', ')}${results.length > 4 ? ', …' : '.'}`);
  renderOutputs();
  updateButtons();
}

/** The first output's values for the selected picture, as probabilities when the model ends in softmax/sigmoid. */
function renderOutputs(): void {
  const v = view;
  if (!v || !summary) return;
  const out = summary.outputs[0];
  const t = selected.target;
  let values: ArrayLike<number> | null = null;
  let what = '';
  const exact = v.exact[t];
  if (exact && selected.restart === null) {
    values = exact.outputs[out.name] ?? null;
    what = `for the exact result of ${v.labels[t]}`;
  } else if (v.results && selected.restart === null) {
    values = v.results[t]?.outputs[out.name] ?? null;
    what = `for the result of ${v.labels[t]}`;
  } else if (v.outputs) {
    const row = selected.restart === null ? bestRow(v, t) : t * v.restarts + selected.restart;
    values = v.outputs.subarray(row * out.units, (row + 1) * out.units);
    what = `for the current input of ${v.labels[t]}${selected.restart === null ? '' : `, restart ${selected.restart}`}`;
  }
  if (!values) return;
  let shown = Array.from(values);
  let kind = out.finalActivation ? 'probability' : 'value';
  if (!out.finalActivation && shown.length > 1) {
    const m = Math.max(...shown);
    const e = shown.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    shown = e.map((x) => x / s);
    kind = 'softmax';
  }
  el.probsFor.textContent = `(${kind}, ${what})`;
  const names = classNamesOf(0);
  const spec = v.targets[t];
  const hot = spec && (spec.kind === 'logit' || spec.kind === 'prob' || spec.kind === 'margin') && (spec.output === undefined || spec.output === 0 || spec.output === out.name) ? spec.index : -1;
  const scale = kind === 'value' ? Math.max(1e-12, ...shown.map(Math.abs)) : 1;
  const items = shown.slice(0, 100).map((p, i) => {
    const li = document.createElement('li');
    li.dataset.label = names[i] ?? String(i);
    li.dataset.p = String(p);
    if (i === hot) li.className = 'hot';
    li.innerHTML = `<span class="name"></span><span class="bar"><span style="width:${Math.max(0, Math.min(100, (100 * Math.abs(p)) / scale)).toFixed(1)}%"></span></span><span class="val">${kind === 'value' ? fmt(p) : p.toFixed(3)}</span>`;
    (li.querySelector('.name') as HTMLElement).textContent = names[i] ?? String(i);
    li.setAttribute('aria-label', `${names[i] ?? i}: ${kind === 'value' ? fmt(p) : (100 * p).toFixed(1) + ' %'}`);
    return li;
  });
  el.probs.replaceChildren(...items);
}

function clearResults(): void {
  view = null;
  el.tiles.replaceChildren();
  el.probs.replaceChildren();
  el.probsFor.textContent = '';
  el.runInfo.textContent = 'Press Run to start.';
  exactLive = null;
  el.exactNumbers.hidden = true;
  redrawChart();
  updateButtons();
}

function updateButtons(): void {
  const ready = summary !== null && worker !== null;
  el.run.disabled = !ready || running || exactRunning;
  el.stop.disabled = !running && !exactRunning;
  el.exact.disabled = !ready || running || exactRunning;
  el.exact.textContent = exactRunning ? 'Solving…' : 'Exact';
  const has = !!shownInput(selected.target);
  el.dlPng.disabled = !has || !isImageShape(view!.shape);
  el.dlJson.disabled = !has;
  el.run.textContent = running ? 'Running…' : 'Run';
}

// ---------- exact ----------
function exactTimeLimit(): number {
  const v = numberOrNull(el.exactTime);
  return v !== null && v > 0 && v <= 3600 ? v : DEFAULTS.exactTime;
}

/** The input shown for target t: the exact result when there is one, else the gradient search's. */
function shownInput(t: number): number[] | null {
  const ex = view?.exact[t];
  if (ex && ex.input.length) return ex.input;
  return view?.results?.[t]?.input ?? null;
}

const gapText = (g: number | null) => (g === null ? '—' : !Number.isFinite(g) ? '∞' : g === 0 ? '0 %' : g < 1e-6 ? '< 0.0001 %' : `${(100 * g).toPrecision(3)} %`);
const PHASES = { 'warm-start': 'preparing a starting point', bounds: 'bounding the maximum (root relaxation or LP)', solve: 'branch and bound' } as const;

function showExactNumbers(state: string, incumbent: number | null, bound: number | null, gap: number | null, nodes: number, seconds: number): void {
  el.exactNumbers.hidden = false;
  el.exactState.textContent = state;
  el.exactIncumbent.textContent = incumbent === null ? '—' : fmt(incumbent);
  el.exactIncumbent.dataset.value = incumbent === null ? '' : String(incumbent);
  el.exactBound.textContent = bound === null ? '—' : fmt(bound);
  el.exactBound.dataset.value = bound === null ? '' : String(bound);
  el.exactGap.textContent = gapText(gap);
  el.exactTimeUsed.textContent = `${nodes.toLocaleString('en')} nodes · ${seconds.toFixed(1)} s`;
}

function startExact(): void {
  if (!summary || running || exactRunning) return;
  if (!exactAvailable) {
    el.exactStatus.textContent = 'Exact solver not available: this browser cannot start the solver\'s Web Worker; gradient search (Run) still works.';
    return;
  }
  const parsed = parseTargets();
  const built = buildConstraints();
  if ('error' in parsed || 'error' in built) {
    el.exactStatus.textContent = 'error' in parsed ? parsed.error : 'error' in built ? built.error : '';
    return;
  }
  saveSettings();
  const key = JSON.stringify(built.constraints);
  // Keep the run's pictures when the objective is the same; otherwise a fresh view, one picture per target.
  if (!view || JSON.stringify(view.targets) !== JSON.stringify(parsed.specs)) {
    view = newView(++runId, parsed.specs, 0, 1, key);
    selected = { target: 0, restart: null };
    buildTiles(view);
    el.runInfo.textContent = '';
  }
  const v = view;
  const t = Math.min(selected.target, parsed.specs.length - 1);
  // The run's result is a good start only if it was found under the same constraints.
  const start = v.constraintsKey === key ? v.results?.[t]?.input : undefined;
  const timeLimit = exactTimeLimit();
  exactRunning = true;
  exactId = ++runId;
  exactLive = { target: t, incumbent: null, bound: null };
  v.exact[t] = null;
  v.exactTimeLimit[t] = timeLimit;
  el.exactStatus.textContent = `Solving ${v.labels[t]} exactly (time limit ${timeLimit} s${start ? ', starting from the run\'s result' : ''})…`;
  delete el.exactState.dataset.status;
  showExactNumbers('starting', null, null, null, 0, 0);
  send({ type: 'exact', exact: { id: exactId, target: parsed.specs[t], constraints: built.constraints, timeLimit, ...(start ? { start } : {}) } });
  updateButtons();
}

function onExactProgress(msg: Extract<WorkerToPage, { type: 'exact-progress' }>): void {
  if (!exactLive) return;
  exactLive.incumbent = msg.incumbent;
  exactLive.bound = msg.bound;
  showExactNumbers(PHASES[msg.phase], msg.incumbent, msg.bound, msg.gap, msg.nodes, msg.seconds);
  redrawChart();
}

function onExactDone(r: ExactResult): void {
  exactRunning = false;
  const t = exactLive?.target ?? selected.target;
  const state = r.interrupted ? `${r.status} (stopped)` : r.status;
  showExactNumbers(state, r.value, r.upperBound, r.gap, r.nodes, r.totalSeconds);
  el.exactState.dataset.status = r.status;
  el.exactStatus.textContent = `${r.objective}: ${r.message}.${r.source === 'warm-start' ? ' The best input is the starting point: the solver found none better.' : ''}`;
  const v = view;
  if (v && r.input.length) {
    v.exact[t] = r;
    exactLive = { target: t, incumbent: r.value, bound: r.upperBound };
    drawInput(v.bestCanvases[t], r.input, 0, v.shape, v.range);
    const valueEl = v.bestCanvases[t].closest('figure')!.querySelector('.value') as HTMLElement;
    valueEl.textContent = `exact ${r.status === 'optimal' ? 'optimum' : 'best'} ${fmt(r.value!)}${r.status === 'optimal' ? '' : ` (bound ${fmt(r.upperBound!)})`}`;
    select(t, null);
  } else {
    exactLive = null;
  }
  redrawChart();
  updateButtons();
}

// ---------- downloads ----------
function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function fileStem(t: number): string {
  return (view?.labels[t] ?? 'input').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'input';
}

// ---------- events ----------
el.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  startRun();
});
el.stop.addEventListener('click', () => {
  if (view && running) send({ type: 'stop', id: view.id });
  if (exactRunning) {
    send({ type: 'stop-exact', id: exactId });
    el.exactStatus.textContent = 'Stopping the exact solver; the best input so far comes back…';
  }
});
el.exact.addEventListener('click', startExact);
el.copyLink.addEventListener('click', async () => {
  saveSettings();
  try {
    await navigator.clipboard.writeText(location.href);
    say('Link copied: it reproduces these settings (a dropped model or uploaded image is not part of it).');
  } catch {
    say(`Link: ${location.href}`);
  }
});
el.objKind.addEventListener('change', builderToSpec);
el.objOutput.addEventListener('change', () => { fillClasses(); builderToSpec(); });
el.objClass.addEventListener('change', builderToSpec);
el.objLayer.addEventListener('change', builderToSpec);
el.objUnit.addEventListener('input', builderToSpec);
el.objSpec.addEventListener('input', () => { specToBuilder(el.objSpec.value); validateObjective(); saveSettings(); });
for (const input of [el.lo, el.hi, el.eps, el.norm, el.levels, el.steps, el.restarts, el.optimizer, el.lr, el.seed, el.exactTime]) {
  input.addEventListener('change', saveSettings);
}
el.ref.addEventListener('change', () => { drawMask(); saveSettings(); });
el.refFile.addEventListener('change', () => {
  const f = el.refFile.files?.[0];
  if (f) void loadReferenceImage(f);
});
el.backend.addEventListener('change', () => {
  saveSettings();
  startWorker(settings.backend);
});
el.maskOn.addEventListener('change', () => {
  el.maskBox.hidden = !el.maskOn.checked;
  drawMask();
  saveSettings();
});
const maskAction = (f: (m: boolean[], w: number, h: number) => void) => () => {
  const size = maskSize();
  const m = ensureMask();
  if (!size || !m) return;
  f(m, size.w, size.h);
  drawMask();
  saveSettings();
};
$('mask-all').addEventListener('click', maskAction((m) => m.fill(true)));
$('mask-none').addEventListener('click', maskAction((m) => m.fill(false)));
$('mask-invert').addEventListener('click', maskAction((m) => m.forEach((v, i) => (m[i] = !v))));
$('mask-centre').addEventListener('click', maskAction((m, w, h) => m.forEach((_, i) => {
  const x = i % w, y = Math.floor(i / w);
  m[i] = x >= w / 4 && x < (3 * w) / 4 && y >= h / 4 && y < (3 * h) / 4;
})));
let painting: boolean | null = null;
el.maskCanvas.addEventListener('contextmenu', (ev) => ev.preventDefault());
el.maskCanvas.addEventListener('pointerdown', (ev) => {
  painting = ev.button === 2 || ev.shiftKey || el.maskErase.checked;
  el.maskCanvas.setPointerCapture(ev.pointerId);
  maskPaint(ev, painting);
});
el.maskCanvas.addEventListener('pointermove', (ev) => { if (painting !== null) maskPaint(ev, painting); });
const endPaint = () => { if (painting !== null) { painting = null; saveSettings(); } };
el.maskCanvas.addEventListener('pointerup', endPaint);
el.maskCanvas.addEventListener('pointercancel', endPaint);

async function openModelFiles(list: FileList | File[]): Promise<void> {
  const files = Array.from(list);
  if (!files.length) return;
  const names = files.map((f) => f.name);
  if (!names.some((n) => /\.(json|keras|h5|hdf5)$/i.test(n))) {
    say(`None of ${names.join(', ')} is a model file; give model.json (with its weight files), a .keras or a .h5 file.`, 'error');
    return;
  }
  const record: Record<string, ArrayBuffer> = {};
  for (const f of files) record[f.name] = await f.arrayBuffer();
  droppedFiles = record;
  summary = null;
  updateButtons();
  sendFiles(record);
}
el.modelFiles.addEventListener('change', () => { if (el.modelFiles.files) void openModelFiles(el.modelFiles.files); });
el.useBundled.addEventListener('click', () => {
  droppedFiles = null;
  send({ type: 'load-url', url: bundledModelUrl });
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
    if (ev.dataTransfer?.files?.length) void openModelFiles(ev.dataTransfer.files);
  });
}
el.dlPng.addEventListener('click', () => {
  const input = shownInput(selected.target);
  if (!input || !view) return;
  scaledCanvas(input, view.shape, view.range).toBlob((blob) => { if (blob) download(blob, `${fileStem(selected.target)}.png`); }, 'image/png');
});
el.dlJson.addEventListener('click', () => {
  const t = selected.target;
  const ex = view?.exact[t];
  const r = view?.results?.[t];
  if (!view || !summary) return;
  let doc: Record<string, unknown>;
  if (ex && ex.input.length) doc = exactJson(ex, summary.source, view.exactTimeLimit[t], r ? { value: r.value, restart: r.restart } : null);
  else if (r && view.summary) doc = targetJson(r, view.summary, summary.source);
  else return;
  download(new Blob([JSON.stringify(doc, null, 2) + '\n'], { type: 'application/json' }), `${fileStem(selected.target)}.json`);
});
window.addEventListener('resize', redrawChart);

// ---------- start ----------
writeForm(settings);
clearResults();
fetch(examplesUrl)
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
  .then((doc: { examples: Example[] }) => {
    examples = doc.examples ?? [];
    if (summary) populateReferences();
    if (settings.ref.startsWith('ex:')) el.ref.value = settings.ref;
    drawMask();
  })
  .catch(() => { examples = []; });
startWorker(settings.backend);
