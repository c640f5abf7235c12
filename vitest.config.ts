import { defineConfig } from 'vitest/config';

/**
 * Test files that run in one shared process per worker (`isolate: false`): they spawn nothing,
 * register no signal handlers, keep the working directory, and set the TF.js backend they need.
 * Each would otherwise pay ≈ 1–1.5 CPU s for its own process and TF.js import; these 34 files
 * take 36 CPU s shared against 83 isolated (measured under load, the same 352 tests passing).
 * Every other file runs in a fresh process, as does any new file until it is listed here.
 */
const SHARED_PROCESS = [
  'src/atlas/plan.test.ts',
  'src/cli/image-flags.test.ts',
  'src/cli/prior-spec.test.ts',
  'src/cli/serve-dir.test.ts',
  'src/cli/serve.test.ts',
  'src/engine/wasm-kernels.test.ts',
  'src/exact/bnb/shallow.test.ts',
  'src/exact/bnb/soundness.test.ts',
  'src/exact/bounds.test.ts',
  'src/exact/lpText.test.ts',
  'src/exact/network.test.ts',
  'src/ir/from-layers.test.ts',
  'src/ir/tfjs-exec.test.ts',
  'src/model/keras/bad-files.test.ts',
  'src/model/keras/layers.test.ts',
  'src/model/keras/multi-io.test.ts',
  'src/model/tfjs/quantized.test.ts',
  'src/model/tfjs/tfjs.test.ts',
  'src/param/layout.test.ts',
  'src/param/param.test.ts',
  'src/prior/maximize-prior.test.ts',
  'src/prior/pca.test.ts',
  'src/prior/project.test.ts',
  'src/prior/store.test.ts',
  'src/transforms/transforms.test.ts',
  'test/boundaries.test.ts',
  'test/browser-entry.test.ts',
  'test/bundled-model.test.ts',
  'test/fixtures.test.ts',
  'test/multi-input.test.ts',
  'test/nan.test.ts',
  'test/package.test.ts',
  'test/sources.test.ts',
  'test/web-settings.test.ts',
];

export const include = ['src/**/*.test.ts', 'test/**/*.test.ts'];
// The packed-and-installed package: `npm run test:package` (vitest.package.config.ts).
export const exclude = ['test/packaged/**', '**/node_modules/**'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one file at a time on these 2 cores,
    // while many files mostly wait (child processes, Chromium, Redis, timers). Two files at a time
    // keep both cores busy.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED_PROCESS, exclude, isolate: false } },
      // Tests here switch backends, change the working directory, count tensors or run child processes.
      { extends: true, test: { name: 'isolated', include, exclude: [...exclude, ...SHARED_PROCESS] } },
    ],
  },
});
