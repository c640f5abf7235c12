import { inThreadExecutor, type NodeExecutor } from './executor.js';
import { loadHighsHere } from '../highs-here.js';
import { unitNorms } from './lagrange.js';
import { DEFAULT_EFFORT, type BnbNode, type NodeEffort } from './node.js';
import type { PolishOptions, PolishResult } from './polish.js';
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
  /**
   * A starting point s ∈ [0,1]^n (e.g. from gradient search), or its promise: the root is bounded
   * meanwhile, so its bound is known at once; the start is polished when it arrives.
   */
  start?: Float64Array | null | Promise<Float64Array | null>;
  /** The objective at s, computed independently (the value that counts). */
  validate: (s: Float64Array) => number;
  onProgress?: (p: BnbProgress) => void;
  /** Worker threads (default: the cores; 0 = the calling thread). */
  threads?: number;
  effort?: Partial<NodeEffort>;
  /** Polish of the start and of improving candidates (false: none). */
  polish?: PolishOptions | false;
  /**
   * A value reached elsewhere (another box of a union): nodes bounded at or below it (plus the
   * tolerance) are pruned. A tree closed by it without a point of its own ends `optimal` with
   * `best` null: nothing here beats the floor.
   */
  floor?: number;
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
  const effort = { ...DEFAULT_EFFORT, ...options.effort };
  // Shared with the workers: set when the solve must end, so a running node or polish stops early.
  const stop = new Int32Array(typeof SharedArrayBuffer === 'function' && workers.length > 0 ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
  const onAbort = () => Atomics.store(stop, 0, 1);
  options.signal?.addEventListener('abort', onAbort);
  const timer = setTimeout(onAbort, Math.max(0, options.timeLimit * 1000));
  try {
    // Workers that fail to start are left out; with none, the calling thread does the work.
    const started = await Promise.allSettled(executors.map((e) => e.init(p, effort, stop)));
    executors = executors.filter((_, k) => started[k].status === 'fulfilled');
    if (executors.length === 0) {
      executors = [inThreadExecutor(await loadHighsHere())];
      await executors[0].init(p, effort, stop);
    }
    return await new TreeRun(p, options, executors, stop).solve();
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled(executors.map((e) => e.release()));
    releaseExecutors(workers);
  }
}

/** Work in flight on one executor: a node, or a polish of a starting point. */
type Job = { kind: 'node'; node: BnbNode } | { kind: 'polish'; s: Float64Array; light?: boolean };
type JobDone = { ex: NodeExecutor; job: Job; result: NodeResult | PolishResult };

