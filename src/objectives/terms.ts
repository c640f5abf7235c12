import { ActmaxError } from '../errors.js';
import { tapChannelAxis, tapKey, tapShape, type Tap } from '../model/activations.js';
import type { ActmaxModel, OutputInfo } from '../model/types.js';
import type { ObjectiveSpec } from './spec.js';
import { formatObjective } from './format.js';
import { channelLayout, checkIndex, flatNeuronIndex } from './indices.js';
import { resolveOutput } from './check.js';

/*
 * Objectives as plain data for a batch: targets × restarts rows, row r maximising the objective of
 * target ⌊r / restarts⌋. Every objective is a weighted sum of terms; terms of the same kind and
 * source are merged into one group with per-row numbers, so each engine (TF.js, the ONNX compiler)
 * evaluates a group once for the whole batch: 10 classes cost one pass, not a loop.
 */

/** One weighted read-out of a tap for a batch: value[row] += Σ_u w[row·units + u] · tap[row, u] (flat, model layout). */
export interface LinearReadout {
  tap: Tap;
  units: number;
  w: Float32Array;
}

/**
 * A non-linear group (per-row arrays: `weight` [rows], `onehot` [rows × units], `value` [rows]):
 * - `margin`: weight·(z_k − max_{j≠k} z_j) of a tap's units, k marked by `onehot`;
 * - `prob`: weight·y_k of a model output (its own activation, e.g. softmax);
 * - `target`: −weight·(y_k − value)² of a model output;
 * - `energy`: weight·mean(a²) of a tap (DeepDream);
 * - `inputPenalty`: weight·(mean |x| | mean x² | total variation) of a model input as the model sees it.
 */
export type TermGroup =
  | { kind: 'margin'; tap: Tap; units: number; onehot: Float32Array; weight: Float32Array }
  | { kind: 'prob'; output: number; units: number; onehot: Float32Array; weight: Float32Array }
  | { kind: 'target'; output: number; units: number; onehot: Float32Array; value: Float32Array; weight: Float32Array }
  | { kind: 'energy'; tap: Tap; weight: Float32Array }
  | { kind: 'inputPenalty'; penalty: 'inputL1' | 'inputL2' | 'totalVariation'; input: number; weight: Float32Array };

/** All terms of a batch: linear read-outs by tap, and the non-linear groups. */
export interface BatchTerms {
  rows: number;
  linear: LinearReadout[];
  groups: TermGroup[];
}

/** Shapes known from the network (graph models) keyed by layer name; layers models use their own metadata. */
export type ShapeHints = Map<string, number[]>;

type Atom =
  | { kind: 'linear'; tap: Tap; weights: Float32Array }
  | { kind: 'margin'; tap: Tap; units: number; index: number; weight: number }
  | { kind: 'prob' | 'target'; output: number; units: number; index: number; weight: number; value?: number }
  | { kind: 'energy'; tap: Tap; weight: number }
  | { kind: 'inputPenalty'; penalty: 'inputL1' | 'inputL2' | 'totalVariation'; input: number; weight: number };

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

export { resolveOutput };

/** Find a model input by name or index. @example resolveInputIndex(model, 'pixels') // 0 */
export function resolveInputIndex(model: ActmaxModel, input: string | number | undefined): number {
  if (input === undefined) return 0;
  const names = model.inputs.map((i) => i.name);
  const idx = typeof input === 'number' ? input : names.indexOf(input);
  if (idx < 0 || idx >= names.length) throw new ActmaxError('unknown-input', `input "${input}" does not exist; inputs are: ${names.join(', ')}`);
  return idx;
}

function layerShape(model: ActmaxModel, layer: string, hints: ShapeHints, pre = false): number[] {
  return hints.get(layer) ?? tapShape(model, { layer, pre });
}

/** An output an objective reads (logit, prob, margin, target): refused when a dynamic op computes it. */
function readableOutput(model: ActmaxModel, spec: ObjectiveSpec, output: string | number | undefined): { info: OutputInfo; index: number } {
  const r = resolveOutput(model, output);
  if (r.info.dynamic) throw new ActmaxError('unsupported', `${formatObjective(spec)}: output "${r.info.name}" is computed by the dynamic op ${r.info.dynamic} (after the differentiable part of the graph); objectives can read the nodes before it, listed by \`actmax inspect\``);
  return r;
}

