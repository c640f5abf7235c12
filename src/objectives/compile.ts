import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { tapKey, tapShape, type Tap } from '../model/activations.js';
import type { ActmaxModel, OutputInfo } from '../model/types.js';
import type { ObjectiveSpec } from './spec.js';
import { formatObjective } from './format.js';
import { checkIndex, flatNeuronIndex } from './indices.js';
import { resolveOutput } from './check.js';

/** What an objective reads during one evaluation: the taps it declared, the model's outputs and inputs. */
export interface EvalContext {
  tap(t: Tap): tf.Tensor;
  /** The model's outputs; undefined for outputs only dynamic ops compute (no objective reads those). */
  outputs: Array<tf.Tensor | undefined>;
  inputs: tf.Tensor[];
}

/** A linear read-out of one tap: value = Σ w_i · tap_i (flat). */
interface LinearAtom {
  tap: Tap;
  weights: Float32Array;
}
/** Anything else: a function of the context giving one value per row. */
interface GeneralAtom {
  taps: Tap[];
  weight: number;
  fn(ctx: EvalContext): tf.Tensor1D;
}
interface Atoms {
  linear: LinearAtom[];
  general: GeneralAtom[];
}

/**
 * Objectives for a batch: `targets[t]` is maximised on rows [t·rowsPerTarget, (t+1)·rowsPerTarget).
 * Linear objectives (logit, neuron, channel, direction and their sums) of all targets are one
 * weighted read-out, so 10 classes cost one batched pass, not a loop.
 */
