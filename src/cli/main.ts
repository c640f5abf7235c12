import { Command, CommanderError, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { useBackend, type BackendName } from '../backend.js';
import { ActmaxError, isActmaxError } from '../errors.js';
import { tapShape } from '../model/activations.js';
import { inputShapeOption, layoutOption, withModel, type ModelFlags } from './model-options.js';
import type { ActmaxModel } from '../model/types.js';
import { OBJECTIVE_GRAMMAR } from '../objectives/parse.js';
import { objectiveContext, parseObjectiveFor } from '../objectives/check.js';
import { maximize, type StepInfo } from '../optimize/maximize.js';
import type { OptimizerName } from '../optimize/optimizers.js';
import type { EngineChoice } from '../engine/select.js';
import { readInputFile } from '../io/inputs.js';
import { writeRunFiles } from '../io/results.js';
import { runJson } from '../io/result-json.js';
import { toTfjsLayers } from '../model/convert.js';
import { startServer } from './serve.js';
import { startDirServer } from './serve-dir.js';
import { registerAtlasCommands } from './commands/atlas.js';
import { PACKAGE_ROOT } from './paths.js';
import { writeFileAtomic } from '../io/atomic.js';
import { CONSTRAINT_GRAMMAR, parseConstraint, parseInit } from './specs.js';
import { PRIOR_GRAMMAR, parsePrior } from './prior-spec.js';
import { addValueWithoutPrior } from '../prior/compare.js';
import { datasetPriorPath } from '../prior/dataset.js';
import { promises as fs } from 'node:fs';
import { renderInspect } from './commands/inspect.js';
import { predictOnce } from './commands/predict.js';
import { runDemo, DEMO_SETTINGS } from './commands/demo.js';
import { runExact } from './commands/exact.js';
import { progressBar } from './render.js';
import type { Constraint } from '../constraints/constraint.js';
// Image pipeline (issue 5)
import { PARAM_GRAMMAR, REGULARIZER_GRAMMAR, TRANSFORM_GRAMMAR } from '../pipeline/specs.js';
import { expandUnits, imageOptionsFromFlags, type ImageFlags } from './image-flags.js';
import { frameSteps } from '../image/animation.js';
import { writeImageFiles } from '../image/files.js';
import { isImageShape } from '../io/raster.js';

/** Exit codes: 0 ok, 1 bug, 2 a problem the user can fix, 130 interrupted. */
export const EXIT = { ok: 0, bug: 1, usage: 2, interrupted: 130 } as const;

function int(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new ActmaxError('bad-option', `--${name} must be a non-negative integer, got "${v}"`);
    return Number(v);
  };
}
function float(name: string) {
  return (v: string) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new ActmaxError('bad-option', `--${name} must be a number, got "${v}"`);
    return x;
  };
}
const collect = (v: string, prev: string[]) => [...prev, v];

