import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seeded } from '../test-nets.js';
import { jsKernels, KernelArena } from './wasm.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('WebAssembly kernels', () => {
  it('run with SIMD here and give bit-identical results to the JavaScript kernels', () => {
    const arena = new KernelArena(1 << 20);
    expect(arena.kernels.simd).toBe(true);
    const rnd = seeded(3);
    const n = 37, m = 9, f = 5; // odd n exercises the scalar tails
    const W = arena.f64(m * n), V = arena.f64(n * 8), U = arena.f64(f * 8), G = arena.f64(n * 8), out = arena.f64(f * 8), S = arena.f64(m * m), x = arena.f64(n), h = arena.f64(m);
    const rows = arena.i32(f);
    for (const s of [W, V, U, G, x]) s.view.forEach((_, i) => (s.view[i] = rnd()));
    rows.view.set([4, 0, 7, 2, 8]);
    // The same memory, worked on by the JavaScript kernels.
    const copy = new ArrayBuffer(1 << 20);
    new Uint8Array(copy).set(new Uint8Array(W.view.buffer, 0, 1 << 20));
    const js = jsKernels(copy);
    const F = new Float64Array(copy);
    const same = (slot: { ptr: number; view: Float64Array }) => slot.view.every((v, i) => Object.is(v, F[slot.ptr / 8 + i]));
    arena.kernels.gemvT8(W.ptr, V.ptr, rows.ptr, f, n, out.ptr);
    js.gemvT8(W.ptr, V.ptr, rows.ptr, f, n, out.ptr);
    expect(same(out)).toBe(true);
    arena.kernels.axpyT8(W.ptr, U.ptr, rows.ptr, f, n, G.ptr);
    js.axpyT8(W.ptr, U.ptr, rows.ptr, f, n, G.ptr);
    expect(same(G)).toBe(true);
    arena.kernels.syrk(W.ptr, m, n, S.ptr);
    js.syrk(W.ptr, m, n, S.ptr);
    expect(same(S)).toBe(true);
    arena.kernels.gemvRows(W.ptr, rows.ptr, f, n, x.ptr, h.ptr);
    js.gemvRows(W.ptr, rows.ptr, f, n, x.ptr, h.ptr);
    expect(same(h)).toBe(true);
    // And they compute what they claim (against a plain triple loop, to rounding).
    for (let k = 0; k < f; k++) {
      for (let c = 0; c < 8; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += W.view[rows.view[k] * n + i] * V.view[i * 8 + c];
        expect(out.view[k * 8 + c]).toBeCloseTo(s, 12);
      }
    }
    expect(arena.kernels.dot(x.ptr, x.ptr, n)).toBeCloseTo(x.view.reduce((s, v) => s + v * v, 0), 12);
  });

  it('climbPass: the same flips and h in SIMD and JavaScript, and every flip raises f', () => {
    const rnd = seeded(8);
    const n = 23, m = 7; // odd m exercises the scalar tail
    const arena = new KernelArena(1 << 16);
    const WT = arena.f64(n * m), c = arena.f64(m), a = arena.f64(n), h = arena.f64(m), s = arena.f64(n);
    WT.view.forEach((_, i) => (WT.view[i] = rnd()));
    c.view.forEach((_, j) => (c.view[j] = rnd() * 2));
    a.view.forEach((_, i) => (a.view[i] = rnd() * 0.3));
    s.view.forEach((_, i) => (s.view[i] = rnd() > 0 ? 1 : 0));
    const b = Array.from({ length: m }, rnd);
    const f = () => {
      let v = 0;
      for (let i = 0; i < n; i++) v += a.view[i] * s.view[i];
      for (let j = 0; j < m; j++) {
        let hj = b[j];
        for (let i = 0; i < n; i++) hj += WT.view[i * m + j] * s.view[i];
        v += c.view[j] * Math.max(0, hj);
      }
      return v;
    };
    for (let j = 0; j < m; j++) h.view[j] = b[j] + s.view.reduce((t, si, i) => t + si * WT.view[i * m + j], 0);
    const copy = new ArrayBuffer(1 << 16);
    new Uint8Array(copy).set(new Uint8Array(WT.view.buffer, 0, 1 << 16));
    const js = jsKernels(copy);
    const F = new Float64Array(copy);
    let before = f();
    for (let pass = 0; pass < 20; pass++) {
      const k1 = arena.kernels.climbPass(WT.ptr, c.ptr, a.ptr, h.ptr, s.ptr, n, m);
      const k2 = js.climbPass(WT.ptr, c.ptr, a.ptr, h.ptr, s.ptr, n, m);
      expect(k1).toBe(k2);
      expect(s.view.every((v, i) => v === F[s.ptr / 8 + i])).toBe(true);
      expect(h.view.every((v, j) => Object.is(v, F[h.ptr / 8 + j]))).toBe(true);
      const after = f();
      expect(after).toBeGreaterThanOrEqual(before - 1e-9);
      before = after;
      if (k1 === 0) break;
    }
    expect(s.view.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('kernels-wasm.ts is what kernels.wat compiles to', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'build-kernels.ts'), '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(out).toMatch(/matches/);
  });
});
