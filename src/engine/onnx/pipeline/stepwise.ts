import type { AscentPlan } from '../../engine.js';
import { floatValue, OnnxBuilder } from '../builder.js';
import type { ModelDef } from '../proto.js';
import type { StepwiseSpec } from '../shards.js';
import { emitStep, stepShared, type StepProblem } from '../step.js';
import { PIPELINE_WASM_BASE64 } from './kernels-wasm.js';
import { drawFormat, reach, shiftTables } from './warp.js';

/*
 * The stepwise ascent: where the image pipeline is whole-pixel jitter and TV on one-channel
 * pictures, each step of a run of rows is one onnxruntime call of the network alone (its value and
 * input gradient) between WebAssembly SIMD kernels (kernels.wat) that shift the rows, shift the
 * gradient back, add the TV gradient and take Adam's step and the clip. In the fused Loop graph
 * those stages are a dozen full passes over the batch, op by op; here they are three (measured on
 * the bundled model, 125 rows a run: 0.19 ms a step for the kernels against ≈ 0.65 ms for the
 * pipeline's ops). The session takes the Loop graph's feeds and gives its outputs (shards.ts), so
 * runs of rows, chunks and replays work as with the Loop graph. Node's worker threads only.
 */

/**
 * The stepwise session's spec for a run of rows (without the kernels' bytes), or null where the
 * fused Loop graph must run: one optimised input of plain pixels, one channel, a multiple of 4
 * pixels, whole-pixel jitter with a constant fill (the small-image table form), TV as the only
 * penalty (or none), no blur, no diversity, Adam, a per-feature clip.
 *
 * @example
 * stepwiseSpec(problem, plan)?.P // 2 for the small-image default (jitter ±2)
 */
export function stepwiseSpec(p: StepProblem, plan: AscentPlan): Omit<StepwiseSpec, 'wasm'> | null {
  const stage = p.pipeline?.inputs[0];
  const bounds = plan.bounds[0];
  if (p.optimize.length !== 1 || plan.optimizer !== 'adam' || !bounds || !stage || p.pipeline!.diversity) return null;
  if (stage.param || stage.channelsFirst || stage.blur > 0 || !stage.dims || stage.dims[2] !== 1 || typeof stage.fill !== 'number') return null;
  const [h, w] = stage.dims;
  if (h < 2 || w < 2 || (h * w) % 4 !== 0 || !stage.transforms.length || drawFormat(stage).kind !== 'shift' || !shiftTables(stage)) return null;
  if (!stage.penalties.every((pen) => pen.kind === 'tv')) return null;
  const weight = stage.penalties.reduce((a, pen) => a + pen.weight, 0);
  return { rows: p.terms.rows, h, w, P: reach(stage), fill: stage.fill, tv: weight > 0 ? tvConstants(h, w, -weight) : null, b1: plan.b1, b2: plan.b2, eps: plan.eps, lo: bounds.lo, hi: bounds.hi };
}

/**
 * `scale` × TF's TV subgradient of h×w pictures as the kernel adds it (the same terms as the Loop
 * graph's, penalty.ts): along each axis 2·wt·(c_k − c_prev) plus a constant K of the pair masks,
 * wt = scale / pairs along that axis.
 */
function tvConstants(h: number, w: number, scale: number): NonNullable<StepwiseSpec['tv']> {
  const n = h * w;
  const wW = scale / (h * (w - 1)), wH = scale / ((h - 1) * w);
  const maskW = new Float32Array(n), maskH = new Float32Array(n), K = new Float32Array(n);
  const pairW = (j: number) => (j % w < w - 1 ? 1 : 0);
  const pairH = (j: number) => (Math.floor(j / w) < h - 1 ? 1 : 0);
  for (let j = 0; j < n; j++) {
    maskW[j] = pairW(j);
    maskH[j] = pairH(j);
    let k = 0;
    k -= wW * (pairW(j) - (j % w === 0 ? 0 : pairW(j - 1)));
    k -= wH * (pairH(j) - (j < w ? 0 : pairH(j - w)));
    K[j] = k;
  }
  return { wW2: 2 * wW, wH2: 2 * wH, K, maskW, maskH };
}

/**
 * The network alone as a graph: `x0` (the transformed pixels, [rows, n]) → `value` ([rows]) and
 * `grad0` (its gradient); the pipeline's stages are the kernels' part.
 *
 * @example
 * const def = networkGraph(problem); // inputs: x0; outputs: value, grad0
 */
export function networkGraph(p: StepProblem): ModelDef {
  const stage = p.pipeline!.inputs[0];
  const bare: StepProblem = { ...p, pipeline: { ...p.pipeline!, inputs: [{ ...stage, transforms: [], penalties: [] }] } };
  const rows = p.terms.rows;
  const n = stage.dims![0] * stage.dims![1];
  const b = new OnnxBuilder();
  const { value, grads } = emitStep(b, bare, stepShared(b, bare), ['x0'], [null]);
  b.named('Identity', [value], 'value');
  b.named('Identity', [grads[0]], 'grad0');
  return b.model([floatValue('x0', [rows, n])], [floatValue('value', [rows]), floatValue('grad0', [rows, n])]);
}

let wasm: Uint8Array | null = null;

/** The kernels' bytes (decoded once). @example pipelineKernels().length > 0 // true */
export function pipelineKernels(): Uint8Array {
  return (wasm ??= Uint8Array.from(atob(PIPELINE_WASM_BASE64), (c) => c.charCodeAt(0)));
}
