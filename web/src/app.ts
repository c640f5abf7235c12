/**
 * What the panels share: the page's settings, the loaded model's description, the compute worker,
 * the status line and a few events. Each panel (panels/*.ts) owns its own controls and state and
 * talks to the others only through this object.
 *
 * Adding a control (e.g. a data prior, another engine): write a panel with `createXPanel(app)`
 * that implements the {@link Panel} hooks it needs — `onModel` to adapt to a model, `writeSettings`
 * / `readSettings` for its part of the URL settings (add the field to settings.ts), and
 * `runExtras` to add to the gradient-search request (add the field to messages.ts' RunRequest and
 * read it in worker.ts) — then list it in main.ts.
 */
import type { BackendChoice, ModelSummary, PageToWorker, RunRequest, WorkerToPage } from './messages.js';
import { settingsFromQuery, settingsToQuery, type Settings } from './settings.js';

/** The hooks a panel may implement; main.ts calls them on every panel in order. */
export interface Panel {
  /** A model has loaded: adapt the controls to it. */
  onModel?(model: ModelSummary): void;
  /** Show these settings in the panel's controls (page start, a link). */
  writeSettings?(s: Settings): void;
  /** Copy the panel's controls into the settings. */
  readSettings?(s: Settings): void;
  /** Add to a gradient-search request, or say why the run cannot start. */
  runExtras?(): Partial<RunRequest> | { error: string };
  /** The run or exact state changed: enable or disable controls. */
  onBusy?(busy: Busy): void;
}

/** What is running. */
export interface Busy {
  ready: boolean;
  running: boolean;
  exactRunning: boolean;
}

type Listener = (msg: WorkerToPage) => void;

/** The shared state and services of the page. */
export class App {
  settings: Settings = settingsFromQuery(location.search);
  model: ModelSummary | null = null;
  backend = '';
  /** Why backends before the chosen one were not used. */
  backendNote = '';
  exactAvailable = false;
  readonly busy: Busy = { ready: false, running: false, exactRunning: false };
  readonly panels: Panel[] = [];
  private worker: Worker | null = null;
  private readonly listeners: Listener[] = [];
  private nextId = 0;

  constructor(private readonly status: HTMLElement) {}

  /** A fresh id for a run or an exact solve (late messages of older ones are ignored). */
  newId(): number {
    return ++this.nextId;
  }

  /** One line in the status bar. */
  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', kind === 'error');
  }

  /** Start (or restart, on a backend change) the compute worker. */
  startWorker(choice: BackendChoice, init: Omit<Extract<PageToWorker, { type: 'init' }>, 'type' | 'backend'>): void {
    this.worker?.terminate();
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<WorkerToPage>) => this.listeners.forEach((l) => l(ev.data));
    this.worker.onerror = (ev) => this.say(`The compute worker failed: ${ev.message || 'unknown error'}`, 'error');
    this.say('Starting the compute worker…');
    this.send({ type: 'init', backend: choice, ...init });
    this.setBusy({ running: false, exactRunning: false });
  }

  send(msg: PageToWorker, transfer: Transferable[] = []): void {
    this.worker?.postMessage(msg, transfer);
  }

  /** Listen to every message of the compute worker. */
  onMessage(l: Listener): void {
    this.listeners.push(l);
  }

  /** Change what is running (or just re-announce it) and tell every panel. */
  setBusy(change: Partial<Omit<Busy, 'ready'>> = {}): void {
    Object.assign(this.busy, change);
    this.busy.ready = this.model !== null && this.worker !== null;
    for (const p of this.panels) p.onBusy?.(this.busy);
  }

  /** Read every panel's settings and put them in the URL, so the link reproduces the run. */
  saveSettings(): void {
    for (const p of this.panels) p.readSettings?.(this.settings);
    history.replaceState(null, '', `${location.pathname}?${settingsToQuery(this.settings)}`);
  }
}
