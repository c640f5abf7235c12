/**
 * Small TF.js layer / activation / initializer classes for Keras features that tfjs-layers lacks
 * (Subtract, Normalization, ReLU with slope/threshold, ELU with any alpha, Flatten of rank-2
 * inputs, Keras 3's hard_sigmoid, `silu`), plus an initializer that refuses to allocate more than
 * a per-load budget of floats.
 *
 * They are registered once with `tf.serialization.registerClass` under their Keras class names
 * (Flatten, ReLU and ELU replace tfjs's own classes, of which they are supersets), so a normalised
 * Keras config deserialises through the ordinary tfjs-layers path and a model saved back to TF.js
 * format keeps standard class names. None of them runs code from a file.
 */
import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../../errors.js';

type Kwargs = Record<string, unknown>;
type Shape = tf.Shape;

function oneTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/** Keras `Subtract`: the first input minus the second (same shapes). */
export class Subtract extends tf.layers.Layer {
  static className = 'Subtract';
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw new Error(`Subtract needs exactly 2 inputs`);
      }
      return tf.sub(inputs[0], inputs[1]);
    });
  }
}

/**
 * Keras `Normalization` (inference): `(x - mean) / max(sqrt(variance), 1e-7)`; mean/variance from
 * the config when given there, else from the layer's weights (`mean`, `variance`, and Keras 2's
 * unused `count`).
 */
export class Normalization extends tf.layers.Layer {
  static className = 'Normalization';
  private readonly axis: number[];
  private readonly invert: boolean;
  private readonly hasCount: boolean;
  private readonly configMean: number | number[] | null;
  private readonly configVariance: number | number[] | null;
  private meanW: tf.LayerVariable | null = null;
  private varianceW: tf.LayerVariable | null = null;
  private broadcastShape: number[] = [];

  constructor(args: Kwargs) {
    super(args as object);
    const axis = args.axis === undefined ? -1 : args.axis;
    this.axis = axis == null ? [] : Array.isArray(axis) ? (axis as number[]) : [axis as number];
    this.invert = Boolean(args.invert);
    this.hasCount = Boolean(args.actmaxHasCount);
    this.configMean = (args.mean as number | number[] | null | undefined) ?? null;
    this.configVariance = (args.variance as number | number[] | null | undefined) ?? null;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const rank = shape.length;
    const keep = this.axis.map((a) => (a < 0 ? a + rank : a));
    this.broadcastShape = shape.map((d, i) => (keep.includes(i) ? (d as number) : 1));
    const weightShape = keep.map((i) => shape[i] as number);
    if (this.configMean == null) {
      const zeros = tf.initializers.zeros();
      this.meanW = this.addWeight('mean', weightShape, 'float32', zeros, undefined, false);
      this.varianceW = this.addWeight('variance', weightShape, 'float32', tf.initializers.ones(), undefined, false);
      if (this.hasCount) this.addWeight('count', [], 'float32', zeros, undefined, false);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs).toFloat();
      const mean = this.meanW ? this.meanW.read() : tf.tensor(this.configMean as number | number[]);
      const variance = this.varianceW ? this.varianceW.read() : tf.tensor(this.configVariance as number | number[]);
      const m = mean.size === 1 ? mean.reshape([]) : mean.reshape(this.broadcastShape);
      const v = variance.size === 1 ? variance.reshape([]) : variance.reshape(this.broadcastShape);
      if (this.invert) return tf.add(m, tf.mul(x, tf.sqrt(v)));
      return tf.div(tf.sub(x, m), tf.maximum(tf.sqrt(v), 1e-7));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: this.axis,
      invert: this.invert,
      mean: this.configMean,
      variance: this.configVariance,
    } as tf.serialization.ConfigDict;
  }
}

/**
 * Keras `ReLU` with all its options: `x ≥ threshold ? x : negative_slope·(x − threshold)`, capped
 * at `max_value` (tfjs's ReLU only has `maxValue`).
 */
export class ActmaxReLU extends tf.layers.Layer {
  static className = 'ReLU'; // replaces tfjs's ReLU (a superset of it)
  private readonly maxValue: number | null;
  private readonly negativeSlope: number;
  private readonly threshold: number;
  constructor(args: Kwargs) {
    super(args as object);
    this.maxValue = (args.maxValue as number | null | undefined) ?? null;
    this.negativeSlope = (args.negativeSlope as number | undefined) ?? 0;
    this.threshold = (args.threshold as number | undefined) ?? 0;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const t = this.threshold;
      let y =
        this.negativeSlope === 0 && t === 0
          ? tf.relu(x)
          : tf.where(tf.greaterEqual(x, t), x, tf.mul(tf.sub(x, t), this.negativeSlope));
      if (this.maxValue != null) y = tf.minimum(y, this.maxValue);
      return y;
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      maxValue: this.maxValue,
      negativeSlope: this.negativeSlope,
      threshold: this.threshold,
    };
  }
}

