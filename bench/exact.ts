/**
 * Exact-mode benchmark on the bundled Fashion-MNIST model. Prints one JSON line per solve.
 *
 *   npm run bench:exact                       # (a) full box, every class, 60 s; (b) L∞ balls, 10 images × 3 ε
 *   npm run bench:exact -- --part b --time 20 --images 3 --eps 0.02,0.05
 *   npm run bench:exact -- --part c           # (c) every class under the data prior dataset:subspace:32
 *
 * (a) the full box [0,1]^784, maximise each class's logit; (b) L∞ balls of radius ε around test
 * images, maximise the logit of another class ((label + 1) mod 10). Each line: status, value,
 * proven upper bound, gap, seconds, and the size of the MILP. (c) each class's logit with the
 * bundled data prior (`--prior dataset:subspace:32`, the 0.5–99.5 % code box): the MILP's
 * variables are the 32 code values; a table follows with the distance of each proven input to
 * the prior's set.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/backend.js';
import { loadModel } from '../src/model/load.js';
import { maximizeExact, type ExactResult } from '../src/exact/index.js';
import { loadDatasetPrior } from '../src/prior/dataset.js';
import { subspacePrior, subspaceResidual } from '../src/prior/subspace.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const part = opt('part', 'all');
const timeLimit = Number(opt('time', '60'));
const images = Number(opt('images', '10'));
const epsList = opt('eps', '0.02,0.05,0.1').split(',').map(Number);
const classes = opt('classes', '0-9');
const [c0, c1] = classes.includes('-') ? classes.split('-').map(Number) : [Number(classes), Number(classes)];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.join(repoRoot, 'models', 'fashion-mnist-mlp');
const backend = await useBackend();
const model = await loadModel(modelDir);
const examples = (JSON.parse(readFileSync(path.join(modelDir, 'examples.json'), 'utf8')) as { examples: Array<{ label: number; testIndex: number; input: number[] }> }).examples;

const line = (extra: Record<string, unknown>, r: ExactResult) =>
  console.log(JSON.stringify({
    ...extra,
    status: r.status,
    value: r.value,
    upperBound: r.upperBound,
    gap: r.gap,
    seconds: Number(r.totalSeconds.toFixed(2)),
    solveSeconds: Number(r.solveSeconds.toFixed(2)),
    nodes: r.nodes,
    warmStartValue: r.warmStartValue,
    source: r.source,
    binaries: r.encoding?.binaries,
    unstable: r.encoding?.unstable,
    withoutBinary: r.encoding?.withoutBinary,
  }));

console.log(JSON.stringify({ bench: 'exact', model: 'models/fashion-mnist-mlp', backend, timeLimit, cpus: os.cpus().length, loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))) }));

if (part === 'all' || part === 'a') {
  for (let k = c0; k <= c1; k++) {
    const r = await maximizeExact(model, { kind: 'logit', index: k }, { timeLimit });
    line({ part: 'a', constraint: 'box [0,1]^784', objective: `logit:${k}` }, r);
  }
}
if (part === 'all' || part === 'b') {
  // One image per class (examples.json holds two per class, in class order).
  const picked = examples.filter((_, i) => i % 2 === 0).slice(0, images);
  for (const eps of epsList) {
    for (const ex of picked) {
      const target = (ex.label + 1) % 10;
      const r = await maximizeExact(model, { kind: 'logit', index: target }, {
        timeLimit,
        constraints: [{ kind: 'ball', ref: ex.input, eps, p: 'inf' }],
      });
      line({ part: 'b', eps, testIndex: ex.testIndex, label: ex.label, objective: `logit:${target}` }, r);
    }
  }
}
if (part === 'all' || part === 'c') {
  const { stored } = await loadDatasetPrior(model);
  const prior = subspacePrior(stored, 32);
  const table = ['| class | status | value | upper bound | seconds (total / MILP) | binaries | distance to the prior\'s set |', '|---|---|---|---|---|---|---|'];
  for (let k = c0; k <= c1; k++) {
    const r = await maximizeExact(model, { kind: 'logit', index: k }, { timeLimit, constraints: [{ kind: 'prior', prior }] });
    const residual = r.input.length ? subspaceResidual(prior, r.input) : null;
    line({ part: 'c', constraint: 'prior dataset:subspace:32 (0.5–99.5 % box) ∩ box [0,1]^784', objective: `logit:${k}`, priorResidual: residual }, r);
    table.push(`| ${k} | ${r.status} | ${r.value?.toFixed(4) ?? '-'} | ${r.upperBound?.toFixed(4) ?? '-'} | ${r.totalSeconds.toFixed(1)} / ${r.solveSeconds.toFixed(1)} | ${r.encoding?.binaries ?? '-'} | ${residual?.toExponential(1) ?? '-'} |`);
  }
  console.log(`\nexact --prior dataset:subspace:32, logit:K, time limit ${timeLimit} s; load average at the end ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} (2 cores)\n\n${table.join('\n')}`);
}
