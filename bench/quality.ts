import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { ActmaxModel } from '../src/model/types.js';
import type { ObjectiveSpec } from '../src/objectives/spec.js';
import { maximize, type MaximizeOptions } from '../src/optimize/maximize.js';
import { box } from '../src/constraints/index.js';
import { emit, root } from './common.js';

/**
 * Time to quality: the default `maximize` on all 10 classes vs the best known value: the proven
 * optima of bench/proven-optima.json (written by `npm run bench:exact`) when present, else the best
 * of a long gradient run. Reports, per class and for all classes together, the steps and seconds
 * (wall and this process's CPU) to reach 99 % and 99.9 % of it during the gradient steps, and the
 * final ratio (after the end-of-run polish, which the step trace does not see).
 */
export async function timeToQuality(model: ActmaxModel, referenceSteps: number, referenceRestarts: number, settings: MaximizeOptions = {}, label = 'defaults'): Promise<void> {
  const targets = Array.from({ length: 10 }, (_, i) => ({ kind: 'logit', index: i }) as ObjectiveSpec);
  referenceCache ??= (async () => {
    const proven = provenOptima();
    if (proven) return { best: proven, seconds: 0, engine: 'proven optima (bench/proven-optima.json)' };
    const t0 = performance.now();
    const ref = await maximize(model, targets, { steps: referenceSteps, restarts: referenceRestarts, seed: 99, constraints: [box(0, 1)], polish: false });
    return { best: ref.results.map((r) => r.value), seconds: (performance.now() - t0) / 1000, engine: ref.engine };
  })();
  const reference = await referenceCache;
  const best = reference.best;
  const trace: Array<{ t: number; cpu: number; best: number[] }> = [];
  const c0 = process.cpuUsage();
  const t1 = performance.now();
  const sinceStart = () => ({ t: (performance.now() - t1) / 1000, cpu: (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6 });
  const run = await maximize(model, targets, { constraints: [box(0, 1)], ...settings, onStep: (info) => void trace.push({ ...sinceStart(), best: info.best.slice() }) });
  const end = sinceStart();
  const goal = (frac: number, c: number) => (best[c] >= 0 ? best[c] * frac : best[c] / frac);
  const at = (i: number) => (i < 0 ? null : { step: i + 1, seconds: +trace[i].t.toFixed(3), cpuSeconds: +trace[i].cpu.toFixed(3) });
  const reach = (frac: number, c: number) => at(trace.findIndex((p) => p.best[c] >= goal(frac, c)));
  const reachAll = (frac: number) => at(trace.findIndex((p) => p.best.every((b, c) => b >= goal(frac, c))));
  const perClass = best.map((b, c) => ({ class: c, best: +b.toFixed(4), final: +run.results[c].value.toFixed(4), ratio: +(run.results[c].value / b).toFixed(5), to99: reach(0.99, c), to999: reach(0.999, c) }));
  emit({
    bench: 'time-to-quality',
    model: 'fashion-mnist-mlp',
    engine: run.engine,
    backend: run.backend,
    threads: 0,
    batch: run.restarts * 10,
    settings: label,
    steps: run.steps,
    restarts: run.restarts,
    wallSeconds: +end.t.toFixed(3),
    cpuSeconds: +end.cpu.toFixed(3),
    allTo99: reachAll(0.99),
    allTo999: reachAll(0.999),
    reference: { steps: referenceSteps, restarts: referenceRestarts, seconds: +reference.seconds.toFixed(2), engine: reference.engine },
    worstRatio: Math.min(...perClass.map((p) => p.ratio)),
    classesWithin0_1pct: perClass.filter((p) => p.ratio >= 0.999).length,
    perClass,
  });
}
let referenceCache: Promise<{ best: number[]; seconds: number; engine: string }> | null = null;

/** The bundled model's proven logit maxima over [0,1]^784, when bench:exact has written them. */
function provenOptima(): number[] | null {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'proven-optima.json'), 'utf8')) as { optima?: number[] };
    return Array.isArray(j.optima) && j.optima.length === 10 ? j.optima : null;
  } catch {
    return null;
  }
}

/** CPU seconds of finished child processes (Linux /proc; 0 elsewhere). */
export function childCpuSeconds(): number {
  try {
    const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // Fields 16 and 17 of stat (cutime, cstime), in clock ticks (100 per second on Linux).
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

/** `actmax demo` end to end: process start to files written, as a user runs it. */
export function demoWall(): { wallSeconds: number; cpuSeconds: number; ok: boolean } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'actmax-demo-'));
  const c0 = childCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(root, 'bin/actmax.js'), 'demo', '--out', out], { encoding: 'utf8', timeout: 120_000 });
  const wallSeconds = (performance.now() - t0) / 1000;
  const ok = r.status === 0 && fs.existsSync(path.join(out, 'report.json'));
  fs.rmSync(out, { recursive: true, force: true });
  return { wallSeconds, cpuSeconds: childCpuSeconds() - c0, ok };
}

