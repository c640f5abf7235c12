import type { ResolvedConstraints } from '../constraints/index.js';

/**
 * The constraints of the MILP's input variables: what {@link encode} reads of
 * {@link ResolvedConstraints}. One resolved input is already one; several optimised inputs are
 * joined by {@link joinInputConstraints}.
 */
export type ExactInputSet = Pick<ResolvedConstraints, 'n' | 'lo' | 'hi' | 'boxLo' | 'boxHi' | 'l1' | 'l2' | 'linear' | 'oneHot' | 'levels'> & {
  /** Per feature: its number of levels, 0 for none (set when the joined inputs differ). */
  featureLevels?: Int32Array;
};

/**
 * Joins the constraints of several optimised inputs into one set over their concatenated
 * features, each input's constraints acting on its own slice: bounds are concatenated,
 * halfspaces padded with zeros, one-hot groups shifted, and an L1 ball's reference is NaN
 * outside its slice (the encoder leaves those features out of the ball's sum).
 *
 * @example
 * const set = joinInputConstraints([rcA, rcB]); // set.n === rcA.n + rcB.n
 */
export function joinInputConstraints(parts: ResolvedConstraints[]): ExactInputSet {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((s, p) => s + p.n, 0);
  const cat = (pick: (p: ResolvedConstraints) => Float64Array) => {
    const out = new Float64Array(n);
    let o = 0;
    for (const p of parts) (out.set(pick(p), o), (o += p.n));
    return out;
  };
  const set: ExactInputSet = { n, lo: cat((p) => p.lo), hi: cat((p) => p.hi), boxLo: cat((p) => p.boxLo), boxHi: cat((p) => p.boxHi), l1: [], l2: [], linear: [], oneHot: [], levels: null };
  const featureLevels = new Int32Array(n);
  let offset = 0;
  for (const p of parts) {
    const place = (v: Float64Array, fill: number) => {
      const out = new Float64Array(n).fill(fill);
      out.set(v, offset);
      return out;
    };
    for (const b of p.l1) set.l1.push({ ref: place(b.ref, NaN), eps: b.eps });
    for (const b of p.l2) set.l2.push({ ref: place(b.ref, NaN), eps: b.eps });
    for (const h of p.linear) set.linear.push({ a: place(h.a, 0), b: h.b });
    for (const g of p.oneHot) set.oneHot.push({ indices: Int32Array.from(g.indices, (i) => i + offset) });
    if (p.levels !== null) featureLevels.fill(p.levels, offset, offset + p.n);
    offset += p.n;
  }
  const levelled = parts.filter((p) => p.levels !== null);
  if (levelled.length > 0) {
    set.levels = levelled[0].levels;
    if (levelled.length < parts.length || levelled.some((p) => p.levels !== set.levels)) set.featureLevels = featureLevels;
  }
  return set;
}
