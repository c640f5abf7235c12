import type { IrGraph } from '../../ir/ir.js';
import { resolveValue } from '../../ir/values.js';
import type { Tap } from '../../model/activations.js';
import type { BatchTerms, TermGroup } from '../../objectives/terms.js';
import { layoutShape, type Val } from './layout.js';
import type { NetEmitter } from './net.js';
import { emitPenalty, tvAxes } from './pipeline/penalty.js';

/*
 * The objective of a batch as ONNX ops on the network's values: every term group's value per row,
 * and its gradient w.r.t. the value it reads (the seeds of the backward pass). Linear read-outs
 * seed their own weights; margin seeds +1 at its unit and −1 at the largest other (every tie, as
 * TF's max does); prob/target seed the model output; energy 2a/n; input penalties their gradient
 * at the input the network sees.
 */

/** The IR value of a tap: a layer's output or pre-activation, a node, or a graph input. @example tapValue(ir, { layer: 'dense_1', pre: true }) */
export function tapValue(ir: IrGraph, tap: Tap): string {
  const r = resolveValue(ir, tap.layer, tap.pre);
  if (r.kind === 'value') return r.value;
  throw new Error(r.kind === 'dynamic' ? `"${tap.layer}" is computed by the dynamic op ${r.op}` : `tap "${tap.layer}" is not a layer or value of the network`);
}

/** IR values the terms read (taps, outputs), for the forward pass. @example objectiveValues(ir, terms) */
export function objectiveValues(ir: IrGraph, terms: BatchTerms): string[] {
  const out: string[] = [];
  for (const g of terms.linear) out.push(tapValue(ir, g.tap));
  for (const g of terms.groups) {
    if ('tap' in g) out.push(tapValue(ir, g.tap));
    else if (g.kind === 'prob' || g.kind === 'target') out.push(ir.outputs[g.output].value);
  }
  return out;
}

/** Per-row weights [rows, units] of an IR-layout shape, rearranged for a value held NCHW. */
function rowsInLayout(w: Float32Array, rows: number, v: Val): Float32Array {
  if (v.layout === 'ir') return w;
  const [h, wd, c] = v.shape;
  const units = h * wd * c;
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let y = 0; y < h; y++) for (let x = 0; x < wd; x++) for (let k = 0; k < c; k++) out[r * units + (k * h + y) * wd + x] = w[r * units + (y * wd + x) * c + k];
  return out;
}

/**
 * Emit the objective: its value per row (ONNX name, [rows]) and the seeds of the backward pass by
 * IR value. `inputs` are the network's inputs as it sees them (after transforms), by model input.
 *
 * @example
 * const { value, seeds } = emitObjective(net, terms, inputVals);
 */
export function emitObjective(net: NetEmitter, terms: BatchTerms, inputs: Val[]): { value: string; seeds: Map<string, Val[]> } {
  const b = net.b;
  const rows = terms.rows;
  const values: string[] = [];
  const seeds = new Map<string, Val[]>();
  const seed = (irName: string, v: Val) => seeds.set(irName, [...(seeds.get(irName) ?? []), v]);
  const rowSum = (t: string) => b.op1('ReduceSum', [b.op1('Reshape', [t, b.i64([rows, -1])]), b.i64([1])], { keepdims: 0 });

  for (const g of terms.linear) {
    const name = tapValue(net.ir, g.tap);
    const v = net.val(name);
    const w = net.memo(`readout:${name}:${g.w.length}`, () => b.f32('readout', rowsInLayout(g.w, rows, v), [rows, ...layoutShape(v.shape, v.layout)]));
    values.push(rowSum(b.op1('Mul', [v.name, w])));
    seed(name, { name: w, shape: v.shape, layout: v.layout });
  }
  for (const g of terms.groups) {
    const weight = net.memo(`weight:${values.length}:${g.kind}`, () => b.f32('rowWeight', g.weight, [rows, 1]));
    const r = emitGroup(net, g, weight, inputs);
    values.push(r.value);
    seed(r.seedAt, r.seed);
  }
  const value = values.length ? b.sum(values) : b.op1('ConstantOfShape', [b.i64([rows])]);
  return { value, seeds };
}

