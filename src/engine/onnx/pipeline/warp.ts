import { AFFINE_SIZE, isShiftChain } from '../../../transforms/affine.js';
import type { InputStage } from '../../../pipeline/spec.js';
import type { OnnxBuilder } from '../builder.js';
import { DataType } from '../proto.js';

/*
 * Per-row transforms as ONNX ops, the same sampling as the TF.js reference (src/transforms):
 * every output pixel reads the source through its row's affine map, bilinear, with the fill rule
 * outside. Coordinates, taps and weights are computed in float64 from float64 draws, as the
 * reference computes them, so both engines pick the same taps with the same weights.
 *
 * Whole-pixel chains (jitter, pad) with a constant fill take a fast path: the image is padded once
 * with the fill value and each row reads a window of it at its own offset (one gather, its
 * indices a row of a table of the (2P+1)² shifts); the gradient is the opposite shift of the
 * zero-padded gradient (a gather again, no scatter).
 * Gathers run on rows flattened to 2-D (onnxruntime's GatherElements is far slower in 3-D).
 */

/** How a stage's per-step draws enter the graph. */
export interface DrawFormat {
  kind: 'shift' | 'affine';
  dataType: number;
  /** Numbers per row. */
  width: number;
  /** The affine draws (n × 6, float64) in this format. */
  encode(draws: Float64Array): Float64Array | Int32Array;
}

/** The largest whole-pixel shift a chain can draw (its jitters added up). @example reach(stage) // 2 for the small-image default */
export function reach(stage: InputStage): number {
  return stage.transforms.reduce((a, t) => a + (t.kind === 'jitter' ? t.pixels : 0), 0);
}

/**
 * The draw format of a stage: shift chains with a constant fill send one int32 per row (the
 * number of the row's whole-pixel shift), everything else the float64 maps.
 *
 * @example
 * drawFormat(stage).width // 1 for the small-image default (jitter ±2, constant fill)
 */
export function drawFormat(stage: InputStage): DrawFormat {
  if (!isShiftChain(stage.transforms) || stage.fill === 'edge') return { kind: 'affine', dataType: DataType.DOUBLE, width: AFFINE_SIZE, encode: (d) => d };
  const P = reach(stage);
  const side = 2 * P + 1;
  const [, w, c] = stage.dims!;
  const wp = w + 2 * P;
  const tabled = shiftTables(stage);
  return {
    kind: 'shift',
    dataType: DataType.INT32,
    width: 1,
    encode(d) {
      const n = d.length / AFFINE_SIZE;
      // Source = output + (ty, tx): the row's shift, numbered row-major over [−P, P]² (tables),
      // or the offset of the row's window in the padded, flattened image.
      return Int32Array.from({ length: n }, (_, i) => {
        const ty = d[i * AFFINE_SIZE + 2], tx = d[i * AFFINE_SIZE + 5];
        if (!tabled) return (ty * wp + tx) * c;
        if (!(Math.abs(ty) <= P && Math.abs(tx) <= P && Number.isInteger(ty) && Number.isInteger(tx))) throw new Error(`a whole-pixel shift (${ty}, ${tx}) outside ±${P}`);
        return (ty + P) * side + tx + P;
      });
    },
  };
}

/** Index tables of every shift (2 × (2P+1)² rows of the image's size) up to this many entries each. */
const MAX_TABLE = 1 << 21;

/** Whether a shift stage reads its gather indices from per-shift tables (small images) rather than adding offsets. @example shiftTables(stage) // true at 28×28 */
export function shiftTables(stage: InputStage): boolean {
  const side = 2 * reach(stage) + 1;
  return side * side * stage.dims!.reduce((a, v) => a * v, 1) <= MAX_TABLE;
}

/**
 * Transform input `u` ([rows, ...shape], IR layout) of a stage by one step's draws (`draws`:
 * [rows, width] in the stage's {@link drawFormat}). `rows`: the batch size where the graph fixes it
 * (constants then replace shape arithmetic). Returns the transformed input and the gradient map.
 *
 * @example
 * const { y, backward } = emitWarp(b, stage, 'u', 'draws_0');
 */
export function emitWarp(b: OnnxBuilder, stage: InputStage, u: string, draws: string, rows?: number): { y: string; backward(dy: string): string } {
  return drawFormat(stage).kind === 'shift' ? emitShift(b, stage, u, draws, rows) : emitAffine(b, stage, u, draws);
}

/** A shift stage's per-row gathers: the transformed rows and the gradient map. */
type Shifted = { y: string; backward(dy: string): string };

function emitShift(b: OnnxBuilder, stage: InputStage, u: string, shift: string, rows?: number): Shifted {
  return shiftTables(stage) ? emitTabledShift(b, stage, u, shift, rows) : emitOffsetShift(b, stage, u, shift);
}

