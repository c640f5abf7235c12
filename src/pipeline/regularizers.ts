import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from '../model/types.js';

/**
 * Regularisers of the image pipeline. They steer the gradient but are not part of the reported
 * objective value (write `logit:3-0.05*tv` to have a penalty inside the value itself).
 * - `tv`, `l1`, `l2`: weight × (total variation | mean |x| | mean x²) of the rendered input, subtracted;
 * - `blur`: after each step, x ← x + weight·(blur₃ₓ₃(x) − x) (pixel parameterisation only);
 * - `diversity`: weight × the mean Gram-matrix similarity of `layer`'s activations to the other
 *   restarts of the same target, subtracted (Lucid's `diversity`), so restarts differ.
 */
export type RegularizerSpec =
  | { kind: 'tv' | 'l1' | 'l2'; weight: number }
  | { kind: 'blur'; weight: number }
  | { kind: 'diversity'; weight: number; layer?: string };

/** Check a regulariser's weight. @example checkRegularizer({ kind: 'tv', weight: 0.5 }) */
export function checkRegularizer(r: RegularizerSpec): void {
  if (!['tv', 'l1', 'l2', 'blur', 'diversity'].includes(r.kind)) {
    throw new ActmaxError('bad-option', `unknown regularizer "${r.kind}"; choose tv, l1, l2, blur or diversity`);
  }
  if (!(r.weight >= 0) || !Number.isFinite(r.weight)) throw new ActmaxError('bad-option', `regularizer ${r.kind}: the weight must be a number ≥ 0, got ${r.weight}`);
  if (r.kind === 'blur' && r.weight > 1) throw new ActmaxError('bad-option', `regularizer blur: the weight is a blend in [0, 1], got ${r.weight}`);
}

/**
 * The default layer for diversity: the last layer with a spatial output (conv features), else the
 * first hidden layer with more than one unit that is not an output.
 *
 * @example
 * diversityLayer(model) // 'conv2d_1'
 */
export function diversityLayer(model: ActmaxModel): string {
  const outputs = new Set(model.outputs.map((o) => o.layer));
  const skip = new Set(['InputLayer', 'Flatten', 'Reshape', 'Dropout']);
  const candidates = model.layers.filter((l) => !outputs.has(l.name) && !skip.has(l.className) && l.units > 1);
  const spatial = candidates.filter((l) => l.outputShape.length >= 3);
  const pick = spatial.length ? spatial[spatial.length - 1] : candidates[0];
  if (!pick) throw new ActmaxError('bad-option', 'diversity needs a hidden layer; this model has none (name one with diversity:W:LAYER)');
  return pick.name;
}

/**
 * Blend each image row toward its 3×3 binomial blur (edges clamped), in place: x ← x + w·(blur(x) − x).
 * Rows are H×W×C pictures, or C×H×W when `channelsFirst`.
 *
 * @example
 * const x = new Float32Array(2 * 28 * 28).fill(0.5);
 * blurRows(x, 2, [28, 28, 1], 0.1); // a flat image stays flat
 */
export function blurRows(x: Float32Array, rows: number, dims: [number, number, number], weight: number, channelsFirst = false): void {
  const [h, w, c] = dims;
  const n = h * w * c;
  const tmp = new Float32Array(n);
  // Offset of (pixel p, channel k) in a row.
  const offset = channelsFirst ? (p: number, k: number) => k * h * w + p : (p: number, k: number) => p * c + k;
  const at = (base: number, y: number, xx: number, k: number) => x[base + offset(Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, xx)), k)];
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += (dy === 0 ? 2 : 1) * (dx === 0 ? 2 : 1) * at(base, y + dy, xx + dx, k);
      tmp[offset(y * w + xx, k)] = s / 16;
    }
    for (let i = 0; i < n; i++) x[base + i] += weight * (tmp[i] - x[base + i]);
  }
}
