import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

/**
 * The hot loops of the SDP bound (kernels.wat, float64 SIMD) over one block of memory, with a
 * plain-JavaScript twin for engines without WebAssembly SIMD. Pointers are byte offsets into that
 * memory; arrays are allocated once per problem (growing the memory would detach their views).
 */
export interface Kernels {
  /** True when the WebAssembly SIMD kernels run (false: the JavaScript fallback). */
  readonly simd: boolean;
  /** out[k·8 + c] = Σ_i W[rows[k]·n + i] · V[i·8 + c] for k < f. */
  gemvT8(W: number, V: number, rows: number, f: number, n: number, out: number): void;
  /** G[i·8 + c] += Σ_k W[rows[k]·n + i] · U[k·8 + c]. */
  axpyT8(W: number, U: number, rows: number, f: number, n: number, G: number): void;
  /** Σ_i x[i]·y[i]. */
  dot(x: number, y: number, n: number): number;
  /** S[k·N + l] = S[l·N + k] = A_k · A_l for l ≤ k < N (A is N × n). */
  syrk(A: number, N: number, n: number, S: number): void;
  /** out[k] = W_{rows[k]} · x for k < f. */
  gemvRows(W: number, rows: number, f: number, n: number, x: number, out: number): void;
  /** out[i] += Σ_k coef[k] · W[rows[k]·n + i] for i < n. */
  axpyRows(W: number, coef: number, rows: number, f: number, n: number, out: number): void;
  /**
   * One hill-climbing pass over box vertices (see polish.ts climbVertex): flips s_i ∈ {0, 1} in
   * order when that raises a·s + Σ_j c_j relu(h_j) by more than 1e-12, keeping h = W s + b up to
   * date from WT (n × m). Returns the number of flips.
   */
  climbPass(WT: number, c: number, a: number, h: number, s: number, n: number, m: number): number;
}

/** A float64 or int32 array living in the kernels' memory. */
export interface Slot<T extends Float64Array | Int32Array> {
  /** Byte offset (what the kernels take). */
  ptr: number;
  view: T;
}

/**
 * Memory for one problem's arrays plus the kernels that work on it.
 *
 * @example
 * const arena = new KernelArena(1 << 20);
 * const x = arena.f64(784);
 * arena.kernels.dot(x.ptr, x.ptr, 784);
 */
export class KernelArena {
  readonly kernels: Kernels;
  private readonly buffer: ArrayBuffer;
  private used = 0;

  /** `bytes`: the most this arena will hold (allocations are bump-allocated, 16-byte aligned). */
  constructor(bytes: number) {
    const made = makeKernels(bytes);
    this.kernels = made.kernels;
    this.buffer = made.buffer;
  }

  f64(count: number): Slot<Float64Array> {
    const ptr = this.take(count * 8);
    return { ptr, view: new Float64Array(this.buffer, ptr, count) };
  }

  i32(count: number): Slot<Int32Array> {
    const ptr = this.take(count * 4);
    return { ptr, view: new Int32Array(this.buffer, ptr, count) };
  }

