/**
 * Turns a Keras model config as found in a file (Keras 3 `.keras`/`.h5`, Keras 2 `.h5`, TF.js
 * `model.json`) into the Keras 2 / tfjs-layers schema that `tf.models.modelFromJSON` builds, and
 * refuses anything actmax cannot build from standard layers. Pure data transformation: nothing
 * from the file is ever executed.
 */
import { ActmaxError } from '../../errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Dict = { [k: string]: Json };

/** What the normaliser needs to know and what it reports back. */
export interface NormaliseContext {
  /** File name for error messages. */
  file: string;
  /** Major Keras version that wrote the file (3 changes `hard_sigmoid`); 2 when unknown. */
  kerasMajor: number;
  /** Id of the allocation budget for {@link BudgetZeros} (see custom-layers.ts). */
  budgetId: number;
  /** Notes for the user, added to as quirks are met (deduplicated by the caller). */
  notes: string[];
}

/** The normalised model: a tfjs-layers topology plus per-layer facts the weight loaders need. */
export interface NormalisedModel {
  topology: Dict;
  /** Config layers in order: name and original class name (before any renaming). */
  layers: { name: string; className: string }[];
}

/** Layer classes actmax builds (tfjs-layers implements them, or custom-layers.ts does). */
const SUPPORTED_LAYERS = new Set([
  'InputLayer', 'Dense', 'Conv1D', 'Conv2D', 'Conv2DTranspose', 'DepthwiseConv2D', 'SeparableConv2D',
  'MaxPooling1D', 'MaxPooling2D', 'AveragePooling1D', 'AveragePooling2D',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
  'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Dropout', 'SpatialDropout1D', 'GaussianNoise',
  'GaussianDropout', 'AlphaDropout', 'BatchNormalization', 'LayerNormalization', 'Activation', 'ReLU',
  'LeakyReLU', 'ELU', 'PReLU', 'Softmax', 'ThresholdedReLU', 'Add', 'Subtract', 'Multiply', 'Average',
  'Maximum', 'Minimum', 'Concatenate', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'Rescaling',
  'Normalization', 'Embedding', 'SimpleRNN', 'GRU', 'LSTM', 'Masking',
]);

/** Keras activation names actmax computes (Keras spelling). */
const SUPPORTED_ACTIVATIONS = new Set([
  'linear', 'relu', 'relu6', 'sigmoid', 'hard_sigmoid', 'tanh', 'softmax', 'log_softmax', 'softplus',
  'softsign', 'elu', 'selu', 'gelu', 'swish', 'silu', 'mish', 'leaky_relu',
]);

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** Every initializer argument tfjs layers read: all get the budget-checked zeros initializer. */
const INITIALIZER_KEYS = [
  'kernel_initializer', 'bias_initializer', 'recurrent_initializer', 'depthwise_initializer',
  'pointwise_initializer', 'gamma_initializer', 'beta_initializer', 'moving_mean_initializer',
  'moving_variance_initializer', 'embeddings_initializer', 'alpha_initializer',
];

/** Keras-3-only keys and training-only options that tfjs-layers does not know or need. */
const DROPPED_KEYS = new Set(['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id']);

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(ctx: NormaliseContext, what: string): ActmaxError {
  return new ActmaxError('bad-model', `${ctx.file}: ${what}`);
}

/** Drops Keras 3 bookkeeping keys from every nested dict. */
function stripBookkeeping(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripBookkeeping);
  if (!isDict(v)) return v;
  const out: Dict = {};
  for (const [k, val] of Object.entries(v)) {
    if (!DROPPED_KEYS.has(k)) out[k] = stripBookkeeping(val);
  }
  return out;
}

