import type { RegionLp } from './regionLp.js';
import type { ShallowProblem } from './shallow.js';
import { KernelArena, type Slot } from './wasm.js';

/**
 * Local improvement of a point of a shallow problem by LPs over activation patterns.
 *
 * f = (convex part: units with c_j > 0) + (concave part: c_j < 0). Fixing which convex units count
 * (σ) and keeping the concave units as epigraphs gives an LP whose optimum s' satisfies
 * f(s') ≥ LP value ≥ f(s) when σ is the pattern of s: an ascent step of the convex–concave
 * procedure (DCA). Repeating it reaches a point where the pattern no longer changes; then the
 * neighbouring patterns are tried, one flipped unit at a time (units nearest to switching first),
 * and every improvement restarts the ascent.
 *
 * {@link climbVertex} is the cheap first pass for points far from the maximum (roundings of the SDP
 * relaxation): single-pixel moves between box vertices, O(units) each, no LP.
 */

/** Options of {@link polishInRegion}. */
export interface PolishOptions {
  /** Seconds for the whole polish (default 1). */
  timeLimit?: number;
  /** At most this many LPs (default 200). */
  maxLps?: number;
  /** At most this many flips tried around one point (default 24). */
  flips?: number;
  /** First climb over box vertices from s (climbVertex; box-only problems), keep the better start. */
  climb?: boolean;
  /** Element 0 non-zero: stop before the next LP. */
  stop?: Int32Array | null;
}

/** What {@link polishInRegion} returns. */
export interface PolishResult {
  s: Float64Array;
  /** f(s) in float64. */
  value: number;
  /** f at the start. */
  start: number;
  lps: number;
  /** Flips that improved the value. */
  moves: number;
  seconds: number;
}

/**
 * Improve s ∈ [0,1]^n by DCA ascent then single-unit flips, within a time and LP budget.
 *
 * @example
 * const r = polishInRegion(problem, lp, s, { timeLimit: 0.5 });
 * console.log(r.start, '→', r.value);
 */
