// Images as RGBA bytes: which shapes are pictures, rendering inputs, labelled grids. Browser-safe
// (no Node modules); PNG encoding and decoding (pngjs, Node) live in png.ts.
import { drawText, textWidth } from './font.js';

/** An image as RGBA bytes. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Is this input shape an image (H×W, or H×W×C with C = 1, 3 or 4)? @example isImageShape([28, 28]) // true */
export function isImageShape(shape: number[]): boolean {
  return (shape.length === 2 && shape[0] > 1 && shape[1] > 1) || (shape.length === 3 && shape[0] > 1 && shape[1] > 1 && [1, 3, 4].includes(shape[2]));
}

/**
 * Render a flat input of an image shape to RGBA, mapping [lo, hi] to [0, 255], upscaled by `scale`.
 *
 * @example
 * const img = toRgba(image, [28, 28], [0, 1], 4);
 * img.width // 112
 */
export function toRgba(values: ArrayLike<number>, shape: number[], range: [number, number], scale = 1): RgbaImage {
  const [h, w] = shape;
  const c = shape.length === 3 ? shape[2] : 1;
  const W = w * scale, H = h * scale;
  const data = new Uint8Array(W * H * 4);
  const span = range[1] - range[0] || 1;
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(((v - range[0]) / span) * 255)));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const src = (Math.floor(y / scale) * w + Math.floor(x / scale)) * c;
      const o = (y * W + x) * 4;
      if (c >= 3) {
        data[o] = byte(values[src]); data[o + 1] = byte(values[src + 1]); data[o + 2] = byte(values[src + 2]);
      } else {
        data[o] = data[o + 1] = data[o + 2] = byte(values[src]);
      }
      data[o + 3] = 255;
    }
  }
  return { width: W, height: H, data };
}

/** One labelled panel of a grid. */
export interface GridPanel {
  values: ArrayLike<number>;
  label: string;
  sublabel?: string;
}

/**
 * Lay out labelled panels in a grid (e.g. one per class) as one RGBA image.
 *
 * @example
 * const run = await maximize(model, [logit(0), logit(1)], { steps: 10, restarts: 1 });
 * const grid = gridImage(run.results.map((r, t) => ({ values: r.input, label: `class ${t}` })), [28, 28], [0, 1]);
 * grid.width > 0 // true
 */
export function gridImage(panels: GridPanel[], shape: number[], range: [number, number], opts: { columns?: number; scale?: number } = {}): RgbaImage {
  const scale = opts.scale ?? Math.max(1, Math.floor(112 / Math.max(shape[0], shape[1])));
  const cols = opts.columns ?? Math.min(panels.length, 5);
  const rowsN = Math.ceil(panels.length / cols);
  const pw = shape[1] * scale, ph = shape[0] * scale;
  const labelH = panels.some((p) => p.sublabel) ? 22 : 12;
  const cellW = Math.max(pw, ...panels.map((p) => Math.max(textWidth(p.label), textWidth(p.sublabel ?? '')))) + 8;
  const cellH = ph + labelH + 8;
  const W = cols * cellW, H = rowsN * cellH;
  const data = new Uint8Array(W * H * 4).fill(255);
  panels.forEach((p, i) => {
    const cx = (i % cols) * cellW + Math.floor((cellW - pw) / 2);
    const cy = Math.floor(i / cols) * cellH + 4;
    const img = toRgba(p.values, shape, range, scale);
    for (let y = 0; y < ph; y++) data.set(img.data.subarray(y * pw * 4, (y + 1) * pw * 4), ((cy + y) * W + cx) * 4);
    const lx = (i % cols) * cellW + Math.floor((cellW - textWidth(p.label)) / 2);
    drawText(data, W, lx, cy + ph + 3, p.label, [0, 0, 0]);
    if (p.sublabel) drawText(data, W, (i % cols) * cellW + Math.floor((cellW - textWidth(p.sublabel)) / 2), cy + ph + 13, p.sublabel, [90, 90, 90]);
  });
  return { width: W, height: H, data };
}
