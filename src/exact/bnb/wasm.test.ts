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

  it('kernels-wasm.ts is what kernels.wat compiles to', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'build-kernels.ts'), '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(out).toMatch(/matches/);
  });
});
