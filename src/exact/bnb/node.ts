import { certify } from './certify.js';
import { NodeLagrangian, type UnitNorms } from './lagrange.js';
import { MixingSdp, RANK } from './mixing.js';
import type { ShallowProblem } from './shallow.js';

/**
 * One node of the branch-and-bound tree: the region where the units in `fixed` are on (1) or off
 * (0), with the multipliers and the SDP warm start inherited from its parent.
 */
export interface BnbNode {
  fixed: Int8Array;
  theta: Float64Array;
  nu: Float64Array;
  /** v₀ and the σ rows of the parent's SDP, in the order of this node's σ units (or null). */
  warm: Float64Array | null;
  /** The parent's certified bound (an upper bound for this node too). */
  bound: number;
  depth: number;
  /** The parent's Cholesky shift, a hint for this node's. */
  shift: number;
}

/** How hard to work on one node's bound. */
export interface NodeEffort {
  /** At most this many sweeps per node (the root gets `rootSweeps`). */
  maxSweeps: number;
  rootSweeps: number;
  /**
   * Stop (and branch) when `window` sweeps lowered the relaxation's value by less than this
   * fraction of its distance to the target; the root uses `rootStall`.
   */
  stall: number;
  rootStall: number;
  window: number;
  /** Lagrangian step size at the root and below. */
  etaRoot: number;
  eta: number;
}

/** stall 0.2 (was 0.1): class 1 of the bundled model, 7,055 nodes instead of 6,707 but 18 % fewer sweeps, ≈ 13 % less CPU. */
export const DEFAULT_EFFORT: NodeEffort = { maxSweeps: 80, rootSweeps: 600, stall: 0.2, rootStall: 0.005, window: 4, etaRoot: 0.5, eta: 0.3 };

/** What became of a node. */
export interface NodeOutcome {
  /** Certified bound (the smallest of the node's certificates and its parent's). */
  bound: number;
  /** The σ units of the node, in the order of the SDP's rows. */
  sigma: Int32Array;
  sweeps: number;
  /** A box vertex from rounding the SDP, with its objective value. */
  vertex: Float64Array | null;
  vertexValue: number;
  shift: number;
  /** Other rounded vertices and the relaxation's fractional point (root only): starting points for the polish. */
  extra: Float64Array[];
}

/** Certify a node before branching when its relaxation is this far (as a fraction of bound − target) below its bound. */
const FINAL_CERTIFICATE = 0.25;

/** Rounded vertices drawn at the root. */
const ROOT_ROUNDINGS = 8;

/**
 * Bounds nodes: runs the mixing method with Lagrangian steps on a node until its certified bound
 * falls to `target` (the node can be pruned), stops improving, or the sweep budget is spent.
 *
 * @example
 * const solver = new NodeSolver(problem, unitNorms(problem));
 * const out = solver.bound(rootNode(problem), incumbent);
 */
export class NodeSolver {
  readonly sdp: MixingSdp;
  private readonly normal = new Float64Array(RANK);
  private seed = 12345;
  /** Certify a node that is branched (its children then start from a tighter bound). */
  finalCertificate = false;
  /** Element 0 non-zero: end the node now (its bound stays the inherited one or a certified one). */
  stop: Int32Array | null = null;

  constructor(readonly p: ShallowProblem, readonly norms: UnitNorms, readonly effort: NodeEffort = DEFAULT_EFFORT) {
    this.sdp = new MixingSdp(p);
  }

