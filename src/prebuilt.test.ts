import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { prebuiltModule } from './prebuilt.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'actmax-prebuilt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(path.join(dir, 'atlas'));
writeFileSync(path.join(dir, 'atlas', 'thread.js'), '');
const source = (rel: string) => new URL(rel, import.meta.url).href;

describe('prebuiltModule', () => {
  it('maps a source module to its JavaScript in the build (tsx queries ignored)', () => {
    const want = pathToFileURL(path.join(dir, 'atlas', 'thread.js')).href;
    expect(prebuiltModule(source('./atlas/thread.ts'), dir)).toBe(want);
    expect(prebuiltModule(`${source('./atlas/thread.ts')}?tsx-namespace=1`, dir)).toBe(want);
  });

  it('gives undefined without a build, for a module the build lacks, or outside src/', () => {
    expect(prebuiltModule(source('./atlas/thread.ts'), '')).toBeUndefined();
    expect(prebuiltModule(source('./atlas/pool.ts'), dir)).toBeUndefined();
    expect(prebuiltModule(source('../test/helpers.ts'), dir)).toBeUndefined();
  });
});
