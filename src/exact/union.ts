import { ActmaxError } from '../errors.js';
import { latentViolation, subspaceCode } from '../prior/subspace.js';
import type { SubspacePrior } from '../prior/types.js';
import { solveByBnb } from './bnbPath.js';
import { shallowInput, shallowProblem, type ShallowProblem, type ShallowResult } from './bnb/shallow.js';
import { exprBounds, intervalBounds } from './bounds.js';
import type { ExactContext, SolverAnswer } from './context.js';
import type { ExactObjective } from './encode.js';
import { solveByMilp } from './milpPath.js';
import { forwardValues } from './network.js';
import { exactObjective, exactObjectiveValue } from './objective.js';
import { codeRows, liftNetwork, liftSubspace, milpProblemChecks, type MilpProblem } from './prior.js';
import { CodePolytope, type CodeRows, type UnitRanges } from './polytopeBound.js';
import { loadHighsHere } from './highs-here.js';
import { HighsSolver } from './highs.js';
import { loweredFloor, solveShallowByMilpRows } from './boxMilp.js';
import { cutBound, polishBoxes, polytopeBounds, tightenBox } from './unionBounds.js';
import type { ResolvedConstraints } from '../constraints/index.js';
import type { BnbInfo, ExactMethodChoice, UnionBoxesInfo } from './types.js';

/**
 * Exact maximisation over a data prior whose code set is a union of boxes: the maximum over the
 * boxes, as one search. Every box gets a certified interval bound of its lifted problem; boxes
 * ordered by that bound (largest first) are solved one after another (branch-and-bound or MILP),
 * sharing the incumbent (a box whose bound or tree does not beat it is closed) and the time limit.
 * The union's bound is the largest bound over the boxes: solved, pruned or left open.
 */

/** One box of the union, lifted: its problem, objective and (where it applies) branch-and-bound form. */
export interface UnionBox {
  index: number;
  problem: MilpProblem;
  obj: ExactObjective;
  /** The branch-and-bound form (built when the box is solved, null where the MILP solves it). */
  shallow: () => ShallowProblem | null;
  /** Certified interval bound of the objective over the box. */
  cheapBound: number;
  /** The best certified bound known for the box: the interval bound, then the polytope LP's when smaller. */
  bound: number;
  /** The pixel box (and halfspaces) in the code, shared by all boxes. */
  rows: CodeRows;
  /** The maximiser (in s) of the box's last polytope LP, once bounded: its MILP keeps the rows tight there. */
  lpPoint: Float64Array | null;
  /** The objective at the box's first polytope LP maximiser (float64), when that is a point of the set. */
  lpValue?: number;
  /** The units' pre-activation ranges over the box's polytope, once tightened (absent: over the box). */
  range?: UnitRanges;
}

/** The warm start (an input), placed in the box whose code set holds it best. */
export type Placed = { box: number; x: Float64Array; value: number };

/**
 * The per-box priors of the optimised input's data prior when its code set is a union of boxes
 * (each a subspace prior on one box), else null. Refused like {@link milpProblem}: several
 * optimised inputs, a decoder prior.
 *
 * @example
 * unionPriors(parts)?.length // 100 for the bundled model's default prior
 */
export function unionPriors(parts: ResolvedConstraints[]): SubspacePrior[] | null {
  const prior = parts.find((p) => p.prior)?.prior ?? null;
  if (!prior?.latent.union) return null;
  milpProblemChecks(parts, prior);
  const p = prior as SubspacePrior;
  return p.latent.union!.boxes.map((b) => ({ ...p, latent: { box: { lo: b.lo, hi: b.hi } } }));
}

/**
 * Lift every box of the union and bound the objective over it by interval arithmetic.
 *
 * @example
 * const boxes = liftUnion(ctx, unionBoxPriors(prior)!, 'auto');
 */
