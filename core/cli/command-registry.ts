import type { Command } from './command.ts';

/** A command as `assets --help` lists it; its module is loaded only when it runs. */
export interface CommandEntry {
  readonly name: string;
  /** One line for `assets --help`. */
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * Every `assets` command. Loading a command's module loads the engine parts it uses, so
 * `assets list` never loads the executor, storage or the daemon.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'list',
    summary: 'list assets (optionally a selection) with kind, group and upstream',
    load: async () => (await import('./commands/list-command.ts')).listCommand,
  },
  {
    name: 'materialize',
    summary: 'materialize the selected assets in dependency order',
    load: async () => (await import('./commands/materialize-command.ts')).materializeCommand,
  },
  {
    name: 'backfill',
    summary: 'materialize a selection over a partition range (resumable)',
    load: async () => (await import('./commands/backfill-command.ts')).backfillCommand,
  },
  {
    name: 'backfills',
    summary: 'list backfills, show one, or cancel one',
    load: async () => (await import('./commands/backfills-command.ts')).backfillsCommand,
  },
  {
    name: 'status',
    summary: 'show each asset’s last materialization, rows, and partitions materialized / missing / failed',
    load: async () => (await import('./commands/status-command.ts')).statusCommand,
  },
  {
    name: 'checks',
    summary: 'run data-quality checks on what is materialized now; list past results',
    load: async () => (await import('./commands/checks-command.ts')).checksCommand,
  },
  {
    name: 'runs',
    summary: 'list runs, or show one run with its event log',
    load: async () => (await import('./commands/runs-command.ts')).runsCommand,
  },
  {
    name: 'query',
    summary: 'run one read-only SQL statement against the warehouse and print the rows',
    load: async () => (await import('./commands/query-command.ts')).queryCommand,
  },
  {
    name: 'lineage',
    summary: 'show the upstream and downstream lineage of an asset as a tree',
    load: async () => (await import('./commands/lineage-command.ts')).lineageCommand,
  },
  {
    name: 'dbt',
    summary: "list the dbt project's models and seeds with the asset each became (dbt ls)",
    load: async () => (await import('./commands/dbt-command.ts')).dbtCommand,
  },
  {
    name: 'ui',
    summary: 'serve the web UI and its JSON API: lineage, assets, runs; launch runs and backfills',
    load: async () => (await import('./commands/ui-command.ts')).uiCommand,
  },
  {
    name: 'daemon',
    summary: 'run schedules and automation conditions; list past ticks',
    load: async () => (await import('./commands/daemon-command.ts')).daemonCommand,
  },
  {
    name: 'worker',
    summary: 'run the runs queued with --queue, claimed from the shared Postgres storage',
    load: async () => (await import('./commands/worker-command.ts')).workerCommand,
  },
  {
    name: 'storage',
    summary: 'move the SQLite storage to Postgres (storage migrate --to postgres://…), verified by counts',
    load: async () => (await import('./commands/storage-command.ts')).storageCommand,
  },
];
