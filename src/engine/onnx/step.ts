import type { IrGraph } from '../../ir/ir.js';
import type { BatchTerms } from '../../objectives/terms.js';
import type { InputStage, PipelineSpec } from '../../pipeline/spec.js';
import type { OnnxBuilder } from './builder.js';
import type { Val } from './layout.js';
import { emitBackward, emitForward, NetEmitter, type LayoutMode } from './net.js';
import { emitObjective, objectiveValues, tapValue } from './objective.js';
import { emitDiversitySeed } from './pipeline/diversity.js';
import { emitRender, paramConstants, type ParamConstants } from './pipeline/param.js';
import { emitPenalty, tvAxes } from './pipeline/penalty.js';
import { emitWarp } from './pipeline/warp.js';

/*
 * One optimisation step as ONNX ops: the optimised variables → parameterisation → each row's
 * transform → the network → the objective (value per row) and the regularisers → the gradient
 * w.r.t. the variables. The unrolled ascent (ascent.ts) emits it once per step; valueAndGrad and
 * evaluate graphs use it alone.
 */

/** What a step is compiled for. */
export interface StepProblem {
  ir: IrGraph;
  terms: BatchTerms;
  rowsPerTarget: number;
  /** Model inputs optimised (indices into `ir.inputs`), in the order of the variables. */
  optimize: number[];
  /** Held inputs (one example, flat) by model input index. */
  fixed: Map<number, Float32Array>;
  pipeline: PipelineSpec | null;
  layout: LayoutMode;
}

/** Per-graph things every step shares: parameterisation constants, held inputs, the network's constants. */
export interface StepShared {
  params: Array<ParamConstants | null>;
  fixed: Map<number, string>;
  net: NetEmitter;
}

/** Write the shared constants. @example const shared = stepShared(b, problem) */
export function stepShared(b: OnnxBuilder, p: StepProblem): StepShared {
  const rows = p.terms.rows;
  const fixed = new Map<number, string>();
  for (const [i, v] of p.fixed) {
    const shape = p.ir.inputs[i].shape;
    const tiled = new Float32Array(rows * v.length);
    for (let r = 0; r < rows; r++) tiled.set(v, r * v.length);
    fixed.set(i, b.f32('held', tiled, [rows, ...shape]));
  }
  return {
    params: p.optimize.map((_, k) => (p.pipeline?.inputs[k].param ? paramConstants(b, p.pipeline.inputs[k].param!) : null)),
    fixed,
    net: new NetEmitter(b, p.ir, p.layout),
  };
}

/** A value with the map taking a gradient of the result back to a gradient of the source. */
interface Mapped {
  x: string;
  backward(d: string): string;
}

/**
 * Input k [rows, ...shape] as H×W×C pictures, for the stages that work on pictures: a transpose
 * for a channels-first input, the input itself otherwise.
 */
function asPictures(b: OnnxBuilder, stage: InputStage, t: string): Mapped & { shape: number[] } {
  if (!stage.channelsFirst) return { x: t, shape: stage.shape, backward: (d) => d };
  const [h, w, c] = stage.dims!;
  return {
    x: b.op1('Transpose', [b.op1('Reshape', [t, b.i64([0, c, h, w])])], { perm: [0, 2, 3, 1] }),
    shape: [h, w, c],
    backward: (d) => b.op1('Transpose', [d], { perm: [0, 3, 1, 2] }),
  };
}

/** Render the variables of input k into the model's layout (or reshape plain pixels). */
function render(b: OnnxBuilder, p: StepProblem, shared: StepShared, k: number, x: string): Mapped {
  const pc = shared.params[k];
  const stage = p.pipeline?.inputs[k];
  if (pc) {
    const pictures = emitRender(b, pc, x);
    if (!stage?.channelsFirst) return pictures;
    // The model's edge: pictures → channels-first.
    return {
      x: b.op1('Transpose', [pictures.x], { perm: [0, 3, 1, 2] }),
      backward: (d) => pictures.backward(b.op1('Transpose', [d], { perm: [0, 2, 3, 1] })),
    };
  }
  const shape = p.ir.inputs[p.optimize[k]].shape;
  return { x: b.op1('Reshape', [x, b.i64([0, ...shape])]), backward: (d: string) => b.op1('Reshape', [d, b.i64([0, -1])]) };
}

/** Input k through this step's transforms (on its pictures; `rows` per batch), with the gradient map. */
function warp(b: OnnxBuilder, stage: InputStage, x: string, draws: string, rows: number): Mapped {
  const pictures = asPictures(b, stage, x);
  const warped = emitWarp(b, { ...stage, shape: pictures.shape }, pictures.x, draws, rows);
  if (!stage.channelsFirst) return { x: warped.y, backward: warped.backward };
  return {
    x: b.op1('Transpose', [warped.y], { perm: [0, 3, 1, 2] }),
    backward: (d) => pictures.backward(warped.backward(b.op1('Transpose', [d], { perm: [0, 2, 3, 1] }))),
  };
}

