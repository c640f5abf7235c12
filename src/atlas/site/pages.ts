import type { AtlasSettings, ManifestUnit, PlannedLayer } from '../types.js';
import { barsSvg, curveSvg, esc, fmt, page } from './html.js';

/** What a unit's unit.json holds: its manifest line plus its curve, outputs and every restart. */
export interface UnitRecord extends ManifestUnit {
  atlasId: string;
  kind: string;
  winner: number;
  backend: string;
  piece: number;
  history: Array<{ step: number; value: number }>;
  outputs: Record<string, number[]>;
  restarts: Array<{ value: number; file?: string; input?: number[] }>;
  /** The best input's values, for inputs that are not images. */
  input?: number[];
}

/** One dataset example shown on a unit's page. */
export interface ExampleRef {
  label: string;
  /** Picture path relative to the site root (image inputs). */
  file?: string;
  value: number;
}

/** What every page knows about the atlas. */
export interface SiteContext {
  title: string;
  model: { source: string; format: string };
  atlasId: string;
  settings: AtlasSettings;
  layers: PlannedLayer[];
  outputs: Array<{ name: string; classNames?: string[]; finalActivation: string | null }>;
  /** Number of dataset examples scored, when --examples was given. */
  examples?: { count: number; source: string };
}

/** Where a unit's files live, relative to the site root. @example unitDir(layer, 3) // 'units/conv2d/3/' */
export function unitDir(layer: PlannedLayer, index: number): string {
  return `units/${layer.slug}/${index}/`;
}

/** A layer page's path relative to the site root. @example layerPath(layer) // 'layers/conv2d.html' */
export function layerPath(layer: PlannedLayer): string {
  return `layers/${layer.slug}.html`;
}

function settingsLine(s: AtlasSettings): string {
  return `${s.steps} steps · ${s.restarts} restart${s.restarts === 1 ? '' : 's'} · seed ${s.seed} · ${s.batchUnits} units per batch · image ${s.image === 'auto' ? 'defaults for the input kind' : 'none'}`;
}

/**
 * The site's front page: the model, the settings, and one row per layer with its progress and the
 * first pictures.
 *
 * @example
 * await writeFile('index.html', indexPage(ctx, new Map([['conv2d', records]])));
 */
