import os from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import type { BackendName } from '../../backend.js';
import { ActmaxError } from '../../errors.js';
import type { AtlasProgress, BatchRunner } from '../../atlas/run.js';
import { ATLAS_DEFAULTS, ATLAS_INTRA_OP_THREADS, WORKER_DEFAULTS } from '../../atlas/defaults.js';
// The model, the engines and the queue (bullmq, ioredis) load when a command runs, not with the CLI.

type Io = { out: (s: string) => void; err: (s: string) => void };

const EXIT_INTERRUPTED = 130;

function int(name: string, min = 0) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new ActmaxError('bad-option', `--${name} must be an integer ≥ ${min}, got "${v}"`);
    return Number(v);
  };
}

function seconds(name: string) {
  return (v: string) => {
    const x = Number(v);
    if (v.trim() === '' || !(x >= 1) || !Number.isFinite(x)) throw new ActmaxError('bad-option', `--${name} must be a number of seconds ≥ 1, got "${v}"`);
    return x;
  };
}

/** "4m05s" / "1h02m" / "12s". */
function duration(s: number): string {
  if (!Number.isFinite(s)) return '-';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/** Seconds left at this run's rate (units recorded by this run per second). */
function eta(p: AtlasProgress): number {
  return p.recorded > 0 ? ((p.total - p.done) * p.seconds) / p.recorded : NaN;
}

/** Units done / total with an ETA: a bar on a terminal, a plain line every 10 s otherwise. */
function unitsBar(enabled: boolean): { update(p: AtlasProgress): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  if (!process.stderr.isTTY) {
    let last = -Infinity;
    return {
      update(p) {
        if (Date.now() - last < 10_000 && p.done < p.total) return;
        last = Date.now();
        process.stderr.write(`atlas: ${p.done}/${p.total} units, ETA ${duration(eta(p))}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar({ format: 'atlas [{bar}] {value}/{total} units | ETA {left}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(p) {
      if (!started) bar.start(p.total, p.done, { left: '-' });
      started = true;
      bar.update(p.done, { left: duration(eta(p)) });
    },
    stop: () => bar.stop(),
  };
}

/** Ctrl-C / SIGTERM abort; `release` restores the default handling. */
function interrupts(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return { signal: controller.signal, release: () => (process.off('SIGINT', abort), process.off('SIGTERM', abort)) };
}

interface AtlasCliOptions {
  out: string;
  layers: string;
  steps: number;
  restarts: number;
  seed: number;
  batch?: number;
  image: 'auto' | 'none';
  examples?: string;
  threads?: number;
  intraOpThreads?: number;
  queue?: string;
  backend: BackendName;
}

async function atlasCommand(file: string, o: AtlasCliOptions, io: Io): Promise<void> {
  if (o.queue && o.threads !== undefined) throw new ActmaxError('bad-option', '--threads sets local threads; with --queue the workers run the batches (actmax worker --threads N)');
  if (o.queue && o.intraOpThreads !== undefined) throw new ActmaxError('bad-option', '--intra-op-threads sets the local threads\' onnxruntime threads; with --queue give it to the workers (actmax worker --intra-op-threads N)');
  const [{ useBackend }, { loadModel }, { modelLocation, runAtlas }] = await Promise.all([import('../../backend.js'), import('../../model/load.js'), import('../../atlas/run.js')]);
  await useBackend(o.backend);
  const model = await loadModel(file);
  const interrupt = interrupts();
  const bar = unitsBar(true);
  let runner: BatchRunner | undefined;
  try {
    runner = o.queue ? await (await import('../../atlas/queue.js')).queueRunner(o.queue, modelLocation(model)) : undefined;
    const layers = o.layers.trim() === 'all' ? 'all' : o.layers.split(',').map((s) => s.trim()).filter(Boolean);
    const summary = await runAtlas(model, {
      out: o.out, layers, steps: o.steps, restarts: o.restarts, seed: o.seed, batchUnits: o.batch, image: o.image, examples: o.examples,
      threads: o.threads, intraOpThreads: o.intraOpThreads, runner, backend: o.backend, signal: interrupt.signal,
      onPlan: (plan, done) => io.err(`atlas ${plan.atlasId}: ${plan.units.length} units in ${plan.layers.length} layers, ${plan.batches.length} batches of ≤ ${plan.settings.batchUnits}; ${done} done already; ${o.queue ? `queue ${o.queue}` : `${o.threads ?? os.availableParallelism()} local threads, ${o.intraOpThreads ?? ATLAS_INTRA_OP_THREADS} onnxruntime thread(s) each`}\n`),
      onProgress: (p) => bar.update(p),
    });
    bar.stop();
    const rate = summary.recorded > 0 ? ` (${((summary.recorded / summary.seconds) * 60).toFixed(1)} units/min)` : '';
    io.out(`${summary.done} of ${summary.total} units in ${path.join(summary.dir, 'index.html')}; ${summary.recorded} this run in ${summary.seconds.toFixed(1)} s${rate}\n`);
    if (interrupt.signal.aborted) {
      io.err(`interrupted: rerun the same command to do the remaining ${summary.total - summary.done} units${o.queue ? ' (queued batches stay in Redis; workers keep running them and a rerun collects them)' : ''}\n`);
      process.exitCode = EXIT_INTERRUPTED;
    }
  } finally {
    bar.stop();
    interrupt.release();
    await runner?.close();
    model.dispose();
  }
}

/**
 * Add `actmax atlas` (every unit of every layer, resumable, local threads or a BullMQ queue) and
 * `actmax worker` (runs queued atlas batches) to the CLI.
 *
 * @example
 * registerAtlasCommands(program, { out: console.log, err: console.error });
 */
export function registerAtlasCommands(program: Command, io: Io): void {
  program
    .command('atlas')
    .description('every unit of every layer (conv channels, dense neurons, outputs) maximised into a static site DIR/index.html; rerun to resume')
    .argument('<model>', 'model file, folder or URL (workers load it from the same place unless given --model)')
    .option('--out <dir>', 'atlas folder (site, manifest.json, unit files)', 'atlas-out')
    .option('--layers <list>', 'all (convolutions, dense layers and outputs) or layer names separated by commas', 'all')
    .option('--steps <n>', 'gradient steps per unit', int('steps', 1), ATLAS_DEFAULTS.steps)
    .option('--restarts <n>', 'restarts per unit (each is shown)', int('restarts', 1), ATLAS_DEFAULTS.restarts)
    .option('--seed <n>', 'random seed (same seed and settings ⇒ same atlas, however many workers)', int('seed'), ATLAS_DEFAULTS.seed)
    .option('--batch <n>', 'units per batch (default: ≈64 rows for small inputs, 16 for images > 64 px)', int('batch', 1))
    .addOption(new Option('--image <mode>', 'auto: image defaults for the input kind (see actmax inspect); none: plain gradient ascent').choices(['auto', 'none']).default('auto'))
    .option('--examples <path>', 'dataset examples (a folder of .png/.json/.csv inputs, or a JSON list): each unit page shows those that excite it most')
    .option('--threads <n>', 'local worker threads (default: the machine\'s cores)', int('threads', 1))
    .option('--intra-op-threads <n>', `onnxruntime threads of each local thread (default ${ATLAS_INTRA_OP_THREADS}: the threads are the parallelism, one per core)`, int('intra-op-threads', 1))
    .option('--queue <url>', 'redis://HOST:PORT: queue the batches for `actmax worker` processes instead of running them here')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(['wasm', 'cpu', 'tensorflow']).default('wasm'))
    .action((file: string, o: AtlasCliOptions) => atlasCommand(file, o, io));

  program
    .command('worker')
    .description('run queued atlas batches (from actmax atlas --queue) until Ctrl-C; start one per machine, as many machines as you like')
    .argument('<redis-url>', 'redis://HOST:PORT, the same as the coordinator\'s --queue')
    .option('--max-batch <n>', 'most units per maximize call on this machine (larger batches run in pieces, with their own seeds)', int('max-batch', 1))
    .option('--threads <n>', 'batches at once, each on a thread holding the model', int('threads', 1), WORKER_DEFAULTS.threads)
    .option('--intra-op-threads <n>', `onnxruntime threads of each worker thread (default ${ATLAS_INTRA_OP_THREADS}: run one worker, or one --threads, per core)`, int('intra-op-threads', 1))
    .option('--model <path>', 'load the model from here instead of the coordinator\'s path or URL (must be the same model)')
    .option('--lock-seconds <s>', 'job lock; a dead worker\'s job moves to another after about this long', seconds('lock-seconds'), WORKER_DEFAULTS.lockSeconds)
    .option('--max-stalled <n>', 'times a job may be recovered from dead workers before it fails', int('max-stalled'), WORKER_DEFAULTS.maxStalled)
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(['wasm', 'cpu', 'tensorflow']).default('wasm'))
    .action(async (url: string, o: { maxBatch?: number; threads: number; intraOpThreads?: number; model?: string; lockSeconds: number; maxStalled: number; backend: BackendName }) => {
      const { runQueueWorker } = await import('../../atlas/worker.js');
      const interrupt = interrupts();
      try {
        const summary = await runQueueWorker(url, { ...o, signal: interrupt.signal, log: (line) => io.out(`${new Date().toISOString()} ${line}\n`) });
        io.out(`stopped after ${summary.jobs} batches (${summary.units} units)\n`);
        if (interrupt.signal.aborted) process.exitCode = EXIT_INTERRUPTED;
      } finally {
        interrupt.release();
      }
    });
}
