/**
 * Setup file of `npm run test:cpu` (vitest.cpu.config.ts): after each test file, appends one JSON
 * line with the CPU seconds of its worker process (from process start: the module imports count)
 * and of the child processes it waited for (CLI runs, Chromium, redis-server, tsc). Files run each
 * in their own process there, so the numbers are per file. On a shared machine, wall time is
 * inflated by the load; CPU seconds much less. Each test's CPU seconds go to a second log
 * (the same name + `.tests`) for the table of the slowest tests.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

/** utime, stime, cutime, cstime of this process in seconds (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(): number[] {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return [11, 12, 13, 14].map((i) => Number(fields[i]) / 100);
}

let started = 0;
beforeAll(() => void (started = Date.now()));

// Each test's CPU seconds too (this process and the children it waited for), for the slowest-tests table.
let atTestStart = 0;
const total = () => cpuSeconds().reduce((a, b) => a + b, 0);
beforeEach(() => void (atTestStart = total()));
afterEach(() => {
  const line = { file: expect.getState().testPath, test: expect.getState().currentTestName, cpu: total() - atTestStart };
  appendFileSync((process.env.ACTMAX_CPU_LOG ?? '.tmp/test-cpu.jsonl') + '.tests', JSON.stringify(line) + '\n');
});
afterAll(() => {
  const [user, sys, childUser, childSys] = cpuSeconds();
  const line = { file: expect.getState().testPath, self: user + sys, children: childUser + childSys, testsWall: (Date.now() - started) / 1000 };
  appendFileSync(process.env.ACTMAX_CPU_LOG ?? '.tmp/test-cpu.jsonl', JSON.stringify(line) + '\n');
});
