import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Shared by the bench's parts: settings from the environment, the machine, and the rows measured. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 1500);
export const QUICK = process.env.BENCH_QUICK === '1';
/**
 * BENCH_SECTIONS=a,b runs only those parts of bench/bench.ts: throughput, classic, quality, demo,
 * torch (PyTorch throughput peers), default-path (issue 12 targets 1–2, with PyTorch's same loop),
 * prior, playground (target 4), real (target 3), atlas (bench/atlas.ts). Unset: all of them.
 */
export const SECTIONS = process.env.BENCH_SECTIONS ? new Set(process.env.BENCH_SECTIONS.split(',').map((s) => s.trim())) : null;
/** Whether `BENCH_SECTIONS` asks for the section `name` (always, when it is unset). @example if (section('real')) … */
export function section(name: string): boolean {
  return SECTIONS === null || SECTIONS.has(name);
}
export const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()}-${os.arch()}` };

/** One measurement (printed as a JSON line, summarised in BENCHMARKS.md). */
export interface Row {
  bench: string;
  model: string;
  engine: string;
  backend: string;
  threads: number;
  batch: number;
  imageStepsPerSec?: number;
  [k: string]: unknown;
}
export const rows: Row[] = [];
export function emit(r: Row): void {
  const line = { ...r, machine: { ...machine, load1: +os.loadavg()[0].toFixed(1) } };
  rows.push(r);
  console.log(JSON.stringify(line));
}

