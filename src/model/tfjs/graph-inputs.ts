/**
 * The shapes a graph model's inputs run at: the batch the file fixes (usually free or 1; `loadModel`
 * refuses other sizes), free image sizes chosen (`--input-shape`, else 128×128), the layout of 4-D inputs
 * detected from the shape (`--layout` overrides).
 */
import type * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../../errors.js';
import type { LoadOptions } from '../types.js';

/** Default side of a free image size: big enough for the detectors and face models seen in the wild, small enough for fast steps. */
export const DEFAULT_IMAGE_SIDE = 128;

/** How one graph input runs. */
export interface GraphInputPlan {
  name: string;
  /** Shape with batch 1 and every free size chosen. */
  shape: number[];
  /** TF.js dtype of the placeholder (uint8 images are int32 in TF.js). */
  dtype: string;
  layout: 'nhwc' | 'nchw' | null;
  /** The batch size the file fixes (1 for most converted graphs), or null when it is free. */
  fixedBatch: number | null;
  /** A line for `inspect` when a size was chosen for the user. */
  note?: string;
}

const CHANNELS = new Set([1, 3, 4]);

function layoutOf(dims: number[], wanted: LoadOptions['layout']): 'nhwc' | 'nchw' | null {
  if (dims.length !== 4) return null;
  if (wanted) return wanted;
  return CHANNELS.has(dims[1]) && !CHANNELS.has(dims[3]) ? 'nchw' : 'nhwc';
}

/**
 * Settle every input's shape, or refuse with a line saying what to give.
 *
 * @example
 * planGraphInputs(net.inputs, 'model.json', { inputShape: [256, 256] })[0].shape // [1, 256, 256, 3]
 */
export function planGraphInputs(inputs: tf.ModelTensorInfo[], file: string, opts: LoadOptions = {}): GraphInputPlan[] {
  if (inputs.length === 0) throw new ActmaxError('bad-model', `${file}: the graph model has no inputs`);
  return inputs.map((t) => {
    if (!t.shape) throw new ActmaxError('unsupported', `${file}: graph input "${t.name}" has no known shape`);
    const dims = t.shape.map((d) => (d == null ? -1 : d));
    const batch = dims[0];
    const layout = layoutOf(dims, opts.layout);
    const shape = [batch > 1 ? batch : 1, ...dims.slice(1)];
    const spatial = layout === 'nchw' ? [2, 3] : layout === 'nhwc' ? [1, 2] : [];
    const channel = layout === 'nchw' ? 1 : layout === 'nhwc' ? 3 : -1;
    let note: string | undefined;
    if (opts.inputShape) {
      const [h, w, c] = opts.inputShape;
      if (!layout) throw new ActmaxError('bad-option', `--input-shape sets the size of an image input; input "${t.name}" has shape [${dims.join(', ')}]`);
      [[spatial[0], h], [spatial[1], w], [channel, c]].forEach(([axis, v]) => {
        if (v === undefined) return;
        if (dims[axis] >= 0 && dims[axis] !== v) throw new ActmaxError('bad-option', `--input-shape ${opts.inputShape!.join(',')}: input "${t.name}" has a fixed size (shape [${dims.join(', ')}]); only free (-1) sizes can be set`);
        shape[axis] = v;
      });
    }
    if (spatial.some((a) => shape[a] < 0)) {
      spatial.forEach((a) => shape[a] < 0 && (shape[a] = DEFAULT_IMAGE_SIDE));
      note = `input "${t.name}" leaves its image size free (shape [${dims.join(', ')}]); running it at ${shape[spatial[0]]}×${shape[spatial[1]]} (set another size with --input-shape H,W)`;
    }
    if (shape.some((d) => d < 0)) {
      throw new ActmaxError('unsupported', `${file}: graph input "${t.name}" has free sizes actmax cannot choose (shape [${dims.join(', ')}]); convert the model with a fixed input shape`);
    }
    return { name: t.name, shape, dtype: t.dtype ?? 'float32', layout, fixedBatch: batch >= 1 ? batch : null, ...(note ? { note } : {}) };
  });
}
