/**
 * How well a float32 input determines a network's input gradient: the network alone (logit 0) at
 * the float64 pipeline's picture, on both engines, then again after moving every input value by
 * up to ±1e-7 relative (about one float32 rounding). When each engine's own gradient moves by
 * more than the engines differ, the difference is the network's kinks and ties (ReLU-like units,
 * max-pool windows within rounding of a switch), not a wrong rule. Relative = max |a − b| / max |b|.
 *
 *   npx tsx scripts/gradient-conditioning.ts MODEL_DIR [grey|grey30|white] [nowarp]
 */
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { createOnnxEngine } from '../src/engine/onnx/engine.js';
import { resolvePipeline, drawSteps } from '../src/pipeline/resolve.js';
import { pipelineReference } from '../src/pipeline/reference64.js';
import { maxRelDiff, startParams } from './accuracy-start.js';
import { Rng } from '../src/optimize/rng.js';

const [dir, start = 'grey', noWarp] = process.argv.slice(2);
await useBackend('wasm');
const model = await loadModel(dir);
const spec = resolvePipeline(model, [0], 'auto', { constraints: [] }).spec;
const stage = spec.inputs[0];
const plan = stage.param!;
const p = startParams(plan, start);
const affine = noWarp ? null : drawSteps(spec, new Rng(9), 1)[0];
const x = Float32Array.from(pipelineReference(stage, p, affine).seen);
const req = { model, targets: [{ kind: 'logit' as const, index: 0 }], rowsPerTarget: 1, optimize: [0], fixed: new Map() };
const onnx = await createOnnxEngine(req, { threads: 1 });
const tfjs = await createTfjsEngine(req);
const noise = new Rng(11);
const moved = x.map((v) => v * (1 + 2e-7 * (noise.uniform() - 0.5)));
const [gO, gT, gOm, gTm] = [
  (await onnx.valueAndGrad([x])).grads[0],
  (await tfjs.valueAndGrad([x])).grads[0],
  (await onnx.valueAndGrad([moved])).grads[0],
  (await tfjs.valueAndGrad([moved])).grads[0],
];
console.log(`${dir}: start ${start}, transforms ${affine ? 'on' : 'off'}`);
console.log(`  onnx vs tfjs: ${maxRelDiff(gO, gT)} (moved input: ${maxRelDiff(gOm, gTm)})`);
console.log(`  each engine, moved vs not: onnx ${maxRelDiff(gOm, gO)}, tfjs ${maxRelDiff(gTm, gT)}`);
onnx.dispose();
tfjs.dispose();
model.dispose();
