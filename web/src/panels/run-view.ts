/**
 * The run view: one picture per target (the best restart, followed live) with a strip of its
 * restarts, the objective chart, the model's outputs for the selected picture, and the PNG / JSON
 * downloads (the CLI's result.json document). Exact answers are shown here too, in place of the
 * gradient search's picture.
 */
import type { ExactResult, ObjectiveSpec, TargetResult } from 'actmax/browser';
import { isImageShape } from 'actmax/browser';
import type { App, Busy, Panel } from '../app.js';
import { $, download, prod } from '../dom.js';
import { drawChart, drawInput, fmt, PALETTE, scaledCanvas } from '../draw.js';
import type { RunSummary, WorkerToPage } from '../messages.js';
import { DEFAULTS } from '../settings.js';
import { exactRunJson, runJson } from '../result-json.js';

/** Targets × restarts of one run (restarts 0: an exact-only view, one picture per target). */
export interface RunView {
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
  /** Exact results per target, once the solver has answered, and the time limit each had. */
  exact: Array<ExactResult | null>;
  exactTimeLimit: number[];
  bestCanvases: HTMLCanvasElement[];
  restartButtons: HTMLButtonElement[][];
}

/** The exact solver's live numbers for one target (drawn on the chart). */
export interface ExactLive {
  target: number;
  incumbent: number | null;
  bound: number | null;
}

export interface RunViewPanel extends Panel {
  /** A fresh view for a run (or, with restarts 0, for exact answers only). */
  start(id: number, targets: ObjectiveSpec[], labels: string[], restarts: number, steps: number, range: [number, number], constraintsKey: string): RunView;
  view(): RunView | null;
  selectedTarget(): number;
  onProgress(msg: Extract<WorkerToPage, { type: 'progress' }>): void;
  onDone(results: TargetResult[], run: RunSummary): void;
  setExactLive(live: ExactLive | null): void;
  showExact(t: number, r: ExactResult): void;
  clear(): void;
}

/**
 * @example
 * const runView = createRunView(app); app.panels.push(runView);
 */
