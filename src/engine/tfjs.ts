import * as tf from '@tensorflow/tfjs';
import { buildForward, tapKey, type Tap } from '../model/activations.js';
import { compileBatchObjective, objectiveTaps } from '../objectives/compile.js';
import type { Engine, EngineRequest, Evaluation } from './engine.js';

/** Extra hook for image pipelines: transform each optimised input (e.g. jitter) before the model sees it. */
export interface TfjsEngineOptions {
  transformInput?: (x: tf.Tensor, inputIndex: number) => tf.Tensor;
}

/**
 * The TF.js reference engine: one forward program with every tap the objectives need, one
 * `tf.grads` call per step, every tensor freed. With `req.pipeline`, the optimised variables are
 * rendered into inputs (parameterisation), transformed each step, and extra terms join the
 * gradient (not the reported values).
 *
 * @example
 * const engine = await createTfjsEngine({ model, targets: [{ kind: 'logit', index: 1 }], rowsPerTarget: 4, optimize: [0], fixed: new Map() });
 * const { values, grads } = await engine.valueAndGrad([new Float32Array(4 * 784).fill(0.5)]);
 * values.length // 4
 * engine.dispose();
 */
export async function createTfjsEngine(req: EngineRequest, opts: TfjsEngineOptions = {}): Promise<Engine> {
  const { model, targets, rowsPerTarget } = req;
  const pipeline = req.pipeline;
  const rows = targets.length * rowsPerTarget;
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
  const paramSize = (k: number) => pipeline?.paramSize[k] ?? null;

  /** Optimised variables → model inputs (rendered), in model-input order. */
  const rendered = (opt: tf.Tensor[]): tf.Tensor[] =>
    model.inputs.map((_, i) => {
      const k = req.optimize.indexOf(i);
      if (k < 0) return fixedTensors.get(i)!;
      return paramSize(k) !== null ? pipeline!.render(opt[k], k) : opt[k];
    });
  const transformed = (inputs: tf.Tensor[]): tf.Tensor[] =>
    inputs.map((x, i) => {
      const k = req.optimize.indexOf(i);
      if (k < 0) return x;
      let t = opts.transformInput ? opts.transformInput(x, i) : x;
      if (pipeline?.transform) t = pipeline.transform(t, k);
      return t;
    });

  const run = (inputs: tf.Tensor[]) => {
    const { outputs, taps: tapValues } = forward.run(inputs);
    const tap = (t: Tap) => tapValues[tapIndex.get(tapKey(t))!];
    const values = objective.evaluate({ tap, outputs, inputs });
    return { values, outputs, tap };
  };

  const toTensors = (xs: Float32Array[]) =>
    req.optimize.map((i, k) => {
      const n = paramSize(k);
      return n !== null ? tf.tensor2d(xs[k], [rows, n]) : tf.tensor(xs[k], shapes[i]);
    });

  return {
    name: `tfjs-${tf.getBackend()}`,
    rows,
    async valueAndGrad(xs) {
      const xt = toTensors(xs);
      let kept: tf.Tensor | null = null;
      const grads = tf.tidy(() =>
        tf.grads((...opt: tf.Tensor[]) => {
          const inputs = rendered(opt);
          const { values: v, tap } = run(transformed(inputs));
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
        const { values, outputs } = run(inputs);
        const shown = pipeline ? req.optimize.map((i) => inputs[i]) : [];
        // Outputs of dynamic ops come from TF.js's graph executor below, on the same inputs.
        return { values, outputs: dynamic ? [] : (outputs as tf.Tensor[]), shown, inputs: dynamic ? inputs.map((t) => t.clone()) : [] };
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
      for (const t of fixedTensors.values()) t.dispose();
    },
  };
}