export function liftUnion(ctx: Pick<ExactContext, 'model' | 'spec' | 'net' | 'rc'>, priors: SubspacePrior[], method: ExactMethodChoice): UnionBox[] {
  // One lifted network and objective for every box (they do not depend on the box): the
  // branch-and-bound form's per-network caches then serve all boxes.
  const lifted = priors.length > 0 ? liftNetwork(ctx.net, priors[0]) : null;
  const obj = lifted ? exactObjective(ctx.model, lifted, ctx.spec) : null;
  const rows = priors.length > 0 ? codeRows(priors[0], ctx.rc) : null;
  const boxes = priors.map((prior, index): UnionBox => {
    const problem = liftSubspace(ctx.net, prior, ctx.rc, lifted!);
    const b = intervalBounds(problem.net, problem.set.lo, problem.set.hi, problem.known);
    let cheapBound = exprBounds(obj!.linear, b)[1];
    for (const m of obj!.margins) cheapBound -= m.weight * Math.max(...m.others.map((e) => exprBounds(e, b)[0]));
    // Built on demand: most of its cost is spent on boxes that are solved, not on pruned ones.
    let shallow: ShallowProblem | null | undefined;
    const form = () => (shallow ??= method === 'milp' ? null : toShallow(shallowProblem(problem.net, obj!, problem.set)));
    return { index, problem, obj: obj!, shallow: form, cheapBound, bound: cheapBound, rows: rows!, lpPoint: null };
  });
  // The boxes share the network and constraints: the first says whether the branch-and-bound applies.
  const first = method === 'milp' || boxes.length === 0 ? null : shallowProblem(boxes[0].problem.net, boxes[0].obj, boxes[0].problem.set);
  if (first && 'reason' in first) {
    if (method === 'bnb') throw new ActmaxError('unsupported', `exact mode: the branch-and-bound needs one hidden ReLU layer, a linear objective, and box or linear constraints; here ${first.reason} (use method milp)`);
    for (const b of boxes) b.shallow = () => null;
  } else if (first) boxes[0].shallow = () => first.problem;
  return boxes;
}

const toShallow = (r: ShallowResult): ShallowProblem | null => ('problem' in r ? r.problem : null);

/** The warm start's input in the box nearest to its code (clamped into it), with its value; null when it leaves the input's bounds. */
export function placeStart(boxes: UnionBox[], priors: SubspacePrior[], x0: Float64Array, lo: ArrayLike<number>, hi: ArrayLike<number>): Placed | null {
  let box = 0, least = Infinity;
  priors.forEach((p, j) => {
    const v = latentViolation(p.latent, subspaceCode(p, x0));
    if (v < least) (least = v), (box = j);
  });
  const z = boxes[box].problem.toVariables(x0);
  const x = boxes[box].problem.toInput(z);
  for (let i = 0; i < x.length; i++) if (x[i] < lo[i] - 1e-7 || x[i] > hi[i] + 1e-7) return null;
  return { box, x: z, value: exactObjectiveValue(boxes[box].obj, forwardValues(boxes[box].problem.net, z)) };
}

/** The context of one box: the box's problem in place of the union's. */
export function boxContext(ctx: ExactContext, box: UnionBox, timeLimit: number, start: Placed | null): ExactContext {
  return { ...ctx, net: box.problem.net, obj: box.obj, rc: box.problem.set, problem: box.problem, timeLimit, start: start && start.box === box.index ? { x: start.x, value: start.value } : null };
}

/** The union's answer: the best box's point, the largest bound, proven when every box is closed. */
export interface UnionAnswer {
  /** The box holding the answer (its context finishes the answer). */
  box: number;
  answer: SolverAnswer;
  boxes: UnionBoxesInfo;
}

/**
 * Solve the union: every box bounded over its polytope first, the LP maximisers of the boxes with
 * the largest bounds polished into incumbents (unionBounds.ts), then boxes by decreasing bound,
 * each pruned when its bound does not beat the incumbent, else solved with the incumbent as its
 * floor (a floored box MILP usually proves the box below the floor in seconds). Where the boxes go
 * by the compact MILP, two boxes are solved at once (each HiGHS runs in its own thread), and a box
 * its MILP does not close within `unionTuning.quickTry` seconds (or whose bound is far above the
 * incumbent) gets its units' ranges tightened where the objective reaches the incumbent and its
 * bound from the MILP's relaxation with root cuts; a box still open then waits for its long MILP
 * (all the time left) until every box had this first pass, so the cheap closes come first (on the
 * bundled model's prior: Dress's gap at 60 s 95 % → 40 %, Sandal's 139 % → 65 %).
 *
 * @example
 * const { box, answer } = await solveUnion(ctx, liftUnion(ctx, priors, 'auto'), placed);
 */