/**
 * Small images: every shift's gather indices precomputed, two tables of (2P+1)² int32 rows; a row
 * of them per image row (a block copy). Each row is read with one extra element at its end, the
 * fill value (forward) or 0 (backward), which every index that falls off the image points to: a
 * cheap Concat instead of padding the image.
 */
function emitTabledShift(b: OnnxBuilder, stage: InputStage, u: string, shift: string, rows?: number): Shifted {
  const [h, w, c] = stage.dims!;
  const P = reach(stage);
  const side = 2 * P + 1;
  const n = h * w * c;
  const forward = new Int32Array(side * side * n);
  const backward = new Int32Array(side * side * n);
  const at = (y: number, x: number, k: number) => (y < 0 || y >= h || x < 0 || x >= w ? n : (y * w + x) * c + k);
  for (let ty = -P; ty <= P; ty++) for (let tx = -P; tx <= P; tx++) {
    const row = ((ty + P) * side + tx + P) * n;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
      const e = (y * w + x) * c + k;
      // Output (y, x) reads source (y + ty, x + tx); the gradient goes back the opposite way.
      forward[row + e] = at(y + ty, x + tx, k);
      backward[row + e] = at(y - ty, x - tx, k);
    }
  }
  const table = (name: string, data: Int32Array) => {
    const t = b.fresh(name);
    b.inits.push({ name: t, dims: [side * side, n], dataType: DataType.INT32, data });
    return t;
  };
  const ids = b.op1('Reshape', [shift, b.i64([-1])]);
  const forwardIdx = b.op1('Gather', [table('shiftForward', forward), ids], { axis: 0 });
  const backwardIdx = b.op1('Gather', [table('shiftBackward', backward), ids], { axis: 0 });
  /** Rows of `t` flat, with one more element `fill` at the end (a constant column when the batch size is known: four ops fewer a step). */
  const extended = (t: string, fill: number) => {
    const flat = b.op1('Reshape', [t, b.i64([0, n])]);
    if (rows !== undefined) return b.op1('Concat', [flat, b.f32(fill === 0 ? 'zeroColumn' : 'fillColumn', new Float32Array(rows).fill(fill), [rows, 1])], { axis: 1 });
    const zeros = b.op1('ConstantOfShape', [b.op1('Shape', [b.op1('Slice', [flat, b.i64([0]), b.i64([1]), b.i64([1])])])]);
    return b.op1('Concat', [flat, fill === 0 ? zeros : b.op1('Add', [zeros, b.scalar(fill)])], { axis: 1 });
  };
  const back = (t: string) => b.op1('Reshape', [t, b.i64([0, ...stage.shape])]);
  return {
    y: back(b.op1('GatherElements', [extended(u, stage.fill as number), forwardIdx], { axis: 1 })),
    backward: (dy) => back(b.op1('GatherElements', [extended(dy, 0), backwardIdx], { axis: 1 })),
  };
}

/**
 * Larger images: the image padded once with the fill value, each row reading a window of it at
 * its own offset (a base index plus the row's offset).
 */
function emitOffsetShift(b: OnnxBuilder, stage: InputStage, u: string, offset: string): Shifted {
  const [h, w, c] = stage.dims!;
  const P = reach(stage);
  const wp = w + 2 * P;
  const n = h * w * c;
  // Index of output element (y, x, ch) in the padded, flattened image when the offset is 0.
  const base = new Int32Array(n);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) base[(y * w + x) * c + k] = ((y + P) * wp + x + P) * c + k;
  const baseT = b.fresh('windowBase');
  b.inits.push({ name: baseT, dims: [1, n], dataType: DataType.INT32, data: base });
  const pads = b.i64([0, P, P, 0, 0, P, P, 0]);
  const padded = (t: string, fill: number) => {
    const img = b.op1('Reshape', [t, b.i64([0, h, w, c])]);
    const p = b.op1('Pad', [img, pads, b.scalar(fill)], { mode: 'constant' });
    return b.op1('Reshape', [p, b.i64([0, -1])]);
  };
  const back = (t: string) => b.op1('Reshape', [t, b.i64([0, ...stage.shape])]);
  return {
    y: back(b.op1('GatherElements', [padded(u, stage.fill as number), b.op1('Add', [baseT, offset])], { axis: 1 })),
    // dx[p] = dy[p − offset], zero where that falls outside: read the zero-padded gradient backwards.
    backward: (dy) => back(b.op1('GatherElements', [padded(dy, 0), b.op1('Sub', [baseT, offset])], { axis: 1 })),
  };
}

interface Grid {
  /** Output pixel rows and columns, [1, h·w] each (float64). */
  y: string;
  x: string;
}

