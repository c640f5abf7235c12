import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { parseInputBytes } from '../io/inputs.js';
import { buildForward, type Tap } from '../model/activations.js';
import type { ActmaxModel } from '../model/types.js';
import type { PlannedLayer } from './types.js';

/** Dataset examples: every model input's values per example, and a label (file name) for each. */
export interface ExampleSet {
  source: string;
  labels: string[];
  inputs: Array<Record<string, Float32Array>>;
}

/** The examples that excite each unit most: unit id → [{ example, value }] (best first). */
export type TopExamples = Map<string, Array<{ example: number; value: number }>>;

const INPUT_EXT = new Set(['.png', '.json', '.csv']);
/** More examples than this are refused: scoring is one forward pass each, kept in memory. */
export const MAX_EXAMPLES = 100_000;

function complete(values: Record<string, Float32Array>, model: ActmaxModel, label: string): Record<string, Float32Array> {
  const missing = model.inputs.find((i) => !(i.name in values));
  if (missing) throw new ActmaxError('bad-input', `example ${label} gives no values for input "${missing.name}"; give every input (a JSON object keyed by input name)`);
  return values;
}

/** A JSON file holding several examples: a list of inputs, or `{ "examples": [{ "input": … }] }` (the bundled examples.json). */
function jsonList(bytes: Uint8Array, file: string, model: ActmaxModel): Array<Record<string, Float32Array>> | null {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null; // parseInputBytes gives the proper error
  }
  const list = Array.isArray(json) ? json : (json as { examples?: unknown })?.examples;
  if (!Array.isArray(list) || list.length === 0) return null;
  const n = model.inputs[0].shape.reduce((a, b) => a * b, 1);
  const flatLength = (v: unknown): number => (Array.isArray(v) ? v.reduce((a: number, x) => a + flatLength(x), 0) : 1);
  const items = list.map((e) => (e && typeof e === 'object' && !Array.isArray(e) && 'input' in e ? (e as { input: unknown }).input : e));
  // One example written as a nested array is not a list of examples.
  if (Array.isArray(json) && flatLength(json) === n && model.inputs.length === 1) return null;
  return items.map((item, k) => complete(parseInputBytes(new TextEncoder().encode(JSON.stringify(item)), `${file}[${k}]`, model), model, `${file}[${k}]`));
}

/**
 * Read dataset examples the way `predict` reads inputs: a folder of `.png`/`.json`/`.csv` files
 * (one example each, in name order), or one file — a JSON list of inputs, the bundled
 * `examples.json` layout, or a single input.
 *
 * @example
 * const ex = await readExamples('digits/', model); // ex.labels: ['0.png', '1.png', …]
 */
export async function readExamples(source: string, model: ActmaxModel): Promise<ExampleSet> {
  let stat;
  try {
    stat = await fs.stat(source);
  } catch {
    throw new ActmaxError('file-not-found', `--examples: ${source} does not exist; give a folder of input files or one JSON file of inputs`);
  }
  const labels: string[] = [];
  const inputs: Array<Record<string, Float32Array>> = [];
  if (stat.isDirectory()) {
    const names = (await fs.readdir(source)).filter((n) => INPUT_EXT.has(path.extname(n).toLowerCase()) && !n.startsWith('.'));
    names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (names.length > MAX_EXAMPLES) throw new ActmaxError('bad-input', `--examples: ${source} holds ${names.length} inputs; at most ${MAX_EXAMPLES} are scored`);
    for (const n of names) {
      const bytes = new Uint8Array(await fs.readFile(path.join(source, n)));
      inputs.push(complete(parseInputBytes(bytes, path.join(source, n), model), model, n));
      labels.push(n);
    }
  } else {
    const bytes = new Uint8Array(await fs.readFile(source));
    const list = path.extname(source).toLowerCase() === '.json' ? jsonList(bytes, source, model) : null;
    if (list) {
      if (list.length > MAX_EXAMPLES) throw new ActmaxError('bad-input', `--examples: ${source} holds ${list.length} inputs; at most ${MAX_EXAMPLES} are scored`);
      list.forEach((v, k) => (inputs.push(v), labels.push(`${path.basename(source)} #${k}`)));
    } else {
      inputs.push(complete(parseInputBytes(bytes, source, model), model, source));
      labels.push(path.basename(source));
    }
  }
  if (inputs.length === 0) throw new ActmaxError('bad-input', `--examples: ${source} holds no .png, .json or .csv inputs`);
  return { source, labels, inputs };
}

/** The value a unit's objective reads, from its layer's tap: channel mean, neuron, or logit. */
function tapFor(model: ActmaxModel, layer: PlannedLayer): Tap {
  if (layer.kind === 'logit') {
    const out = model.outputs.find((o) => o.layer === layer.name)!;
    return { layer: layer.name, pre: out.finalActivation !== null };
  }
  return { layer: layer.name, pre: false };
}

function unitValues(t: tf.Tensor, layer: PlannedLayer): tf.Tensor2D {
  const rows = t.shape[0];
  if (layer.kind !== 'channel') return t.reshape([rows, -1]) as tf.Tensor2D;
  return t.reshape([rows, -1, layer.units]).mean(1) as tf.Tensor2D;
}

/**
 * Score every example on every unit of the layers (the same value the unit's objective reads:
 * channel mean, neuron, or logit) and keep the `top` highest per unit.
 *
 * @example
 * const top = scoreExamples(model, plan.layers, await readExamples('digits/', model), 8);
 * top.get('conv2d/3') // [{ example: 17, value: 2.4 }, …]
 */
export function scoreExamples(model: ActmaxModel, layers: PlannedLayer[], examples: ExampleSet, top = 8, chunk = 64): TopExamples {
  const fwd = buildForward(model, layers.map((l) => tapFor(model, l)));
  const best: TopExamples = new Map();
  for (const l of layers) for (let u = 0; u < l.units; u++) best.set(`${l.name}/${u}`, []);
  try {
    for (let start = 0; start < examples.inputs.length; start += chunk) {
      const part = examples.inputs.slice(start, start + chunk);
      const values = tf.tidy(() => {
        const xs = model.inputs.map((info) => {
          const flat = new Float32Array(part.length * info.shape.reduce((a, b) => a * b, 1));
          part.forEach((e, k) => flat.set(e[info.name], k * e[info.name].length));
          return tf.tensor(flat, [part.length, ...info.shape]);
        });
        const { taps } = fwd.run(xs);
        return layers.map((l, k) => unitValues(taps[k], l).arraySync());
      });
      layers.forEach((l, k) => {
        for (let u = 0; u < l.units; u++) {
          const list = best.get(`${l.name}/${u}`)!;
          values[k].forEach((row, r) => insertTop(list, { example: start + r, value: row[u] }, top));
        }
      });
    }
  } finally {
    fwd.dispose();
  }
  return best;
}

function insertTop(list: Array<{ example: number; value: number }>, item: { example: number; value: number }, top: number): void {
  if (!Number.isFinite(item.value)) return;
  if (list.length === top && item.value <= list[list.length - 1].value) return;
  let i = list.length;
  while (i > 0 && list[i - 1].value < item.value) i--;
  list.splice(i, 0, item);
  if (list.length > top) list.pop();
}
