import { ActmaxError } from '../errors.js';
import { residuals } from '../constraints/index.js';
import { createTfjsEngine } from '../engine/tfjs.js';
import type { ExactContext, SolverAnswer } from './context.js';
import { gapOf } from './milpPath.js';
import { forwardValues } from './network.js';
import { exactObjectiveValue } from './objective.js';
import type { ExactResult } from './types.js';

const REL_TOL = 1e-5;
const close = (a: number, b: number) => Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * The common end of every solver route: take the solver's input (or the warm start when it is
 * better), evaluate it in float64 and in TF.js (they must agree, else `internal-check`), check that
 * the proven bound is not below a feasible value, and assemble the {@link ExactResult}.
 *
 * @example
 * return finishAnswer(ctx, await solveByMilp(ctx), 'one hidden ReLU layer');
 */
export async function finishAnswer(ctx: ExactContext, ans: SolverAnswer, methodReason: string): Promise<ExactResult> {
  const { model, spec, name, net, obj, options, start, parts, optimize, fixed, timeLimit, gapTolerance } = ctx;
  const info = model.inputs[optimize[0]];
  const interrupted = !!options.signal?.aborted;
  const base = {
    objective: name, spec, shape: info.shape, interrupted, method: ans.method, methodReason, nodes: ans.nodes, solveSeconds: ans.solveSeconds,
    encoding: ans.encoding, bnb: ans.bnb, ...(ans.union ? { union: ans.union } : {}), warmStartValue: start?.value ?? null,
  };
  const empty = (status: ExactResult['status'], message: string, upperBound: number | null = null): ExactResult => ({
    ...base, status, value: null, upperBound, gap: null, input: [], inputs: {}, outputs: {}, residuals: {}, source: null, check: null, message, totalSeconds: ctx.seconds(),
  });
  if (ans.infeasible !== null) return empty('infeasible', ans.infeasible);

  let x = ans.x;
  let value = x ? exactObjectiveValue(obj, forwardValues(net, x)) : -Infinity;
  let source: ExactResult['source'] = x ? ans.method : null;
  if (start && start.value > value) {
    x = start.x;
    value = start.value;
    source = 'warm-start';
  }
  if (!x) return empty('time-limit', `no feasible input found in ${timeLimit} s`, ans.bound);

  // Re-evaluate with TF.js (the reference engine, float32).
  const engine = await createTfjsEngine({ model, targets: [spec], rowsPerTarget: 1, optimize, fixed });
  let tfjsValue: number;
  const outputs: Record<string, number[]> = {};
  const xs = ctx.problem.toInput(x);
  const slices = ctx.inputParts.map((p) => xs.subarray(p.offset, p.offset + p.size));
  try {
    const ev = await engine.evaluate(slices.map((s) => Float32Array.from(s)));
    tfjsValue = ev.values[0];
    model.outputs.forEach((o, k) => (outputs[o.name] = Array.from(ev.outputs[k])));
  } finally {
    engine.dispose();
  }
  if (!close(tfjsValue, value)) {
    throw new ActmaxError('internal-check', `exact mode: TF.js gives ${name} = ${tfjsValue} at the exact answer, the float64 forward pass ${value}`);
  }

  let upperBound = ans.bound ?? Infinity;
  const tol = REL_TOL * Math.max(1, Math.abs(value));
  if (value > upperBound + tol) {
    throw new ActmaxError('internal-check', `exact mode: the proven bound ${upperBound} for ${name} is below the value ${value} of a feasible input`);
  }
  upperBound = Math.max(upperBound, value);
  const optimal = ans.proven && !interrupted;
  const gap = optimal ? Math.max(0, gapOf(value, upperBound) ?? 0) : gapOf(value, upperBound);
  const inputs: Record<string, number[]> = {};
  const res: Record<string, number> = {};
  ctx.inputParts.forEach((p, k) => {
    inputs[p.name] = Array.from(slices[k]);
    for (const [key, v] of Object.entries(residuals(slices[k], parts[k]))) res[optimize.length > 1 ? `${p.name}.${key}` : key] = v;
  });
  const within = ans.method === 'bnb' ? Math.max(gapTolerance, ans.bnb?.pruneTolerance ?? 0) : gapTolerance;
  return {
    ...base,
    status: optimal ? 'optimal' : 'time-limit',
    value,
    upperBound: Number.isFinite(upperBound) ? upperBound : null,
    gap,
    input: inputs[info.name],
    inputs,
    outputs,
    residuals: res,
    totalSeconds: ctx.seconds(),
    source,
    check: { tfjs: tfjsValue, float64: value, solver: ans.solverValue },
    message: optimal
      ? within > 0 ? `optimal within a relative gap of ${within}` : 'proven optimal'
      : interrupted ? `interrupted; best value ${value}, proven bound ${upperBound}` : `time limit of ${timeLimit} s reached; best value ${value}, proven bound ${upperBound}`,
  };
}
