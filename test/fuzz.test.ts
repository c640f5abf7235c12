// Reduced, seeded fuzz run (the full one is `npm run fuzz`): mutants of every model file must load
// and predict finite numbers or fail with a one-line ActmaxError naming the file; no crash, hang
// or out-of-memory. Plus a check that the harness really detects each of those.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyFiles, runFuzz } from '../scripts/fuzz/run.js';

describe('fuzz harness', () => {
  it('detects a hang, a crash, an escaped error, a non-ActmaxError and an out-of-memory', async () => {
    const names = ['selftest-hang', 'selftest-exit', 'selftest-escape', 'selftest-throw', 'selftest-oom'];
    const res = await classifyFiles(names.map((n) => path.join('/nonexistent', n)), { timeoutMs: 3000, memLimitMb: 400, env: { ACTMAX_FUZZ_SELFTEST: '1' } });
    expect(res.map((r) => r.kind)).toEqual(['hang', 'crash', 'crash', 'crash', 'oom']);
  });

  it('passes an intact model and reports a missing file as an ActmaxError', async () => {
    const res = await classifyFiles(['models/fashion-mnist-mlp/model.json', 'models/nope/model.json']);
    expect(res.map((r) => r.kind)).toEqual(['ok', 'actmax-error']);
    expect(res[1].message).toMatch(/model\.json/);
  });
});

describe('fuzz: 100 seeded mutants', () => {
  it('every mutant loads and predicts finite numbers or fails with a one-line ActmaxError naming the file', async () => {
    const report = await runFuzz({ count: 100, seed: 20240601 });
    console.log(`fuzz (seed 20240601): ${JSON.stringify(report.counts)}; codes ${JSON.stringify(report.errorCodes)}; ${report.seconds.toFixed(1)} s`);
    for (const f of report.failures) console.log(`  #${f.id} ${f.kind} ${f.base} | ${f.what} | ${(f.message ?? f.detail ?? '').slice(0, 300)}`);
    expect(report.outcomes).toHaveLength(100);
    expect(report.bases.length).toBeGreaterThanOrEqual(2);
    expect(report.failures.map((f) => `${f.kind} #${f.id}: ${f.what}`)).toEqual([]);
    expect(report.counts.ok + report.counts['actmax-error']).toBe(100);
  });
});
