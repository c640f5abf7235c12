import { ActmaxError } from '../errors.js';
import { channelLayout, checkIndex, flatNeuronIndex } from '../objectives/indices.js';
import { tapChannelAxis } from '../model/activations.js';
import type { ActmaxModel } from '../model/types.js';
import { resolveOutput } from '../objectives/compile.js';
import { formatObjective } from '../objectives/format.js';
import type { ObjectiveSpec } from '../objectives/spec.js';
import type { ExactObjective } from './encode.js';
import { layerValues, type LinExpr, type PLNetwork } from './network.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function scaledSum(parts: Array<[LinExpr, number]>): LinExpr {
  const m = new Map<number, number>();
  let c = 0;
  for (const [e, w] of parts) {
    c += w * e.c;
    e.idx.forEach((v, k) => m.set(v, (m.get(v) ?? 0) + w * e.coef[k]));
  }
  const idx: number[] = [], coef: number[] = [];
  for (const [v, w] of m) if (w !== 0) { idx.push(v); coef.push(w); }
  return { idx, coef, c };
}


/**
 * Turns an objective into the exact maximiser's form (linear in the network's values, minus
 * positively weighted maxima for margins). Objectives that are not of that form (prob, target,
 * layer energy, input penalties, a margin with a negative weight) are refused.
 *
 * @example
 * const obj = exactObjective(model, net, { kind: 'margin', index: 3 });
 */
export function exactObjective(model: ActmaxModel, net: PLNetwork, spec: ObjectiveSpec, weight = 1): ExactObjective {
  const shapeOf = (layer: string): number[] => {
    const l = net.layers.get(layer);
    if (!l) layerValues(net, layer, false); // throws the list of layers
    return l!.post.shape;
  };
  const logits = (output: string | number | undefined): LinExpr[] => {
    const { info } = resolveOutput(model, output);
    return layerValues(net, info.layer, info.finalActivation !== null);
  };
  const linear = (e: LinExpr): ExactObjective => ({ linear: scaledSum([[e, weight]]), margins: [] });
  switch (spec.kind) {
    case 'logit': {
      const z = logits(spec.output);
      checkIndex(spec, spec.index, z.length, 'the output');
      return linear(z[spec.index]);
    }
    case 'margin': {
      const z = logits(spec.output);
      checkIndex(spec, spec.index, z.length, 'the output');
      if (z.length < 2) throw new ActmaxError('bad-spec', `${formatObjective(spec)}: a margin needs at least 2 output units`);
      if (!(weight > 0)) throw new ActmaxError('unsupported', `exact mode cannot minimise a margin (${formatObjective(spec)} has weight ${weight}); give it a positive weight`);
      return { linear: scaledSum([[z[spec.index], weight]]), margins: [{ weight, others: z.filter((_, j) => j !== spec.index) }] };
    }
    case 'neuron': {
      const values = layerValues(net, spec.layer, !!spec.pre);
      const shape = shapeOf(spec.layer);
      const flat = flatNeuronIndex(spec, shape);
      return linear(values[flat]);
    }
    case 'channel':
    case 'direction': {
      const values = layerValues(net, spec.layer, !!spec.pre);
      const shape = shapeOf(spec.layer);
      const { channels, positions, channelOf } = channelLayout(shape, tapChannelAxis(model, { layer: spec.layer, pre: !!spec.pre }, shape));
      let w: number[];
      if (spec.kind === 'channel') {
        checkIndex(spec, spec.channel, channels, `layer "${spec.layer}" (channels)`);
        w = values.map((_, i) => (channelOf(i) === spec.channel ? 1 / positions : 0));
      } else if (spec.vector.length === values.length) {
        w = spec.vector;
      } else if (spec.vector.length === channels) {
        w = values.map((_, i) => spec.vector[channelOf(i)] / positions);
      } else {
        throw new ActmaxError('bad-spec', `${formatObjective(spec)}: the vector has ${spec.vector.length} values; layer "${spec.layer}" needs ${values.length} (all units) or ${channels} (one per channel)`);
      }
      return linear(scaledSum(values.map((e, i) => [e, w[i]] as [LinExpr, number])));
    }
    case 'sum': {
      const parts = spec.terms.map((t) => exactObjective(model, net, t.objective, weight * t.weight));
      return { linear: scaledSum(parts.map((p) => [p.linear, 1])), margins: parts.flatMap((p) => p.margins) };
    }
    default:
      throw new ActmaxError('unsupported', `exact mode cannot maximise ${formatObjective(spec)}: it is not linear in the network's values; exact objectives are logit, margin, neuron, channel, direction and their weighted sums`);
  }
}

/** Value of an exact objective from variable values (float64). @example exactObjectiveValue(obj, forwardValues(net, x)) */
export function exactObjectiveValue(obj: ExactObjective, values: ArrayLike<number>): number {
  const ev = (e: LinExpr) => {
    let s = e.c;
    for (let k = 0; k < e.idx.length; k++) s += e.coef[k] * values[e.idx[k]];
    return s;
  };
  let v = ev(obj.linear);
  for (const m of obj.margins) v -= m.weight * Math.max(...m.others.map(ev));
  return v;
}
