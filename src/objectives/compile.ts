import * as tf from '@tensorflow/tfjs';
import type { Tap } from '../model/activations.js';
import type { ActmaxModel } from '../model/types.js';
import type { ObjectiveSpec } from './spec.js';
import { batchTerms, type ShapeHints, type TermGroup } from './terms.js';

export { resolveOutput, resolveInputIndex, objectiveTaps, linearReadouts, batchTerms, type LinearReadout, type ShapeHints, type TermGroup, type BatchTerms } from './terms.js';

/** What an objective reads during one evaluation: the taps it declared, the model's outputs and inputs. */
export interface EvalContext {
  tap(t: Tap): tf.Tensor;
  /** The model's outputs; undefined for outputs only dynamic ops compute (no objective reads those). */
  outputs: Array<tf.Tensor | undefined>;
  inputs: tf.Tensor[];
}

/**
 * Objectives for a batch (TF.js): `targets[t]` is maximised on rows [t·rowsPerTarget, (t+1)·rowsPerTarget).
 * Every term group (see `batchTerms`) is evaluated once for the whole batch.
 */
export interface CompiledBatchObjective {
  taps: Tap[];
  rows: number;
  evaluate(ctx: EvalContext): tf.Tensor1D;
  dispose(): void;
}

/**
 * Compile one objective per target into one batched evaluation.
 *
 * @example
 * const obj = compileBatchObjective(model, [{ kind: 'logit', index: 3 }], 8); // 8 restarts of one target
 */
export function compileBatchObjective(model: ActmaxModel, targets: ObjectiveSpec[], rowsPerTarget: number, hints: ShapeHints = new Map()): CompiledBatchObjective {
  const terms = batchTerms(model, targets, rowsPerTarget, hints);
  const rows = terms.rows;
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (kept.push(tf.keep(t)), t);
  const linear = terms.linear.map((g) => ({ tap: g.tap, units: g.units, w: keep(tf.tensor2d(g.w, [rows, g.units])) }));
  const groups = terms.groups.map((g) => ({
    g,
    weight: keep(tf.tensor1d(g.weight)),
    onehot: 'onehot' in g ? keep(tf.tensor2d(g.onehot, [rows, g.units])) : null,
    value: g.kind === 'target' ? keep(tf.tensor1d(g.value)) : null,
  }));
  const taps = [...linear.map((g) => g.tap), ...terms.groups.flatMap((g) => ('tap' in g ? [g.tap] : []))];
  return {
    taps,
    rows,
    evaluate(ctx) {
      return tf.tidy(() => {
        let total: tf.Tensor = tf.zeros([rows]);
        for (const g of linear) total = total.add(ctx.tap(g.tap).reshape([rows, g.units]).mul(g.w).sum(1));
        for (const { g, weight, onehot, value } of groups) total = total.add(groupValue(g, ctx, onehot, value).mul(weight));
        return total as tf.Tensor1D;
      });
    },
    dispose() {
      tf.dispose(kept);
    },
  };
}

/** One group's unweighted value per row. */
function groupValue(g: TermGroup, ctx: EvalContext, onehot: tf.Tensor | null, value: tf.Tensor | null): tf.Tensor1D {
  switch (g.kind) {
    case 'margin': {
      const z = ctx.tap(g.tap).reshape([-1, g.units]);
      const own = z.mul(onehot!).sum(1);
      // Largest other unit: push the own unit far down before the max.
      return own.sub(z.sub(onehot!.mul(1e9)).max(1)) as tf.Tensor1D;
    }
    case 'prob':
      return ctx.outputs[g.output]!.reshape([-1, g.units]).mul(onehot!).sum(1) as tf.Tensor1D;
    case 'target':
      return ctx.outputs[g.output]!.reshape([-1, g.units]).mul(onehot!).sum(1).sub(value!).square().neg() as tf.Tensor1D;
    case 'energy': {
      const a = ctx.tap(g.tap);
      return a.reshape([a.shape[0], -1]).square().mean(1) as tf.Tensor1D;
    }
    case 'inputPenalty':
      return inputPenalty(g.penalty, ctx.inputs[g.input]);
  }
}

/** Mean |x|, mean x², or total variation (mean absolute difference of neighbours along every spatial axis). */
function inputPenalty(kind: 'inputL1' | 'inputL2' | 'totalVariation', x: tf.Tensor): tf.Tensor1D {
  const rows = x.shape[0];
  if (kind === 'inputL1') return x.abs().reshape([rows, -1]).mean(1) as tf.Tensor1D;
  if (kind === 'inputL2') return x.square().reshape([rows, -1]).mean(1) as tf.Tensor1D;
  // Spatial axes: all but batch and (when rank ≥ 4) the channel axis.
  const rank = x.rank;
  const spatial = rank >= 4 ? rank - 2 : rank - 1;
  let total: tf.Tensor = tf.zeros([rows]);
  for (let ax = 1; ax <= spatial; ax++) {
    const n = x.shape[ax];
    if (n < 2) continue;
    const begin = new Array(rank).fill(0);
    const size = x.shape.slice();
    size[ax] = n - 1;
    const b2 = begin.slice();
    b2[ax] = 1;
    total = total.add(x.slice(begin, size).sub(x.slice(b2, size)).abs().reshape([rows, -1]).mean(1));
  }
  return total as tf.Tensor1D;
}
