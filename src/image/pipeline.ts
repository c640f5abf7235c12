import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import type { ExtraTerm, InputPipeline } from '../engine/engine.js';
import type { ActmaxModel } from '../model/types.js';
import { resolveInputIndex } from '../objectives/compile.js';
import { Rng } from '../optimize/rng.js';
import { createParam, normalizeParam, type Parameterisation } from '../param/param.js';
import { fromPicture, fromPictures, imageDimsOf, isChannelsFirst, pictureShape, toPicture, toPictures } from '../param/layout.js';
import { applyTransforms, checkTransform, type Fill, type TransformSpec } from '../transforms/transforms.js';
import { imageDefaults, type ImageOptions } from './defaults.js';
import { blurRows, checkRegularizer, diversityLayer, diversityTerm, inputPenaltyTerm, type RegularizerSpec } from './regularizers.js';
import { createPriorParam, priorFor, priorReport, type PriorReport } from '../prior/param.js';

/** The image machinery of one maximisation, ready for the loop and the engine. */
export interface ImagePipeline {
  /** What the engine runs (render, transform, extra terms). */
  engine: InputPipeline;
  /** Per optimised input: its parameterisation, or null for plain pixels. */
  params: Array<Parameterisation | null>;
  /** After each optimiser step, before projection: blur (pixel parameterisation only). */
  afterStep(k: number, x: Float32Array, rows: number): void;
  /** One line per setting that applies, for reports. */
  summary: string[];
  /** False when nothing applies (plain pixels, no transforms, no regularisers): the loop can skip it. */
  active: boolean;
  /** The data prior of the first optimised input, when it has one. */
  prior?: PriorReport;
  dispose(): void;
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

/** A parameterisation made for H×W×C pictures, rendering and inverting in the input's own layout. */
function inModelLayout(p: Parameterisation, info: ActmaxModel['inputs'][number]): Parameterisation {
  if (!isChannelsFirst(info)) return p;
  return {
    description: p.description,
    size: p.size,
    stepScale: p.stepScale,
    shape: info.shape,
    render: (v) => fromPictures(p.render(v), info),
    init: (rng, out) => p.init(rng, out),
    invert: (x) => p.invert(toPicture(x, info)),
    dispose: () => p.dispose(),
  };
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
 * const p = buildImagePipeline(model, [0], 'auto', { seed: 0, constraints: [], rowsPerTarget: 4 });
 */
export function buildImagePipeline(
  model: ActmaxModel,
  optimize: number[],
  options: ImageOptions | 'auto',
  ctx: { seed: number; constraints: Constraint[] },
): ImagePipeline {
  const given: ImageOptions = options === 'auto' ? {} : options;
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

  const params: Array<Parameterisation | null> = [];
  const dims = optimize.map((i) => imageDimsOf(model.inputs[i]));
  const kept: Parameterisation[] = [];
  try {
    optimize.forEach((i, k) => {
      const info = model.inputs[i];
      // A data prior is the parameterisation of its input (src/prior).
      const prior = priorFor(ctx.constraints, model, i);
      if (prior) {
        if (given.param && paramSpec.kind !== 'pixel') throw new ActmaxError('bad-option', `--param ${paramSpec.kind} and a data prior both parameterise input "${info.name}"; give one`);
        const p = createPriorParam(prior, model, i, ctx.constraints);
        kept.push(p);
        params.push(p);
        return;
      }
      if (!dims[k] || paramSpec.kind === 'pixel') {
        params.push(null);
        return;
      }
      const range = squashRange(model, i, ctx.constraints, paramSpec.kind);
      const p = inModelLayout(createParam(paramSpec, pictureShape(info), range, info.name)!, info);
      kept.push(p);
      params.push(p);
    });
  } catch (e) {
    kept.forEach((p) => p.dispose());
    throw e;
  }
  const blur = regularizers.find((r) => r.kind === 'blur');
  if (blur && blur.weight > 0 && params.some((p) => p !== null)) {
    throw new ActmaxError('bad-option', `regularizer blur smooths the pixels after each step, so it needs --param pixel (got --param ${paramSpec.kind})`);
  }

  const extraTerms: ExtraTerm[] = [];
  for (const r of regularizers) {
    if (r.weight === 0) continue;
    if (r.kind === 'tv' || r.kind === 'l1' || r.kind === 'l2') {
      optimize.forEach((i, k) => {
        if (r.kind === 'tv' && !dims[k]) return;
        extraTerms.push(inputPenaltyTerm(r, i, model.inputs[i].shape.length === 3, isChannelsFirst(model.inputs[i]) ? model.inputs[i] : undefined));
      });
    } else if (r.kind === 'diversity') {
      extraTerms.push(diversityTerm(model, r.layer ?? diversityLayer(model), r.weight));
    }
  }

  const rng = new Rng((ctx.seed ^ 0x5eed1) >>> 0);
  const engine: InputPipeline = {
    paramSize: params.map((p) => (p ? p.size : null)),
    render: (p, k) => params[k]!.render(p),
    extraTerms,
  };
  // Small images (digits, icons) usually sit on a plain background at the range's low end: shifts bring that in.
  // Larger natural images repeat their edges.
  const fills: Fill[] = optimize.map((i, k) => (dims[k] && Math.max(dims[k]![0], dims[k]![1]) <= 64 ? model.inputs[i].range[0] : 'edge'));
  if (transforms.length) {
    engine.transform = (x, k) => {
      const d = dims[k];
      if (!d) return x;
      return tf.tidy(() => {
        const info = model.inputs[optimize[k]];
        const x4 = toPictures(x, info).reshape([x.shape[0], d[0], d[1], d[2]]) as tf.Tensor4D;
        return fromPictures(applyTransforms(x4, transforms, rng, { fill: fills[k] }), info).reshape(x.shape);
      });
    };
  }
  const resolvedDiversity = regularizers.filter((r) => r.kind === 'diversity').map((r) => ({ ...r, layer: (r as { layer?: string }).layer ?? diversityLayer(model) }));
  const firstPrior = priorFor(ctx.constraints, model, optimize[0]);
  const summary = [
    describeImageOptions({
      param: paramSpec,
      transforms,
      regularizers: regularizers.map((r) => (r.kind === 'diversity' ? resolvedDiversity.shift()! : r)),
    }) + (options === 'auto' || Object.keys(given).length < 3 ? ` (defaults: ${defaults.reason})` : ''),
  ];
  return {
    engine,
    params,
    afterStep(k, x, rows) {
      if (!blur || blur.weight === 0 || params[k] || !dims[k]) return;
      const info = model.inputs[optimize[k]];
      if (!isChannelsFirst(info)) return blurRows(x, rows, dims[k]!, blur.weight);
      const pic = Float32Array.from(toPicture(x, info));
      blurRows(pic, rows, dims[k]!, blur.weight);
      x.set(fromPicture(pic, info));
    },
    summary: firstPrior ? [...summary, `prior: ${priorReport(firstPrior).description}`] : summary,
    ...(firstPrior ? { prior: priorReport(firstPrior) } : {}),
    active: params.some((p) => p !== null) || (transforms.length > 0 && dims.some((d) => d !== null)) || extraTerms.length > 0 || (!!blur && blur.weight > 0),
    dispose() {
      kept.forEach((p) => p.dispose());
    },
  };
}
