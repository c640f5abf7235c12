import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import type { ActmaxModel } from '../model/types.js';
import { readInputFile } from '../io/inputs.js';
import { decodePng } from '../io/png.js';
import type { InitSpec } from '../optimize/maximize.js';
import { validate, z } from '../io/validate.js';

export { CONSTRAINT_GRAMMAR } from './grammars.js';
import { CONSTRAINT_GRAMMAR } from './grammars.js';

function bad(spec: string, why: string): never {
  throw new ActmaxError('bad-spec', `bad constraint "${spec}": ${why}; ${CONSTRAINT_GRAMMAR}`);
}

function num(spec: string, s: string | undefined, what: string): number {
  const v = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(v)) bad(spec, `${what} must be a finite number, got "${s ?? ''}"`);
  return v;
}

async function refValues(file: string, model: ActmaxModel, inputName: string | undefined): Promise<number[]> {
  const info = inputName ? model.inputs.find((i) => i.name === inputName) : model.inputs[0];
  const values = await readInputFile(file, model, info);
  const v = values[info!.name] ?? Object.values(values)[0];
  return Array.from(v);
}

/**
 * Parse one `--constraint` spec into constraint data, reading any files it names.
 *
 * @example
 * await parseConstraint('linf:shirt.png,0.02', model) // { kind: 'ball', p: 'inf', eps: 0.02, ref: [...] }
 */
export async function parseConstraint(text: string, model: ActmaxModel, refForMask?: number[]): Promise<Constraint> {
  let spec = text.trim();
  let input: string | undefined;
  const eq = /^([^=:<>]+)=(.*)$/.exec(spec);
  if (eq) {
    input = eq[1];
    spec = eq[2];
    if (!model.inputs.some((i) => i.name === input)) {
      throw new ActmaxError('unknown-input', `constraint "${text}": input "${input}" does not exist; inputs are: ${model.inputs.map((i) => i.name).join(', ')}`);
    }
  }
  const withInput = <T extends Constraint>(c: T): T => (input ? { ...c, input } : c);
  const sumMatch = /^sum\s*(<=|>=)\s*(.+)$/.exec(spec);
  if (sumMatch) {
    const info = input ? model.inputs.find((i) => i.name === input)! : model.inputs[0];
    const n = info.shape.reduce((a, b) => a * b, 1);
    const b = num(text, sumMatch[2], 'B');
    const sign = sumMatch[1] === '<=' ? 1 : -1;
    return withInput({ kind: 'linear', a: new Array(n).fill(sign), b: sign * b });
  }
  const colon = spec.indexOf(':');
  if (colon < 0) bad(text, 'missing ":"');
  const kind = spec.slice(0, colon);
  const arg = spec.slice(colon + 1);
  switch (kind) {
    case 'box': {
      const [lo, hi, ...more] = arg.split(',');
      if (more.length) bad(text, 'box takes LO,HI');
      const l = num(text, lo, 'LO'), h = num(text, hi, 'HI');
      if (l > h) bad(text, `LO (${l}) is above HI (${h})`);
      return withInput({ kind: 'box', lo: l, hi: h });
    }
    case 'linf':
    case 'l2':
    case 'l1': {
      const cut = arg.lastIndexOf(',');
      if (cut < 0) bad(text, `${kind} takes REF_FILE,EPS`);
      const eps = num(text, arg.slice(cut + 1), 'EPS');
      if (eps < 0) bad(text, 'EPS must be ≥ 0');
      const ref = await refValues(arg.slice(0, cut), model, input);
      return withInput({ kind: 'ball', ref, eps, p: kind === 'linf' ? 'inf' : kind === 'l2' ? 2 : 1 });
    }
    case 'mask': {
      const editable = await readMask(arg, model, input);
      return withInput({ kind: 'mask', editable, ...(refForMask ? { ref: refForMask } : {}) });
    }
    case 'levels': {
      if (!/^\d+$/.test(arg) || Number(arg) < 2) bad(text, 'N must be an integer ≥ 2');
      return withInput({ kind: 'levels', n: Number(arg) });
    }
    case 'linear': {
      let json: unknown;
      try {
        json = JSON.parse(await fs.readFile(arg, 'utf8'));
      } catch (e) {
        throw new ActmaxError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file-not-found' : 'bad-input', `constraint "${text}": cannot read ${arg} as JSON {"a": [...], "b": number}: ${(e as Error).message}`);
      }
      const { a, b } = validate(LinearFileSchema, json, { where: `constraint "${text}": ${arg}`, expected: '{"a": [numbers], "b": number} (a·x ≤ b)' });
      return withInput({ kind: 'linear', a, b });
    }
    case 'onehot': {
      const indices: number[] = [];
      for (const part of arg.split(',')) {
        const range = /^(\d+)-(\d+)$/.exec(part.trim());
        if (range) for (let i = Number(range[1]); i <= Number(range[2]); i++) indices.push(i);
        else if (/^\d+$/.test(part.trim())) indices.push(Number(part));
        else bad(text, `"${part}" is not an index or I-J range`);
      }
      return withInput({ kind: 'oneHot', indices });
    }
    default:
      bad(text, `unknown kind "${kind}"`);
  }
}

