import type * as Ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { floatValue, OnnxBuilder } from './builder.js';
import { DataType, encodeModel, type GraphDef } from './proto.js';
import { loadOnnxRuntime } from './runtime.js';

/*
 * The builder's finished model: convolution weights that only a Loop body reads travel inside the
 * body (onnxruntime converts a Conv to its NCHWc kernels only when its weights are the Conv's own
 * graph's initializers), other constants stay outside, and the model computes the same thing.
 */

/** y = x after 3 iterations of x ← relu(conv(x, w)) + c, then + c: w read in the body only, c outside too. */
function loopModel() {
  const b = new OnnxBuilder();
  const w = b.f32('w', Float32Array.from({ length: 8 * 8 * 9 }, (_, i) => Math.sin(i) / 8), [8, 8, 3, 3]);
  const c = b.f32('c', Float32Array.of(0.25), []);
  const body = b.body();
  const next = body.op1('Add', [body.op1('Relu', [body.op1('Conv', ['x_in', w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]), c]);
  body.named('Identity', ['cond'], 'cond_out');
  body.named('Identity', [next], 'x_out');
  const graph: GraphDef = {
    name: 'body',
    nodes: body.nodes,
    inputs: [{ name: 'iter', dataType: DataType.INT64, dims: [] }, { name: 'cond', dataType: DataType.BOOL, dims: [] }, floatValue('x_in', [2, 8, 5, 5])],
    outputs: [{ name: 'cond_out', dataType: DataType.BOOL, dims: [] }, floatValue('x_out', [2, 8, 5, 5])],
  };
  const yes = b.op1('Cast', [b.i64([1], [])], { to: DataType.BOOL });
  const [looped] = b.op('Loop', [b.i64([3], []), yes, 'x'], { body: { graph } }, 1);
  b.named('Add', [looped, c], 'y');
  return { def: b.model([floatValue('x', [2, 8, 5, 5])], [floatValue('y', [2, 8, 5, 5])]), w, c };
}

/** The same computation in plain JavaScript. */
function expected(x: Float32Array): Float32Array {
  const w = Float32Array.from({ length: 8 * 8 * 9 }, (_, i) => Math.sin(i) / 8);
  let cur = x;
  for (let t = 0; t < 3; t++) {
    const out = new Float32Array(cur.length);
    for (let n = 0; n < 2; n++) for (let o = 0; o < 8; o++) for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) for (let a = 0; a < 3; a++) for (let d = 0; d < 3; d++) {
        const ii = i + a - 1, jj = j + d - 1;
        if (ii >= 0 && ii < 5 && jj >= 0 && jj < 5) s += cur[((n * 8 + k) * 5 + ii) * 5 + jj] * w[((o * 8 + k) * 3 + a) * 3 + d];
      }
      out[((n * 8 + o) * 5 + i) * 5 + j] = Math.max(s, 0) + 0.25;
    }
    cur = out;
  }
  return cur.map((v) => v + 0.25);
}

describe('OnnxBuilder.model', () => {
  it('moves conv weights that only a Loop body reads into the body; the model computes the same', async () => {
    const { def, w, c } = loopModel();
    const loop = def.nodes.find((n) => n.op === 'Loop')!;
    const body = (loop.attrs!.body as { graph: GraphDef }).graph;
    expect(body.initializers?.map((t) => t.name)).toEqual([w]);
    expect(def.initializers.map((t) => t.name)).toContain(c);
    expect(def.initializers.map((t) => t.name)).not.toContain(w);

    const ort = (await loadOnnxRuntime()) as typeof Ort;
    const session = await ort.InferenceSession.create(encodeModel(def), { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const x = Float32Array.from({ length: 2 * 8 * 25 }, (_, i) => Math.cos(i * 0.7));
    const y = (await session.run({ x: new ort.Tensor('float32', x, [2, 8, 5, 5]) })).y.data as Float32Array;
    await session.release();
    const want = expected(x);
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(y, (v, i) => Math.abs(v - want[i]))) / scale).toBeLessThan(1e-5);
  });
});
