/**
 * Stage-by-stage accuracy of the two engines on a real model with its image defaults (one row):
 * the float64 pipeline (src/pipeline/reference64.ts) renders and transforms the picture; each
 * engine's network gradient there is carried back through the float64 pipeline and compared with
 * that engine's whole-step gradient and with the other engine's. Relative = max |a − b| / max |b|.
 *
 *   npx tsx scripts/pipeline-accuracy.ts MODEL_DIR [start]
 *
 * start: `grey` (the parameterisation's own random start, sd 0.01, the default), `grey30` (30×
 * that), or `white` (white noise of sd 1 before the squash: a mid-contrast picture).
 * FILL=0.5 overrides the transforms' fill; DRAW_SEED picks the transform draw (default 9).
 */
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { createOnnxEngine } from '../src/engine/onnx/engine.js';
import type { EngineRequest } from '../src/engine/engine.js';
import { resolvePipeline, drawSteps } from '../src/pipeline/resolve.js';
import { pipelineReference } from '../src/pipeline/reference64.js';
import { maxRelDiff, startParams } from './accuracy-start.js';
import { Rng } from '../src/optimize/rng.js';

const [dir, start = 'grey'] = process.argv.slice(2);

await useBackend('wasm');
const model = await loadModel(dir);
const pipeline = resolvePipeline(model, [0], 'auto', { constraints: [] }).spec;
const stage = pipeline.inputs[0];
if (process.env.FILL) stage.fill = process.env.FILL === 'edge' ? 'edge' : Number(process.env.FILL);
const plan = stage.param;
if (!plan) throw new Error(`${dir}: its image defaults have no parameterisation`);
const p = startParams(plan, start);
const draws = drawSteps(pipeline, new Rng(Number(process.env.DRAW_SEED ?? 9)), 1);
const ref = pipelineReference(stage, p, draws[0]);
console.log(`${dir}: start ${start}, fill ${stage.fill}, draw ${draws[0] ? Array.from(draws[0]).map((v) => v.toFixed(3)).join(',') : 'none'}`);

const full: EngineRequest = { model, targets: [{ kind: 'logit', index: 0 }], rowsPerTarget: 1, optimize: [0], fixed: new Map(), pipeline };
const netOnly: EngineRequest = { ...full, pipeline: undefined };
const out: Record<string, { full: Float32Array; value: number; rendered: Float32Array; net: Float32Array }> = {};
for (const [name, make] of [['tfjs', createTfjsEngine], ['onnx', (r: EngineRequest) => createOnnxEngine(r, { threads: 1 })]] as const) {
  const e = await make(full);
  const step = await e.valueAndGrad([p], draws);
  const rendered = (await e.evaluate([p])).inputs![0];
  e.dispose();
  const n = await make(netOnly);
  const net = (await n.valueAndGrad([Float32Array.from(ref.seen)])).grads[0];
  n.dispose();
  out[name] = { full: step.grads[0], value: step.values[0], rendered, net };
}
const { tfjs, onnx } = out;
const viaT = ref.backward(tfjs.net).dp, viaO = ref.backward(onnx.net).dp;
console.log(`rendered input vs float64: tfjs ${maxRelDiff(tfjs.rendered, ref.rendered)}, onnx ${maxRelDiff(onnx.rendered, ref.rendered)}`);
console.log(`values: tfjs ${tfjs.value}, onnx ${onnx.value}`);
console.log(`network gradient at the float64 picture: onnx vs tfjs ${maxRelDiff(onnx.net, tfjs.net)}`);
console.log(`  … carried back through the float64 pipeline: onnx vs tfjs ${maxRelDiff(viaO, viaT)}`);
console.log(`whole step: onnx vs tfjs ${maxRelDiff(onnx.full, tfjs.full)}`);
console.log(`whole step vs float64 pipeline ∘ own network gradient: tfjs ${maxRelDiff(tfjs.full, viaT)}, onnx ${maxRelDiff(onnx.full, viaO)}`);
model.dispose();