/** A dtype as written (string or Keras 3 `DTypePolicy` object) → a tfjs dtype string. */
function normaliseDtype(dtype: Json | undefined, ctx: NormaliseContext): string | undefined {
  if (dtype === undefined || dtype === null) return undefined;
  let name: string | undefined;
  if (typeof dtype === 'string') name = dtype;
  else if (isDict(dtype) && isDict(dtype.config) && typeof dtype.config.name === 'string') name = dtype.config.name;
  if (name === undefined) return 'float32';
  if (name === 'float32' || name === 'int32' || name === 'bool') return name;
  if (name.startsWith('int') || name.startsWith('uint')) return 'int32';
  ctx.notes.push(`layers with dtype ${name} are computed in float32`);
  return 'float32';
}

function unsupportedLayer(ctx: NormaliseContext, name: string, className: string, registered: Json | undefined, why?: string): ActmaxError {
  const reg = typeof registered === 'string' && registered !== className ? ` (${registered})` : '';
  const extra = className === 'Lambda' ? ' (a Lambda layer holds Python code)' : '';
  const detail = why ? `: ${why}` : ' is not supported';
  return new ActmaxError(
    'unsupported-layer',
    `${ctx.file}: layer "${name}" of class ${className}${reg}${extra}${detail}; actmax never runs code from model files — rebuild it with standard Keras layers`,
  );
}

function normaliseActivation(value: Json | undefined, ctx: NormaliseContext, layer: string, className: string): Json | undefined {
  if (value === undefined || value === null) return value;
  let name: string | undefined;
  if (typeof value === 'string') name = value;
  else if (isDict(value) && typeof value.class_name === 'string' && value.registered_name == null) {
    // Keras 3 may serialise a built-in activation as {class_name: "function", config: "relu"}.
    if (typeof value.config === 'string') name = value.config;
    else if (SUPPORTED_ACTIVATIONS.has(value.class_name)) name = value.class_name;
  }
  if (name === undefined || !SUPPORTED_ACTIVATIONS.has(name)) {
    const shown = typeof value === 'string' ? value : JSON.stringify(isDict(value) ? (value.registered_name ?? value.class_name) : value);
    throw unsupportedLayer(ctx, layer, className, undefined, `its activation ${shown} is not supported (supported: ${[...SUPPORTED_ACTIVATIONS].join(', ')})`);
  }
  if (name === 'hard_sigmoid' && ctx.kerasMajor >= 3) return 'actmaxHardSigmoidV3';
  if (name === 'silu') return 'swish';
  return name;
}

