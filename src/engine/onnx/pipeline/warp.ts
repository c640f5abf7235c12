import { isShiftChain } from '../../../transforms/affine.js';
import type { InputStage } from '../../../pipeline/spec.js';
import type { OnnxBuilder } from '../builder.js';
import { DataType } from '../proto.js';

/*
 * Per-row transforms as ONNX ops, the same sampling as the TF.js reference (src/transforms):
 * every output pixel reads the source through its row's affine map, bilinear, with the fill rule
 * outside. Coordinates, taps and weights are computed in float64 from float64 draws, as the
 * reference computes them, so both engines pick the same taps with the same weights.
 * Whole-pixel chains (jitter, pad) take one tap: their draws are int64 offsets, and with a
 * constant fill the gradient is the opposite shift (a gather, no scatter).
 */

/** How a stage's draws enter the graph. */
export function drawKind(stage: InputStage): 'shift' | 'affine' {
  return isShiftChain(stage.transforms) ? 'shift' : 'affine';
}

/** Per-row numbers of a draw input: 2 int64 offsets (shift) or 6 float64 (affine). */
export function drawWidth(stage: InputStage): number {
  return drawKind(stage) === 'shift' ? 2 : 6;
}

interface Grid {
  /** Output pixel rows and columns, [1, h·w] each (float64 and int64). */
  y: string;
  x: string;
  yi: string;
  xi: string;
}

function grid(b: OnnxBuilder, h: number, w: number): Grid {
  const ys = Array.from({ length: h * w }, (_, p) => Math.floor(p / w));
  const xs = Array.from({ length: h * w }, (_, p) => p % w);
  const f64 = (name: string, v: number[]) => {
    const t = b.fresh(name);
    b.inits.push({ name: t, dims: [1, h * w], dataType: DataType.DOUBLE, data: Float64Array.from(v) });
    return t;
  };
  return { y: f64('gridY', ys), x: f64('gridX', xs), yi: b.i64(ys, [1, h * w]), xi: b.i64(xs, [1, h * w]) };
}

/**
 * Transform input `u` ([rows, ...shape], IR layout) of a stage by one step's draws (`draws`:
 * [rows, 2] int64 or [rows, 6] float64). Returns the transformed input and the gradient map.
 *
 * @example
 * const { y, backward } = emitWarp(b, stage, 'u', 'draws_0');
 */
