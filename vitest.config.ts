import { availableParallelism } from 'node:os';
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
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Test files run side by side: at least two at once (vitest's default, cores − 1, would run one at a time on
    // CI's 2 cores; two at once fill the second core while a file waits for a CLI process, a poll or Postgres:
    // on a quiet 2-core machine 2,303 tests took 510 s two at a time, where 2,180 took 637 s one at a time).
    // Each file runs in a process of its own, so a test file
    // must share nothing with another one that may run at the same time:
    // - folders: its own temp folders (Sandbox.create, openTempWorkspace, fs.mkdtempSync), never a fixed path
    //   or a folder of the repository (the example project is copied, never run in place);
    // - ports: listen on port 0 (`assets ui --port 0`) and read the port back, never a fixed one;
    // - Postgres: its own schema or database, named after the file and `process.pid`
    //   (`cli_worker_${process.pid}`), dropped in afterAll; a table of the shared `public` schema only under
    //   a name no other file uses;
    // - timing: a bound on elapsed time holds on a busy machine (seconds, not milliseconds), and a wait
    //   polls for its condition rather than sleeping a fixed time.
  },
});
