import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import type { ActmaxModel } from '../model/types.js';
import { tapChannelAxis, tapShape } from '../model/activations.js';
import { resolveInputIndex } from '../objectives/compile.js';
import { normalizeParam, planParam, type ParamPlan } from '../param/param.js';
import { imageDimsOf, isChannelsFirst, pictureShape } from '../param/layout.js';
import type { Rng } from '../optimize/rng.js';
import { AFFINE_SIZE, drawAffine } from '../transforms/affine.js';
import { checkTransform, type TransformSpec } from '../transforms/spec.js';
import { imageDefaults, type ImageOptions } from './defaults.js';
import { priorFor, priorReport, priorStepScale, type PriorReport } from '../prior/param.js';
import { describePrior, latentSize, type DataPrior } from '../prior/types.js';
import { checkRegularizer, diversityLayer, type RegularizerSpec } from './regularizers.js';
import type { InputStage, PipelineSpec, StepDraws } from './spec.js';

/** The image pipeline of one maximisation, resolved against the model and constraints. */
export interface ResolvedPipeline {
  spec: PipelineSpec;
  /** One line per setting that applies, for reports. */
  summary: string[];
  /** False when nothing applies (plain pixels, no transforms, no regularisers): the run can leave it out. */
  active: boolean;
  /** The data prior of the first optimised input, when it has one. */
  prior?: PriorReport;
}

/** What a data prior leaves of the image defaults: nothing. */
const PRIOR_ONLY: ImageOptions = { param: 'pixel', transforms: [], regularizers: [] };

/** The plan of a data prior on model input `i`: its code is the variables (the ONNX engine renders a subspace, TF.js either). */
function priorPlan(prior: DataPrior, i: number, info: ActmaxModel['inputs'][number], constraints: Constraint[]): ParamPlan {
  return {
    kind: 'prior',
    shape: info.shape,
    dims: null,
    lo: info.range[0],
    hi: info.range[1],
    decorrelate: false,
    decay: 0,
    sd: 0,
    size: latentSize(prior),
    stepScale: priorStepScale(prior),
    description: describePrior(prior),
    prior: { data: prior, input: i, constraints },
  };
}

function describeTransform(t: TransformSpec): string {
  switch (t.kind) {
    case 'jitter': return `jitter ±${t.pixels}px`;
    case 'pad': return `pad ${t.pixels}px`;
    case 'scale': return `scale ${t.min}–${t.max}`;
    case 'rotate': return `rotate ±${t.degrees}°`;
  }
}

/** Human-readable line for a set of image options. @example describeImageOptions({ param: 'spectral' }) */
export function describeImageOptions(o: ImageOptions): string {
  const p = o.param ? normalizeParam(o.param) : { kind: 'pixel' as const };
  const param = p.kind === 'spectral' ? `spectral${p.decorrelate ? ' + colour decorrelation' : ''}` : p.kind === 'sigmoid' && p.decorrelate ? 'sigmoid + colour decorrelation' : p.kind;
  const tr = o.transforms?.length ? o.transforms.map(describeTransform).join(', ') : 'none';
  const reg = o.regularizers?.length ? o.regularizers.map((r) => `${r.kind} ${r.weight}${r.kind === 'diversity' && r.layer ? ` on ${r.layer}` : ''}`).join(', ') : 'none';
  return `param ${param}; transforms ${tr}; regularizers ${reg}`;
}

/** The box a constraint list sets on input `i` when it is only boxes (for squashing parameterisations). */
function squashRange(model: ActmaxModel, i: number, constraints: Constraint[], param: string): [number, number] {
  let [lo, hi] = model.inputs[i].range;
  for (const c of constraints) {
    if (resolveInputIndex(model, c.input) !== i) continue;
    if (c.kind !== 'box' || typeof c.lo !== 'number' || typeof c.hi !== 'number') {
      const what = c.kind === 'box' ? 'a per-feature box' : `constraint "${c.kind === 'ball' ? `${c.p === 'inf' ? 'linf' : `l${c.p}`}` : c.kind}"`;
      throw new ActmaxError('bad-option', `--param ${param} keeps input "${model.inputs[i].name}" in a box by construction and cannot also hold ${what}; use --param pixel for it`);
    }
    [lo, hi] = [c.lo, c.hi];
  }
  return [lo, hi];
}

/**
 * Resolve image options (or `'auto'`: {@link imageDefaults}) for the optimised inputs into a
 * pipeline. Fields left out of `options` come from the defaults. Image-only settings (spectral,
 * transforms, tv, blur) apply to optimised inputs that are images; asking for them with no image
 * input is an error.
 *
 * @example
 * const p = resolvePipeline(model, [0], 'auto', { constraints: [] }); // p.spec.inputs[0].transforms: jitter ±2
 */
