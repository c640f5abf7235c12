/**
 * `npm run test:cpu`: runs the suite through vitest.cpu.config.ts and prints each file's CPU
 * seconds (its process and the children it waited for), slowest first, with the total and what
 * that means on 2 quiet cores, and the 25 slowest tests. Extra arguments go to vitest (e.g. file filters).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const log = path.resolve('.tmp/test-cpu.jsonl');
mkdirSync(path.dirname(log), { recursive: true });
rmSync(log, { force: true });
rmSync(`${log}.tests`, { force: true });
const t0 = Date.now();
const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.cpu.config.ts', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, ACTMAX_CPU_LOG: log } });
const wall = (Date.now() - t0) / 1000;
const rows = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; self: number; children: number; testsWall: number }) : [];
rows.sort((a, b) => b.self + b.children - (a.self + a.children));
console.log('\n CPU s   self  children  tests wall  file');
for (const r of rows) console.log(`${(r.self + r.children).toFixed(1).padStart(6)} ${r.self.toFixed(1).padStart(6)} ${r.children.toFixed(1).padStart(9)} ${r.testsWall.toFixed(1).padStart(11)}  ${path.relative(process.cwd(), r.file)}`);
const tests = existsSync(`${log}.tests`) ? readFileSync(`${log}.tests`, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { file: string; test: string; cpu: number }) : [];
tests.sort((a, b) => b.cpu - a.cpu);
console.log('\n CPU s  slowest tests (their own hooks not counted)');
for (const t of tests.slice(0, 25)) console.log(`${t.cpu.toFixed(1).padStart(6)}  ${path.relative(process.cwd(), t.file)} > ${t.test}`);
const total = rows.reduce((s, r) => s + r.self + r.children, 0);
const longest = rows[0] ? rows[0].self + rows[0].children : 0;
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\n${rows.length} files, ${total.toFixed(0)} CPU s in test processes (vitest's own process not counted); on 2 quiet cores ≥ ${Math.max(total / 2, longest).toFixed(0)} s. Wall ${wall.toFixed(0)} s at load ${load} (1/5/15 min).`);
process.exitCode = run.status ?? 1;
