// The bodies of `actmax maximize` and `actmax exact`, loaded only when one of them runs: they
// bring in TF.js, the engines, the solvers and the priors.
import path from 'node:path';
import { ActmaxError } from '../../errors.js';
import type { ActmaxModel } from '../../model/types.js';
import { objectiveContext, parseObjectiveFor } from '../../objectives/check.js';
import { maximize, type StepInfo } from '../../optimize/maximize.js';
import type { OptimizerName } from '../../optimize/optimizers.js';
import type { EngineChoice } from '../../engine/select.js';
import { readInputFile } from '../../io/inputs.js';
import { writeRunFiles } from '../../io/results.js';
import { runJson } from '../../io/result-json.js';
import { addValueWithoutPrior } from '../../prior/compare.js';
import type { Constraint } from '../../constraints/constraint.js';
import { frameSteps } from '../../image/animation.js';
import { writeImageFiles } from '../../image/files.js';
import { isImageShape } from '../../io/raster.js';
import { EXIT } from '../exit.js';
import type { ModelFlags } from '../model-options.js';
import { progressBar } from '../render.js';
import { parseConstraint, parseInit } from '../specs.js';
import { parsePrior } from '../prior-spec.js';
import { expandUnits, imageOptionsFromFlags, type ImageFlags } from '../image-flags.js';
import { runExact } from './exact.js';

type Io = { out: (s: string) => void; err: (s: string) => void };

export interface ExactCliOptions extends ModelFlags {
  objective: string;
  constraint: string[];
  timeLimit: number;
  gap: number;
  warmStart: boolean;
  method: 'auto' | 'bnb' | 'milp';
  threads?: number;
  init?: string;
  input?: string;
  optimize?: string;
  prior?: string;
  out: string;
  json?: boolean;
}

/** What maximize and exact share on the command line: start, constraints, optimised and held inputs. */
async function parseProblem(model: ActmaxModel, o: { init?: string; constraint: string[]; input?: string; optimize?: string; prior?: string }) {
  const init = await parseInit(o.init, model);
  const refForMask = typeof init === 'object' && 'input' in init ? Array.from(init.input) : undefined;
  const constraints: Constraint[] = [];
  for (const c of o.constraint) constraints.push(await parseConstraint(c, model, refForMask));
  const prior = o.prior === undefined ? null : await parsePrior(o.prior, model);
  if (prior) constraints.push(prior.constraint);
  const fixed = o.input ? await readInputFile(o.input, model) : undefined;
  // With held inputs given and no --optimize, the others are optimised.
  const optimize = o.optimize ? o.optimize.split(',').map((s) => s.trim()) : fixed ? model.inputs.map((i) => i.name).filter((n) => !(n in fixed)) : undefined;
  const inputs = fixed ? Object.fromEntries(Object.entries(fixed).map(([k, v]) => [k, Array.from(v)])) : undefined;
  return { init, constraints, optimize, inputs, dispose: () => prior?.dispose() };
}

