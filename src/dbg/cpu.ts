import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../model/load.js';
import { withTestIr } from '../engine/onnx/testing-ir.js';
import { buildProblem } from '../optimize/problem.js';
import { batchTerms } from '../objectives/terms.js';
import { OnnxBuilder } from '../engine/onnx/builder.js';
import { buildAscentGraph } from '../engine/onnx/ascent.js';
import { encodeModel } from '../engine/onnx/proto.js';
import { sessionOptions } from '../engine/onnx/runtime.js';
import { fusedPlan } from '../optimize/fused.js';
import { drawSteps } from '../pipeline/resolve.js';
import { drawFormat } from '../engine/onnx/pipeline/warp.js';
import { Rng } from '../optimize/rng.js';
import { useBackend } from '../backend.js';
await useBackend('cpu');
const mlp = withTestIr(await loadModel(path.resolve('models/fashion-mnist-mlp')));
const targets = Array.from({ length: 10 }, (_, i) => ({ kind: 'logit' as const, index: i }));
const rows = 1000, n = 784, K = 10;
async function session(image: 'auto' | undefined, threads: number) {
  const p = buildProblem(mlp, targets, { restarts: 100, ...(image ? { image } : {}) });
  const plan = fusedPlan({ ascent: async () => null } as never, p)!;
  const sp = { ir: (mlp as any).ir, terms: batchTerms(mlp, targets, 100), rowsPerTarget: 100, optimize: [0], fixed: new Map(), pipeline: p.pipeline?.spec ?? null, layout: 'propagate' as const };
  const s = await ort.InferenceSession.create(encodeModel(buildAscentGraph(new OnnxBuilder(), sp, plan, 'loop')), sessionOptions(threads));
  const T = (d: Float32Array, dims: number[]) => new ort.Tensor('float32', d, dims);
  const feeds: Record<string, ort.Tensor> = { x0: T(p.start[0], [rows, n]), m0: T(new Float32Array(rows * n), [rows, n]), v0: T(new Float32Array(rows * n), [rows, n]), best_x0: T(new Float32Array(rows * n), [rows, n]), best_value: T(new Float32Array(rows).fill(-1e30), [rows]), alpha0: T(new Float32Array(K * rows).fill(0.01), [K, rows, 1]) };
  if (image) {
    const st = p.pipeline!.spec.inputs[0];
    const d = drawSteps(p.pipeline!.spec, new Rng(1), rows, K);
    feeds.draws0 = new ort.Tensor('int32', drawFormat(st).encode(d[0]!) as Int32Array, [K, rows, 1]);
  }
  return async () => { const c0 = process.cpuUsage(); const t0 = performance.now(); await s.run(feeds); const c = process.cpuUsage(c0); return { cpu: (c.user + c.system) / 1000 / K, wall: (performance.now() - t0) / K }; };
}
const threads = Number(process.argv[2] ?? 1);
const none = await session(undefined, threads), auto = await session('auto', threads);
await none(); await auto();
const best = { none: { cpu: 1e9, wall: 1e9 }, auto: { cpu: 1e9, wall: 1e9 } };
for (let i = 0; i < 8; i++) for (const [k, f] of [['none', none], ['auto', auto]] as const) { const r = await f(); best[k].cpu = Math.min(best[k].cpu, r.cpu); best[k].wall = Math.min(best[k].wall, r.wall); }
console.log(`threads ${threads}: per step (1000 rows) none cpu ${best.none.cpu.toFixed(2)} ms wall ${best.none.wall.toFixed(2)}; auto cpu ${best.auto.cpu.toFixed(2)} wall ${best.auto.wall.toFixed(2)}; ratio cpu ${(best.auto.cpu / best.none.cpu).toFixed(2)} wall ${(best.auto.wall / best.none.wall).toFixed(2)}`);
