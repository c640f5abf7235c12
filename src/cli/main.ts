import { Command, CommanderError, Option } from 'commander';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { BackendName } from '../backend.js';
import { ActmaxError, isActmaxError } from '../errors.js';
import { inputShapeOption, layoutOption, withModel, type ModelFlags } from './model-options.js';
import { OBJECTIVE_GRAMMAR } from '../objectives/parse.js';
import { registerAtlasCommands } from './commands/atlas.js';
import { PACKAGE_ROOT } from './paths.js';
import { CONSTRAINT_GRAMMAR, PRIOR_GRAMMAR } from './grammars.js';
import { PARAM_GRAMMAR, REGULARIZER_GRAMMAR, TRANSFORM_GRAMMAR } from '../pipeline/grammar.js';
import { EXIT } from './exit.js';
import type { ExactCliOptions, MaximizeCliOptions } from './commands/search.js';
// Each command's modules are imported inside its action: `--version`, `--help` and a usage error
// load none of TF.js, the engines, the solvers, the queue or h5wasm (a CLI start ≈ 4 CPU s otherwise).

export { EXIT };

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

/** Where the CLI writes: standard output and standard error (tests pass their own). */
type CliIo = { out: (s: string) => void; err: (s: string) => void };

/** Build the CLI program (exported for tests): one register function per command. */
export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .name('actmax')
    .description('Find the input that makes a trained network\'s output as large as possible, under constraints.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError(false);

  registerInspect(program, io);
  registerPredict(program, io);
  registerMaximize(program, io);
  registerExact(program, io);
  registerConvert(program, io);
  registerServe(program, io);
  registerDemo(program, io);
  registerAtlasCommands(program, io);
  return program;
}

/** `actmax inspect MODEL`: inputs, layers, outputs, objective specs, engine. */
function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('show inputs (shape, range), layers, outputs (with class names) and objective specs valid for a model')
    .argument('<model>', 'model.json (or its directory), .keras or .h5 file')
    .option('--json', 'print one JSON document')
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, o: { json?: boolean } & ModelFlags) => {
      const [{ datasetPriorPath }, { renderInspect }, { promises: fs }] = await Promise.all([import('../prior/dataset.js'), import('./commands/inspect.js'), import('node:fs')]);
      await withModel(file, o, async (model) => {
        const prior = await datasetPriorPath(model.source);
        const exists = prior ? await fs.stat(prior).then(() => true, () => false) : false;
        io.out(renderInspect(model, !!o.json, exists ? prior : null) + '\n');
      });
    });
}

/** `actmax predict MODEL --input FILE`: the outputs, or one layer's activation. */
function registerPredict(program: Command, io: CliIo): void {
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
      const [{ readInputFile }, { predictOnce }] = await Promise.all([import('../io/inputs.js'), import('./commands/predict.js')]);
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
}

/** `actmax maximize MODEL --objective SPEC …`: gradient search (src/cli/commands/search.ts). */
function registerMaximize(program: Command, io: CliIo): void {
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
    .option('--no-polish', 'keep the search\'s own best (default: polish it by LPs over activation regions where that applies: one hidden ReLU layer, a linear objective, no image transforms or regularisers; under a subspace prior, in the code)')
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
      const { maximizeCommand } = await import('./commands/search.js');
      await withModel(file, o, (model) => maximizeCommand(model, o, io));
    });
}

/** `actmax exact MODEL --objective SPEC …`: the certified maximum (src/cli/commands/search.ts). */
function registerExact(program: Command, io: CliIo): void {
  program
    .command('exact')
    .description('the certified global maximum for piecewise-linear (ReLU) networks: branch-and-bound with SDP bounds (one hidden ReLU layer) or mixed-integer programming (HiGHS)')
    .argument('<model>')
    .requiredOption('--objective <spec>', 'a linear objective: logit:K, margin:K, neuron:LAYER:I, or weighted sums of them')
    .option('--constraint <spec>', CONSTRAINT_GRAMMAR + ' (L2 balls are not linear: not supported here)', collect, [])
    .option('--prior <spec>', `answers that look like the data (subspace priors only; z is the solver's variables): ${PRIOR_GRAMMAR}`)
    .option('--time-limit <s>', 'seconds for the solve per target', float('time-limit'), 60)
    .option('--gap <x>', 'stop and report optimal when (bound − value)/|value| ≤ x', float('gap'), 0)
    .option('--no-warm-start', 'start the solver cold (default: gradient search first; over a data prior\'s union of boxes, their polished LP maximisers)')
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
      const { exactCommand } = await import('./commands/search.js');
      await withModel(file, o, (model) => exactCommand(model, o, io));
    });
}

