import path from 'node:path';
import { loadModel } from '../model/load.js';
import { withTestIr } from '../engine/onnx/testing-ir.js';
import { onnxEngineFactory } from '../engine/onnx/engine.js';
import { maximize } from '../optimize/maximize.js';
import { useBackend } from '../backend.js';
import { box } from '../constraints/index.js';
await useBackend('wasm');
const mlp = withTestIr(await loadModel(path.resolve('models/fashion-mnist-mlp')));
const targets = Array.from({ length: 10 }, (_, i) => ({ kind: 'logit' as const, index: i }));
const run = async (steps: number, image: 'auto' | undefined, f: ReturnType<typeof onnxEngineFactory>, restarts: number) => {
  const t0 = performance.now();
  await maximize(mlp, targets, { steps, restarts, constraints: [box(0, 1)], engine: f, ...(image ? { image } : {}) });
  return performance.now() - t0;
};
const args = process.argv.slice(2);
const restarts = Number(args[0] ?? 100);
for (const layout of ['loop', 'unrolled'] as const) for (const image of [undefined, 'auto'] as const) for (const threads of [1, 2]) {
  const f = onnxEngineFactory({ threads, steps: layout });
  await run(25, image, f, restarts);
  const a = await run(25, image, f, restarts);
  const b = await run(225, image, f, restarts);
  console.log(layout, image ?? 'none', `${threads}t`, 'batch', restarts * 10, Math.round((200 * restarts * 10) / ((b - a) / 1000)), 'img-steps/s');
}