function toShapeList(v: Json | undefined): Json[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/**
 * Normalises one layer's config in place (already stripped of bookkeeping keys).
 * Returns the class name tfjs should build.
 */
function normaliseLayerConfig(className: string, name: string, config: Dict, ctx: NormaliseContext, keepInputShape: boolean): string {
  const dtype = normaliseDtype(config.dtype, ctx);
  if (dtype === undefined) delete config.dtype;
  else config.dtype = dtype;

  // A batch shape only means something on the model's first layer; others carry stale copies.
  const batchShape = toShapeList(config.batch_input_shape) ?? toShapeList(config.batch_shape);
  delete config.batch_shape;
  delete config.batch_input_shape;
  delete config.input_shape;
  if (keepInputShape && batchShape) config.batch_input_shape = batchShape;

  for (const key of Object.keys(config)) {
    if (key.endsWith('_regularizer') || key.endsWith('_constraint')) config[key] = null;
  }
  if (className !== 'InputLayer') {
    for (const key of INITIALIZER_KEYS) {
      config[key] = { class_name: 'ActmaxBudgetZeros', config: { budget_id: ctx.budgetId } };
    }
  }
  for (const key of ['activation', 'recurrent_activation']) {
    if (key in config) config[key] = normaliseActivation(config[key], ctx, name, className) ?? null;
  }

  const refuse = (why: string): never => {
    throw unsupportedLayer(ctx, name, className, undefined, why);
  };
  switch (className) {
    case 'InputLayer':
      if (config.sparse === true) refuse('sparse inputs are not supported');
      delete config.ragged;
      delete config.optional;
      delete config.input_tensor;
      if (!config.batch_input_shape) throw bad(ctx, `input layer "${name}" has no shape`);
      return className;
    case 'BatchNormalization': {
      const axis = config.axis;
      if (Array.isArray(axis)) {
        if (axis.length !== 1) refuse(`BatchNormalization over several axes ${JSON.stringify(axis)} is not supported`);
        config.axis = axis[0];
      }
      if (config.renorm === true) refuse('batch renormalization is not supported');
      return className;
    }
    case 'LayerNormalization':
      if (config.rms_scaling === true) refuse('rms_scaling is not supported');
      return className;
    case 'LeakyReLU':
      if ('negative_slope' in config) {
        config.alpha = config.negative_slope;
        delete config.negative_slope;
      }
      return className;
    case 'SeparableConv2D':
      // tfjs refuses kernel_* fields on SeparableConv2D (it has depthwise_/pointwise_ ones).
      delete config.kernel_initializer;
      delete config.kernel_regularizer;
      delete config.kernel_constraint;
    // falls through
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv2DTranspose':
    case 'DepthwiseConv2D':
      if (config.groups !== undefined && config.groups !== null && config.groups !== 1) refuse(`grouped convolution (groups=${JSON.stringify(config.groups)}) is not supported`);
      delete config.groups;
      return className;
    case 'Dense':
      if (config.lora_rank !== undefined && config.lora_rank !== null) refuse('LoRA-adapted Dense layers are not supported');
      return className;
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
      if (config.keepdims === true) refuse('keepdims=True is not supported');
      delete config.keepdims;
      return className;
    case 'GRU':
      if (config.reset_after === true) refuse('GRU with reset_after=True (the Keras 2/3 default) is not supported by TF.js');
      return className;
    case 'Normalization':
      // Keras 2 (tf.keras) adds a `count` weight; Keras 3 does not.
      config.actmax_has_count = ctx.kerasMajor < 3;
      return className;
    default:
      return className;
  }
}

/** Keras 3 inbound node `{args, kwargs}` → Keras 2 `[[layer, node, tensor, {}], ...]`. */
function convertInboundNode(node: Json, ctx: NormaliseContext, layer: string, className: string): Json {
  if (Array.isArray(node)) return node; // already Keras 2 form
  if (!isDict(node)) throw bad(ctx, `layer "${layer}" has a malformed inbound node`);
  const tensors: Json[] = [];
  const collect = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (isDict(v)) {
      if (v.class_name === '__keras_tensor__' && isDict(v.config) && Array.isArray(v.config.keras_history)) {
        const [src, nodeIndex, tensorIndex] = v.config.keras_history;
        tensors.push([src, nodeIndex, tensorIndex, {}]);
      } else {
        throw unsupportedLayer(ctx, layer, className, undefined, 'it is called with non-tensor arguments');
      }
    } else if (v !== null) {
      throw unsupportedLayer(ctx, layer, className, undefined, `it is called with a constant argument ${JSON.stringify(v)}`);
    }
  };
  collect(node.args ?? []);
  if (isDict(node.kwargs)) {
    for (const [k, v] of Object.entries(node.kwargs)) {
      if (JSON.stringify(v).includes('__keras_tensor__')) {
        throw unsupportedLayer(ctx, layer, className, undefined, `it takes a tensor through keyword "${k}"`);
      }
    }
  }
  return tensors;
}

/** `["x",0,0]`, `[["x",0,0], ...]` or Keras 3's `{key: ["x",0,0]}` → `[["x",0,0], ...]`. */
function tensorList(v: Json | undefined): Json[] {
  if (isDict(v)) return Object.values(v).flatMap((t) => tensorList(t));
  if (!Array.isArray(v)) return [];
  if (v.length > 0 && typeof v[0] === 'string') return [v];
  return v;
}

