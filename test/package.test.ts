import { describe, expect, it } from 'vitest';
import * as actmax from '../src/index.js';
import { BUNDLED } from './helpers.js';

// The README's library example, as a user would write it.
describe('public API', () => {
  it('runs the README example', async () => {
    const { loadModel, maximize, logit, box, useBackend } = actmax;
    await useBackend();
    const model = await loadModel(BUNDLED);
    const seen: number[] = [];
    const run = await maximize(model, logit(1).minus(logit(6).times(0.5)), {
      steps: 60,
      restarts: 2,
      seed: 0,
      constraints: [box(0, 1)],
      onStep: ({ step, best }) => void (step % 20 === 0 && seen.push(best[0])),
    });
    expect(run.results[0].objective).toBe('logit:1-0.5*logit:6');
    expect(seen.length).toBe(3);
    expect(run.results[0].value).toBeGreaterThan(seen[0]);
    expect(run.results[0].outputs.dense_1[1]).toBeGreaterThan(0.99);
    model.dispose();
  });

  it('exports every surface the README names', () => {
    for (const name of ['loadModel', 'maximize', 'maximizeExact', 'logit', 'prob', 'margin', 'neuron', 'channel', 'layerEnergy', 'direction', 'target', 'sum', 'box', 'linf', 'l2', 'l1', 'mask', 'levels', 'linear', 'oneHot', 'parseObjective', 'imageDefaults', 'chooseEngine', 'toTfjsLayers', 'ActmaxError']) {
      expect(typeof (actmax as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