export interface CompiledBatchObjective {
  taps: Tap[];
  rows: number;
  evaluate(ctx: EvalContext): tf.Tensor1D;
  dispose(): void;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

export { resolveOutput } from './check.js';

function layerShape(model: ActmaxModel, layer: string, tapShapes: Map<string, number[]>, pre = false): number[] {
  return tapShapes.get(layer) ?? tapShape(model, { layer, pre });
}

/** An output an objective reads through the model's outputs (prob, target): refused when a dynamic op computes it. */
function readableOutput(model: ActmaxModel, spec: ObjectiveSpec, output: string | number | undefined): { info: OutputInfo; index: number } {
  const r = resolveOutput(model, output);
  if (r.info.dynamic) throw new ActmaxError('unsupported', `${formatObjective(spec)}: output "${r.info.name}" is computed by the dynamic op ${r.info.dynamic} (after the differentiable part of the graph); objectives can read the nodes before it, listed by \`actmax inspect\``);
  return r;
}

/** Shapes known from a probe (graph models) keyed by layer name; layers models use their own metadata. */
export type ShapeHints = Map<string, number[]>;

function atomsOf(model: ActmaxModel, spec: ObjectiveSpec, hints: ShapeHints, scale = 1): Atoms {
  const linear = (tap: Tap, weights: Float32Array): Atoms => ({ linear: [{ tap, weights: scale === 1 ? weights : weights.map((w) => w * scale) }], general: [] });
  const general = (taps: Tap[], fn: (ctx: EvalContext) => tf.Tensor1D): Atoms => ({ linear: [], general: [{ taps, weight: scale, fn }] });
  switch (spec.kind) {
    case 'logit': {
      const { info } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      const w = new Float32Array(info.units);
      w[spec.index] = 1;
      return linear({ layer: info.layer, pre: info.finalActivation !== null }, w);
    }
    case 'prob': {
      const { info, index } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      const w = new Float32Array(info.units);
      w[spec.index] = 1;
      const wt = () => tf.tensor2d(w, [info.units, 1]);
      return general([], (ctx) => tf.tidy(() => ctx.outputs[index]!.reshape([-1, info.units]).matMul(wt()).reshape([-1]) as tf.Tensor1D));
    }
    case 'margin': {
      const { info } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      if (info.units < 2) throw new ActmaxError('bad-spec', `${formatObjective(spec)}: a margin needs at least 2 output units`);
      const tap = { layer: info.layer, pre: info.finalActivation !== null };
      const onehot = new Float32Array(info.units);
      onehot[spec.index] = 1;
      return general([tap], (ctx) =>
        tf.tidy(() => {
          const z = ctx.tap(tap).reshape([-1, info.units]);
          const oh = tf.tensor2d(onehot, [1, info.units]);
          const own = z.mul(oh).sum(1);
          // Largest other logit: push the own unit far down before the max.
          const others = z.sub(oh.mul(1e9)).max(1);
          return own.sub(others) as tf.Tensor1D;
        }),
      );
    }
    case 'target': {
      const { info, index } = readableOutput(model, spec, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      const w = new Float32Array(info.units);
      w[spec.index] = 1;
      return general([], (ctx) =>
        tf.tidy(() => {
          const v = ctx.outputs[index]!.reshape([-1, info.units]).mul(tf.tensor2d(w, [1, info.units])).sum(1);
          return v.sub(spec.value).square().neg() as tf.Tensor1D;
        }),
      );
    }
    case 'neuron': {
      const shape = layerShape(model, spec.layer, hints, !!spec.pre);
      const units = prod(shape);
      const flat = flatNeuronIndex(spec, shape);
      const w = new Float32Array(units);
      w[flat] = 1;
      return linear({ layer: spec.layer, pre: !!spec.pre }, w);
    }
    case 'channel': {
      const shape = layerShape(model, spec.layer, hints, !!spec.pre);
      const channels = shape[shape.length - 1] ?? 1;
      checkIndex(spec, spec.channel, channels, `layer "${spec.layer}" (channels)`);
      const units = prod(shape);
      const positions = units / channels;
      const w = new Float32Array(units);
      for (let p = 0; p < positions; p++) w[p * channels + spec.channel] = 1 / positions;
      return linear({ layer: spec.layer, pre: !!spec.pre }, w);
    }
    case 'direction': {
      const shape = layerShape(model, spec.layer, hints, !!spec.pre);
      const units = prod(shape);
      const channels = shape[shape.length - 1] ?? 1;
      const v = spec.vector;
      if (v.some((x) => !Number.isFinite(x))) throw new ActmaxError('bad-input', `${formatObjective(spec)}: the direction vector contains NaN or Infinity`);
      const w = new Float32Array(units);
      if (v.length === units) w.set(v);
      else if (v.length === channels) {
        const positions = units / channels;
        for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) w[p * channels + c] = v[c] / positions;
      } else {
        throw new ActmaxError('bad-spec', `${formatObjective(spec)}: the vector has ${v.length} values; layer "${spec.layer}" needs ${units} (all units) or ${channels} (one per channel)`);
      }
      return linear({ layer: spec.layer, pre: !!spec.pre }, w);
    }
    case 'layerEnergy': {
      layerShape(model, spec.layer, hints, !!spec.pre);
      const tap = { layer: spec.layer, pre: !!spec.pre };
      return general([tap], (ctx) => tf.tidy(() => { const a = ctx.tap(tap); return a.reshape([a.shape[0], -1]).square().mean(1) as tf.Tensor1D; }));
    }
    case 'inputL1':
    case 'inputL2':
    case 'totalVariation': {
      const idx = resolveInputIndex(model, spec.input);
      return general([], (ctx) => tf.tidy(() => inputPenalty(spec.kind, ctx.inputs[idx])));
    }
    case 'sum': {
      const out: Atoms = { linear: [], general: [] };
      for (const term of spec.terms) {
        const a = atomsOf(model, term.objective, hints, scale * term.weight);
        out.linear.push(...a.linear);
        out.general.push(...a.general);
      }
      return out;
    }
    default:
      throw new ActmaxError('bad-spec', `unknown objective kind "${(spec as { kind: string }).kind}"`);
  }
}

/** Mean |x|, mean x², or total variation (mean absolute difference of neighbours along every spatial axis). */
function inputPenalty(kind: 'inputL1' | 'inputL2' | 'totalVariation', x: tf.Tensor): tf.Tensor1D {
  const rows = x.shape[0];
  if (kind === 'inputL1') return x.abs().reshape([rows, -1]).mean(1) as tf.Tensor1D;
  if (kind === 'inputL2') return x.square().reshape([rows, -1]).mean(1) as tf.Tensor1D;
  // Spatial axes: all but batch and (when rank ≥ 3) the channel axis.
  const rank = x.rank;
  const spatial = rank >= 4 ? rank - 2 : rank - 1;
  let total: tf.Tensor = tf.zeros([rows]);
  for (let ax = 1; ax <= spatial; ax++) {
    const n = x.shape[ax];
    if (n < 2) continue;
    const begin = new Array(rank).fill(0);
    const size = x.shape.slice();
    size[ax] = n - 1;
    const a = x.slice(begin, size);
    const b2 = begin.slice();
    b2[ax] = 1;
    const b = x.slice(b2, size);
    total = total.add(a.sub(b).abs().reshape([rows, -1]).mean(1));
  }
  return total as tf.Tensor1D;
}

/** Find a model input by name or index. @example resolveInputIndex(model, 'pixels') // 0 */
export function resolveInputIndex(model: ActmaxModel, input: string | number | undefined): number {
  if (input === undefined) return 0;
  const names = model.inputs.map((i) => i.name);
  const idx = typeof input === 'number' ? input : names.indexOf(input);
  if (idx < 0 || idx >= names.length) throw new ActmaxError('unknown-input', `input "${input}" does not exist; inputs are: ${names.join(', ')}`);
  return idx;
}

/** Every tap the objective reads (for building the forward program). @example objectiveTaps(model, spec) */
export function objectiveTaps(model: ActmaxModel, spec: ObjectiveSpec, hints: ShapeHints = new Map()): Tap[] {
  const a = atomsOf(model, spec, hints);
  return [...a.linear.map((l) => l.tap), ...a.general.flatMap((g) => g.taps)];
}

/**
 * Compile one objective per target into one batched evaluation.
 *
 * @example
 * const obj = compileBatchObjective(model, [{ kind: 'logit', index: 3 }], 8); // 8 restarts of one target
 */
export function compileBatchObjective(model: ActmaxModel, targets: ObjectiveSpec[], rowsPerTarget: number, hints: ShapeHints = new Map()): CompiledBatchObjective {
  const atoms = targets.map((t) => atomsOf(model, t, hints));
  const rows = targets.length * rowsPerTarget;
  const byTap = groupLinear(atoms, rows, rowsPerTarget);
  const weightTensors = [...byTap.values()].map((g) => ({ tap: g.tap, units: g.units, w: tf.keep(tf.tensor2d(g.w, [rows, g.units])) }));
  const hasGeneral = atoms.some((a) => a.general.length > 0);
  const taps = [...byTap.values()].map((g) => g.tap).concat(atoms.flatMap((a) => a.general.flatMap((g) => g.taps)));
  return {
    taps,
    rows,
    evaluate(ctx) {
      return tf.tidy(() => {
        let total: tf.Tensor = tf.zeros([rows]);
        for (const g of weightTensors) total = total.add(ctx.tap(g.tap).reshape([rows, g.units]).mul(g.w).sum(1));
        if (hasGeneral) {
          const parts = atoms.map((a, t) => {
            if (a.general.length === 0) return tf.zeros([rowsPerTarget]);
            const begin = t * rowsPerTarget;
            const sliceCtx: EvalContext = {
              tap: (tp) => sliceRows(ctx.tap(tp), begin, rowsPerTarget),
              outputs: ctx.outputs.map((o) => (o ? sliceRows(o, begin, rowsPerTarget) : undefined)),
              inputs: ctx.inputs.map((x) => sliceRows(x, begin, rowsPerTarget)),
            };
            return a.general.reduce<tf.Tensor>((acc, g) => acc.add(g.fn(sliceCtx).mul(g.weight)), tf.zeros([rowsPerTarget]));
          });
          total = total.add(parts.length === 1 ? parts[0] : tf.concat(parts));
        }
        return total as tf.Tensor1D;
      });
    },
    dispose() {
      for (const g of weightTensors) g.w.dispose();
    },
  };
}

/** Group linear atoms by tap into one [rows, units] weight matrix each. */
function groupLinear(atoms: Atoms[], rows: number, rowsPerTarget: number): Map<string, LinearReadout> {
  const byTap = new Map<string, LinearReadout>();
  atoms.forEach((a, t) => {
    for (const l of a.linear) {
      const k = tapKey(l.tap);
      let g = byTap.get(k);
      if (!g) {
        g = { tap: l.tap, units: l.weights.length, w: new Float32Array(rows * l.weights.length) };
        byTap.set(k, g);
      }
      for (let r = t * rowsPerTarget; r < (t + 1) * rowsPerTarget; r++) {
        const base = r * g.units;
        for (let i = 0; i < g.units; i++) g.w[base + i] += l.weights[i];
      }
    }
  });
  return byTap;
}

/** One weighted read-out of a tap for a batch: value[row] += Σ_u w[row·units + u] · tap[row, u] (flat, model layout). */
export interface LinearReadout {
  tap: Tap;
  units: number;
  w: Float32Array;
}

/**
 * The batched objectives as pure linear read-outs of taps, or null when any target has a
 * non-linear term (prob, margin, target, layerEnergy, input penalties). Native engines compile
 * these into their own graphs.
 *
 * @example
 * const parts = linearReadouts(model, [{ kind: 'logit', index: 3 }], 4); // [{ tap: { layer: 'dense_1', pre: true }, units: 10, w }]
 */
export function linearReadouts(model: ActmaxModel, targets: ObjectiveSpec[], rowsPerTarget: number, hints: ShapeHints = new Map()): LinearReadout[] | null {
  const atoms = targets.map((t) => atomsOf(model, t, hints));
  if (atoms.some((a) => a.general.length > 0)) return null;
  return [...groupLinear(atoms, targets.length * rowsPerTarget, rowsPerTarget).values()];
}

function sliceRows(x: tf.Tensor, begin: number, size: number): tf.Tensor {
  if (begin === 0 && size === x.shape[0]) return x;
  const b = new Array(x.rank).fill(0);
  b[0] = begin;
  const s = x.shape.slice();
  s[0] = size;
  return x.slice(b, s);
}