function atomsOf(model: ActmaxModel, spec: ObjectiveSpec, hints: ShapeHints, scale = 1): Atom[] {
  const oneHot = (units: number, index: number) => {
    const w = new Float32Array(units);
    w[index] = scale;
    return w;
  };
  switch (spec.kind) {
    case 'logit': {
      const { info } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      return [{ kind: 'linear', tap: { layer: info.layer, pre: info.finalActivation !== null }, weights: oneHot(info.units, spec.index) }];
    }
    case 'prob':
    case 'target': {
      const { info, index } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      return [{ kind: spec.kind, output: index, units: info.units, index: spec.index, weight: scale, ...(spec.kind === 'target' ? { value: spec.value } : {}) }];
    }
    case 'margin': {
      const { info } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      if (info.units < 2) throw new ActmaxError('bad-spec', `${formatObjective(spec)}: a margin needs at least 2 output units`);
      return [{ kind: 'margin', tap: { layer: info.layer, pre: info.finalActivation !== null }, units: info.units, index: spec.index, weight: scale }];
    }
    case 'neuron': {
      const shape = layerShape(model, spec.layer, hints, !!spec.pre);
      return [{ kind: 'linear', tap: { layer: spec.layer, pre: !!spec.pre }, weights: oneHot(prod(shape), flatNeuronIndex(spec, shape)) }];
    }
    case 'channel': {
      const shape = layerShape(model, spec.layer, hints, !!spec.pre);
      const { channels, positions, channelOf } = channelLayout(shape, tapChannelAxis(model, { layer: spec.layer, pre: !!spec.pre }, shape));
      checkIndex(spec, spec.channel, channels, `layer "${spec.layer}" (channels)`);
      const w = new Float32Array(prod(shape));
      for (let u = 0; u < w.length; u++) if (channelOf(u) === spec.channel) w[u] = scale / positions;
      return [{ kind: 'linear', tap: { layer: spec.layer, pre: !!spec.pre }, weights: w }];
    }
    case 'direction': {
      const shape = layerShape(model, spec.layer, hints, !!spec.pre);
      const units = prod(shape);
      const { channels, positions, channelOf } = channelLayout(shape, tapChannelAxis(model, { layer: spec.layer, pre: !!spec.pre }, shape));
      const v = spec.vector;
      if (v.some((x) => !Number.isFinite(x))) throw new ActmaxError('bad-input', `${formatObjective(spec)}: the direction vector contains NaN or Infinity`);
      const w = new Float32Array(units);
      if (v.length === units) w.set(v.map((x) => x * scale));
      else if (v.length === channels) {
        for (let u = 0; u < units; u++) w[u] = (v[channelOf(u)] * scale) / positions;
      } else {
        throw new ActmaxError('bad-spec', `${formatObjective(spec)}: the vector has ${v.length} values; layer "${spec.layer}" needs ${units} (all units) or ${channels} (one per channel)`);
      }
      return [{ kind: 'linear', tap: { layer: spec.layer, pre: !!spec.pre }, weights: w }];
    }
    case 'layerEnergy':
      layerShape(model, spec.layer, hints, !!spec.pre);
      return [{ kind: 'energy', tap: { layer: spec.layer, pre: !!spec.pre }, weight: scale }];
    case 'inputL1':
    case 'inputL2':
    case 'totalVariation':
      return [{ kind: 'inputPenalty', penalty: spec.kind, input: resolveInputIndex(model, spec.input), weight: scale }];
    case 'sum':
      return spec.terms.flatMap((term) => atomsOf(model, term.objective, hints, scale * term.weight));
    default:
      throw new ActmaxError('bad-spec', `unknown objective kind "${(spec as { kind: string }).kind}"`);
  }
}

