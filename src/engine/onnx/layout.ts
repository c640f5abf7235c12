/*
 * Layouts inside the generated graph. The IR is channels-last (NHWC); ONNX's Conv, pooling and
 * ConvTranspose want NCHW. A value of per-example rank 3 (an image) may live in either layout;
 * every other value lives in the IR's. Ops that are layout-neutral (elementwise, reductions,
 * concatenation, slicing, padding …) run in whatever layout their input arrives in, with their
 * axes and constants remapped, so a network of convolutions pays for one Transpose at each end
 * instead of two per convolution. A gradient always has the layout of its forward value.
 */

/** Where a value's axes are: the IR's own order, or NCHW (images only). */
export type Layout = 'ir' | 'nchw';

/** A value of the generated graph: its ONNX name, per-example IR shape and current layout. */
export interface Val {
  name: string;
  /** Per-example shape in IR order (NHWC for images), whatever the layout. */
  shape: number[];
  layout: Layout;
}

/** Can this per-example shape be held NCHW? (Images: H, W, C.) @example canBeNchw([28, 28, 1]) // true */
export function canBeNchw(shape: number[]): boolean {
  return shape.length === 3;
}

/** ONNX dims (batch first) of a value. @example onnxDims({ name: 'x', shape: [4, 5, 3], layout: 'nchw' }, 2) // [2, 3, 4, 5] */
export function onnxDims(v: Val, batch: number | string): Array<number | string> {
  return [batch, ...layoutShape(v.shape, v.layout)];
}

/** Per-example dims in a layout: [H, W, C] → [C, H, W] for NCHW. @example layoutShape([4, 5, 3], 'nchw') // [3, 4, 5] */
export function layoutShape(shape: number[], layout: Layout): number[] {
  return layout === 'nchw' ? [shape[2], shape[0], shape[1]] : shape.slice();
}

/** The ONNX axis (batch = 0) of IR axis `axis` of a value in `layout`. @example onnxAxis(3, 'nchw') // 1 */
export function onnxAxis(axis: number, layout: Layout): number {
  if (layout === 'ir' || axis === 0) return axis;
  return axis === 3 ? 1 : axis + 1;
}

/** Transpose perms (batch included) between the layouts of an image value. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

/**
 * A constant (no batch, right-aligned numpy broadcasting against a per-example shape of rank
 * `rank`) rearranged to broadcast the same way against the value held in `layout`.
 * Returns null when the constant cannot be rearranged (it has more axes than the value).
 *
 * @example
 * relayoutConst(Float32Array.of(1, 2), [2], 3, 'nchw') // { data: [1, 2], dims: [2, 1, 1] }
 */
export function relayoutConst(data: Float32Array, shape: number[], rank: number, layout: Layout): { data: Float32Array; dims: number[] } | null {
  if (layout === 'ir' || shape.length === 0 || shape.every((d) => d === 1)) return { data, dims: layout === 'ir' ? shape : shape.length === 0 ? [] : [1] };
  if (shape.length > rank || rank !== 3) return null;
  const [h, w, c] = [...Array(3 - shape.length).fill(1), ...shape] as number[];
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = data[(y * w + x) * c + k];
  return { data: out, dims: [c, h, w] };
}

/** Inverse of a permutation. @example invertPerm([0, 2, 3, 1]) // [0, 3, 1, 2] */
export function invertPerm(p: number[]): number[] {
  const out = new Array<number>(p.length);
  p.forEach((v, i) => (out[v] = i));
  return out;
}
