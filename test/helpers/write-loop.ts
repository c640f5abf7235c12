// Child for test/interrupt.test.ts: rewrites DIR/result.json (two alternating ≈2 MB documents) and
// DIR/grid.png with writeFileAtomic as fast as it can, until it is killed.
import path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { encodePng } from '../../src/io/png.js';

const dir = process.argv[2];
const doc = (tag: string) => JSON.stringify({ tag, interrupted: false, values: Array.from({ length: 100_000 }, (_, i) => i * 1.5) }, null, 2) + '\n';
const docs = [doc('A'), doc('B')];
const png = (v: number) => encodePng({ width: 256, height: 256, data: new Uint8Array(256 * 256 * 4).fill(v) });
const pngs = [png(10), png(200)];
for (let i = 0; ; i++) {
  await writeFileAtomic(path.join(dir, 'result.json'), docs[i % 2]);
  await writeFileAtomic(path.join(dir, 'grid.png'), pngs[i % 2]);
  if (i === 0) process.stdout.write('@@ready\n');
}
