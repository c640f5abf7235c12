// npm run soak [-- --steps 10000 --backend wasm --engine tfjs|onnx|auto]
// 10,000 gradient steps on the bundled model: tf.memory().numTensors must stay constant and the
// process RSS within 10 % of its value after the first 500 steps. Prints the figures.
// `npm run soak` runs it with --expose-gc and samples after a full GC: without that, V8 lets
// ≈12 KB/step of short-lived garbage pile up in old space until its first full GC (≈10,000 steps,
// RSS peaking ≈300 MB), after which RSS stays flat (≈191 MB over 30,000 steps).
import { parseArgs } from 'node:util';
import { soak } from './soak-run.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10000' }, backend: { type: 'string', default: 'wasm' }, restarts: { type: 'string', default: '4' }, engine: { type: 'string', default: 'tfjs' } } });
const r = await soak({ steps: Number(values.steps), backend: values.backend as 'wasm' | 'cpu', restarts: Number(values.restarts), every: 250, engine: values.engine as 'tfjs' | 'onnx' | 'auto', gc: typeof globalThis.gc === 'function' });
console.log(`soak: ${r.steps} steps × ${r.rows} rows, engine ${r.engine} (TF.js backend ${r.backend}) in ${r.seconds.toFixed(1)} s (${((r.steps * r.rows) / r.seconds).toFixed(0)} image-steps/s), best logit ${r.best.toFixed(3)}`);
console.log('step      numTensors  numBytes    rss MB   heap MB');
for (const s of r.samples.filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 20)) === 0 || i === a.length - 1)) {
  console.log(`${String(s.step).padEnd(9)} ${String(s.numTensors).padEnd(11)} ${String(s.numBytes).padEnd(11)} ${s.rssMb.toFixed(1).padEnd(8)} ${s.heapMb.toFixed(1)}`);
}
console.log(`numTensors between steps: ${r.tensorCounts.join(', ')} (${r.tensorCounts.length === 1 ? 'constant' : 'CHANGING'})`);
const gcNote = typeof globalThis.gc === 'function'
  ? 'RSS and heap sampled right after a full GC (node --expose-gc), so they show retained memory, not garbage V8 has not collected yet'
  : 'RSS sampled as is (no --expose-gc): V8 defers its first full GC, so garbage can pile up before it runs';
console.log(gcNote);
console.log(`RSS after 500 steps ${r.rssAtWarmup.toFixed(1)} MB; after it min ${r.rssMin.toFixed(1)}, max ${r.rssMax.toFixed(1)}, final ${r.rssFinal.toFixed(1)} MB; largest drift ${(100 * r.rssDrift).toFixed(2)} %`);
const ok = r.tensorCounts.length === 1 && r.rssDrift <= 0.1;
console.log(ok ? 'PASS' : 'FAIL: tensors leak or RSS drifts more than 10 %');
process.exitCode = ok ? 0 : 1;
