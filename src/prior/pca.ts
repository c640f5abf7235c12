import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { ActmaxError } from '../errors.js';

/** The mean and leading principal directions of a set of examples. */
export interface PrincipalComponents {
  /** n values. */
  mean: Float64Array;
  /** k × n, row-major: unit, mutually orthogonal directions by decreasing variance. */
  components: Float64Array;
  /** Variance of the examples along each direction (divided by the number of examples). */
  variances: Float64Array;
  n: number;
  k: number;
}

/**
 * Principal component analysis of `count` examples of `n` features (row-major in `data`): the
 * mean and the top `k` eigenvectors of the covariance, from ml-matrix's symmetric eigensolver.
 * With fewer examples than features the (count × count) Gram matrix is decomposed instead.
 * Each direction's sign is fixed so that its largest entry is positive (deterministic output).
 *
 * @example
 * const pca = principalComponents(images, 60000, 784, 64);
 * pca.components.subarray(0, 784) // the first principal direction
 */
export function principalComponents(data: ArrayLike<number>, count: number, n: number, k: number): PrincipalComponents {
  if (data.length !== count * n) throw new ActmaxError('bad-input', `PCA: ${count} examples of ${n} features need ${count * n} values, got ${data.length}`);
  const rank = Math.min(n, count - 1);
  if (!Number.isInteger(k) || k < 1 || k > rank) {
    throw new ActmaxError('bad-option', `PCA of ${count} examples with ${n} features has at most ${Math.max(0, rank)} components; asked for ${k}`);
  }
  const mean = new Float64Array(n);
  for (let r = 0; r < count; r++) for (let i = 0; i < n; i++) mean[i] += data[r * n + i];
  for (let i = 0; i < n; i++) mean[i] /= count;
  const { vectors, values } = count <= n ? viaGram(data, mean, count, n, k) : viaCovariance(data, mean, count, n, k);
  for (let c = 0; c < k; c++) {
    const row = vectors.subarray(c * n, (c + 1) * n);
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(row[i]) > Math.abs(row[big])) big = i;
    if (row[big] < 0) for (let i = 0; i < n; i++) row[i] = -row[i];
  }
  return { mean, components: vectors, variances: values, n, k };
}

/** Top-k eigenpairs of a symmetric matrix (ml-matrix), largest first. */
function topEigen(m: Matrix, k: number): { values: number[]; vectors: Matrix } {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k);
  const all = evd.eigenvectorMatrix;
  const vectors = new Matrix(m.rows, k);
  order.forEach(([, i], c) => vectors.setColumn(c, all.getColumn(i)));
  return { values: order.map(([v]) => Math.max(0, v)), vectors };
}

/** Covariance (n × n) accumulated in float64 over blocks of examples, then decomposed. */
function viaCovariance(data: ArrayLike<number>, mean: Float64Array, count: number, n: number, k: number) {
  const cov = new Float64Array(n * n);
  const B = 256;
  const block = new Float64Array(n * B); // feature-major: block[i * B + b]
  for (let start = 0; start < count; start += B) {
    const rows = Math.min(B, count - start);
    for (let b = 0; b < rows; b++) for (let i = 0; i < n; i++) block[i * B + b] = data[(start + b) * n + i] - mean[i];
    for (let i = 0; i < n; i++) {
      const oi = i * B;
      for (let j = i; j < n; j++) {
        const oj = j * B;
        let s = 0;
        for (let b = 0; b < rows; b++) s += block[oi + b] * block[oj + b];
        cov[i * n + j] += s;
      }
    }
  }
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) {
    const v = cov[i * n + j] / count;
    m.set(i, j, v);
    m.set(j, i, v);
  }
  const { values, vectors } = topEigen(m, k);
  const out = new Float64Array(k * n);
  for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) out[c * n + i] = vectors.get(i, c);
  return { vectors: out, values: Float64Array.from(values) };
}

/** Gram matrix (count × count) of the centred examples; directions u = Xᵀv / √λ. */
function viaGram(data: ArrayLike<number>, mean: Float64Array, count: number, n: number, k: number) {
  const xc = new Float64Array(count * n);
  for (let r = 0; r < count; r++) for (let i = 0; i < n; i++) xc[r * n + i] = data[r * n + i] - mean[i];
  const g = new Matrix(count, count);
  for (let a = 0; a < count; a++) for (let b = a; b < count; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xc[a * n + i] * xc[b * n + i];
    g.set(a, b, s);
    g.set(b, a, s);
  }
  const { values, vectors } = topEigen(g, k);
  const out = new Float64Array(k * n);
  for (let c = 0; c < k; c++) {
    const lambda = values[c];
    if (!(lambda > 1e-12 * (values[0] || 1))) {
      throw new ActmaxError('bad-option', `the examples span only ${c} directions; ask for at most ${c} components`);
    }
    const inv = 1 / Math.sqrt(lambda);
    for (let a = 0; a < count; a++) {
      const w = vectors.get(a, c) * inv;
      if (w === 0) continue;
      for (let i = 0; i < n; i++) out[c * n + i] += w * xc[a * n + i];
    }
  }
  return { vectors: out, values: Float64Array.from(values, (v) => v / count) };
}

/**
 * The code of each example: z = U·(x − mean), `count` × k, row-major.
 *
 * @example
 * const z = projectExamples(pca, images, 60000); // z[0..63] is the first image's code
 */
export function projectExamples(pca: PrincipalComponents, data: ArrayLike<number>, count: number, k = pca.k): Float64Array {
  const { n, mean, components } = pca;
  const out = new Float64Array(count * k);
  const xc = new Float64Array(n);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < n; i++) xc[i] = data[r * n + i] - mean[i];
    for (let c = 0; c < k; c++) {
      let s = 0;
      const o = c * n;
      for (let i = 0; i < n; i++) s += components[o + i] * xc[i];
      out[r * k + c] = s;
    }
  }
  return out;
}
