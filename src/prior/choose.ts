import type { Rng } from '../optimize/rng.js';
import type { PriorParameterisation } from './param.js';

/** Values of the objectives at `rows` codes (the batch's rows, targets × restarts), and their gradients in the codes when asked. */
export type EvaluateCodes = (codes: Float32Array) => Promise<Float32Array | { values: Float32Array; grads: Float32Array }>;

/**
 * Where each restart of a prior made of several boxes searches: every box's centre is evaluated
 * for every target (in batches of the run's rows) — with gradients, scored by the largest value of
 * the objective's linearisation over the box — then restart j of a target starts in the box
 * with the j-th best score (cycling when there are fewer boxes than restarts) — restart 0 at the
 * centre, the others jittered inside the box — and keeps that box. The set searched is still the
 * whole union (every box may be chosen); this decides only which boxes the restarts spend their
 * steps in. Rows in `keep` (a given starting input) keep their code and their nearest box.
 *
 * @example
 * await chooseBoxes(param, codes, async (x) => (await engine.evaluate([x])).values, targets.length, restarts, rng);
 */
export async function chooseBoxes(param: PriorParameterisation, codes: Float32Array, evaluate: EvaluateCodes, targets: number, restarts: number, rng: Rng, keep: (row: number) => boolean = () => false): Promise<void> {
  const boxes = param.boxes;
  if (!boxes || !param.assign) return;
  const k = param.size;
  const rows = targets * restarts;
  const scores = centreScores(param, evaluate, targets, restarts);
  const values = await scores;
  const assignment = new Int32Array(rows).fill(-1);
  const start = Float32Array.from(codes);
  for (let t = 0; t < targets; t++) {
    const order = boxes.map((_, j) => j).sort((a, b) => values[t][b] - values[t][a] || a - b);
    for (let j = 0; j < restarts; j++) {
      const r = t * restarts + j;
      if (keep(r)) continue;
      const b = boxes[order[j % order.length]];
      assignment[r] = order[j % order.length];
      for (let c = 0; c < k; c++) {
        const jitter = j === 0 ? 0 : 0.25 * (b.hi[c] - b.lo[c]) * rng.normal();
        start[r * k + c] = b.centre[c] + jitter;
      }
    }
  }
  param.assign(assignment);
  param.project(start, rows);
  codes.set(start);
}

/** The objective of every target at every box's centre (projected into the set): values[target][box]. */
async function centreScores(param: PriorParameterisation, evaluate: EvaluateCodes, targets: number, restarts: number): Promise<Float64Array[]> {
  const boxes = param.boxes!;
  const k = param.size;
  const rows = targets * restarts;
  const values = Array.from({ length: targets }, () => new Float64Array(boxes.length).fill(-Infinity));
  for (let first = 0; first < boxes.length; first += restarts) {
    const batch = new Float32Array(rows * k);
    const assignment = new Int32Array(rows);
    for (let t = 0; t < targets; t++) {
      for (let j = 0; j < restarts; j++) {
        const b = Math.min(boxes.length - 1, first + j);
        assignment[t * restarts + j] = b;
        batch.set(boxes[b].centre, (t * restarts + j) * k);
      }
    }
    param.assign!(assignment);
    // A box's centre projects the same for every target: once (the first target's rows), then copied.
    param.project(batch, Math.min(restarts, boxes.length - first));
    for (let t = 1; t < targets; t++) batch.copyWithin(t * restarts * k, 0, restarts * k);
    const out = await evaluate(batch);
    const v = out instanceof Float32Array ? out : out.values;
    const g = out instanceof Float32Array ? null : out.grads;
    for (let t = 0; t < targets; t++) {
      for (let j = 0; j < restarts && first + j < boxes.length; j++) {
        const r = t * restarts + j;
        // With gradients: the largest value of the objective's linearisation over the box.
        let reach = 0;
        if (g) for (let c = 0; c < k; c++) reach += Math.abs(g[r * k + c]) * 0.5 * (boxes[first + j].hi[c] - boxes[first + j].lo[c]);
        const value = v[r] + reach;
        values[t][first + j] = Number.isFinite(value) ? value : -Infinity;
      }
    }
  }
  return values;
}
