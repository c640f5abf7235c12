import { DataType, type ModelDef, type NodeDef, type TensorDef } from './proto.js';
import { GRAPH_IO } from './graph.js';

/*
 * Unrolls K steps of projected gradient ascent into ONE ONNX graph: per step the compiled
 * forward + input-gradient graph, best-so-far tracking per row, the optimiser update (Adam or sign)
 * and the per-feature box clip. One onnxruntime call then does K steps with no JavaScript per step.
 *
 * Adam's moments are kept unnormalised (m̃ = Σ β1^j g, ṽ = Σ β2^j g²): the same update as
 * m = (1-β1)·m̃, v = (1-β2)·ṽ with the constants folded into the per-row step `alpha` and `eps`,
 * which saves two full-size ops per step.
 */

/** Names of the ascent graph's inputs and outputs. */
export const ASCENT_IO = {
  x: 'x',
  m: 'm',
  v: 'v',
  bestX: 'best_x',
  bestValue: 'best_value',
  /** [K, rows, 1, …] per-step, per-row step size. */
  alpha: 'alpha',
  xOut: 'x_out',
  mOut: 'm_out',
  vOut: 'v_out',
  bestXOut: 'best_x_out',
  bestValueOut: 'best_value_out',
  /** [K, rows] objective value of each row at each step (before that step's update). */
  values: 'values',
  /** [K, rows] best value so far after each step's recording. */
  best: 'best',
  /** [rows] finite when every value and gradient of the row was finite during the chunk. */
  bad: 'bad',
} as const;

/** What the unrolled steps do. */
export interface AscentGraphOptions {
  optimizer: 'adam' | 'sign';
  /** Steps unrolled into the graph. */
  steps: number;
  /** Per-feature bounds (flat, the input's layout). */
  lo: Float32Array;
  hi: Float32Array;
  /** Adam's decay rates and the epsilon of the unnormalised form (eps / √(1-β2)). */
  b1: number;
  b2: number;
  eps: number;
}

/** Nodes needed to compute `wanted` (walking back from them). */
function prune(nodes: NodeDef[], wanted: string[]): NodeDef[] {
  const producer = new Map<string, NodeDef>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<NodeDef>();
  const stack = [...wanted];
  while (stack.length) {
    const name = stack.pop()!;
    const n = producer.get(name);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    stack.push(...n.inputs);
  }
  return nodes.filter((n) => keep.has(n));
}

/**
 * Build the K-step ascent graph from a gradient graph made by `buildGradientGraph` (input `x`,
 * outputs `value` and `grad`) for `rows` rows of `inputShape`.
 *
 * @example
 * const grad = buildGradientGraph(model, readouts, 60);
 * const def = buildAscentGraph(grad, 60, [784], { optimizer: 'adam', steps: 10, lo, hi, b1: 0.9, b2: 0.999, eps: 3.2e-7 });
 */
