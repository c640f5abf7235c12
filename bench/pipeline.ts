import type { ActmaxModel } from '../src/model/types.js';
import { BUDGET_MS, emit, QUICK } from './common.js';
import { throughput } from './throughput.js';

/*
 * The CLI's default path (issue 12, targets 1 and 2): `maximize --objective logit:all` with the
 * image defaults on (28×28: pixels, per-row ±2 px jitter, TV 0.5) and the default engine, against
 * the same run with `--image none`; PyTorch runs the same loop in torch.ts.
 */

/**
 * Steady-state image-steps/s of the default path on a model, with and without the image
 * pipeline, at `restarts` restarts of every class.
 *
 * @example
 * await defaultPath(model, 'fashion-mnist-mlp', 100);
 */
export async function defaultPath(model: ActmaxModel, name: string, restarts: number, withoutImage = true): Promise<void> {
  const batch = model.outputs[0].units * restarts;
  const budget = BUDGET_MS * (QUICK ? 1 : 2);
  for (const image of withoutImage ? (['auto', 'none'] as const) : (['auto'] as const)) {
    const r = await throughput(model, batch, 'auto', budget, image === 'auto' ? { image: 'auto' } : {});
    emit({ bench: 'default-path', model: name, engine: r.engine, backend: 'auto', threads: 0, batch, image, imageStepsPerSec: r.rate, imageStepsPerCpuSec: r.cpuRate, steps: r.steps, seconds: r.seconds });
  }
}