export function emitWarp(b: OnnxBuilder, stage: InputStage, u: string, draws: string): { y: string; backward(dy: string): string } {
  const [h, w, c] = stage.dims!;
  const hw = h * w;
  const g = grid(b, h, w);
  const fill = stage.fill;
  const constantFill = fill !== 'edge';
  const flat = (t: string) => b.op1('Reshape', [t, b.i64([0, hw, c])]);
  const back = (t: string) => b.op1('Reshape', [t, b.i64([0, ...stage.shape])]);
  const src = constantFill && fill !== 0 ? b.op1('Sub', [u, b.scalar(fill)]) : u;
  const addFill = (t: string) => (constantFill && fill !== 0 ? b.op1('Add', [t, b.scalar(fill)]) : t);
  /** Gather positions [rows, hw] (int64) of a [rows, hw, c] tensor. */
  const gather = (data: string, idx: string) => b.op1('GatherElements', [data, c === 1 ? b.op1('Unsqueeze', [idx, b.i64([2])]) : b.op1('Expand', [b.op1('Unsqueeze', [idx, b.i64([2])]), b.i64([1, 1, c])])], { axis: 1 });
  const unsq = (t: string) => b.op1('Unsqueeze', [t, b.i64([2])]);

  if (drawKind(stage) === 'shift') {
    // Source pixel = output pixel + offset (ty, tx).
    const off = (k: number) => b.op1('Slice', [draws, b.i64([k]), b.i64([k + 1]), b.i64([1])]);
    const taps = (sign: 1 | -1) => {
      const ty = sign === 1 ? off(0) : b.op1('Neg', [off(0)]);
      const tx = sign === 1 ? off(1) : b.op1('Neg', [off(1)]);
      const sy = b.op1('Add', [g.yi, ty]);
      const sx = b.op1('Add', [g.xi, tx]);
      const cy = b.op1('Min', [b.op1('Max', [sy, b.i64([0], [])]), b.i64([h - 1], [])]);
      const cx = b.op1('Min', [b.op1('Max', [sx, b.i64([0], [])]), b.i64([w - 1], [])]);
      const idx = b.op1('Add', [b.op1('Mul', [cy, b.i64([w], [])]), cx]);
      const inside = constantFill ? b.op1('Cast', [b.op1('And', [b.op1('Equal', [sy, cy]), b.op1('Equal', [sx, cx])])], { to: DataType.FLOAT }) : null;
      return { idx, inside };
    };
    const fwd = taps(1);
    let picked = gather(flat(src), fwd.idx);
    if (fwd.inside) picked = b.op1('Mul', [picked, unsq(fwd.inside)]);
    return {
      y: addFill(back(picked)),
      backward(dy) {
        if (constantFill) {
          // A shift with zeros outside is inverted by the opposite shift.
          const inv = taps(-1);
          return back(b.op1('Mul', [gather(flat(dy), inv.idx), unsq(inv.inside!)]));
        }
        return back(scatter(b, flat(dy), [fwd.idx], [null], c));
      },
    };
  }

  // General affine map: 4 bilinear taps in float64.
  const a = (k: number) => b.op1('Slice', [draws, b.i64([k]), b.i64([k + 1]), b.i64([1])]);
  const sy = b.op1('Add', [b.op1('Add', [b.op1('Mul', [g.y, a(0)]), b.op1('Mul', [g.x, a(1)])]), a(2)]);
  const sx = b.op1('Add', [b.op1('Add', [b.op1('Mul', [g.y, a(3)]), b.op1('Mul', [g.x, a(4)])]), a(5)]);
  const y0 = b.op1('Floor', [sy]);
  const x0 = b.op1('Floor', [sx]);
  const fy = b.op1('Sub', [sy, y0]);
  const fx = b.op1('Sub', [sx, x0]);
  const d = (v: number) => doubleScalar(b, v);
  const one = d(1);
  const idxs: string[] = [];
  const weights: string[] = [];
  for (const dy of [0, 1]) for (const dx of [0, 1]) {
    const yy = dy ? b.op1('Add', [y0, one]) : y0;
    const xx = dx ? b.op1('Add', [x0, one]) : x0;
    const cy = b.op1('Min', [b.op1('Max', [yy, d(0)]), d(h - 1)]);
    const cx = b.op1('Min', [b.op1('Max', [xx, d(0)]), d(w - 1)]);
    let wgt = b.op1('Mul', [dy ? fy : b.op1('Sub', [one, fy]), dx ? fx : b.op1('Sub', [one, fx])]);
    if (constantFill) wgt = b.op1('Mul', [wgt, b.op1('Cast', [b.op1('And', [b.op1('Equal', [yy, cy]), b.op1('Equal', [xx, cx])])], { to: DataType.DOUBLE })]);
    idxs.push(b.op1('Cast', [b.op1('Add', [b.op1('Mul', [cy, d(w)]), cx])], { to: DataType.INT64 }));
    weights.push(b.op1('Cast', [wgt], { to: DataType.FLOAT }));
  }
  const data = flat(src);
  const parts = idxs.map((idx, k) => b.op1('Mul', [gather(data, idx), unsq(weights[k])]));
  return {
    y: addFill(back(b.sum(parts))),
    backward: (dy) => back(scatter(b, flat(dy), idxs, weights, c)),
  };
}

/** Σ over taps of weight ⊙ dy sent to the tap's source position: one ScatterElements add. */
function scatter(b: OnnxBuilder, dy: string, idxs: string[], weights: Array<string | null>, c: number): string {
  const unsq = (t: string) => b.op1('Unsqueeze', [t, b.i64([2])]);
  const updates = idxs.map((_, k) => (weights[k] ? b.op1('Mul', [dy, unsq(weights[k]!)]) : dy));
  const index = idxs.map((i) => (c === 1 ? unsq(i) : b.op1('Expand', [unsq(i), b.i64([1, 1, c])])));
  const cat = (list: string[]) => (list.length === 1 ? list[0] : b.op1('Concat', list, { axis: 1 }));
  const zeros = b.op1('ConstantOfShape', [b.op1('Shape', [dy])]);
  return b.op1('ScatterElements', [zeros, cat(index), cat(updates)], { axis: 1, reduction: 'add' });
}

function doubleScalar(b: OnnxBuilder, v: number): string {
  const name = b.fresh('d');
  b.inits.push({ name, dims: [], dataType: DataType.DOUBLE, data: Float64Array.of(v) });
  return name;
}