const backendOption = () => new Option('--backend <name>', 'TF.js backend').choices(['wasm', 'cpu', 'tensorflow']).default('wasm');

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Build the CLI program (exported for tests). */
export function buildProgram(io: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command();
  program
    .name('actmax')
    .description('Find the input that makes a trained network\'s output as large as possible, under constraints.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError(false);

  program
    .command('inspect')
    .description('show inputs (shape, range), layers, outputs (with class names) and objective specs valid for a model')
    .argument('<model>', 'model.json (or its directory), .keras or .h5 file')
    .option('--json', 'print one JSON document')
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, o: { json?: boolean } & ModelFlags) => {
      await withModel(file, o, async (model) => {
        const prior = await datasetPriorPath(model.source);
        const exists = prior ? await fs.stat(prior).then(() => true, () => false) : false;
        io.out(renderInspect(model, !!o.json, exists ? prior : null) + '\n');
      });
    });

  program
    .command('predict')
    .description("run the model on an input: all outputs, or one layer's activation")
    .argument('<model>')
    .requiredOption('--input <file>', 'input as .json (flat, nested or {name: values}), .png or .csv')
    .option('--layer <name>', "print this layer's activation instead of the outputs")
    .option('--json', 'print one JSON document')
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, o: { input: string; layer?: string; json?: boolean } & ModelFlags) => {
      await withModel(file, o, async (model) => {
        const values = await readInputFile(o.input, model);
        const res = await predictOnce(model, values, o.layer);
        if (o.json) {
          io.out(JSON.stringify(o.layer ? { activation: res.activation } : { outputs: res.outputs }) + '\n');
          return;
        }
        if (o.layer) {
          io.out(`${o.layer}: [${res.activation!.map((v) => v.toPrecision(5)).join(', ')}]\n`);
          return;
        }
        for (const out of model.outputs) {
          const v = res.outputs[out.name];
          const top = v.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p).slice(0, 5);
          io.out(`${out.name}:\n` + top.map((t) => `  ${t.i}${out.classNames ? ` ${out.classNames[t.i]}` : ''}: ${t.p.toPrecision(5)}`).join('\n') + '\n');
        }
      });
    });

  program
    .command('maximize')
    .description('find inputs that maximise an objective by projected gradient ascent')
    .argument('<model>')
    .requiredOption('--objective <spec>', OBJECTIVE_GRAMMAR)
    .option('--constraint <spec>', CONSTRAINT_GRAMMAR, collect, [])
    .option('--prior <spec>', `answers that look like the data: ${PRIOR_GRAMMAR}`)
    .option('--steps <n>', 'gradient steps', int('steps'), 150)
    .option('--restarts <n>', 'random restarts per target (one batch; the best is kept)', int('restarts'), 6)
    .addOption(new Option('--optimizer <name>', 'step rule').choices(['adam', 'sgd', 'normalized', 'sign']).default('adam'))
    .option('--lr <x>', 'step size in units of the input range', float('lr'))
    .option('--seed <n>', 'random seed (same seed ⇒ same result)', int('seed'), 0)
    .option('--init <spec>', 'random | const:V | FILE', 'random')
    .option('--input <file>', 'values of inputs that are not optimised (JSON keyed by input name)')
    .option('--optimize <names>', 'comma-separated model inputs to optimise (default: all)')
    .option('--out <dir>', 'output directory', 'actmax-out')
    .option('--json', 'print the result as one JSON document on stdout')
    .addOption(new Option('--engine <name>', 'compute engine: auto = ONNX (onnxruntime) when every op of the model, objective and image pipeline compiles to it, else TF.js (the result says which ran and why); tfjs or onnx force one').choices(['auto', 'tfjs', 'onnx']).default('auto'))
    // Image pipeline (issue 5)
    .addOption(new Option('--image <mode>', 'image machinery: auto (defaults from the input shape, shown by `actmax inspect`) or none').choices(['auto', 'none']).default('auto'))
    .option('--param <spec>', PARAM_GRAMMAR)
    .option('--transform <spec>', TRANSFORM_GRAMMAR, collect, [])
    .option('--regularizer <spec>', REGULARIZER_GRAMMAR, collect, [])
    .option('--units <list>', 'with --objective channel:LAYER or neuron:LAYER: render these units in one batch (all, or e.g. 0-7,12); writes atlas.png')
    .option('--animate <frames>', 'also write animation.gif with this many frames of the optimisation', int('animate'))
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, o: MaximizeCliOptions) => {
      await withModel(file, o, (model) => maximizeCommand(model, o, io));
    });

  program
    .command('exact')
    .description('the certified global maximum for piecewise-linear (ReLU) networks: branch-and-bound with SDP bounds (one hidden ReLU layer) or mixed-integer programming (HiGHS)')
    .argument('<model>')
    .requiredOption('--objective <spec>', 'a linear objective: logit:K, margin:K, neuron:LAYER:I, or weighted sums of them')
    .option('--constraint <spec>', CONSTRAINT_GRAMMAR + ' (L2 balls are not linear: not supported here)', collect, [])
    .option('--prior <spec>', `answers that look like the data (subspace priors only; z is the solver's variables): ${PRIOR_GRAMMAR}`)
    .option('--time-limit <s>', 'seconds for the solve per target', float('time-limit'), 60)
    .option('--gap <x>', 'stop and report optimal when (bound − value)/|value| ≤ x', float('gap'), 0)
    .option('--no-warm-start', 'start the solver cold (default: gradient search first)')
    .addOption(new Option('--method <name>', 'solver: auto = branch-and-bound where it applies (one hidden ReLU layer, linear objective, box/linear constraints), else the MILP').choices(['auto', 'bnb', 'milp']).default('auto'))
    .option('--threads <n>', 'worker threads of the branch-and-bound (default: the cores; 0 = the main thread)', int('threads'))
    .option('--init <spec>', 'reference for mask constraints: FILE')
    .option('--input <file>', 'values of inputs that are not optimised (JSON keyed by input name)')
    .option('--optimize <names>', 'comma-separated model inputs to optimise (default: all)')
    .option('--out <dir>', 'output directory', 'actmax-out')
    .option('--json', 'print the result as one JSON document on stdout')
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, o: ExactCliOptions) => {
      await withModel(file, o, (model) => exactCommand(model, o, io));
    });

  program
    .command('convert')
    .description('write a model (.keras, .h5, TF.js) as a TF.js layers model (model.json + weights.bin) for the browser')
    .argument('<model>')
    .argument('<outDir>')
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, outDir: string, o: ModelFlags) => {
      await withModel(file, o, async (model) => {
        const files = await toTfjsLayers(model);
        // Weights first, model.json last: a reader never sees a model.json without its weights.
        await writeFileAtomic(path.join(outDir, 'weights.bin'), files['weights.bin']);
        await writeFileAtomic(path.join(outDir, 'model.json'), files['model.json']);
        io.out(`wrote ${path.join(outDir, 'model.json')} and weights.bin (${files['weights.bin'].byteLength} bytes) from ${model.format}\n`);
      });
    });

  program
    .command('serve')
    .description('serve the web playground (and the bundled model), or a folder such as an atlas, on this machine; prints the URL')
    .argument('[dir]', 'a folder of static pages to serve instead of the playground (e.g. actmax atlas --out DIR)')
    .option('--port <n>', 'port (0 = any free port)', int('port'), 8080)
    .option('--host <h>', 'address to bind (other machines can reach 0.0.0.0 — only use it on a trusted network)', '127.0.0.1')
    .action(async (dir: string | undefined, o: { port: number; host: string }) => {
      const log = (s: string) => io.out(s + '\n');
      const running = dir ? await startDirServer({ dir, port: o.port, host: o.host, log }) : await startServer({ port: o.port, host: o.host, root: PACKAGE_ROOT, log });
      await new Promise<void>((resolve) => {
        const stop = () => void running.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('demo')
    .description('every class of the bundled Fashion-MNIST model, maximised in one batched run; writes grid.png and report.json')
    .option('--out <dir>', 'output directory', 'actmax-out')
    .option('--prior <spec>', `answers that look like the data, e.g. dataset:subspace:32 or decoder:models/fashion-mnist-decoder; ${PRIOR_GRAMMAR}`)
    .addOption(backendOption())
    .action(async (o: { out: string; backend: BackendName; prior?: string }) => {
      await useBackend(o.backend);
      const bar = progressBar(DEMO_SETTINGS.steps, 'demo', true);
      const { rows, text, files } = await runDemo(o.out, (s) => bar.update(s, NaN), o.prior);
      bar.stop();
      io.out(text + '\n');
      io.out(`wrote ${files.join(', ')}\n`);
      const weak = rows.filter((r) => r.probability < 0.99);
      if (weak.length) io.err(`warning: ${weak.map((r) => r.name).join(', ')} reached p < 0.99\n`);
    });
  registerAtlasCommands(program, io);
  return program;
}

interface ExactCliOptions extends ModelFlags {
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

async function exactCommand(model: ActmaxModel, o: ExactCliOptions, io: { out: (s: string) => void; err: (s: string) => void }): Promise<void> {
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

interface MaximizeCliOptions extends ModelFlags {
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
}

async function maximizeCommand(model: ActmaxModel, o: MaximizeCliOptions, io: { out: (s: string) => void; err: (s: string) => void }): Promise<void> {
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
      for (const r of run.results) io.out(`${r.objective}: ${r.value.toPrecision(6)}${r.unrounded ? ` (before rounding ${r.unrounded.value.toPrecision(6)})` : ''}${r.withoutPrior ? ` (without the prior ${r.withoutPrior.value.toPrecision(6)})` : ''}\n`);
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

/**
 * Run the CLI with arguments; returns the exit code. ActmaxError → one line on stderr, exit 2.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: string[], io = { out: (s: string) => void process.stdout.write(s), err: (s: string) => void process.stderr.write(s) }): Promise<number> {
  // TF.js's production mode: no "Hi, looks like you are running TensorFlow.js in Node.js" banner
  // (printed on the CPU backend's first use) and no other TF.js console chatter on stderr.
  tf.enableProdMode();
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT.ok;
      return EXIT.usage; // commander already printed its one-line message
    }
    if (isActmaxError(e)) {
      io.err(`actmax: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT.usage;
    }
    io.err(`actmax: internal error (a bug; please report it):\n${(e as Error).stack ?? String(e)}\n`);
    return EXIT.bug;
  }
}

const isMain = process.argv[1] && /(?:^|[\\/])main\.(?:ts|js)$/.test(process.argv[1]);
if (isMain) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