  /**
   * Bound `node`; stop early once the bound is ≤ target. The relaxation's value (cheap, every
   * sweep) decides when to stop; a certificate (≈ a few sweeps' work) is computed when that value
   * is below the target (the node may be pruned) and once at the end (for the root, unless
   * `certifyRoot` is false: the polish only wants the relaxation's roundings).
   */
  bound(node: BnbNode, target: number, evaluate: (s: Float64Array) => number, certifyRoot = true): NodeOutcome {
    const { sdp, effort } = this;
    const lag = new NodeLagrangian(this.p, this.norms, node.fixed, node.theta, node.nu, (out, delta) => sdp.addUnitRows(out, delta));
    const sigma = lag.sigmaUnits();
    sdp.setNode(sigma, lag.a, lag.d, node.warm);
    const root = node.depth === 0;
    const maxSweeps = root ? effort.rootSweeps : effort.maxSweeps;
    const eta = root ? effort.etaRoot : effort.eta;
    const stall = root ? effort.rootStall : effort.stall;
    let bound = node.bound;
    let shift = node.shift;
    let sweeps = 0;
    const history: number[] = [];
    let certified = false;
    // What a certificate adds to the relaxation's value (its duality gap), learnt from the last one.
    let certGap = 0;
    let value = Infinity;
    while (sweeps < maxSweeps) {
      if (this.stop && Atomics.load(this.stop, 0) !== 0) break;
      const shat = sdp.xhat();
      if (lag.step(shat, sdp.unitValuesAtPoint(), eta)) sdp.setLinear(lag.a, lag.d);
      sdp.sweep();
      sweeps++;
      certified = false;
      value = sdp.primal();
      history.push(value);
      if (value + 0.9 * certGap <= target) {
        const c = this.certify(lag, shift);
        certified = true;
        shift = c.shift;
        certGap = Math.max(0, c.bound - value);
        if (c.bound < bound) bound = c.bound;
        if (bound <= target) break;
      }
      // Stop when the last sweeps closed too little of what still separates the bound from the
      // target (without a target, of the value itself).
      const w = effort.window;
      const need = Number.isFinite(target) ? Math.max(value + certGap - target, certGap, 1e-12 * Math.abs(value)) : Math.abs(value) + 1;
      if (history.length > w && history[history.length - 1 - w] - value < stall * need) break;
    }
    // A final certificate costs about two sweeps; it pays when the relaxation's value says the
    // bound inherited from the parent is far too loose (children start from the tighter one).
    if (!certified && ((node.depth === 0 && certifyRoot) || this.finalCertificate || bound - value > FINAL_CERTIFICATE * (bound - target))) {
      const c = this.certify(lag, shift);
      shift = c.shift;
      if (c.bound < bound) bound = c.bound;
    }
    // Rounded vertices: one per node, several at the root (they seed the incumbent's polish).
    let vertex: Float64Array | null = null;
    let vertexValue = -Infinity;
    const extra: Float64Array[] = [];
    for (let k = 0; k < (root ? ROOT_ROUNDINGS : 1); k++) {
      const v = new Float64Array(this.p.n);
      this.roundOnce(v);
      const value = evaluate(v);
      if (value > vertexValue) {
        if (vertex) extra.push(vertex);
        vertex = v;
        vertexValue = value;
      } else extra.push(v);
    }
    if (root) {
      const xh = new Float64Array(this.p.n);
      sdp.xhat(xh);
      extra.push(xh);
    }
    return { bound, sigma, sweeps, vertex, vertexValue, shift, extra };
  }

  /** Certificates computed (diagnostics). */
  certificates = 0;

  private certify(lag: NodeLagrangian, shift: number): ReturnType<typeof certify> {
    this.certificates++;
    return certify(this.sdp, lag.absScale, shift);
  }

  /** The SDP warm start for a child that fixes σ row `row` (v₀ and the other σ rows). */
  warmFor(row: number): Float64Array {
    return this.sdp.warm(row);
  }

  /** Random-hyperplane rounding of the current SDP state into a box vertex. */
  roundOnce(out: Float64Array): void {
    let s = this.seed;
    for (let r = 0; r < RANK; r++) {
      // xorshift + Box–Muller-free: uniform in [−1, 1) is enough for a random direction's sign pattern.
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      this.normal[r] = s / 2 ** 31 - 1;
    }
    this.seed = s;
    this.sdp.round(this.normal, out);
  }
}