function doubleConst(b: OnnxBuilder, base: string, data: number[], dims: number[]): string {
  const name = b.fresh(base);
  b.inits.push({ name, dims, dataType: DataType.DOUBLE, data: Float64Array.from(data) });
  return name;
}

function grid(b: OnnxBuilder, h: number, w: number): Grid {
  const ys = Array.from({ length: h * w }, (_, p) => Math.floor(p / w));
  const xs = Array.from({ length: h * w }, (_, p) => p % w);
  return { y: doubleConst(b, 'gridY', ys, [1, h * w]), x: doubleConst(b, 'gridX', xs, [1, h * w]) };
}

function emitAffine(b: OnnxBuilder, stage: InputStage, u: string, draws: string): { y: string; backward(dy: string): string } {
  const [h, w, c] = stage.dims!;
  const hw = h * w;
  const g = grid(b, h, w);
  const fill = stage.fill;
  const constantFill = fill !== 'edge';
  const flat = (t: string) => b.op1('Reshape', [t, b.i64([0, hw * c])]);
  const back = (t: string) => b.op1('Reshape', [t, b.i64([0, ...stage.shape])]);
  const src = constantFill && fill !== 0 ? b.op1('Sub', [u, b.scalar(fill)]) : u;
  const addFill = (t: string) => (constantFill && fill !== 0 ? b.op1('Add', [t, b.scalar(fill)]) : t);
  const d = (v: number) => doubleConst(b, 'd', [v], []);
  const a = (k: number) => b.op1('Slice', [draws, b.i64([k]), b.i64([k + 1]), b.i64([1])]);
  const sy = b.op1('Add', [b.op1('Add', [b.op1('Mul', [g.y, a(0)]), b.op1('Mul', [g.x, a(1)])]), a(2)]);
  const sx = b.op1('Add', [b.op1('Add', [b.op1('Mul', [g.y, a(3)]), b.op1('Mul', [g.x, a(4)])]), a(5)]);
  const y0 = b.op1('Floor', [sy]);
  const x0 = b.op1('Floor', [sx]);
  const fy = b.op1('Sub', [sy, y0]);
  const fx = b.op1('Sub', [sx, x0]);
  const one = d(1);
  // Per channel: element index = pixel index · c + channel, flattened to [rows, hw·c].
  const channels = c > 1 ? b.i64(Array.from({ length: c }, (_, k) => k), [1, 1, c]) : null;
  const perElement = (t: string) => (channels ? b.op1('Reshape', [b.op1('Add', [b.op1('Mul', [b.op1('Unsqueeze', [t, b.i64([2])]), b.i64([c], [])]), channels]), b.i64([0, hw * c])]) : t);
  const perWeight = (t: string) => (c > 1 ? b.op1('Reshape', [b.op1('Expand', [b.op1('Unsqueeze', [t, b.i64([2])]), b.i64([1, 1, c])]), b.i64([0, hw * c])]) : t);
  const idxs: string[] = [];
  const weights: string[] = [];
  for (const dy of [0, 1]) for (const dx of [0, 1]) {
    const yy = dy ? b.op1('Add', [y0, one]) : y0;
    const xx = dx ? b.op1('Add', [x0, one]) : x0;
    const cy = b.op1('Min', [b.op1('Max', [yy, d(0)]), d(h - 1)]);
    const cx = b.op1('Min', [b.op1('Max', [xx, d(0)]), d(w - 1)]);
    let wgt = b.op1('Mul', [dy ? fy : b.op1('Sub', [one, fy]), dx ? fx : b.op1('Sub', [one, fx])]);
    if (constantFill) wgt = b.op1('Mul', [wgt, b.op1('Cast', [b.op1('And', [b.op1('Equal', [yy, cy]), b.op1('Equal', [xx, cx])])], { to: DataType.DOUBLE })]);
    idxs.push(perElement(b.op1('Cast', [b.op1('Add', [b.op1('Mul', [cy, d(w)]), cx])], { to: DataType.INT64 })));
    weights.push(perWeight(b.op1('Cast', [wgt], { to: DataType.FLOAT })));
  }
  const data = flat(src);
  const parts = idxs.map((idx, k) => b.op1('Mul', [b.op1('GatherElements', [data, idx], { axis: 1 }), weights[k]]));
  return {
    y: addFill(back(b.sum(parts))),
    backward(dy) {
      // Σ over taps of weight ⊙ dy sent to the tap's source element: one scatter-add.
      const g2 = flat(dy);
      const updates = b.op1('Concat', weights.map((wt) => b.op1('Mul', [g2, wt])), { axis: 1 });
      const index = b.op1('Concat', idxs, { axis: 1 });
      const zeros = b.op1('ConstantOfShape', [b.op1('Shape', [g2])]);
      return back(b.op1('ScatterElements', [zeros, index, updates], { axis: 1, reduction: 'add' }));
    },
  };
}
