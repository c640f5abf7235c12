/**
 * Exact-mode benchmark on the bundled Fashion-MNIST model. Prints one JSON line per solve, then a
 * Markdown summary (the tables of BENCHMARKS.md).
 *
 *   npm run bench:exact                                  # every part below
 *   npm run bench:exact -- --part a --classes 1 --time 60
 *   npm run bench:exact -- --part b --time-b 20 --images 3 --eps 0.02,0.05
 *
 * (a)  the full box [0,1]^784, each class's logit: branch-and-bound and MILP side by side
 *      (`--time` s each, default 60); classes the branch-and-bound does not close are run again
 *      with `--long` s (default 600) and their gap reported.
 * (m)  margin:K on the full box (the MILP: margins are not linear in the logits), `--time` s.
 * (b)  L∞ balls of radius ε around test images, the logit of class (label + 1) mod 10: the
 *      automatic choice (branch-and-bound) and the MILP side by side, `--time-b` s (default 30).
 * (c)  every class under the bundled data prior with its defaults (`--prior dataset:subspace:32`:
 *      z in one of 500 boxes around the clusters' core examples, solved as the max over the boxes), `--time` s: the solvers'
 *      variables are the 32 code values; boxes closed by their interval bound / by a solve / left
 *      open, the largest open box's bound, and the answer's distance to the prior's set.
 * (q)  time to quality of gradient search (`maximize` with its defaults: polish on, and off)
 *      against the proven optima of part (a) (or bench/proven-optima.json); and a check of those
 *      optima from below: 200 restarts × 2000 steps of gradient search must not exceed any.
 *
 * Every line records the load average and the CPU seconds of the whole process (all threads) for
 * that solve: the machine is shared, so wall seconds depend on the load; nodes and CPU seconds hardly do.
 * Part (a)'s table puts the branch-and-bound and the MILP of each class on one line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { maximizeExact, type ExactResult } from '../src/exact/index.js';
import { maximize } from '../src/optimize/maximize.js';
import type { ObjectiveSpec } from '../src/objectives/spec.js';
import { loadDatasetPrior } from '../src/prior/dataset.js';
import { FASHION_CLASS_NAMES, loadFashionMnist, type FashionData } from '../src/data/fashion.js';
import { looksLikeData, realism } from '../src/data/realism.js';
import { latentViolation, subspaceCode, subspacePrior, subspaceResidual } from '../src/prior/subspace.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const part = opt('part', 'all');
const has = (p: string) => part === 'all' || part.split(',').includes(p);
const timeLimit = Number(opt('time', '60'));
const longLimit = Number(opt('long', '600'));
const timeB = Number(opt('time-b', '30'));
const images = Number(opt('images', '10'));
const epsList = opt('eps', '0.02,0.05,0.1').split(',').map(Number);
const classes = opt('classes', '0-9');
const [c0, c1] = classes.includes('-') ? classes.split('-').map(Number) : [Number(classes), Number(classes)];
const classList = Array.from({ length: c1 - c0 + 1 }, (_, i) => c0 + i);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.join(repoRoot, 'models', 'fashion-mnist-mlp');
const optimaFile = path.join(repoRoot, 'bench', 'proven-optima.json');
const backend = await useBackend();
const model = await loadModel(modelDir);
const examples = (JSON.parse(readFileSync(path.join(modelDir, 'examples.json'), 'utf8')) as { examples: Array<{ label: number; testIndex: number; input: number[] }> }).examples;

const load = () => os.loadavg().map((v) => Number(v.toFixed(2)));
const rows: Array<Record<string, unknown>> = [];
// CPU seconds of the whole process (every thread: the solver's workers too) since the last row:
// unlike wall seconds, it hardly depends on what else the shared machine runs.
let cpuMark = process.cpuUsage();
const cpuSince = () => {
  const d = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  return Number(((d.user + d.system) / 1e6).toFixed(1));
};
const line = (extra: Record<string, unknown>, r: ExactResult) => {
  const row = {
    ...extra,
    method: r.method,
    status: r.status,
    value: r.value,
    upperBound: r.upperBound,
    gap: r.gap,
    seconds: Number(r.totalSeconds.toFixed(2)),
    cpuSeconds: cpuSince(),
    solveSeconds: Number(r.solveSeconds.toFixed(2)),
    nodes: r.nodes,
    warmStartValue: r.warmStartValue,
    source: r.source,
    ...(r.bnb ? { rootBound: r.bnb.rootBound, rootSeconds: Number(r.bnb.rootSeconds.toFixed(2)), threads: r.bnb.threads, branchUnits: r.bnb.branchUnits, polish: r.bnb.polish } : {}),
    ...(r.encoding ? { binaries: r.encoding.binaries, unstable: r.encoding.unstable } : {}),
    load: load(),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
};

console.log(JSON.stringify({ bench: 'exact', model: 'models/fashion-mnist-mlp', backend, timeLimit, longLimit, timeB, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverage: load() }));

const logit = (k: number): ObjectiveSpec => ({ kind: 'logit', index: k });
const proven = new Map<number, number>();

if (has('a')) {
  for (const k of classList) {
    const b = await maximizeExact(model, logit(k), { timeLimit, method: 'bnb' });
    line({ part: 'a', constraint: 'box [0,1]^784', objective: `logit:${k}`, timeLimit }, b);
    if (b.status === 'optimal') proven.set(k, b.value!);
    else {
      const long = await maximizeExact(model, logit(k), { timeLimit: longLimit, method: 'bnb' });
      line({ part: 'a', constraint: 'box [0,1]^784', objective: `logit:${k}`, timeLimit: longLimit }, long);
      if (long.status === 'optimal') proven.set(k, long.value!);
    }
    const m = await maximizeExact(model, logit(k), { timeLimit, method: 'milp' });
    line({ part: 'a', constraint: 'box [0,1]^784', objective: `logit:${k}`, timeLimit }, m);
  }
  if (proven.size === 10) writeFileSync(optimaFile, JSON.stringify({ model: 'models/fashion-mnist-mlp', objective: 'logit:K over [0,1]^784', method: 'branch-and-bound (proven)', optima: classList.map((k) => proven.get(k)) }, null, 2) + '\n');
}

if (has('m')) {
  for (const k of classList) {
    const r = await maximizeExact(model, { kind: 'margin', index: k }, { timeLimit });
    line({ part: 'm', constraint: 'box [0,1]^784', objective: `margin:${k}`, timeLimit }, r);
  }
}

if (has('b')) {
  // One image per class (examples.json holds two per class, in class order).
  const picked = examples.filter((_, i) => i % 2 === 0).slice(0, images);
  for (const eps of epsList) {
    for (const ex of picked) {
      const target = (ex.label + 1) % 10;
      for (const method of ['auto', 'milp'] as const) {
        const r = await maximizeExact(model, logit(target), { timeLimit: timeB, method, constraints: [{ kind: 'ball', ref: ex.input, eps, p: 'inf' }] });
        line({ part: 'b', eps, testIndex: ex.testIndex, label: ex.label, objective: `logit:${target}`, timeLimit: timeB, asked: method }, r);
      }
    }
  }
}

if (has('q')) {
  let optima: number[] | null = proven.size === 10 ? classList.map((k) => proven.get(k)!) : null;
  if (!optima) {
    try {
      optima = (JSON.parse(readFileSync(optimaFile, 'utf8')) as { optima: number[] }).optima;
    } catch {
      optima = null;
    }
  }
  if (optima) {
    const targets = Array.from({ length: 10 }, (_, k) => logit(k));
    for (const [label, settings] of [['defaults (polish on)', {}], ['polish off', { polish: false }]] as const) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const run = await maximize(model, targets, settings);
      const wall = (performance.now() - t0) / 1000;
      const cpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6;
      const ratios = run.results.map((r, k) => Number((r.value / optima![k]).toFixed(5)));
      const row = { part: 'q', settings: label, engine: run.engine, steps: run.steps, restarts: run.restarts, wallSeconds: Number(wall.toFixed(2)), cpuSeconds: Number(cpu.toFixed(2)), polishSeconds: run.timings.polishMs !== undefined ? Number((run.timings.polishMs / 1000).toFixed(2)) : null, ratios, worstRatio: Math.min(...ratios), within0_1pct: ratios.filter((r) => r >= 0.999).length, load: load() };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    // A check of the proofs from the other side: a long gradient search must never exceed them.
    const t0 = performance.now();
    const long = await maximize(model, targets, { steps: 2000, restarts: 200, seed: 7, polish: false });
    const ratios = long.results.map((r, k) => Number((r.value / optima![k]).toFixed(6)));
    const check = { part: 'q', settings: 'check: 200 restarts × 2000 steps, polish off', engine: long.engine, wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)), ratios, maxRatio: Math.max(...ratios), exceeded: ratios.filter((r) => r > 1 + 1e-6).length, load: load() };
    rows.push(check);
    console.log(JSON.stringify(check));
  } else console.log(JSON.stringify({ part: 'q', skipped: 'no proven optima (run part a for all 10 classes first)' }));
}

if (has('c')) {
  const { stored } = await loadDatasetPrior(model);
  const prior = subspacePrior(stored, 32);
  let train: FashionData | undefined;
  for (const k of classList) {
    const r = await maximizeExact(model, logit(k), { timeLimit, constraints: [{ kind: 'prior', prior }] });
    // Distance to the prior's set: off the subspace, and the code outside its nearest box.
    const residual = r.input.length ? Math.max(subspaceResidual(prior, r.input), latentViolation(prior.latent, subspaceCode(prior, r.input))) : null;
    const boxes = r.union ?? r.bnb?.boxes;
    const open = boxes ? [...boxes.open].sort((a, b) => b.bound - a.bound) : [];
    // Does the answer look like data? Judged as bench/prior.ts judges the gradient answers.
    train ??= loadFashionMnist({ split: 'train' });
    const looks = r.input.length ? realism(r.input, train) : null;
    const judge = looks ? { p: (Object.values(r.outputs)[0] as number[])[k], distance: looks.distance, majority: looks.majority, majorityCount: looks.majorityCount } : null;
    line({ part: 'c', constraint: 'prior dataset:subspace:32 (union of boxes around core examples) ∩ box [0,1]^784', objective: `logit:${k}`, timeLimit, priorResidual: residual, boxes: boxes ? { total: boxes.total, pruned: boxes.pruned, solved: boxes.solved, open: open.length, worstOpen: open[0] ?? null } : null, judge }, r);
  }
}

console.log('\n' + summary());

type Judge = { p: number; distance: number; majority: number; majorityCount: number };

/** p(class), distance, majority (count); ✓ when all three tests pass (looksLikeData). */
function judgeCell(j: Judge | null, k: number): string {
  if (!j) return '—';
  return `${looksLikeData(j.p, j, k) ? '✓ ' : ''}${j.p.toFixed(3)}, ${j.distance.toFixed(2)}, ${FASHION_CLASS_NAMES[j.majority]} ${j.majorityCount}/10`;
}

