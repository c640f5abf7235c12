import { readFileSync } from 'node:fs';
import { withH5, readStringAttr } from '../src/model/keras/h5.js';
const bytes = new Uint8Array(readFileSync(process.argv[2]));
const t = performance.now();
const txt = await withH5(bytes, 'x.h5', (f) => { console.log('opened', performance.now() - t); const s = readStringAttr(f, 'model_config'); console.log('read attr', performance.now() - t, s?.length); return s; });
try { JSON.parse(txt!); console.log('parsed'); } catch (e) { console.log('parse error', (e as Error).message.slice(0, 200)); }