/**
 * Keras `Flatten`, which (unlike tfjs's) also accepts rank-2 inputs, where it is the identity.
 * With `channels_first` it moves channels last first, as Keras does.
 */
export class ActmaxFlatten extends tf.layers.Layer {
  static className = 'Flatten'; // replaces tfjs's Flatten (a superset of it)
  private readonly channelsFirst: boolean;
  constructor(args: Kwargs) {
    super(args as object);
    this.channelsFirst = args.dataFormat === 'channelsFirst';
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const rest = shape.slice(1);
    return [shape[0], rest.some((d) => d == null) ? null : rest.reduce<number>((a, b) => a * (b as number), 1)];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = oneTensor(inputs);
      if (this.channelsFirst && x.rank > 2) {
        x = tf.transpose(x, [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1]);
      }
      return tf.reshape(x, [x.shape[0], -1]);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dataFormat: this.channelsFirst ? 'channelsFirst' : 'channelsLast' };
  }
}

/** Keras `ELU` layer with any `alpha` (tfjs's only supports alpha = 1). */
export class ActmaxELU extends tf.layers.Layer {
  static className = 'ELU'; // replaces tfjs's ELU (a superset of it)
  private readonly alpha: number;
  constructor(args: Kwargs) {
    super(args as object);
    this.alpha = (args.alpha as number | undefined) ?? 1;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      return tf.where(tf.greater(x, 0), x, tf.mul(tf.elu(x), this.alpha));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** Base of the activation classes below (tfjs's `Activation` base class is not exported). */
abstract class ActivationFn extends tf.serialization.Serializable {
  abstract apply(x: tf.Tensor): tf.Tensor;
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

/** Keras 3 `hard_sigmoid`: relu6(x + 3) / 6 (Keras 2 and tfjs use clip(0.2x + 0.5, 0, 1)). */
export class HardSigmoidKeras3 extends ActivationFn {
  static className = 'actmaxHardSigmoidV3';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}

/** Keras `silu` (= `swish`): x · sigmoid(x). */
export class Silu extends ActivationFn {
  static className = 'silu';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
  }
}

/** Keras 3 `leaky_relu` activation string (slope 0.2, its default). */
export class LeakyReluActivation extends ActivationFn {
  static className = 'leakyRelu';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.leakyRelu(x, 0.2);
  }
}

/** How many floats one load may still allocate for weights; keyed by a per-load id. */
const budgets = new Map<number, { left: number; file: string }>();
let nextBudgetId = 1;

/**
 * Opens an allocation budget for one model build; weights are created through
 * {@link BudgetZeros}, which throws once the model would need more than `maxFloats` floats.
 *
 * @example
 * const id = openWeightBudget(2 ** 28, 'model.h5');
 * try { build(config(id)); } finally { closeWeightBudget(id); }
 */
export function openWeightBudget(maxFloats: number, file: string): number {
  const id = nextBudgetId++;
  budgets.set(id, { left: maxFloats, file });
  return id;
}

/** Closes a budget opened by {@link openWeightBudget}. @example closeWeightBudget(id) */
export function closeWeightBudget(id: number): void {
  budgets.delete(id);
}

/**
 * Zeros initializer that counts what it allocates against a load's budget, so a config naming
 * absurd shapes fails with a clear error instead of exhausting memory. The real values are set
 * from the weight file afterwards.
 */
export class BudgetZeros extends tf.serialization.Serializable {
  static className = 'ActmaxBudgetZeros';
  private readonly budgetId: number;
  constructor(args: { budgetId?: number } = {}) {
    super();
    this.budgetId = args.budgetId ?? 0;
  }
  apply(shape: Shape, dtype?: tf.DataType): tf.Tensor {
    const size = shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const budget = budgets.get(this.budgetId);
    if (budget) {
      if (!Number.isFinite(size) || size > budget.left) {
        throw new ActmaxError(
          'bad-model',
          `${budget.file}: the config asks for a weight of shape [${shape.join(', ')}], which takes the model past ${2 ** 28} floats (1 GiB); refusing to allocate it`,
        );
      }
      budget.left -= size;
    }
    return tf.zeros(shape.map((d) => d ?? 1), dtype ?? 'float32');
  }
  getConfig(): tf.serialization.ConfigDict {
    return { budgetId: this.budgetId };
  }
}

let registered = false;

/**
 * Registers the classes above with TF.js (idempotent).
 *
 * @example
 * registerCustomLayers();
 * const model = await tf.models.modelFromJSON(normalisedConfig);
 */
export function registerCustomLayers(): void {
  if (registered) return;
  registered = true;
  for (const cls of [Subtract, Normalization, ActmaxFlatten, ActmaxELU, ActmaxReLU, HardSigmoidKeras3, Silu, LeakyReluActivation, BudgetZeros]) {
    tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  }
}
