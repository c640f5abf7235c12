import type * as tf from '@tensorflow/tfjs';
import type { IrGraph } from '../ir/ir.js';

/** Where a loaded model came from. */
export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'keras-v3' | 'keras-h5';

/** One model input: its name, shape without the batch dimension, and the value range actmax assumes. */
export interface InputInfo {
  name: string;
  shape: number[];
  /** Default box for this input: from the model's metadata if it has one, else [0, 1]. */
  range: [number, number];
  rangeSource: 'metadata' | 'default';
  /** For image inputs of a graph recorded channels-first ([C, H, W]): `nchw`; else `nhwc` (or absent). */
  layout?: 'nhwc' | 'nchw';
}

/** One model output. */
export interface OutputInfo {
  name: string;
  /** Shape without the batch dimension. */
  shape: number[];
  /** Number of values per example (product of `shape`). */
  units: number;
  /** Name of the layer (or graph node) that produces this output. */
  layer: string;
  /** A final softmax/sigmoid that `logit` objectives take off automatically; null when the output is already linear. */
  finalActivation: 'softmax' | 'sigmoid' | null;
  /** Class names when known (from the model's metadata). */
  classNames?: string[];
  /** When the output is computed by a dynamic op (non-max suppression, loops): that op. Only `predict` reads it (TF.js). */
  dynamic?: string;
}

/** One layer (or graph node) of the model. */
export interface LayerInfo {
  name: string;
  className: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  /** Values per example in the output. */
  units: number;
  /** The axis of `outputShape` that holds channels: 0 for a channels-first [C, H, W] output, else the last (absent: the last). */
  channelAxis?: number;
  /** The layer's activation, when it has one (`relu`, `softmax`, …). */
  activation?: string;
  /** Names of the layers feeding this one. */
  inbound: string[];
}

/**
 * A loaded model, whatever its file format: the TF.js model (the reference engine) plus what
 * actmax knows about it.
 *
 * @example
 * const model = await loadModel('models/fashion-mnist-mlp');
 * console.log(model.inputs[0].shape, model.outputs[0].classNames);
 */
export interface ActmaxModel {
  /** The path, URL or name it was loaded from. */
  readonly source: string;
  readonly format: ModelFormat;
  /** Keras version that wrote the file, when recorded. */
  readonly kerasVersion?: string;
  readonly inputs: InputInfo[];
  readonly outputs: OutputInfo[];
  readonly layers: LayerInfo[];
  /** The model's user-defined metadata (class names, test accuracy, input range …). */
  readonly metadata: Record<string, unknown>;
  /** Things a user should know about how the file was read (e.g. float64 weights computed as float32). */
  readonly notes: string[];
  /**
   * The network as actmax computes it (src/ir/ir.ts): every engine, `inspect`, objectives and the
   * exact encoder read it. Null when the model has a layer or op the IR cannot express
   * (`irReason` says which); such a model runs through its TF.js form.
   */
  readonly ir: IrGraph | null;
  /** Why `ir` is null (one line), e.g. `layer "lstm" (LSTM) is recurrent`. */
  readonly irReason?: string;
  /**
   * How rows of a batch are run: `free` (the file has a free batch), `rewritten` (a fixed batch of
   * 1 was rewritten so rows run together) or `per-row` (one row per call, on TF.js).
   */
  readonly batch: 'free' | 'rewritten' | 'per-row';
  /** The TF.js model (the reference; the engine of models without an IR; `predict` of dynamic outputs). */
  readonly net: tf.LayersModel | tf.GraphModel;
  /** Free the model's weights. */
  dispose(): void;
}

/**
 * What is known of a model without its weights (inputs, outputs, layers): enough to parse and check
 * objective specs and to label results — e.g. on a web page whose model lives in a worker. Every
 * {@link ActmaxModel} is one.
 */
export type ModelDescription = Pick<ActmaxModel, 'inputs' | 'outputs' | 'layers'>;

/**
 * What a format-specific loader returns: the TF.js model plus what the file said about itself.
 * `load.ts` turns it into an {@link ActmaxModel}.
 */
export interface LoadedNet {
  net: tf.LayersModel | tf.GraphModel;
  format: ModelFormat;
  kerasVersion?: string;
  /** User-defined metadata (class names, input range, …). */
  metadata: Record<string, unknown>;
  notes: string[];
  /** The IR, when the loader built it (graph models); layers models get theirs in `describeModel`. */
  ir?: IrGraph | null;
  irReason?: string;
  /** Shapes (per example) of outputs computed by dynamic ops, and the op, by output name (graph models). */
  dynamicOutputs?: Map<string, { shape: number[]; op: string }>;
  /** Per-example shapes of graph outputs, as a TF.js run found them (batch 1). */
  outputShapes?: Map<string, number[]>;
  /** Per-input layout (graph models recorded channels-first). */
  layouts?: Array<'nhwc' | 'nchw'>;
  /** Per-example input shapes the loader settled (graph models: free sizes chosen). */
  inputShapes?: number[][];
  /** A batch size above 1 that the graph file fixes: `describeModel` refuses such a model. */
  fixedBatch?: number;
  batch?: ActmaxModel['batch'];
}

/**
 * Options of `loadModel` for models that leave something open.
 *
 * @example
 * const faces = await loadModel('test/fixtures/tfjs-graph-realworld/faceboxes', { inputShape: [256, 256] });
 * faces.inputs[0].shape // [256, 256, 3]
 */
export interface LoadOptions {
  /** Size of an image input whose file leaves it free (`[-1, -1, -1, 3]`): [H, W] or [H, W, C]. Default 128×128. */
  inputShape?: number[];
  /** Layout of 4-D graph inputs: detected from the shape (`[1, 3, 416, 416]` is `nchw`) unless given. */
  layout?: 'nchw' | 'nhwc';
}
