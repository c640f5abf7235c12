/**
 * The one description of a network that every part of actmax reads: the TF.js engine, the ONNX
 * compiler (forward pass + reverse-mode gradient), `inspect`, objectives (taps) and the exact
 * encoder. Every loader (Keras `.keras`/`.h5`, TF.js layers, TF.js graph models) produces it.
 *
 * Conventions
 * - **Batch is implicit.** Every activation value has a leading batch dimension that no op may
 *   mix: shapes in the IR are per example (no batch). Attributes that name axes count the batch
 *   axis as 0 (as TF and ONNX do), so they are always ≥ 1. Graph models recorded with a fixed
 *   batch of 1 are rewritten into this form on import (`IrGraph.batch` says whether that worked).
 * - **Layout is TF's**: images are NHWC; conv filters HWIO ([kh, kw, cin, cout]); depthwise
 *   filters [kh, kw, cin, multiplier]. Channels-first graphs keep their explicit Transposes.
 * - **Constants carry no batch dimension** and broadcast (numpy rules) against the batched value
 *   they meet: a constant of shape [C] meets [B, H, W, C]. Leading 1s left over from a
 *   recorded batch are stripped on import.
 * - **One output per node**; ops with several outputs (Split, Unpack) are lowered to several
 *   nodes (Slice) on import. A node's output value has the node's name.
 * - **Padding is explicit** (`pads` = [top, bottom, left, right] for 2-D windows), computed on
 *   import from TF's `same`/`valid`/explicit rules, so no consumer re-derives it.
 * - Nodes are in topological order.
 * - **Batch semantics are per example**: the IR computes, for every row, what the source graph
 *   computes for a batch of one. A graph recorded with batch 1 whose ops reshape across the batch
 *   (`Reshape [-1, 16]`) is imported with that axis kept as a per-example axis.
 *
 * Changes after the first commit (ir branch; the ONNX compiler codes against these):
 * - ops added: `Mish`, `ThresholdedRelu {theta}`, `Pow` (binary), `Min` (reduction); `Elu` has an
 *   optional `alpha` (default 1).
 * - `IrLayer.activation`: the activation's name for `inspect` (`relu`, `softmax`, …), when any.
 * - `IrGraph.outputs` lists every model output, also those computed from dynamic ops: such an
 *   output's `value` is a key of `dynamic` (not of `shapes`); only TF.js computes it.
 * - Helpers (src/ir/values.ts): `producer`, `preValue` (the input of an activation node),
 *   `resolveValue` (layer name, node name or input name → value), `finalActivation`.
 * - Graph models: IR node names are the graph's node names (a fused op's earlier parts are named
 *   `NODE/conv`, `NODE/bn_scale`, …; a node whose value needed a reshape to its per-example shape
 *   ends in `NODE/fit` and an Identity named `NODE`). `IrNode.layer` is the Keras layer name the
 *   converter's scope gives (`conv2d_1`), else the node's own name.
 * - Inputs are real-valued even when the source placeholder is an integer image (uint8): the IR
 *   treats the graph's Cast of it as Identity.
 * - `batch`: `free` or `rewritten` for every IR the importers produce today (a graph recorded at
 *   batch 1 is translated per example); a model whose graph cannot be is run by TF.js instead,
 *   one row per call (`ActmaxModel.batch === 'per-row'`, `ir === null`).
 */

/** A constant tensor (weights, biases, per-channel scales, …). Float32 unless it is an index list. */
export interface IrConst {
  shape: number[];
  data: Float32Array;
}

/** One graph input: its name (as the model file calls it), per-example shape, element type. */
export interface IrInput {
  name: string;
  shape: number[];
}

/** One named graph output. `value` is the value that holds it (a node name or an input name). */
export interface IrOutput {
  name: string;
  value: string;
}

/** Padding of a 2-D window op: [top, bottom, left, right]. */
export type Pads2D = [number, number, number, number];

/**
 * The operations. Unary ops read `inputs[0]`; binary ops read `inputs[0]`, `inputs[1]` with numpy
 * broadcasting (either may be a constant); ops with weights read them as constant inputs
 * (`inputs[1]` = filter/matrix, optional `inputs[2]` = bias).
 */
