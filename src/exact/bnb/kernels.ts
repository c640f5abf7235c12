/** Small dense kernels shared by the branch-and-bound's bound, Lagrangian and LP code. */

/** Σ_i x[ox + i]·y[oy + i], with four accumulators (one is latency-bound). @example dot(W, j * n, s, 0, n) */
export function dot(x: Float64Array, ox: number, y: Float64Array, oy: number, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += x[ox + i] * y[oy + i];
    s1 += x[ox + i + 1] * y[oy + i + 1];
    s2 += x[ox + i + 2] * y[oy + i + 2];
    s3 += x[ox + i + 3] * y[oy + i + 3];
  }
  for (; i < n; i++) s0 += x[ox + i] * y[oy + i];
  return s0 + s1 + s2 + s3;
}

/** out[i] += k·M[offset + i] for i < n. @example addRow(a, W, j * n, 0.5, n) */
export function addRow(out: Float64Array, M: Float64Array, offset: number, k: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] += k * M[offset + i];
}