export async function solveUnion(ctx: ExactContext, boxes: UnionBox[], start: Placed | null): Promise<UnionAnswer> {
  // One LP over the code polytope for every box (the pixel rows are the same): bounds, then ranges.
  const poly = boxes.length > 0 && boxes[0].shallow() && boxes[0].rows.rows > 0 ? new CodePolytope(await loadHighsHere(), boxes[0].rows) : null;
  try {
    return await solveBoxes(ctx, boxes, start, poly);
  } finally {
    poly?.dispose();
  }
}

async function solveBoxes(ctx: ExactContext, boxes: UnionBox[], start: Placed | null, poly: CodePolytope | null): Promise<UnionAnswer> {
  const run = new UnionSolve(ctx, boxes, start, poly);
  if (poly) {
    run.take(polytopeBounds(poly, boxes, () => run.target(), ctx.timeLimit, () => run.spent(), ctx.options.signal));
    run.take(polishBoxes(poly.highs, boxes, () => run.target(), ctx.timeLimit, () => run.spent(), ctx.options.signal));
  }
  // Compact-MILP boxes: two lanes, each with its own solver thread; otherwise one lane (the
  // branch-and-bound runs its own worker pool, the lifted MILP its own solver).
  const compact = boxes.length > 0 && !!boxes[0].shallow() && boxes[0].shallow()!.rows > 0 && ctx.options.method !== 'bnb';
  const lanes = compact ? Math.max(1, Math.min(MILP_LANES, ctx.options.threads || MILP_LANES)) : 1;
  const solvers = compact ? await Promise.all(Array.from({ length: lanes }, () => HighsSolver.start())) : [null];
  try {
    await Promise.all(solvers.map((s) => run.lane(s)));
  } finally {
    await Promise.all(solvers.map((s) => s?.close()));
  }
  return run.answer();
}

/** What a box's first pass ends in: a solve's answer, closed by its bounds, deferred to its long MILP, or nothing (no time). */
type FirstPass = SolverAnswer | 'closed' | 'deferred' | null;

/**
 * One solve of a union: the incumbent, the boxes' queue (by decreasing bound, then the deferred
 * ones), and the tally of closed, solved and open boxes. Lanes (one per solver thread) take boxes
 * from it until none is left.
 */
class UnionSolve {
  private best: { box: number; value: number; x: Float64Array | null; solverValue: number | null } | null;
  private readonly prune: number;
  private readonly info: UnionBoxesInfo;
  private bound = -Infinity;
  private nodes = 0;
  private infeasible = 0;
  private allClosed = true;
  private bnb: BnbInfo | null = null;
  private readonly routes = new Set<SolverAnswer['method']>();
  private readonly t0: number;
  private readonly order: UnionBox[];
  private q = 0;
  /**
   * Boxes neither closed nor solved in their first pass (quick try, tightening, cut bound) wait
   * here for their long MILP until every box had its first pass: the cheap closes come first.
   */
  private readonly deferred: UnionBox[] = [];
  private firstPasses = 0;

  constructor(
    private readonly ctx: ExactContext,
    private readonly boxes: UnionBox[],
    private readonly start: Placed | null,
    private readonly poly: CodePolytope | null,
  ) {
    this.prune = Math.max(ctx.gapTolerance, 1e-6);
    this.best = start ? { box: start.box, value: start.value, x: null, solverValue: null } : null;
    this.info = { total: boxes.length, pruned: 0, solved: 0, tightened: 0, open: [] };
    this.t0 = ctx.seconds();
    this.order = [...boxes].sort((a, b) => b.bound - a.bound);
  }

