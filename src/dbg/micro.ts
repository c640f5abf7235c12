import * as ort from 'onnxruntime-node';
import { encodeModel, DataType, type NodeDef, type TensorDef } from '../engine/onnx/proto.js';
const B = 1000, H = 28, W = 28, P = 2, Hp = H + 2 * P, Wp = W + 2 * P;
const F = DataType.FLOAT, I = DataType.INT64;
async function time(name: string, nodes: NodeDef[], inits: TensorDef[], inputs: Array<{ name: string; dims: number[]; t: 'f' | 'i' }>, out: string, feeds: Record<string, ort.Tensor>, threads = 1) {
  const def = { opset: 17, nodes, initializers: inits, inputs: inputs.map((i) => ({ name: i.name, dataType: i.t === 'f' ? F : I, dims: i.dims })), outputs: [{ name: out, dataType: F, dims: [] as number[] }] };
  const s = await ort.InferenceSession.create(encodeModel(def), { intraOpNumThreads: threads, graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } } as any);
  for (let i = 0; i < 3; i++) await s.run(feeds);
  let best = 1e9;
  for (let rep = 0; rep < 5; rep++) { const t0 = performance.now(); for (let i = 0; i < 10; i++) await s.run(feeds); best = Math.min(best, (performance.now() - t0) / 10); }
  console.log(name.padEnd(40), best.toFixed(3), 'ms');
}
const x = new Float32Array(B * H * W).map(() => Math.random());
const xp = new Float32Array(B * Hp * Wp).map(() => Math.random());
const base: number[] = [];
for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) base.push((y + P) * Wp + xx + P);
const offs = BigInt64Array.from({ length: B }, () => BigInt(Math.floor(Math.random() * 5 - 2) * Wp + Math.floor(Math.random() * 5 - 2)));
const idx2 = BigInt64Array.from({ length: B * H * W }, (_, i) => BigInt(base[i % (H * W)]) + offs[Math.floor(i / (H * W))]);
const fx = { x: new ort.Tensor('float32', x, [B, H * W]) };
await time('Add', [{ op: 'Add', inputs: ['x', 'x'], outputs: ['y'] }], [], [{ name: 'x', dims: [B, H * W], t: 'f' }], 'y', fx);
await time('Where(Greater)', [{ op: 'Greater', inputs: ['x', 'h'], outputs: ['c'] }, { op: 'Where', inputs: ['c', 'a', 'm'], outputs: ['y'] }], [{ name: 'h', dims: [], dataType: F, data: Float32Array.of(0.5) }, { name: 'a', dims: [], dataType: F, data: Float32Array.of(1) }, { name: 'm', dims: [], dataType: F, data: Float32Array.of(-1) }], [{ name: 'x', dims: [B, H * W], t: 'f' }], 'y', fx);
await time('Pad 28→32', [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['x3'] }, { op: 'Pad', inputs: ['x3', 'p'], outputs: ['y'], attrs: { mode: 'constant' } }], [{ name: 's', dims: [3], dataType: I, data: [B, H, W] }, { name: 'p', dims: [6], dataType: I, data: [0, P, P, 0, P, P] }], [{ name: 'x', dims: [B, H * W], t: 'f' }], 'y', fx);
await time('Slice [:, 1:]', [{ op: 'Slice', inputs: ['x', 'a', 'b', 'c'], outputs: ['y'] }], [{ name: 'a', dims: [1], dataType: I, data: [1] }, { name: 'b', dims: [1], dataType: I, data: [H * W] }, { name: 'c', dims: [1], dataType: I, data: [1] }], [{ name: 'x', dims: [B, H * W], t: 'f' }], 'y', fx);
await time('GatherElements 2D (given idx)', [{ op: 'GatherElements', inputs: ['xp', 'i'], outputs: ['y'], attrs: { axis: 1 } }], [], [{ name: 'xp', dims: [B, Hp * Wp], t: 'f' }, { name: 'i', dims: [B, H * W], t: 'i' }], 'y', { xp: new ort.Tensor('float32', xp, [B, Hp * Wp]), i: new ort.Tensor('int64', idx2, [B, H * W]) });
await time('GatherElements 3D [B,hw,1]', [{ op: 'Reshape', inputs: ['xp', 's1'], outputs: ['x3'] }, { op: 'Reshape', inputs: ['i', 's2'], outputs: ['i3'] }, { op: 'GatherElements', inputs: ['x3', 'i3'], outputs: ['y'], attrs: { axis: 1 } }], [{ name: 's1', dims: [3], dataType: I, data: [B, Hp * Wp, 1] }, { name: 's2', dims: [3], dataType: I, data: [B, H * W, 1] }], [{ name: 'xp', dims: [B, Hp * Wp], t: 'f' }, { name: 'i', dims: [B, H * W], t: 'i' }], 'y', { xp: new ort.Tensor('float32', xp, [B, Hp * Wp]), i: new ort.Tensor('int64', idx2, [B, H * W]) });
await time('idx Add int64 base+off', [{ op: 'Add', inputs: ['base', 'o'], outputs: ['i'] }, { op: 'Cast', inputs: ['i'], outputs: ['y'], attrs: { to: F } }], [{ name: 'base', dims: [1, H * W], dataType: I, data: base }], [{ name: 'o', dims: [B, 1], t: 'i' }], 'y', { o: new ort.Tensor('int64', offs, [B, 1]) });
await time('Gather flat axis0 [B*HpWp]', [{ op: 'Reshape', inputs: ['xp', 'f'], outputs: ['x1'] }, { op: 'Gather', inputs: ['x1', 'i'], outputs: ['y'], attrs: { axis: 0 } }], [{ name: 'f', dims: [1], dataType: I, data: [-1] }], [{ name: 'xp', dims: [B, Hp * Wp], t: 'f' }, { name: 'i', dims: [B, H * W], t: 'i' }], 'y', { xp: new ort.Tensor('float32', xp, [B, Hp * Wp]), i: new ort.Tensor('int64', BigInt64Array.from(idx2, (v, k) => v + BigInt(Math.floor(k / (H * W)) * Hp * Wp)), [B, H * W]) });
await time('GEMM 1000x784x128', [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }], [{ name: 'w', dims: [784, 128], dataType: F, data: new Float32Array(784 * 128).fill(0.01) }], [{ name: 'x', dims: [B, H * W], t: 'f' }], 'y', fx);
