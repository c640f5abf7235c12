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
