import { ActmaxError } from '../errors.js';
import { formatObjective } from './format.js';
import type { ObjectiveSpec } from './spec.js';

/**
 * Check that `index` names one of `units` units; the error says the valid range.
 *
 * @example
 * checkIndex({ kind: 'logit', index: 12 }, 12, 10, 'output "dense_1"'); // throws: … has 10 units (0–9)
 */
export function checkIndex(spec: ObjectiveSpec, index: number, units: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= units) {
    throw new ActmaxError('index-out-of-range', `${formatObjective(spec)}: index ${index} is out of range; ${what} has ${units} units (0–${units - 1})`);
  }
}

/**
 * The flat index of a `neuron` objective's unit in its layer's output: a flat index as given, or
 * coordinates (e.g. row, column, channel) turned row-major.
 *
 * @example
 * flatNeuronIndex({ kind: 'neuron', layer: 'conv', index: [2, 3, 1] }, [6, 6, 4]) // 57
 */
export function flatNeuronIndex(spec: Extract<ObjectiveSpec, { kind: 'neuron' }>, shape: number[]): number {
  if (!Array.isArray(spec.index)) {
    checkIndex(spec, spec.index, shape.reduce((a, b) => a * b, 1), `layer "${spec.layer}"`);
    return spec.index;
  }
  if (spec.index.length !== shape.length) {
    throw new ActmaxError('bad-spec', `${formatObjective(spec)}: layer "${spec.layer}" has shape [${shape.join(', ')}]; give ${shape.length} coordinates or one flat index`);
  }
  let flat = 0;
  spec.index.forEach((c, d) => {
    if (!Number.isInteger(c) || c < 0 || c >= shape[d]) throw new ActmaxError('index-out-of-range', `${formatObjective(spec)}: coordinate ${d} is ${c}, but layer "${spec.layer}" has shape [${shape.join(', ')}]`);
    flat = flat * shape[d] + c;
  });
  return flat;
}

/**
 * The channels of a layer's output: how many there are, and the channel of each flat unit
 * (row-major), with channels on `axis` (0 for a channels-first [C, H, W] output, the last
 * otherwise; see `tapChannelAxis`).
 *
 * @example
 * channelLayout([4, 3, 2], 0).channels // 4; channelLayout([4, 3, 2], 0).channelOf(7) // 1
 */
export function channelLayout(shape: number[], axis: number = shape.length - 1): { channels: number; positions: number; channelOf(unit: number): number } {
  if (shape.length === 0) return { channels: 1, positions: 1, channelOf: () => 0 };
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const units = shape.reduce((a, b) => a * b, 1);
  return { channels, positions: channels > 0 ? units / channels : 0, channelOf: (unit) => Math.floor(unit / inner) % channels };
}

/**
 * The channel axis of a listed layer's output (`LayerInfo.channelAxis`, else the last axis).
 *
 * @example
 * layerChannelAxis({ outputShape: [4, 14, 12], channelAxis: 0 }) // 0
 */
export function layerChannelAxis(info: { outputShape: number[]; channelAxis?: number }): number {
  return info.channelAxis ?? Math.max(0, info.outputShape.length - 1);
}
