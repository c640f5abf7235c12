/**
 * One IR node as sparse affine expressions over the network's variables (src/ir/ir.ts semantics,
 * per example). Piecewise-linear ops add ReLU/leaky/max variables; other nonlinear ops leave
 * their value unsupported with the reason, so nodes before them stay usable.
 */
import type { IrNode } from '../ir/ir.js';
import { resizeMatrix } from '../ir/tfjs-movement.js';
import { constant, type PLBuilder } from './pl-builder.js';
import type { LinExpr } from './network.js';

/** A node's operand: expressions (values) or numbers (constants), with its per-example shape. */
export interface Operand {
  shape: number[];
  exprs?: LinExpr[];
  data?: ArrayLike<number>;
}

type Result = { exprs: LinExpr[] } | { unsupported: string };

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const stridesOf = (s: number[]) => s.map((_, i) => prod(s.slice(i + 1)));

/** Expression k of an operand (constants become constant expressions). */
const at = (o: Operand, k: number): LinExpr => (o.exprs ? o.exprs[k] : constant(Number(o.data![k])));

/** For each output element, the flat index of the broadcast operand element (numpy rules, right-aligned). */
function broadcastIndex(out: number[], inShape: number[]): (i: number) => number {
  const os = stridesOf(out), is = stridesOf(inShape);
  const off = out.length - inShape.length;
  return (i) => {
    let j = 0;
    for (let d = 0; d < inShape.length; d++) {
      const coord = Math.floor(i / os[d + off]) % out[d + off];
      j += (inShape[d] === 1 ? 0 : coord) * is[d];
    }
    return j;
  };
}

/** The output elements as a function of their coordinates (copy-like ops). */
function byCoords(out: number[], f: (coords: number[]) => LinExpr): LinExpr[] {
  const n = prod(out);
  const os = stridesOf(out);
  return Array.from({ length: n }, (_, i) => f(out.map((d, k) => Math.floor(i / os[k]) % d)));
}

const nonPL = (node: IrNode) => ({ unsupported: `exact mode needs a piecewise-linear network: layer "${node.layer}" uses ${node.op.toLowerCase()}` });

function elementwise(node: IrNode, b: PLBuilder, x: Operand): Result {
  const l = node.layer;
  const e = x.exprs!;
  switch (node.op) {
    case 'Identity': return { exprs: e };
    case 'Neg': return { exprs: e.map((v) => b.affine([v], [-1])) };
    case 'Relu': return { exprs: e.map((v) => b.relu(v, l)) };
    case 'Relu6': return { exprs: e.map((v) => b.clip(v, 0, 6, l)) };
    case 'Clip': return { exprs: e.map((v) => b.clip(v, node.min, node.max, l)) };
    case 'HardSigmoid': return { exprs: e.map((v) => b.clip(b.affine([v], [node.alpha], node.beta), 0, 1, l)) };
    case 'Abs': return { exprs: e.map((v) => b.affine([b.relu(v, l), b.relu(b.affine([v], [-1]), l)], [1, 1])) };
    case 'LeakyRelu':
      if (!(node.alpha >= 0 && node.alpha < 1)) return { unsupported: `layer "${l}" is a LeakyReLU with alpha ${node.alpha}; exact mode supports 0 ≤ alpha < 1` };
      return { exprs: e.map((v) => (node.alpha === 0 ? b.relu(v, l) : b.leaky(v, node.alpha, l))) };
    default: return nonPL(node);
  }
}

