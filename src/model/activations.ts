import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel } from './types.js';
import type { IrGraph } from '../ir/ir.js';
import { IrProgram } from '../ir/tfjs-exec.js';
import { resolveValue } from '../ir/values.js';
import { channelAxis } from '../ir/channels.js';
import { buildTfjsForward, graphOutputsAsync } from './tfjs-forward.js';

/** A value inside the model an objective reads: a layer's output, or its pre-activation (`pre`). */
export interface Tap {
  layer: string;
  pre: boolean;
}

/** Stable key of a tap. @example tapKey({ layer: 'dense_1', pre: true }) // 'dense_1:pre' */
export function tapKey(t: Tap): string {
  return t.pre ? `${t.layer}:pre` : t.layer;
}

/**
 * One differentiable forward program: model inputs → the model's outputs and the taps the
 * objectives need, in a single pass. Build it once per maximisation.
 */
export interface Forward {
  readonly taps: Tap[];
  /** Shape (no batch) of each tap. */
  readonly tapShapes: number[][];
  /**
   * Run on batch-first inputs (one per model input). Call inside tf.tidy / tf.grad. Outputs
   * computed by dynamic ops (`OutputInfo.dynamic`) are undefined here: see `outputsAsync`.
   */
  run(inputs: tf.Tensor[]): { outputs: Array<tf.Tensor | undefined>; taps: tf.Tensor[] };
  /** Every output, dynamic ones included (TF.js, one row per call for those); not differentiable; the caller disposes them. */
  outputsAsync(inputs: tf.Tensor[]): Promise<tf.Tensor[]>;
  dispose(): void;
}

function layerNames(model: ActmaxModel): string {
  const names = model.layers.map((l) => l.name);
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length} in all; see \`actmax inspect\`)` : names.join(', ');
}

/** The IR value a tap reads, or a one-line error: unknown name, or a value made by a dynamic op. */
function irTapValue(model: ActmaxModel, ir: IrGraph, t: Tap): { value: string; shape: number[] } {
  const r = resolveValue(ir, t.layer, t.pre);
  if (r.kind === 'value') return r;
  if (r.kind === 'dynamic') {
    throw new ActmaxError('unsupported', `"${t.layer}" is computed by the dynamic op ${r.op} (after the differentiable part of the graph); objectives can read the nodes before it, listed by \`actmax inspect\``);
  }
  throw new ActmaxError('unknown-layer', `layer "${t.layer}" does not exist; layers are: ${layerNames(model)}`);
}

/**
 * Shape (per example) of the value a tap reads; throws a one-line error for names that do not
 * exist or that only a dynamic op computes.
 *
 * @example
 * tapShape(model, { layer: 'dense_1', pre: true }) // [10]
 */
export function tapShape(model: ActmaxModel, t: Tap): number[] {
  if (model.ir) return irTapValue(model, model.ir, t).shape;
  const info = model.layers.find((l) => l.name === t.layer);
  if (info) return info.outputShape;
  if (model.layers.length === 0) {
    // A graph model without an IR: its nodes' shapes are known only by running it.
    const fwd = buildForward(model, [t]);
    try {
      return fwd.tapShapes[0];
    } finally {
      fwd.dispose();
    }
  }
  throw new ActmaxError('unknown-layer', `layer "${t.layer}" does not exist; layers are: ${layerNames(model)}`);
}

/**
 * The axis of a tap's value (per example) that holds its channels: 0 for a channels-first
 * [C, H, W] value (a Keras `channels_first` layer, a node of a graph recorded NCHW), else the
 * last. Objectives (`channel:L:K`, per-channel directions) and the diversity Gram read channels here.
 *
 * @example
 * tapChannelAxis(model, { layer: 'conv2d_1', pre: false }) // 2 for a [26, 26, 8] output
 */
export function tapChannelAxis(model: ActmaxModel, t: Tap, shape?: number[]): number {
  if (model.ir) return channelAxis(model.ir, irTapValue(model, model.ir, t).value, model.inputs.map((i) => i.layout));
  const info = model.layers.find((l) => l.name === t.layer);
  return info?.channelAxis ?? Math.max(0, (shape ?? tapShape(model, t)).length - 1);
}

/**
 * Build the forward program for a set of taps: on the model's IR when it has one, else on its
 * TF.js form.
 *
 * @example
 * const fwd = buildForward(model, [{ layer: 'dense_1', pre: true }]);
 * const logits = tf.tidy(() => fwd.run([x]).taps[0]);
 */
export function buildForward(model: ActmaxModel, taps: Tap[]): Forward {
  const unique = dedupeTaps(taps);
  if (!model.ir) return buildTfjsForward(model, unique);
  const ir = model.ir;
  const tapValues = unique.map((t) => irTapValue(model, ir, t));
  const outValues = ir.outputs.map((o) => (ir.dynamic.has(o.value) ? null : o.value));
  const want = [...new Set([...outValues.filter((v): v is string => v !== null), ...tapValues.map((t) => t.value)])];
  const prog = new IrProgram(ir);
  const run = (inputs: tf.Tensor[]) => {
    const res = prog.run(inputs, want);
    const at = (v: string) => res[want.indexOf(v)];
    return { outputs: outValues.map((v) => (v === null ? undefined : at(v))), taps: tapValues.map((t) => at(t.value)) };
  };
  return {
    taps: unique,
    tapShapes: tapValues.map((t) => t.shape),
    run,
    async outputsAsync(inputs) {
      const own = tf.tidy(() => run(inputs).outputs.map((o) => (o ? tf.keep(o.clone()) : undefined)));
      if (own.every((o) => o !== undefined)) return own as tf.Tensor[];
      const dyn = await graphOutputsAsync(model, inputs, own.map((o) => o === undefined));
      return own.map((o, k) => o ?? dyn[k]!);
    },
    dispose: () => prog.dispose(),
  };
}

function dedupeTaps(taps: Tap[]): Tap[] {
  const seen = new Map<string, Tap>();
  for (const t of taps) if (!seen.has(tapKey(t))) seen.set(tapKey(t), t);
  return [...seen.values()];
}