function layerEntry(raw: Json, ctx: NormaliseContext, index: number): { className: string; name: string; registered: Json | undefined; module: Json | undefined; config: Dict; raw: Dict } {
  if (!isDict(raw) || typeof raw.class_name !== 'string') throw bad(ctx, `layer #${index} in the config has no class_name`);
  const config = isDict(raw.config) ? raw.config : {};
  const name = typeof config.name === 'string' ? config.name : typeof raw.name === 'string' ? raw.name : `#${index}`;
  return { className: raw.class_name, name, registered: raw.registered_name, module: raw.module, config, raw };
}

function checkSupported(e: ReturnType<typeof layerEntry>, ctx: NormaliseContext): void {
  if (MODEL_CLASSES.has(e.className)) {
    throw unsupportedLayer(ctx, e.name, e.className, e.registered, 'nested models are not supported; flatten the model into one Sequential or functional model');
  }
  const customModule = typeof e.module === 'string' && !e.module.startsWith('keras') && !e.module.startsWith('tf_keras');
  const customRegistered = typeof e.registered === 'string' && e.registered !== e.className && !e.registered.startsWith('keras');
  if (!SUPPORTED_LAYERS.has(e.className) || customModule || customRegistered) {
    throw unsupportedLayer(ctx, e.name, e.className, e.registered);
  }
}

/**
 * Normalises a whole model config (`{class_name, config}`) to the tfjs-layers schema.
 *
 * @example
 * const { topology } = normaliseModelConfig(JSON.parse(configJson), { file: 'm.keras', kerasMajor: 3, budgetId, notes: [] });
 * const model = await tf.models.modelFromJSON(topology);
 */
export function normaliseModelConfig(top: unknown, ctx: NormaliseContext): NormalisedModel {
  if (!isDict(top) || typeof top.class_name !== 'string') throw bad(ctx, 'the model config has no class_name');
  const modelClass = top.class_name;
  if (!MODEL_CLASSES.has(modelClass)) {
    throw new ActmaxError('unsupported-layer', `${ctx.file}: the model is of class ${modelClass}${typeof top.registered_name === 'string' ? ` (${top.registered_name})` : ''}, not a Sequential or functional model; actmax never runs code from model files — rebuild it with standard Keras layers`);
  }
  const rawConfig = top.config;
  // The oldest Sequential configs are a bare list of layers.
  const modelConfig: Dict = Array.isArray(rawConfig) ? { name: 'sequential', layers: rawConfig } : isDict(rawConfig) ? rawConfig : {};
  const rawLayers = modelConfig.layers;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) throw bad(ctx, 'the model config lists no layers');
  const modelName = typeof modelConfig.name === 'string' ? modelConfig.name : modelClass.toLowerCase();
  const entries = rawLayers.map((l, i) => layerEntry(l, ctx, i));
  entries.forEach((e) => checkSupported(e, ctx));
  const layersOut: Dict[] = [];
  const infos = entries.map((e) => ({ name: e.name, className: e.className }));

  if (modelClass === 'Sequential') {
    const hasInputLayer = entries[0].className === 'InputLayer';
    if (!hasInputLayer) {
      const first = entries[0].config;
      const declared = toShapeList(first.batch_input_shape) ?? toShapeList(first.batch_shape) ?? toShapeList(modelConfig.build_input_shape);
      if (!declared) throw bad(ctx, 'the Sequential model has no input shape (it was saved before being built)');
      first.batch_input_shape = declared;
    }
    entries.forEach((e, i) => {
      const config = stripBookkeeping(e.config) as Dict;
      config.name = e.name;
      const keep = i === 0;
      const cls = normaliseLayerConfig(e.className, e.name, config, ctx, keep);
      layersOut.push({ class_name: cls, config });
    });
    return { topology: { class_name: 'Sequential', config: { name: modelName, layers: layersOut } }, layers: infos };
  }

  for (const e of entries) {
    const config = stripBookkeeping(e.config) as Dict;
    config.name = e.name;
    const cls = normaliseLayerConfig(e.className, e.name, config, ctx, e.className === 'InputLayer');
    const inbound = Array.isArray(e.raw.inbound_nodes) ? e.raw.inbound_nodes : [];
    const nodes = inbound.map((n) => convertInboundNode(n, ctx, e.name, e.className));
    layersOut.push({ class_name: cls, name: e.name, config, inbound_nodes: nodes });
  }
  const inputs = tensorList(modelConfig.input_layers);
  const outputs = tensorList(modelConfig.output_layers);
  if (inputs.length === 0 || outputs.length === 0) throw bad(ctx, 'the functional model config names no input or output layers');
  checkGraphReferences(layersOut, inputs, outputs, ctx);
  return {
    topology: { class_name: 'Model', config: { name: modelName, layers: layersOut, input_layers: inputs, output_layers: outputs } },
    layers: infos,
  };
}

