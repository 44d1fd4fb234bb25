import { schedule } from 'strata';

/**
 * The nightly marts: at 04:30 Pacific time every restaurant's business day is over (the
 * westernmost close last), so the latest complete daily partition at the tick is yesterday's.
 * The marts read staging, which reads the raw files: run `assets daemon` and each night
 * rebuilds yesterday's marts (the monthly roll-up rebuilds its latest complete month).
 */
export const nightlyMarts = schedule({
  name: 'nightly_marts',
  cron: '30 4 * * *',
  timezone: 'America/Los_Angeles',
  selection: 'marts/*',
  partition: 'latest',
  description: "Yesterday's marts, every night at 04:30 Pacific.",
});
