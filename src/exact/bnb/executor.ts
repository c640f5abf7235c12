import type { Highs } from 'highs';
import { unitNorms } from './lagrange.js';
import { DEFAULT_EFFORT, NodeSolver, type BnbNode, type NodeEffort } from './node.js';
import { explore, exploreSolver, type ExploreOptions } from './explore.js';
import { polishInRegion, type PolishOptions, type PolishResult } from './polish.js';
import { RegionLp } from './regionLp.js';
import { branchOrder, processNode, type NodeResult } from './search.js';
import type { ShallowProblem } from './shallow.js';

/**
 * Where nodes are processed: the same work in the calling thread or in a worker thread
 * (threads.ts). A {@link NodeWorkbench} holds everything one problem needs (its node solver and
 * its persistent region LP); an executor runs its requests one at a time.
 */
export interface NodeExecutor {
  /**
   * Load a problem (replacing the previous one). `stop` (shared memory where there is any): a
   * non-zero element 0 asks running work to end early, with valid (looser) results.
   */
  init(problem: ShallowProblem, effort: NodeEffort, stop: Int32Array): Promise<void>;
  /** Process one node against `target` (incumbent + tolerance). */
  run(node: BnbNode, target: number): Promise<NodeResult>;
  /** Polish a point of the box s ∈ [0,1]^n by region LPs and flips (polish.ts). */
  polish(s: Float64Array, options: PolishOptions): Promise<PolishResult>;
  /** Polish with roundings of the root relaxation as well (explore.ts): gradient search's step. */
  explore(s: Float64Array, options: ExploreOptions): Promise<PolishResult>;
  /** Free the problem's memory (the executor can be given another problem). */
  release(): Promise<void>;
}

/**
 * A problem's node solver, region LP and branching order, in whichever thread runs them.
 *
 * @example
 * const bench = new NodeWorkbench(highs, problem);
 * const result = bench.run(root, target);
 */
export class NodeWorkbench {
  /** Each piece is made on first use: a polish needs neither the tree's solver nor its region LP. */
  private solver: NodeSolver | null = null;
  private lp: RegionLp | null = null;
  private order: Int32Array | null = null;
  /** The smaller LP of the polish's ascent steps (no region rows), and the explorer's solver. */
  private liftedLp: RegionLp | null = null;
  private explorer: NodeSolver | null = null;

  constructor(private readonly highs: Highs, readonly problem: ShallowProblem, private readonly effort: NodeEffort = DEFAULT_EFFORT, private readonly stop: Int32Array | null = null) {}

  run(node: BnbNode, target: number): NodeResult {
    if (!this.solver) {
      const norms = unitNorms(this.problem);
      this.solver = new NodeSolver(this.problem, norms, this.effort);
      this.solver.stop = this.stop;
      this.order = branchOrder(this.problem, norms);
    }
    this.lp ??= new RegionLp(this.highs, this.problem);
    return processNode(this.solver, this.lp, node, target, this.order!);
  }

  polish(s: Float64Array, options: PolishOptions): PolishResult {
    this.liftedLp ??= new RegionLp(this.highs, this.problem, false);
    return polishInRegion(this.problem, this.liftedLp, s, { ...options, stop: this.stop });
  }

  explore(s: Float64Array, options: ExploreOptions): PolishResult {
    this.liftedLp ??= new RegionLp(this.highs, this.problem, false);
    if (!this.explorer) {
      this.explorer = exploreSolver(this.problem);
      this.explorer.stop = this.stop;
    }
    return explore(this.problem, this.liftedLp, this.explorer, s, { ...options, stop: this.stop });
  }

  dispose(): void {
    this.lp?.dispose();
    this.liftedLp?.dispose();
  }
}

/**
 * An executor in the calling thread: each request runs synchronously, then yields to the event
 * loop so timers, progress and aborts are seen between nodes.
 *
 * @example
 * const ex = inThreadExecutor(await loadHighsHere());
 */
export function inThreadExecutor(highs: Highs): NodeExecutor {
  let bench: NodeWorkbench | null = null;
  const ready = (): NodeWorkbench => {
    if (!bench) throw new Error('inThreadExecutor: no problem loaded');
    return bench;
  };
  return {
    async init(problem, effort, stop) {
      bench?.dispose();
      bench = new NodeWorkbench(highs, problem, effort, stop);
    },
    async run(node, target) {
      const r = ready().run(node, target);
      await yieldToEventLoop();
      return r;
    },
    async polish(s, options) {
      const r = ready().polish(s, options);
      await yieldToEventLoop();
      return r;
    },
    async explore(s, options) {
      const r = ready().explore(s, options);
      await yieldToEventLoop();
      return r;
    },
    async release() {
      bench?.dispose();
      bench = null;
    },
  };
}

/** Let other tasks (timers, signal handlers, messages) run. @example await yieldToEventLoop(); */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
