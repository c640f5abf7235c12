import { ActmaxError } from '../errors.js';

/** Step rules for gradient ascent on the input. */
export type OptimizerName = 'adam' | 'sgd' | 'normalized' | 'sign';

/** One optimiser's state for a batch of rows; `step` moves x up the gradient in place. */
export interface Optimizer {
  step(x: Float32Array, grad: Float32Array, lr: number): void;
  /** Forget the state of one row (after a re-initialisation). */
  resetRow(row: number): void;
}

/** Adam's constants: decay rates of the first and second moments, and ε. */
export const ADAM = { b1: 0.9, b2: 0.999, eps: 1e-8 } as const;

/**
 * Create an optimiser for `rows` rows of `n` features.
 * - `adam`: Adam (β1 0.9, β2 0.999), robust default.
 * - `sgd`: gradient step with momentum 0.9.
 * - `normalized`: x += lr · g/‖g‖₂ per row (the step of the classic Keras answer).
 * - `sign`: x += lr · sign(g) (projected sign steps, as in PGD).
 *
 * @example
 * const opt = createOptimizer('adam', 4, 784); opt.step(x, g, 0.05);
 */
export function createOptimizer(name: OptimizerName, rows: number, n: number): Optimizer {
  switch (name) {
    case 'adam': {
      const m = new Float32Array(rows * n);
      const v = new Float32Array(rows * n);
      const t = new Int32Array(rows);
      const { b1, b2, eps } = ADAM;
      return {
        step(x, g, lr) {
          for (let r = 0; r < rows; r++) {
            const tr = ++t[r];
            const c1 = 1 - Math.pow(b1, tr), c2 = 1 - Math.pow(b2, tr);
            const a = (lr * Math.sqrt(c2)) / c1;
            for (let i = r * n, e = i + n; i < e; i++) {
              const gi = g[i];
              const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
              const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
              x[i] += (a * mi) / (Math.sqrt(vi) + eps);
            }
          }
        },
        resetRow(r) {
          m.fill(0, r * n, (r + 1) * n);
          v.fill(0, r * n, (r + 1) * n);
          t[r] = 0;
        },
      };
    }
    case 'sgd': {
      const vel = new Float32Array(rows * n);
      return {
        step(x, g, lr) {
          for (let i = 0; i < x.length; i++) {
            vel[i] = 0.9 * vel[i] + g[i];
            x[i] += lr * vel[i];
          }
        },
        resetRow(r) {
          vel.fill(0, r * n, (r + 1) * n);
        },
      };
    }
    case 'normalized':
      return {
        step(x, g, lr) {
          for (let r = 0; r < rows; r++) {
            let s = 0;
            for (let i = r * n, e = i + n; i < e; i++) s += g[i] * g[i];
            const k = lr / (Math.sqrt(s) + 1e-12);
            for (let i = r * n, e = i + n; i < e; i++) x[i] += k * g[i];
          }
        },
        resetRow() {},
      };
    case 'sign':
      return {
        step(x, g, lr) {
          for (let i = 0; i < x.length; i++) x[i] += g[i] > 0 ? lr : g[i] < 0 ? -lr : 0;
        },
        resetRow() {},
      };
    default:
      throw new ActmaxError('bad-option', `unknown optimizer "${name as string}"; choose adam, sgd, normalized or sign`);
  }
}
