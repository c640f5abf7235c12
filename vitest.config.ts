import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The packed-and-installed package: `npm run test:package` (vitest.package.config.ts).
    exclude: ['test/packaged/**', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one file at a time on these 2 cores,
    // while many files mostly wait (child processes, Chromium, Redis, timers). Two files at a time
    // keep both cores busy. Files stay isolated (each in its own process): tests switch TF.js
    // backends, change the working directory and count tensors.
    maxWorkers: 2,
  },
});
