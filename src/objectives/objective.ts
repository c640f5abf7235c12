import type { ObjectiveSpec } from './spec.js';
import { formatObjective } from './format.js';

/**
 * An objective with arithmetic, in the style of Lucid: small pieces combined with `plus`,
 * `minus` and `times`. It wraps the plain-data {@link ObjectiveSpec} every maximiser reads.
 *
 * @example
 * const o = logit(3).minus(logit(5).times(0.5));
 * o.toString() // 'logit:3-0.5*logit:5'
 */
export class Objective {
  constructor(readonly spec: ObjectiveSpec) {}
  /** this + other. @example logit(1).plus(totalVariation().times(-0.05)).toString() // 'logit:1-0.05*tv' */
  plus(other: Objective | ObjectiveSpec): Objective {
    return sum(this, other);
  }
  /** this − other. @example logit(3).minus(logit(5)) */
  minus(other: Objective | ObjectiveSpec): Objective {
    return sum(this, asObjective(other).times(-1));
  }
  /** k · this. @example neuron('dense', 4).times(2) */
  times(k: number): Objective {
    return new Objective({ kind: 'sum', terms: [{ weight: k, objective: this.spec }] });
  }
  /** The CLI spelling. @example logit(2).toString() // 'logit:2' */
  toString(): string {
    return formatObjective(this.spec);
  }
}

/** Wrap a spec as an Objective (objectives pass through). @example asObjective({ kind: 'logit', index: 1 }) */
export function asObjective(o: Objective | ObjectiveSpec): Objective {
  return o instanceof Objective ? o : new Objective(o);
}

/** Σ of objectives, flattening nested sums. @example sum(logit(1), logit(2)) */
export function sum(...objectives: Array<Objective | ObjectiveSpec>): Objective {
  const terms: Array<{ weight: number; objective: ObjectiveSpec }> = [];
  for (const o of objectives) {
    const s = asObjective(o).spec;
    if (s.kind === 'sum') terms.push(...s.terms);
    else terms.push({ weight: 1, objective: s });
  }
  return new Objective({ kind: 'sum', terms });
}

/** Pre-activation of output unit k (a final softmax/sigmoid is taken off). @example logit(3) */
export const logit = (k: number, output?: string | number) => new Objective({ kind: 'logit', index: k, ...(output !== undefined ? { output } : {}) });
/** The model's output probability of unit k. @example prob(3) */
export const prob = (k: number, output?: string | number) => new Objective({ kind: 'prob', index: k, ...(output !== undefined ? { output } : {}) });
/** logit k minus the largest other logit. @example margin(3) */
export const margin = (k: number, output?: string | number) => new Objective({ kind: 'margin', index: k, ...(output !== undefined ? { output } : {}) });
/** Drive output k toward `value` (maximises −(out−value)²). @example target(0, 12.5) */
export const target = (k: number, value: number, output?: string | number) => new Objective({ kind: 'target', index: k, value, ...(output !== undefined ? { output } : {}) });
/** One unit of a layer (flat index or coordinates). @example neuron('dense', 17) */
export const neuron = (layer: string, index: number | number[], pre = false) => new Objective({ kind: 'neuron', layer, index, ...(pre ? { pre } : {}) });
/** Mean of one channel over positions. @example channel('conv2d', 5) */
export const channel = (layer: string, c: number, pre = false) => new Objective({ kind: 'channel', layer, channel: c, ...(pre ? { pre } : {}) });
/** Mean of squares of a layer's output (DeepDream). @example layerEnergy('conv2d_1') */
export const layerEnergy = (layer: string, pre = false) => new Objective({ kind: 'layerEnergy', layer, ...(pre ? { pre } : {}) });
/** Projection of a layer's output on a direction (all units, or one value per channel). @example direction('dense', new Array(128).fill(1)) */
export const direction = (layer: string, vector: number[], pre = false) => new Objective({ kind: 'direction', layer, vector, ...(pre ? { pre } : {}) });
/** Mean |x| of the input (use with a negative weight). @example logit(1).minus(inputL1().times(0.1)) */
export const inputL1 = (input?: string | number) => new Objective({ kind: 'inputL1', ...(input !== undefined ? { input } : {}) });
/** Mean x² of the input. @example logit(1).minus(inputL2().times(0.1)) */
export const inputL2 = (input?: string | number) => new Objective({ kind: 'inputL2', ...(input !== undefined ? { input } : {}) });
/** Total variation of the input (any spatial rank). @example logit(1).minus(totalVariation().times(0.05)) */
export const totalVariation = (input?: string | number) => new Objective({ kind: 'totalVariation', ...(input !== undefined ? { input } : {}) });
