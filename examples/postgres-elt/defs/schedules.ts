import { schedule } from 'strata';

/**
 * The nightly load: every asset at 06:00 UTC. Each raw asset brings only the rows changed since
 * the last load. A step that fails (Postgres restarting, a lost connection) is tried 3 times,
 * 5 minutes apart: the project's `retries` in strata.json.
 */
export const dailyLoad = schedule({
  name: 'daily_load',
  cron: '0 6 * * *',
  timezone: 'UTC',
  selection: '*',
  description: 'The whole pipeline, every day at 06:00 UTC: incremental loads, models, snapshot.',
});