function binary(node: IrNode, b: PLBuilder, a: Operand, c: Operand, out: number[]): Result {
  const ia = broadcastIndex(out, a.shape), ic = broadcastIndex(out, c.shape);
  const n = prod(out);
  const l = node.layer;
  const pair = (f: (x: LinExpr, y: LinExpr, i: number) => LinExpr) => ({ exprs: Array.from({ length: n }, (_, i) => f(at(a, ia(i)), at(c, ic(i)), i)) });
  const scale = (v: Operand, k: Operand, f: (w: number) => number, idx: (i: number) => number, kdx: (i: number) => number) =>
    ({ exprs: Array.from({ length: n }, (_, i) => b.affine([at(v, idx(i))], [f(Number(k.data![kdx(i)]))])) });
  switch (node.op) {
    case 'Add': return pair((x, y) => b.affine([x, y], [1, 1]));
    case 'Sub': return pair((x, y) => b.affine([x, y], [1, -1]));
    case 'Mul':
      if (c.data) return scale(a, c, (w) => w, ia, ic);
      if (a.data) return scale(c, a, (w) => w, ic, ia);
      return { unsupported: `exact mode: layer "${l}" multiplies two values computed from the input` };
    case 'Div':
      if (c.data) return scale(a, c, (w) => 1 / w, ia, ic);
      return { unsupported: `exact mode: layer "${l}" divides by a value computed from the input` };
    case 'Maximum': return pair((x, y) => b.maxOf([x, y], l));
    case 'Minimum': return pair((x, y) => b.affine([b.maxOf([b.affine([x], [-1]), b.affine([y], [-1])], l)], [-1]));
    case 'Prelu':
      if (!c.data) return nonPL(node);
      return pair((x, _y, i) => {
        const alpha = Number(c.data![ic(i)]);
        // relu(x) − alpha·relu(−x) for any alpha; a leaky variable when 0 < alpha < 1.
        return alpha === 0 ? b.relu(x, l) : alpha > 0 && alpha < 1 ? b.leaky(x, alpha, l) : b.affine([b.relu(x, l), b.relu(b.affine([x], [-1]), l)], [1, -alpha]);
      });
    default: return nonPL(node);
  }
}

/** 2-D window ops on [H, W, C]: for each output cell, its (input index, kernel offset) taps. */
function windows(inShape: number[], k: [number, number], s: [number, number], d: [number, number], pads: number[], f: (oy: number, ox: number, taps: Array<{ iy: number; ix: number; a: number; e: number }>) => void): [number, number] {
  const [h, w] = inShape;
  const oh = Math.floor((h + pads[0] + pads[1] - ((k[0] - 1) * d[0] + 1)) / s[0]) + 1;
  const ow = Math.floor((w + pads[2] + pads[3] - ((k[1] - 1) * d[1] + 1)) / s[1]) + 1;
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const taps: Array<{ iy: number; ix: number; a: number; e: number }> = [];
    for (let a = 0; a < k[0]; a++) for (let e = 0; e < k[1]; e++) {
      const iy = oy * s[0] + a * d[0] - pads[0], ix = ox * s[1] + e * d[1] - pads[2];
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) taps.push({ iy, ix, a, e });
    }
    f(oy, ox, taps);
  }
  return [oh, ow];
}

function convolution(node: IrNode & { op: 'Conv2D' | 'DepthwiseConv2D' }, b: PLBuilder, x: Operand, wOp: Operand, bias: Operand | undefined): Result {
  const [, w, cin] = x.shape;
  const [kh, kw, fin, fout] = wOp.shape;
  const W = wOp.data!;
  const xe = b.atomic(x.exprs!, node.layer);
  const out: LinExpr[] = [];
  const depthwise = node.op === 'DepthwiseConv2D';
  const groups = depthwise ? cin : (node as { groups?: number }).groups ?? 1;
  const cout = depthwise ? cin * fout : fout;
  windows(x.shape, [kh, kw], node.strides, node.dilations, node.pads, (_oy, _ox, taps) => {
    for (let co = 0; co < cout; co++) {
      const g = depthwise ? Math.floor(co / fout) : Math.floor(co / (cout / groups));
      for (const t of taps) {
        for (let ci = 0; ci < (depthwise ? 1 : fin); ci++) {
          const inC = depthwise ? g : g * fin + ci;
          const widx = depthwise ? ((t.a * kw + t.e) * fin + g) * fout + (co % fout) : ((t.a * kw + t.e) * fin + ci) * fout + co;
          b.acc.add(xe[(t.iy * w + t.ix) * cin + inC], Number(W[widx]));
        }
      }
      if (bias) b.acc.constant(Number(bias.data![co]));
      out.push(b.acc.take());
    }
  });
  return { exprs: out };
}

