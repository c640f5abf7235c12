import { createRequire } from 'node:module';

interface OneShotHighs {
  solve(lp: string, options?: Record<string, unknown>): { Status: string; ObjectiveValue: number };
}
const loadHighs = createRequire(import.meta.url)('highs') as () => Promise<OneShotHighs>;

/**
 * Test oracle, independent of the MILP encoder: the maximum of a ReLU MLP's linear objective or
 * margin by enumerating every activation pattern and solving one LP per pattern (the network is
 * affine on each pattern's region). Only for tiny networks (2^hidden LPs).
 */
export interface OracleProblem {
  /** layers[i] = [kernel (in × out, row-major), bias]; hidden layers relu, last linear. */
  layers: Array<[number[], number[]]>;
  inputs: number;
  lo: number[];
  hi: number[];
  /** Extra rows a·x ≤ b. */
  linear?: Array<{ a: number[]; b: number }>;
  l1?: { ref: number[]; eps: number };
  /** Objective: logit k, or margin k (logit k minus the largest other). */
  objective: { kind: 'logit' | 'margin'; index: number };
}

type Affine = { a: number[]; c: number };

let highsP: Promise<OneShotHighs> | null = null;

const fmt = (v: number) => (v < 0 ? `- ${-v}` : `+ ${v}`);
const lin = (f: Affine) => f.a.map((w, i) => `${fmt(w)} x${i}`).join(' ');

/** Best value over all activation patterns. @example await oracleMaximum(problem) */
export async function oracleMaximum(p: OracleProblem): Promise<number> {
  const highs = await (highsP ??= loadHighs());
  const n = p.inputs;
  let best = -Infinity;
  const base: string[] = [];
  (p.linear ?? []).forEach((h, k) => base.push(` lin${k}: ${lin({ a: h.a, c: 0 })} <= ${h.b}`));
  if (p.l1) {
    for (let i = 0; i < n; i++) {
      base.push(` ap${i}: a${i} - x${i} >= ${-p.l1.ref[i]}`);
      base.push(` an${i}: a${i} + x${i} >= ${p.l1.ref[i]}`);
    }
    base.push(` l1: ${Array.from({ length: n }, (_, i) => `+ a${i}`).join(' ')} <= ${p.l1.eps}`);
  }
  const bounds = Array.from({ length: n }, (_, i) => ` ${p.lo[i]} <= x${i} <= ${p.hi[i]}`);
  if (p.l1) for (let i = 0; i < n; i++) bounds.push(` 0 <= a${i} <= 1e6`);
  const solve = (objective: Affine, rows: string[]): number => {
    const text = ['Maximize', ` obj: ${lin(objective)}`, 'Subject To', ...rows, ...base, 'Bounds', ...bounds, 'End'].join('\n');
    const r = highs.solve(text, {});
    return r.Status === 'Optimal' ? r.ObjectiveValue + objective.c : -Infinity;
  };
  // Depth-first over layers: the current affine maps of the layer's values, and the region's rows.
  const recurse = (layer: number, values: Affine[], rows: string[]) => {
    const [k, b] = p.layers[layer];
    const inDim = values.length;
    const units = b.length;
    const pre: Affine[] = Array.from({ length: units }, (_, u) => {
      const a = new Array(n).fill(0);
      let c = b[u];
      for (let i = 0; i < inDim; i++) {
        const w = k[i * units + u];
        values[i].a.forEach((v, j) => (a[j] += w * v));
        c += w * values[i].c;
      }
      return { a, c };
    });
    if (layer === p.layers.length - 1) {
      const K = p.objective.index;
      if (p.objective.kind === 'logit') {
        best = Math.max(best, solve(pre[K], rows));
        return;
      }
      for (let j = 0; j < units; j++) {
        if (j === K) continue;
        const diff = { a: pre[K].a.map((v, i) => v - pre[j].a[i]), c: pre[K].c - pre[j].c };
        const dom = pre.map((f, i) => (i === K || i === j ? '' : ` dom${layer}_${j}_${i}: ${lin({ a: pre[j].a.map((v, q) => v - f.a[q]), c: 0 })} >= ${f.c - pre[j].c}`)).filter(Boolean);
        best = Math.max(best, solve(diff, [...rows, ...dom]));
      }
      return;
    }
    for (let mask = 0; mask < 1 << units; mask++) {
      const rs = rows.slice();
      const post: Affine[] = pre.map((f, u) => {
        const on = (mask >> u) & 1;
        rs.push(` s${layer}_${u}: ${lin(f)} ${on ? '>=' : '<='} ${-f.c}`);
        return on ? f : { a: new Array(n).fill(0), c: 0 };
      });
      recurse(layer + 1, post, rs);
    }
  };
  recurse(0, Array.from({ length: n }, (_, i) => ({ a: Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)), c: 0 })), []);
  return best;
}
