/**
 * Setup file of `npm run test:cpu` (vitest.cpu.config.ts): after each test file, appends one JSON
 * line with the CPU seconds of its worker process (from process start: the module imports count)
 * and of the child processes it waited for (CLI runs, Chromium, redis-server, tsc). Files run each
 * in their own process there, so the numbers are per file. On a shared machine, wall time is
 * inflated by the load; CPU seconds much less.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';

/** utime, stime, cutime, cstime of this process in seconds (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(): number[] {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return [11, 12, 13, 14].map((i) => Number(fields[i]) / 100);
}

let started = 0;
beforeAll(() => void (started = Date.now()));
afterAll(() => {
  const [user, sys, childUser, childSys] = cpuSeconds();
  const line = { file: expect.getState().testPath, self: user + sys, children: childUser + childSys, testsWall: (Date.now() - started) / 1000 };
  appendFileSync(process.env.ACTMAX_CPU_LOG ?? '.tmp/test-cpu.jsonl', JSON.stringify(line) + '\n');
});
