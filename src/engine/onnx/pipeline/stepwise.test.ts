import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../backend.js';
import { totalVariation } from '../../tfjs-pipeline.js';
import { pipelineKernels, stepwiseSpec } from './stepwise.js';
import { tvDifferences } from './testing.js';
import type { StepProblem } from '../step.js';
import type { AscentPlan } from '../../engine.js';

/*
 * The stepwise ascent's WebAssembly kernels against plain references: the whole-pixel shifts
 * (exact, both ways), the TV gradient (TF.js's gradient of its total variation to 1e-5 — ties
 * included — and float64 central differences), Adam and the clip (float32 arithmetic in the same
 * order, to 1e-6); and when the stepwise path applies.
 */

interface Kernels {
  memory: WebAssembly.Memory;
  shiftRows(src: number, dst: number, ids: number, rows: number, h: number, w: number, P: number, sign: number, fill: number): void;
  tvAdd(x: number, d: number, rows: number, h: number, w: number, C: number, V: number, mW: number, mH: number, K: number, wW2: number, wH2: number): void;
  adamClip(x: number, g: number, m: number, v: number, alphas: number, lo: number, hi: number, rows: number, n: number, b1: number, b2: number, eps: number): void;
}

let k: Kernels;
beforeAll(async () => {
  await useBackend('wasm');
  const { instance } = (await WebAssembly.instantiate(pipelineKernels() as BufferSource)) as unknown as WebAssembly.WebAssemblyInstantiatedSource;
  k = instance.exports as unknown as Kernels;
  k.memory.grow(64);
});

/** Float32 arrays at byte offsets of the kernels' memory. */
const at = (ptr: number, len: number) => new Float32Array(k.memory.buffer, ptr, len);
const seeded = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

describe('stepwise pipeline kernels', () => {
  it('shift rows by their whole-pixel draws, with the fill, and back (the transpose, zero fill)', () => {
    const h = 6, w = 8, n = h * w, rows = 5, P = 2, side = 2 * P + 1;
    const rnd = seeded(1);
    const src = at(1024, rows * n), dst = at(8192, rows * n), back = at(16384, rows * n);
    src.set(Float32Array.from({ length: rows * n }, rnd));
    const shifts = [[-2, 1], [0, 0], [2, -2], [1, 2], [-1, -1]];
    new Int32Array(k.memory.buffer, 512, rows).set(shifts.map(([ty, tx]) => (ty + P) * side + tx + P));
    k.shiftRows(1024, 8192, 512, rows, h, w, P, 1, 0.25);
    k.shiftRows(8192, 16384, 512, rows, h, w, P, -1, 0);
    shifts.forEach(([ty, tx], r) => {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const sy = y + ty, sx = x + tx;
        const on = sy >= 0 && sy < h && sx >= 0 && sx < w;
        expect(dst[r * n + y * w + x]).toBe(on ? src[r * n + sy * w + sx] : 0.25);
        // Back: the gradient of the shift (each source pixel gets what it sent; nothing from the fill).
        const by = y - ty, bx = x - tx;
        const from = by >= 0 && by < h && bx >= 0 && bx < w;
        expect(back[r * n + y * w + x]).toBe(from ? dst[r * n + by * w + bx] : 0);
      }
    });
  });

  it('adds scale·(the TV gradient): TF.js to 1e-5 with ties, float64 central differences without', () => {
    const h = 7, w = 12, n = h * w, rows = 3, scale = -0.3;
    const spec = stepwiseSpec(problemFor(h, w, 0.3), PLAN)!;
    const rnd = seeded(7);
    // Row 0 has ties (two levels), rows 1-2 none (spread values).
    const x = Float32Array.from({ length: rows * n }, (_, i) => (i < n ? (rnd() < 0.5 ? 0.25 : 0.75) : rnd()));
    const X = 4096, D = 65536, C = 131072, V = 139264, MW = 147456, MH = 155648, K = 163840;
    at(X, rows * n + 4 * w).fill(0);
    at(X, rows * n).set(x);
    at(D, rows * n).fill(0);
    at(C, 4 + n).fill(0);
    at(V, w + n).fill(0);
    at(MW, n).set(spec.tv!.maskW);
    at(MH, n).set(spec.tv!.maskH);
    at(K, n).set(spec.tv!.K);
    k.tvAdd(X, D, rows, h, w, C, V, MW, MH, K, spec.tv!.wW2, spec.tv!.wH2);
    const got = at(D, rows * n);
    const want = tf.tidy(() => tf.grad((t: tf.Tensor) => totalVariation(t, false).sum().mul(scale))(tf.tensor(x, [rows, h, w])).dataSync() as Float32Array);
    for (let i = 0; i < rows * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i])));
    for (let r = 1; r < rows; r++) {
      const fd = tvDifferences(Float64Array.from(x.subarray(r * n, (r + 1) * n)), [h, w], scale);
      for (let i = 0; i < n; i++) expect(Math.abs(got[r * n + i] - fd[i])).toBeLessThan(1e-4);
    }
  });

  it("takes Adam's step (unnormalised moments) and clips per feature, as float32 arithmetic in the fused loop's order", () => {
    const n = 16, rows = 2, b1 = 0.9, b2 = 0.999, eps = 3.2e-7;
    const rnd = seeded(3);
    const X = 1024, G = 2048, M = 3072, V = 4096, AL = 5120, LO = 6144, HI = 7168;
    const init = (ptr: number, len: number, f: () => number) => at(ptr, len).set(Float32Array.from({ length: len }, f));
    init(X, rows * n, rnd);
    init(G, rows * n, () => rnd() - 0.5);
    init(M, rows * n, () => rnd() - 0.5);
    init(V, rows * n, rnd);
    at(AL, rows).set([0.05, 0.2]);
    init(LO, n, () => 0.1);
    init(HI, n, () => 0.9);
    const [x, g, m, v] = [X, G, M, V].map((p) => Float32Array.from(at(p, rows * n)));
    k.adamClip(X, G, M, V, AL, LO, HI, rows, n, b1, b2, eps);
    const f = Math.fround;
    for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) {
      const j = r * n + i;
      const mm = f(f(m[j] * f(b1)) + g[j]);
      const vv = f(f(v[j] * f(b2)) + f(g[j] * g[j]));
      const next = f(x[j] + f(f(mm / f(f(Math.sqrt(vv)) + f(eps))) * at(AL, rows)[r]));
      expect(at(M, rows * n)[j]).toBe(mm);
      expect(at(V, rows * n)[j]).toBe(vv);
      expect(at(X, rows * n)[j]).toBeCloseTo(Math.max(Math.min(next, 0.9), 0.1), 6);
    }
  });
});

