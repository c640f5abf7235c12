// Objective specs against a model's description (no weights needed): the parse context that
// expands `all`, and the check that every output, layer and index a spec names exists. Shared by
// the CLI, the library's compiler and the web page.
import { ActmaxError } from '../errors.js';
import type { ModelDescription, OutputInfo } from '../model/types.js';
import { formatObjective } from './format.js';
import { channelLayout, checkIndex, flatNeuronIndex, layerChannelAxis } from './indices.js';
import { parseObjective, type ParseContext } from './parse.js';
import type { ObjectiveSpec } from './spec.js';

/**
 * Find a model output by name or index (undefined = the first).
 * @example
 * const { info } = resolveOutput(model, 'dense_1'); // info.units === 10
 */
export function resolveOutput(model: Pick<ModelDescription, 'outputs'>, output: string | number | undefined): { info: OutputInfo; index: number } {
  if (output === undefined) return { info: model.outputs[0], index: 0 };
  const names = model.outputs.map((o) => o.name);
  const index = typeof output === 'number' ? output : names.indexOf(output);
  if (index < 0 || index >= model.outputs.length) {
    throw new ActmaxError('unknown-output', `output "${output}" does not exist; outputs are: ${names.join(', ')}`);
  }
  return { info: model.outputs[index], index };
}

/**
 * The output shape of a layer, or an error listing the layers there are.
 * @example
 * layerOutputShape(model, 'dense') // [128]
 */
export function layerOutputShape(model: Pick<ModelDescription, 'layers'>, layer: string): number[] {
  return layerInfo(model, layer).outputShape;
}

/** How many channels a layer's output has, read on its channel axis (0 for a channels-first output). @example layerChannels(model, 'conv2d_1') // 8 */
export function layerChannels(model: Pick<ModelDescription, 'layers'>, layer: string): number {
  const info = layerInfo(model, layer);
  return channelLayout(info.outputShape, layerChannelAxis(info)).channels;
}

function layerInfo(model: Pick<ModelDescription, 'layers'>, layer: string): ModelDescription['layers'][number] {
  const info = model.layers.find((l) => l.name === layer);
  if (!info) {
    const names = model.layers.map((l) => l.name);
    throw new ActmaxError('unknown-layer', `layer "${layer}" does not exist; layers are: ${names.length > 15 ? names.slice(0, 15).join(', ') + ', …' : names.join(', ')}`);
  }
  return info;
}

/**
 * What {@link parseObjective} needs to expand `logit:all` or `channel:LAYER:all` for this model.
 * @example
 * parseObjective('logit:all', objectiveContext(model)).length // 10
 */
export function objectiveContext(model: Pick<ModelDescription, 'outputs' | 'layers'>): Required<ParseContext> {
  return {
    outputUnits: (o) => resolveOutput(model, o).info.units,
    layerShape: (layer) => layerOutputShape(model, layer),
    layerChannels: (layer) => layerChannels(model, layer),
  };
}

/**
 * Check that every output, layer, unit and channel a spec names exists in the model; throws an
 * ActmaxError saying what is valid. Shapes of graph-model nodes may be unknown here (0 units):
 * those indices are checked when the objective is compiled.
 * @example
 * checkObjective({ kind: 'logit', index: 12 }, model); // throws: logit:12: index 12 is out of range; output "dense_1" has 10 units (0–9)
 */
export function checkObjective(spec: ObjectiveSpec, model: Pick<ModelDescription, 'outputs' | 'layers'>): void {
  switch (spec.kind) {
    case 'logit':
    case 'prob':
    case 'margin':
    case 'target': {
      const { info } = resolveOutput(model, spec.output);
      checkIndex(spec, spec.index, info.units, `output "${info.name}"`);
      if (spec.kind === 'margin' && info.units < 2) throw new ActmaxError('bad-spec', `${formatObjective(spec)}: a margin needs at least 2 output units`);
      return;
    }
    case 'neuron': {
      const shape = layerOutputShape(model, spec.layer);
      if (shape.every((d) => d > 0)) flatNeuronIndex(spec, shape);
      return;
    }
    case 'channel': {
      const channels = layerChannels(model, spec.layer);
      if (channels > 0) checkIndex(spec, spec.channel, channels, `layer "${spec.layer}" (channels)`);
      return;
    }
    case 'direction':
    case 'layerEnergy':
      layerOutputShape(model, spec.layer);
      return;
    case 'sum':
      for (const t of spec.terms) checkObjective(t.objective, model);
      return;
    default:
      return;
  }
}

/**
 * Parse an objective text for a model and check every target against it: one spec per target.
 * @example
 * parseObjectiveFor('margin:all', model).length // 10
 * parseObjectiveFor('neuron:dense:500', model); // throws: … layer "dense" has 128 units (0–127)
 */
export function parseObjectiveFor(text: string, model: Pick<ModelDescription, 'outputs' | 'layers'>): ObjectiveSpec[] {
  const specs = parseObjective(text, objectiveContext(model));
  for (const s of specs) checkObjective(s, model);
  return specs;
}

/**
 * A short label for a target: the class name when the objective reads one class of an output
 * with class names (`Trouser`), else the objective as text (`neuron:dense:3`).
 * @example
 * targetLabel({ kind: 'logit', index: 1 }, model) // 'Trouser'
 */
export function targetLabel(spec: ObjectiveSpec, model: Pick<ModelDescription, 'outputs'>): string {
  if (spec.kind === 'logit' || spec.kind === 'prob' || spec.kind === 'margin') {
    const out = spec.output === undefined ? model.outputs[0] : typeof spec.output === 'number' ? model.outputs[spec.output] : model.outputs.find((o) => o.name === spec.output);
    const name = out?.classNames?.[spec.index];
    if (name !== undefined) return name;
  }
  return formatObjective(spec);
}