/** Every tap the objective reads (for building the forward program). @example objectiveTaps(model, spec) */
export function objectiveTaps(model: ActmaxModel, spec: ObjectiveSpec, hints: ShapeHints = new Map()): Tap[] {
  return atomsOf(model, spec, hints).flatMap((a) => ('tap' in a ? [a.tap] : []));
}

/**
 * The terms of a batch: targets[t] on rows [t·rowsPerTarget, (t+1)·rowsPerTarget).
 *
 * @example
 * const terms = batchTerms(model, [{ kind: 'margin', index: 3 }, { kind: 'logit', index: 1 }], 4);
 */
export function batchTerms(model: ActmaxModel, targets: ObjectiveSpec[], rowsPerTarget: number, hints: ShapeHints = new Map()): BatchTerms {
  const rows = targets.length * rowsPerTarget;
  const linear = new Map<string, LinearReadout>();
  const groups = new Map<string, TermGroup>();
  const rowsOf = (t: number) => Array.from({ length: rowsPerTarget }, (_, j) => t * rowsPerTarget + j);
  targets.forEach((spec, t) => {
    for (const a of atomsOf(model, spec, hints)) {
      if (a.kind === 'linear') {
        const k = tapKey(a.tap);
        let g = linear.get(k);
        if (!g) linear.set(k, (g = { tap: a.tap, units: a.weights.length, w: new Float32Array(rows * a.weights.length) }));
        for (const r of rowsOf(t)) for (let i = 0; i < g.units; i++) g.w[r * g.units + i] += a.weights[i];
        continue;
      }
      const key = a.kind === 'margin' || a.kind === 'energy' ? `${a.kind}:${tapKey(a.tap)}` : a.kind === 'inputPenalty' ? `${a.penalty}:${a.input}` : `${a.kind}:${a.output}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = emptyGroup(a, rows)));
      for (const r of rowsOf(t)) addAtom(g, a, r);
    }
  });
  return { rows, linear: [...linear.values()], groups: [...groups.values()] };
}

function emptyGroup(a: Exclude<Atom, { kind: 'linear' }>, rows: number): TermGroup {
  const weight = new Float32Array(rows);
  switch (a.kind) {
    case 'margin': return { kind: 'margin', tap: a.tap, units: a.units, onehot: new Float32Array(rows * a.units), weight };
    case 'prob': return { kind: 'prob', output: a.output, units: a.units, onehot: new Float32Array(rows * a.units), weight };
    case 'target': return { kind: 'target', output: a.output, units: a.units, onehot: new Float32Array(rows * a.units), value: new Float32Array(rows), weight };
    case 'energy': return { kind: 'energy', tap: a.tap, weight };
    case 'inputPenalty': return { kind: 'inputPenalty', penalty: a.penalty, input: a.input, weight };
  }
}

function addAtom(g: TermGroup, a: Exclude<Atom, { kind: 'linear' }>, r: number): void {
  if ((g.kind === 'margin' || g.kind === 'prob' || g.kind === 'target') && 'index' in a) {
    // A row has one unit per group; a second term of the same kind on another unit is not one group.
    const row = g.onehot.subarray(r * g.units, (r + 1) * g.units);
    if (g.weight[r] !== 0 && row[a.index] !== 1) throw new ActmaxError('bad-spec', `an objective may use ${g.kind} of one output once per target (got two different units)`);
    row[a.index] = 1;
    if (g.kind === 'target' && a.kind === 'target') g.value[r] = a.value!;
  }
  g.weight[r] += a.weight;
}

/**
 * The batched objectives as pure linear read-outs of taps, or null when any target has a
 * non-linear term (prob, margin, target, layerEnergy, input penalties).
 *
 * @example
 * const parts = linearReadouts(model, [{ kind: 'logit', index: 3 }], 4); // [{ tap: { layer: 'dense_1', pre: true }, units: 10, w }]
 */
export function linearReadouts(model: ActmaxModel, targets: ObjectiveSpec[], rowsPerTarget: number, hints: ShapeHints = new Map()): LinearReadout[] | null {
  const t = batchTerms(model, targets, rowsPerTarget, hints);
  return t.groups.length ? null : t.linear;
}
