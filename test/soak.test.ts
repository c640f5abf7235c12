// Short soak (the full one is `npm run soak`, 10,000 steps): 400 steps on the bundled model leave
// tf.memory().numTensors unchanged between steps; the RSS drift is reported.
import { describe, expect, it } from 'vitest';
import { soak } from '../scripts/soak-run.js';

describe('soak: 400 steps on the bundled model', () => {
  it('keeps numTensors constant between steps (RSS drift reported)', async () => {
    const r = await soak({ steps: 400, every: 50, warmup: 100 });
    console.log(
      `soak ${r.steps} steps × ${r.rows} rows (${r.engine}, ${r.seconds.toFixed(1)} s): numTensors ${r.tensorCounts.join(', ')}; ` +
        `RSS after 100 steps ${r.rssAtWarmup.toFixed(1)} MB, then ${r.rssMin.toFixed(1)}–${r.rssMax.toFixed(1)} MB, final ${r.rssFinal.toFixed(1)} MB ` +
        `(largest drift ${(100 * r.rssDrift).toFixed(1)} %, not asserted: V8 collects old-space garbage late)`,
    );
    expect(r.engine).toBe('tfjs-wasm');
    expect(r.steps).toBe(400);
    expect(r.samples).toHaveLength(8);
    expect(r.tensorCounts).toHaveLength(1);
    expect(r.samples.every((s) => s.numBytes === r.samples[0].numBytes)).toBe(true);
    expect(Number.isFinite(r.best)).toBe(true);
  });
});
