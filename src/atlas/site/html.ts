/**
 * Small HTML building blocks of the atlas site: escaping, the page shell and its stylesheet, and
 * the two inline SVG charts (value curve, output bars). Pages are plain static HTML — no script,
 * no fetch — so they open from file:// as well as through `actmax serve DIR`.
 */

/** Escape text for HTML content and attribute values. @example esc('<a & "b">') // '&lt;a &amp; &quot;b&quot;&gt;' */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A value for a grid or table: 4 significant digits. @example fmt(1.23456) // '1.235' */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(3) : v.toPrecision(4);
}

/** The stylesheet every page links (`atlas.css` at the site's root). */
export const ATLAS_CSS = `
:root { --fg: #1d1f23; --muted: #667; --line: #dde; --accent: #2457c5; --bg: #fafafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 14px 22px; border-bottom: 1px solid var(--line); background: #fff; }
header h1 { margin: 0; font-size: 19px; }
header .crumbs a { color: var(--accent); text-decoration: none; }
main { padding: 16px 22px 40px; max-width: 1400px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
table.facts { border-collapse: collapse; margin: 8px 0 16px; }
table.facts td, table.facts th { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; }
table.layers td, table.layers th { padding: 4px 14px 4px 0; text-align: left; border-bottom: 1px solid var(--line); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)); gap: 8px; }
.unit { display: flex; flex-direction: column; align-items: center; padding: 4px; background: #fff; border: 1px solid var(--line); border-radius: 6px; text-decoration: none; color: var(--fg); }
.unit:hover { border-color: var(--accent); }
.unit img, .pic img, .thumbs img { width: 100%; aspect-ratio: 1; image-rendering: pixelated; background: #000; display: block; }
.unit .idx { font-weight: 600; }
.unit .val { color: var(--muted); font-variant-numeric: tabular-nums; }
.unit.pending { opacity: .45; justify-content: center; min-height: 92px; }
.pics { display: flex; flex-wrap: wrap; gap: 12px; }
.pic { width: 150px; text-align: center; }
.pic.best { outline: 3px solid var(--accent); outline-offset: 2px; }
.thumbs { display: flex; gap: 3px; }
.thumbs img { width: 28px; }
svg { background: #fff; border: 1px solid var(--line); }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
nav.pager { margin: 12px 0; display: flex; gap: 16px; }
section { margin: 22px 0; }
h2 { font-size: 16px; margin: 0 0 8px; }
`;

/**
 * A whole page: `root` is the relative path to the site's root ('' or '../…'), `crumbs` the trail
 * shown above the title.
 *
 * @example
 * page({ title: 'conv2d', root: '../', crumbs: [{ label: 'atlas', href: '../index.html' }, { label: 'conv2d' }], body: '<p>…</p>' })
 */
export function page(opts: { title: string; root: string; crumbs: Array<{ label: string; href?: string }>; body: string }): string {
  const crumbs = opts.crumbs.map((c) => (c.href ? `<a href="${esc(c.href)}">${esc(c.label)}</a>` : esc(c.label))).join(' › ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(opts.title)}</title><link rel="stylesheet" href="${esc(opts.root)}atlas.css"></head>
<body><header><div class="crumbs muted">${crumbs}</div><h1>${esc(opts.title)}</h1></header>
<main>
${opts.body}
</main></body></html>
`;
}

/**
 * The best value over the steps as an SVG line chart.
 *
 * @example
 * curveSvg([{ step: 0, value: 0.1 }, { step: 100, value: 2.5 }]) // '<svg class="curve" …'
 */
export function curveSvg(history: Array<{ step: number; value: number }>, width = 420, height = 160): string {
  const pts = history.filter((h) => Number.isFinite(h.value));
  if (pts.length === 0) return '<p class="muted">no curve recorded</p>';
  const pad = { l: 52, r: 10, t: 10, b: 24 };
  const x0 = pts[0].step, x1 = Math.max(pts[pts.length - 1].step, x0 + 1);
  let y0 = Math.min(...pts.map((p) => p.value)), y1 = Math.max(...pts.map((p) => p.value));
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 1, y1 + 1];
  const X = (s: number) => pad.l + ((s - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (v: number) => pad.t + (1 - (v - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const line = pts.map((p) => `${X(p.step).toFixed(1)},${Y(p.value).toFixed(1)}`).join(' ');
  return `<svg class="curve" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="best value by step">
<polyline fill="none" stroke="#2457c5" stroke-width="2" points="${line}"/>
<text x="4" y="${pad.t + 9}">${esc(fmt(y1))}</text><text x="4" y="${height - pad.b}">${esc(fmt(y0))}</text>
<text x="${pad.l}" y="${height - 6}">step ${x0}</text><text x="${width - pad.r - 60}" y="${height - 6}">step ${x1}</text>
</svg>`;
}

/**
 * Values as horizontal bars with labels (output probabilities, or an input that is not an image).
 *
 * @example
 * barsSvg([{ label: 'Trouser', value: 0.98 }, { label: 'Dress', value: 0.01 }], { max: 1 })
 */
export function barsSvg(items: Array<{ label: string; value: number }>, opts: { width?: number; max?: number } = {}): string {
  const width = opts.width ?? 420, row = 18, labelW = 120;
  const max = opts.max ?? Math.max(1e-12, ...items.map((i) => Math.abs(i.value)));
  const bars = items
    .map((it, k) => {
      const w = Math.max(0, (Math.abs(it.value) / max) * (width - labelW - 70));
      const y = 4 + k * row;
      return `<text x="4" y="${y + 12}">${esc(it.label.slice(0, 18))}</text><rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 5}" fill="${it.value < 0 ? '#c54' : '#2457c5'}"/><text x="${labelW + w + 4}" y="${y + 12}">${esc(fmt(it.value))}</text>`;
    })
    .join('');
  return `<svg class="bars" width="${width}" height="${items.length * row + 8}" role="img">${bars}</svg>`;
}
