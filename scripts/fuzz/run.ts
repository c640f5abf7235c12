// Fuzz orchestrator: makes mutants of every model file, runs each through loadModel + a forward
// pass in child processes (2 GiB heap, RSS watched, 10 s per file), and classifies the outcomes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/optimize/rng.js';
import type { ChildResult } from './child.js';
import { mutate, type Bundle } from './mutators.js';
import { bombEntry } from './zip.js';
import { fixtureRoots } from '../../src/model/testing/fixtures.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(REPO_ROOT, 'scripts/fuzz/child.ts');

export type OutcomeKind = 'ok' | 'actmax-error' | 'bad-message' | 'nonfinite' | 'crash' | 'hang' | 'oom';
export const FAILURE_KINDS: OutcomeKind[] = ['bad-message', 'nonfinite', 'crash', 'hang', 'oom'];

export interface FuzzOutcome {
  id: number;
  base: string;
  what: string;
  kind: OutcomeKind;
  code?: string;
  message?: string;
  /** Exit status, stack or stderr tail for failures. */
  detail?: string;
  ms: number;
  /** For failures: the outcome when the mutant ran alone in a fresh process. */
  alone?: OutcomeKind;
  /** Set when only loadModel's safety net turned a third-party error into the ActmaxError. */
  wrapped?: string;
  /** Where the failing mutant was kept. */
  kept?: string;
}

export interface FuzzOptions {
  count: number;
  seed: number;
  workers?: number;
  timeoutMs?: number;
  memLimitMb?: number;
  /** Restart each child after this many files (1 = a fresh process per file). */
  recycleEvery?: number;
  /** Copy failing mutants here. */
  keepDir?: string;
  /** Restrict to bases whose name matches. */
  only?: RegExp;
  onOutcome?: (o: FuzzOutcome, done: number) => void;
}

export interface FuzzReport {
  bases: string[];
  outcomes: FuzzOutcome[];
  counts: Record<OutcomeKind, number>;
  errorCodes: Record<string, number>;
  failures: FuzzOutcome[];
  seconds: number;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

function isModelFile(p: string): boolean {
  if (/\.(keras|h5|hdf5)$/i.test(p)) return true;
  if (!p.endsWith('.json') || p.endsWith('.expected.json') || path.basename(p) === 'expected.json') return false;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8'));
    return !!j && typeof j === 'object' && ('modelTopology' in j || 'weightsManifest' in j);
  } catch {
    return false;
  }
}

/**
 * Every model file under the fixtures (test/fixtures, and ../shared/fixtures when it is there; a
 * file in both counts once) plus the bundled model, each as a bundle (the file and the weight
 * shards it names), keyed by a readable name.
 *
 * @example
 * const bases = discoverBases(); // [{ name: 'fixtures/tfjs-layers-abalone-mlp/model.json', bundle }, ...]
 */
export function discoverBases(): Array<{ name: string; bundle: Bundle }> {
  const mains: Array<{ root: string; file: string; label: string }> = [];
  const seen = new Set<string>();
  for (const root of fixtureRoots()) {
    for (const f of walk(root)) {
      const rel = path.relative(root, f);
      if (seen.has(rel) || !isModelFile(f)) continue;
      seen.add(rel);
      mains.push({ root, file: f, label: 'fixtures' });
    }
  }
  mains.push({ root: path.join(REPO_ROOT, 'models'), file: path.join(REPO_ROOT, 'models/fashion-mnist-mlp/model.json'), label: 'models' });
  return mains.map(({ root, file, label }) => {
    const rel = path.relative(root, file);
    const files = new Map<string, Uint8Array>([[rel, new Uint8Array(readFileSync(file))]]);
    if (file.endsWith('.json')) {
      const j = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest?: Array<{ paths?: string[] }> };
      for (const g of j.weightsManifest ?? []) {
        for (const p of g.paths ?? []) {
          const abs = path.resolve(path.dirname(file), p);
          if (existsSync(abs)) files.set(path.relative(root, abs), new Uint8Array(readFileSync(abs)));
        }
      }
    }
    return { name: `${label}/${rel}`, bundle: { main: rel, files } };
  });
}

interface Job {
  id: number;
  file: string;
  resolve: (r: { kind: OutcomeKind; res?: ChildResult; detail?: string }) => void;
}

/** One long-lived child process that loads files on request. */
class Child {
  private proc: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private out = '';
  private errTail = '';
  private pending: Job | null = null;
  private timer: NodeJS.Timeout | null = null;
  private rssTimer: NodeJS.Timeout | null = null;
  private killedFor: 'hang' | 'oom' | null = null;
  private served = 0;
  constructor(private readonly opts: Required<Pick<FuzzOptions, 'timeoutMs' | 'memLimitMb' | 'recycleEvery'>> & { env?: NodeJS.ProcessEnv }) {}