export type IrOp =
  // --- elementwise, one input ---
  | { op: 'Identity' }
  | { op: 'Relu' }
  /** min(max(x, 0), 6). */
  | { op: 'Relu6' }
  /** x for x ≥ 0, alpha·x otherwise. */
  | { op: 'LeakyRelu'; alpha: number }
  /** Per-channel slope (a constant `inputs[1]`, broadcast like a binary op). */
  | { op: 'Prelu' }
  /** x for x > 0, alpha·(eˣ − 1) otherwise (alpha default 1). */
  | { op: 'Elu'; alpha?: number }
  | { op: 'Selu' }
  | { op: 'Sigmoid' }
  /** max(0, min(1, alpha·x + beta)) (Keras 2: alpha 0.2, beta 0.5; Keras 3: 1/6, 0.5). */
  | { op: 'HardSigmoid'; alpha: number; beta: number }
  | { op: 'Tanh' }
  | { op: 'Softplus' }
  | { op: 'Softsign' }
  /** x·σ(x) (also called SiLU). */
  | { op: 'Swish' }
  /** x·tanh(softplus(x)). */
  | { op: 'Mish' }
  /** x for x > theta, 0 otherwise. */
  | { op: 'ThresholdedRelu'; theta: number }
  /** x·relu6(x + 3)/6. */
  | { op: 'HardSwish' }
  /** Exact (erf) or tanh-approximated GELU. */
  | { op: 'Gelu'; approximate: boolean }
  | { op: 'Exp' }
  | { op: 'Log' }
  | { op: 'Sqrt' }
  | { op: 'Rsqrt' }
  | { op: 'Square' }
  | { op: 'Neg' }
  | { op: 'Abs' }
  | { op: 'Reciprocal' }
  /** min(max(x, min), max). */
  | { op: 'Clip'; min: number; max: number }
  // --- elementwise, two inputs, broadcasting ---
  | { op: 'Add' }
  | { op: 'Sub' }
  | { op: 'Mul' }
  | { op: 'Div' }
  | { op: 'Maximum' }
  | { op: 'Minimum' }
  /** (a − b)². */
  | { op: 'SquaredDifference' }
  /** a^b (b is usually a constant exponent). */
  | { op: 'Pow' }
  // --- linear algebra and windows ---
  /** x[..., K] · W[K, N] (+ bias[N]): `inputs[1]` is W, constant or a value; `inputs[2]` an optional bias. */
  | { op: 'MatMul'; transposeB?: boolean }
  /** NHWC convolution, filter HWIO (`inputs[1]`), optional bias [cout] (`inputs[2]`). `groups` > 1 splits channels. */
  | { op: 'Conv2D'; strides: [number, number]; dilations: [number, number]; pads: Pads2D; groups?: number }
  /** NHWC depthwise convolution, filter [kh, kw, cin, multiplier], optional bias [cin·multiplier]. */
  | { op: 'DepthwiseConv2D'; strides: [number, number]; dilations: [number, number]; pads: Pads2D }
  /** NHWC transposed convolution, filter [kh, kw, cout, cin] (TF's layout), output size given. */
  | { op: 'Conv2DTranspose'; strides: [number, number]; pads: Pads2D; outputSize: [number, number] }
  /** NHWC max pooling; padded positions never win. */
  | { op: 'MaxPool'; ksize: [number, number]; strides: [number, number]; pads: Pads2D }
  /** NHWC average pooling; padded positions are not counted (TF's rule). */
  | { op: 'AvgPool'; ksize: [number, number]; strides: [number, number]; pads: Pads2D }
  /** NHWC resize to `size` = [H, W]. */
  | { op: 'Resize'; size: [number, number]; method: 'bilinear' | 'nearest'; alignCorners: boolean; halfPixelCenters: boolean }
  // --- reductions and normalisation ---
  | { op: 'Mean'; axes: number[]; keepDims: boolean }
  | { op: 'Sum'; axes: number[]; keepDims: boolean }
  | { op: 'Max'; axes: number[]; keepDims: boolean }
  | { op: 'Min'; axes: number[]; keepDims: boolean }
  | { op: 'Softmax'; axis: number }
  | { op: 'LogSoftmax'; axis: number }
  // --- data movement ---
  /** To `shape` (per example, no −1). */
  | { op: 'Reshape'; shape: number[] }
  /** `perm` over all axes, batch included: perm[0] = 0. */
  | { op: 'Transpose'; perm: number[] }
  | { op: 'Concat'; axis: number }
  /** `pads` per non-batch axis as [before, after]; `value` may be ±Infinity (padding before max pooling). */
  | { op: 'Pad'; pads: Array<[number, number]>; mode: 'constant' | 'reflect' | 'symmetric'; value: number }
  /** Per non-batch axis: elements begin, begin+step, … < end (step ≥ 1). */
  | { op: 'Slice'; begin: number[]; end: number[]; steps: number[] }
  /** Repeat per non-batch axis. */
  | { op: 'Tile'; reps: number[] };

/** The op names. */
export type IrOpName = IrOp['op'];

/** One node: an op applied to values (node names, input names) and constants (const names). */
export type IrNode = IrOp & {
  /** Unique; also the name of the value it produces. */
  name: string;
  inputs: string[];
  /**
   * The layer this node belongs to, as a person names it: the Keras layer name, or a graph
   * node's scope with the converter's fused-op suffixes removed (`conv2d_1` for
   * `StatefulPartitionedCall/model/conv2d_1/BiasAdd`). Several nodes share a layer.
   */
  layer: string;
};

/**
 * A layer as objectives and `inspect` address it: its output value, and the value before its
 * activation when it has one (`neuron:LAYER:I:pre`, `logit`).
 */
export interface IrLayer {
  name: string;
  /** What the layer was in the source file (`Dense`, `Conv2D`, `_FusedConv2D`, `AddV2`, …). */
  kind: string;
  output: string;
  /** The value before the layer's activation (equals `output` for a linear layer). */
  pre: string;
  /** The activation the layer ends in (`relu`, `softmax`, …), when it has one; for `inspect`. */
  activation?: string;
}

/**
 * A network as actmax sees it.
 *
 * @example
 * const { ir } = await loadModel('models/fashion-mnist-mlp');
 * ir!.nodes.map((n) => n.op) // ['Reshape', 'MatMul', 'Relu', 'MatMul', 'Softmax']
 */
export interface IrGraph {
  inputs: IrInput[];
  outputs: IrOutput[];
  nodes: IrNode[];
  consts: Map<string, IrConst>;
  /** Per-example shape of every value (inputs and node outputs). */
  shapes: Map<string, number[]>;
  /** Layers in order, for taps and `inspect`. */
  layers: IrLayer[];
  /**
   * How the batch dimension is handled: `free` (the file had a free batch), `rewritten` (a fixed
   * batch of 1 was rewritten on import), or `per-row` (the graph mixes the batch; engines run one
   * row per call).
   */
  batch: 'free' | 'rewritten' | 'per-row';
  /**
   * Values that could not be brought into the IR (dynamic ops such as non-max suppression, and
   * everything computed from them), each with the op that makes it dynamic. Objectives on these
   * are refused with that reason; `predict` computes them with TF.js.
   */
  dynamic: Map<string, string>;
}

/** Elements per example of a shape. @example size([28, 28]) // 784 */
export function size(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
