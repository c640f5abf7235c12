import type { Val } from '../layout.js';
import type { NetEmitter } from '../net.js';

/*
 * Lucid's diversity as the gradient it adds (its value is never reported): the restarts of each
 * target (rows grouped targets × restarts) are pushed apart by the similarity of their
 * L2-normalised Gram matrices (spatial layers) or of their normalised activations squared (dense
 * layers), exactly the derivative of the TF.js reference term.
 */

/**
 * The seed d(−w·Σ similarity)/d(activation) for a tap value `a`, or null with fewer than two restarts.
 * `channelAxis` (per example) holds the channels the Gram matrix is over: 0 for a channels-first
 * layer; absent, the last.
 *
 * @example
 * const seed = emitDiversitySeed(net, net.val('conv2d_1'), 4, 10);
 */
export function emitDiversitySeed(net: NetEmitter, a0: Val, rowsPerTarget: number, weight: number, channelAxis?: number): Val | null {
  if (rowsPerTarget < 2) return null;
  const b = net.b;
  const a = net.as(a0, 'ir');
  const rank = a.shape.length;
  if (rank >= 2 && channelAxis !== undefined && channelAxis !== rank - 1) {
    // Channels moved last, the seed computed there and moved back.
    const perm = [...Array(rank).keys()].filter((d) => d !== channelAxis).concat(channelAxis);
    const moved: Val = { name: b.op1('Transpose', [a.name], { perm: [0, ...perm.map((d) => d + 1)] }), shape: perm.map((d) => a.shape[d]), layout: 'ir' };
    const s = emitDiversitySeed(net, moved, rowsPerTarget, weight)!;
    const back = perm.map((_, d) => perm.indexOf(d) + 1);
    return { name: b.op1('Transpose', [s.name], { perm: [0, ...back] }), shape: a.shape, layout: 'ir' };
  }
  const R = rowsPerTarget;
  const keep = { keepdims: 1 };
  const norm = (g: string) => b.op1('Sqrt', [b.op1('Add', [b.op1('ReduceSum', [b.op1('Mul', [g, g]), b.i64([1])], keep), b.scalar(1e-10)])]);
  /** d(normalised g) → dg for g/n. */
  const throughNorm = (gn: string, n: string, dgn: string) => b.op1('Div', [b.op1('Sub', [dgn, b.op1('Mul', [gn, b.op1('ReduceSum', [b.op1('Mul', [gn, dgn]), b.i64([1])], keep)])]), n]);
  if (a.shape.length >= 2) {
    const c = a.shape[a.shape.length - 1];
    const A = b.op1('Reshape', [a.name, b.i64([0, -1, c])]);
    const G = b.op1('Reshape', [b.op1('MatMul', [b.op1('Transpose', [A], { perm: [0, 2, 1] }), A]), b.i64([0, c * c])]);
    const n = norm(G);
    const Gn = b.op1('Div', [G, n]);
    const G3 = b.op1('Reshape', [Gn, b.i64([-1, R, c * c])]);
    const others = b.op1('Sub', [b.op1('ReduceSum', [G3, b.i64([1])], keep), G3]);
    const dGn = b.op1('Reshape', [b.op1('Mul', [others, b.scalar((-2 * weight) / R)]), b.i64([-1, c * c])]);
    const dG = b.op1('Reshape', [throughNorm(Gn, n, dGn), b.i64([-1, c, c])]);
    const sym = b.op1('Add', [dG, b.op1('Transpose', [dG], { perm: [0, 2, 1] })]);
    const dA = b.op1('MatMul', [A, sym]);
    return { name: b.op1('Reshape', [dA, b.i64([-1, ...a.shape])]), shape: a.shape, layout: 'ir' };
  }
  const u = a.shape[0];
  const g = b.op1('Reshape', [a.name, b.i64([-1, u])]);
  const n = norm(g);
  const gn = b.op1('Div', [g, n]);
  const g3 = b.op1('Reshape', [gn, b.i64([-1, R, u])]);
  const sim = b.op1('MatMul', [g3, b.op1('Transpose', [g3], { perm: [0, 2, 1] })]);
  const eye = new Float32Array(R * R).map((_, i) => (Math.floor(i / R) === i % R ? 0 : 1));
  const off = b.op1('Mul', [sim, b.f32('offDiagonal', eye, [R, R])]);
  const dgn = b.op1('Reshape', [b.op1('Mul', [b.op1('MatMul', [off, g3]), b.scalar((-4 * weight) / R)]), b.i64([-1, u])]);
  return { name: b.op1('Reshape', [throughNorm(gn, n, dgn), b.i64([-1, ...a.shape])]), shape: a.shape, layout: 'ir' };
}
