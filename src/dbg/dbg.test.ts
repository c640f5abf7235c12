import { it } from 'vitest';
import path from 'node:path';
import { loadModel } from '../model/load.js';
import { withTestIr } from '../engine/onnx/testing-ir.js';
import { buildProblem } from '../optimize/problem.js';
import { createOnnxEngine } from '../engine/onnx/engine.js';
import { fusedPlan } from '../optimize/fused.js';
import { OnnxBuilder } from '../engine/onnx/builder.js';
import { buildAscentGraph } from '../engine/onnx/ascent.js';
import { encodeModel } from '../engine/onnx/proto.js';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../engine/onnx/runtime.js';
import { useBackend } from '../backend.js';
it('dbg', async () => {
  await useBackend('wasm');
  const mlp = withTestIr(await loadModel(path.resolve('models/fashion-mnist-mlp')));
  for (const image of ['auto', { param: 'spectral', transforms: [{ kind: 'jitter', pixels: 1 }, { kind: 'rotate', degrees: 8 }] }] as const) {
    const p = buildProblem(mlp, [{ kind: 'logit', index: 1 }], { restarts: 3, image: image as never, optimizer: 'sgd' });
    const engine = await createOnnxEngine(p.request);
    const plan = fusedPlan(engine, p)!;
    const t0 = performance.now();
    const def = buildAscentGraph(new OnnxBuilder(), { ir: (mlp as any).ir, terms: (await import('../objectives/terms.js')).batchTerms(mlp, p.targets, 3), rowsPerTarget: 3, optimize: [0], fixed: new Map(), pipeline: p.pipeline?.spec ?? null, layout: 'propagate' }, plan, 'loop', 25);
    const t1 = performance.now();
    const bytes = encodeModel(def);
    const t2 = performance.now();
    const s = await ort.InferenceSession.create(bytes, sessionOptions(1));
    const t3 = performance.now();
    console.log(JSON.stringify(image), 'nodes', def.nodes.length, 'build', (t1 - t0).toFixed(0), 'encode', (t2 - t1).toFixed(0), 'bytes', bytes.length, 'session', (t3 - t2).toFixed(0));
    const s2 = await ort.InferenceSession.create(bytes, { ...sessionOptions(1), graphOptimizationLevel: 'basic' });
    console.log('basic session', (performance.now() - t3).toFixed(0));
  }
});
