import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { maximize } from '../optimize/maximize.js';
import { maximizeExact, type ExactProgress } from './maximizeExact.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(repoRoot, 'models', 'fashion-mnist-mlp');
const examples = (JSON.parse(readFileSync(path.join(modelDir, 'examples.json'), 'utf8')) as { examples: Array<{ label: number; input: number[] }> }).examples;
let model: ActmaxModel;

beforeAll(async () => {
  await useBackend();
  model = await loadModel(modelDir);
});

describe('maximizeExact on the bundled Fashion-MNIST MLP (784-128-10)', () => {
  // Kept cheap for `npm test` (margin:0 at ε = 0.02 takes ≈ 40 s on a quiet core); `npm run bench:exact` has the hard cases.
  it.each([
    { name: 'margin:3', spec: { kind: 'margin', index: 3 } as const, image: 0, eps: 0.01 },
    { name: 'logit:3', spec: { kind: 'logit', index: 3 } as const, image: 4, eps: 0.02 },
  ])('$name within an L∞ ball of ε = $eps around test image $image is proven optimal', async ({ spec, image, eps }) => {
    const ref = examples[image].input;
    const constraints = [{ kind: 'ball', ref, eps, p: 'inf' } as const];
    const seen: ExactProgress[] = [];
    const res = await maximizeExact(model, spec, { constraints, timeLimit: 200, onProgress: (p) => seen.push(p) });
    expect(res.status).toBe('optimal');
    // Proven to HiGHS's MIP gap tolerances (absolute 1e-6: margins near 0 have a large relative gap).
    expect(res.upperBound! - res.value!).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(res.value!)));
    expect(res.residuals.linf).toBeLessThanOrEqual(1e-9);
    expect(res.input.every((v, i) => v >= 0 && v <= 1 && Math.abs(v - ref[i]) <= eps + 1e-12)).toBe(true);
    // Checked three ways: TF.js, float64, the MILP.
    expect(Math.abs(res.check!.tfjs - res.value!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(res.value!)));
    expect(Math.abs(res.check!.solver! - res.value!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(res.value!)));
    // Never below gradient search (another seed than the warm start's).
    const grad = await maximize(model, spec, { constraints, steps: 200, restarts: 4, seed: 3 });
    expect(res.value!).toBeGreaterThanOrEqual(grad.results[0].value - 1e-5 * Math.max(1, Math.abs(res.value!)));
    expect(seen.map((p) => p.phase)).toContain('warm-start');
  }, 400_000);

  it('an abort returns the best input so far with a proven bound (full box, logit:1)', async () => {
    const warm = (await maximize(model, { kind: 'logit', index: 1 }, { steps: 100, restarts: 2 })).results[0];
    const controller = new AbortController();
    let solving = false;
    const res = await maximizeExact(model, { kind: 'logit', index: 1 }, {
      timeLimit: 120,
      warmStart: warm.input,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'solve' && !solving) {
          solving = true;
          setTimeout(() => controller.abort(), 1000);
        }
      },
    });
    expect(res.interrupted).toBe(true);
    expect(res.status).toBe('time-limit');
    expect(res.value!).toBeGreaterThanOrEqual(warm.value - 1e-4);
    expect(res.upperBound!).toBeGreaterThanOrEqual(res.value!);
    // It stopped on the abort, not at its time limit.
    expect(res.solveSeconds).toBeLessThan(120);
  }, 300_000);
});