export function indexPage(ctx: SiteContext, done: Map<string, Array<ManifestUnit | undefined>>): string {
  const total = ctx.layers.reduce((a, l) => a + l.units, 0);
  const finished = [...done.values()].reduce((a, rs) => a + rs.filter(Boolean).length, 0);
  const rows = ctx.layers
    .map((l) => {
      const recs = done.get(l.name) ?? [];
      const got = recs.filter((r): r is ManifestUnit => !!r);
      const thumbs = got.slice(0, 12).filter((r) => r.files.best).map((r) => `<img src="${esc(r.files.best!)}" alt="">`).join('');
      return `<tr><td><a href="${esc(layerPath(l))}">${esc(l.name)}</a></td><td>${esc(l.className)}</td><td>${esc(l.kind)}</td><td>${got.length} / ${l.units}</td><td><div class="thumbs">${thumbs}</div></td></tr>`;
    })
    .join('\n');
  const body = `<p>${esc(ctx.model.source)} <span class="muted">(${esc(ctx.model.format)})</span></p>
<p class="muted">${esc(settingsLine(ctx.settings))}${ctx.examples ? ` · dataset examples: ${ctx.examples.count} from ${esc(ctx.examples.source)}` : ''}</p>
<p><strong id="progress">${finished} of ${total} units</strong></p>
<table class="layers"><thead><tr><th>layer</th><th>class</th><th>units read as</th><th>done</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
  return page({ title: ctx.title, root: '', crumbs: [{ label: 'atlas' }], body });
}

/**
 * One layer: a grid of every unit's best picture (inputs that are not images: the value alone)
 * with its value, each linking to the unit's page; units not done yet are greyed out.
 *
 * @example
 * await writeFile('layers/conv2d.html', layerPage(ctx, layer, records));
 */
export function layerPage(ctx: SiteContext, layer: PlannedLayer, records: Array<ManifestUnit | undefined>): string {
  const cells = Array.from({ length: layer.units }, (_, i) => {
    const r = records[i];
    if (!r) return `<div class="unit pending"><span class="idx">${i}</span><span class="muted">not yet</span></div>`;
    const pic = r.files.best ? `<img src="../${esc(r.files.best)}" alt="${esc(`${layer.name} unit ${i}`)}" loading="lazy">` : '';
    return `<a class="unit" href="../${esc(r.files.page)}" title="${esc(r.objective)}">${pic}<span class="idx">${i}</span><span class="val">${esc(fmt(r.value))}</span></a>`;
  }).join('\n');
  const done = records.filter(Boolean).length;
  const what = layer.kind === 'channel' ? 'channel (mean over positions)' : layer.kind === 'logit' ? 'output unit (pre-activation)' : 'neuron';
  const body = `<p class="muted">${esc(layer.className)} · output [${layer.outputShape.join(', ')}] · each cell is one ${esc(what)} · ${done} of ${layer.units} done</p>
<div class="grid" id="units">
${cells}
</div>`;
  return page({ title: `${layer.name} — ${layer.units} units`, root: '../', crumbs: [{ label: 'atlas', href: '../index.html' }, { label: layer.name }], body });
}

function outputsSection(ctx: SiteContext, outputs: Record<string, number[]>): string {
  return ctx.outputs
    .filter((o) => outputs[o.name])
    .map((o) => {
      const values = outputs[o.name];
      const top = values.map((v, i) => ({ label: o.classNames?.[i] ?? String(i), value: v })).sort((a, b) => b.value - a.value).slice(0, 10);
      const what = o.finalActivation === 'softmax' ? 'probabilities' : o.finalActivation === 'sigmoid' ? 'sigmoid outputs' : 'outputs';
      return `<h2>${esc(o.name)}: ${what} for the best input${values.length > 10 ? ' (top 10)' : ''}</h2>${barsSvg(top, o.finalActivation ? { max: 1 } : {})}`;
    })
    .join('\n');
}

function pictureOf(root: string, file: string | undefined, input: number[] | undefined, alt: string): string {
  if (file) return `<img src="${esc(root + file)}" alt="${esc(alt)}">`;
  return barsSvg((input ?? []).map((v, k) => ({ label: `x${k}`, value: v })), { width: 150 });
}

/**
 * A unit's page: the picture of each restart (the winner outlined), the value curve, the model's
 * outputs for the best input, the seed and run facts, and with `--examples` the dataset examples
 * that excite the unit most.
 *
 * @example
 * await writeFile('units/conv2d/3/index.html', unitPage(ctx, layer, record, examples));
 */
export function unitPage(ctx: SiteContext, layer: PlannedLayer, r: UnitRecord, examples?: ExampleRef[]): string {
  const root = '../../../';
  const pics = r.restarts
    .map((p, j) => `<div class="pic${j === r.winner ? ' best' : ''}">${pictureOf(root, p.file, p.input, `restart ${j}`)}<div>restart ${j}${j === r.winner ? ' (best)' : ''}</div><div class="muted">${esc(fmt(p.value))}</div></div>`)
    .join('\n');
  const facts: Array<[string, string]> = [
    ['objective', r.objective],
    ['value', fmt(r.value)],
    ['seed', `${r.seed} (batch ${r.batch}${r.piece ? `, piece ${r.piece}` : ''})`],
    ['steps', String(r.steps)],
    ['seconds', r.seconds.toFixed(2)],
    ['engine', `${r.engine} (${r.backend})`],
  ];
  const exampleHtml = examples?.length
    ? `<section><h2>Dataset examples that excite it most</h2><div class="pics">${examples.map((e) => `<div class="pic">${e.file ? `<img src="${esc(root + e.file)}" alt="${esc(e.label)}">` : ''}<div>${esc(e.label)}</div><div class="muted">${esc(fmt(e.value))}</div></div>`).join('\n')}</div></section>`
    : '';
  const prev = r.unit > 0 ? `<a href="../${r.unit - 1}/index.html">← unit ${r.unit - 1}</a>` : '';
  const next = r.unit + 1 < layer.units ? `<a href="../${r.unit + 1}/index.html">unit ${r.unit + 1} →</a>` : '';
  const body = `<nav class="pager">${prev}${next}</nav>
<table class="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<section><h2>Each restart's best input</h2><div class="pics" id="restarts">
${pics}
</div></section>
<section><h2>Best value by step</h2>${curveSvg(r.history)}</section>
<section>${outputsSection(ctx, r.outputs)}</section>
${exampleHtml}`;
  return page({
    title: `${layer.name} · unit ${r.unit}`,
    root,
    crumbs: [{ label: 'atlas', href: `${root}index.html` }, { label: layer.name, href: `${root}${layerPath(layer)}` }, { label: `unit ${r.unit}` }],
    body,
  });
}