function pooling(node: IrNode & { op: 'MaxPool' | 'AvgPool' }, b: PLBuilder, x: Operand): Result {
  const [, w, c] = x.shape;
  const out: LinExpr[] = [];
  windows(x.shape, node.ksize, node.strides, [1, 1], node.pads, (_oy, _ox, taps) => {
    for (let ch = 0; ch < c; ch++) {
      const cells = taps.map((t) => x.exprs![(t.iy * w + t.ix) * c + ch]);
      // TF averages over the cells inside the image only.
      out.push(node.op === 'MaxPool' ? b.maxOf(cells, node.layer) : b.affine(cells, cells.map(() => 1 / cells.length)));
    }
  });
  return { exprs: out };
}

/** A linear map along H and W: out[i, j, c] = Σ Ah[i, a]·Aw[j, e]·x[a, e, c] (resize, transposed conv). */
function separable(b: PLBuilder, x: Operand, ah: Float32Array, aw: Float32Array, oh: number, ow: number): Result {
  const [h, w, c] = x.shape;
  const out: LinExpr[] = [];
  for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let ch = 0; ch < c; ch++) {
    for (let a = 0; a < h; a++) {
      const wa = ah[i * h + a];
      if (wa === 0) continue;
      for (let e = 0; e < w; e++) if (aw[j * w + e] !== 0) b.acc.add(x.exprs![(a * w + e) * c + ch], wa * aw[j * w + e]);
    }
    out.push(b.acc.take());
  }
  return { exprs: out };
}

function transposedConv(node: IrNode & { op: 'Conv2DTranspose' }, b: PLBuilder, x: Operand, wOp: Operand, bias: Operand | undefined): Result {
  const [h, w, cin] = x.shape;
  const [kh, kw, cout] = wOp.shape;
  const [oh, ow] = node.outputSize;
  const W = wOp.data!;
  const parts: Array<Array<[LinExpr, number]>> = Array.from({ length: oh * ow * cout }, () => []);
  // The transpose of a conv (output → input): input cell (y, x) feeds output cell y·s + a − pad.
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let a = 0; a < kh; a++) for (let e = 0; e < kw; e++) {
    const oy = y * node.strides[0] + a - node.pads[0], ox = xx * node.strides[1] + e - node.pads[2];
    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
    for (let co = 0; co < cout; co++) for (let ci = 0; ci < cin; ci++) parts[(oy * ow + ox) * cout + co].push([x.exprs![(y * w + xx) * cin + ci], Number(W[((a * kw + e) * cout + co) * cin + ci])]);
  }
  return { exprs: parts.map((p, i) => b.affine(p.map((q) => q[0]), p.map((q) => q[1]), bias ? Number(bias.data![i % cout]) : 0)) };
}

function reduce(node: IrNode & { op: 'Mean' | 'Sum' | 'Max' | 'Min'; axes: number[] }, b: PLBuilder, x: Operand, out: number[]): Result {
  const rank = x.shape.length;
  const axes = new Set(node.axes.map((a) => (a < 0 ? a + rank + 1 : a) - 1));
  const keptShape = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const groups: LinExpr[][] = Array.from({ length: prod(keptShape) }, () => []);
  const ks = stridesOf(keptShape), xs = stridesOf(x.shape);
  x.exprs!.forEach((e, i) => {
    let g = 0;
    x.shape.forEach((d, k) => (g += axes.has(k) ? 0 : (Math.floor(i / xs[k]) % d) * ks[k]));
    groups[g].push(e);
  });
  const l = node.layer;
  const exprs = groups.map((cells) => {
    if (node.op === 'Sum' || node.op === 'Mean') return b.affine(cells, cells.map(() => (node.op === 'Mean' ? 1 / cells.length : 1)));
    if (node.op === 'Max') return b.maxOf(cells, l);
    return b.affine([b.maxOf(cells.map((c) => b.affine([c], [-1])), l)], [-1]);
  });
  return prod(out) === exprs.length ? { exprs } : { unsupported: `exact mode: reduction "${node.name}" does not fit` };
}

