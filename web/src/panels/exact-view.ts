/**
 * The exact view: proves the best value of the selected target with the library's exact solver (branch-and-bound or MILP)
 * (HiGHS in a Web Worker inside the compute worker), starting from the run's result when it was
 * found under the same constraints; shows the live best value, proven bound and gap, and the answer.
 */
import type { ExactResult } from 'actmax/browser';
import type { App, Panel } from '../app.js';
import { $, numberOrNull } from '../dom.js';
import { fmt } from '../draw.js';
import type { WorkerToPage } from '../messages.js';
import { DEFAULTS } from '../settings.js';
import type { ConstraintsPanel } from './constraints.js';
import type { PriorPanel } from './prior.js';
import type { ObjectivePanel } from './objective.js';
import type { RunViewPanel } from './run-view.js';

export interface ExactViewPanel extends Panel {
  start(): void;
  /** Ask the solver to stop; the best input so far comes back. */
  stop(): void;
  /** A message of the compute worker about an exact solve; true when it was one. */
  handle(msg: WorkerToPage): boolean;
  /** A new run started: the exact numbers of the last one no longer apply. */
  reset(): void;
}

const PHASES = { 'warm-start': 'preparing a starting point', bounds: 'bounding the maximum (root relaxation or LP)', solve: 'branch and bound' } as const;
const gapText = (g: number | null) => (g === null ? '—' : !Number.isFinite(g) ? '∞' : g === 0 ? '0 %' : g < 1e-6 ? '< 0.0001 %' : `${(100 * g).toPrecision(3)} %`);

/**
 * @example
 * const exact = createExactView(app, { objective, constraints, runView }); app.panels.push(exact);
 */
