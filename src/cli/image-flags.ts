import { ActmaxError } from '../errors.js';
import type { ImageOptions } from '../pipeline/defaults.js';
import { parseParamSpec, parseRegularizerSpec, parseTransformSpec } from '../pipeline/specs.js';
import type { ActmaxModel } from '../model/types.js';
import { parseObjective, type ParseContext } from '../objectives/parse.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import { imageDimsOf } from '../param/layout.js';

/** The image flags of `actmax maximize`. */
export interface ImageFlags {
  image: string;
  param?: string;
  transform: string[];
  regularizer: string[];
}

/**
 * Turn `--image/--param/--transform/--regularizer` into maximize's `image` option: `--image none`
 * turns the machinery off; otherwise the given flags replace the defaults they name.
 *
 * @example
 * imageOptionsFromFlags(model, { image: 'auto', transform: ['jitter:1'], regularizer: [] }) // { transforms: [{ kind: 'jitter', pixels: 1 }] }
 */
export function imageOptionsFromFlags(model: ActmaxModel, f: ImageFlags): ImageOptions | 'auto' | undefined {
  if (f.image !== 'auto' && f.image !== 'none') throw new ActmaxError('bad-option', `--image must be auto or none, got "${f.image}"`);
  const given = f.param !== undefined || f.transform.length > 0 || f.regularizer.length > 0;
  if (f.image === 'none') {
    if (given) throw new ActmaxError('bad-option', '--image none turns the image machinery off; drop --param/--transform/--regularizer or use --image auto');
    return undefined;
  }
  if (!given) return 'auto';
  const dims = imageDimsOf(model.inputs[0]);
  const out: ImageOptions = {};
  if (f.param !== undefined) out.param = parseParamSpec(f.param);
  if (f.transform.length) out.transforms = f.transform.flatMap((t) => parseTransformSpec(t, dims ? [dims[0], dims[1]] : null));
  if (f.regularizer.length) out.regularizers = f.regularizer.flatMap(parseRegularizerSpec);
  return out;
}

/**
 * `--units`: render several units of `channel:LAYER` / `neuron:LAYER` in one batch: `all`, or a
 * list of indices and ranges like `0-7,12`.
 *
 * @example
 * expandUnits('channel:conv2d', 'all', ctx) // one spec per channel
 */
export function expandUnits(objective: string, units: string, ctx: ParseContext): ObjectiveSpec[] {
  const base = objective.trim();
  if (!/^(channel|neuron):/.test(base)) throw new ActmaxError('bad-option', `--units needs --objective channel:LAYER or neuron:LAYER (without the unit), got "${objective}"`);
  if (units.trim() === 'all') return parseObjective(`${base}:all`, ctx);
  const indices: number[] = [];
  for (const part of units.split(',')) {
    const r = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!r) throw new ActmaxError('bad-option', `--units takes all, or indices and ranges like 0-7,12; got "${units}"`);
    const lo = Number(r[1]), hi = r[2] !== undefined ? Number(r[2]) : lo;
    if (hi < lo) throw new ActmaxError('bad-option', `--units: the range ${part.trim()} runs backwards`);
    for (let i = lo; i <= hi; i++) indices.push(i);
  }
  return indices.flatMap((i) => parseObjective(`${base}:${i}`, ctx));
}