/**
 * Expressions of one node's output, or why there are none.
 *
 * @example
 * const r = plNode(node, builder, [x, w, bias], [4, 4, 8]);
 */
export function plNode(node: IrNode, b: PLBuilder, ins: Operand[], out: number[]): Result {
  const x = ins[0];
  switch (node.op) {
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Maximum': case 'Minimum': case 'Prelu': case 'SquaredDifference': case 'Pow':
      return binary(node, b, ins[0], ins[1], out);
    case 'MatMul': {
      if (!ins[1].data) return { unsupported: `exact mode: layer "${node.layer}" multiplies two values computed from the input` };
      const [r0, r1] = ins[1].shape;
      const [k, n] = node.transposeB ? [r1, r0] : [r0, r1];
      const W = ins[1].data;
      const xe = b.atomic(x.exprs!, node.layer);
      const exprs: LinExpr[] = [];
      for (let p = 0; p < xe.length / k; p++) for (let u = 0; u < n; u++) {
        for (let i = 0; i < k; i++) b.acc.add(xe[p * k + i], Number(W[node.transposeB ? u * k + i : i * n + u]));
        if (ins[2]) b.acc.constant(Number(ins[2].data![u]));
        exprs.push(b.acc.take());
      }
      return { exprs };
    }
    case 'Conv2D': case 'DepthwiseConv2D': return convolution(node, b, x, ins[1], ins[2]);
    case 'Conv2DTranspose': return transposedConv(node, b, x, ins[1], ins[2]);
    case 'MaxPool': case 'AvgPool': return pooling(node, b, x);
    case 'Resize': {
      const [h, w] = x.shape;
      const m = (i: number, o: number) => resizeMatrix(i, o, node.method, node.alignCorners, node.halfPixelCenters);
      return separable(b, x, m(h, node.size[0]), m(w, node.size[1]), node.size[0], node.size[1]);
    }
    case 'Mean': case 'Sum': case 'Max': case 'Min': return reduce(node, b, x, out);
    case 'Reshape': return { exprs: x.exprs! };
    case 'Transpose': {
      const xs = stridesOf(x.shape);
      return { exprs: byCoords(out, (c) => x.exprs![c.reduce((s, v, k) => s + v * xs[node.perm[k + 1] - 1], 0)]) };
    }
    case 'Concat': {
      const ax = (node.axis < 0 ? node.axis + out.length + 1 : node.axis) - 1;
      const starts = ins.map((_, k) => ins.slice(0, k).reduce((s, o) => s + o.shape[ax], 0));
      return {
        exprs: byCoords(out, (c) => {
          const k = starts.findIndex((s, j) => c[ax] >= s && c[ax] < s + ins[j].shape[ax]);
          const o = ins[k];
          const local = c.slice();
          local[ax] -= starts[k];
          return at(o, local.reduce((s, v, d) => s + v * stridesOf(o.shape)[d], 0));
        }),
      };
    }
    case 'Pad': {
      const xs = stridesOf(x.shape);
      return {
        exprs: byCoords(out, (c) => {
          const src = c.map((v, d) => {
            const n = x.shape[d], i = v - node.pads[d][0];
            if (i >= 0 && i < n) return i;
            if (node.mode === 'constant') return -1;
            const skip = node.mode === 'reflect' ? 1 : 0;
            return i < 0 ? -i - 1 + skip : 2 * n - i - 1 - skip;
          });
          return src.includes(-1) ? constant(node.value) : x.exprs![src.reduce((s, v, d) => s + v * xs[d], 0)];
        }),
      };
    }
    case 'Slice': {
      const xs = stridesOf(x.shape);
      return { exprs: byCoords(out, (c) => x.exprs![c.reduce((s, v, d) => s + (Math.max(0, node.begin[d]) + v * node.steps[d]) * xs[d], 0)]) };
    }
    case 'Tile': {
      const xs = stridesOf(x.shape);
      return { exprs: byCoords(out, (c) => x.exprs![c.reduce((s, v, d) => s + (v % x.shape[d]) * xs[d], 0)]) };
    }
    default:
      return elementwise(node, b, x);
  }
}
