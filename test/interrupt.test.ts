// Interrupts: Ctrl-C / SIGTERM during `maximize` writes the best result so far and exits 130;
// kill -9 at any moment never leaves a truncated result.json or PNG.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng } from '../src/io/png.js';
import { Rng } from '../src/optimize/rng.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'actmax-interrupt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const rng = new Rng(2024);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds a process has used so far, all its threads (Linux /proc; clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  proc: ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stderr has shown `text`. */
  waitFor(text: string): Promise<void>;
}

function start(cmd: string[], opts: { tsx?: boolean; preload?: string } = {}): Run {
  const node = [...(opts.preload ? ['--import', opts.preload] : []), ...(opts.tsx ? ['--import', 'tsx'] : [])];
  const proc = spawn(process.execPath, [...node, ...cmd], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const check = () => {
    for (const w of waiters.splice(0)) (err.includes(w.text) || out.includes(w.text) ? w.resolve() : waiters.push(w));
  };
  proc.stderr!.on('data', (c) => { err += c; check(); });
  proc.stdout!.on('data', (c) => { out += c; check(); });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return {
    proc,
    stderr: () => err,
    done,
    waitFor: (text) => new Promise<void>((resolve, reject) => {
      waiters.push({ text, resolve });
      check();
      done.then(() => reject(new Error(`process ended before printing "${text}"; stderr: ${err}`)));
    }),
  };
}

const maximizeArgs = (out: string, steps: number) => ['bin/actmax.js', 'maximize', 'models/fashion-mnist-mlp', '--objective', 'logit:all', '--steps', String(steps), '--out', out];

/** Whatever is in an output directory must be complete: result.json parses, PNGs decode. */
function expectNoPartialFiles(dir: string): { result?: Record<string, unknown> } {
  if (!existsSync(dir)) return {};
  const names = readdirSync(dir);
  for (const n of names) {
    // Temp files of an interrupted write may remain; they are hidden and never named like a result.
    if (n.startsWith('.')) expect(n).toMatch(/^\.[\w.-]+\.(json|png|csv|gif)\.\d+\.\d+\.tmp$/);
    else expect(n).toMatch(/^[\w.-]+\.(json|png|csv|gif)$/);
  }
  let result: Record<string, unknown> | undefined;
  if (names.includes('result.json')) result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8'));
  for (const png of names.filter((n) => n.endsWith('.png') && !n.startsWith('.'))) {
    const img = decodePng(new Uint8Array(readFileSync(path.join(dir, png))), png);
    expect(img.width).toBeGreaterThan(0);
  }
  return { result };
}

describe('maximize interrupted by a signal', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} after progress has started → exit 130, result.json with interrupted: true`, async () => {
      const out = path.join(tmp, `sig-${signal}`);
      const run = start(maximizeArgs(out, 100_000));
      await run.waitFor('maximize: step');
      const delay = rng.int(0, 1500);
      await sleep(delay);
      run.proc.kill(signal);
      const { code, signal: died } = await run.done;
      expect({ code, died, delay }).toEqual({ code: 130, died: null, delay });
      expect(run.stderr()).toContain('interrupted: wrote the best result so far');
      const { result } = expectNoPartialFiles(out);
      const doc = result as { interrupted: boolean; steps: number; results: Array<Record<string, unknown>> };
      expect(doc.interrupted).toBe(true);
      expect(doc.steps).toBeGreaterThan(0);
      expect(doc.steps).toBeLessThan(100_000);
      expect(doc.results).toHaveLength(10);
      for (const r of doc.results) {
        expect(Number.isFinite(r.value as number)).toBe(true);
        expect((r.input as number[]).every((v) => v >= 0 && v <= 1)).toBe(true);
      }
      expect(existsSync(path.join(out, 'grid.png'))).toBe(true);
    });
  }
});

describe('exact interrupted by a signal', () => {
  it('SIGINT during the exact solve (branch-and-bound here) → exit 130 soon after, the best input so far with its proven bound', async () => {
    const out = path.join(tmp, 'exact-sigint');
    // The full box is not proven within minutes, so the solve is surely running when the signal comes.
    const run = start(['bin/actmax.js', 'exact', 'models/fashion-mnist-mlp', '--objective', 'logit:1', '--time-limit', '300', '--out', out]);
    // Past its start (≈ 4 CPU s through tsx, ≈ 2 from the test run's prebuilt JavaScript), the warm
    // start and the root bound (≈ 2 CPU s quiet), with 3 s to spare: counted in the child's CPU
    // seconds, not wall time, so a busy machine cannot make the signal come early.
    const solving = (process.env.ACTMAX_PREBUILT ? 2 : 4) + 2 + 3;
    for (;;) {
      expect(run.proc.exitCode, run.stderr()).toBeNull();
      if (cpuSecondsOf(run.proc.pid!) >= solving) break;
      await sleep(100);
    }
    const sent = Date.now();
    run.proc.kill('SIGINT');
    const { code } = await run.done;
    expect(code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(15_000);
    const { result } = expectNoPartialFiles(out);
    expect(result!.interrupted).toBe(true);
    const r = (result as { results: Array<Record<string, number | string | boolean>> }).results[0];
    expect(r.interrupted).toBe(true);
    expect(r.status).toBe('time-limit');
    expect(Number.isFinite(r.value as number)).toBe(true);
    expect(r.upperBound as number).toBeGreaterThanOrEqual(r.value as number);
    expect(existsSync(path.join(out, 'input.png'))).toBe(true);
  });
});

describe('kill -9 never leaves a truncated result', () => {
  it('maximize killed while it writes result files: the temporary file is left, no result file is partial', async () => {
    // slow-sync.mjs holds every write between its temporary file and the rename for 2 s and says
    // so: the kill lands inside writeFileAtomic, every time.
    const landed: string[] = [];
    for (const target of ['grid.png', 'result.json']) {
      const out = path.join(tmp, `kill-in-write-${target}`);
      const run = start(maximizeArgs(out, 20), { preload: './test/helpers/slow-sync.mjs' });
      await run.waitFor(`@@in-write ${path.join(out, '.' + target)}`);
      run.proc.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      const temps = readdirSync(out).filter((n) => n.startsWith(`.${target}.`) && n.endsWith('.tmp'));
      expect(temps, `a temporary ${target} left by the kill`).toHaveLength(1);
      expect(existsSync(path.join(out, target)), `${target} must not exist before its rename`).toBe(false);
      const { result } = expectNoPartialFiles(out);
      // grid.png is written before result.json: killed in the grid's write, there is no result.json yet.
      if (target === 'grid.png') expect(result).toBeUndefined();
      else expect(existsSync(path.join(out, 'grid.png'))).toBe(true);
      landed.push(`${target}: ${temps[0]}`);
    }
    console.log(`kill -9 inside writeFileAtomic: ${landed.join('; ')}`);
  });

  it('writeFileAtomic killed at random moments of a write loop, 4 times: every file is one whole version', async () => {
    const dir = path.join(tmp, 'loop');
    const seen = new Set<string>();
    for (let k = 0; k < 4; k++) {
      const run = start(['test/helpers/write-loop.ts', dir], { tsx: true });
      await run.waitFor('@@ready');
      await sleep(rng.int(0, 400));
      run.proc.kill('SIGKILL');
      await run.done;
      const { result } = expectNoPartialFiles(dir);
      expect(result).toBeDefined();
      expect(['A', 'B']).toContain(result!.tag);
      expect((result!.values as number[]).length).toBe(100_000);
      const img = decodePng(new Uint8Array(readFileSync(path.join(dir, 'grid.png'))), 'grid.png');
      expect([10, 200]).toContain(img.data[0]);
      seen.add(String(result!.tag));
    }
    const leftovers = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    console.log(`write loop: versions seen ${[...seen].join(', ')}; temp files left by kills: ${leftovers.length}`);
  });
});