/** `linear:FILE`: the halfspace a·x ≤ b. */
const LinearFileSchema = z.object({ a: z.array(z.number()), b: z.number() });

type MaskValue = 0 | 1 | boolean;
type MaskArray = Array<MaskValue | MaskArray>;
/** `mask:FILE` as JSON: 0/1 or booleans, flat or nested like the input's shape. */
const MaskFileSchema: z.ZodType<MaskArray> = z.lazy(() => z.array(z.union([z.literal(0), z.literal(1), z.boolean(), MaskFileSchema])));

async function readMask(file: string, model: ActmaxModel, inputName?: string): Promise<boolean[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch {
    throw new ActmaxError('file-not-found', `mask file not found: ${file}`);
  }
  const info = inputName ? model.inputs.find((i) => i.name === inputName)! : model.inputs[0];
  const n = info.shape.reduce((a, b) => a * b, 1);
  let flags: boolean[];
  if (path.extname(file).toLowerCase() === '.png') {
    const img = decodePng(bytes, file);
    const c = info.shape.length === 3 ? info.shape[2] : 1;
    if (img.width * img.height * c !== n) throw new ActmaxError('bad-input', `${file} is ${img.width}×${img.height}; the mask must match input "${info.name}" [${info.shape.join(', ')}]`);
    flags = [];
    for (let p = 0; p < img.width * img.height; p++) for (let k = 0; k < c; k++) flags.push(img.data[p * 4] > 127);
  } else {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new ActmaxError('bad-input', `${file} is not valid JSON: ${(e as Error).message}`);
    }
    const mask = validate(MaskFileSchema, json, { where: file, root: 'mask', expected: 'a (nested) array of 0/1 or true/false values, one per input feature' });
    flags = ((mask as unknown[]).flat(Infinity) as MaskValue[]).map((v) => v === 1 || v === true);
  }
  if (flags.length !== n) throw new ActmaxError('bad-input', `${file}: the mask has ${flags.length} values; input "${info.name}" has ${n}`);
  return flags;
}

/**
 * Parse `--init`: `random`, `const:V` (or a bare number), or a file holding an input.
 *
 * @example
 * await parseInit('const:0.5', model) // { constant: 0.5 }
 */
export async function parseInit(text: string | undefined, model: ActmaxModel): Promise<InitSpec> {
  if (!text || text === 'random') return 'random';
  const c = /^(?:const(?:ant)?:)?(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(text);
  if (c) return { constant: Number(c[1]) };
  const values = await readInputFile(text, model);
  return { input: Array.from(values[model.inputs[0].name] ?? Object.values(values)[0]) };
}
