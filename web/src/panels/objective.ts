/**
 * The objective panel: a builder (kind, output, class, layer, unit) and the spec text in the CLI's
 * grammar, parsed and checked against the loaded model by the library (`parseObjectiveFor`).
 */
import { formatObjective, OBJECTIVE_GRAMMAR, parseObjectiveFor, targetLabel, type ObjectiveSpec } from 'actmax/browser';
import type { App, Panel } from '../app.js';
import { $, option } from '../dom.js';
import type { ModelSummary } from '../messages.js';
import { DEFAULTS } from '../settings.js';

/** The page draws one picture per target: more would not fit. */
const MAX_TARGETS = 64;

export interface ObjectivePanel extends Panel {
  /** The targets of the typed objective, or why it does not fit the model. */
  targets(): { specs: ObjectiveSpec[] } | { error: string };
  /** Show whether the objective is valid; false when it is not. */
  validate(): boolean;
  /** The objective as typed. */
  text(): string;
  focus(): void;
  /** A short label of a target: `Trouser (logit)` when it reads a named class, else the spec. */
  label(spec: ObjectiveSpec): string;
}

/**
 * @example
 * const objective = createObjectivePanel(app); app.panels.push(objective);
 */
export function createObjectivePanel(app: App): ObjectivePanel {
  const el = {
    kind: $<HTMLSelectElement>('obj-kind'),
    output: $<HTMLSelectElement>('obj-output'),
    cls: $<HTMLSelectElement>('obj-class'),
    layer: $<HTMLSelectElement>('obj-layer'),
    unit: $<HTMLInputElement>('obj-unit'),
    unitLabel: $<HTMLLabelElement>('obj-unit-label'),
    rowOutput: $<HTMLDivElement>('row-output'),
    rowClass: $<HTMLDivElement>('row-class'),
    rowLayer: $<HTMLDivElement>('row-layer'),
    rowUnit: $<HTMLDivElement>('row-unit'),
    spec: $<HTMLInputElement>('obj-spec'),
    error: $<HTMLParagraphElement>('obj-error'),
  };

  const classNamesOf = (outputIndex: number): string[] => {
    const out = app.model?.outputs[outputIndex];
    if (!out) return [];
    return out.classNames ?? Array.from({ length: out.units }, (_, i) => `class ${i}`);
  };

  function fillClasses(): void {
    const names = classNamesOf(Number(el.output.value || 0));
    el.cls.replaceChildren(...names.map((n, i) => option(String(i), n === `class ${i}` ? n : `${n} (${i})`)), option('all', 'every class (one picture each)'));
  }

  function showBuilderRows(): void {
    const kind = el.kind.value;
    const classKind = kind === 'logit' || kind === 'prob' || kind === 'margin';
    el.rowClass.hidden = !classKind;
    el.rowOutput.hidden = !classKind || (app.model?.outputs.length ?? 0) < 2;
    el.rowLayer.hidden = !(kind === 'neuron' || kind === 'channel');
    el.rowUnit.hidden = !(kind === 'neuron' || kind === 'channel');
    el.unitLabel.textContent = kind === 'channel' ? 'Channel' : 'Unit (flat index)';
  }

  function builderToSpec(): void {
    const kind = el.kind.value;
    showBuilderRows();
    if (kind === 'custom') return;
    if (kind === 'logit' || kind === 'prob' || kind === 'margin') {
      const outPart = (app.model?.outputs.length ?? 1) > 1 ? `${Number(el.output.value || 0)}:` : '';
      el.spec.value = `${kind}:${outPart}${el.cls.value || '0'}`;
    } else {
      el.spec.value = `${kind}:${el.layer.value}:${Math.max(0, Math.floor(Number(el.unit.value) || 0))}`;
    }
    validate();
    app.saveSettings();
  }

  /** Reflect a typed spec in the builder's controls when it is one simple term. */
  function specToBuilder(text: string): void {
    const m = /^(logit|prob|margin):(?:(\d+):)?(\d+|all)$/.exec(text.trim());
    const n = /^(neuron|channel):([^:]+):(\d+)$/.exec(text.trim());
    if (m) {
      el.kind.value = m[1];
      if (m[2] !== undefined) el.output.value = m[2];
      fillClasses();
      el.cls.value = m[3];
    } else if (n && app.model?.layers.some((l) => l.name === n[2])) {
      el.kind.value = n[1];
      el.layer.value = n[2];
      el.unit.value = n[3];
    } else {
      el.kind.value = 'custom';
    }
    showBuilderRows();
  }

  function parse(text: string, model: ModelSummary | null): { specs: ObjectiveSpec[] } | { error: string } {
    if (!model) return { error: 'no model loaded' };
    try {
      const specs = parseObjectiveFor(text, model);
      if (specs.length > MAX_TARGETS) return { error: `${specs.length} targets is too many for the page; use at most ${MAX_TARGETS}` };
      return { specs };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  function validate(): boolean {
    if (!app.model) return false;
    const r = parse(el.spec.value, app.model);
    const bad = 'error' in r;
    el.error.textContent = bad ? r.error.replace(`; ${OBJECTIVE_GRAMMAR}`, '') : '';
    el.spec.setAttribute('aria-invalid', String(bad));
    return !bad;
  }

  el.kind.addEventListener('change', builderToSpec);
  el.output.addEventListener('change', () => {
    fillClasses();
    builderToSpec();
  });
  el.cls.addEventListener('change', builderToSpec);
  el.layer.addEventListener('change', builderToSpec);
  el.unit.addEventListener('input', builderToSpec);
  el.spec.addEventListener('input', () => {
    specToBuilder(el.spec.value);
    validate();
    app.saveSettings();
  });

  return {
    targets: () => parse(el.spec.value, app.model),
    validate,
    text: () => el.spec.value,
    focus: () => el.spec.focus(),
    label(spec) {
      const name = app.model ? targetLabel(spec, app.model) : formatObjective(spec);
      return name === formatObjective(spec) ? name : `${name} (${spec.kind})`;
    },
    onModel(s) {
      el.output.replaceChildren(...s.outputs.map((o, i) => option(String(i), `${o.name} (${o.units})`)));
      el.rowOutput.hidden = s.outputs.length < 2;
      fillClasses();
      el.layer.replaceChildren(...s.layers.map((l) => option(l.name, `${l.name} · ${l.className} ${l.outputShape.join('×')}`)));
      if ('error' in parse(el.spec.value, s)) el.spec.value = 'logit:0';
      specToBuilder(el.spec.value);
      validate();
    },
    writeSettings(s) {
      el.spec.value = s.objective;
    },
    readSettings(s) {
      s.objective = el.spec.value.trim() || DEFAULTS.objective;
    },
  };
}
