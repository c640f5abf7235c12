/**
 * The constraints panel: value range, a reference image (a bundled example or an uploaded PNG)
 * with a ball of radius ε in a norm, the editable-pixel mask, quantised levels. It turns them into
 * the library's constraint data (the same the CLI's --constraint flags give).
 */
import { isImageShape, type Constraint } from 'actmax/browser';
import type { App, Panel } from '../app.js';
import { $, numberOrNull, option, prod } from '../dom.js';
import { imageDims } from '../draw.js';
import { createMaskEditor } from './mask.js';
import type { Norm } from '../settings.js';

/** One bundled example image (models/fashion-mnist-mlp/examples.json). */
export interface Example {
  label: number;
  className: string;
  testIndex?: number;
  input: number[];
}

export interface ConstraintsPanel extends Panel {
  /** The constraints and the starting input (the reference, when there is one), or what is wrong. */
  build(): { constraints: Constraint[]; init?: number[] } | { error: string };
  /** The value range [from, to] the run uses. */
  range(): [number, number];
  /** The bundled examples arrived. */
  setExamples(examples: Example[]): void;
}

/**
 * @example
 * const constraints = createConstraintsPanel(app); app.panels.push(constraints);
 */
export function createConstraintsPanel(app: App): ConstraintsPanel {
  const el = {
    lo: $<HTMLInputElement>('lo'),
    hi: $<HTMLInputElement>('hi'),
    ref: $<HTMLSelectElement>('ref'),
    refFile: $<HTMLInputElement>('ref-file'),
    eps: $<HTMLInputElement>('eps'),
    norm: $<HTMLSelectElement>('norm'),
    levels: $<HTMLInputElement>('levels'),
  };
  let examples: Example[] = [];
  let uploaded: { name: string; values: number[] } | null = null;
  const input = () => app.model?.inputs[0];

  function range(): [number, number] {
    const info = input();
    return [numberOrNull(el.lo) ?? info?.range[0] ?? 0, numberOrNull(el.hi) ?? info?.range[1] ?? 1];
  }

  function reference(): number[] | null {
    const v = el.ref.value;
    if (v === 'upload') return uploaded?.values ?? null;
    const m = /^ex:(\d+)$/.exec(v);
    return m ? (examples[Number(m[1])]?.input ?? null) : null;
  }

  const mask = createMaskEditor({ reference, range, changed: () => app.saveSettings() });

  function populateReferences(): void {
    const n = input() ? prod(input()!.shape) : 0;
    const keep = app.settings.ref;
    const opts = [option('none', 'none')];
    examples.forEach((ex, i) => {
      if (ex.input.length === n) opts.push(option(`ex:${i}`, `example ${i}: ${ex.className}`));
    });
    if (uploaded && uploaded.values.length === n) opts.push(option('upload', `uploaded: ${uploaded.name}`));
    el.ref.replaceChildren(...opts);
    el.ref.value = opts.some((o) => o.value === keep) ? keep : 'none';
  }

  /** A PNG scaled to the input's size, grey or RGB as the input needs, mapped to the value range. */
  async function loadReferenceImage(file: File): Promise<void> {
    const info = input();
    if (!info || !isImageShape(info.shape)) {
      app.say('A reference image needs a model whose input is a picture (H×W or H×W×C).', 'error');
      return;
    }
    const { h, w, c } = imageDims(info.shape);
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      app.say(`${file.name} is not an image this browser can read; give a PNG`, 'error');
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
    const [lo, hi] = range();
    const scale = (v: number) => lo + (v / 255) * (hi - lo);
    const values: number[] = [];
    for (let i = 0; i < w * h; i++) {
      const r = px[i * 4], g = px[i * 4 + 1], b = px[i * 4 + 2];
      if (c === 1) values.push(scale(0.299 * r + 0.587 * g + 0.114 * b));
      else {
        values.push(scale(r), scale(g), scale(b));
        if (c === 4) values.push(hi);
      }
    }
    uploaded = { name: file.name, values };
    populateReferences();
    el.ref.value = 'upload';
    app.say(`Reference image ${file.name} scaled to ${w}×${h}.`);
    mask.redraw();
    app.saveSettings();
  }

  function build(): { constraints: Constraint[]; init?: number[] } | { error: string } {
    const info = input();
    if (!info) return { error: 'no model loaded' };
    const n = prod(info.shape);
    const [lo, hi] = range();
    if (!(lo < hi)) return { error: `the value range must have from < to, got [${lo}, ${hi}]` };
    const constraints: Constraint[] = [{ kind: 'box', lo, hi }];
    const raw = reference();
    if (raw && raw.length !== n) return { error: `the reference has ${raw.length} values; the model input needs ${n}` };
    const ref = raw?.map((v) => Math.min(hi, Math.max(lo, v))) ?? null;
    const eps = numberOrNull(el.eps);
    if (eps !== null) {
      if (!ref) return { error: 'ε needs a reference image: choose an example or upload one' };
      if (!(eps >= 0)) return { error: `ε must be ≥ 0, got ${eps}` };
      const p = el.norm.value === 'inf' ? 'inf' : el.norm.value === '2' ? 2 : 1;
      constraints.push({ kind: 'ball', ref, eps, p });
    }
    const m = mask.current();
    if (m) {
      const c = info.shape.length === 3 ? info.shape[2] : 1;
      const editable = Array.from({ length: n }, (_, i) => m[Math.floor(i / c)]);
      if (!editable.some(Boolean)) return { error: 'the mask has no editable pixel: paint some, or press All' };
      constraints.push(ref ? { kind: 'mask', editable, ref } : { kind: 'mask', editable });
    }
    const levels = numberOrNull(el.levels);
    if (levels !== null && levels !== 0) {
      if (!Number.isInteger(levels) || levels < 2) return { error: `levels must be an integer ≥ 2 (or empty for off), got ${levels}` };
      constraints.push({ kind: 'levels', n: levels });
    }
    return { constraints, ...(ref ? { init: ref } : {}) };
  }

  for (const i of [el.lo, el.hi, el.eps, el.norm, el.levels]) i.addEventListener('change', () => app.saveSettings());
  el.ref.addEventListener('change', () => {
    mask.redraw();
    app.saveSettings();
  });
  el.refFile.addEventListener('change', () => {
    const f = el.refFile.files?.[0];
    if (f) void loadReferenceImage(f);
  });

  return {
    build,
    range,
    setExamples(list) {
      examples = list;
      if (app.model) populateReferences();
      if (app.settings.ref.startsWith('ex:')) el.ref.value = app.settings.ref;
      mask.redraw();
    },
    onModel(s) {
      const info = s.inputs[0];
      if (app.settings.lo === null) el.lo.value = String(info.range[0]);
      if (app.settings.hi === null) el.hi.value = String(info.range[1]);
      el.lo.placeholder = String(info.range[0]);
      el.hi.placeholder = String(info.range[1]);
      populateReferences();
      mask.setInput(info);
    },
    writeSettings(s) {
      el.lo.value = s.lo === null ? '' : String(s.lo);
      el.hi.value = s.hi === null ? '' : String(s.hi);
      el.eps.value = s.eps === null ? '' : String(s.eps);
      el.norm.value = s.norm;
      el.levels.value = s.levels > 1 ? String(s.levels) : '';
      mask.set(s.mask);
    },
    readSettings(s) {
      const info = input();
      const lo = numberOrNull(el.lo), hi = numberOrNull(el.hi), eps = numberOrNull(el.eps), levels = numberOrNull(el.levels);
      s.lo = lo === null || (info && lo === info.range[0]) ? null : lo;
      s.hi = hi === null || (info && hi === info.range[1]) ? null : hi;
      s.ref = el.ref.value || 'none';
      s.eps = eps !== null && eps >= 0 ? eps : null;
      s.norm = el.norm.value as Norm;
      s.mask = mask.current();
      s.levels = levels !== null && Number.isInteger(levels) && levels > 1 ? levels : 0;
    },
  };
}
