/**
 * Which axis of a value holds its channels. The IR computes images NHWC (see ir.ts), but a
 * channels-first network (a Keras layer with `data_format: channels_first`, a graph recorded NCHW)
 * keeps explicit Transposes, so the values between them are [C, H, W]: objectives (`channel:L:K`),
 * the diversity Gram and `inspect` read channels from the axis found here, not the last one.
 *
 * The axis is followed through the graph: inputs start from their layout, windowed ops (conv,
 * pooling, resize) and MatMul make channels-last values, a Transpose moves the axis, reductions
 * drop axes, and every other op keeps its first activation input's axis.
 */
import type { IrGraph, IrNode } from './ir.js';

/** Ops whose output is channels-last by the IR's convention, whatever their input. */
const CHANNELS_LAST_OPS = new Set(['Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose', 'MaxPool', 'AvgPool', 'Resize', 'MatMul']);

const cache = new WeakMap<IrGraph, Map<string, Map<string, number>>>();

/**
 * The channel axis (per example, no batch) of `value`: 0 for a [C, H, W] value, else the last axis.
 * `inputLayouts[i]` is input i's layout (`nchw` for a channels-first image).
 *
 * @example
 * channelAxis(ir, 'conv/to_nchw', ['nchw']) // 0 for a Keras channels_first conv's output
 */
export function channelAxis(ir: IrGraph, value: string, inputLayouts: ReadonlyArray<string | undefined> = []): number {
  const byLayouts = cache.get(ir) ?? new Map<string, Map<string, number>>();
  cache.set(ir, byLayouts);
  const key = ir.inputs.map((_, i) => inputLayouts[i] ?? 'nhwc').join(',');
  let axes = byLayouts.get(key);
  if (!axes) byLayouts.set(key, (axes = followAxes(ir, inputLayouts)));
  const shape = ir.shapes.get(value) ?? [];
  return axes.get(value) ?? Math.max(0, shape.length - 1);
}

function inputAxis(shape: number[], layout: string | undefined): number {
  return layout === 'nchw' && shape.length === 3 ? 0 : Math.max(0, shape.length - 1);
}

/** The channel axis of every input and node value, in topological order. */
function followAxes(ir: IrGraph, inputLayouts: ReadonlyArray<string | undefined>): Map<string, number> {
  const axes = new Map<string, number>();
  ir.inputs.forEach((inp, i) => axes.set(inp.name, inputAxis(ir.shapes.get(inp.name)!, inputLayouts[i])));
  for (const n of ir.nodes) {
    const rank = ir.shapes.get(n.name)?.length ?? 0;
    const axis = nodeAxis(ir, n, axes, rank);
    axes.set(n.name, axis >= 0 && axis < rank ? axis : Math.max(0, rank - 1));
  }
  return axes;
}

/** A node's output channel axis from its input's (−1: channels-last). */
function nodeAxis(ir: IrGraph, n: IrNode, axes: Map<string, number>, rank: number): number {
  if (CHANNELS_LAST_OPS.has(n.op)) return -1;
  const x = n.inputs.find((i) => axes.has(i) && (ir.shapes.get(i)?.length ?? 0) === rank) ?? n.inputs.find((i) => axes.has(i));
  if (x === undefined) return -1;
  const inAxis = axes.get(x)!;
  const inShape = ir.shapes.get(x)!;
  switch (n.op) {
    case 'Transpose':
      // perm counts the batch axis: output axis j is input axis perm[j].
      return n.perm.indexOf(inAxis + 1) - 1;
    case 'Mean':
    case 'Sum':
    case 'Max':
    case 'Min': {
      const dropped = n.axes.map((a) => (a < 0 ? a + inShape.length + 1 : a) - 1);
      if (dropped.includes(inAxis)) return -1;
      return n.keepDims ? inAxis : inAxis - dropped.filter((a) => a < inAxis).length;
    }
    case 'Reshape': {
      // Channels-first stays so while the leading (channel) dimension is kept.
      const out = ir.shapes.get(n.name)!;
      return inAxis === 0 && inShape.length > 1 && out.length > 1 && out[0] === inShape[0] ? 0 : -1;
    }
    default:
      return (ir.shapes.get(x)?.length ?? 0) === rank ? inAxis : -1;
  }
}