export function createRunView(app: App): RunViewPanel {
  const el = {
    runInfo: $<HTMLParagraphElement>('run-info'),
    tiles: $<HTMLDivElement>('tiles'),
    chart: $<HTMLCanvasElement>('chart'),
    probs: $<HTMLOListElement>('probs'),
    probsFor: $<HTMLSpanElement>('probs-for'),
    dlPng: $<HTMLButtonElement>('dl-png'),
    dlJson: $<HTMLButtonElement>('dl-json'),
  };
  let view: RunView | null = null;
  /** Which target's picture/outputs are shown; restart null = follow the best restart. */
  let selected: { target: number; restart: number | null } = { target: 0, restart: null };
  let exactLive: ExactLive | null = null;

  const valueEl = (t: number) => view!.bestCanvases[t].closest('figure')!.querySelector('.value') as HTMLElement;

  function redrawChart(): void {
    const v = view;
    const exact = exactLive && v ? { incumbent: exactLive.incumbent, bound: exactLive.bound, color: PALETTE[exactLive.target % PALETTE.length] } : null;
    if (!v) drawChart(el.chart, [], 1, []);
    else drawChart(el.chart, v.series, v.steps, v.labels, exact);
  }

  function tileButton(label: string, canvas: HTMLCanvasElement, className: string, onClick: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.setAttribute('aria-pressed', 'false');
    b.setAttribute('aria-label', label);
    b.append(canvas);
    b.addEventListener('click', onClick);
    return b;
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
      const best = document.createElement('canvas');
      best.className = 'pix big';
      best.dataset.target = String(t);
      best.dataset.role = 'best';
      const bestBtn = tileButton(`${v.labels[t]}: best input (follow the best restart)`, best, 'tile best', () => select(t, null));
      const strip = document.createElement('div');
      strip.className = 'restarts';
      const buttons: HTMLButtonElement[] = [];
      for (let r = 0; r < v.restarts; r++) {
        const c = document.createElement('canvas');
        c.className = 'pix';
        const b = tileButton(`${v.labels[t]}: restart ${r}`, c, 'tile', () => select(t, r));
        b.title = `restart ${r}`;
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
    app.setBusy();
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

  /** The first output's values for the selected picture: the exact answer, the result, or the live row. */
  function selectedOutputs(v: RunView, units: number, outName: string): { values: ArrayLike<number>; what: string } | null {
    const t = selected.target;
    const exact = v.exact[t];
    if (exact && selected.restart === null) {
      const values = exact.outputs[outName];
      return values ? { values, what: `for the exact result of ${v.labels[t]}` } : null;
    }
    if (v.results && selected.restart === null) {
      const values = v.results[t]?.outputs[outName];
      return values ? { values, what: `for the result of ${v.labels[t]}` } : null;
    }
    if (!v.outputs) return null;
    const row = selected.restart === null ? bestRow(v, t) : t * v.restarts + selected.restart;
    return { values: v.outputs.subarray(row * units, (row + 1) * units), what: `for the current input of ${v.labels[t]}${selected.restart === null ? '' : `, restart ${selected.restart}`}` };
  }

  /** The first output for the selected picture, as probabilities when the model ends in softmax/sigmoid. */
  function renderOutputs(): void {
    const v = view;
    const model = app.model;
    if (!v || !model) return;
    const out = model.outputs[0];
    const picked = selectedOutputs(v, out.units, out.name);
    if (!picked) return;
    let shown = Array.from(picked.values);
    let kind = out.finalActivation ? 'probability' : 'value';
    if (!out.finalActivation && shown.length > 1) {
      const m = Math.max(...shown);
      const e = shown.map((x) => Math.exp(x - m));
      const s = e.reduce((a, b) => a + b, 0);
      shown = e.map((x) => x / s);
      kind = 'softmax';
    }
    el.probsFor.textContent = `(${kind}, ${picked.what})`;
    const names = out.classNames ?? Array.from({ length: out.units }, (_, i) => `class ${i}`);
    const spec = v.targets[selected.target];
    const hot = spec && (spec.kind === 'logit' || spec.kind === 'prob' || spec.kind === 'margin') && (spec.output === undefined || spec.output === 0 || spec.output === out.name) ? spec.index : -1;
    const scale = kind === 'value' ? Math.max(1e-12, ...shown.map(Math.abs)) : 1;
    el.probs.replaceChildren(...shown.slice(0, 100).map((p, i) => {
      const name = names[i] ?? String(i);
      const li = document.createElement('li');
      li.dataset.label = name;
      li.dataset.p = String(p);
      if (i === hot) li.className = 'hot';
      li.innerHTML = `<span class="name"></span><span class="bar"><span style="width:${Math.max(0, Math.min(100, (100 * Math.abs(p)) / scale)).toFixed(1)}%"></span></span><span class="val">${kind === 'value' ? fmt(p) : p.toFixed(3)}</span>`;
      (li.querySelector('.name') as HTMLElement).textContent = name;
      li.setAttribute('aria-label', `${name}: ${kind === 'value' ? fmt(p) : (100 * p).toFixed(1) + ' %'}`);
      return li;
    }));
  }

  /** The input shown for target t: the exact result when there is one, else the gradient search's. */
  function shownInput(t: number): number[] | null {
    const ex = view?.exact[t];
    if (ex && ex.input.length) return ex.input;
    return view?.results?.[t]?.input ?? null;
  }

  const fileStem = (t: number) => (view?.labels[t] ?? 'input').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'input';

  el.dlPng.addEventListener('click', () => {
    const input = shownInput(selected.target);
    if (!input || !view) return;
    scaledCanvas(input, view.shape, view.range).toBlob((blob) => { if (blob) download(blob, `${fileStem(selected.target)}.png`); }, 'image/png');
  });
  el.dlJson.addEventListener('click', () => {
    const t = selected.target;
    const v = view;
    if (!v || !app.model) return;
    const ex = v.exact[t];
    const r = v.results?.[t];
    let doc: unknown;
    if (ex && ex.input.length) doc = exactRunJson([ex], app.model.source, v.exactTimeLimit[t], [r ? { value: r.value, restart: r.restart } : null]);
    else if (r && v.summary && v.results) doc = runJson({ ...v.summary, results: v.results }, app.model.source, [t]);
    else return;
    download(new Blob([JSON.stringify(doc, null, 2) + '\n'], { type: 'application/json' }), `${fileStem(t)}.json`);
  });
  window.addEventListener('resize', redrawChart);

  function clear(): void {
    view = null;
    exactLive = null;
    el.tiles.replaceChildren();
    el.probs.replaceChildren();
    el.probsFor.textContent = '';
    el.runInfo.textContent = 'Press Run to start.';
    redrawChart();
    app.setBusy();
  }

  return {
    view: () => view,
    selectedTarget: () => selected.target,
    start(id, targets, labels, restarts, steps, range, constraintsKey) {
      view = {
        id, targets, labels, restarts, steps, range, constraintsKey,
        shape: app.model!.inputs[0].shape,
        series: targets.map(() => []),
        x: null, current: null, outputs: null, results: null, summary: null,
        exact: targets.map(() => null),
        exactTimeLimit: targets.map(() => DEFAULTS.exactTime),
        bestCanvases: [],
        restartButtons: [],
      };
      selected = { target: 0, restart: null };
      exactLive = null;
      buildTiles(view);
      if (restarts === 0) el.runInfo.textContent = '';
      redrawChart();
      return view;
    },
    onProgress(msg) {
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
        valueEl(t).textContent = Number.isFinite(msg.best[t]) ? `best ${fmt(msg.best[t])}` : '';
      });
      redrawChart();
      el.runInfo.textContent = `Step ${msg.step} / ${msg.steps} · ${Math.round(msg.imageStepsPerSecond).toLocaleString('en')} image-steps/s · engine ${msg.engine}`;
      renderOutputs();
    },
    onDone(results, run) {
      const v = view!;
      v.results = results;
      v.summary = run;
      results.forEach((r, t) => {
        drawInput(v.bestCanvases[t], r.input, 0, v.shape, v.range);
        // Where the end-of-run polish raised the search's best (LPs over activation regions), say from what.
        const p = run.polish?.targets[t];
        const polished = p && p.before !== null && p.after !== null && p.after > p.before ? `; polished from ${fmt(p.before)}` : '';
        valueEl(t).textContent = `value ${fmt(r.value)} (restart ${r.restart}${polished}${r.unrounded ? `; ${fmt(r.unrounded.value)} before rounding` : ''})`;
        // The library's own sampled history is exact; the live series only saw throttled updates.
        if (r.history.length) v.series[t] = r.history.filter((h) => Number.isFinite(h.value)).map((h) => [h.step, h.value]);
      });
      v.steps = Math.max(1, run.steps); // a stopped run's chart spans the steps it ran
      redrawChart();
      // Steps per second of the search itself; compiling the engine is shown apart.
      const rate = run.timings.searchMs > 0 ? (run.steps * results.length * run.restarts) / (run.timings.searchMs / 1000) : run.timings.imageStepsPerSecond;
      el.runInfo.textContent = `${run.interrupted ? 'Stopped' : 'Done'} after ${run.steps} steps in ${(run.timings.totalMs / 1000).toFixed(1)} s · ${Math.round(rate).toLocaleString('en')} image-steps/s (setup ${(run.timings.setupMs / 1000).toFixed(1)} s) · engine ${run.engine}${run.prior ? ` · prior: ${run.prior.description}` : ''}`;
      app.say(`${run.interrupted ? 'Stopped' : 'Finished'}: ${results.map((r, t) => `${v.labels[t]} = ${fmt(r.value)}`).slice(0, 4).join(', ')}${results.length > 4 ? ', …' : '.'}`);
      renderOutputs();
    },
    setExactLive(live) {
      exactLive = live;
      redrawChart();
    },
    showExact(t, r) {
      const v = view!;
      v.exact[t] = r;
      drawInput(v.bestCanvases[t], r.input, 0, v.shape, v.range);
      valueEl(t).textContent = `exact ${r.status === 'optimal' ? 'optimum' : 'best'} ${fmt(r.value!)}${r.status === 'optimal' ? '' : ` (bound ${fmt(r.upperBound!)})`}`;
      select(t, null);
    },
    clear,
    onModel() {
      clear();
    },
    onBusy(_busy: Busy) {
      const has = !!shownInput(selected.target);
      el.dlPng.disabled = !has || !view || !isImageShape(view.shape);
      el.dlJson.disabled = !has;
    },
  };
}
