import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Asset modules import the public API as 'strata' (the CLI maps it the same way).
  resolve: { alias: { strata: fileURLToPath(new URL('./core/index.ts', import.meta.url)) } },
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
