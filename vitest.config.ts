import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      // Asset modules import the public API as 'strata' (the CLI maps it the same way).
      { find: 'strata', replacement: fileURLToPath(new URL('./core/index.ts', import.meta.url)) },
      // The browser modules (ui/static/js) import core's formatters as ../shared/NAME.js, which the UI
      // server serves from core/model/format/ (ui/static-pages.ts): the unit tests import them the same way.
      { find: /^\.\.\/shared\/(.+)$/, replacement: `${fileURLToPath(new URL('./core/model/format/', import.meta.url))}$1` },
    ],
  },
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    include: ['tests/**/*.test.ts'],
    // Type tests of the public API (tests/types/*.test-d.ts): checked by tsc, not run.
    typecheck: { enabled: true, include: ['tests/types/**/*.test-d.ts'], tsconfig: './tests/types/tsconfig.json' },
    globalSetup: ['./tests/engine-build-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