  private start(): Promise<void> {
    this.out = '';
    this.errTail = '';
    this.killedFor = null;
    this.served = 0;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--max-old-space-size=2048', CHILD, '--serve'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...this.opts.env } });
    this.proc = proc;
    let signalReady: () => void;
    const ready = new Promise<void>((r) => (signalReady = r));
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      this.out += chunk;
      let nl;
      while ((nl = this.out.indexOf('\n')) >= 0) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        if (line === '@@fuzz-ready') signalReady();
        else if (line.startsWith('@@fuzz ')) this.onResult(JSON.parse(line.slice(7)) as ChildResult);
      }
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (c: string) => (this.errTail = (this.errTail + c).slice(-4000)));
    proc.on('exit', (code, signal) => this.onExit(proc, code, signal));
    proc.stdin!.on('error', () => {}); // a dead child: reported through 'exit'
    this.rssTimer = setInterval(() => {
      const rss = readRssMb(proc.pid!);
      if (rss > this.opts.memLimitMb && this.pending) {
        this.killedFor = 'oom';
        proc.kill('SIGKILL');
      }
    }, 100);
    return ready;
  }

  private onResult(r: ChildResult): void {
    const job = this.pending;
    if (!job || (r.id !== undefined && r.id !== job.id)) return;
    this.finish({ kind: r.status === 'ok' ? 'ok' : r.status === 'actmax-error' ? 'actmax-error' : r.status === 'nonfinite' ? 'nonfinite' : 'crash', res: r, detail: r.stack });
    if (r.status === 'exception') this.kill(); // the child exits itself on escaped errors
  }

  private onExit(proc: ChildProcess, code: number | null, signal: string | null): void {
    if (proc !== this.proc) return;
    if (this.rssTimer) clearInterval(this.rssTimer);
    this.proc = null;
    this.ready = null;
    if (this.pending) {
      const oomText = /heap out of memory|Reached heap limit|Allocation failed|Out of memory|Cannot enlarge memory/i.test(this.errTail);
      const kind: OutcomeKind = this.killedFor ?? (oomText ? 'oom' : 'crash');
      this.finish({ kind, detail: `exit code ${code} signal ${signal}: ${this.errTail.slice(-1500)}` });
    }
  }

  private finish(r: { kind: OutcomeKind; res?: ChildResult; detail?: string }): void {
    const job = this.pending;
    if (!job) return;
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.served++;
    job.resolve(r);
  }

  private kill(): void {
    const p = this.proc;
    this.proc = null;
    this.ready = null;
    if (this.rssTimer) clearInterval(this.rssTimer);
    p?.kill('SIGKILL');
  }

  /** Start the process (if needed) and wait until it is ready, so startup is not timed. */
  async started(): Promise<void> {
    if (this.proc && this.served >= this.opts.recycleEvery) this.kill();
    if (!this.proc) this.ready = this.start();
    await this.ready;
  }

  async run(id: number, file: string): Promise<{ kind: OutcomeKind; res?: ChildResult; detail?: string }> {
    if (this.proc && this.served >= this.opts.recycleEvery) this.kill();
    if (!this.proc) this.ready = this.start();
    await this.ready;
    return new Promise((resolve) => {
      this.pending = { id, file, resolve };
      this.timer = setTimeout(() => {
        // Let pending output be read first: if this process was busy, the answer may be waiting.
        setImmediate(() => {
          if (this.pending?.id !== id) return;
          this.killedFor = 'hang';
          this.proc?.kill('SIGKILL');
        });
      }, this.opts.timeoutMs);
      this.proc!.stdin!.write(JSON.stringify({ id, file }) + '\n');
    });
  }

  close(): void {
    this.kill();
  }
}

function readRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function writeBundle(dir: string, b: Bundle): Promise<string> {
  for (const [rel, data] of b.files) {
    const p = path.join(dir, rel);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, data);
  }
  return path.join(dir, b.main);
}

/**
 * Run given files (no mutation) through the child harness and classify each: for checking the
 * harness itself and for replaying kept mutants.
 *
 * @example
 * await classifyFiles(['fuzz-failures/m12/model.json']) // [{ kind: 'crash', ... }]
 */
