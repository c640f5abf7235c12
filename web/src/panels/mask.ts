/**
 * The editable-pixel mask of the constraints panel: painted on a canvas over the reference image
 * (drag to paint, right button, Shift or "erase" to erase), with All / None / Invert / Centre.
 */
import { isImageShape } from 'actmax/browser';
import { $ } from '../dom.js';
import { drawInput, imageDims } from '../draw.js';
import type { InputInfo } from '../messages.js';

export interface MaskEditor {
  /** The mask (true = may change, one per pixel), created all-editable when the size changed. */
  current(): boolean[] | null;
  /** Start from a mask (from a link); dropped when its size does not fit the model. */
  set(mask: boolean[] | null): void;
  /** Adapt to the model's input: a mask needs an image input. */
  setInput(info: InputInfo | null): void;
  enabled(): boolean;
  setEnabled(on: boolean): void;
  redraw(): void;
}

/**
 * @example
 * const mask = createMaskEditor({ reference: () => refValues, range: () => [0, 1], changed: save });
 */
export function createMaskEditor(deps: { reference(): number[] | null; range(): [number, number]; changed(): void }): MaskEditor {
  const el = {
    on: $<HTMLInputElement>('mask-on'),
    box: $<HTMLDivElement>('mask-box'),
    canvas: $<HTMLCanvasElement>('mask-canvas'),
    erase: $<HTMLInputElement>('mask-erase'),
  };
  let info: InputInfo | null = null;
  let mask: boolean[] | null = null;

  const size = (): { h: number; w: number } | null => {
    if (!info || !isImageShape(info.shape)) return null;
    const { h, w } = imageDims(info.shape);
    return { h, w };
  };

  function ensure(): boolean[] | null {
    const sz = size();
    if (!sz) return null;
    if (!mask || mask.length !== sz.h * sz.w) mask = new Array(sz.h * sz.w).fill(true);
    return mask;
  }

  function redraw(): void {
    const sz = size();
    if (!sz || el.box.hidden) return;
    const m = ensure()!;
    const ctx = el.canvas.getContext('2d')!;
    const W = el.canvas.width, H = el.canvas.height;
    const ref = deps.reference();
    const small = document.createElement('canvas');
    if (ref) drawInput(small, ref, 0, info!.shape, deps.range());
    else {
      small.width = sz.w;
      small.height = sz.h;
      small.getContext('2d')!.fillStyle = '#777';
      small.getContext('2d')!.fillRect(0, 0, sz.w, sz.h);
    }
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, W, H);
    const cw = W / sz.w, ch = H / sz.h;
    ctx.fillStyle = 'rgba(255, 140, 0, 0.45)';
    for (let i = 0; i < m.length; i++) if (m[i]) ctx.fillRect((i % sz.w) * cw, Math.floor(i / sz.w) * ch, cw, ch);
  }

  function paint(ev: PointerEvent, erase: boolean): void {
    const sz = size();
    const m = ensure();
    if (!sz || !m) return;
    const rect = el.canvas.getBoundingClientRect();
    const cx = Math.floor(((ev.clientX - rect.left) / rect.width) * sz.w);
    const cy = Math.floor(((ev.clientY - rect.top) / rect.height) * sz.h);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const x = cx + dx, y = cy + dy;
        if (x >= 0 && y >= 0 && x < sz.w && y < sz.h) m[y * sz.w + x] = !erase;
      }
    }
    redraw();
  }

  const action = (f: (m: boolean[], w: number, h: number) => void) => () => {
    const sz = size();
    const m = ensure();
    if (!sz || !m) return;
    f(m, sz.w, sz.h);
    redraw();
    deps.changed();
  };
  $('mask-all').addEventListener('click', action((m) => m.fill(true)));
  $('mask-none').addEventListener('click', action((m) => m.fill(false)));
  $('mask-invert').addEventListener('click', action((m) => m.forEach((v, i) => (m[i] = !v))));
  $('mask-centre').addEventListener('click', action((m, w, h) => m.forEach((_, i) => {
    const x = i % w, y = Math.floor(i / w);
    m[i] = x >= w / 4 && x < (3 * w) / 4 && y >= h / 4 && y < (3 * h) / 4;
  })));
  let painting: boolean | null = null;
  el.canvas.addEventListener('contextmenu', (ev) => ev.preventDefault());
  el.canvas.addEventListener('pointerdown', (ev) => {
    painting = ev.button === 2 || ev.shiftKey || el.erase.checked;
    el.canvas.setPointerCapture(ev.pointerId);
    paint(ev, painting);
  });
  el.canvas.addEventListener('pointermove', (ev) => {
    if (painting !== null) paint(ev, painting);
  });
  const endPaint = () => {
    if (painting !== null) {
      painting = null;
      deps.changed();
    }
  };
  el.canvas.addEventListener('pointerup', endPaint);
  el.canvas.addEventListener('pointercancel', endPaint);
  el.on.addEventListener('change', () => {
    el.box.hidden = !el.on.checked;
    redraw();
    deps.changed();
  });

  return {
    current: () => (el.on.checked ? ensure() : null),
    set(m) {
      mask = m;
      el.on.checked = m !== null;
      el.box.hidden = !el.on.checked;
    },
    setInput(next) {
      info = next;
      const image = !!next && isImageShape(next.shape);
      el.on.disabled = !image;
      if (!image) el.on.checked = false;
      const sz = size();
      if (mask && (!sz || mask.length !== sz.h * sz.w)) mask = null;
      el.box.hidden = !el.on.checked;
      redraw();
    },
    enabled: () => el.on.checked,
    setEnabled(on) {
      el.on.checked = on;
      el.box.hidden = !on;
    },
    redraw,
  };
}