export function buildAscentGraph(gradient: ModelDef, rows: number, inputShape: number[], opts: AscentGraphOptions): ModelDef {
  const K = opts.steps;
  if (!(K >= 1)) throw new Error('an ascent graph needs at least one step');
  const body = prune(gradient.nodes, [GRAPH_IO.value, GRAPH_IO.grad]);
  const inits: TensorDef[] = [...gradient.initializers];
  const shared = new Set(inits.map((t) => t.name));
  const nodes: NodeDef[] = [];
  let counter = 0;
  const fresh = (base: string) => `${base}__a${counter++}`;
  const op = (o: string, inputs: string[], attrs?: NodeDef['attrs'], out?: string): string => {
    const name = out ?? fresh(o.toLowerCase());
    nodes.push({ op: o, inputs, outputs: [name], attrs });
    return name;
  };
  const constF = (base: string, data: Float32Array, dims: number[]) => {
    const name = fresh(base);
    inits.push({ name, dims, dataType: DataType.FLOAT, data });
    return name;
  };
  const constI64 = (base: string, data: number[], dims = [data.length]) => {
    const name = fresh(base);
    inits.push({ name, dims, dataType: DataType.INT64, data });
    return name;
  };
  const scalar = (v: number) => constF('c', Float32Array.of(v), []);
  const rank1 = inputShape.map(() => 1);
  const zero = scalar(0);
  const flatShape = constI64('flat', [rows, -1]);
  const axis1 = constI64('axes', [1]);
  const rowShape = constI64('rowshape', [rows, ...rank1]);
  const axis0 = constI64('axes', [0]);

  // The box clip: one Clip when the bounds are uniform, else Min/Max with per-feature tensors.
  const uniform = opts.lo.every((v) => v === opts.lo[0]) && opts.hi.every((v) => v === opts.hi[0]);
  const loT = uniform ? scalar(opts.lo[0]) : constF('lo', opts.lo, inputShape);
  const hiT = uniform ? scalar(opts.hi[0]) : constF('hi', opts.hi, inputShape);
  const clip = (x: string, out?: string) => (uniform ? op('Clip', [x, loT, hiT], undefined, out) : op('Max', [op('Min', [x, hiT]), loT], undefined, out));

  const b1 = scalar(opts.b1), b2 = scalar(opts.b2), eps = scalar(opts.eps);
  let x: string = ASCENT_IO.x;
  let m: string = ASCENT_IO.m;
  let v: string = ASCENT_IO.v;
  let bestX: string = ASCENT_IO.bestX;
  let bestV: string = ASCENT_IO.bestValue;
  let bad: string | null = null;
  const values: string[] = [];
  const bests: string[] = [];
  const last = (j: number) => j === K - 1;

  for (let j = 0; j < K; j++) {
    // Inline the gradient graph with fresh names; weights stay shared.
    const rename = new Map<string, string>([[GRAPH_IO.input, x]]);
    const mapIn = (s: string) => (s === '' || shared.has(s) ? s : (rename.get(s) ?? s));
    for (const nd of body) {
      const outs = nd.outputs.map((o) => {
        const r = `${o}__s${j}`;
        rename.set(o, r);
        return r;
      });
      nodes.push({ op: nd.op, inputs: nd.inputs.map(mapIn), outputs: outs, attrs: nd.attrs });
    }
    const val = rename.get(GRAPH_IO.value)!;
    const g = rename.get(GRAPH_IO.grad)!;

    // Best so far, recorded before the update (NaN never wins).
    const improved = op('Greater', [val, bestV]);
    bestV = op('Where', [improved, val, bestV], undefined, last(j) ? ASCENT_IO.bestValueOut : undefined);
    bestX = op('Where', [op('Reshape', [improved, rowShape]), x, bestX], undefined, last(j) ? ASCENT_IO.bestXOut : undefined);
    values.push(op('Unsqueeze', [val, axis0]));
    bests.push(op('Unsqueeze', [bestV, axis0]));

    // Non-finite detector: val·0 is NaN exactly when val is not finite.
    let flag = op('Mul', [val, zero]);
    if (opts.optimizer === 'sign') flag = op('Add', [flag, op('Mul', [op('ReduceSum', [op('Reshape', [g, flatShape]), axis1], { keepdims: 0 }), zero])]);
    bad = bad === null ? flag : op('Add', [bad, flag]);

    const alpha = op('Gather', [ASCENT_IO.alpha, constI64('step', [j], [])], { axis: 0 });
    let step: string;
    if (opts.optimizer === 'adam') {
      m = op('Add', [op('Mul', [m, b1]), g], undefined, last(j) ? ASCENT_IO.mOut : undefined);
      v = op('Add', [op('Mul', [v, b2]), op('Mul', [g, g])], undefined, last(j) ? ASCENT_IO.vOut : undefined);
      step = op('Div', [m, op('Add', [op('Sqrt', [v]), eps])]);
    } else {
      step = op('Sign', [g]);
    }
    x = clip(op('Add', [x, op('Mul', [step, alpha])]), last(j) ? ASCENT_IO.xOut : undefined);
  }
  // A non-finite gradient leaves ṽ non-finite for good (Adam); sign checked Σg per step above.
  if (opts.optimizer === 'adam') bad = op('Add', [bad!, op('ReduceSum', [op('Reshape', [v, flatShape]), axis1], { keepdims: 0 })]);
  op('Identity', [bad!], undefined, ASCENT_IO.bad);
  op('Concat', values, { axis: 0 }, ASCENT_IO.values);
  op('Concat', bests, { axis: 0 }, ASCENT_IO.best);

  const F = DataType.FLOAT;
  const full = [rows, ...inputShape];
  const state = opts.optimizer === 'adam' ? ([[ASCENT_IO.m, ASCENT_IO.mOut], [ASCENT_IO.v, ASCENT_IO.vOut]] as const) : [];
  return {
    opset: 17,
    nodes,
    initializers: inits,
    inputs: [
      { name: ASCENT_IO.x, dataType: F, dims: full },
      ...state.map(([i]) => ({ name: i, dataType: F, dims: full })),
      { name: ASCENT_IO.bestX, dataType: F, dims: full },
      { name: ASCENT_IO.bestValue, dataType: F, dims: [rows] },
      { name: ASCENT_IO.alpha, dataType: F, dims: [K, rows, ...rank1] },
    ],
    outputs: [
      { name: ASCENT_IO.xOut, dataType: F, dims: full },
      ...state.map(([, o]) => ({ name: o, dataType: F, dims: full })),
      { name: ASCENT_IO.bestXOut, dataType: F, dims: full },
      { name: ASCENT_IO.bestValueOut, dataType: F, dims: [rows] },
      { name: ASCENT_IO.values, dataType: F, dims: [K, rows] },
      { name: ASCENT_IO.best, dataType: F, dims: [K, rows] },
      { name: ASCENT_IO.bad, dataType: F, dims: [rows] },
    ],
  };
}
