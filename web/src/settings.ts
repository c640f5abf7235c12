/**
 * The page's settings and their query-string form, so a link reproduces a run.
 * Only settings that fit in a URL are kept: a dropped model or an uploaded reference image is not.
 */
import type { EngineChoice, OptimizerName } from 'actmax/browser';
import type { BackendChoice } from './messages.js';

export type Norm = 'inf' | '2' | '1';

/** The "look like the data" choice: no prior, the stored subspace prior, or the bundled decoder. */
export type PriorChoice = 'off' | 'subspace' | 'decoder';

export interface Settings {
  /** Objective text in the CLI grammar, e.g. `logit:1` or `logit:3-0.5*logit:5`. */
  objective: string;
  steps: number;
  restarts: number;
  optimizer: OptimizerName;
  /** null = the optimiser's default. */
  lr: number | null;
  seed: number;
  /** Compute engine: auto (ONNX when it can compile the job, else TF.js), onnx or tfjs. */
  engine: EngineChoice;
  backend: BackendChoice;
  /** WebAssembly threads of the ONNX engine (1–4); null = the browser's cores, at most 4. Only in the URL (`threads=`). */
  threads: number | null;
  /** Value range; null = the model's input range. */
  lo: number | null;
  hi: number | null;
  /** Reference image: `none`, `ex:N` (bundled examples.json) or `upload` (not reproducible by link). */
  ref: string;
  /** ε of the ball around the reference; null = no ball. */
  eps: number | null;
  norm: Norm;
  /** Editable-pixel mask (true = may change), or null for no mask. */
  mask: boolean[] | null;
  /** Quantised levels; 0 = off. */
  levels: number;
  /** Seconds the exact solver may search. */
  exactTime: number;
  /** Data prior of the answers (bundled model only). */
  prior: PriorChoice;
  /** Components K of the subspace prior. */
  priorK: number;
}

export const DEFAULTS: Settings = {
  objective: 'logit:0',
  steps: 150,
  restarts: 6,
  optimizer: 'adam',
  lr: null,
  seed: 0,
  engine: 'auto',
  backend: 'auto',
  threads: null,
  lo: null,
  hi: null,
  ref: 'none',
  eps: null,
  norm: 'inf',
  mask: null,
  levels: 0,
  exactTime: 30,
  prior: 'off',
  priorK: 32,
};

/** Largest K of the subspace prior (the stored prior keeps 64 components). */
export const MAX_PRIOR_K = 64;

const OPTIMIZERS: OptimizerName[] = ['adam', 'sgd', 'normalized', 'sign'];
const BACKENDS: BackendChoice[] = ['auto', 'webgl', 'wasm', 'cpu'];
const ENGINES: EngineChoice[] = ['auto', 'onnx', 'tfjs'];

/** Mask → base64url of a bitset (LSB first), prefixed by the length: `784.AAAA…`. */
export function encodeMask(mask: boolean[]): string {
  const bytes = new Uint8Array(Math.ceil(mask.length / 8));
  mask.forEach((on, i) => {
    if (on) bytes[i >> 3] |= 1 << (i & 7);
  });
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return `${mask.length}.${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** Inverse of {@link encodeMask}; null when malformed. */
export function decodeMask(text: string): boolean[] | null {
  const m = /^(\d{1,7})\.([A-Za-z0-9_-]*)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  let bin: string;
  try {
    bin = atob(m[2].replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
  if (bin.length !== Math.ceil(n / 8)) return null;
  return Array.from({ length: n }, (_, i) => ((bin.charCodeAt(i >> 3) >> (i & 7)) & 1) === 1);
}

function num(v: string | null, integer: boolean, min: number): number | null {
  if (v === null || v.trim() === '') return null;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || (integer && !Number.isInteger(x))) return null;
  return x;
}

/** Read settings from a query string; anything missing or malformed keeps its default. */
export function settingsFromQuery(query: string): Settings {
  const q = new URLSearchParams(query);
  const s: Settings = { ...DEFAULTS };
  const obj = q.get('obj');
  if (obj && obj.length < 2000) s.objective = obj;
  s.steps = num(q.get('steps'), true, 0) ?? s.steps;
  s.restarts = num(q.get('restarts'), true, 1) ?? s.restarts;
  const opt = q.get('opt') as OptimizerName | null;
  if (opt && OPTIMIZERS.includes(opt)) s.optimizer = opt;
  const lr = num(q.get('lr'), false, 0);
  s.lr = lr && lr > 0 ? lr : null;
  s.seed = num(q.get('seed'), true, 0) ?? s.seed;
  const en = q.get('engine') as EngineChoice | null;
  if (en && ENGINES.includes(en)) s.engine = en;
  const be = q.get('backend') as BackendChoice | null;
  if (be && BACKENDS.includes(be)) s.backend = be;
  const threads = num(q.get('threads'), true, 1);
  s.threads = threads !== null && threads <= 4 ? threads : null;
  s.lo = num(q.get('lo'), false, -Infinity);
  s.hi = num(q.get('hi'), false, -Infinity);
  const ref = q.get('ref');
  if (ref && /^ex:\d{1,4}$/.test(ref)) s.ref = ref;
  s.eps = num(q.get('eps'), false, 0);
  const norm = q.get('norm');
  if (norm === 'inf' || norm === '2' || norm === '1') s.norm = norm;
  const mask = q.get('mask');
  s.mask = mask ? decodeMask(mask) : null;
  s.levels = num(q.get('levels'), true, 0) ?? 0;
  if (s.levels === 1) s.levels = 0;
  const xt = num(q.get('xt'), false, 0);
  if (xt !== null && xt > 0 && xt <= 3600) s.exactTime = xt;
  const prior = /^(subspace)(?::(\d{1,2}))?$|^(decoder)$/.exec(q.get('prior') ?? '');
  if (prior) {
    s.prior = prior[1] ? 'subspace' : 'decoder';
    const k = prior[2] ? Number(prior[2]) : DEFAULTS.priorK;
    if (k >= 1 && k <= MAX_PRIOR_K) s.priorK = k;
  }
  return s;
}

/** The query string for settings (defaults left out, so links stay short). */
export function settingsToQuery(s: Settings): string {
  const q = new URLSearchParams();
  q.set('obj', s.objective);
  if (s.steps !== DEFAULTS.steps) q.set('steps', String(s.steps));
  if (s.restarts !== DEFAULTS.restarts) q.set('restarts', String(s.restarts));
  if (s.optimizer !== DEFAULTS.optimizer) q.set('opt', s.optimizer);
  if (s.lr !== null) q.set('lr', String(s.lr));
  if (s.seed !== DEFAULTS.seed) q.set('seed', String(s.seed));
  if (s.engine !== DEFAULTS.engine) q.set('engine', s.engine);
  if (s.backend !== DEFAULTS.backend) q.set('backend', s.backend);
  if (s.threads !== null) q.set('threads', String(s.threads));
  if (s.lo !== null) q.set('lo', String(s.lo));
  if (s.hi !== null) q.set('hi', String(s.hi));
  if (s.ref.startsWith('ex:')) q.set('ref', s.ref);
  if (s.eps !== null) q.set('eps', String(s.eps));
  if (s.norm !== DEFAULTS.norm) q.set('norm', s.norm);
  if (s.mask) q.set('mask', encodeMask(s.mask));
  if (s.levels > 1) q.set('levels', String(s.levels));
  if (s.exactTime !== DEFAULTS.exactTime) q.set('xt', String(s.exactTime));
  if (s.prior !== 'off') q.set('prior', s.prior === 'subspace' ? `subspace:${s.priorK}` : 'decoder');
  return q.toString();
}
