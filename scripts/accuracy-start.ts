/**
 * Shared by scripts/pipeline-accuracy.ts and scripts/gradient-conditioning.ts: the relative
 * difference they print and the start points they compare engines at.
 */
import { initParamRow, spectralConstants } from '../src/param/param.js';
import type { ParamPlan } from '../src/param/param.js';
import { Rng } from '../src/optimize/rng.js';
import { maxRelDiff as relToMax } from '../src/model/testing/model-files.js';

/** max |a − b| / max |b|, as a short exponential string. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  return relToMax(a, b).toExponential(2);
}

/**
 * One parameter row (seed 5): `grey` = the parameterisation's own start (sd 0.01), `grey30` = 30×
 * that, `white` = white noise of sd 1 before the squash (spectral coefficients divided by their scale).
 */
export function startParams(plan: ParamPlan, start: string): Float32Array {
  const rng = new Rng(5);
  const p = new Float32Array(plan.size);
  if (start === 'white') {
    const scale = plan.kind === 'spectral' ? spectralConstants(plan).scale : null;
    for (let i = 0; i < p.length; i++) p[i] = rng.normal() / (scale ? scale[i % scale.length] : 1);
  } else {
    initParamRow(plan, rng, p);
    if (start === 'grey30') for (let i = 0; i < p.length; i++) p[i] *= 30;
  }
  return p;
}
