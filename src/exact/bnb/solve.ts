import { inThreadExecutor, type NodeExecutor } from './executor.js';
import { loadHighsHere } from '../highs-here.js';
import { unitNorms } from './lagrange.js';
import { DEFAULT_EFFORT, type BnbNode, type NodeEffort } from './node.js';
import type { PolishOptions } from './polish.js';
import { Frontier, rootNode, type Candidate, type NodeResult } from './search.js';
import type { ShallowProblem } from './shallow.js';
import { acquireExecutors, defaultThreads, releaseExecutors } from './threads.js';

/**
 * The branch-and-bound driver: hands nodes of the tree to executors (worker threads, or the
 * calling thread), keeps the frontier, the incumbent and the proven bound, and stops at a proof,
 * the time limit or an abort. Every incumbent is re-evaluated by the caller's `validate` (a
 * float64 forward pass through the network) before it counts.
 */

/** Live state of a solve, passed to `onProgress`. */
export interface BnbProgress {
  phase: 'root' | 'tree';
  incumbent: number | null;
  /** Proven upper bound (null before the root is bounded). */
  bound: number | null;
  nodes: number;
  seconds: number;
}

/** Options of {@link solveBnb}. */
export interface BnbOptions {
  timeLimit: number;
  /** Prune a node when its bound ≤ incumbent + gapTolerance·|incumbent| (relative). */
  gapTolerance: number;
  signal?: AbortSignal;
  /** A starting point s ∈ [0,1]^n (e.g. from gradient search); it is polished first. */
  start?: Float64Array | null;
  /** The objective at s, computed independently (the value that counts). */
  validate: (s: Float64Array) => number;
  onProgress?: (p: BnbProgress) => void;
  /** Worker threads (default: the cores; 0 = the calling thread). */
  threads?: number;
  effort?: Partial<NodeEffort>;
  /** Polish of the start and of improving candidates (false: none). */
  polish?: PolishOptions | false;
}

/** How a solve ended. */
export interface BnbOutcome {
  status: 'optimal' | 'time-limit' | 'interrupted' | 'infeasible';
  /** Best point and its validated value. */
  best: Candidate | null;
  /** Proven upper bound on the maximum. */
  bound: number;
  rootBound: number;
  rootSeconds: number;
  nodes: number;
  leaves: number;
  sweeps: number;
  seconds: number;
  threads: number;
  /** The start point's polish (value before → after, LPs). */
  polish: { start: number; value: number; lps: number } | null;
}

/**
 * Maximise a shallow problem by branch-and-bound.
 *
 * @example
 * const out = await solveBnb(problem, { timeLimit: 60, gapTolerance: 1e-4, validate: (s) => shallowValue(problem, s) });
 * console.log(out.status, out.best?.value, out.bound);
 */
export async function solveBnb(p: ShallowProblem, options: BnbOptions): Promise<BnbOutcome> {
  const threads = options.threads ?? defaultThreads();
  const workers = threads > 0 ? acquireExecutors(threads) : [];
  let executors: NodeExecutor[] = workers;
  if (executors.length === 0) executors = [inThreadExecutor(await loadHighsHere())];
  const effort = { ...DEFAULT_EFFORT, ...options.effort };
  try {
    await Promise.all(executors.map((e) => e.init(p, effort)));
    return await new TreeRun(p, options, executors).solve();
  } finally {
    await Promise.allSettled(executors.map((e) => e.release()));
    releaseExecutors(workers);
  }
}

/** One solve's state: frontier, incumbent, counters, and the dispatch loop. */
class TreeRun {
  private readonly t0 = performance.now();
  private readonly frontier = new Frontier();
  private best: Candidate | null = null;
  /** Largest bound among closed (pruned, leaf) parts of the tree. */
  private closedMax = -Infinity;
  private nodes = 0;
  private leaves = 0;
  private sweeps = 0;
  private rootBound = Infinity;
  private rootSeconds = 0;
  private lastProgress = 0;
  private polishInfo: BnbOutcome['polish'] = null;
  /** Nodes being processed, by executor, with the bound they inherited. */
  private readonly inFlight = new Map<NodeExecutor, { node: BnbNode; done: Promise<{ ex: NodeExecutor; node: BnbNode; result: NodeResult }> }>();

  constructor(private readonly p: ShallowProblem, private readonly o: BnbOptions, private readonly executors: NodeExecutor[]) {}

  private seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private stopped(): boolean {
    return !!this.o.signal?.aborted || this.seconds() >= this.o.timeLimit;
  }

