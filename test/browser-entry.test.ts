// The browser entry (`actmax/browser`, src/browser.ts) bundles for a browser with no Node module
// anywhere in its import graph; the Node entry, bundled the same way, does not (so the check can fail).
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { browserTwins, twinOf } from '../scripts/browser-twins.js';
import { REPO } from './helpers.js';

/** The package.json "browser" swaps, applied to the TypeScript sources. */
function twinsPlugin(): Plugin {
  const twins = browserTwins();
  return {
    name: 'browser-twins',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const twin = twinOf(args.path, args.importer, twins);
        return twin ? { path: twin } : undefined;
      });
    },
  };
}

/** Bundle an entry for the browser; the Node built-in modules its graph reaches (esbuild marks them unresolvable). */
async function bundleForBrowser(entry: string): Promise<{ errors: string[]; inputs: string[]; bytes: number }> {
  const result = await build({
    entryPoints: [path.join(REPO, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [twinsPlugin()],
  }).catch((e: { errors?: Array<{ text: string }> }) => ({ errors: e.errors ?? [{ text: String(e) }], metafile: null, outputFiles: [] }));
  return {
    errors: result.errors.map((e) => e.text),
    inputs: result.metafile ? Object.keys(result.metafile.inputs) : [],
    bytes: result.outputFiles?.[0]?.contents.byteLength ?? 0,
  };
}

describe('browser entry', () => {
  it('src/browser.ts bundles for the browser platform with no Node built-in module', async () => {
    const { errors, inputs, bytes } = await bundleForBrowser('src/browser.ts');
    expect(errors).toEqual([]);
    expect(inputs.filter((i) => /^node:|(^|\/)(fs|path|url|worker_threads|module|child_process)$/.test(i))).toEqual([]);
    // The browser twins replaced the Node files.
    expect(inputs).toContain('src/exact/solver-thread.browser.ts');
    expect(inputs).toContain('src/model/local-files.browser.ts');
    expect(inputs).not.toContain('src/exact/solver-thread.ts');
    expect(inputs).not.toContain('src/model/local-files.ts');
    expect(bytes).toBeGreaterThan(100_000);
  }, 120_000);

  it('the Node entry does reach Node modules (the check above can fail)', async () => {
    const { errors } = await bundleForBrowser('src/index.ts');
    expect(errors.join('\n')).toMatch(/node:(fs|path)/);
  }, 120_000);
});
