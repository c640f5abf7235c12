import path from 'node:path';
import type { Constraint } from '../../constraints/constraint.js';
import { maximizeExact, type ExactResult } from '../../exact/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { writeInputFiles } from '../../io/results.js';
import { targetLabel } from '../../objectives/check.js';
import { exactRunJson, type ExactDocument } from '../../io/result-json.js';
import type { ActmaxModel } from '../../model/types.js';
import type { ObjectiveSpec } from '../../objectives/spec.js';

/** Options of {@link runExact}. */
export interface ExactRunOptions {
  constraints: Constraint[];
  timeLimit: number;
  gapTolerance: number;
  warmStart: boolean;
  /** Solver choice and the branch-and-bound's worker threads (see ExactOptions). */
  method?: 'auto' | 'bnb' | 'milp';
  threads?: number;
  /** Model inputs to optimise (default: all) and the values of the others, as in `maximize`. */
  optimize?: string[];
  inputs?: Record<string, number[]>;
  signal: AbortSignal;
  onProgress?: (target: number, line: string) => void;
}

/**
 * Solve each target exactly in turn and write result.json (+ input.png / grid.png).
 *
 * @example
 * const { results, files } = await runExact(model, [{ kind: 'logit', index: 1 }], 'out', opts);
 */
export async function runExact(model: ActmaxModel, targets: ObjectiveSpec[], outDir: string, o: ExactRunOptions): Promise<{ results: ExactResult[]; json: ExactDocument; files: string[]; interrupted: boolean }> {
  const results: ExactResult[] = [];
  for (let t = 0; t < targets.length && !o.signal.aborted; t++) {
    const r = await maximizeExact(model, targets[t], {
      constraints: o.constraints,
      timeLimit: o.timeLimit,
      gapTolerance: o.gapTolerance,
      // On: the library's default (gradient search, or the union's own starts); off: cold.
      warmStart: o.warmStart ? undefined : false,
      method: o.method,
      threads: o.threads,
      optimize: o.optimize,
      inputs: o.inputs,
      signal: o.signal,
      onProgress: (p) =>
        o.onProgress?.(t, `${p.phase} ${p.seconds.toFixed(1)}s  incumbent ${p.incumbent?.toPrecision(6) ?? '-'}  bound ${p.bound?.toPrecision(6) ?? '-'}  gap ${p.gap === null ? '-' : (100 * p.gap).toFixed(2) + '%'}  nodes ${p.nodes}`),
    });
    results.push(r);
  }
  const interrupted = o.signal.aborted || results.some((r) => r.interrupted);
  // Interrupted before every target was tried counts too.
  const json: ExactDocument = { ...exactRunJson(results, model.source, o.timeLimit), interrupted };
  const withInput = results.filter((r) => r.input.length > 0);
  const files = withInput.length
    ? await writeInputFiles(outDir, withInput.map((r) => ({ objective: r.objective, input: r.input, shape: r.shape, inputs: r.inputs, label: targetLabel(r.spec, model), value: r.value })), model)
    : [];
  const f = path.join(outDir, 'result.json');
  await writeFileAtomic(f, JSON.stringify(json, null, 2) + '\n');
  files.push(f);
  return { results, json, files, interrupted };
}
