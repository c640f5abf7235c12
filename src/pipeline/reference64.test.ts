import { describe, expect, it } from 'vitest';
import { Rng } from '../optimize/rng.js';
import { standardTransforms } from '../transforms/spec.js';
import { pipelineReference, testDraw, testStage } from './reference64.js';
import type { InputStage } from './spec.js';

/*
 * The float64 pipeline reference (the judge of both engines' pipelines) against central finite
 * differences of its own forward pass, in float64: every stage (pixel, sigmoid, spectral, colour
 * decorrelation, shift chains and bilinear affine maps with constant and edge fill, channels-first
 * and channels-last) to 1e-8 relative to the largest gradient entry.
 */

const CASES: Array<{ name: string; stage: InputStage }> = [
  { name: 'spectral RGB, decorrelated, standard transforms, edge fill, channels-first', stage: testStage([12, 10, 3], 'spectral', standardTransforms(12, 10), 'edge', true) },
  { name: 'spectral RGB, decorrelated, standard transforms, constant fill', stage: testStage([11, 12, 3], 'spectral', standardTransforms(11, 12), 0.25) },
  { name: 'spectral grey, no transforms', stage: testStage([9, 8, 1], 'spectral', [], 'edge') },
  { name: 'sigmoid RGB, decorrelated, pad + jitter (a shift chain), constant fill', stage: testStage([8, 9, 3], 'sigmoid', [{ kind: 'pad', pixels: 2 }, { kind: 'jitter', pixels: 2 }], 0.1) },
  { name: 'pixels, rotate + scale, edge fill, channels-first', stage: testStage([9, 7, 3], 'pixel', [{ kind: 'scale', min: 0.8, max: 1.2 }, { kind: 'rotate', degrees: 30 }], 'edge', true) },
  { name: 'pixels, jitter, edge fill (whole-pixel taps at the border)', stage: testStage([7, 7, 1], 'pixel', [{ kind: 'pad', pixels: 3 }, { kind: 'jitter', pixels: 3 }], 'edge') },
];

describe('float64 pipeline reference = central finite differences of its forward pass (1e-8)', () => {
  for (const { name, stage } of CASES) {
    it(name, () => {
      const rng = new Rng(17);
      const size = stage.param?.size ?? stage.shape.reduce((a, b) => a * b, 1);
      const p = Float64Array.from({ length: size }, () => (stage.param ? 0.7 : 0.5) * rng.normal());
      const affine = testDraw(stage, 4);
      const r = Float64Array.from({ length: stage.shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
      const value = (q: Float64Array) => pipelineReference(stage, q, affine).seen.reduce((acc, v, i) => acc + v * r[i], 0);
      const { dp } = pipelineReference(stage, p, affine).backward(r);
      const scale = Math.max(...Array.from(dp, Math.abs));
      expect(scale).toBeGreaterThan(0);
      const h = 1e-5;
      let worst = 0;
      for (let i = 0; i < size; i++) {
        const up = Float64Array.from(p), down = Float64Array.from(p);
        up[i] += h;
        down[i] -= h;
        worst = Math.max(worst, Math.abs((value(up) - value(down)) / (2 * h) - dp[i]) / scale);
      }
      expect(worst).toBeLessThan(1e-8);
    });
  }
});
