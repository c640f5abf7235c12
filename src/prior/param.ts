import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { resolveConstraints } from '../constraints/index.js';
import { buildForward } from '../model/activations.js';
import type { ActmaxModel } from '../model/types.js';
import { resolveInputIndex } from '../objectives/compile.js';
import type { Rng } from '../optimize/rng.js';
import type { Parameterisation } from '../param/param.js';
import type { CodeBox } from './clusters.js';
import { nearestBox, projectLatent, subspaceProjector } from './project.js';
import { subspaceCode } from './subspace.js';
import { describePrior, latentSize, type DataPrior, type DecoderPrior, type LatentSet, type SubspacePrior } from './types.js';

/** What a run records about its prior (the result's `prior`). */
export interface PriorReport {
  type: DataPrior['type'];
  /** Code size: K for a subspace, the decoder's latent size. */
  components: number;
  /** `box`, `ball`, `box+ball` or `union of C boxes`. */
  latent: string;
  source: string;
  description: string;
}

/**
 * The prior constraint on model input `inputIndex`, if any (at most one per input).
 *
 * @example
 * const prior = priorFor(constraints, model, 0); // DataPrior | null
 */
export function priorFor(constraints: Constraint[], model: ActmaxModel, inputIndex: number): DataPrior | null {
  const mine = constraints.filter((c): c is Extract<Constraint, { kind: 'prior' }> => c.kind === 'prior' && resolveInputIndex(model, c.input) === inputIndex);
  if (mine.length > 1) throw new ActmaxError('bad-spec', `${mine.length} priors on input "${model.inputs[inputIndex].name}"; give one`);
  return mine[0]?.prior ?? null;
}

/** The report of a prior. @example priorReport(prior).components // 32 */
export function priorReport(prior: DataPrior): PriorReport {
  const latent = [prior.latent.union ? `union of ${prior.latent.union.boxes.length} boxes` : '', prior.latent.box ? 'box' : '', prior.latent.ball ? 'ball' : ''].filter(Boolean).join('+');
  return { type: prior.type, components: latentSize(prior), latent, source: prior.source, description: describePrior(prior) };
}

/** A parameterisation whose variables are a prior's code z, kept in the prior's set by `project`. */
export interface PriorParameterisation extends Omit<Parameterisation, 'plan'> {
  readonly prior: DataPrior;
  /** Exact projection of `rows` codes onto the code set ∩ the input's other constraints (with a union: onto each row's box). */
  project(p: Float32Array, rows: number): void;
  /** With a union of boxes: the boxes, and which one each row searches (−1: its nearest, then kept). */
  readonly boxes?: CodeBox[];
  assign?(rowBoxes: ArrayLike<number>): void;
}

/** Typical spread of each code component (for starting points and the step size). */
function spread(set: LatentSet, k: number): number[] {
  const union = set.union?.boxes;
  const width = (c: number) => (union ? union.reduce((s, b) => s + b.hi[c] - b.lo[c], 0) / union.length : set.box ? set.box.hi[c] - set.box.lo[c] : 5);
  return Array.from({ length: k }, (_, c) => (set.ball ? set.ball.scale[c] : width(c) / 5));
}

/** The step multiplier of a prior's code (`lr` is in units of the code's typical spread). @example priorStepScale(prior) // 2.5 for a unit-scale ball */
export function priorStepScale(prior: DataPrior): number {
  // Components the set fixes (zero spread, e.g. a conditional decoder's class code) take no steps.
  const moving = spread(prior.latent, latentSize(prior)).filter((s) => s > 0);
  return moving.length ? (moving.reduce((a, b) => a + b, 0) / moving.length) * 2.5 : 1;
}

/**
 * The parameterisation of a prior for one model input: p = z, rendered by x = mean + Uᵀz
 * (subspace) or x = G(z) (decoder). `constraints` are the whole list (the prior's own entry is
 * skipped); a subspace projects exactly onto their intersection with its set, a decoder keeps
 * only a box (clipping G's output into it) and refuses other input constraints.
 *
 * @example
 * const p = createPriorParam(prior, model, 0, [{ kind: 'box', lo: 0, hi: 1 }, { kind: 'prior', prior }]);
 */