/**
 * A functional config's tensor references must point at layers and nodes that exist, without
 * cycles: TF.js's `fromConfig` defers a node whose source is not built yet and loops forever when
 * that source never comes (a damaged file hung the loader before this check).
 */
function checkGraphReferences(layers: Dict[], inputs: Json[], outputs: Json[], ctx: NormaliseContext): void {
  const nodeCount = new Map<string, number>();
  for (const l of layers) {
    const name = l.name as string;
    if (nodeCount.has(name)) throw bad(ctx, `two layers are named "${name}"`);
    // An InputLayer has its one node from construction; other layers one per call.
    nodeCount.set(name, l.class_name === 'InputLayer' ? 1 : (l.inbound_nodes as Json[]).length);
  }
  const check = (ref: Json, where: string): string => {
    const [src, nodeIndex, tensorIndex] = Array.isArray(ref) ? ref : [];
    if (typeof src !== 'string' || !nodeCount.has(src)) {
      throw bad(ctx, `${where} refers to layer ${JSON.stringify(src)}, which is not in the model`);
    }
    const nodes = nodeCount.get(src)!;
    if (!Number.isInteger(nodeIndex) || (nodeIndex as number) < 0 || (nodeIndex as number) >= nodes) {
      throw bad(ctx, `${where} refers to call ${JSON.stringify(nodeIndex)} of layer "${src}", which ${nodes === 0 ? 'is never called (it has no inbound nodes)' : `is called ${nodes} time(s)`}`);
    }
    if (!Number.isInteger(tensorIndex) || (tensorIndex as number) < 0) {
      throw bad(ctx, `${where} refers to output ${JSON.stringify(tensorIndex)} of layer "${src}"; expected an index ≥ 0`);
    }
    return src;
  };
  const deps = new Map<string, Set<string>>();
  for (const l of layers) {
    const name = l.name as string;
    const set = new Set<string>();
    for (const node of l.inbound_nodes as Json[]) {
      if (!Array.isArray(node)) throw bad(ctx, `layer "${name}" has a malformed inbound node`);
      for (const ref of node) set.add(check(ref, `layer "${name}"`));
    }
    deps.set(name, set);
  }
  inputs.forEach((r) => check(r, 'input_layers'));
  outputs.forEach((r) => check(r, 'output_layers'));
  // Depth-first search for a cycle.
  const state = new Map<string, 1 | 2>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 2) return;
    if (state.get(name) === 1) throw bad(ctx, `the layers form a cycle (${[...path.slice(path.indexOf(name)), name].join(' → ')})`);
    state.set(name, 1);
    for (const d of deps.get(name)!) visit(d, [...path, name]);
    state.set(name, 2);
  };
  for (const name of deps.keys()) visit(name, []);
}

/** Keras's own class → weight-group name rule. @example kerasSnakeCase('BatchNormalization'); // 'batch_normalization' */
export function kerasSnakeCase(className: string): string {
  let s = className.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2');
  return s.toLowerCase();
}
