/*
 * Atlas benchmark (`npm run bench:atlas`, also run by `npm run bench`): units per minute for the
 * whole of mnist_cnn.keras (362 units: conv 32/64/128, dense 128, output 10) with the atlas
 * defaults, five ways in the same run: in-process with 1 and 2 worker threads, and through a
 * BullMQ queue (a local redis-server) with 1 and 2 `actmax worker` processes, each thread or worker
 * on one onnxruntime intra-op thread (the atlas default); and, for comparison, the former default
 * of one thread with two intra-op threads. The peer of each run is the 1-way run of its mode in
 * the same round (target for the 2-way runs: ≥ 1.7×). The 1-way and 2-way runs alternate for
 * BENCH_ATLAS_ROUNDS rounds (default 2), so a burst of load on this shared machine shows as one
 * round's outlier instead of deciding the verdict; the verdict gives each round's ratio and the
 * median. Threads and workers are started and have loaded the model before the clock starts; the
 * clock stops when the last unit's files are written.
 * Prints one JSON line per run and a table, and writes the "Atlas" section of BENCHMARKS.md.
 * Env: BENCH_ATLAS_STEPS / BENCH_ATLAS_RESTARTS override the defaults (quick runs; the table says so).
 */
import { fixturePath } from '../src/model/testing/fixtures.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { ATLAS_DEFAULTS, planAtlas } from '../src/atlas/plan.js';
import { queueRunner } from '../src/atlas/queue.js';
import { localRunner, runAtlas, type BatchRunner } from '../src/atlas/run.js';
import { ATLAS_INTRA_OP_THREADS } from '../src/atlas/run-batch.js';
import { redisServerPath, startRedis } from '../src/atlas/testing/redis.js';
import { section } from './common.js';
import type { ActmaxModel } from '../src/model/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = fixturePath('keras3-keras-mnist-mlp-cnn/mnist_cnn.keras');
const steps = Number(process.env.BENCH_ATLAS_STEPS ?? ATLAS_DEFAULTS.steps);
const restarts = Number(process.env.BENCH_ATLAS_RESTARTS ?? ATLAS_DEFAULTS.restarts);
const rounds = Math.max(1, Number(process.env.BENCH_ATLAS_ROUNDS ?? 2));
const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version };

interface Row {
  mode: string;
  /** The round (1-based): 1-way and 2-way runs alternate. */
  round: number;
  parallel: number;
  /** onnxruntime intra-op threads of each thread or worker. */
  intraOp: number;
  /** The engines the manifest records (e.g. onnx-1t). */
  engines: string;
  units: number;
  seconds: number;
  unitsPerMinute: number;
  cpuSeconds: number;
  load1: number;
  load1End: number;
}

/** Linux clock ticks per second (getconf CLK_TCK; 100 on every common kernel). */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) of another process, from /proc. */
function procCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS; // utime + stime, all threads
  } catch {
    return 0;
  }
}

const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function timed(model: ActmaxModel, mode: string, round: number, parallel: number, intraOp: number, runner: BatchRunner, otherCpu: () => number): Promise<Row> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), `actmax-bench-atlas-${mode}-`));
  const load1 = +os.loadavg()[0].toFixed(1);
  const c0 = selfCpu() + otherCpu();
  const t0 = performance.now();
  const s = await runAtlas(model, { out, runner, steps, restarts });
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = selfCpu() + otherCpu() - c0;
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as { units: Array<{ engine: string }> };
  const engines = [...new Set(manifest.units.map((u) => u.engine))].join(', ');
  await fs.rm(out, { recursive: true, force: true });
  if (s.done !== s.total) throw new Error(`${mode}: ${s.done} of ${s.total} units`);
  const row = { mode, round, parallel, intraOp, engines, units: s.total, seconds: +seconds.toFixed(1), unitsPerMinute: +((s.total / seconds) * 60).toFixed(1), cpuSeconds: +cpuSeconds.toFixed(1), load1, load1End: +os.loadavg()[0].toFixed(1) };
  console.log(JSON.stringify({ bench: 'atlas', model: 'mnist_cnn.keras', steps, restarts, ...row, machine }));
  return row;
}

/** Warm a runner up: threads or workers start and load the model on a 10-unit atlas of the output layer. */
async function warm(model: ActmaxModel, runner: BatchRunner): Promise<void> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-bench-atlas-warm-'));
  await runAtlas(model, { out, runner, steps: 1, restarts: 1, layers: ['dense_1'], batchUnits: 5 });
  await fs.rm(out, { recursive: true, force: true });
}

async function inProcess(model: ActmaxModel, round: number, threads: number, intraOpThreads = ATLAS_INTRA_OP_THREADS): Promise<Row> {
  const runner = localRunner(model, { threads, intraOpThreads });
  try {
    await warm(model, runner);
    return await timed(model, 'in-process threads', round, threads, intraOpThreads, runner, () => 0);
  } finally {
    await runner.close();
  }
}

