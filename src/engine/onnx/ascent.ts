import type { AscentPlan } from '../engine.js';
import { floatValue, type OnnxBuilder } from './builder.js';
import { DataType, type ModelDef, type ValueDef } from './proto.js';
import { emitStep, stepShared, type StepProblem } from './step.js';
import { drawKind, drawWidth } from './pipeline/warp.js';

/*
 * K steps of projected gradient ascent unrolled into ONE ONNX graph: per step the whole step
 * (parameterisation → transforms → network → objective and regularisers → gradient), best-so-far
 * tracking per row, the optimiser update (adam, sgd, normalized or sign), blur and the
 * per-feature box clip. One onnxruntime call then does K steps with no JavaScript per step.
 *
 * Adam's moments are kept unnormalised (m̃ = Σ β1^j g, ṽ = Σ β2^j g²): the same update as
 * m = (1-β1)·m̃, v = (1-β2)·ṽ with the constants folded into the per-row step `alpha` and `eps`,
 * which saves two full-size ops per step.
 */

/** Names of the ascent graph's inputs and outputs (per optimised input k where marked). */
export const ASCENT_IO = {
  x: (k: number) => `x${k}`,
  m: (k: number) => `m${k}`,
  v: (k: number) => `v${k}`,
  bestX: (k: number) => `best_x${k}`,
  /** [K, rows, 1] step sizes of input k. */
  alpha: (k: number) => `alpha${k}`,
  /** [K, rows, 2] int64 or [K, rows, 6] float64 transform draws of input k. */
  draws: (k: number) => `draws${k}`,
  bestValue: 'best_value',
  out: (name: string) => `${name}_out`,
  /** [K, rows] objective value of each row at each step (before that step's update). */
  values: 'values',
  /** [K, rows] best value so far after each step's recording. */
  best: 'best',
  /** [rows] finite when every value and gradient of the row was finite during the chunk. */
  bad: 'bad',
} as const;

/** Variables per row of each optimised input. */
export function variableSizes(p: StepProblem): number[] {
  return p.optimize.map((i, k) => p.pipeline?.inputs[k].param?.size ?? p.ir.inputs[i].shape.reduce((a, b) => a * b, 1));
}

