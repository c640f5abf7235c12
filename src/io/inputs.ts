import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel, InputInfo } from '../model/types.js';
import { decodePng } from './png.js';
import { validate, z } from './validate.js';
import { fromPicture, pictureShape } from '../param/layout.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Numbers, flat or nested; null stands for NaN/Infinity as Python's json writes them. Non-finite
 * values pass here (1e999 parses as Infinity) so that checkValues can say which value it is.
 */
type Nested = number | null | Nested[];
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const NestedNumbers: z.ZodType<Nested> = z.lazy(() => z.union([anyNumber, z.null(), z.array(NestedNumbers)]));
/** A `.json` input file: one input's values, or values keyed by input name. */
const InputFileSchema = z.union([z.array(NestedNumbers), z.record(z.string(), NestedNumbers)]);

function flattenNested(v: Nested, out: number[] = []): number[] {
  if (Array.isArray(v)) for (const x of v) flattenNested(x, out);
  else out.push(v ?? NaN);
  return out;
}

function shapeOfNested(v: unknown): number[] {
  const s: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    s.push(cur.length);
    cur = cur[0];
  }
  return s;
}

function checkValues(values: number[], info: InputInfo, file: string): Float32Array {
  const n = prod(info.shape);
  if (values.length !== n) {
    throw new ActmaxError('bad-input', `${file}: input "${info.name}" needs ${n} values (shape [${info.shape.join(', ')}]), got ${values.length}`);
  }
  const bad = values.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new ActmaxError('bad-input', `${file}: value ${bad} of input "${info.name}" is ${values[bad]}; inputs must be finite numbers`);
  return Float32Array.from(values);
}

function fromJsonValue(v: Nested, info: InputInfo, file: string): Float32Array {
  const nestedShape = shapeOfNested(v);
  if (nestedShape.length > 1 && prod(nestedShape) !== prod(info.shape)) {
    throw new ActmaxError('bad-input', `${file}: input "${info.name}" has shape [${info.shape.join(', ')}], the file gives [${nestedShape.join(', ')}]`);
  }
  return checkValues(flattenNested(v), info, file);
}

/**
 * Read an input file for a model: `.json` (flat array, nested array of the input's shape, or an
 * object keyed by input name), `.png` (scaled to the input's range; grey or RGB to match; the
 * size must match) or `.csv` (one row of features). Returns flat values by input name.
 *
 * @example
 * const values = await readInputFile('shirt.png', model); // { flatten_input: Float32Array(784) }
 */
export async function readInputFile(file: string, model: ActmaxModel, only?: InputInfo): Promise<Record<string, Float32Array>> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ActmaxError(code === 'ENOENT' ? 'file-not-found' : 'file-unreadable', code === 'ENOENT' ? `input file not found: ${file}` : `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseInputBytes(bytes, file, model, only);
}

/** Same as {@link readInputFile} for bytes already in memory. @example parseInputBytes(bytes, 'x.json', model) */
export function parseInputBytes(bytes: Uint8Array, file: string, model: ActmaxModel, only?: InputInfo): Record<string, Float32Array> {
  const ext = path.extname(file).toLowerCase();
  const first = only ?? model.inputs[0];
  if (ext === '.png') return { [first.name]: pngToInput(bytes, file, first) };
  const text = new TextDecoder().decode(bytes);
  if (ext === '.csv') {
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    const numeric = lines.filter((l) => l.split(',').every((c) => c.trim() !== '' && Number.isFinite(Number(c))));
    // A row of numbers with NaN/Infinity among them: say so rather than "no row of numbers".
    const nonFinite = /^[+-]?(nan|inf|infinity)$/i;
    const withNaN = lines.find((l) => l.split(',').every((c) => Number.isFinite(Number(c)) && c.trim() !== '' || nonFinite.test(c.trim())) && l.split(',').some((c) => nonFinite.test(c.trim())));
    if (numeric.length === 0 && withNaN) {
      const cells = withNaN.split(',');
      const at = cells.findIndex((c) => nonFinite.test(c.trim()));
      throw new ActmaxError('bad-input', `${file}: value ${at} is ${cells[at].trim()}; inputs must be finite numbers`);
    }
    if (numeric.length !== 1) throw new ActmaxError('bad-input', `${file}: a CSV input must have exactly one row of numbers (a header row is allowed), found ${numeric.length}`);
    return { [first.name]: checkValues(numeric[0].split(',').map(Number), first, file) };
  }
  let json: unknown;
  try {
    // Python's json writes NaN/Infinity bare: read them so the error can say which value is not finite.
    json = JSON.parse(text.replace(/(?<![\w".])-?(?:NaN|Infinity)(?![\w"])/g, 'null'));
  } catch (e) {
    throw new ActmaxError('bad-input', `${file} is not valid JSON (${(e as Error).message}); give a flat array, a nested array or {"inputName": [...]}, or use .png/.csv`);
  }
  const input = validate(InputFileSchema, json, { where: file, expected: 'numbers: a flat array, a nested array of the input\'s shape, or {"inputName": [...]}' });
  if (Array.isArray(input)) return { [first.name]: fromJsonValue(input, first, file) };
  const out: Record<string, Float32Array> = {};
  const names = model.inputs.map((i) => i.name);
  for (const [k, v] of Object.entries(input)) {
    const info = model.inputs.find((i) => i.name === k);
    if (!info) throw new ActmaxError('unknown-input', `${file}: "${k}" is not an input of this model; inputs are: ${names.join(', ')}`);
    out[k] = fromJsonValue(v, info, file);
  }
  return out;
}

function pngToInput(bytes: Uint8Array, file: string, info: InputInfo): Float32Array {
  const img = decodePng(bytes, file);
  const shape = pictureShape(info); // channels-first inputs are read as H×W×C pictures
  const [h, w] = shape;
  const c = shape.length === 3 ? shape[2] : shape.length === 2 ? 1 : -1;
  if (c < 0 || ![1, 3, 4].includes(c)) throw new ActmaxError('bad-input', `${file}: input "${info.name}" has shape [${info.shape.join(', ')}], which is not an image; use .json or .csv`);
  if (img.width !== w || img.height !== h) throw new ActmaxError('bad-input', `${file} is ${img.width}×${img.height}; input "${info.name}" needs ${w}×${h}`);
  const [lo, hi] = info.range;
  const out = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    const r = img.data[p * 4], g = img.data[p * 4 + 1], b = img.data[p * 4 + 2], a = img.data[p * 4 + 3];
    if (c === 1) out[p] = lo + ((0.299 * r + 0.587 * g + 0.114 * b) / 255) * (hi - lo);
    else for (let k = 0; k < c; k++) out[p * c + k] = lo + ([r, g, b, a][k] / 255) * (hi - lo);
  }
  return fromPicture(out, info);
}