/** The Markdown tables of BENCHMARKS.md from this run's rows. */
function summary(): string {
  const out: string[] = [];
  const fmt = (v: unknown, d = 3) => (typeof v === 'number' ? (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(d)) : '—');
  const pct = (g: unknown) => (typeof g === 'number' ? (g < 1e-4 ? g.toExponential(1) : `${(100 * g).toFixed(2)} %`) : '—');
  const a = rows.filter((r) => r.part === 'a');
  if (a.length) {
    // One line per class: the branch-and-bound (and its long run when the first did not close) beside the MILP.
    const cell = (r: Record<string, unknown> | undefined) =>
      r ? `${r.status} | ${fmt(r.value)} | ${fmt(r.upperBound)} | ${pct(r.gap)} | ${r.nodes} | ${fmt(r.seconds, 1)} | ${r.cpuSeconds}` : '— | — | — | — | — | — | —';
    out.push(
      `| class | B&B ${timeLimit} s: status | value | bound | gap | nodes | wall s | CPU s | B&B ${longLimit} s: gap | MILP ${timeLimit} s: status | value | bound | gap | nodes | wall s | CPU s | load (1 min) |`,
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const k of classList) {
      const mine = a.filter((r) => r.objective === `logit:${k}`);
      const short = mine.find((r) => r.method === 'bnb' && r.timeLimit === timeLimit);
      const long = mine.find((r) => r.method === 'bnb' && r.timeLimit === longLimit && r !== short);
      const milp = mine.find((r) => r.method === 'milp');
      if (!short && !milp) continue;
      out.push(`| ${k} | ${cell(short)} | ${long ? `${pct(long.gap)} (${long.status})` : '—'} | ${cell(milp)} | ${((short ?? milp)!.load as number[])[0]} |`);
    }
  }
  const m = rows.filter((r) => r.part === 'm');
  if (m.length) {
    out.push('', '| margin | method | status | value | bound | gap | nodes | seconds |', '|---|---|---|---|---|---|---|---|');
    for (const r of m) out.push(`| ${r.objective} | ${r.method} | ${r.status} | ${fmt(r.value)} | ${fmt(r.upperBound)} | ${pct(r.gap)} | ${r.nodes} | ${fmt(r.seconds, 1)} |`);
  }
  const b = rows.filter((r) => r.part === 'b');
  if (b.length) {
    out.push('', '| ε | method | proven optimal | seconds to proof (min–max) | nodes (min–max) | gap of the unproven (min–max) |', '|---|---|---|---|---|---|');
    for (const eps of epsList) {
      for (const method of ['bnb', 'milp']) {
        const g = b.filter((r) => r.eps === eps && r.method === method);
        if (!g.length) continue;
        const ok = g.filter((r) => r.status === 'optimal');
        const span = (xs: number[], d = 1) => (xs.length ? `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}` : '—');
        const open = g.filter((r) => r.status !== 'optimal').map((r) => 100 * (r.gap as number));
        out.push(`| ${eps} | ${method} | ${ok.length} / ${g.length} | ${span(ok.map((r) => r.seconds as number))} s | ${span(g.map((r) => r.nodes as number), 0)} | ${open.length ? span(open, 0) + ' %' : '—'} |`);
      }
    }
  }
  const c = rows.filter((r) => r.part === 'c');
  if (c.length) {
    out.push('', "| class (prior dataset:subspace:32) | method | status | value | bound | gap | boxes pruned / solved / open of total | largest open box: bound | nodes | wall s | CPU s | load (1 min) | distance to the prior's set | looks like data: p(class), distance to 10 nearest, their majority |", '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of c) {
      const bx = r.boxes as { total: number; pruned: number; solved: number; open: number; worstOpen: { box: number; bound: number } | null } | null;
      const boxCell = bx ? `${bx.pruned} / ${bx.solved} / ${bx.open} of ${bx.total}` : '—';
      const worst = bx?.worstOpen ? `box ${bx.worstOpen.box}: ${fmt(bx.worstOpen.bound)}` : '—';
      out.push(`| ${r.objective} | ${r.method} | ${r.status} | ${fmt(r.value)} | ${fmt(r.upperBound)} | ${pct(r.gap)} | ${boxCell} | ${worst} | ${r.nodes} | ${fmt(r.seconds, 1)} | ${r.cpuSeconds} | ${(r.load as number[])[0]} | ${typeof r.priorResidual === 'number' ? r.priorResidual.toExponential(1) : '—'} | ${judgeCell(r.judge as Judge | null, Number(String(r.objective).split(':')[1]))} |`);
    }
  }
  const q = rows.filter((r) => r.part === 'q');
  if (q.length) {
    out.push('', '| gradient search | engine | steps × restarts | wall s | CPU s | polish s | classes within 0.1 % of the proven optimum | worst ratio |', '|---|---|---|---|---|---|---|---|');
    for (const r of q.filter((x) => 'within0_1pct' in x)) out.push(`| ${r.settings} | ${r.engine} | ${r.steps} × ${r.restarts} | ${r.wallSeconds} | ${r.cpuSeconds} | ${r.polishSeconds ?? '—'} | ${r.within0_1pct}/10 | ${r.worstRatio} |`);
    for (const r of q.filter((x) => 'maxRatio' in x)) out.push('', `${r.settings}: best value / proven optimum per class ${(r.ratios as number[]).join(', ')}; ${r.exceeded} classes above their proven optimum (${r.wallSeconds} s).`);
  }
  return out.join('\n');
}
