import type * as Ort from 'onnxruntime-node';
import type { InputStage } from '../../../pipeline/spec.js';
import { floatValue, OnnxBuilder } from '../builder.js';
import { encodeModel } from '../proto.js';
import { loadOnnxRuntime } from '../runtime.js';
import { emitRender, paramConstants } from './param.js';
import { drawFormat, emitWarp } from './warp.js';

/*
 * Test helper: the ONNX pipeline stages alone, without a network. One row of variables goes
 * through the parameterisation (or is the model-layout input itself) and/or the row's transform,
 * and the graph returns the input the network would see and the gradient of Σ R ⊙ seen w.r.t.
 * the variables, for comparison with the float64 reference (src/pipeline/reference64.ts). Not
 * part of the public API.
 */

/** Which stages the probe runs: the parameterisation, the transform, or both. */
export interface StageParts {
  render: boolean;
  warp: boolean;
}

/**
 * Run one row through the chosen stages on onnxruntime: `x` is p (with `render`) or the rendered
 * input in the model's layout; `affine` the row's 6 numbers; `r` the read-out (model layout).
 *
 * @example
 * const { seen, grad } = await onnxStages(stage, { render: true, warp: true }, p, affine, r);
 */
export async function onnxStages(stage: InputStage, parts: StageParts, x: Float32Array, affine: Float64Array | null, r: Float32Array): Promise<{ seen: Float32Array; grad: Float32Array }> {
  const ort = (await loadOnnxRuntime()) as typeof Ort;
  const b = new OnnxBuilder();
  const [h, w, c] = stage.dims!;
  const n = stage.shape.reduce((a, v) => a * v, 1);
  const toPicture = (t: string) => (stage.channelsFirst ? b.op1('Transpose', [b.op1('Reshape', [t, b.i64([0, c, h, w])])], { perm: [0, 2, 3, 1] }) : b.op1('Reshape', [t, b.i64([0, h, w, c])]));
  const toModel = (t: string) => b.op1('Reshape', [stage.channelsFirst ? b.op1('Transpose', [t], { perm: [0, 3, 1, 2] }) : t, b.i64([0, -1])]);
  let picture: string;
  let pictureBack: (d: string) => string;
  if (parts.render) {
    // Parameterisations render H×W×C pictures (the engines transpose at a channels-first model's edge).
    const rendered = emitRender(b, paramConstants(b, stage.param!), 'x');
    picture = b.op1('Reshape', [rendered.x, b.i64([0, h, w, c])]);
    pictureBack = (d) => rendered.backward(b.op1('Reshape', [d, b.i64([0, ...stage.param!.shape])]));
  } else {
    picture = toPicture('x');
    pictureBack = toModel;
  }
  let seenPicture = picture;
  let warpBack = (d: string) => d;
  const format = drawFormat(stage);
  if (parts.warp) {
    const warped = emitWarp(b, { ...stage, shape: [h, w, c] }, picture, 'draws');
    seenPicture = warped.y;
    warpBack = warped.backward;
  }
  b.named('Identity', [toModel(seenPicture)], 'seen');
  const readout = b.f32('readout', r, stage.channelsFirst ? [1, c, h, w] : [1, h, w, c]);
  const dPicture = stage.channelsFirst ? b.op1('Transpose', [readout], { perm: [0, 2, 3, 1] }) : readout;
  b.named('Identity', [b.op1('Reshape', [pictureBack(warpBack(dPicture)), b.i64([0, -1])])], 'grad');
  const inputs = [floatValue('x', [1, x.length]), ...(parts.warp ? [{ name: 'draws', dataType: format.dataType, dims: [1, format.width] }] : [])];
  const session = await ort.InferenceSession.create(encodeModel(b.model(inputs, [floatValue('seen', [1, n]), floatValue('grad', [1, x.length])])), { intraOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const feeds: Record<string, Ort.Tensor> = { x: new ort.Tensor('float32', x, [1, x.length]) };
    if (parts.warp) {
      const encoded = format.encode(affine!);
      feeds.draws = encoded instanceof Int32Array ? new ort.Tensor('int32', encoded, [1, format.width]) : new ort.Tensor('float64', encoded, [1, format.width]);
    }
    const out = await session.run(feeds);
    return { seen: out.seen.data as Float32Array, grad: out.grad.data as Float32Array };
  } finally {
    await session.release();
  }
}

/**
 * Central differences (step 1e-4) of one row's `scale`·TV in float64 (TF's mean over the pairs of
 * each axis), for checking TV gradients where no two neighbours are close.
 *
 * @example
 * const fd = tvDifferences(Float64Array.from(row), [28, 28], 0.5);
 */
export function tvDifferences(row: Float64Array, shape: number[], scale: number): Float64Array {
  const [h, w] = shape;
  const c = shape[2] ?? 1;
  const tv = (p: Float64Array) => {
    let v = 0;
    for (const [dy, dx, count] of [[1, 0, (h - 1) * w * c], [0, 1, h * (w - 1) * c]]) {
      for (let y = 0; y + dy < h; y++) for (let xx = 0; xx + dx < w; xx++) for (let k = 0; k < c; k++) v += Math.abs(p[(y * w + xx) * c + k] - p[((y + dy) * w + xx + dx) * c + k]) / count;
    }
    return scale * v;
  };
  return Float64Array.from(row, (_, i) => {
    const up = Float64Array.from(row), down = Float64Array.from(row);
    up[i] += 1e-4;
    down[i] -= 1e-4;
    return (tv(up) - tv(down)) / 2e-4;
  });
}
