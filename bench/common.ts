import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Shared by the bench's parts: settings from the environment, the machine, and the rows measured. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 1500);
export const QUICK = process.env.BENCH_QUICK === '1';
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

