/**
 * Test helper: writes small Keras model files in the real layouts, from known weights —
 * `.keras` zips (config.json, metadata.json, model.weights.h5 with `layers/<class>[_n]/vars/<i>`)
 * and legacy `.h5` files (root `model_config`, `/model_weights/<layer>` with `weight_names`).
 * HDF5 is written with h5wasm in its in-memory file system.
 */
import h5wasm from 'h5wasm';
import type { Group } from 'h5wasm';
import { zipSync, strToU8 } from 'fflate';

export interface Var {
  shape: number[];
  data: number[] | Float32Array | Float64Array;
}

let counter = 0;

async function writeH5(build: (f: InstanceType<typeof h5wasm.File>) => void): Promise<Uint8Array> {
  const m = await h5wasm.ready;
  const path = `/write-keras-${counter++}.h5`;
  const f = new h5wasm.File(path, 'w');
  build(f);
  f.close();
  const bytes = m.FS!.readFile(path) as Uint8Array;
  m.FS!.unlink(path);
  return new Uint8Array(bytes);
}

function groupAt(root: Group, path: string): Group {
  let g = root;
  for (const part of path.split('/').filter(Boolean)) {
    g = g.keys().includes(part) ? (g.get(part) as Group) : g.create_group(part);
  }
  return g;
}

function typed(v: Var, float64: boolean): Float32Array | Float64Array {
  if (v.data instanceof Float32Array || v.data instanceof Float64Array) return v.data;
  return float64 ? Float64Array.from(v.data) : Float32Array.from(v.data);
}

/** One weight group of a `.keras` file: `layers/<key>`, its variables in order, optional `name` attr. */
export interface KerasV3Group {
  key: string;
  name?: string;
  vars: Var[];
}

/**
 * Writes a `.keras` zip.
 *
 * @example
 * const bytes = await writeKerasV3(config, [{ key: 'dense', name: 'fc', vars: [kernel, bias] }]);
 */
export async function writeKerasV3(
  config: unknown,
  groups: KerasV3Group[],
  opts: { kerasVersion?: string; float64?: boolean; extraEntries?: Record<string, Uint8Array> } = {},
): Promise<Uint8Array> {
  const weights = await writeH5((f) => {
    const layers = groupAt(f as unknown as Group, 'layers');
    for (const g of groups) {
      const vars = groupAt(layers, `${g.key}/vars`);
      if (g.name !== undefined) vars.create_attribute('name', g.name);
      g.vars.forEach((v, i) => vars.create_dataset({ name: String(i), data: typed(v, !!opts.float64), shape: v.shape }));
    }
    groupAt(f as unknown as Group, 'optimizer/vars');
    groupAt(f as unknown as Group, 'vars');
  });
  return zipSync(
    {
      'metadata.json': strToU8(JSON.stringify({ keras_version: opts.kerasVersion ?? '3.10.0', date_saved: '2025-01-01@00:00:00' })),
      'config.json': strToU8(JSON.stringify(config)),
      'model.weights.h5': weights,
      ...(opts.extraEntries ?? {}),
    },
    { level: 0 },
  );
}

/** One layer's weights in a legacy h5: names as listed in `weight_names`, in the listed order. */
export interface LegacyLayerWeights {
  layer: string;
  weights: { name: string; var: Var }[];
}

/**
 * Writes a legacy full-model `.h5`.
 *
 * @example
 * const bytes = await writeLegacyH5(config, [{ layer: 'fc', weights: [{ name: 'fc/kernel:0', var: k }] }], '2.15.0');
 */
export async function writeLegacyH5(config: unknown, layers: LegacyLayerWeights[], kerasVersion = '2.15.0', layerNames?: string[]): Promise<Uint8Array> {
  return writeH5((f) => {
    f.create_attribute('keras_version', kerasVersion);
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('model_config', JSON.stringify(config));
    const mw = groupAt(f as unknown as Group, 'model_weights');
    mw.create_attribute('layer_names', layerNames ?? layers.map((l) => l.layer));
    for (const l of layers) {
      const g = groupAt(mw, l.layer);
      if (l.weights.length) g.create_attribute('weight_names', l.weights.map((w) => w.name));
      for (const w of l.weights) {
        const parts = w.name.split('/');
        const parent = groupAt(g, parts.slice(0, -1).join('/'));
        parent.create_dataset({ name: parts[parts.length - 1], data: typed(w.var, false), shape: w.var.shape });
      }
    }
  });
}

/** A Keras 3 style layer entry (module, registered_name, DTypePolicy dtype, build_config). */
export function k3Layer(className: string, name: string, config: Record<string, unknown>, inbound?: string[]): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    module: 'keras.layers',
    class_name: className,
    config: {
      name,
      trainable: true,
      dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
      ...config,
    },
    registered_name: null,
    build_config: { input_shape: [null, 1] },
  };
  if (className === 'InputLayer') {
    entry.config = { batch_shape: config.batch_shape, dtype: 'float32', sparse: false, ragged: false, name };
    delete entry.build_config;
  }
  if (inbound) {
    const tensors = inbound.map((src) => ({
      class_name: '__keras_tensor__',
      config: { shape: [null, 1], dtype: 'float32', keras_history: [src, 0, 0] },
    }));
    entry.name = name;
    entry.inbound_nodes = [{ args: tensors.length === 1 ? tensors : [tensors], kwargs: {} }];
  }
  return entry;
}

/** A Keras 3 functional model config. */
export function k3Functional(name: string, layers: Record<string, unknown>[], inputs: string[], outputs: string[]): Record<string, unknown> {
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name,
      trainable: true,
      layers,
      input_layers: inputs.map((n) => [n, 0, 0]),
      output_layers: outputs.map((n) => [n, 0, 0]),
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
}

/** A Keras 3 Sequential config (InputLayer first). */
export function k3Sequential(name: string, layers: Record<string, unknown>[]): Record<string, unknown> {
  return { module: 'keras', class_name: 'Sequential', config: { name, trainable: true, layers }, registered_name: null };
}