  private take(bytes: number): number {
    const ptr = this.used;
    this.used = (ptr + bytes + 15) & ~15;
    if (this.used > this.buffer.byteLength) throw new Error(`KernelArena: ${this.used} bytes needed, ${this.buffer.byteLength} reserved`);
    return ptr;
  }
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is missing. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    // Under 4 KB, so synchronous compilation is allowed everywhere.
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

function makeKernels(bytes: number): { kernels: Kernels; buffer: ArrayBuffer } {
  const mod = kernelModule();
  if (mod) {
    const instance = new WebAssembly.Instance(mod, {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    const pages = Math.ceil(bytes / 65536);
    if (pages > memory.buffer.byteLength / 65536) memory.grow(pages - memory.buffer.byteLength / 65536);
    const e = instance.exports as unknown as Omit<Kernels, 'simd'>;
    return { kernels: { simd: true, gemvT8: e.gemvT8, axpyT8: e.axpyT8, dot: e.dot, syrk: e.syrk, gemvRows: e.gemvRows, axpyRows: e.axpyRows, climbPass: e.climbPass }, buffer: memory.buffer };
  }
  const buffer = new ArrayBuffer(Math.ceil(bytes / 16) * 16);
  return { kernels: jsKernels(buffer), buffer };
}

/**
 * The same kernels in plain JavaScript over `buffer` (pointers are byte offsets), summing in the
 * same order as the SIMD code lane by lane.
 *
 * @example
 * const k = jsKernels(new ArrayBuffer(1024));
 */
export function jsKernels(buffer: ArrayBuffer): Kernels {
  const F = new Float64Array(buffer);
  const I = new Int32Array(buffer);
  const dot = (x: number, y: number, n: number): number => {
    let a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    let p = x >> 3, q = y >> 3, i = 0;
    const end = n & ~3;
    for (; i < end; i += 4, p += 4, q += 4) {
      a0 += F[p] * F[q];
      a1 += F[p + 1] * F[q + 1];
      b0 += F[p + 2] * F[q + 2];
      b1 += F[p + 3] * F[q + 3];
    }
    let s = (a0 + b0) + (a1 + b1);
    for (; i < n; i++, p++, q++) s += F[p] * F[q];
    return s;
  };
  return {
    simd: false,
    gemvT8(W, V, rows, f, n, out) {
      for (let k = 0; k < f; k++) {
        const o = (W >> 3) + I[(rows >> 2) + k] * n;
        let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0;
        for (let i = 0, q = V >> 3; i < n; i++, q += 8) {
          const w = F[o + i];
          g0 += w * F[q]; g1 += w * F[q + 1]; g2 += w * F[q + 2]; g3 += w * F[q + 3];
          g4 += w * F[q + 4]; g5 += w * F[q + 5]; g6 += w * F[q + 6]; g7 += w * F[q + 7];
        }
        const t = (out >> 3) + k * 8;
        F[t] = g0; F[t + 1] = g1; F[t + 2] = g2; F[t + 3] = g3; F[t + 4] = g4; F[t + 5] = g5; F[t + 6] = g6; F[t + 7] = g7;
      }
    },
    axpyT8(W, U, rows, f, n, G) {
      for (let k = 0; k < f; k++) {
        const o = (W >> 3) + I[(rows >> 2) + k] * n;
        const u = (U >> 3) + k * 8;
        const u0 = F[u], u1 = F[u + 1], u2 = F[u + 2], u3 = F[u + 3], u4 = F[u + 4], u5 = F[u + 5], u6 = F[u + 6], u7 = F[u + 7];
        for (let i = 0, q = G >> 3; i < n; i++, q += 8) {
          const w = F[o + i];
          F[q] += w * u0; F[q + 1] += w * u1; F[q + 2] += w * u2; F[q + 3] += w * u3;
          F[q + 4] += w * u4; F[q + 5] += w * u5; F[q + 6] += w * u6; F[q + 7] += w * u7;
        }
      }
    },
    dot,
    syrk(A, N, n, S) {
      for (let k = 0; k < N; k++) {
        for (let l = 0; l <= k; l++) {
          const v = dot(A + k * n * 8, A + l * n * 8, n);
          F[(S >> 3) + k * N + l] = v;
          F[(S >> 3) + l * N + k] = v;
        }
      }
    },
    gemvRows(W, rows, f, n, x, out) {
      for (let k = 0; k < f; k++) F[(out >> 3) + k] = dot(W + I[(rows >> 2) + k] * n * 8, x, n);
    },
    axpyRows(W, coef, rows, f, n, out) {
      for (let k = 0; k < f; k++) {
        const c = F[(coef >> 3) + k], o = (W >> 3) + I[(rows >> 2) + k] * n, q = out >> 3;
        for (let i = 0; i < n; i++) F[q + i] += c * F[o + i];
      }
    },
    climbPass(WT, c, a, h, s, n, m) {
      const C = c >> 3, H = h >> 3;
      const end = m & ~1;
      let flips = 0;
      for (let i = 0; i < n; i++) {
        const si = (s >> 3) + i, o = (WT >> 3) + i * m;
        const dir = F[si] === 1 ? -1 : 1;
        let delta = dir * F[(a >> 3) + i];
        let acc0 = 0, acc1 = 0, j = 0;
        for (; j < end; j += 2) {
          const h0 = F[H + j], h1 = F[H + j + 1];
          const n0 = h0 + dir * F[o + j], n1 = h1 + dir * F[o + j + 1];
          acc0 += F[C + j] * (Math.max(n0, 0) - Math.max(h0, 0));
          acc1 += F[C + j + 1] * (Math.max(n1, 0) - Math.max(h1, 0));
        }
        delta += acc0 + acc1;
        if (j < m) {
          const hj = F[H + j], nj = hj + dir * F[o + j];
          delta += F[C + j] * (Math.max(nj, 0) - Math.max(hj, 0));
        }
        if (delta > 1e-12) {
          F[si] += dir;
          for (let k = 0; k < m; k++) F[H + k] += dir * F[o + k];
          flips++;
        }
      }
      return flips;
    },
  };
}
