/**
 * Every `@example` in the doc comments of the public API (everything src/index.ts and
 * src/browser.ts export) compiles with tsc and runs; lines commented with a literal or `// throws`
 * are checked (test/doc-examples/generate.ts). Every exported function and class has an example.
 * Adding a public function: give it an @example that runs with only the public exports, `tf`,
 * and the names in test/doc-examples/context.ts; this test picks it up.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { docContext, type DocContext } from './doc-examples/context.js';
import { exportedNames, publicExamples } from './doc-examples/extract.js';
import { exampleModule } from './doc-examples/generate.js';
import { REPO } from './helpers.js';

const { examples, names } = publicExamples(REPO);
const outDir = path.join(REPO, '.tmp', 'doc-examples');
const files = examples.map((ex, i) => path.join(outDir, `${String(i).padStart(3, '0')}-${ex.name.replace(/\W/g, '_')}.ts`));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'actmax-doc-examples-'));
let ctx: DocContext;
let typeErrors = '';

beforeAll(async () => {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const index = [...exportedNames(path.join(REPO, 'src/index.ts')).keys()];
  const browser = [...exportedNames(path.join(REPO, 'src/browser.ts')).keys()].filter((n) => !index.includes(n));
  examples.forEach((ex, i) => writeFileSync(files[i], exampleModule(ex, { index, browser }, REPO, outDir)));
  writeFileSync(path.join(outDir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { rootDir: '../..', noEmit: true }, include: ['*.ts', '../../src/image/gifenc.d.ts'] }));
  // Incremental: a repeat run re-checks only what changed (≈ 2 CPU s instead of ≈ 7); the build
  // info sits outside outDir, which is emptied above, and it re-reports errors of unchanged files.
  const tsc = await promisify(execFile)(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', path.join(outDir, 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', path.join(REPO, '.tmp', 'doc-examples.tsbuildinfo')], { cwd: REPO }).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  );
  typeErrors = tsc;
  mkdirSync(path.join(scratch, 'test'));
  symlinkSync(path.join(REPO, 'models'), path.join(scratch, 'models'));
  symlinkSync(path.join(REPO, 'test', 'fixtures'), path.join(scratch, 'test', 'fixtures'));
  await useBackend('wasm');
  ctx = await docContext(REPO);
}, 180_000);

afterAll(() => {
  ctx?.model.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

describe('doc examples of the public API', () => {
  it('every exported function and class has an @example', () => {
    const withExample = new Set(examples.map((e) => e.name));
    const missing = [...names].filter(([n, f]) => new RegExp(`export\\s+(?:async\\s+)?(?:function|class)\\s+${n}\\b|export\\s+const\\s+${n}\\s*=\\s*(?:async\\s*)?\\(`).test(readFileSync(f, 'utf8')) && !withExample.has(n));
    expect(missing.map(([n, f]) => `${n} (${path.relative(REPO, f)})`)).toEqual([]);
    expect(examples.length).toBeGreaterThanOrEqual(70);
  });

  it('every example compiles (tsc, strict)', () => {
    // Errors name the generated file; its first line says which doc comment it came from.
    const byFile = typeErrors.split('\n').filter((l) => l.includes('doc-examples/')).map((l) => {
      const f = /([\w-]+\.ts)\(/.exec(l)?.[1];
      const origin = f ? readFileSync(path.join(outDir, f), 'utf8').split('\n')[0] : '';
      return `${l}  ← ${origin}`;
    });
    expect(byFile).toEqual([]);
    expect(typeErrors).toBe('');
  });

  examples.forEach((ex, i) => {
    it(`${ex.name} (${ex.file}:${ex.line}) runs`, async () => {
      const cwd = process.cwd();
      process.chdir(scratch);
      try {
        const mod = (await import(pathToFileURL(files[i]).href)) as { default: (c: DocContext) => Promise<void> };
        await mod.default(ctx);
      } finally {
        process.chdir(cwd);
        await useBackend('wasm'); // an example may switch backends
      }
    }, 120_000);
  });
});
