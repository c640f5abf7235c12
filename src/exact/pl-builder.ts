/**
 * Building blocks of a piecewise-linear network: sparse affine expressions summed with one
 * scratch accumulator, and the variables of the nonlinear pieces (ReLU, leaky ReLU, max).
 */
import type { LinExpr, PLVar } from './network.js';

/** An expression with one variable. @example atom(3) // 1·v3 + 0 */
export function atom(v: number): LinExpr {
  return { idx: [v], coef: [1], c: 0 };
}

/** A constant expression. @example constant(2.5) // 0 + 2.5 */
export function constant(c: number): LinExpr {
  return { idx: [], coef: [], c };
}

/** Sums weighted expressions, merging repeated variables. Reuses one dense scratch array. @example acc.add(e, 2); acc.constant(1); const sum = acc.take(); */
export class Accumulator {
  private acc = new Float64Array(1024);
  private mark = new Uint8Array(1024);
  private touched: number[] = [];
  private c = 0;
  add(e: LinExpr, w: number): void {
    if (w === 0) return;
    this.c += w * e.c;
    for (let k = 0; k < e.idx.length; k++) {
      const v = e.idx[k];
      if (v >= this.acc.length) this.grow(v + 1);
      if (!this.mark[v]) {
        this.mark[v] = 1;
        this.touched.push(v);
      }
      this.acc[v] += w * e.coef[k];
    }
  }
  constant(c: number): void {
    this.c += c;
  }
  take(): LinExpr {
    const idx: number[] = [];
    const coef: number[] = [];
    for (const v of this.touched) {
      if (this.acc[v] !== 0) {
        idx.push(v);
        coef.push(this.acc[v]);
      }
      this.acc[v] = 0;
      this.mark[v] = 0;
    }
    this.touched = [];
    const out = { idx, coef, c: this.c };
    this.c = 0;
    return out;
  }
  private grow(n: number): void {
    const size = Math.max(n, this.acc.length * 2);
    const acc = new Float64Array(size);
    acc.set(this.acc);
    const mark = new Uint8Array(size);
    mark.set(this.mark);
    this.acc = acc;
    this.mark = mark;
  }
}

/**
 * The variables of a network under construction and the pieces that add them.
 *
 * @example
 * const b = new PLBuilder();
 * const y = b.relu(b.affine([atom(0)], [2], 1), 'dense'); // relu(2·x0 + 1)
 */
export class PLBuilder {
  readonly vars: PLVar[] = [];
  readonly acc = new Accumulator();

  /** A variable holding e (reuses e's variable when e is exactly one variable). */
  materialize(e: LinExpr, layer: string): number {
    if (e.idx.length === 1 && e.coef[0] === 1 && e.c === 0) return e.idx[0];
    this.vars.push({ kind: 'affine', expr: e, layer });
    return this.vars.length - 1;
  }

  /** Σ w_k·e_k + c as one expression. */
  affine(exprs: LinExpr[], weights: number[], c = 0): LinExpr {
    exprs.forEach((e, k) => this.acc.add(e, weights[k]));
    this.acc.constant(c);
    return this.acc.take();
  }

  /** Dense/conv read at most one variable per input value, so expressions stay as sparse as the weights. */
  atomic(exprs: LinExpr[], layer: string): LinExpr[] {
    return exprs.map((e) => (e.idx.length <= 1 ? e : atom(this.materialize(e, layer))));
  }

  relu(e: LinExpr, layer: string): LinExpr {
    this.vars.push({ kind: 'relu', src: this.materialize(e, layer), layer });
    return atom(this.vars.length - 1);
  }

  /** max(e, alpha·e) with 0 ≤ alpha < 1. */
  leaky(e: LinExpr, alpha: number, layer: string): LinExpr {
    this.vars.push({ kind: 'leaky', src: this.materialize(e, layer), alpha, layer });
    return atom(this.vars.length - 1);
  }

  /** min(max(e, lo), hi) = lo + relu(e − lo) − relu(e − hi). */
  clip(e: LinExpr, lo: number, hi: number, layer: string): LinExpr {
    const a = this.relu(this.affine([e], [1], -lo), layer);
    const b = this.relu(this.affine([e], [1], -hi), layer);
    return this.affine([a, b], [1, -1], lo);
  }

  /** A `max` variable over expressions (−∞ constants, from −∞ padding, never win and are left out). */
  maxOf(exprs: LinExpr[], layer: string): LinExpr {
    const real = exprs.filter((e) => !(e.idx.length === 0 && e.c === -Infinity));
    if (real.length === 1) return real[0];
    if (real.every((e) => e.idx.length === 0)) return constant(Math.max(...real.map((e) => e.c)));
    const srcs = real.map((e) => this.materialize(e, layer));
    this.vars.push({ kind: 'max', srcs, layer });
    return atom(this.vars.length - 1);
  }
}
