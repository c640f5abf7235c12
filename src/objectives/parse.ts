import { ActmaxError } from '../errors.js';
import type { ObjectiveSpec } from './spec.js';

/** The objective grammar, shown with every parse error. */
export const OBJECTIVE_GRAMMAR =
  'objective specs: logit:K | logit:OUTPUT:K | logit:all | prob:K | margin:K | target:K:VALUE | neuron:LAYER:I (or I,J,C; or all) | ' +
  'channel:LAYER:C (or all) | layer:LAYER | direction:LAYER:v1,v2,… | l1 | l2 | tv; add :pre after LAYER for the pre-activation; ' +
  'weighted sums like logit:3-0.5*logit:5 or logit:1+0.05*tv';

/** What `parseObjective` needs to know of the model to expand `all`. */
export interface ParseContext {
  /** Units of an output (by name/index; undefined = first). */
  outputUnits?(output: string | number | undefined): number;
  /** Output shape of a layer. */
  layerShape?(layer: string): number[];
  /** Channels of a layer's output, on its channel axis (default: the last axis of `layerShape`). */
  layerChannels?(layer: string): number;
}

const KINDS = 'logit|prob|margin|neuron|channel|layer|target|direction|l1|l2|tv';
const SPLIT = new RegExp(`(?<=[^:,*eE(+-])\\s*([+-])\\s*(?=(?:\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\s*\\*\\s*)?(?:${KINDS})\\b)`);

function fail(text: string, why: string): never {
  throw new ActmaxError('bad-spec', `bad objective "${text}": ${why}; ${OBJECTIVE_GRAMMAR}`);
}

function int(text: string, s: string, what: string): number {
  if (!/^\d+$/.test(s)) fail(text, `${what} must be a non-negative integer, got "${s}"`);
  return Number(s);
}

function float(text: string, s: string, what: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) fail(text, `${what} must be a finite number, got "${s}"`);
  return v;
}

/** Split `LAYER[:pre]:REST` where LAYER may itself contain ':' (rare) — the last parts are fixed. */
function layerAndPre(parts: string[]): { layer: string; pre: boolean } {
  const pre = parts[parts.length - 1] === 'pre';
  const layer = (pre ? parts.slice(0, -1) : parts).join(':');
  return { layer, pre };
}

function parseAtom(full: string, atom: string, ctx: ParseContext): ObjectiveSpec[] {
  const parts = atom.split(':');
  const kind = parts[0];
  const rest = parts.slice(1);
  switch (kind) {
    case 'logit':
    case 'prob':
    case 'margin': {
      if (rest.length < 1 || rest.length > 2) fail(full, `${kind} takes K or OUTPUT:K`);
      const output = rest.length === 2 ? (/^\d+$/.test(rest[0]) ? Number(rest[0]) : rest[0]) : undefined;
      const k = rest[rest.length - 1];
      if (k === 'all') {
        if (!ctx.outputUnits) fail(full, '"all" needs a model');
        const n = ctx.outputUnits(output);
        return Array.from({ length: n }, (_, index) => ({ kind, index, ...(output !== undefined ? { output } : {}) }));
      }
      return [{ kind, index: int(full, k, 'K'), ...(output !== undefined ? { output } : {}) }];
    }
    case 'target': {
      if (rest.length < 2 || rest.length > 3) fail(full, 'target takes K:VALUE or OUTPUT:K:VALUE');
      const output = rest.length === 3 ? (/^\d+$/.test(rest[0]) ? Number(rest[0]) : rest[0]) : undefined;
      return [{ kind: 'target', index: int(full, rest[rest.length - 2], 'K'), value: float(full, rest[rest.length - 1], 'VALUE'), ...(output !== undefined ? { output } : {}) }];
    }
    case 'neuron':
    case 'channel': {
      if (rest.length < 2) fail(full, `${kind} takes LAYER:${kind === 'neuron' ? 'I' : 'C'}`);
      const last = rest[rest.length - 1];
      const { layer, pre } = layerAndPre(rest.slice(0, -1));
      if (!layer) fail(full, 'the layer name is empty');
      const p = pre ? { pre: true } : {};
      if (last === 'all') {
        if (!ctx.layerShape) fail(full, '"all" needs a model');
        const shape = ctx.layerShape(layer);
        const n = kind !== 'channel' ? shape.reduce((a, b) => a * b, 1) : ctx.layerChannels ? ctx.layerChannels(layer) : shape[shape.length - 1];
        return Array.from({ length: n }, (_, i) => (kind === 'channel' ? { kind, layer, channel: i, ...p } : { kind, layer, index: i, ...p }));
      }
      if (kind === 'channel') return [{ kind, layer, channel: int(full, last, 'C'), ...p }];
      const coords = last.split(',').map((c) => int(full, c, 'I'));
      return [{ kind, layer, index: coords.length === 1 ? coords[0] : coords, ...p }];
    }
    case 'layer': {
      if (rest.length < 1) fail(full, 'layer takes LAYER');
      const { layer, pre } = layerAndPre(rest);
      return [{ kind: 'layerEnergy', layer, ...(pre ? { pre: true } : {}) }];
    }
    case 'direction': {
      if (rest.length < 2) fail(full, 'direction takes LAYER:v1,v2,…');
      const { layer, pre } = layerAndPre(rest.slice(0, -1));
      const vector = rest[rest.length - 1].split(',').map((v) => float(full, v, 'a direction component'));
      return [{ kind: 'direction', layer, vector, ...(pre ? { pre: true } : {}) }];
    }
    case 'l1':
    case 'l2':
    case 'tv':
      if (rest.length) fail(full, `${kind} takes no arguments`);
      return [{ kind: kind === 'l1' ? 'inputL1' : kind === 'l2' ? 'inputL2' : 'totalVariation' }];
    default:
      fail(full, `unknown kind "${kind}"`);
  }
}

/**
 * Parse the CLI/URL objective grammar into one spec per target (`logit:all` gives one per class).
 *
 * @example
 * parseObjective('logit:3-0.5*logit:5') // [{ kind: 'sum', terms: [...] }]
 * parseObjective('logit:all', { outputUnits: () => 10 }).length // 10
 */
export function parseObjective(text: string, ctx: ParseContext = {}): ObjectiveSpec[] {
  const src = text.trim();
  if (!src) fail(text, 'it is empty');
  const pieces = src.split(SPLIT);
  // pieces: [term, sign, term, sign, term …]
  const terms: Array<{ weight: number; atom: string }> = [];
  for (let i = 0; i < pieces.length; i += 2) {
    const sign = i === 0 ? 1 : pieces[i - 1] === '-' ? -1 : 1;
    let t = pieces[i].trim();
    let lead = 1;
    if (i === 0 && t.startsWith('-')) {
      lead = -1;
      t = t.slice(1).trim();
    }
    const m = /^(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)\s*\*\s*(.+)$/.exec(t);
    const weight = sign * lead * (m ? Number(m[1]) : 1);
    terms.push({ weight, atom: m ? m[2].trim() : t });
  }
  if (terms.length === 1 && terms[0].weight === 1) return parseAtom(text, terms[0].atom, ctx);
  const specs = terms.map((t) => {
    const s = parseAtom(text, t.atom, ctx);
    if (s.length !== 1) fail(text, '"all" cannot be used inside a weighted sum');
    return { weight: t.weight, objective: s[0] };
  });
  return [{ kind: 'sum', terms: specs }];
}
