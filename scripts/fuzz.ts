// npm run fuzz [-- --count 1000 --seed 1 --workers 2 --keep fuzz-failures --only REGEX --isolate]
// Mutates every model file (shared fixtures + bundled model), runs loadModel + one forward pass on
// each mutant in a child process, prints the counts, exits 1 on any crash/hang/OOM/bad outcome.
import { parseArgs } from 'node:util';
import { FAILURE_KINDS, runFuzz } from './fuzz/run.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    workers: { type: 'string' },
    keep: { type: 'string', default: 'fuzz-failures' },
    only: { type: 'string' },
    isolate: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const count = Number(values.count);
const report = await runFuzz({
  count,
  seed: Number(values.seed),
  workers: values.workers ? Number(values.workers) : undefined,
  keepDir: values.keep,
  only: values.only ? new RegExp(values.only) : undefined,
  recycleEvery: values.isolate ? 1 : undefined,
  onOutcome: (o, done) => {
    if (values.verbose || FAILURE_KINDS.includes(o.kind)) console.log(`#${o.id} ${o.kind}${o.code ? ` (${o.code})` : ''} ${o.base} | ${o.what} | ${o.message ?? o.detail ?? ''}`.slice(0, 600));
    if (done % 100 === 0) process.stderr.write(`fuzz: ${done}/${count}\n`);
  },
});

console.log(`\nfuzz: ${report.outcomes.length} mutants of ${report.bases.length} model files in ${report.seconds.toFixed(1)} s (seed ${values.seed})`);
for (const b of report.bases) console.log(`  base ${b}`);
console.log('outcomes:');
for (const [k, n] of Object.entries(report.counts)) console.log(`  ${k.padEnd(13)} ${n}`);
console.log('actmax errors by code:');
for (const [k, n] of Object.entries(report.errorCodes).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(16)} ${n}`);
const wrapped = report.outcomes.filter((o) => o.wrapped);
console.log(`caught only by loadModel's safety net (third-party error wrapped; passes, worth a check at the source): ${wrapped.length}`);
for (const o of wrapped.slice(0, 15)) console.log(`  #${o.id} ${o.base} | ${o.what}\n    ${o.wrapped!.slice(0, 300)}`);
const byBase = new Map<string, Record<string, number>>();
for (const o of report.outcomes) {
  const row = byBase.get(o.base) ?? {};
  row[o.kind] = (row[o.kind] ?? 0) + 1;
  byBase.set(o.base, row);
}
console.log('by model file:');
for (const [b, row] of byBase) console.log(`  ${b}: ${Object.entries(row).map(([k, n]) => `${k} ${n}`).join(', ')}`);
const slowest = [...report.outcomes].sort((a, b) => b.ms - a.ms)[0];
if (slowest) console.log(`slowest mutant: #${slowest.id} ${slowest.ms} ms (${slowest.what})`);
if (report.failures.length) {
  console.log(`\n${report.failures.length} FAILURES (kept under ${values.keep}/):`);
  for (const f of report.failures) console.log(`  #${f.id} ${f.kind}${f.alone ? ` (alone: ${f.alone})` : ''} ${f.base} | ${f.what}\n    ${(f.message ?? f.detail ?? '').slice(0, 400).replace(/\n/g, '\n    ')}`);
  process.exitCode = 1;
} else {
  console.log('\nPASS: no crash, hang, out-of-memory, non-finite prediction or malformed error message');
}
