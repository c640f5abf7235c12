import { readFileSync } from 'node:fs';
import { useBackend } from './src/backend.js';
import { loadModel } from './src/model/load.js';
import { maximizeExact } from './src/exact/index.js';
import { maximize } from './src/optimize/maximize.js';
await useBackend();
const model = await loadModel('models/fashion-mnist-mlp');
const ex = JSON.parse(readFileSync('models/fashion-mnist-mlp/examples.json', 'utf8')).examples;
const [exIdx, eps, kind, idx, tl] = JSON.parse(process.argv[2]);
const e = ex[exIdx];
const spec = { kind, index: idx };
const constraints = eps ? [{ kind: 'ball', ref: e.input, eps, p: 'inf' } as const] : [];
const ws = (await maximize(model, spec as any, { constraints, steps: 300, restarts: 8 })).results[0].input;
for (const o of process.argv.slice(3)) {
  const r = await maximizeExact(model, spec as any, { constraints, timeLimit: tl, warmStart: ws, solverOptions: JSON.parse(o) });
  console.log(o, r.status, r.value, r.upperBound, r.gap, r.solveSeconds, r.nodes, r.encoding?.columns, r.encoding?.rows);
}