async function distributed(model: ActmaxModel, url: string, round: number, workers: number): Promise<Row> {
  const procs: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, [path.join(root, 'bin', 'actmax.js'), 'worker', url], { stdio: 'ignore' }));
  const runner = await queueRunner(url, MODEL);
  try {
    await warm(model, runner);
    return await timed(model, 'queue workers', round, workers, ATLAS_INTRA_OP_THREADS, runner, () => procs.reduce((a, p) => a + procCpu(p.pid!), 0));
  } finally {
    await runner.close();
    await Promise.all(procs.map((p) => new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGINT'); })));
  }
}

function table(rows: Row[]): string {
  const lines = ['| mode | round | threads / workers | intra-op threads each | engine | units | wall s | units/min (wall) | × the 1-way run | CPU s | units per CPU-min | load (1 min) start → end |', '|---|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const peer = rows.find((p) => p.mode === r.mode && p.round === r.round && p.parallel === 1 && p.intraOp === ATLAS_INTRA_OP_THREADS);
    lines.push(`| ${r.mode}${r.intraOp === ATLAS_INTRA_OP_THREADS ? '' : ' (former default)'} | ${r.round} | ${r.parallel} | ${r.intraOp} | ${r.engines} | ${r.units} | ${r.seconds} | ${r.unitsPerMinute} | ${peer ? (r.unitsPerMinute / peer.unitsPerMinute).toFixed(2) : '-'} | ${r.cpuSeconds} | ${((r.units / r.cpuSeconds) * 60).toFixed(1)} | ${r.load1} → ${r.load1End} |`);
  }
  return lines.join('\n');
}

/** The median of some numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One sentence: each mode's 2-way ratio per round and their median against the ≥ 1.7× target, and the former default's rate. */
function verdict(rows: Row[]): string {
  const rate = (mode: string, round: number, parallel: number, intraOp = ATLAS_INTRA_OP_THREADS) => rows.find((r) => r.mode === mode && r.round === round && r.parallel === parallel && r.intraOp === intraOp)?.unitsPerMinute;
  const parts: string[] = [];
  for (const mode of ['in-process threads', 'queue workers']) {
    const ratios: string[] = [];
    const values: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const one = rate(mode, round, 1);
      const two = rate(mode, round, 2);
      if (!one || !two) continue;
      values.push(two / one);
      ratios.push(`${(two / one).toFixed(2)}× (${two} vs ${one} units/min)`);
    }
    if (values.length) parts.push(`${mode}: 2 give ${ratios.join(', ')}${values.length > 1 ? `, median ${median(values).toFixed(2)}×` : ''} one (target ≥ 1.7×)`);
  }
  const former = rate('in-process threads', 1, 1, 2);
  if (former) parts.push(`the former default (one thread, two intra-op threads): ${former} units/min`);
  return `${parts.join('; ')}. Peak load during the runs matters more than the load at start: compare CPU s with wall s × 2.`;
}

async function writeSection(rows: Row[], batchUnits: number): Promise<void> {
  const file = path.join(root, 'BENCHMARKS.md');
  const old = existsSync(file) ? await fs.readFile(file, 'utf8') : '# Benchmarks\n';
  const plan = `${steps} steps × ${restarts} restarts${steps === ATLAS_DEFAULTS.steps && restarts === ATLAS_DEFAULTS.restarts ? ' (the atlas defaults)' : ' (NOT the defaults: BENCH_ATLAS_STEPS/RESTARTS)'}`;
  const section = `<!-- atlas -->
## Atlas

\`npm run bench:atlas\`, ${new Date().toISOString().slice(0, 10)}: every unit of mnist_cnn.keras (362 units) with ${plan}, image defaults (28×28 → pixels, jitter, TV), engine auto (onnx-Nt: the generated ONNX graph on onnxruntime-node with N intra-op threads, as each unit's manifest line records), units packed ${batchUnits} per batch (${batchUnits * restarts} rows, the default for small images). The 1-way and 2-way runs of each mode alternate for ${rounds} round${rounds > 1 ? 's' : ''} (BENCH_ATLAS_ROUNDS); each 2-way run is compared with the 1-way run of its round. Each thread or worker runs onnxruntime on ${ATLAS_INTRA_OP_THREADS} intra-op thread (the atlas default: one worker per core); the row marked "former default" is one thread whose batches got two intra-op threads.
Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}. Threads/workers started and the model loaded before timing; wall time to the last unit's files.
CPU s: this process plus its threads (in-process) or plus the worker processes (queue). Other processes share these cores: compare rows of the same run.
Linux shares the CPU equally between sessions (autogroup scheduling, /proc/sys/kernel/sched_autogroup_enabled), and threads and worker processes started here are in this session: on a busy machine a second thread or worker adds no CPU share, so the wall-clock ratio shows the scheduler; units per CPU-minute shows the cost of the work.

${table(rows)}

${verdict(rows)}
<!-- /atlas -->
`;
  const next = /<!-- atlas -->[\s\S]*<!-- \/atlas -->\n?/.test(old) ? old.replace(/<!-- atlas -->[\s\S]*<!-- \/atlas -->\n?/, section) : `${old.trimEnd()}\n\n${section}`;
  await fs.writeFile(file, next);
}

async function main(): Promise<void> {
  if (!existsSync(MODEL)) {
    console.log(`atlas bench: skipped — ${MODEL} is absent (the shared fixtures are not part of the repository)`);
    return;
  }
  await useBackend('wasm');
  const model = await loadModel(MODEL);
  const plan = planAtlas(model, { steps, restarts });
  console.log(`atlas bench: ${plan.units.length} units, ${plan.batches.length} batches of ${plan.settings.batchUnits}, ${steps} steps × ${restarts} restarts; load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    rows.push(await inProcess(model, round, 1));
    rows.push(await inProcess(model, round, 2));
  }
  rows.push(await inProcess(model, 1, 1, 2));
  if (redisServerPath()) {
    const redis = await startRedis();
    try {
      for (let round = 1; round <= rounds; round++) {
        rows.push(await distributed(model, redis.url, round, 1));
        rows.push(await distributed(model, redis.url, round, 2));
      }
    } finally {
      await redis.stop();
    }
  } else console.log('atlas bench: queue runs skipped — redis-server is absent (apt-get install -y redis-server)');
  model.dispose();
  console.log('\n' + table(rows));
  await writeSection(rows, plan.settings.batchUnits);
}

// BENCH_SECTIONS without `atlas` (bench/common.ts) skips this part of `npm run bench`.
if (section('atlas')) await main();
