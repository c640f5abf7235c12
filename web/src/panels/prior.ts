/**
 * The "look like the data" panel: off, the subspace prior stored beside the bundled model (K
 * components), or the bundled decoder. The worker fetches the prior by URL, as it fetches the
 * model; a dropped model has no stored prior, so the panel is off for it.
 */
import type { App, Panel } from '../app.js';
import { $, numberOrNull } from '../dom.js';
import type { PriorRequest } from '../messages.js';
import { DEFAULTS, MAX_PRIOR_K, type PriorChoice } from '../settings.js';

/** Where the bundled model's stored prior and the bundled decoder live. */
export interface PriorUrls {
  /** `prior.json` beside the bundled model.json. */
  stored: string;
  /** The decoder's model.json. */
  decoder: string;
}

export interface PriorPanel extends Panel {
  /** The chosen prior as the worker takes it (null when off), or why it cannot be used. */
  request(): { prior: PriorRequest | null } | { error: string };
}

/**
 * @example
 * app.panels.push(createPriorPanel(app, { stored: priorUrl, decoder: decoderUrl }));
 */
export function createPriorPanel(app: App, urls: PriorUrls): PriorPanel {
  const el = {
    choice: $<HTMLSelectElement>('prior'),
    k: $<HTMLInputElement>('prior-k'),
    rowK: $<HTMLDivElement>('row-prior-k'),
  };
  el.k.max = String(MAX_PRIOR_K);
  const showK = () => (el.rowK.hidden = el.choice.value !== 'subspace');
  const components = (): number => {
    const v = numberOrNull(el.k);
    return v !== null && Number.isInteger(v) && v >= 1 && v <= MAX_PRIOR_K ? v : DEFAULTS.priorK;
  };
  el.choice.addEventListener('change', () => {
    showK();
    app.saveSettings();
  });
  el.k.addEventListener('change', () => app.saveSettings());
  return {
    writeSettings(s) {
      el.choice.value = s.prior;
      el.k.value = String(s.priorK);
      showK();
    },
    readSettings(s) {
      s.prior = el.choice.value as PriorChoice;
      s.priorK = components();
    },
    onBusy(busy) {
      el.choice.disabled = busy.running;
      el.k.disabled = busy.running;
    },
    request() {
      const choice = el.choice.value as PriorChoice;
      if (choice === 'off') return { prior: null };
      if (!app.model?.bundled) return { error: 'The data prior belongs to the bundled model (its training images); set "Look like the data" to off for your own model.' };
      return { prior: choice === 'subspace' ? { kind: 'subspace', url: urls.stored, components: components() } : { kind: 'decoder', url: urls.decoder } };
    },
    runExtras() {
      const r = this.request();
      return 'error' in r ? r : r.prior ? { prior: r.prior } : {};
    },
  };
}
