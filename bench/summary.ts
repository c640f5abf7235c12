import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machine, root, rows, type Row } from './common.js';
import { TORCH_REFERENCE } from './torch.js';
import { realModelTable, type RealRow } from './realworld.js';

/* The summary tables printed at the end and written to BENCHMARKS.md. */

function fmt(n: number | undefined): string {
  return n === undefined ? '—' : Math.round(n).toLocaleString('en-US');
}

const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(' / ');

/** Print the tables and write BENCHMARKS.md (sections other benches wrote after it are kept). @example summary(performance.now()) */
export function summary(started: number, extra: string[] = [], sections: string[] | null = null): void {
  const torch = rows.filter((r) => r.bench === 'torch' && r.backend !== 'unavailable');
  const lines: string[] = [];
  lines.push(`Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}. ${new Date().toISOString().slice(0, 10)}.`);
  lines.push('');
  if (sections) lines.push(`This run measured only the bench sections ${sections.join(', ')} (BENCH_SECTIONS); tables of the others are absent.`, '');
  lines.push(`Load average at the start: ${loadAtStart}, at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}; other processes share these cores, so the per-CPU-second columns (this process's CPU time, all threads) are the steadier figures.`);
  throughputTable(lines, torch);
  defaultPathTable(lines);
  playgroundTable(lines);
  type Reach = { step: number; seconds: number; cpuSeconds: number } | null;
  type Ttq = Row & { settings: string; wallSeconds: number; cpuSeconds: number; worstRatio: number; classesWithin0_1pct: number; steps: number; restarts: number; allTo99: Reach; allTo999: Reach; reference: { steps: number; restarts: number } };
  const ttqs = rows.filter((r) => r.bench === 'time-to-quality') as Ttq[];
  if (ttqs.length) {
    const reach = (r: Reach) => (r ? `step ${r.step}, ${r.seconds} s (${r.cpuSeconds} CPU-s)` : 'not reached');
    lines.push('');
    lines.push(`Time to quality: all 10 classes of the bundled model, box [0, 1], one batch; value relative to the best of a ${ttqs[0].reference.restarts} restarts × ${ttqs[0].reference.steps} steps run. Seconds from the \`maximize\` call (engine building included); on the fused path progress is seen at chunk ends.`);
    lines.push('');
    lines.push('| settings | engine | steps × restarts | all classes ≥ 99 % | all classes ≥ 99.9 % | final: classes within 0.1 % (worst ratio) | wall s | CPU s |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const t of ttqs) lines.push(`| ${t.settings} | ${t.engine} | ${t.steps} × ${t.restarts} | ${reach(t.allTo99)} | ${reach(t.allTo999)} | ${t.classesWithin0_1pct}/10 (${t.worstRatio}) | ${t.wallSeconds} | ${t.cpuSeconds} |`);
  }
  lines.push(...realModelTable(rows.filter((r) => r.bench === 'real-model') as unknown as RealRow[]));
  const demoRow = rows.find((r) => r.bench === 'demo') as (Row & { wallSeconds: number; cpuSeconds: number; ok: boolean; runner: string }) | undefined;
  if (demoRow) {
    lines.push('');
    lines.push(`\`actmax demo\` end to end (process start to files written, ${demoRow.runner}): ${demoRow.wallSeconds} s wall, ${demoRow.cpuSeconds} CPU-s${demoRow.ok ? '' : ' — FAILED'}.`);
  }
  if (extra.length) lines.push('', ...extra);
  lines.push('');
  lines.push(`Bench wall time: ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  const table = lines.join('\n');
  console.log('\n' + table);
  const file = path.join(root, 'BENCHMARKS.md');
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  fs.writeFileSync(file, sections ? withPartialRun(old, table, sections) : withFullRun(old, table));
}

/** A full run replaces the top of BENCHMARKS.md; sections written by other benches (## Exact mode …) stay. */
function withFullRun(old: string, table: string): string {
  const kept = old.indexOf('\n## ') >= 0 ? old.slice(old.indexOf('\n## ')) : '';
  return `# Benchmarks\n\nLatest \`npm run bench\` (every figure: one process, this machine; JSON lines on stdout carry the details).\n\n${table}\n${kept}`;
}

/** A BENCH_SECTIONS run gets its own section (replacing the previous partial run's), so the full run's tables stay. */
function withPartialRun(old: string, table: string, sections: string[]): string {
  const models = process.env.BENCH_REAL_MODELS ? ` BENCH_REAL_MODELS=${process.env.BENCH_REAL_MODELS}` : '';
  const mark = `\n## Latest partial run: \`BENCH_SECTIONS=${sections.join(',')}${models} npm run bench\`\n`;
  const section = `${mark}\n${table}\n`;
  const base = old || '# Benchmarks\n';
  const at = base.indexOf(mark);
  if (at >= 0) {
    const next = base.indexOf('\n## ', at + mark.length);
    return base.slice(0, at) + section + (next >= 0 ? base.slice(next) : '');
  }
  const first = base.indexOf('\n## ');
  return first >= 0 ? base.slice(0, first) + section + base.slice(first) : base + section;
}

/** The plain loop per engine/backend/batch, with PyTorch's rows (absent when no throughput row was measured). */
/** The BLAS the PyTorch rows ran with (bench/torch.ts records it per row). */
function blasOf(torch: Row[]): string {
  return [...new Set(torch.map((t) => String(t.blas ?? 'unknown')))].join(', ');
}

function throughputTable(lines: string[], torch: Row[]): void {
  const measured = rows.filter((x) => x.bench === 'throughput' || x.bench === 'classic-loop' || (x.bench === 'torch' && x.backend !== 'unavailable' && !x.pipeline));
  if (!measured.length) return;
  // PyTorch's plain loop (not the image-pipeline peers of the default-path table) at its best thread count.
  const plain = torch.filter((t) => !t.pipeline);
  const torchRate = (model: string, batch: number) => {
    const best = plain.filter((t) => t.model === model && t.batch === batch).map((t) => t.imageStepsPerSec ?? 0);
    return best.length ? Math.max(...best) : TORCH_REFERENCE.find((t) => t.model === model && t.batch === batch)?.imageStepsPerSec;
  };
  lines.push('');
  lines.push('Image-steps/s of gradient ascent on the input (forward + input gradient + Adam + box projection, `maximize` end to end, steady state: a long run minus a short one).');
  lines.push('`onnx (fused)`: several steps per onnxruntime call (optimiser, clip and best tracking inside the graph); `onnx (per-step JS update)`: one call per step, optimiser and projection in JavaScript.');
  lines.push(`PyTorch column: ${plain.length ? `measured in this run (bench/peers/torch_loop.py, Debian python3-torch; its BLAS: ${blasOf(plain)} — with Debian's reference BLAS it is several times slower than with libopenblas0-pthread), at its best thread count` : 'reference figures from the shared notes (PyTorch 1.13, 1 thread; not installed here)'}.`);
  lines.push('');
  lines.push('| model | batch | engine | backend | threads | image-steps/s (wall) | image-steps per CPU-s | × PyTorch (wall) |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of measured) {
    const t = torchRate(r.model, r.batch);
    lines.push(`| ${r.model} | ${r.batch} | ${r.engine} | ${r.backend} | ${r.threads} | ${fmt(r.imageStepsPerSec)} | ${fmt(r.imageStepsPerCpuSec as number | undefined)} | ${t && r.imageStepsPerSec ? (r.imageStepsPerSec / t).toFixed(2) : '—'} |`);
  }
}

/** The CLI default path (image defaults on) vs --image none and PyTorch's same loop, on as many threads as ours and at its best. */
function defaultPathTable(lines: string[]): void {
  const ours = rows.filter((r) => r.bench === 'default-path');
  if (!ours.length) return;
  const peers = rows.filter((r) => r.bench === 'torch' && r.pipeline);
  lines.push('');
  lines.push('The CLI default path: `maximize --objective logit:all` with the image defaults on (28×28: pixels, every row its own ±2 px jitter each step with the background filled in, TV 0.5, Adam, clip to [0, 1]), engine `auto`; steady-state image-steps/s. `--image none` is the same run without the pipeline. PyTorch runs the same loop (per-row jitter by `gather` on the padded picture or by `grid_sample`, TV by slices, autograd, Adam, clamp) in this run, on 1 and 2 threads; shown: its best jitter on as many threads as our engine used, and its best overall.' + (peers.length ? ` PyTorch's BLAS: ${blasOf(peers)}.` : ''));
  lines.push('');
  lines.push('Ratios: wall, per CPU-s in brackets. The last column is `--image none` over the default path (the issue asks for ≤ 1.5).');
  lines.push('');
  lines.push('| model | batch | image | engine | image-steps/s (wall) | per CPU-s | PyTorch, same threads | × PyTorch (same threads) | PyTorch best (wall) | × PyTorch best | `--image none` ÷ this |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const fastest = (list: Row[]) => list.sort((a, b) => (b.imageStepsPerSec ?? 0) - (a.imageStepsPerSec ?? 0))[0] as Row | undefined;
  const cpu = (r: Row | undefined) => r?.imageStepsPerCpuSec as number | undefined;
  const text = (p: Row | undefined) => (p ? `${fmt(p.imageStepsPerSec)}; ${fmt(cpu(p))} per CPU-s (${String(p.jitter)}, ${p.threads} thread${p.threads === 1 ? '' : 's'})` : '—');
  /** Our rate over another's, wall (CPU in brackets). */
  const ratio = (a: Row, b: Row | undefined) => (b?.imageStepsPerSec ? `${((a.imageStepsPerSec ?? 0) / b.imageStepsPerSec).toFixed(2)}${cpu(b) && cpu(a) ? ` (${(cpu(a)! / cpu(b)!).toFixed(2)})` : ''}` : '—');
  for (const r of ours) {
    const mine = peers.filter((p) => p.model === r.model && p.batch === r.batch);
    const threads = Number(/-(\d+)t$/.exec(r.engine)?.[1] ?? NaN);
    const same = r.image === 'auto' ? fastest(mine.filter((p) => p.threads === threads)) : undefined;
    const best = r.image === 'auto' ? fastest(mine) : undefined;
    const none = r.image === 'auto' ? ours.find((o) => o.model === r.model && o.image === 'none') : undefined;
    // `--image none` over the default path: the issue's "within 1.5×".
    const vsNone = none ? ratio(none, r) : '—';
    lines.push(`| ${r.model} | ${r.batch} | ${r.image} | ${r.engine} | ${fmt(r.imageStepsPerSec)} | ${fmt(cpu(r))} | ${text(same)} | ${ratio(r, same)} | ${text(best)} | ${ratio(r, best)} | ${vsNone} |`);
  }
}

/** The playground's own status line in headless Chromium, per engine. */
function playgroundTable(lines: string[]): void {
  const runs = rows.filter((r) => r.bench === 'playground' && r.imageStepsPerSec !== undefined);
  if (!runs.length) return;
  const tfjs = runs.find((r) => /^tfjs/.test(r.engine));
  lines.push('');
  lines.push(`The playground (\`actmax serve\`, headless Chromium, bundled model, the page's default objective and restarts, ${String(runs[0].steps)} steps): image-steps/s of the search as the page's status line reports it when the run is done (setup — loading the runtime, compiling the graph — apart).`);
  lines.push('');
  lines.push('| engine | threads | rows | image-steps/s | setup s | × TF.js | × 744 (issue 12) | cross-origin isolated, cores | load (1 min) |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    const load = r.load1 as number | undefined;
    lines.push(`| ${r.engine} | ${r.threads} | ${r.batch} | ${fmt(r.imageStepsPerSec)} | ${String(r.setupSeconds)} | ${tfjs?.imageStepsPerSec ? ((r.imageStepsPerSec ?? 0) / tfjs.imageStepsPerSec).toFixed(1) : '—'} | ${((r.imageStepsPerSec ?? 0) / 744).toFixed(1)} | ${String(r.crossOriginIsolated)}, ${String(r.cores)} | ${load ?? '—'} |`);
  }
}