function emitGroup(net: NetEmitter, g: TermGroup, weight: string, inputs: Val[]): { value: string; seedAt: string; seed: Val } {
  const b = net.b;
  const flatRow = (w: string) => b.op1('Reshape', [w, b.i64([-1])]);
  const onehot = () => net.memo(`onehot:${g.kind}:${'units' in g ? g.units : 0}:${weight}`, () => b.f32('onehot', (g as { onehot: Float32Array }).onehot, [g.weight.length, (g as { units: number }).units]));
  switch (g.kind) {
    case 'margin': {
      const at = tapValue(net.ir, g.tap);
      const zv = net.as(net.val(at), 'ir');
      const z = b.op1('Reshape', [zv.name, b.i64([0, g.units])]);
      const oh = onehot();
      const own = b.op1('ReduceSum', [b.op1('Mul', [z, oh]), b.i64([1])], { keepdims: 1 });
      const pushed = b.op1('Sub', [z, b.op1('Mul', [oh, b.scalar(1e9)])]);
      const others = b.op1('ReduceMax', [pushed], { axes: [1], keepdims: 1 });
      const value = flatRow(b.op1('Mul', [b.op1('Sub', [own, others]), weight]));
      const ties = b.op1('Cast', [b.op1('Equal', [pushed, others])], { to: 1 });
      const s = b.op1('Mul', [b.op1('Sub', [oh, ties]), weight]);
      return { value, seedAt: at, seed: { name: b.op1('Reshape', [s, b.i64([0, ...zv.shape])]), shape: zv.shape, layout: 'ir' } };
    }
    case 'prob':
    case 'target': {
      const at = net.ir.outputs[g.output].value;
      const yv = net.as(net.val(at), 'ir');
      const y = b.op1('Reshape', [yv.name, b.i64([0, g.units])]);
      const oh = onehot();
      const picked = b.op1('ReduceSum', [b.op1('Mul', [y, oh]), b.i64([1])], { keepdims: 1 });
      let value: string, s: string;
      if (g.kind === 'prob') {
        value = flatRow(b.op1('Mul', [picked, weight]));
        s = b.op1('Mul', [oh, weight]);
      } else {
        const target = net.memo(`targetValue:${weight}`, () => b.f32('targetValue', g.value, [g.value.length, 1]));
        const d = b.op1('Sub', [picked, target]);
        value = flatRow(b.op1('Neg', [b.op1('Mul', [b.op1('Mul', [d, d]), weight])]));
        s = b.op1('Mul', [oh, b.op1('Mul', [d, b.op1('Mul', [weight, b.scalar(-2)])])]);
      }
      return { value, seedAt: at, seed: { name: b.op1('Reshape', [s, b.i64([0, ...yv.shape])]), shape: yv.shape, layout: 'ir' } };
    }
    case 'energy': {
      const at = tapValue(net.ir, g.tap);
      const a = net.val(at);
      const n = a.shape.reduce((p, v) => p * v, 1);
      const w4 = b.op1('Reshape', [weight, b.i64([-1, ...a.shape.map(() => 1)])]);
      const value = flatRow(b.op1('Mul', [b.op1('ReduceMean', [b.op1('Reshape', [b.op1('Mul', [a.name, a.name]), b.i64([0, -1])])], { axes: [1], keepdims: 1 }), weight]));
      return { value, seedAt: at, seed: { name: b.op1('Mul', [a.name, b.op1('Mul', [w4, b.scalar(2 / n)])]), shape: a.shape, layout: a.layout } };
    }
    case 'inputPenalty': {
      const x = net.as(inputs[g.input], 'ir');
      const kind = g.penalty === 'inputL1' ? 'l1' : g.penalty === 'inputL2' ? 'l2' : 'tv';
      const p = emitPenalty(b, kind, x.name, x.shape, tvAxes(x.shape, x.shape.length >= 3), true);
      const w4 = b.op1('Reshape', [weight, b.i64([-1, ...x.shape.map(() => 1)])]);
      return { value: flatRow(b.op1('Mul', [b.op1('Unsqueeze', [p.value!, b.i64([1])]), weight])), seedAt: net.ir.inputs[g.input].name, seed: { name: b.op1('Mul', [b.sum(p.grads), w4]), shape: x.shape, layout: 'ir' } };
    }
  }
}
