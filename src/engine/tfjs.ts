import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from '../errors.js';
import { buildForward, tapKey, type Tap } from '../model/activations.js';
import { compileBatchObjective, objectiveTaps } from '../objectives/compile.js';
import type { Engine, EngineRequest, Evaluation } from './engine.js';
import { tfjsPipeline } from './tfjs-pipeline.js';

/** WASM's heap stops at 4 GB; a gradient step keeps about this many times the network's values alive (measured: nanodet, 416×416, 165 MB of values per row, 2.6 GB at 4 rows). */
const WASM_BYTES_PER_VALUE_BYTE = 4;
const WASM_HEAP_BUDGET = 3.5e9;

/**
 * Refuse, in one line, a batch whose gradient step would exhaust the WASM heap (a WASM abort
 * kills the process with no message).
 */
function checkWasmMemory(model: EngineRequest['model'], rows: number, targets: number): void {
  if (tf.getBackend() !== 'wasm' || !model.ir) return;
  let floats = 0;
  for (const s of model.ir.shapes.values()) floats += s.reduce((a, b) => a * b, 1);
  const perRow = floats * 4 * WASM_BYTES_PER_VALUE_BYTE;
  if (perRow * rows <= WASM_HEAP_BUDGET) return;
  const maxRows = Math.max(1, Math.floor(WASM_HEAP_BUDGET / perRow));
  throw new ActmaxError('bad-option', `${rows} rows of this model need about ${((perRow * rows) / 1e9).toFixed(1)} GB per gradient step on TF.js-WASM, whose memory stops at 4 GB; run at most ${maxRows} rows at once (${targets > 1 ? 'fewer targets or ' : ''}--restarts ${Math.max(1, Math.floor(maxRows / targets))})`);
}

/**
 * The TF.js reference engine: one forward program with every tap the objectives need, one
 * `tf.grads` call per step, every tensor freed. With `req.pipeline`, the optimised variables are
 * rendered into inputs (parameterisation), each row is transformed by its drawn affine map, and
 * the regularisers join the gradient (not the reported values).
 *
 * @example
 * const engine = await createTfjsEngine({ model, targets: [{ kind: 'logit', index: 1 }], rowsPerTarget: 4, optimize: [0], fixed: new Map() });
 * const { values, grads } = await engine.valueAndGrad([new Float32Array(4 * 784).fill(0.5)]);
 * values.length // 4
 * engine.dispose();
 */
export async function createTfjsEngine(req: EngineRequest): Promise<Engine> {
  const { model, targets, rowsPerTarget } = req;
  const rows = targets.length * rowsPerTarget;
  checkWasmMemory(model, rows, targets.length);
  const pipeline = req.pipeline ? tfjsPipeline(req.pipeline, model) : null;
  const extraTaps: Tap[] = pipeline ? pipeline.extraTerms.flatMap((t) => t.taps) : [];
  const taps: Tap[] = targets.flatMap((t) => objectiveTaps(model, t)).concat(extraTaps);
  const forward = buildForward(model, taps);
  const hints = new Map(forward.taps.map((t, i) => [t.layer, forward.tapShapes[i]] as [string, number[]]));
  const objective = compileBatchObjective(model, targets, rowsPerTarget, hints);
  const tapIndex = new Map(forward.taps.map((t, i) => [tapKey(t), i]));
  const shapes = model.inputs.map((i) => [rows, ...i.shape]);
  const fixedTensors = new Map<number, tf.Tensor>();
  for (const [idx, v] of req.fixed) {
    fixedTensors.set(idx, tf.keep(tf.tidy(() => tf.tensor(v, [1, ...model.inputs[idx].shape]).tile([rows, ...model.inputs[idx].shape.map(() => 1)]))));
  }
  const sizes = req.optimize.map((i, k) => req.pipeline?.inputs[k]?.param?.size ?? model.inputs[i].shape.reduce((a, b) => a * b, 1));

  /** Optimised variables → the rendered optimised inputs (by k). */
  const rendered = (opt: tf.Tensor[]): tf.Tensor[] => opt.map((p, k) => (pipeline ? pipeline.render(p, k) : p));
  /** Model inputs in model order, from the optimised ones (transformed or not). */
  const modelInputs = (opt: tf.Tensor[]): tf.Tensor[] => model.inputs.map((_, i) => {
    const k = req.optimize.indexOf(i);
    return k < 0 ? fixedTensors.get(i)! : opt[k];
  });

  const run = (inputs: tf.Tensor[]) => {
    const { outputs, taps: tapValues } = forward.run(inputs);
    const tap = (t: Tap) => tapValues[tapIndex.get(tapKey(t))!];
    const values = objective.evaluate({ tap, outputs, inputs });
    return { values, outputs, tap };
  };

  const toTensors = (xs: Float32Array[]) =>
    req.optimize.map((i, k) => (pipeline ? tf.tensor2d(xs[k], [rows, sizes[k]]) : tf.tensor(xs[k], shapes[i])));

  return {
    name: `tfjs-${tf.getBackend()}`,
    rows,
    async valueAndGrad(xs, draws) {
      const xt = toTensors(xs);
      let kept: tf.Tensor | null = null;
      const grads = tf.tidy(() =>
        tf.grads((...opt: tf.Tensor[]) => {
          const inputs = rendered(opt);
          const seen = pipeline ? inputs.map((x, k) => pipeline.transform(x, k, draws?.[k] ?? null)) : inputs;
          const { values: v, tap } = run(modelInputs(seen));
          kept = tf.keep(v);
          let total: tf.Tensor = v;
          for (const term of pipeline?.extraTerms ?? []) total = total.add(term.fn({ tap, inputs, rowsPerTarget }));
          return total.sum();
        })(xt),
      );
      const values = (kept as unknown as tf.Tensor).dataSync() as Float32Array;
      const out = { values: Float32Array.from(values), grads: grads.map((g) => g.dataSync() as Float32Array) };
      (kept as unknown as tf.Tensor).dispose();
      tf.dispose(grads);
      tf.dispose(xt);
      return out;
    },
    async evaluate(xs): Promise<Evaluation> {
      const xt = toTensors(xs);
      const dynamic = model.outputs.some((o) => o.dynamic);
      const res = tf.tidy(() => {
        // Evaluate without transforms: the reported value is for the input as it stands.
        const inputs = rendered(xt);
        const all = modelInputs(inputs);
        const { values, outputs } = run(all);
        // Outputs of dynamic ops come from TF.js's graph executor below, on the same inputs.
        return { values, outputs: dynamic ? [] : (outputs as tf.Tensor[]), shown: pipeline ? inputs : [], inputs: dynamic ? all.map((t) => t.clone()) : [] };
      });
      const outputs = dynamic ? await forward.outputsAsync(res.inputs) : res.outputs;
      const out: Evaluation = {
        values: Float32Array.from(res.values.dataSync()),
        outputs: outputs.map((o) => Float32Array.from(o.dataSync())),
        ...(pipeline ? { inputs: res.shown.map((o) => Float32Array.from(o.dataSync())) } : {}),
      };
      tf.dispose([res.values, ...res.outputs, ...res.shown, ...res.inputs, ...outputs]);
      tf.dispose(xt);
      return out;
    },
    dispose() {
      objective.dispose();
      forward.dispose();
      pipeline?.dispose();
      for (const t of fixedTensors.values()) t.dispose();
    },
  };
}