/** Polish at most this many starting points from the tree (root roundings, improving vertices). */
const MAX_POLISHES = 24;

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
  /** Starting points waiting for a polish, best first; and how many were polished. */
  private seeds: Candidate[] = [];
  private polishes = 0;
  private readonly inFlight = new Map<NodeExecutor, { job: Job; done: Promise<JobDone> }>();

  constructor(private readonly p: ShallowProblem, private readonly o: BnbOptions, private readonly executors: NodeExecutor[], private readonly stop: Int32Array) {}

  private seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private stopped(): boolean {
    return !!this.o.signal?.aborted || this.seconds() >= this.o.timeLimit;
  }

  /** Prune threshold: the incumbent plus the tolerance. */
  private target(): number {
    const v = Math.max(this.best?.value ?? -Infinity, this.o.floor ?? -Infinity);
    if (v === -Infinity) return -Infinity;
    return v + this.o.gapTolerance * Math.max(Math.abs(v), 1e-12);
  }

  /** The proven bound now: the largest of the open, in-flight and closed parts. */
  bound(): number {
    let b = Math.max(this.frontier.top(), this.closedMax);
    for (const f of this.inFlight.values()) if (f.job.kind === 'node') b = Math.max(b, f.job.node.bound);
    if (this.best) b = Math.max(b, this.best.value);
    return b;
  }

  /** Take a candidate if its validated value beats the incumbent. */
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
    // The root is the first node of the tree; the tree does not wait for the start (gradient
    // search, seconds): it arrives into the loop, is offered, and its polish is the next job.
    this.frontier.push(rootNode(this.p, unitNorms(this.p)));
    this.progress('root', true);
    this.arrival = Promise.resolve(this.o.start ?? null).then((start) => {
      this.arrival = null;
      this.start = start;
      if (start) {
        this.offer({ s: start, value: Infinity });
        if (this.o.polish !== false) this.startPending = true;
      }
      return 'start' as const;
    }, (e: unknown) => {
      // Seen by the loop if it is still running; otherwise the caller's own promise reports it.
      this.arrival = null;
      this.arrivalError = e;
      return 'start' as const;
    });
    await this.loop();
    return this.outcome();
  }

  /** The start, once it has arrived; `arrival` until then. */
  private start: Float64Array | null = null;
  private arrival: Promise<'start'> | null = null;
  private arrivalError: unknown = null;
  /** The start has arrived and waits for its polish. */
  private startPending = false;

  /** The start gets the ascent with 12 flips; seeds from the tree (box vertices) a climb and a short ascent. */
  private polishOptions(light = false): PolishOptions {
    return { timeLimit: Math.min(5, this.o.timeLimit / 8), ...(light ? { flips: 2, maxLps: 10, climb: true } : { flips: 12, maxLps: 40 }), ...(this.o.polish || {}) };
  }

  private nodesInFlight(): number {
    let k = 0;
    for (const f of this.inFlight.values()) if (f.job.kind === 'node') k++;
    return k;
  }

  private absorbPolish(r: PolishResult, isStart: boolean): void {
    if (isStart) this.polishInfo = { start: r.start, value: r.value, lps: r.lps };
    this.offer({ s: r.s, value: r.value });
  }

  /** Fold one node's result into the tree; queue its points for a polish when they look promising. */
  private absorbNode(node: BnbNode, r: NodeResult): void {
    this.sweeps += r.sweeps;
    if (node.depth === 0) {
      this.rootSeconds = this.seconds();
      this.rootBound = r.bound;
    }
    if (r.leaf) this.leaves++;
    const before = this.best?.value ?? -Infinity;
    if (this.o.polish !== false) {
      // Root seeds always; later vertices only when they beat the incumbent before polishing.
      const points = [...(r.candidate ? [r.candidate] : []), ...r.seeds.map((s) => ({ s, value: -Infinity }))];
      for (const c of points) if (node.depth === 0 || c.value > before) this.seeds.push(c);
      this.seeds.sort((a, b) => b.value - a.value);
    }
    this.offer(r.candidate);
    if (r.children) {
      for (const c of r.children) this.frontier.push(c);
    } else {
      this.closedMax = Math.max(this.closedMax, Math.min(r.bound, node.bound));
    }
  }

  private startJob(ex: NodeExecutor, job: Job): void {
    const done: Promise<JobDone> =
      job.kind === 'node'
        ? ex.run(job.node, this.target()).then((result) => ({ ex, job, result }))
        : ex.polish(job.s, this.polishOptions(job.light)).then((result) => ({ ex, job, result }));
    this.inFlight.set(ex, { job, done });
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (!this.stopped()) this.dispatch();
      if (this.inFlight.size === 0) return;
      const waits: Array<Promise<JobDone | 'start'>> = [...this.inFlight.values()].map((f) => f.done);
      if (this.arrival) waits.push(this.arrival);
      const next = await Promise.race(waits);
      if (next === 'start') {
        if (this.arrivalError) throw this.arrivalError;
        continue;
      }
      const { ex, job, result } = next;
      this.inFlight.delete(ex);
      if (job.kind === 'node') {
        this.nodes++;
        this.absorbNode(job.node, result as NodeResult);
        if (job.node.depth === 0) this.progress('root', true);
      } else {
        this.absorbPolish(result as PolishResult, job.s === this.start);
      }
      // The tree is closed: a polish still running cannot change the answer's proof; end it.
      if (this.frontier.size === 0 && this.nodesInFlight() === 0) Atomics.store(this.stop, 0, 1);
      this.progress('tree');
    }
  }

  /** Give every idle executor a job: a pending polish first, else the best open node. */
  private dispatch(): void {
    for (const ex of this.executors) {
      if (this.inFlight.has(ex)) continue;
      const open = this.frontier.size > 0 || this.nodesInFlight() > 0;
      // The start's polish first (the full ascent with flips), while the tree is open.
      if (this.startPending && this.start && open) {
        this.startPending = false;
        this.startJob(ex, { kind: 'polish', s: this.start });
        continue;
      }
      // Polishes help only while the tree is open.
      if (this.seeds.length > 0 && this.polishes < MAX_POLISHES && (this.frontier.size > 0 || this.nodesInFlight() > 0)) {
        this.polishes++;
        this.startJob(ex, { kind: 'polish', s: this.seeds.shift()!.s, light: true });
        continue;
      }
      let node = this.frontier.pop();
      while (node && node.bound <= this.target()) {
        this.closedMax = Math.max(this.closedMax, node.bound);
        node = this.frontier.pop();
      }
      if (!node) continue;
      this.startJob(ex, { kind: 'node', node });
    }
  }

  private outcome(): BnbOutcome {
    const open = this.frontier.size > 0;
    const bound = this.bound();
    let status: BnbOutcome['status'];
    if (open) status = this.o.signal?.aborted ? 'interrupted' : 'time-limit';
    else status = this.best || (this.o.floor !== undefined && this.closedMax > -Infinity) ? 'optimal' : 'infeasible';
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