/** Ctrl-C / SIGTERM abort the run (which then writes the best so far); `release` restores the default handling. */
function onInterrupt(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    release() {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}

/**
 * `actmax exact`: the certified maximum of each target; prints one line per target (or JSON) and writes the run files.
 *
 * @example
 * await withModel(file, flags, (model) => exactCommand(model, { ...flags, objective: 'logit:1', constraint: [], timeLimit: 60, gap: 0, warmStart: true, method: 'auto', out: 'actmax-out' }, io));
 */
export async function exactCommand(model: ActmaxModel, o: ExactCliOptions, io: Io): Promise<void> {
  const targets = parseObjectiveFor(o.objective, model);
  if (!(o.timeLimit > 0)) throw new ActmaxError('bad-option', `--time-limit must be a positive number of seconds, got ${o.timeLimit}`);
  const { constraints, optimize, inputs, dispose } = await parseProblem(model, o);
  const interrupt = onInterrupt();
  const tty = !o.json && process.stderr.isTTY;
  let last = 0;
  try {
    const { results, json, files, interrupted } = await runExact(model, targets, o.out, {
      constraints,
      timeLimit: o.timeLimit,
      gapTolerance: o.gap,
      warmStart: o.warmStart,
      method: o.method,
      threads: o.threads,
      optimize,
      inputs,
      signal: interrupt.signal,
      onProgress: (t, line) => {
        if (!tty || Date.now() - last < 250) return;
        last = Date.now();
        process.stderr.write(`\r\x1b[K[${t + 1}/${targets.length}] ${line}`);
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    if (o.json) io.out(JSON.stringify(json) + '\n');
    else {
      for (const r of results) {
        const v = r.value === null ? 'none found' : r.value.toPrecision(8);
        io.out(`${r.objective}: ${r.status}  value ${v}  upper bound ${r.upperBound?.toPrecision(8) ?? '-'}  gap ${r.gap === null ? '-' : (100 * r.gap).toFixed(3) + '%'}  (${r.solveSeconds.toFixed(1)} s, ${r.nodes} nodes)\n`);
      }
      io.out(`wrote ${files.map((f) => path.relative(process.cwd(), f) || f).join(', ')}\n`);
    }
    if (interrupted) {
      io.err('interrupted: wrote the best result so far\n');
      process.exitCode = EXIT.interrupted;
    }
  } finally {
    interrupt.release();
    dispose();
  }
}

export interface MaximizeCliOptions extends ModelFlags {
  objective: string;
  constraint: string[];
  steps: number;
  restarts: number;
  optimizer: OptimizerName;
  lr?: number;
  seed: number;
  init: string;
  input?: string;
  optimize?: string;
  out: string;
  json?: boolean;
  engine: EngineChoice;
  // Image pipeline (issue 5)
  image: string;
  param?: string;
  transform: string[];
  regularizer: string[];
  units?: string;
  animate?: number;
  prior?: string;
  /** False with --no-polish. */
  polish?: boolean;
}

/**
 * `actmax maximize`: gradient search for each target; prints the values (or JSON) and writes the run and image files.
 *
 * @example
 * await withModel(file, flags, (model) => maximizeCommand(model, options, io)); // options: the parsed `actmax maximize` flags
 */
export async function maximizeCommand(model: ActmaxModel, o: MaximizeCliOptions, io: Io): Promise<void> {
  const targets = o.units !== undefined ? expandUnits(o.objective, o.units, objectiveContext(model)) : parseObjectiveFor(o.objective, model);
  const image = imageOptionsFromFlags(model, o as ImageFlags);
  const pictures = isImageShape(model.inputs[0].shape);
  const { init, constraints, optimize, inputs, dispose } = await parseProblem(model, o);
  const interrupt = onInterrupt();
  const bar = progressBar(o.steps, 'maximize', !o.json);
  try {
    const options = {
      steps: o.steps,
      restarts: o.restarts,
      optimizer: o.optimizer,
      lr: o.lr,
      seed: o.seed,
      init,
      constraints,
      optimize,
      inputs,
      signal: interrupt.signal,
      engine: o.engine,
      onStep: (s: StepInfo) => bar.update(s.step + 1, Math.max(...s.best)),
      image,
      keepRestarts: pictures && o.restarts > 1,
      ...(o.polish === false ? { polish: false } : {}),
      ...(o.animate !== undefined ? { frames: frameSteps(o.steps, o.animate) } : {}),
    };
    const run = await maximize(model, targets, options);
    bar.stop();
    // Honesty: what the same search reaches without the prior.
    if (run.prior && !run.interrupted) await addValueWithoutPrior(model, targets, { ...options, signal: interrupt.signal }, run);
    const files = await writeRunFiles(o.out, run, model);
    files.push(...(await writeImageFiles(o.out, run, model)));
    if (o.json) io.out(JSON.stringify(runJson(run, model.source)) + '\n');
    else {
      if (run.prior) io.out(`prior: ${run.prior.description}\n`);
      // What the end-of-run polish added, where it raised the search's best.
      const polished = (t: number) => {
        const p = run.polish?.targets[t];
        return p && p.before !== null && p.after !== null && p.after > p.before ? ` (polished from ${p.before.toPrecision(6)})` : '';
      };
      run.results.forEach((r, t) => io.out(`${r.objective}: ${r.value.toPrecision(6)}${polished(t)}${r.unrounded ? ` (before rounding ${r.unrounded.value.toPrecision(6)})` : ''}${r.withoutPrior ? ` (without the prior ${r.withoutPrior.value.toPrecision(6)})` : ''}\n`));
      io.out(`wrote ${files.map((f) => path.relative(process.cwd(), f) || f).join(', ')}\n`);
    }
    if (run.interrupted) {
      io.err('interrupted: wrote the best result so far\n');
      process.exitCode = EXIT.interrupted;
    }
  } finally {
    bar.stop();
    interrupt.release();
    dispose();
  }
}