export function resolvePipeline(model: ActmaxModel, optimize: number[], options: ImageOptions | 'auto', ctx: { constraints: Constraint[] }): ResolvedPipeline {
  const priors = optimize.map((i) => priorFor(ctx.constraints, model, i));
  // A data prior replaces the image defaults (no jitter or TV on top); explicit image options still apply.
  const given: ImageOptions = options === 'auto' ? (priors.some((pr) => pr) ? PRIOR_ONLY : {}) : options;
  const firstImage = optimize.find((i) => imageDimsOf(model.inputs[i]) !== null);
  const defaults = imageDefaults(model, firstImage ?? optimize[0]);
  const requested = normalizeParam(given.param ?? defaults.param);
  // Spectral decorrelates RGB unless told otherwise; say so in the summary.
  const firstDims = firstImage !== undefined ? imageDimsOf(model.inputs[firstImage]) : null;
  const paramSpec = requested.kind === 'spectral' && requested.decorrelate === undefined ? { ...requested, decorrelate: firstDims?.[2] === 3 } : requested;
  const transforms = given.transforms ?? defaults.transforms;
  const regularizers: RegularizerSpec[] = given.regularizers ?? defaults.regularizers;
  transforms.forEach(checkTransform);
  regularizers.forEach(checkRegularizer);
  const imageOnly = [
    ...(paramSpec.kind !== 'pixel' ? [`--param ${paramSpec.kind}`] : []),
    ...(transforms.length ? ['transforms'] : []),
    ...regularizers.filter((r) => r.kind === 'tv' || r.kind === 'blur').map((r) => `regularizer ${r.kind}`),
  ];
  if (firstImage === undefined && imageOnly.length) {
    const shapes = optimize.map((i) => `"${model.inputs[i].name}" [${model.inputs[i].shape.join(', ')}]`).join(', ');
    throw new ActmaxError('bad-option', `${imageOnly.join(', ')} need an image input (H×W or H×W×C); the optimised inputs are ${shapes}`);
  }
  const blur = regularizers.find((r) => r.kind === 'blur')?.weight ?? 0;
  const inputs: InputStage[] = optimize.map((i, k) => {
    const info = model.inputs[i];
    const dims = imageDimsOf(info);
    const prior = priors[k];
    if (prior && given.param && paramSpec.kind !== 'pixel') throw new ActmaxError('bad-option', `--param ${paramSpec.kind} and a data prior both parameterise input "${info.name}"; give one`);
    // Parameterisations render H×W×C pictures; a channels-first input gets them transposed at its edge.
    // A data prior is the parameterisation of its input (src/prior), rendering the model's layout.
    const param: ParamPlan | null = prior ? priorPlan(prior, i, info, ctx.constraints) : dims && paramSpec.kind !== 'pixel' ? planParam(paramSpec, pictureShape(info), squashRange(model, i, ctx.constraints, paramSpec.kind), info.name) : null;
    if (param && blur > 0) throw new ActmaxError('bad-option', `regularizer blur smooths the pixels after each step, so it needs --param pixel (got --param ${paramSpec.kind})`);
    return {
      shape: info.shape,
      channelsFirst: dims !== null && isChannelsFirst(info),
      param,
      dims,
      transforms: dims ? transforms : [],
      // Small images (digits, icons) usually sit on a plain background at the range's low end: shifts bring that in.
      // Larger natural images repeat their edges.
      fill: dims && Math.max(dims[0], dims[1]) <= 64 ? info.range[0] : 'edge',
      penalties: regularizers.flatMap((r) => ((r.kind === 'tv' && dims) || r.kind === 'l1' || r.kind === 'l2') && r.weight > 0 ? [{ kind: r.kind, weight: r.weight }] : []),
      blur: dims && !param ? blur : 0,
    };
  });
  const div = regularizers.find((r): r is Extract<RegularizerSpec, { kind: 'diversity' }> => r.kind === 'diversity' && r.weight > 0);
  const divLayer = div ? (div.layer ?? diversityLayer(model)) : null;
  if (divLayer !== null && !model.layers.some((l) => l.name === divLayer)) {
    try {
      tapShape(model, { layer: divLayer, pre: false }); // a graph node name
    } catch {
      throw new ActmaxError('unknown-layer', `diversity: layer "${divLayer}" does not exist; layers are: ${model.layers.map((l) => l.name).join(', ')}`);
    }
  }
  const diversity = div && divLayer !== null ? { layer: divLayer, weight: div.weight, channelAxis: tapChannelAxis(model, { layer: divLayer, pre: false }) } : null;
  const summary = [
    describeImageOptions({
      param: paramSpec,
      transforms,
      regularizers: regularizers.map((r) => (r.kind === 'diversity' ? { ...r, layer: r.layer ?? diversity?.layer } : r)),
    }) + (options === 'auto' || Object.keys(given).length < 3 ? ` (defaults: ${defaults.reason})` : ''),
  ];
  const active = inputs.some((s) => s.param || s.transforms.length || s.penalties.length || s.blur > 0) || diversity !== null;
  if (!priors[0]) return { spec: { inputs, diversity }, summary, active };
  const prior = priorReport(priors[0]);
  return { spec: { inputs, diversity }, summary: [...summary, `prior: ${prior.description}`], active, prior };
}

/**
 * Draw one step's transforms for every row (rows in order, then inputs), or `steps` steps at
 * once (steps × rows × 6 per input): the same numbers whichever engine runs them.
 *
 * @example
 * const draws = drawSteps(spec, rng, 60, 10); // draws[0]: 10 × 60 × 6 affine maps
 */
export function drawSteps(spec: PipelineSpec, rng: Rng, rows: number, steps = 1): StepDraws {
  const out: StepDraws = spec.inputs.map((s) => (s.transforms.length ? new Float64Array(steps * rows * AFFINE_SIZE) : null));
  for (let j = 0; j < steps; j++) {
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < spec.inputs.length; k++) {
        const s = spec.inputs[k];
        if (s.transforms.length) drawAffine(s.transforms, rng, s.dims![0], s.dims![1], out[k]!, (j * rows + r) * AFFINE_SIZE);
      }
    }
  }
  return out;
}
