// `npm run test:cpu`: the suite with each file's CPU seconds logged (test/helpers/cpu-usage.ts),
// then summed by scripts/test-cpu.ts. Wall time on a shared machine says little; CPU time is
// what `npm test` needs from 2 quiet cores (the sum / 2, or the longest file if that is longer).
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(base, defineConfig({ test: { setupFiles: ['test/helpers/cpu-usage.ts'], isolate: true } }));
