import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that run in one shared process per worker (`isolate: false`): they spawn nothing,
 * register no signal handlers, keep the working directory, and set the TF.js backend they need.
 * Each would otherwise pay ≈ 1–3 CPU s for its own process and TF.js import: 50 of these files
 * took 113 CPU s shared against 226 isolated (`vitest run --project shared` vs `npm run test:cpu`,
 * both under load 25, the same 574 tests passing).
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
  'src/optimize/results.test.ts',
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
  // Added for issue 13 (no child processes, no signal handlers, no chdir; each sets its backend or
  // needs none; worker threads they start end with their test).
  'src/constraints/project.test.ts',
  'src/data/fashion.test.ts',
  'src/engine/onnx/rules/rules.test.ts',
  'src/engine/onnx/pipeline/penalty.test.ts',
  'src/exact/bnb/lifted.test.ts',
  'src/exact/bundled.test.ts',
  'src/exact/maximizeExact.test.ts',
  'src/exact/pl-ops.test.ts',
  'src/exact/polish.test.ts',
  'src/exact/prior.test.ts',
  'src/exact/union.test.ts',
  'src/image/image.test.ts',
  'src/model/tfjs/per-row.test.ts',
  'src/pipeline/channels-first.test.ts',
  'test/exact-cli.test.ts',
  'test/exact-multi-input.test.ts',
  // Added in session 4 (issue 13), the same checks: no child processes, no signal handlers, no
  // chdir, no process.exitCode; each sets the backend it needs; worker threads close in afterAll.
  // Not test/hostile-files.test.ts: it matches TF.js's layer names, which a shared process has
  // already numbered (dense/kernel_13). The 66 files: 214 CPU s here vs 385 s isolated (load 7–15).
  'src/atlas/atlas.test.ts',
  'src/engine/onnx/engine.test.ts',
  'src/engine/onnx/layers.test.ts',
  'src/engine/onnx/rules/reference.test.ts',
  'src/engine/pipeline-accuracy.test.ts',
  'src/engine/select.test.ts',
  'src/exact/bnb/bnb.test.ts',
  'src/exact/boxMilp.test.ts',
  'src/exact/polytopeBound.test.ts',
  'src/objectives/channels-first.test.ts',
  'src/optimize/fused.test.ts',
  'src/pipeline/reference64.test.ts',
  'src/prebuilt.test.ts',
  'test/cli.test.ts',
  'test/image-robustness.test.ts',
  'test/maximize.test.ts',
  'test/prior-realism.test.ts',
  'test/realworld-onnx.test.ts',
  'test/realworld.test.ts',
  'test/soak.test.ts',
];

/**
 * The files that take longest on 2 cores (mostly waiting on child processes, Chromium, Redis or a
 * solver), slowest first: they start first, so the two workers end together instead of one long
 * file running alone at the end (`npm run test:cpu` measures them). The rest follow in vitest's
 * order; the shared-process files run last.
 */
const LONGEST_FIRST = [
  'test/web-e2e.test.ts',
  'test/prior-realism.test.ts',
  'test/interrupt.test.ts',
  'test/atlas-distributed.test.ts',
  'test/fuzz.test.ts',
  'test/determinism.test.ts',
  'src/atlas/queue.test.ts',
  'test/doc-examples.test.ts',
  'src/exact/bnb/bnb.test.ts',
  'test/realworld.test.ts',
  'src/exact/bundled.test.ts',
  'test/realworld-onnx.test.ts',
  'src/exact/maximizeExact.test.ts',
  'test/atlas-site.test.ts',
  'src/atlas/atlas.test.ts',
  'src/optimize/fused.test.ts',
  'test/maximize.test.ts',
  'test/hostile-files.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(path.relative(import.meta.dirname, f.moduleId));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    const order = await super.sort(files);
    return order.map((f, i) => ({ f, i, r: rank(f) })).sort((a, b) => a.r - b.r || a.i - b.i).map(({ f }) => f);
  }
}

export const include = ['src/**/*.test.ts', 'test/**/*.test.ts'];
// The packed-and-installed package: `npm run test:package` (vitest.package.config.ts).
export const exclude = ['test/packaged/**', '**/node_modules/**'];

export default defineConfig({
  test: {
    // Transpiles src/ once for the CLI children and worker threads the tests start (ACTMAX_PREBUILT).
    globalSetup: ['test/helpers/prebuild.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Four files at a time on these 2 cores: many files mostly wait (child processes, Chromium,
    // Redis, solver threads, timers), so two at a time left the cores idle. Quiet machine, same
    // 981 tests: 2 workers 219 s wall, 3 workers 203 s, 4 workers 181 s.
    maxWorkers: 4,
    sequence: { sequencer: LongestFirst },
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED_PROCESS, exclude, isolate: false } },
      // Tests here switch backends, change the working directory, count tensors or run child processes.
      { extends: true, test: { name: 'isolated', include, exclude: [...exclude, ...SHARED_PROCESS] } },
    ],
  },
});
