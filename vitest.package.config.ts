// `npm run test:package`: the packed-and-installed package (slow: a build and a ≈ 650 MB install).
import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['test/packaged/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_500_000,
    pool: 'forks',
  },
});