export function createExactView(app: App, deps: { objective: ObjectivePanel; constraints: ConstraintsPanel; runView: RunViewPanel; prior: PriorPanel }): ExactViewPanel {
  const el = {
    button: $<HTMLButtonElement>('exact'),
    status: $<HTMLParagraphElement>('exact-status'),
    time: $<HTMLInputElement>('exact-time'),
    numbers: $<HTMLDListElement>('exact-numbers'),
    state: $<HTMLElement>('exact-state'),
    incumbent: $<HTMLElement>('exact-incumbent'),
    bound: $<HTMLElement>('exact-bound'),
    gap: $<HTMLElement>('exact-gap'),
    timeUsed: $<HTMLElement>('exact-time-used'),
  };
  let exactId = 0;
  let target = 0;

  function timeLimit(): number {
    const v = numberOrNull(el.time);
    return v !== null && v > 0 && v <= 3600 ? v : DEFAULTS.exactTime;
  }

  function showNumbers(state: string, incumbent: number | null, bound: number | null, gap: number | null, nodes: number, seconds: number): void {
    el.numbers.hidden = false;
    el.state.textContent = state;
    el.incumbent.textContent = incumbent === null ? '—' : fmt(incumbent);
    el.incumbent.dataset.value = incumbent === null ? '' : String(incumbent);
    el.bound.textContent = bound === null ? '—' : fmt(bound);
    el.bound.dataset.value = bound === null ? '' : String(bound);
    el.gap.textContent = gapText(gap);
    el.timeUsed.textContent = `${nodes.toLocaleString('en')} nodes · ${seconds.toFixed(1)} s`;
  }

  function start(): void {
    if (!app.model || app.busy.running || app.busy.exactRunning) return;
    if (!app.exactAvailable) {
      el.status.textContent = 'Exact solver not available: this browser cannot start the solver\'s Web Worker; gradient search (Run) still works.';
      return;
    }
    const parsed = deps.objective.targets();
    const built = deps.constraints.build();
    const prior = deps.prior.request();
    if ('error' in parsed || 'error' in built || 'error' in prior) {
      el.status.textContent = 'error' in parsed ? parsed.error : 'error' in built ? built.error : 'error' in prior ? prior.error : '';
      return;
    }
    app.saveSettings();
    const key = JSON.stringify(built.constraints) + (prior.prior ? JSON.stringify(prior.prior) : '');
    // Keep the run's pictures when the objective is the same; otherwise a fresh view, one picture per target.
    let v = deps.runView.view();
    if (!v || JSON.stringify(v.targets) !== JSON.stringify(parsed.specs)) {
      v = deps.runView.start(app.newId(), parsed.specs, parsed.specs.map(deps.objective.label), 0, 1, deps.constraints.range(), key);
    }
    target = Math.min(deps.runView.selectedTarget(), parsed.specs.length - 1);
    // The run's result is a good start only if it was found under the same constraints.
    const startInput = v.constraintsKey === key ? v.results?.[target]?.input : undefined;
    const limit = timeLimit();
    exactId = app.newId();
    deps.runView.setExactLive({ target, incumbent: null, bound: null });
    v.exact[target] = null;
    v.exactTimeLimit[target] = limit;
    el.status.textContent = `Solving ${v.labels[target]} exactly (time limit ${limit} s${startInput ? ', starting from the run\'s result' : ''})…`;
    delete el.state.dataset.status;
    showNumbers('starting', null, null, null, 0, 0);
    app.send({ type: 'exact', exact: { id: exactId, target: parsed.specs[target], constraints: built.constraints, timeLimit: limit, ...(startInput ? { start: startInput } : {}), ...(prior.prior ? { prior: prior.prior } : {}) } });
    app.setBusy({ exactRunning: true });
  }

  function onDone(r: ExactResult): void {
    const state = r.interrupted ? `${r.status} (stopped)` : r.status;
    showNumbers(state, r.value, r.upperBound, r.gap, r.nodes, r.totalSeconds);
    el.state.dataset.status = r.status;
    el.status.textContent = `${r.objective}: ${r.message}.${r.source === 'warm-start' ? ' The best input is the starting point: the solver found none better.' : ''}`;
    if (deps.runView.view() && r.input.length) {
      deps.runView.setExactLive({ target, incumbent: r.value, bound: r.upperBound });
      deps.runView.showExact(target, r);
    } else {
      deps.runView.setExactLive(null);
    }
    app.setBusy({ exactRunning: false });
  }

  el.button.addEventListener('click', start);
  el.time.addEventListener('change', () => app.saveSettings());

  return {
    start,
    stop() {
      if (!app.busy.exactRunning) return;
      app.send({ type: 'stop-exact', id: exactId });
      el.status.textContent = 'Stopping the exact solver; the best input so far comes back…';
    },
    reset() {
      el.numbers.hidden = true;
      if (app.exactAvailable) el.status.textContent = 'Press Exact to prove the best value for the selected target (this run\'s result becomes its starting point).';
    },
    handle(msg) {
      if (msg.type === 'exact-unavailable') {
        el.status.textContent = `Exact solver not available in this build: ${msg.message}.`;
        app.setBusy({ exactRunning: false });
        return true;
      }
      const mine = 'id' in msg && msg.id === exactId && app.busy.exactRunning;
      if (!mine) return false;
      if (msg.type === 'exact-progress') {
        deps.runView.setExactLive({ target, incumbent: msg.incumbent, bound: msg.bound });
        showNumbers(PHASES[msg.phase], msg.incumbent, msg.bound, msg.gap, msg.nodes, msg.seconds);
        return true;
      }
      if (msg.type === 'exact-done') {
        onDone(msg.result);
        return true;
      }
      if (msg.type === 'error') {
        deps.runView.setExactLive(null);
        el.numbers.hidden = true;
        el.status.textContent = `Exact solver: ${msg.message}`;
        app.setBusy({ exactRunning: false });
        return true;
      }
      return false;
    },
    onModel() {
      el.numbers.hidden = true;
    },
    writeSettings(s) {
      el.time.value = String(s.exactTime);
    },
    readSettings(s) {
      s.exactTime = timeLimit();
    },
    onBusy(busy) {
      el.button.disabled = !busy.ready || busy.running || busy.exactRunning;
      el.button.textContent = busy.exactRunning ? 'Solving…' : 'Exact';
    },
  };
}