/** The 3×3 binomial blur of pixel rows, edge clamped, blended by `weight`: x + weight·(blur(x) − x). */
function emitBlur(b: OnnxBuilder, x: string, dims: [number, number, number], weight: number): string {
  const [h, w, c] = dims;
  const img = b.op1('Transpose', [b.op1('Reshape', [x, b.i64([0, h, w, c])])], { perm: [0, 3, 1, 2] });
  const padded = b.op1('Pad', [img, b.i64([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' });
  const k = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const kernel = b.f32('blur', Float32Array.from({ length: 9 * c }, (_, i) => k[i % 9]), [c, 1, 3, 3]);
  const blurred = b.op1('Conv', [padded, kernel], { kernel_shape: [3, 3], group: c });
  const back = b.op1('Reshape', [b.op1('Transpose', [blurred], { perm: [0, 2, 3, 1] }), b.i64([0, -1])]);
  return b.op1('Add', [x, b.op1('Mul', [b.op1('Sub', [back, x]), b.scalar(weight)])]);
}

/**
 * Build the K-step ascent graph.
 *
 * @example
 * const def = buildAscentGraph(b, problem, { optimizer: 'adam', bounds: [{ lo, hi }], b1: 0.9, b2: 0.999, eps: 3.2e-7 }, 10);
 */
export function buildAscentGraph(b: OnnxBuilder, p: StepProblem, plan: AscentPlan, K: number): ModelDef {
  if (!(K >= 1)) throw new Error('an ascent graph needs at least one step');
  const rows = p.terms.rows;
  const sizes = variableSizes(p);
  const shared = stepShared(b, p);
  const inputs = p.optimize.map((_, k) => k);
  const rule = plan.optimizer;
  const moments = rule === 'adam' ? 2 : rule === 'sgd' ? 1 : 0;
  const last = (j: number) => j === K - 1;
  const named = (j: number, name: string) => (last(j) ? ASCENT_IO.out(name) : undefined);
  const op = (type: string, ins: string[], out?: string, attrs?: Parameters<OnnxBuilder['op1']>[2]) => (out ? b.named(type, ins, out, attrs) : b.op1(type, ins, attrs));

  // Clip bounds: one Clip when uniform, else per-feature Min/Max.
  const clips = plan.bounds.map((bd, k) => {
    if (!bd) return null;
    const uniform = bd.lo.every((v) => v === bd.lo[0]) && bd.hi.every((v) => v === bd.hi[0]);
    if (uniform) return { lo: b.scalar(bd.lo[0]), hi: b.scalar(bd.hi[0]), uniform };
    return { lo: b.f32('lo', bd.lo, [1, sizes[k]]), hi: b.f32('hi', bd.hi, [1, sizes[k]]), uniform };
  });
  const b1 = b.scalar(plan.b1), b2 = b.scalar(plan.b2), eps = b.scalar(plan.eps);
  const rowShape = b.i64([rows, 1]);

  let xs = inputs.map((k) => ASCENT_IO.x(k));
  let ms = inputs.map((k) => ASCENT_IO.m(k));
  let vs = inputs.map((k) => ASCENT_IO.v(k));
  let bestXs = inputs.map((k) => ASCENT_IO.bestX(k));
  let bestV: string = ASCENT_IO.bestValue;
  const flags: string[] = [];
  const values: string[] = [];
  const bests: string[] = [];
  for (let j = 0; j < K; j++) {
    const step = b.i64([j], []);
    const draws = inputs.map((k) => (p.pipeline?.inputs[k].transforms.length ? b.op1('Gather', [ASCENT_IO.draws(k), step], { axis: 0 }) : null));
    const { value, grads } = emitStep(b, p, shared, xs, draws);
    // Best so far, recorded before the update (NaN never wins).
    const improved = b.op1('Greater', [value, bestV]);
    bestV = op('Where', [improved, value, bestV], named(j, ASCENT_IO.bestValue));
    const improvedRows = b.op1('Reshape', [improved, rowShape]);
    bestXs = bestXs.map((bx, k) => op('Where', [improvedRows, xs[k], bx], named(j, ASCENT_IO.bestX(k))));
    values.push(b.op1('Unsqueeze', [value, b.i64([0])]));
    bests.push(b.op1('Unsqueeze', [bestV, b.i64([0])]));
    // Non-finite detector: v·0 is NaN exactly when v is not finite.
    flags.push(b.op1('Mul', [value, b.scalar(0)]));
    xs = xs.map((x, k) => {
      const g = grads[k];
      const alpha = b.op1('Gather', [ASCENT_IO.alpha(k), step], { axis: 0 });
      let delta: string;
      if (rule === 'adam') {
        ms[k] = op('Add', [b.op1('Mul', [ms[k], b1]), g], named(j, ASCENT_IO.m(k)));
        vs[k] = op('Add', [b.op1('Mul', [vs[k], b2]), b.op1('Mul', [g, g])], named(j, ASCENT_IO.v(k)));
        delta = b.op1('Div', [ms[k], b.op1('Add', [b.op1('Sqrt', [vs[k]]), eps])]);
      } else if (rule === 'sgd') {
        ms[k] = op('Add', [b.op1('Mul', [ms[k], b.scalar(0.9)]), g], named(j, ASCENT_IO.m(k)));
        delta = ms[k];
      } else if (rule === 'sign') {
        delta = b.op1('Sign', [g]);
      } else {
        const norm = b.op1('Sqrt', [b.op1('ReduceSum', [b.op1('Mul', [g, g]), b.i64([1])], { keepdims: 1 })]);
        delta = b.op1('Div', [g, b.op1('Add', [norm, b.scalar(1e-12)])]);
      }
      if (rule !== 'adam') flags.push(b.op1('Mul', [b.op1('ReduceSum', [g, b.i64([1])], { keepdims: 0 }), b.scalar(0)]));
      let next = b.op1('Add', [x, b.op1('Mul', [delta, alpha])]);
      const stage = p.pipeline?.inputs[k];
      if (stage && stage.blur > 0 && stage.dims && !stage.param) next = emitBlur(b, next, stage.dims, stage.blur);
      const clip = clips[k];
      const out = named(j, ASCENT_IO.x(k));
      if (!clip) return out ? b.named('Identity', [next], out) : next;
      return clip.uniform ? op('Clip', [next, clip.lo, clip.hi], out) : op('Max', [b.op1('Min', [next, clip.hi]), clip.lo], out);
    });
  }
  // A non-finite gradient leaves ṽ non-finite for good (Adam); the other rules checked Σg per step.
  if (rule === 'adam') for (const v of vs) flags.push(b.op1('ReduceSum', [v, b.i64([1])], { keepdims: 0 }));
  b.named('Identity', [b.sum(flags)], ASCENT_IO.bad);
  b.named('Concat', values, ASCENT_IO.values, { axis: 0 });
  b.named('Concat', bests, ASCENT_IO.best, { axis: 0 });

  const io: ValueDef[] = [];
  const outs: ValueDef[] = [];
  for (const k of inputs) {
    const full = [rows, sizes[k]];
    io.push(floatValue(ASCENT_IO.x(k), full));
    outs.push(floatValue(ASCENT_IO.out(ASCENT_IO.x(k)), full));
    if (moments >= 1) {
      io.push(floatValue(ASCENT_IO.m(k), full));
      outs.push(floatValue(ASCENT_IO.out(ASCENT_IO.m(k)), full));
    }
    if (moments >= 2) {
      io.push(floatValue(ASCENT_IO.v(k), full));
      outs.push(floatValue(ASCENT_IO.out(ASCENT_IO.v(k)), full));
    }
    io.push(floatValue(ASCENT_IO.bestX(k), full));
    outs.push(floatValue(ASCENT_IO.out(ASCENT_IO.bestX(k)), full));
    io.push(floatValue(ASCENT_IO.alpha(k), [K, rows, 1]));
    const stage = p.pipeline?.inputs[k];
    if (stage?.transforms.length) io.push({ name: ASCENT_IO.draws(k), dataType: drawKind(stage) === 'shift' ? DataType.INT64 : DataType.DOUBLE, dims: [K, rows, drawWidth(stage)] });
  }
  io.push(floatValue(ASCENT_IO.bestValue, [rows]));
  outs.push(floatValue(ASCENT_IO.out(ASCENT_IO.bestValue), [rows]), floatValue(ASCENT_IO.values, [K, rows]), floatValue(ASCENT_IO.best, [K, rows]), floatValue(ASCENT_IO.bad, [rows]));
  return b.model(io, outs);
}
