/**
 * How the CLI loads a model: the TF.js backend, and the options for models that leave something
 * open (`--input-shape` for a free image size, `--layout` for 4-D graph inputs).
 */
import { Option } from 'commander';
import type { BackendName } from '../backend.js';
import { ActmaxError } from '../errors.js';
import type { ActmaxModel, LoadOptions } from '../model/types.js';

/** The flags every model-reading command takes. */
export interface ModelFlags {
  backend: BackendName;
  inputShape?: string;
  layout?: 'nchw' | 'nhwc';
}

/** `--input-shape` (a free image size). @example program.command('inspect').addOption(inputShapeOption()) */
export function inputShapeOption(): Option {
  return new Option('--input-shape <H,W[,C]>', 'size of an image input the model leaves free (default 128,128; `actmax inspect` says when it applies)');
}

/** `--layout` of 4-D graph inputs. @example program.command('inspect').addOption(layoutOption()) */
export function layoutOption(): Option {
  return new Option('--layout <layout>', 'layout of a 4-D graph input (default: detected from its shape, e.g. [1,3,416,416] is nchw)').choices(['nchw', 'nhwc']);
}

/** `--input-shape 224,224` → [224, 224]. @example parseInputShape('224,224,3') // [224, 224, 3] */
export function parseInputShape(s: string): number[] {
  const parts = s.split(',').map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new ActmaxError('bad-option', `--input-shape must be H,W or H,W,C with positive integers (e.g. 224,224), got "${s}"`);
  }
  return parts.map(Number);
}

function loadOptions(flags: ModelFlags): LoadOptions {
  return { ...(flags.inputShape ? { inputShape: parseInputShape(flags.inputShape) } : {}), ...(flags.layout ? { layout: flags.layout } : {}) };
}

/**
 * Start the backend, load the model, run `fn`, free the model.
 *
 * @example
 * await withModel('faceboxes', { backend: 'wasm', inputShape: '256,256' }, async (m) => console.log(m.inputs[0].shape));
 */
export async function withModel<T>(file: string, flags: ModelFlags, fn: (m: ActmaxModel) => Promise<T>): Promise<T> {
  const options = loadOptions(flags);
  // Loaded here, not at import: the CLI's --help and --version never load TF.js.
  const [{ useBackend }, { loadModel }] = await Promise.all([import('../backend.js'), import('../model/load.js')]);
  await useBackend(flags.backend);
  const model = await loadModel(file, options);
  try {
    return await fn(model);
  } finally {
    model.dispose();
  }
}
