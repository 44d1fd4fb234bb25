import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Asset modules import the public API as 'strata' (the CLI maps it the same way).
  resolve: { alias: { strata: fileURLToPath(new URL('./core/index.ts', import.meta.url)) } },
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    include: ['tests/**/*.test.ts'],
    // Type tests of the public API (tests/types/*.test-d.ts): checked by tsc, not run.
    typecheck: { enabled: true, include: ['tests/types/**/*.test-d.ts'], tsconfig: './tests/types/tsconfig.json' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