export async function classifyFiles(files: string[], opts: { timeoutMs?: number; memLimitMb?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Array<{ file: string; kind: OutcomeKind; message?: string; detail?: string }>> {
  const child = new Child({ timeoutMs: opts.timeoutMs ?? 10_000, memLimitMb: opts.memLimitMb ?? 2048, recycleEvery: 1_000_000, env: opts.env });
  const out: Array<{ file: string; kind: OutcomeKind; message?: string; detail?: string }> = [];
  try {
    for (const [i, file] of files.entries()) {
      await child.started();
      const r = await child.run(i, file);
      out.push({ file, kind: r.kind, message: r.res?.message, detail: r.detail });
    }
  } finally {
    child.close();
  }
  return out;
}

/** Judge an ActmaxError's message: one line, and it names the file. */
function messageProblem(message: string, main: string): string | null {
  if (/[\r\n]/.test(message)) return 'message spans several lines';
  if (!message.includes(path.basename(main))) return `message does not name the file ${path.basename(main)}`;
  if (message.length > 2000) return `message is ${message.length} characters long`;
  return null;
}

/**
 * Run the fuzzer: `count` mutants (round-robin over the bases, seeded), each loaded and run in a
 * child process. Mutant `i` depends only on `seed` and `i`, so any outcome can be replayed.
 *
 * @example
 * const report = await runFuzz({ count: 100, seed: 1 });
 * console.log(report.counts); // { ok: 12, 'actmax-error': 88, crash: 0, ... }
 */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const bases = discoverBases().filter((b) => !opts.only || opts.only.test(b.name));
  const childOpts = { timeoutMs: opts.timeoutMs ?? 10_000, memLimitMb: opts.memLimitMb ?? 2048, recycleEvery: opts.recycleEvery ?? 40 };
  bombEntry('warm-up'); // built once (≈2 s) before any child is timed
  const tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'actmax-fuzz-'));
  const children = Array.from({ length: opts.workers ?? Math.max(1, Math.min(2, os.cpus().length)) }, () => new Child(childOpts));
  const outcomes: FuzzOutcome[] = [];
  let next = 0;
  let done = 0;

  const runMutant = async (child: Child, id: number): Promise<FuzzOutcome> => {
    const base = bases[id % bases.length];
    const m = mutate(new Rng(opts.seed * 1_000_003 + id), base.bundle);
    const dir = path.join(tmpRoot, `m${id}`);
    const file = await writeBundle(dir, m.bundle);
    await child.started();
    const t = performance.now();
    const r = await child.run(id, file);
    const o: FuzzOutcome = { id, base: base.name, what: m.what, kind: r.kind, ms: Math.round(performance.now() - t) };
    if (r.res?.code) o.code = r.res.code;
    if (r.res?.message) o.message = r.res.message;
    if (r.res?.wrapped) o.wrapped = r.res.wrapped;
    if (r.kind === 'actmax-error') {
      const problem = messageProblem(r.res!.message ?? '', m.bundle.main);
      if (problem) { o.kind = 'bad-message'; o.detail = problem; }
    } else if (r.kind !== 'ok') {
      o.detail = `${r.res?.name ?? ''} ${r.detail ?? ''}`.trim();
      if (r.kind === 'crash' || r.kind === 'hang' || r.kind === 'oom') {
        // Confirm in a fresh process, so one mutant's damage is not blamed on the next.
        const alone = new Child({ ...childOpts, recycleEvery: 1 });
        try {
          o.alone = (await alone.run(id, file)).kind;
        } finally {
          alone.close();
        }
      }
    }
    if (FAILURE_KINDS.includes(o.kind) && opts.keepDir) {
      o.kept = path.join(opts.keepDir, `m${id}`);
      await fs.rm(o.kept, { recursive: true, force: true });
      await fs.mkdir(path.dirname(o.kept), { recursive: true });
      await fs.cp(dir, o.kept, { recursive: true });
    }
    await fs.rm(dir, { recursive: true, force: true });
    return o;
  };

  try {
    await Promise.all(children.map(async (child) => {
      while (next < opts.count) {
        const id = next++;
        const o = await runMutant(child, id);
        outcomes.push(o);
        opts.onOutcome?.(o, ++done);
      }
    }));
  } finally {
    children.forEach((c) => c.close());
    await fs.rm(tmpRoot, { recursive: true, force: true });
  }
  outcomes.sort((a, b) => a.id - b.id);
  const counts = { ok: 0, 'actmax-error': 0, 'bad-message': 0, nonfinite: 0, crash: 0, hang: 0, oom: 0 } as Record<OutcomeKind, number>;
  const errorCodes: Record<string, number> = {};
  for (const o of outcomes) {
    counts[o.kind]++;
    if (o.kind === 'actmax-error') errorCodes[o.code!] = (errorCodes[o.code!] ?? 0) + 1;
  }
  return { bases: bases.map((b) => b.name), outcomes, counts, errorCodes, failures: outcomes.filter((o) => FAILURE_KINDS.includes(o.kind)), seconds: (performance.now() - t0) / 1000 };
}
