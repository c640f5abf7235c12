/**
 * A real orthonormal Fourier basis: the real form of the DFT, so an image's spectrum is two
 * matrix products (fast for small images, differentiable on every TF.js backend, exact inverse
 * by transposition).
 */

/** Basis of length n: `matrix[t·n + j]` is basis vector j at position t; `freq[j]` its frequency in cycles per sample. */
export interface RealFourierBasis {
  n: number;
  /** n×n, row-major, orthonormal columns. */
  matrix: Float32Array;
  /** |k|/n of each column (0 for the constant column). */
  freq: Float32Array;
}

/**
 * Columns: constant, then cos/sin pairs for k = 1 … ⌈n/2⌉−1, then the alternating (Nyquist)
 * column when n is even. Together they span R^n and are orthonormal.
 *
 * @example
 * const b = realFourierBasis(4); // columns: 1/2, cos, sin, (−1)^t/2
 */
export function realFourierBasis(n: number): RealFourierBasis {
  const matrix = new Float64Array(n * n);
  const freq = new Float32Array(n);
  let col = 0;
  const put = (f: (t: number) => number, k: number) => {
    let norm = 0;
    for (let t = 0; t < n; t++) norm += f(t) ** 2;
    norm = Math.sqrt(norm);
    for (let t = 0; t < n; t++) matrix[t * n + col] = f(t) / norm;
    freq[col++] = k / n;
  };
  put(() => 1, 0);
  for (let k = 1; 2 * k < n; k++) {
    put((t) => Math.cos((2 * Math.PI * k * t) / n), k);
    put((t) => Math.sin((2 * Math.PI * k * t) / n), k);
  }
  if (n % 2 === 0 && n > 1) put((t) => (t % 2 === 0 ? 1 : -1), n / 2);
  return { n, matrix: Float32Array.from(matrix), freq };
}

/**
 * Lucid's `fft_image` scaling: 1 / max(|f|, 1/max(h, w))^decay over the 2-D frequencies, so
 * low frequencies get large steps and noise-like high frequencies small ones.
 *
 * @example
 * const s = spectrumScale(realFourierBasis(28), realFourierBasis(28), 1); // 784 values, s[0] = 28
 */
export function spectrumScale(bh: RealFourierBasis, bw: RealFourierBasis, decay: number): Float32Array {
  const out = new Float32Array(bh.n * bw.n);
  const floor = 1 / Math.max(bh.n, bw.n);
  for (let i = 0; i < bh.n; i++) {
    for (let j = 0; j < bw.n; j++) {
      const f = Math.hypot(bh.freq[i], bw.freq[j]);
      out[i * bw.n + j] = 1 / Math.max(f, floor) ** decay;
    }
  }
  return out;
}

/**
 * Plain-JS spectrum → image of one h×w plane: image = Bh · S · Bwᵀ.
 *
 * @example
 * const img = spectrumToPlane(s, realFourierBasis(28), realFourierBasis(28));
 */
export function spectrumToPlane(spectrum: ArrayLike<number>, bh: RealFourierBasis, bw: RealFourierBasis): Float64Array {
  return sandwich(spectrum, bh, bw, false);
}

/**
 * Plain-JS image → spectrum of one h×w plane: S = Bhᵀ · image · Bw (the exact inverse of {@link spectrumToPlane}).
 *
 * @example
 * const s = planeToSpectrum(img, realFourierBasis(28), realFourierBasis(28));
 */
export function planeToSpectrum(plane: ArrayLike<number>, bh: RealFourierBasis, bw: RealFourierBasis): Float64Array {
  return sandwich(plane, bh, bw, true);
}

function sandwich(m: ArrayLike<number>, bh: RealFourierBasis, bw: RealFourierBasis, transposed: boolean): Float64Array {
  const h = bh.n, w = bw.n;
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(h * w);
  const W = (t: number, j: number) => (transposed ? bw.matrix[t * w + j] : bw.matrix[j * w + t]);
  const H = (i: number, t: number) => (transposed ? bh.matrix[t * h + i] : bh.matrix[i * h + t]);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    let s = 0;
    for (let t = 0; t < w; t++) s += m[i * w + t] * W(t, j);
    tmp[i * w + j] = s;
  }
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    let s = 0;
    for (let t = 0; t < h; t++) s += H(i, t) * tmp[t * w + j];
    out[i * w + j] = s;
  }
  return out;
}
