/**
 * Lucid's colour decorrelation: the square root of the ImageNet colour covariance (from its
 * SVD), its columns scaled so the largest has unit norm. Optimising in these coordinates makes a
 * step change luminance and colour evenly instead of pushing single channels.
 */
const SVD_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

function normalized(): Float32Array {
  let maxNorm = 0;
  for (let c = 0; c < 3; c++) maxNorm = Math.max(maxNorm, Math.hypot(SVD_SQRT[0][c], SVD_SQRT[1][c], SVD_SQRT[2][c]));
  return Float32Array.from(SVD_SQRT.flat().map((v) => v / maxNorm));
}

/**
 * The 3×3 matrix M (row-major) with rgb = M · decorrelated, as Lucid's `_linear_decorelate_color`.
 *
 * @example
 * const m = colorDecorrelation(); // 9 values
 */
export function colorDecorrelation(): Float32Array {
  return normalized();
}

/**
 * Inverse of {@link colorDecorrelation} (row-major 3×3), for turning a picture back into parameters.
 *
 * @example
 * const inv = colorDecorrelationInverse();
 */
export function colorDecorrelationInverse(): Float32Array {
  const m = Array.from(normalized());
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const inv = [e * i - f * h, c * h - b * i, b * f - c * e, f * g - d * i, a * i - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d];
  return Float32Array.from(inv.map((v) => v / det));
}
