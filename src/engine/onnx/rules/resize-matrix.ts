/**
 * The [out, in] matrix of a 1-D resize with TF's sampling rules (tf.image.resizeBilinear /
 * resizeNearestNeighbor, as TF.js computes them), or null when out = in and the map is the
 * identity. A 2-D resize is R_h · x · R_wᵀ.
 *
 * @example
 * resizeMatrix(2, 4, 'bilinear', false, false) // rows: [1,0], [0.5,0.5], [0,1], [0,1]
 */
export function resizeMatrix(n: number, m: number, method: 'bilinear' | 'nearest', alignCorners: boolean, halfPixelCenters: boolean): Float32Array | null {
  const ratio = alignCorners && m > 1 ? (n - 1) / (m - 1) : n / m;
  const r = new Float32Array(m * n);
  for (let o = 0; o < m; o++) {
    if (method === 'bilinear') {
      const src = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
      const lo = Math.max(0, Math.floor(src));
      const hi = Math.min(n - 1, Math.ceil(src));
      const frac = src - lo;
      r[o * n + lo] += 1 - frac;
      r[o * n + hi] += frac;
    } else {
      const src = halfPixelCenters ? ratio * (o + 0.5) : ratio * o;
      let i = Math.min(n - 1, alignCorners ? Math.round(src) : Math.floor(src));
      if (halfPixelCenters) i = Math.max(0, i);
      r[o * n + i] = 1;
    }
  }
  if (m === n && r.every((v, i) => v === (Math.floor(i / n) === i % n ? 1 : 0))) return null;
  return r;
}
