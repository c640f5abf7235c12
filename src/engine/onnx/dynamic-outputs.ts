import * as tf from '@tensorflow/tfjs';
import type { IrGraph } from '../../ir/ir.js';
import { graphOutputsAsync } from '../../model/tfjs-forward.js';
import type { ActmaxModel } from '../../model/types.js';

/*
 * Outputs computed by dynamic ops (non-max suppression, while loops) come after the
 * differentiable part of a graph model: the ONNX graphs leave them out, and an evaluation asks
 * TF.js's own graph executor for them, on the same model inputs. Objectives never read them.
 */

/** Which of the IR's outputs only TF.js computes. @example dynamicOutputs(ir) // [false, true, true, true] for faceboxes */
export function dynamicOutputs(ir: IrGraph): boolean[] {
  return ir.outputs.map((o) => ir.dynamic.has(o.value));
}

/**
 * The dynamic outputs (flat, rows × units; undefined for the others) at the given model inputs
 * (model order, flat rows × features each).
 *
 * @example
 * const outs = await dynamicOutputValues(model, [false, true], [x], rows);
 */
export async function dynamicOutputValues(model: ActmaxModel, which: boolean[], inputs: Float32Array[], rows: number): Promise<Array<Float32Array | undefined>> {
  const xs = inputs.map((x, i) => tf.tensor(x, [rows, ...model.inputs[i].shape]));
  try {
    const outs = await graphOutputsAsync(model, xs, which);
    const flat = outs.map((o) => (o ? Float32Array.from(o.dataSync()) : undefined));
    tf.dispose(outs.filter((o): o is tf.Tensor => o !== undefined));
    return flat;
  } finally {
    tf.dispose(xs);
  }
}
