/**
 * The playground page: wires the panels (panels/*.ts) to the compute worker (worker.ts, where all
 * computation happens) through the shared App (app.ts, which says how to add a panel). This file
 * only starts things and routes the worker's messages.
 */
import './style.css';
import { App } from './app.js';
import { $ } from './dom.js';
import type { BackendChoice, WorkerToPage } from './messages.js';
import { createConstraintsPanel, type Example } from './panels/constraints.js';
import { createExactView } from './panels/exact-view.js';
import { createModelPanel } from './panels/model.js';
import { createObjectivePanel } from './panels/objective.js';
import { createPriorPanel } from './panels/prior.js';
import { createRunView } from './panels/run-view.js';
import { createSearchPanel } from './panels/search.js';

const bundledModelUrl = new URL('models/fashion-mnist-mlp/model.json', document.baseURI).href;
const examplesUrl = new URL('models/fashion-mnist-mlp/examples.json', document.baseURI).href;
const priorUrls = { stored: new URL('models/fashion-mnist-mlp/prior.json', document.baseURI).href, decoder: new URL('models/fashion-mnist-decoder/model.json', document.baseURI).href };
const workerUrls = { wasmPrefix: new URL('wasm/', document.baseURI).href, highsPrefix: new URL('highs/', document.baseURI).href, modelUrl: bundledModelUrl };

const app = new App($('status'));
const buttons = { run: $<HTMLButtonElement>('run'), stop: $<HTMLButtonElement>('stop'), copyLink: $<HTMLButtonElement>('copy-link') };
const model = createModelPanel(app, bundledModelUrl);
const objective = createObjectivePanel(app);
const constraints = createConstraintsPanel(app);
const runView = createRunView(app);
const prior = createPriorPanel(app, priorUrls);
const exact = createExactView(app, { objective, constraints, runView, prior });
const search = createSearchPanel(app, (backend) => restartWorker(backend));
let runId = 0;

app.panels.push(model, objective, constraints, prior, search, runView, exact, {
  onBusy(busy) {
    buttons.run.disabled = !busy.ready || busy.running || busy.exactRunning;
    buttons.run.textContent = busy.running ? 'Running…' : 'Run';
    buttons.stop.disabled = !busy.running && !busy.exactRunning;
  },
});

function restartWorker(backend: BackendChoice): void {
  app.startWorker(backend, { ...workerUrls, ...(app.settings.threads ? { onnxThreads: app.settings.threads } : {}) });
  model.reloadDropped();
}

function startRun(): void {
  if (!app.model || app.busy.running) return;
  if (!objective.validate()) {
    app.say('Fix the objective first.', 'error');
    objective.focus();
    return;
  }
  const parsed = objective.targets();
  if ('error' in parsed) return;
  const built = constraints.build();
  if ('error' in built) return app.say(built.error, 'error');
  // The run's key names its prior too, so Exact reuses the run's answer only under the same one.
  const chosenPrior = prior.request();
  const priorKey = 'prior' in chosenPrior && chosenPrior.prior ? JSON.stringify(chosenPrior.prior) : '';
  const extras = app.panels.map((p) => p.runExtras?.() ?? {});
  const refused = extras.find((e): e is { error: string } => 'error' in e);
  if (refused) return app.say(refused.error, 'error');
  app.saveSettings();
  const s = app.settings;
  runId = app.newId();
  runView.start(runId, parsed.specs, parsed.specs.map(objective.label), s.restarts, s.steps, constraints.range(), JSON.stringify(built.constraints) + priorKey);
  exact.reset();
  app.setBusy({ running: true });
  app.say(`Running ${parsed.specs.length} target${parsed.specs.length > 1 ? 's' : ''} × ${s.restarts} restarts for ${s.steps} steps on ${app.backend}…`);
  app.send({
    type: 'run',
    run: {
      id: runId, objectiveText: s.objective, targets: parsed.specs, steps: s.steps, restarts: s.restarts, optimizer: s.optimizer, engine: s.engine,
      ...(s.lr !== null ? { lr: s.lr } : {}), seed: s.seed, constraints: built.constraints, ...(built.init ? { init: built.init } : {}),
      ...Object.assign({}, ...extras),
    },
  });
}

function onMessage(msg: WorkerToPage): void {
  if (exact.handle(msg)) return;
  switch (msg.type) {
    case 'ready':
      app.backend = msg.backend;
      app.backendNote = msg.tried.filter((t) => !t.endsWith(': ok')).join('; ');
      app.exactAvailable = msg.exactAvailable;
      document.body.dataset.backend = msg.backend;
      app.say(`Compute backend: ${msg.backend}. Loading the model…`);
      break;
    case 'loading':
      app.say(`Loading ${msg.what}…`);
      break;
    case 'model': {
      app.model = msg.summary;
      for (const p of app.panels) p.onModel?.(msg.summary);
      const notes = msg.summary.notes.length ? ' Note: ' + msg.summary.notes.join(' ') : '';
      app.say(`Model ready: ${model.displayName(msg.summary)} on ${app.backend}${app.backendNote ? ` (${app.backendNote})` : ''}.${notes}`);
      app.setBusy();
      break;
    }
    case 'progress':
      if (msg.id === runId && runView.view()?.id === runId) runView.onProgress(msg);
      break;
    case 'done':
      if (msg.id === runId && runView.view()?.id === runId) {
        runView.onDone(msg.results, msg.run);
        app.setBusy({ running: false });
      }
      break;
    case 'error':
      if (msg.id !== undefined && msg.id === runId) app.setBusy({ running: false });
      app.say(msg.message, 'error');
      break;
  }
}

app.onMessage(onMessage);
$<HTMLFormElement>('controls').addEventListener('submit', (ev) => {
  ev.preventDefault();
  startRun();
});
buttons.stop.addEventListener('click', () => {
  if (app.busy.running) app.send({ type: 'stop', id: runId });
  exact.stop();
});
buttons.copyLink.addEventListener('click', async () => {
  app.saveSettings();
  try {
    await navigator.clipboard.writeText(location.href);
    app.say('Link copied: it reproduces these settings (a dropped model or uploaded image is not part of it).');
  } catch {
    app.say(`Link: ${location.href}`);
  }
});

for (const p of app.panels) p.writeSettings?.(app.settings);
runView.clear();
fetch(examplesUrl)
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
  .then((doc: { examples?: Example[] }) => constraints.setExamples(doc.examples ?? []))
  .catch(() => constraints.setExamples([]));
restartWorker(app.settings.backend);