  /** Seconds since the solve began. */
  spent(): number {
    return this.ctx.seconds() - this.t0;
  }

  /** The value a box's bound must beat to stay open: the incumbent plus the gap tolerance. */
  target(): number {
    const { best } = this;
    return best ? best.value + this.prune * Math.max(Math.abs(best.value), 1e-12) : -Infinity;
  }

  /** A point found before the boxes are solved: the incumbent when it beats it. */
  take(found: Placed | null): void {
    if (found && (!this.best || found.value > this.best.value)) this.best = { box: found.box, value: found.value, x: found.x, solverValue: null };
  }

  private open(box: UnionBox, boxBound: number): void {
    this.info.open.push({ box: box.index, bound: boxBound });
    this.bound = Math.max(this.bound, boxBound);
    this.allClosed = false;
  }

  /** A box closed by its bound (not beating the incumbent). */
  private pruned(box: UnionBox): void {
    this.info.pruned++;
    this.bound = Math.max(this.bound, box.bound);
  }

  /** A point a box's solve found: the incumbent when it beats it. */
  private record(box: UnionBox, ans: SolverAnswer): void {
    if (!ans.x) return;
    const value = exactObjectiveValue(box.obj, forwardValues(box.problem.net, ans.x));
    if (!this.best || value > this.best.value) this.best = { box: box.index, value, x: ans.x, solverValue: ans.solverValue };
  }

  /**
   * A box's first pass: a quick MILP try (skipped when its bound is far above the incumbent); if
   * that does not settle it, its units' ranges tightened (tightenBox) and its cut bound (cutBound),
   * then 'closed' or 'deferred' to its long MILP. Without tightening, the MILP with all the time left.
   */
  private async firstPass(box: UnionBox, solver: HighsSolver | null, left: number): Promise<FirstPass> {
    const { ctx, poly, best } = this;
    const tighten = poly && solver && ctx.options.tighten !== false;
    const far = best !== null && box.bound - best.value > unionTuning.farGap * Math.max(Math.abs(best.value), 1e-12);
    const ans = tighten && far ? null : await solveBox(boxContext(ctx, box, tighten ? Math.min(unionTuning.quickTry, left) : left, this.start), box, best?.value, solver);
    this.nodes += ans?.nodes ?? 0;
    if (!tighten || (ans && (ans.infeasible !== null || ans.proven)) || this.spent() >= ctx.timeLimit || ctx.options.signal?.aborted) return ans;
    if (ans) {
      this.record(box, ans);
      if (ans.bound !== null) box.bound = Math.min(box.bound, ans.bound);
    }
    this.info.tightened++;
    const floor = this.best ? loweredFloor(this.best.value) : null;
    if ((await tightenBox(poly, solver, box, floor, ctx.timeLimit - this.spent(), ctx.options.signal)) <= this.target()) return 'closed';
    return cutBound(poly, box, floor) <= this.target() ? 'closed' : 'deferred';
  }