describe('when the stepwise path applies', () => {
  it('one-channel pictures with whole-pixel jitter and TV under Adam and a clip; not with a parameterisation, colour, blur, diversity or another optimiser', () => {
    expect(stepwiseSpec(problemFor(28, 28, 0.1), PLAN)).toMatchObject({ h: 28, w: 28, P: 2, fill: 0 });
    expect(stepwiseSpec(problemFor(28, 28, 0), PLAN)!.tv).toBeNull();
    expect(stepwiseSpec(problemFor(28, 28, 0.1), { ...PLAN, optimizer: 'sgd' })).toBeNull();
    expect(stepwiseSpec(problemFor(28, 28, 0.1, { blur: 0.5 }), PLAN)).toBeNull();
    expect(stepwiseSpec(problemFor(28, 28, 0.1, { dims: [28, 28, 3] }), PLAN)).toBeNull();
    expect(stepwiseSpec(problemFor(28, 28, 0.1, { param: {} as never }), PLAN)).toBeNull();
    expect(stepwiseSpec(problemFor(28, 28, 0.1, { transforms: [] }), PLAN)).toBeNull();
    expect(stepwiseSpec({ ...problemFor(28, 28, 0.1), pipeline: { ...problemFor(28, 28, 0.1).pipeline!, diversity: { layer: 'd', weight: 1 } } }, PLAN)).toBeNull();
    expect(stepwiseSpec(problemFor(5, 5, 0.1), PLAN)).toBeNull(); // 25 pixels: not a multiple of 4
  });
});

const PLAN: AscentPlan = { optimizer: 'adam', bounds: [{ lo: new Float32Array(784), hi: new Float32Array(784).fill(1) }], b1: 0.9, b2: 0.999, eps: 3.2e-7 };

/** A one-input problem with the small-image pipeline (jitter ±2, fill 0, TV of `tv`) on h×w pictures. */
function problemFor(h: number, w: number, tv: number, stage: Record<string, unknown> = {}): StepProblem {
  return {
    optimize: [0],
    terms: { rows: 4 },
    pipeline: {
      inputs: [{ shape: [h, w], channelsFirst: false, param: null, dims: [h, w, 1], transforms: [{ kind: 'jitter', pixels: 2 }], fill: 0, penalties: tv > 0 ? [{ kind: 'tv', weight: tv }] : [], blur: 0, ...stage }],
      diversity: null,
    },
  } as unknown as StepProblem;
}
