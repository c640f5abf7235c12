import type { ObjectiveSpec } from './spec.js';

const out = (o?: string | number) => (o === undefined ? '' : `${o}:`);
const num = (x: number) => String(Number(x.toPrecision(8)));

/**
 * The CLI spelling of an objective (the inverse of `parseObjective`).
 *
 * @example
 * formatObjective({ kind: 'logit', index: 3 }) // 'logit:3'
 */
export function formatObjective(spec: ObjectiveSpec): string {
  switch (spec.kind) {
    case 'logit':
    case 'prob':
    case 'margin':
      return `${spec.kind}:${out(spec.output)}${spec.index}`;
    case 'target':
      return `target:${out(spec.output)}${spec.index}:${num(spec.value)}`;
    case 'neuron':
      return `neuron:${spec.layer}${spec.pre ? ':pre' : ''}:${Array.isArray(spec.index) ? spec.index.join(',') : spec.index}`;
    case 'channel':
      return `channel:${spec.layer}${spec.pre ? ':pre' : ''}:${spec.channel}`;
    case 'layerEnergy':
      return `layer:${spec.layer}${spec.pre ? ':pre' : ''}`;
    case 'direction':
      return `direction:${spec.layer}${spec.pre ? ':pre' : ''}:${spec.vector.map(num).join(',')}`;
    case 'inputL1':
      return 'l1';
    case 'inputL2':
      return 'l2';
    case 'totalVariation':
      return 'tv';
    case 'sum':
      return spec.terms
        .map((t, i) => {
          const w = Math.abs(t.weight);
          const sign = t.weight < 0 ? '-' : i === 0 ? '' : '+';
          return `${sign}${w === 1 ? '' : num(w) + '*'}${formatObjective(t.objective)}`;
        })
        .join('');
  }
}