  /** Prune threshold: the incumbent plus the tolerance. */
  private target(): number {
    if (!this.best) return -Infinity;
    const v = this.best.value;
    return v + this.o.gapTolerance * Math.max(Math.abs(v), 1e-12);
  }

  /** The proven bound now: the largest of the open, in-flight and closed parts. */
  bound(): number {
    let b = Math.max(this.frontier.top(), this.closedMax);
    for (const f of this.inFlight.values()) b = Math.max(b, f.node.bound);
    if (this.best) b = Math.max(b, this.best.value);
    return b;
  }

  private offer(c: Candidate | null): boolean {
    if (!c) return false;
    if (this.best && c.value <= this.best.value) return false;
    const value = this.o.validate(c.s);
    if (!Number.isFinite(value) || (this.best && value <= this.best.value)) return false;
    this.best = { s: c.s, value };
    return true;
  }

  private progress(phase: BnbProgress['phase'], force = false): void {
    const now = performance.now();
    if (!force && now - this.lastProgress < 200) return;
    this.lastProgress = now;
    const bound = this.rootBound < Infinity ? this.bound() : null;
    this.o.onProgress?.({ phase, incumbent: this.best?.value ?? null, bound, nodes: this.nodes, seconds: this.seconds() });
  }

  async solve(): Promise<BnbOutcome> {
    const [first, second] = this.executors;
    const root = rootNode(this.p, unitNorms(this.p));
    // Root and the start's polish in parallel when there are two executors.
    const startValue = this.o.start ? this.o.validate(this.o.start) : null;
    if (this.o.start && startValue !== null && Number.isFinite(startValue)) this.best = { s: this.o.start, value: startValue };
    const polishOn = this.o.polish !== false && this.o.start ? (second ?? first) : null;
    const polishing = polishOn ? this.polishStart(polishOn) : Promise.resolve();
    if (polishOn === first) await polishing;
    this.progress('root', true);
    const rootResult = await first.run(root, this.target());
    this.rootSeconds = this.seconds();
    this.nodes = 1;
    this.rootBound = rootResult.bound;
    await polishing;
    this.absorb(root, rootResult);
    this.progress('root', true);
    await this.loop();
    return this.outcome();
  }

  private async polishStart(ex: NodeExecutor): Promise<void> {
    const start = this.o.start!;
    const r = await ex.polish(start, { timeLimit: Math.min(5, this.o.timeLimit / 4), ...(this.o.polish || {}) });
    this.polishInfo = { start: r.start, value: r.value, lps: r.lps };
    this.offer({ s: r.s, value: r.value });
  }

  /** Fold one node's result into the tree. */
  private absorb(node: BnbNode, r: NodeResult): void {
    this.sweeps += r.sweeps;
    if (r.leaf) this.leaves++;
    this.offer(r.candidate);
    if (r.children) {
      for (const c of r.children) this.frontier.push(c);
    } else {
      this.closedMax = Math.max(this.closedMax, Math.min(r.bound, node.bound));
    }
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (!this.stopped()) this.dispatch();
      if (this.inFlight.size === 0) return;
      const { ex, node, result } = await Promise.race([...this.inFlight.values()].map((f) => f.done));
      this.inFlight.delete(ex);
      this.nodes++;
      this.absorb(node, result);
      this.progress('tree');
    }
  }

  /** Give every idle executor a node; drop nodes the incumbent already beats. */
  private dispatch(): void {
    for (const ex of this.executors) {
      if (this.inFlight.has(ex)) continue;
      let node = this.frontier.pop();
      while (node && node.bound <= this.target()) {
        this.closedMax = Math.max(this.closedMax, node.bound);
        node = this.frontier.pop();
      }
      if (!node) return;
      const n = node;
      const done = ex.run(n, this.target()).then((result) => ({ ex, node: n, result }));
      this.inFlight.set(ex, { node: n, done });
    }
  }

  private outcome(): BnbOutcome {
    const open = this.frontier.size > 0;
    const bound = this.bound();
    let status: BnbOutcome['status'];
    if (open) status = this.o.signal?.aborted ? 'interrupted' : 'time-limit';
    else status = this.best ? 'optimal' : 'infeasible';
    this.progress('tree', true);
    return {
      status,
      best: this.best,
      bound,
      rootBound: this.rootBound,
      rootSeconds: this.rootSeconds,
      nodes: this.nodes,
      leaves: this.leaves,
      sweeps: this.sweeps,
      seconds: this.seconds(),
      threads: this.executors.length,
      polish: this.polishInfo,
    };
  }
}
