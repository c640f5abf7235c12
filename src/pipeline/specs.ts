import { ActmaxError } from '../errors.js';
import type { ParamSpec } from '../param/param.js';
import { standardTransforms, type TransformSpec } from '../transforms/transforms.js';
import type { RegularizerSpec } from './regularizers.js';

export { PARAM_GRAMMAR, TRANSFORM_GRAMMAR, REGULARIZER_GRAMMAR } from './grammar.js';
import { PARAM_GRAMMAR, TRANSFORM_GRAMMAR, REGULARIZER_GRAMMAR } from './grammar.js';

function num(text: string, s: string | undefined, what: string, grammar: string): number {
  const v = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(v)) throw new ActmaxError('bad-spec', `bad spec "${text}": ${what} must be a number, got "${s ?? ''}"; ${grammar}`);
  return v;
}

/**
 * Parse a `--param` spec.
 *
 * @example
 * parseParamSpec('spectral:decay=1.5') // { kind: 'spectral', decay: 1.5 }
 */
export function parseParamSpec(text: string): ParamSpec {
  const [kind, opts = ''] = text.trim().split(/:(.*)/s);
  if (kind !== 'pixel' && kind !== 'sigmoid' && kind !== 'spectral') throw new ActmaxError('bad-spec', `bad param "${text}": unknown kind "${kind}"; ${PARAM_GRAMMAR}`);
  const out: Record<string, unknown> = { kind };
  for (const pair of opts.split(',').filter((p) => p.trim())) {
    const [k, v] = pair.split('=').map((s) => s.trim());
    if (k === 'decorrelate' && kind !== 'pixel') {
      if (!['yes', 'no', 'true', 'false', '1', '0'].includes(v)) throw new ActmaxError('bad-spec', `bad param "${text}": decorrelate must be yes or no; ${PARAM_GRAMMAR}`);
      out.decorrelate = ['yes', 'true', '1'].includes(v);
    } else if ((k === 'decay' && kind === 'spectral') || (k === 'sd' && kind !== 'pixel')) {
      out[k] = num(text, v, k, PARAM_GRAMMAR);
    } else {
      throw new ActmaxError('bad-spec', `bad param "${text}": unknown option "${k}" for ${kind}; ${PARAM_GRAMMAR}`);
    }
  }
  return out as ParamSpec;
}

/**
 * Parse one `--transform` spec (`standard` expands to the standard set for an H×W image; `none` to nothing).
 *
 * @example
 * parseTransformSpec('scale:0.9,1.1', [28, 28]) // [{ kind: 'scale', min: 0.9, max: 1.1 }]
 */
export function parseTransformSpec(text: string, hw: [number, number] | null): TransformSpec[] {
  const [kind, arg] = text.trim().split(/:(.*)/s);
  const int = (s: string | undefined, what: string) => {
    if (!s || !/^\d+$/.test(s.trim())) throw new ActmaxError('bad-spec', `bad transform "${text}": ${what} must be a whole number ≥ 0; ${TRANSFORM_GRAMMAR}`);
    return Number(s);
  };
  switch (kind) {
    case 'none':
      return [];
    case 'standard':
      if (!hw) throw new ActmaxError('bad-spec', `transform "standard" needs an image input; ${TRANSFORM_GRAMMAR}`);
      return standardTransforms(hw[0], hw[1]);
    case 'jitter':
    case 'pad':
      return [{ kind, pixels: int(arg, 'PIXELS') }];
    case 'scale': {
      const [lo, hi, ...more] = (arg ?? '').split(',');
      if (more.length) throw new ActmaxError('bad-spec', `bad transform "${text}": scale takes MIN,MAX; ${TRANSFORM_GRAMMAR}`);
      return [{ kind, min: num(text, lo, 'MIN', TRANSFORM_GRAMMAR), max: num(text, hi, 'MAX', TRANSFORM_GRAMMAR) }];
    }
    case 'rotate':
      return [{ kind, degrees: num(text, arg, 'DEGREES', TRANSFORM_GRAMMAR) }];
    default:
      throw new ActmaxError('bad-spec', `bad transform "${text}": unknown kind "${kind}"; ${TRANSFORM_GRAMMAR}`);
  }
}

/**
 * Parse one `--regularizer` spec (`none` gives nothing).
 *
 * @example
 * parseRegularizerSpec('diversity:10:conv2d_1') // [{ kind: 'diversity', weight: 10, layer: 'conv2d_1' }]
 */
export function parseRegularizerSpec(text: string): RegularizerSpec[] {
  const parts = text.trim().split(':');
  const kind = parts[0];
  if (kind === 'none') return [];
  if (!['tv', 'l1', 'l2', 'blur', 'diversity'].includes(kind)) throw new ActmaxError('bad-spec', `bad regularizer "${text}": unknown kind "${kind}"; ${REGULARIZER_GRAMMAR}`);
  const weight = num(text, parts[1], 'W', REGULARIZER_GRAMMAR);
  if (kind === 'diversity') {
    const layer = parts.slice(2).join(':');
    return [{ kind, weight, ...(layer ? { layer } : {}) }];
  }
  if (parts.length > 2) throw new ActmaxError('bad-spec', `bad regularizer "${text}": ${kind} takes one weight; ${REGULARIZER_GRAMMAR}`);
  return [{ kind: kind as 'tv' | 'l1' | 'l2' | 'blur', weight }];
}
