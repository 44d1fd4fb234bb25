import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** Every nightly time clock export (tab-separated), loaded as text. */
export const timeEntries = landingFileAsset({
  key: 'raw/time_entries',
  pattern: 'time_entries_*.tsv',
  delimiter: '\t',
  description:
    'Nightly time clock exports (time_entries_YYYY-MM-DD.tsv, tab-separated), all text: ' +
    'clock-in and clock-out per shift with employee, job and hourly rate.',
  tags: { domain: 'labor' },
});
