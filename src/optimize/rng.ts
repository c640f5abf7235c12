/**
 * mulberry32: a small seeded generator of uniforms in [0, 1), the same stream on every platform.
 *
 * @example
 * const rand = mulberry32(42); rand(); // same sequence for the same seed
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A small seeded PRNG (mulberry32): same seed ⇒ same stream on every platform, so results are
 * reproducible.
 *
 * @example
 * const rng = new Rng(42); rng.uniform(); // 0.6011…
 */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
  }
  /** Uniform in [0, 1). @example new Rng(1).uniform() < 1 // true */
  uniform(): number {
    return this.next();
  }
  /** Standard normal (Box–Muller). @example Number.isFinite(new Rng(1).normal()) // true */
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  /** Integer in [lo, hi]. @example Math.abs(new Rng(1).int(-2, 2)) <= 2 // true */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }
}
