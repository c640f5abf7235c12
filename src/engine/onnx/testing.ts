import type * as Ort from 'onnxruntime-node';
import { size, type IrConst, type IrGraph, type IrNode } from '../../ir/ir.js';
import { floatValue, OnnxBuilder } from './builder.js';
import { type LayoutMode, NetEmitter, emitBackward, emitForward } from './net.js';
import { encodeModel } from './proto.js';
import { loadOnnxRuntime } from './runtime.js';

/*
 * Test helpers for the op rules: one-node (or few-node) IR graphs built by hand, compiled with a
 * fixed random read-out of their outputs (value = Σ R ⊙ y per row) and the gradient of that value
 * w.r.t. every graph input, then checked against central finite differences and the TF.js
 * reference. Not part of the public API.
 */

/** A seeded uniform stream in [0, 1) (LCG; tests only). */
export function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * n values spread over [lo, hi] at least `gap` apart and at least `gap` from 0, shuffled: inputs
 * for which small finite-difference steps cross no kink (ReLU at 0, max ties, clip bounds).
 */
export function separated(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const rand = uniforms(seed);
  const step = (hi - lo) / n;
  const out = Float32Array.from({ length: n }, (_, i) => {
    let v = lo + step * (i + 0.25 + 0.5 * rand());
    if (Math.abs(v) < step / 4) v += step / 2;
    return v;
  });
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A one-node graph over the given inputs and constants. */
export function oneNode(node: Omit<IrNode, 'name' | 'layer'> & { name?: string }, inputs: Record<string, number[]>, consts: Record<string, IrConst>, outShape: number[]): IrGraph {
  const name = node.name ?? 'y';
  const full = { ...node, name, layer: name } as IrNode;
  const shapes = new Map<string, number[]>(Object.entries(inputs));
  shapes.set(name, outShape);
  return {
    inputs: Object.entries(inputs).map(([n, shape]) => ({ name: n, shape })),
    outputs: [{ name, value: name }],
    nodes: [full],
    consts: new Map(Object.entries(consts)),
    shapes,
    layers: [{ name, kind: node.op, output: name, pre: name }],
    batch: 'free',
    dynamic: new Map(),
  };
}

/** A constant of random values. */
export function randomConst(shape: number[], seed: number, scale = 1): IrConst {
  const rand = uniforms(seed);
  return { shape, data: Float32Array.from({ length: size(shape) }, () => (2 * rand() - 1) * scale) };
}

/** The compiled probe of a graph: value = Σ R ⊙ output per row, and its gradient w.r.t. each input. */
export interface Probe {
  run(inputs: Record<string, Float32Array>, rows: number): Promise<{ value: Float32Array; grads: Record<string, Float32Array>; outputs: Float32Array[] }>;
  release(): Promise<void>;
}

/** Compile the probe of an IR graph (read-out weights seeded; batch free). @example const p = await probe(ir, 1) */
export async function probe(ir: IrGraph, seed: number, mode: LayoutMode = 'propagate'): Promise<Probe> {
  const ort = (await loadOnnxRuntime()) as typeof Ort;
  const b = new OnnxBuilder();
  const net = new NetEmitter(b, ir, mode);
  const wanted = ir.outputs.map((o) => o.value);
  emitForward(net, new Map(ir.inputs.map((i) => [i.name, i.name])), wanted);
  const terms: string[] = [];
  const seeds = new Map<string, Array<{ name: string; shape: number[]; layout: 'ir' }>>();
  ir.outputs.forEach((o, k) => {
    const shape = ir.shapes.get(o.value)!;
    const y = net.as(net.val(o.value), 'ir');
    const r = b.f32('readout', randomConst(shape, seed + 101 * k).data, [1, ...shape]);
    const rFull = b.op1('Expand', [r, b.op1('Shape', [y.name])]);
    const prodRy = b.op1('Mul', [y.name, rFull]);
    terms.push(b.op1('ReduceSum', [b.op1('Reshape', [prodRy, b.i64([0, -1])]), b.i64([1])], { keepdims: 0 }));
    seeds.set(o.value, [...(seeds.get(o.value) ?? []), { name: rFull, shape, layout: 'ir' }]);
    b.named('Identity', [y.name], `out_${k}`);
  });
  b.named('Identity', [b.sum(terms)], 'value');
  const grads = emitBackward(net, seeds, ir.inputs.map((i) => i.name));
  const outs = [floatValue('value', ['N']), ...ir.outputs.map((o, k) => floatValue(`out_${k}`, ['N', ...ir.shapes.get(o.value)!]))];
  for (const inp of ir.inputs) {
    const g = grads.get(inp.name);
    b.named('Identity', [g ? g.name : b.op1('Mul', [inp.name, b.scalar(0)])], `grad_${inp.name}`);
    outs.push(floatValue(`grad_${inp.name}`, ['N', ...inp.shape]));
  }
  const def = b.model(ir.inputs.map((i) => floatValue(i.name, ['N', ...i.shape])), outs);
  const session = await ort.InferenceSession.create(encodeModel(def), { intraOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  return {
    async run(inputs, rows) {
      const feeds: Record<string, Ort.Tensor> = {};
      for (const inp of ir.inputs) feeds[inp.name] = new ort.Tensor('float32', inputs[inp.name], [rows, ...inp.shape]);
      const out = await session.run(feeds);
      const data = (k: string) => out[k].data as Float32Array;
      return {
        value: data('value'),
        grads: Object.fromEntries(ir.inputs.map((i) => [i.name, data(`grad_${i.name}`)])),
        outputs: ir.outputs.map((_, k) => data(`out_${k}`)),
      };
    },
    release: () => session.release(),
  };
}

/**
 * Central finite differences of the probe's value at row 0 of `inputs`, along `count` coordinates
 * of each input (spread over the tensor), compared with the probe's gradient. Returns the worst
 * |fd − grad| relative to the largest gradient entry of that input.
 */
export async function finiteDifferenceError(p: Probe, ir: IrGraph, inputs: Record<string, Float32Array>, h = 1e-3, count = 24): Promise<number> {
  const base = await p.run(inputs, 1);
  let worst = 0;
  for (const inp of ir.inputs) {
    const n = size(inp.shape);
    const g = base.grads[inp.name];
    const coords = Array.from({ length: Math.min(count, n) }, (_, i) => Math.floor((i * n) / Math.min(count, n)));
    const rows = 2 * coords.length;
    const feeds: Record<string, Float32Array> = {};
    for (const other of ir.inputs) {
      const m = size(other.shape);
      const x = new Float32Array(rows * m);
      for (let r = 0; r < rows; r++) x.set(inputs[other.name].subarray(0, m), r * m);
      if (other.name === inp.name) coords.forEach((c, i) => {
        x[2 * i * m + c] += h;
        x[(2 * i + 1) * m + c] -= h;
      });
      feeds[other.name] = x;
    }
    const { value } = await p.run(feeds, rows);
    const scale = Math.max(1e-6, ...Array.from(g, Math.abs));
    const x = feeds[inp.name];
    coords.forEach((c, i) => {
      // The float32 step actually taken.
      const step = x[2 * i * n + c] - x[(2 * i + 1) * n + c];
      const fd = (value[2 * i] - value[2 * i + 1]) / step;
      worst = Math.max(worst, Math.abs(fd - g[c]) / scale);
    });
  }
  return worst;
}