export function polishInRegion(p: ShallowProblem, lp: RegionLp, s0: Float64Array, options: PolishOptions = {}): PolishResult {
  const t0 = performance.now();
  const timeLimit = options.timeLimit ?? 1;
  const maxLps = options.maxLps ?? 200;
  const maxFlips = options.flips ?? 24;
  const left = () => timeLimit - (performance.now() - t0) / 1000;
  let best: Float64Array = Float64Array.from(s0);
  let bestValue = fastValue(p, best);
  const start = bestValue;
  if (options.climb && p.rows === 0) {
    const c = climbVertex(p, s0);
    if (c.value > bestValue) {
      best = c.s;
      bestValue = c.value;
    }
  }
  let lps = 0, moves = 0;
  const pattern = new Int8Array(p.m);
  const h = new Float64Array(p.m);

  const patternOf = (s: Float64Array) => {
    h.set(unitValues(p, s));
    for (let j = 0; j < p.m; j++) pattern[j] = p.c[j] > 0 ? (h[j] > 0 ? 1 : 0) : -1;
  };
  /** LP for the current `pattern`; returns the point and its true value. */
  const tryPattern = (): { s: Float64Array; value: number } | null => {
    if (lps >= maxLps || left() <= 0 || (options.stop && Atomics.load(options.stop, 0) !== 0)) return null;
    lps++;
    const ans = lp.solveLifted(pattern, Math.max(0.01, left()));
    if (!ans.s) return null;
    return { s: ans.s, value: fastValue(p, ans.s) };
  };
  /** DCA from `best` until the value stops rising. */
  const ascend = () => {
    for (;;) {
      patternOf(best);
      const r = tryPattern();
      if (!r || r.value <= bestValue + 1e-12 * Math.max(1, Math.abs(bestValue))) return;
      best = r.s;
      bestValue = r.value;
    }
  };

  ascend();
  // Flips around the ascent's fixed point, nearest-to-switching units first.
  let improved = true;
  while (improved && lps < maxLps && left() > 0) {
    improved = false;
    patternOf(best);
    const units: number[] = [];
    for (let j = 0; j < p.m; j++) if (p.c[j] > 0) units.push(j);
    const norm = (j: number) => {
      let s = 0;
      for (let i = 0; i < p.n; i++) s += Math.abs(p.W[j * p.n + i]);
      return s || 1;
    };
    const dist = new Map(units.map((j) => [j, Math.abs(h[j]) / norm(j)]));
    units.sort((x, y) => dist.get(x)! - dist.get(y)!);
    const base = Int8Array.from(pattern);
    for (const j of units.slice(0, maxFlips)) {
      pattern.set(base);
      pattern[j] = 1 - pattern[j];
      const r = tryPattern();
      if (!r) break;
      if (r.value > bestValue + 1e-9 * Math.max(1, Math.abs(bestValue))) {
        best = r.s;
        bestValue = r.value;
        moves++;
        ascend();
        improved = true;
        break;
      }
    }
  }
  return { s: best, value: bestValue, start, lps, moves, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Hill climbing over box vertices: round s to a vertex, then flip single features (0 ↔ 1) while
 * that raises f, sweeping in index order until no flip helps. Linear constraints are ignored (use
 * it on box-only problems). Each flip is scored in O(m) by updating the units' h incrementally.
 *
 * @example
 * const { s, value } = climbVertex(problem, rounded);
 */
export function climbVertex(p: ShallowProblem, s0: ArrayLike<number>, maxPasses = 50): { s: Float64Array; value: number; flips: number } {
  const { n, m } = p;
  const w = climbSpace(p);
  const s = w.s.view, h = w.h.view;
  for (let i = 0; i < n; i++) s[i] = s0[i] >= 0.5 ? 1 : 0;
  w.arena.kernels.gemvRows(w.W.ptr, w.units.ptr, m, n, w.s.ptr, w.h.ptr);
  for (let j = 0; j < m; j++) h[j] += p.b[j];
  let flips = 0;
  for (let pass = 0; pass < maxPasses; pass++) {
    const k = w.arena.kernels.climbPass(w.WT.ptr, w.c.ptr, w.a.ptr, w.h.ptr, w.s.ptr, n, m);
    flips += k;
    if (k === 0) break;
  }
  let value = p.d;
  for (let i = 0; i < n; i++) value += p.a[i] * s[i];
  for (let j = 0; j < m; j++) if (h[j] > 0) value += p.c[j] * h[j];
  return { s: Float64Array.from(s), value, flips };
}

/** h_j(s) for every unit (SIMD kernel; the returned view is overwritten by the next call). */
function unitValues(p: ShallowProblem, s: ArrayLike<number>): Float64Array {
  const w = climbSpace(p);
  const x = w.s.view, h = w.h.view;
  for (let i = 0; i < p.n; i++) x[i] = s[i];
  w.arena.kernels.gemvRows(w.W.ptr, w.units.ptr, p.m, p.n, w.s.ptr, w.h.ptr);
  for (let j = 0; j < p.m; j++) h[j] += p.b[j];
  return h;
}

/** f(s) with the units' h from the SIMD kernel (shallowValue's sums in another order). */
function fastValue(p: ShallowProblem, s: ArrayLike<number>): number {
  const h = unitValues(p, s);
  let value = p.d;
  for (let i = 0; i < p.n; i++) value += p.a[i] * s[i];
  for (let j = 0; j < p.m; j++) if (h[j] > 0) value += p.c[j] * h[j];
  return value;
}

/** The climb's arrays in kernel memory: W, Wᵀ, c, a, and the current s and h. */
interface ClimbSpace {
  arena: KernelArena;
  W: Slot<Float64Array>;
  WT: Slot<Float64Array>;
  c: Slot<Float64Array>;
  a: Slot<Float64Array>;
  h: Slot<Float64Array>;
  s: Slot<Float64Array>;
  units: Slot<Int32Array>;
}

const climbSpaces = new WeakMap<ShallowProblem, ClimbSpace>();

/** The climb's kernel memory for a problem, made once. */
function climbSpace(p: ShallowProblem): ClimbSpace {
  let w = climbSpaces.get(p);
  if (w) return w;
  const { n, m } = p;
  const arena = new KernelArena((2 * m * n + 2 * n + 2 * m) * 8 + m * 4 + 8 * 16);
  w = { arena, W: arena.f64(m * n), WT: arena.f64(n * m), c: arena.f64(m), a: arena.f64(n), h: arena.f64(m), s: arena.f64(n), units: arena.i32(m) };
  w.W.view.set(p.W);
  for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) w.WT.view[i * m + j] = p.W[j * n + i];
  w.c.view.set(p.c);
  w.a.view.set(p.a);
  for (let j = 0; j < m; j++) w.units.view[j] = j;
  climbSpaces.set(p, w);
  return w;
}
