import type { AscentPlan } from '../engine.js';
import { floatValue, type OnnxBuilder } from './builder.js';
import { DataType, type ModelDef, type ValueDef } from './proto.js';
import { emitStep, stepShared, type StepProblem } from './step.js';
import { drawFormat } from './pipeline/warp.js';

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
  /** [K, rows, width] transform draws of input k (see `drawFormat`). */
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

/** The 3×3 binomial blur of pixel rows (H×W×C, or C×H×W when `channelsFirst`), edge clamped, blended by `weight`: x + weight·(blur(x) − x). */
function emitBlur(b: OnnxBuilder, x: string, dims: [number, number, number], weight: number, channelsFirst: boolean): string {
  const [h, w, c] = dims;
  const img = channelsFirst ? b.op1('Reshape', [x, b.i64([0, c, h, w])]) : b.op1('Transpose', [b.op1('Reshape', [x, b.i64([0, h, w, c])])], { perm: [0, 3, 1, 2] });
  const padded = b.op1('Pad', [img, b.i64([0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'edge' });
  const k = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const kernel = b.f32('blur', Float32Array.from({ length: 9 * c }, (_, i) => k[i % 9]), [c, 1, 3, 3]);
  const blurred = b.op1('Conv', [padded, kernel], { kernel_shape: [3, 3], group: c });
  const back = b.op1('Reshape', [channelsFirst ? blurred : b.op1('Transpose', [blurred], { perm: [0, 2, 3, 1] }), b.i64([0, -1])]);
  return b.op1('Add', [x, b.op1('Mul', [b.op1('Sub', [back, x]), b.scalar(weight)])]);
}

/** How the K steps are laid out: an ONNX Loop over one step (small graph, quick to load) or K copies. */
export type StepLayout = 'loop' | 'unrolled';

/** The carried state of the ascent, per optimised input k. */
interface Carried {
  xs: string[];
  ms: string[];
  vs: string[];
  bestXs: string[];
  bestV: string;
  bad: string;
}

/**
 * The body of one step: gradient step, best tracking, optimiser, blur, clip. `j`: the step's index
 * (an int64 scalar name); `name(slot)` names the outputs of the last step (unrolled) or the body.
 */
function emitAscentStep(b: OnnxBuilder, p: StepProblem, shared: ReturnType<typeof stepShared>, plan: AscentPlan, clips: Array<{ lo: string; hi: string; uniform: boolean } | null>, state: Carried, j: string, name: (slot: string) => string | undefined): Carried & { value: string } {
  const rows = p.terms.rows;
  const rule = plan.optimizer;
  const op = (type: string, ins: string[], out?: string, attrs?: Parameters<OnnxBuilder['op1']>[2]) => (out ? b.named(type, ins, out, attrs) : b.op1(type, ins, attrs));
  const inputs = p.optimize.map((_, k) => k);
  const draws = inputs.map((k) => (p.pipeline?.inputs[k].transforms.length ? b.op1('Gather', [ASCENT_IO.draws(k), j], { axis: 0 }) : null));
  const { value, grads } = emitStep(b, p, shared, state.xs, draws);
  // Best so far, recorded before the update (NaN never wins).
  const improved = b.op1('Greater', [value, state.bestV]);
  const bestV = op('Where', [improved, value, state.bestV], name(ASCENT_IO.bestValue));
  // Rows that improved copy their x into bestX: one scatter of those rows (ORT's Where takes
  // about twice as long, broadcast or not, and runs every element).
  const improvedAt = b.op1('Transpose', [b.op1('NonZero', [improved])], { perm: [1, 0] });
  const bestXs = state.bestXs.map((bx, k) => op('ScatterND', [bx, improvedAt, b.op1('GatherND', [state.xs[k], improvedAt])], name(ASCENT_IO.bestX(k))));
  // Non-finite detector: v·0 is NaN exactly when v is not finite.
  const flags = [b.op1('Mul', [value, b.scalar(0)])];
  const ms = state.ms.slice(), vs = state.vs.slice();
  const xs = state.xs.map((x, k) => {
    const g = grads[k];
    const alpha = b.op1('Gather', [ASCENT_IO.alpha(k), j], { axis: 0 });
    let delta: string;
    if (rule === 'adam') {
      ms[k] = op('Add', [b.op1('Mul', [ms[k], b.scalar(plan.b1)]), g], name(ASCENT_IO.m(k)));
      vs[k] = op('Add', [b.op1('Mul', [vs[k], b.scalar(plan.b2)]), b.op1('Mul', [g, g])], name(ASCENT_IO.v(k)));
      delta = b.op1('Div', [ms[k], b.op1('Add', [b.op1('Sqrt', [vs[k]]), b.scalar(plan.eps)])]);
    } else if (rule === 'sgd') {
      ms[k] = op('Add', [b.op1('Mul', [ms[k], b.scalar(0.9)]), g], name(ASCENT_IO.m(k)));
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
    if (stage && stage.blur > 0 && stage.dims && !stage.param) next = emitBlur(b, next, stage.dims, stage.blur, stage.channelsFirst);
    const clip = clips[k];
    const out = name(ASCENT_IO.x(k));
    if (!clip) return out ? b.named('Identity', [next], out) : next;
    return clip.uniform ? op('Clip', [next, clip.lo, clip.hi], out) : op('Max', [b.op1('Min', [next, clip.hi]), clip.lo], out);
  });
  const bad = op('Sum', [state.bad, ...flags], name('bad_acc'));
  return { xs, ms, vs, bestXs, bestV, bad, value };
}

/**
 * Build the K-step ascent graph (K = the length of the step-size inputs, so one Loop graph serves
 * every chunk length; the unrolled layout is built for one K).
 *
 * @example
 * const def = buildAscentGraph(new OnnxBuilder(), problem, { optimizer: 'adam', bounds: [{ lo, hi }], b1: 0.9, b2: 0.999, eps: 3.2e-7 }, 'loop');
 */
export function buildAscentGraph(b: OnnxBuilder, p: StepProblem, plan: AscentPlan, layout: StepLayout = 'loop', K = 0): ModelDef {
  const rows = p.terms.rows;
  const sizes = variableSizes(p);
  const shared = stepShared(b, p);
  const inputs = p.optimize.map((_, k) => k);
  const moments = plan.optimizer === 'adam' ? 2 : plan.optimizer === 'sgd' ? 1 : 0;
  // Clip bounds: one Clip when uniform, else per-feature Min/Max.
  const clips = plan.bounds.map((bd, k) => {
    if (!bd) return null;
    const uniform = bd.lo.every((v) => v === bd.lo[0]) && bd.hi.every((v) => v === bd.hi[0]);
    if (uniform) return { lo: b.scalar(bd.lo[0]), hi: b.scalar(bd.hi[0]), uniform };
    return { lo: b.f32('lo', bd.lo, [1, sizes[k]]), hi: b.f32('hi', bd.hi, [1, sizes[k]]), uniform };
  });
  const start: Carried = {
    xs: inputs.map((k) => ASCENT_IO.x(k)),
    ms: inputs.map((k) => ASCENT_IO.m(k)),
    vs: inputs.map((k) => ASCENT_IO.v(k)),
    bestXs: inputs.map((k) => ASCENT_IO.bestX(k)),
    bestV: ASCENT_IO.bestValue,
    bad: b.op1('ConstantOfShape', [b.op1('Shape', [ASCENT_IO.bestValue])]),
  };
  const order = (c: Carried) => [...c.xs, ...(moments >= 1 ? c.ms : []), ...(moments >= 2 ? c.vs : []), ...c.bestXs, c.bestV, c.bad];
  const outNames = order({ xs: inputs.map((k) => ASCENT_IO.x(k)), ms: inputs.map((k) => ASCENT_IO.m(k)), vs: inputs.map((k) => ASCENT_IO.v(k)), bestXs: inputs.map((k) => ASCENT_IO.bestX(k)), bestV: ASCENT_IO.bestValue, bad: 'bad_acc' }).map(ASCENT_IO.out);
  let final: string[];
  if (layout === 'loop') {
    const body = b.body();
    const carriedIn = order(start).map((_, i) => `carried${i}_in`);
    const asState = (names: string[]): Carried => {
      let at = 0;
      const take = (n: number) => names.slice(at, (at += n));
      return { xs: take(inputs.length), ms: moments >= 1 ? take(inputs.length) : [], vs: moments >= 2 ? take(inputs.length) : [], bestXs: take(inputs.length), bestV: take(1)[0], bad: take(1)[0] };
    };
    // The step writes its carried outputs under their body-output names: an Identity between a
    // value another op also reads (Adam's moments) and the body's output is a full copy per step.
    const slots = order({ xs: inputs.map((k) => ASCENT_IO.x(k)), ms: inputs.map((k) => ASCENT_IO.m(k)), vs: inputs.map((k) => ASCENT_IO.v(k)), bestXs: inputs.map((k) => ASCENT_IO.bestX(k)), bestV: ASCENT_IO.bestValue, bad: 'bad_acc' });
    const outName = (slot: string) => (slots.includes(slot) ? `carried${slots.indexOf(slot)}_out` : undefined);
    const step = emitAscentStep(body, p, shared, plan, clips, asState(carriedIn), 'iter', outName);
    const carriedOut = order(step).map((n, i) => (n === `carried${i}_out` ? n : body.named('Identity', [n], `carried${i}_out`)));
    body.named('Identity', ['cond'], 'cond_out');
    const scanValue = body.named('Identity', [step.value], 'scan_value');
    const scanBest = body.named('Identity', [step.bestV], 'scan_best');
    const dims = order(start).map((_, i) => (i < order(start).length - 2 ? [rows, sizes[i % inputs.length]] : [rows]));
    const graph = {
      name: 'step',
      nodes: body.nodes,
      inputs: [{ name: 'iter', dataType: DataType.INT64, dims: [] }, { name: 'cond', dataType: DataType.BOOL, dims: [] }, ...carriedIn.map((n, i) => floatValue(n, dims[i]))],
      outputs: [{ name: 'cond_out', dataType: DataType.BOOL, dims: [] }, ...carriedOut.map((n, i) => floatValue(n, dims[i])), floatValue(scanValue, [rows]), floatValue(scanBest, [rows])],
    };
    const trips = b.op1('Reshape', [b.op1('Slice', [b.op1('Shape', [ASCENT_IO.alpha(0)]), b.i64([0]), b.i64([1])]), b.i64([], [0])]);
    const yes = b.op1('Cast', [b.i64([1], [])], { to: DataType.BOOL });
    final = b.op('Loop', [trips, yes, ...order(start)], { body: { graph } }, outNames.length + 2, [...outNames.map((n) => `${n}_loop`), ASCENT_IO.values, ASCENT_IO.best]).slice(0, outNames.length);
  } else {
    let state = start;
    const values: string[] = [];
    const bests: string[] = [];
    for (let j = 0; j < K; j++) {
      const last = j === K - 1;
      const next = emitAscentStep(b, p, shared, plan, clips, state, b.i64([j], []), (slot) => (last ? ASCENT_IO.out(slot) : undefined));
      values.push(b.op1('Unsqueeze', [next.value, b.i64([0])]));
      bests.push(b.op1('Unsqueeze', [next.bestV, b.i64([0])]));
      state = next;
    }
    b.named('Concat', values, ASCENT_IO.values, { axis: 0 });
    b.named('Concat', bests, ASCENT_IO.best, { axis: 0 });
    final = order(state);
  }
  const finalState = final;
  // The outputs under their names (the unrolled layout wrote most of them already).
  outNames.forEach((n, i) => {
    if (finalState[i] !== n) b.named('Identity', [finalState[i]], n);
  });
  // A non-finite gradient leaves ṽ non-finite for good (Adam); the other rules checked Σg per step.
  const flags = [ASCENT_IO.out('bad_acc')];
  if (plan.optimizer === 'adam') for (const k of inputs) flags.push(b.op1('ReduceSum', [ASCENT_IO.out(ASCENT_IO.v(k)), b.i64([1])], { keepdims: 0 }));
  b.named('Sum', flags, ASCENT_IO.bad);

  const io: ValueDef[] = [];
  const outs: ValueDef[] = [];
  const steps = layout === 'loop' ? 'K' : K;
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
    io.push(floatValue(ASCENT_IO.alpha(k), [steps, rows, 1]));
    const stage = p.pipeline?.inputs[k];
    if (stage?.transforms.length) io.push({ name: ASCENT_IO.draws(k), dataType: drawFormat(stage).dataType, dims: [steps, rows, drawFormat(stage).width] });
  }
  io.push(floatValue(ASCENT_IO.bestValue, [rows]));
  outs.push(floatValue(ASCENT_IO.out(ASCENT_IO.bestValue), [rows]), floatValue(ASCENT_IO.values, [steps, rows]), floatValue(ASCENT_IO.best, [steps, rows]), floatValue(ASCENT_IO.bad, [rows]));
  return b.model(io, outs);
}
