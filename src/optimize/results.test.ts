import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { maximize } from './maximize.js';

let model: ActmaxModel;
beforeAll(async () => {
  await useBackend('wasm');
  model = await loadModel(path.resolve(import.meta.dirname, '../../models/fashion-mnist-mlp'));
});
afterAll(() => model.dispose());

describe('the winning restart', () => {
  // With jitter the search sees each step's input shifted at random, so its running best values
  // are noisy; the result reports values without the shift. The winner must be the restart whose
  // input scores highest as reported.
  it('reports the highest value among its restarts when jitter is on (both engines)', async () => {
    const targets = [0, 2, 4, 6, 8].map((index) => ({ kind: 'logit' as const, index }));
    for (const engine of ['tfjs', 'auto'] as const) {
      const run = await maximize(model, targets, { steps: 15, restarts: 6, seed: 4, keepRestarts: true, engine, image: 'auto', constraints: [{ kind: 'box', lo: 0, hi: 1 }] });
      for (const r of run.results) {
        const values = r.perRestart!.map((p) => p.value);
        expect(r.value, `${engine} ${r.objective}: restart ${r.restart} of ${values.join(', ')}`).toBeGreaterThanOrEqual(Math.max(...values) - 1e-6 * Math.abs(r.value));
        expect(r.perRestart![r.restart].value).toBeCloseTo(r.value, 5);
      }
    }
  });
});