/** Network inputs by IR input name. */
function networkInputs(p: StepProblem, shared: StepShared, seen: string[]): Map<string, string> {
  return new Map(p.ir.inputs.map((inp, i) => {
    const k = p.optimize.indexOf(i);
    return [inp.name, k >= 0 ? seen[k] : shared.fixed.get(i)!];
  }));
}

/**
 * One step: value per row and the gradient w.r.t. each variable tensor ([rows, size] each).
 * `draws[k]`: this step's draws of input k ([rows, 2] int64 or [rows, 6] float64), or null.
 *
 * @example
 * const { value, grads } = emitStep(b, problem, shared, ['x'], [null]);
 */
export function emitStep(b: OnnxBuilder, p: StepProblem, shared: StepShared, xs: string[], draws: Array<string | null>): { value: string; grads: string[] } {
  const net = shared.net.again(b);
  const rendered = xs.map((x, k) => render(b, p, shared, k, x));
  const warps = rendered.map((r, k) => {
    const stage = p.pipeline?.inputs[k];
    return stage?.transforms.length && draws[k] ? warp(b, stage, r.x, draws[k]!, p.terms.rows) : null;
  });
  const seen = rendered.map((r, k) => warps[k]?.x ?? r.x);
  const wanted = objectiveValues(p.ir, p.terms);
  const diversity = p.pipeline?.diversity ? tapValue(p.ir, { layer: p.pipeline.diversity.layer, pre: false }) : null;
  if (diversity) wanted.push(diversity);
  emitForward(net, networkInputs(p, shared, seen), wanted);
  const inputVals: Val[] = p.ir.inputs.map((inp) => net.val(inp.name));
  const { value, seeds } = emitObjective(net, p.terms, inputVals);
  if (diversity) {
    const s = emitDiversitySeed(net, net.val(diversity), p.rowsPerTarget, p.pipeline!.diversity!.weight, p.pipeline!.diversity!.channelAxis);
    if (s) seeds.set(diversity, [...(seeds.get(diversity) ?? []), s]);
  }
  const names = p.optimize.map((i) => p.ir.inputs[i].name);
  const back = emitBackward(net, seeds, names);
  const grads = xs.map((x, k) => {
    const g = back.get(names[k]);
    const terms: string[] = [];
    if (g) terms.push(warps[k] ? warps[k]!.backward(g.name) : g.name);
    const stage = p.pipeline?.inputs[k];
    if (stage?.penalties.length) {
      // Penalties read the pictures (TV along H and W); each is subtracted: its gradient scaled by −weight.
      const pictures = asPictures(b, stage, rendered[k].x);
      const { shape } = pictures;
      const channelAxis = stage.channelsFirst || shape.length === 3;
      for (const pen of stage.penalties) {
        const penalty = emitPenalty(b, pen.kind, pictures.x, shape, tvAxes(shape, channelAxis), false, p.terms.rows, -pen.weight);
        // The parts of a gradient join the network's in one Add chain (no pass to sum them first) where no transpose sits between.
        if (stage.channelsFirst) terms.push(pictures.backward(b.sum(penalty.grads)));
        else terms.push(...penalty.grads);
      }
    }
    if (!terms.length) return b.op1('Mul', [x, b.scalar(0)]);
    return rendered[k].backward(b.sum(terms));
  });
  return { value, grads };
}

/**
 * Evaluation without transforms: value per row, every model output that is not dynamic (IR
 * layout, flat per row) and the rendered optimised inputs.
 *
 * @example
 * const { value, outputs, inputs } = emitEvaluation(b, problem, shared, ['x']);
 */
export function emitEvaluation(b: OnnxBuilder, p: StepProblem, shared: StepShared, xs: string[]): { value: string; outputs: Array<string | null>; inputs: string[] } {
  const net = shared.net.again(b);
  const rendered = xs.map((x, k) => render(b, p, shared, k, x).x);
  // Outputs of dynamic ops are null here: TF.js computes them (dynamic-outputs.ts).
  const computed = p.ir.outputs.filter((o) => !p.ir.dynamic.has(o.value));
  const wanted = [...objectiveValues(p.ir, p.terms), ...computed.map((o) => o.value)];
  emitForward(net, networkInputs(p, shared, rendered), wanted);
  const { value } = emitObjective(net, p.terms, p.ir.inputs.map((inp) => net.val(inp.name)));
  const outputs = p.ir.outputs.map((o) => (p.ir.dynamic.has(o.value) ? null : b.op1('Reshape', [net.as(net.val(o.value), 'ir').name, b.i64([0, -1])])));
  return { value, outputs, inputs: rendered.map((r) => b.op1('Reshape', [r, b.i64([0, -1])])) };
}
