// Reduced, seeded fuzz run (the full one is `npm run fuzz`, ≥ 1,000 mutants): mutants of every
// model file must load and predict finite numbers or fail with a one-line ActmaxError naming the
// file; no crash, hang or out-of-memory. Plus a check that the harness really detects each of those.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyFiles, runFuzz } from '../scripts/fuzz/run.js';

const selftest = (names: string[]) => names.map((n) => path.join('/nonexistent', `selftest-${n}`));

describe('fuzz harness', () => {
  it('detects a hang, a crash, an escaped error, a non-ActmaxError and an out-of-memory', async () => {
    // A short limit for the hang; a generous one for the others, which end by themselves (a busy
    // machine must not turn a slow out-of-memory into a "hang").
    const hang = await classifyFiles(selftest(['hang']), { timeoutMs: 2000, env: { ACTMAX_FUZZ_SELFTEST: '1' } });
    const others = await classifyFiles(selftest(['exit', 'escape', 'throw', 'oom']), { timeoutMs: 60_000, memLimitMb: 400, env: { ACTMAX_FUZZ_SELFTEST: '1' } });
    expect([...hang, ...others].map((r) => r.kind)).toEqual(['hang', 'crash', 'crash', 'crash', 'oom']);
  }, 240_000);

  it('passes an intact model and reports a missing file as an ActmaxError', async () => {
    const res = await classifyFiles(['models/fashion-mnist-mlp/model.json', 'models/nope/model.json']);
    expect(res.map((r) => r.kind)).toEqual(['ok', 'actmax-error']);
    expect(res[1].message).toMatch(/model\.json/);
  });
});

describe('fuzz: 30 seeded mutants', () => {
  it('every mutant loads and predicts finite numbers or fails with a one-line ActmaxError naming the file', async () => {
    const report = await runFuzz({ count: 30, seed: 20240601 });
    console.log(`fuzz (seed 20240601): ${JSON.stringify(report.counts)}; codes ${JSON.stringify(report.errorCodes)}; ${report.seconds.toFixed(1)} s`);
    for (const f of report.failures) console.log(`  #${f.id} ${f.kind} ${f.base} | ${f.what} | ${(f.message ?? f.detail ?? '').slice(0, 300)}`);
    expect(report.outcomes).toHaveLength(30);
    expect(report.bases.length).toBeGreaterThanOrEqual(8); // the repository's fixtures and the bundled model
    expect(report.failures.map((f) => `${f.kind} #${f.id}: ${f.what}`)).toEqual([]);
    expect(report.counts.ok + report.counts['actmax-error']).toBe(30);
  }, 240_000);
});