/** `actmax convert MODEL OUTDIR`: a TF.js layers model for the browser. */
function registerConvert(program: Command, io: CliIo): void {
  program
    .command('convert')
    .description('write a model (.keras, .h5, TF.js) as a TF.js layers model (model.json + weights.bin) for the browser')
    .argument('<model>')
    .argument('<outDir>')
    .addOption(backendOption())
    .addOption(inputShapeOption())
    .addOption(layoutOption())
    .action(async (file: string, outDir: string, o: ModelFlags) => {
      const [{ toTfjsLayers }, { writeFileAtomic }] = await Promise.all([import('../model/convert.js'), import('../io/atomic.js')]);
      await withModel(file, o, async (model) => {
        const files = await toTfjsLayers(model);
        // Weights first, model.json last: a reader never sees a model.json without its weights.
        await writeFileAtomic(path.join(outDir, 'weights.bin'), files['weights.bin']);
        await writeFileAtomic(path.join(outDir, 'model.json'), files['model.json']);
        io.out(`wrote ${path.join(outDir, 'model.json')} and weights.bin (${files['weights.bin'].byteLength} bytes) from ${model.format}\n`);
      });
    });
}

/** `actmax serve [DIR]`: the playground, or a folder, on this machine. */
function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('serve the web playground (and the bundled model), or a folder such as an atlas, on this machine; prints the URL')
    .argument('[dir]', 'a folder of static pages to serve instead of the playground (e.g. actmax atlas --out DIR)')
    .option('--port <n>', 'port (0 = any free port)', int('port'), 8080)
    .option('--host <h>', 'address to bind (other machines can reach 0.0.0.0 — only use it on a trusted network)', '127.0.0.1')
    .action(async (dir: string | undefined, o: { port: number; host: string }) => {
      const log = (s: string) => io.out(s + '\n');
      const [{ startServer }, { startDirServer }] = await Promise.all([import('./serve.js'), import('./serve-dir.js')]);
      const running = dir ? await startDirServer({ dir, port: o.port, host: o.host, log }) : await startServer({ port: o.port, host: o.host, root: PACKAGE_ROOT, log });
      await new Promise<void>((resolve) => {
        const stop = () => void running.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** `actmax demo`: every class of the bundled model in one batched run. */
function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('every class of the bundled Fashion-MNIST model, maximised in one batched run; writes grid.png and report.json')
    .option('--out <dir>', 'output directory', 'actmax-out')
    .option('--prior <spec>', `answers that look like the data, e.g. dataset:subspace:32 or decoder:models/fashion-mnist-decoder; ${PRIOR_GRAMMAR}`)
    .addOption(backendOption())
    .action(async (o: { out: string; backend: BackendName; prior?: string }) => {
      const [{ useBackend }, { progressBar }, { runDemo, DEMO_SETTINGS }] = await Promise.all([import('../backend.js'), import('./render.js'), import('./commands/demo.js')]);
      await useBackend(o.backend);
      const bar = progressBar(DEMO_SETTINGS.steps, 'demo', true);
      const { rows, text, files } = await runDemo(o.out, (s) => bar.update(s, NaN), o.prior);
      bar.stop();
      io.out(text + '\n');
      io.out(`wrote ${files.join(', ')}\n`);
      const weak = rows.filter((r) => r.probability < 0.99);
      if (weak.length) io.err(`warning: ${weak.map((r) => r.name).join(', ')} reached p < 0.99\n`);
    });
}

/**
 * Run the CLI with arguments; returns the exit code. ActmaxError → one line on stderr, exit 2.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: string[], io = { out: (s: string) => void process.stdout.write(s), err: (s: string) => void process.stderr.write(s) }): Promise<number> {
  const program = buildProgram(io);
  // TF.js's production mode: no "Hi, looks like you are running TensorFlow.js in Node.js" banner
  // (printed on the CPU backend's first use) and no other TF.js console chatter on stderr. Set
  // before any command runs; --help, --version and usage errors never load TF.js.
  program.hook('preAction', async () => {
    (await import('@tensorflow/tfjs')).enableProdMode();
  });
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
