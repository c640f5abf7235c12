import type { ColumnSource, Milp, MilpColumn, MilpRow } from './encode.js';
import type { LinExpr } from './network.js';

/** Column indices and their coefficients: one part of a row. */
export type Terms = [number[], number[]];

/** One column with coefficient 1. @example one(3) // [[3], [1]] */
export const one = (c: number): Terms => [[c], [1]];

/** Mapped terms times `s`. @example scaled({ idx: [0, 2], coef: [1, -2] }, -1) // [[0, 2], [-1, 2]] */
export const scaled = (t: { idx: number[]; coef: number[] }, s: number): Terms => [t.idx, t.coef.map((w) => w * s)];

/**
 * The MILP being written by `encode`: its columns and rows, and where the value of each network
 * variable below `upTo` lives (varScale[v] × column varCol[v]; −1: the value is 0). Rows merge
 * repeated columns and drop zero coefficients.
 */
export class MilpWriter {
  readonly columns: MilpColumn[] = [];
  readonly rows: MilpRow[] = [];
  readonly sources: ColumnSource[] = [];
  readonly varCol: Int32Array;
  readonly varScale: Float64Array;
  readonly stats: Milp['stats'] = { unstable: 0, stable: 0, binaries: 0, withoutBinary: 0, integers: 0 };

  constructor(readonly upTo: number) {
    this.varCol = new Int32Array(upTo).fill(-1);
    this.varScale = new Float64Array(upTo);
  }

  /** A new column; returns its index. */
  col(name: string, lo: number, hi: number, integer: boolean, source: ColumnSource): number {
    this.columns.push({ name, lo, hi, integer });
    this.sources.push(source);
    if (integer) this.stats.integers++;
    return this.columns.length - 1;
  }

  /** Variable v is column c. */
  own(v: number, c: number): void {
    this.varCol[v] = c;
    this.varScale[v] = 1;
  }

  /** Variable v is `scale` × variable src (no column of its own). */
  alias(v: number, src: number, scale: number): void {
    this.varCol[v] = this.varCol[src];
    this.varScale[v] = this.varScale[src] * scale;
  }

  /** A network expression as column terms (aliases merged) and its constant. */
  expr(e: LinExpr): { idx: number[]; coef: number[]; c: number } {
    const m = new Map<number, number>();
    for (let k = 0; k < e.idx.length; k++) {
      const v = e.idx[k];
      if (v >= this.upTo) throw new Error(`encode: variable ${v} used before it is defined`);
      const c = this.varCol[v];
      if (c < 0) continue;
      m.set(c, (m.get(c) ?? 0) + e.coef[k] * this.varScale[v]);
    }
    const idx: number[] = [], coef: number[] = [];
    for (const [c, w] of m) if (w !== 0) { idx.push(c); coef.push(w); }
    return { idx, coef, c: e.c };
  }

  /** The column terms of variable v alone. */
  var(v: number): { idx: number[]; coef: number[]; c: number } {
    return this.expr({ idx: [v], coef: [1], c: 0 });
  }

  /** A row Σ terms (sense) rhs. */
  row(name: string, terms: Terms[], sense: MilpRow['sense'], rhs: number): void {
    const m = new Map<number, number>();
    for (const [idx, coef] of terms) idx.forEach((c, k) => m.set(c, (m.get(c) ?? 0) + coef[k]));
    const idx: number[] = [], coef: number[] = [];
    for (const [c, w] of m) if (w !== 0) { idx.push(c); coef.push(w); }
    this.rows.push({ name, idx, coef, sense, rhs });
  }
}
