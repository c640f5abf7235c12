// `npm run test:cpu`: the suite with each file in its own process and its CPU seconds logged
// (test/helpers/cpu-usage.ts), then summed by scripts/test-cpu.ts. Wall time on a shared machine
// says little; CPU time is what `npm test` needs from 2 quiet cores (the sum / 2, or the longest
// file if that is longer). Files that `npm test` runs in a shared process cost less there.
import { defineConfig } from 'vitest/config';
import base, { exclude, include } from './vitest.config.js';

const { projects: _, ...test } = base.test!;
export default defineConfig({ test: { ...test, include, exclude, isolate: true, setupFiles: ['test/helpers/cpu-usage.ts'] } });