export function createPriorParam(prior: DataPrior, model: ActmaxModel, inputIndex: number, constraints: Constraint[]): PriorParameterisation {
  const info = model.inputs[inputIndex];
  const n = info.shape.reduce((a, b) => a * b, 1);
  const others = constraints.filter((c) => c.kind !== 'prior');
  const rc = resolveConstraints(others, info, inputIndex);
  const k = latentSize(prior);
  const sd = spread(prior.latent, k);
  const stepScale = priorStepScale(prior);
  const init = (project: (p: Float32Array, rows: number) => void) => (rng: Rng, out: Float32Array) => {
    for (let c = 0; c < k; c++) out[c] = 0.5 * sd[c] * rng.normal();
    project(out, 1);
  };
  const base = { prior, size: k, stepScale, shape: info.shape, description: describePrior(prior), ...(prior.latent.union ? { boxes: prior.latent.union.boxes } : {}) };
  if (prior.type === 'subspace') {
    if (prior.mean.length !== n) throw new ActmaxError('bad-input', `the prior has ${prior.mean.length} features; input "${info.name}" has ${n} (shape ${info.shape.join('×')})`);
    const projector = subspaceProjector(prior, rc);
    const basis = tf.keep(tf.tensor2d(prior.basis, [k, n]));
    const mean = tf.keep(tf.tensor1d(prior.mean));
    const project = (p: Float32Array, rows: number) => projector.project(p, rows);
    return {
      ...base,
      render: (p) => tf.tidy(() => p.matMul(basis).add(mean).reshape([p.shape[0], ...info.shape])),
      init: init(project),
      invert: (x) => {
        const z = Float32Array.from(subspaceCode(prior as SubspacePrior, x));
        project(z, 1);
        return z;
      },
      project,
      ...(projector.assign ? { assign: (rowBoxes: ArrayLike<number>) => projector.assign!(rowBoxes) } : {}),
      dispose: () => tf.dispose([basis, mean]),
    };
  }
  return decoderParam(prior, base, rc.boxLo, rc.boxHi, others, info.name, n, init);
}

function decoderParam(
  prior: DecoderPrior,
  base: Omit<PriorParameterisation, 'render' | 'init' | 'invert' | 'project' | 'dispose'>,
  lo: Float64Array,
  hi: Float64Array,
  others: Constraint[],
  inputName: string,
  n: number,
  init: (project: (p: Float32Array, rows: number) => void) => (rng: Rng, out: Float32Array) => void,
): PriorParameterisation {
  const extra = others.find((c) => c.kind !== 'box');
  if (extra) throw new ActmaxError('bad-spec', `a decoder prior keeps input "${inputName}" on G(z) and holds only a box there; "${extra.kind}" needs a subspace prior (--prior SOURCE:subspace:K)`);
  const g = prior.decoder;
  if (g.inputs.length !== 1 || g.outputs.length !== 1) throw new ActmaxError('bad-model', `decoder ${g.source} must have one input and one output; it has ${g.inputs.length} and ${g.outputs.length}`);
  if (g.outputs[0].units !== n) throw new ActmaxError('bad-model', `decoder ${g.source} outputs ${g.outputs[0].units} values; input "${inputName}" needs ${n}`);
  const forward = buildForward(g, []);
  const k = base.size;
  const zShape = g.inputs[0].shape;
  const loT = tf.keep(tf.tensor1d(Float32Array.from(lo)));
  const hiT = tf.keep(tf.tensor1d(Float32Array.from(hi)));
  const finite = lo.every(Number.isFinite) && hi.every(Number.isFinite);
  const z = new Float64Array(k);
  const union = prior.latent.union?.boxes;
  const rowBox: number[] = [];
  const project = (p: Float32Array, rows: number) => {
    for (let r = 0; r < rows; r++) {
      const row = p.subarray(r * k, (r + 1) * k);
      // A union: each row keeps one box (assigned, or its nearest at first).
      if (union && !(rowBox[r] >= 0)) rowBox[r] = nearestBox(union, row);
      projectLatent(union ? { box: union[rowBox[r]] } : prior.latent, row, z);
      row.set(z);
    }
  };
  return {
    ...base,
    render: (p) => tf.tidy(() => {
      const rows = p.shape[0];
      const out = forward.run([p.reshape([rows, ...zShape])]).outputs[0];
      if (!out) throw new ActmaxError('bad-model', `decoder ${g.source}: its output depends on the input's size at run time; give a decoder with a fixed output`);
      let x = out.reshape([rows, n]);
      // G's output clipped into the box (a no-op for a sigmoid decoder on [0, 1]).
      if (finite) x = tf.maximum(tf.minimum(x, hiT), loT);
      return x.reshape([rows, ...base.shape]);
    }),
    init: init(project),
    invert: () => {
      throw new ActmaxError('bad-option', 'a decoder prior has no inverse, so it cannot start from a given input; use --init random');
    },
    project,
    ...(union ? { assign: (rowBoxes: ArrayLike<number>) => Array.from(rowBoxes).forEach((j, r) => (rowBox[r] = j)) } : {}),
    dispose: () => {
      forward.dispose();
      tf.dispose([loT, hiT]);
    },
  };
}