  /** The next box for a lane (`again`: a deferred box's long MILP), or null when none is left. */
  private async next(): Promise<{ box: UnionBox; again: boolean } | null> {
    for (;;) {
      if (this.q < this.order.length) return { box: this.order[this.q++], again: false };
      if (this.deferred.length > 0) {
        this.deferred.sort((a, b) => b.bound - a.bound);
        return { box: this.deferred.shift()!, again: true };
      }
      // Another lane may still defer a box.
      if (this.firstPasses === 0) return null;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A box's first pass, counted while it runs (so that idle lanes wait for its deferral); a deferred box joins the queue. */
  private async counted(box: UnionBox, solver: HighsSolver | null, left: number): Promise<FirstPass> {
    this.firstPasses++;
    try {
      const first = await this.firstPass(box, solver, left);
      if (first === 'deferred') this.deferred.push(box);
      return first;
    } finally {
      this.firstPasses--;
    }
  }

  /** One lane: boxes from the queue, each pruned, deferred, or solved on this lane's solver. */
  async lane(solver: HighsSolver | null): Promise<void> {
    const { ctx } = this;
    for (let item = await this.next(); item; item = await this.next()) {
      const { box, again } = item;
      const left = ctx.timeLimit - this.spent();
      if (box.bound <= this.target()) {
        this.pruned(box);
        continue;
      }
      if (left <= 0 || ctx.options.signal?.aborted) {
        this.open(box, box.bound);
        continue;
      }
      let ans: FirstPass;
      if (again) {
        ans = await solveBox(boxContext(ctx, box, left, this.start), box, this.best?.value, solver);
        this.nodes += ans.nodes;
      } else {
        ans = await this.counted(box, solver, left);
        if (ans === 'closed') {
          this.pruned(box);
          continue;
        }
        if (ans === 'deferred') continue;
      }
      if (!ans) this.open(box, box.bound);
      else this.solved(box, ans);
    }
  }

  /** A box's solve: infeasible, proven (its bound counts), or left open; its point recorded. */
  private solved(box: UnionBox, ans: SolverAnswer): void {
    if (ans.infeasible !== null) {
      this.infeasible++;
      this.info.solved++;
      return;
    }
    if (ans.bnb && (!this.bnb || ans.x)) this.bnb = ans.bnb;
    this.routes.add(ans.method);
    const boxBound = Math.min(ans.bound ?? Infinity, box.bound);
    if (ans.proven) {
      this.info.solved++;
      this.bound = Math.max(this.bound, boxBound);
    } else this.open(box, boxBound);
    this.record(box, ans);
  }

  /** The union's answer once the lanes are done. */
  answer(): UnionAnswer {
    const { boxes, best, bnb, info, bound } = this;
    // The route that solved boxes (the branch-and-bound only when it solved them all).
    const method = this.routes.size > 0 ? (this.routes.has('milp') ? 'milp' : 'bnb') : boxes.length > 0 && boxes[0].shallow() ? 'bnb' : 'milp';
    const answer: SolverAnswer = {
      method,
      x: best?.x ?? null,
      solverValue: best?.solverValue ?? null,
      bound: Number.isFinite(bound) ? bound : null,
      proven: this.allClosed && !!best,
      nodes: this.nodes,
      solveSeconds: this.spent(),
      encoding: null,
      bnb: bnb ? { ...bnb, boxes: info } : null,
      union: info,
      infeasible: this.infeasible === boxes.length ? `the constraints admit no input in any of the prior's ${boxes.length} code boxes` : null,
    };
    return { box: best?.box ?? 0, answer, boxes: info };
  }
}

/**
 * Tuning of the union's solve (not API; tests change it): `quickTry`, the seconds a box's MILP
 * gets before its units' ranges are tightened (most boxes close well within it); `farGap`, the
 * relative gap between a box's bound and the incumbent above which the box is tightened at once
 * (such boxes seldom close in the quick try). Measured on the bundled model's prior (60 s a
 * class): a far gap of 0.5 closed 28 Pullover boxes instead of 18 and 11 Dress boxes instead of
 * 8; 0.15 slowed class 0 (34.7 → 40.6 s), 0.75 helped no class.
 */
export const unionTuning = { quickTry: 1.5, farGap: 0.5 };

/** Boxes solved at once by the compact MILP (one HiGHS thread each; the machine has 2 cores). */
const MILP_LANES = 2;

/**
 * One box, solved: where its rows confine the code (a data prior's pixel box) and the method is
 * not forced to the branch-and-bound, the compact MILP with the incumbent as a floor (the rows
 * take part in its relaxations) on the lane's solver; else the branch-and-bound with the floor,
 * or the lifted MILP.
 */
async function solveBox(bctx: ExactContext, box: UnionBox, floor: number | undefined, solver: HighsSolver | null): Promise<SolverAnswer> {
  const shallow = box.shallow();
  if (!shallow) return solveByMilp(bctx);
  if (shallow.rows === 0 || bctx.options.method === 'bnb' || !solver) return solveByBnb(bctx, shallow, Promise.resolve(bctx.start), floor);
  return solveShallowByMilpRows(bctx, shallow, solver, floor, box.lpPoint, undefined, box.range);
}
