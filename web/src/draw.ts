/** Drawing on canvases: inputs as pictures (or bars for 1-D inputs) and the objective chart. */

import { isImageShape } from 'actmax/browser';

/** Pixel size of a picture input (rows, columns, channels). */
export function imageDims(shape: number[]): { h: number; w: number; c: number } {
  return { h: shape[0], w: shape[1], c: shape.length === 3 ? shape[2] : 1 };
}

/** RGBA bytes of one input, mapping [lo, hi] to [0, 255]. */
export function inputToImageData(values: ArrayLike<number>, offset: number, shape: number[], range: [number, number]): ImageData {
  const { h, w, c } = imageDims(shape);
  const img = new ImageData(w, h);
  const span = range[1] - range[0] || 1;
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(((v - range[0]) / span) * 255)));
  for (let i = 0; i < h * w; i++) {
    const src = offset + i * c;
    const o = i * 4;
    if (c >= 3) {
      img.data[o] = byte(values[src]);
      img.data[o + 1] = byte(values[src + 1]);
      img.data[o + 2] = byte(values[src + 2]);
    } else {
      img.data[o] = img.data[o + 1] = img.data[o + 2] = byte(values[src]);
    }
    img.data[o + 3] = 255;
  }
  return img;
}

/**
 * Draw one input (features `offset … offset+n` of `values`) on a canvas: a picture for image
 * shapes, otherwise one bar per feature between lo and hi.
 */
export function drawInput(canvas: HTMLCanvasElement, values: ArrayLike<number>, offset: number, shape: number[], range: [number, number]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  if (isImageShape(shape)) {
    const { h, w } = imageDims(shape);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.putImageData(inputToImageData(values, offset, shape, range), 0, 0);
    return;
  }
  const n = shape.reduce((a, b) => a * b, 1);
  canvas.width = 120;
  canvas.height = 120;
  ctx.fillStyle = '#111';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const span = range[1] - range[0] || 1;
  const bw = canvas.width / n;
  ctx.fillStyle = '#7fd1ff';
  for (let i = 0; i < n; i++) {
    const t = Math.max(0, Math.min(1, (values[offset + i] - range[0]) / span));
    const bh = t * canvas.height;
    ctx.fillRect(i * bw, canvas.height - bh, Math.max(1, bw - 1), bh);
  }
}

/** A picture of one input scaled up (nearest neighbour) for download. */
export function scaledCanvas(values: ArrayLike<number>, shape: number[], range: [number, number], target = 280): HTMLCanvasElement {
  const small = document.createElement('canvas');
  drawInput(small, values, 0, shape, range);
  const scale = Math.max(1, Math.floor(target / Math.max(small.width, small.height)));
  const big = document.createElement('canvas');
  big.width = small.width * scale;
  big.height = small.height * scale;
  const ctx = big.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, big.width, big.height);
  return big;
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The exact solver's live numbers, drawn across the chart: best value found and proven bound. */
export interface ChartExact {
  incumbent: number | null;
  bound: number | null;
  /** Colour of the target it belongs to. */
  color: string;
}

/**
 * Objective (best so far) over steps, one line per target; with `exact`, the exact solver's
 * incumbent (solid) and proven upper bound (dashed) as horizontal lines.
 *
 * @example
 * drawChart(canvas, [[[0, 1.5], [10, 3.2]]], 10, ['Trouser'], { incumbent: 3.3, bound: 4, color: PALETTE[0] });
 */
export function drawChart(canvas: HTMLCanvasElement, series: Array<Array<[number, number]>>, steps: number, _labels: string[], exact?: ChartExact | null): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 480;
  const cssH = canvas.clientHeight || 200;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const pad = { l: 56, r: 10, t: 10, b: 24 };
  const W = cssW - pad.l - pad.r;
  const H = cssH - pad.t - pad.b;
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const [, v] of s) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const lines = exact ? ([['exact best', exact.incumbent, []], ['proven bound', exact.bound, [6, 4]]] as Array<[string, number | null, number[]]>).filter(([, v]) => v !== null && Number.isFinite(v)) : [];
  for (const [, v] of lines) { lo = Math.min(lo, v!); hi = Math.max(hi, v!); }
  ctx.strokeStyle = '#999';
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.l, pad.t, W, H);
  ctx.fillStyle = getComputedStyle(canvas).color || '#222';
  ctx.font = '12px system-ui, sans-serif';
  if (!Number.isFinite(lo)) {
    ctx.fillText('objective over steps appears here during a run', pad.l + 8, pad.t + H / 2);
    return;
  }
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const X = (step: number) => pad.l + (W * step) / Math.max(1, steps);
  const Y = (v: number) => pad.t + H - (H * (v - lo)) / (hi - lo);
  ctx.textAlign = 'right';
  ctx.fillText(fmt(hi), pad.l - 4, pad.t + 10);
  ctx.fillText(fmt(lo), pad.l - 4, pad.t + H);
  ctx.textAlign = 'center';
  ctx.fillText('0', pad.l, cssH - 6);
  ctx.fillText(`step ${steps}`, pad.l + W - 24, cssH - 6);
  series.forEach((s, t) => {
    ctx.strokeStyle = PALETTE[t % PALETTE.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.forEach(([step, v], i) => (i === 0 ? ctx.moveTo(X(step), Y(v)) : ctx.lineTo(X(step), Y(v))));
    ctx.stroke();
  });
  ctx.textAlign = 'right';
  let lastLabelY = -Infinity;
  for (const [name, v, dash] of lines) {
    ctx.strokeStyle = exact!.color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(pad.l, Y(v!));
    ctx.lineTo(pad.l + W, Y(v!));
    ctx.stroke();
    ctx.setLineDash([]);
    // When the bound meets the best value the lines coincide: keep the labels apart.
    let labelY = Math.max(pad.t + 10, Y(v!) - 3);
    if (Math.abs(labelY - lastLabelY) < 13) labelY = lastLabelY + 14;
    ctx.fillText(`${name} ${fmt(v!)}`, pad.l + W - 4, labelY);
    lastLabelY = labelY;
  }
  // No legend: each target's colour is shown by the swatch in its picture's caption.
}

/** A number in at most 4 significant digits. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
