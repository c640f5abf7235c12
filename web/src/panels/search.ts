/**
 * The search settings: steps, restarts, optimiser, step size, seed, the compute engine (ONNX or
 * TF.js) and the TF.js backend the compute worker runs on (a backend change restarts the worker).
 */
import type { EngineChoice, OptimizerName } from 'actmax/browser';
import type { App, Panel } from '../app.js';
import { $, numberOrNull } from '../dom.js';
import type { BackendChoice } from '../messages.js';
import { DEFAULTS } from '../settings.js';

/**
 * @example
 * app.panels.push(createSearchPanel(app, (backend) => restartWorker(backend)));
 */
export function createSearchPanel(app: App, onBackendChange: (backend: BackendChoice) => void): Panel {
  const el = {
    steps: $<HTMLInputElement>('steps'),
    restarts: $<HTMLInputElement>('restarts'),
    optimizer: $<HTMLSelectElement>('optimizer'),
    lr: $<HTMLInputElement>('lr'),
    seed: $<HTMLInputElement>('seed'),
    engine: $<HTMLSelectElement>('engine'),
    backend: $<HTMLSelectElement>('backend'),
  };
  const int = (input: HTMLInputElement, dflt: number, min: number) => {
    const v = numberOrNull(input);
    return v !== null && Number.isInteger(v) && v >= min ? v : dflt;
  };
  for (const i of [el.steps, el.restarts, el.optimizer, el.lr, el.seed, el.engine]) i.addEventListener('change', () => app.saveSettings());
  el.backend.addEventListener('change', () => {
    app.saveSettings();
    onBackendChange(app.settings.backend);
  });
  return {
    writeSettings(s) {
      el.steps.value = String(s.steps);
      el.restarts.value = String(s.restarts);
      el.optimizer.value = s.optimizer;
      el.lr.value = s.lr === null ? '' : String(s.lr);
      el.seed.value = String(s.seed);
      el.engine.value = s.engine;
      el.backend.value = s.backend;
    },
    readSettings(s) {
      const lr = numberOrNull(el.lr);
      s.steps = int(el.steps, DEFAULTS.steps, 1);
      s.restarts = int(el.restarts, DEFAULTS.restarts, 1);
      s.optimizer = el.optimizer.value as OptimizerName;
      s.lr = lr !== null && lr > 0 ? lr : null;
      s.seed = int(el.seed, 0, 0);
      s.engine = el.engine.value as EngineChoice;
      s.backend = el.backend.value as BackendChoice;
    },
  };
}
