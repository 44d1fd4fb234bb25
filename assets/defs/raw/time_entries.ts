import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** The nightly time clock exports (tab-separated), one daily partition per file, loaded as text. */
export const timeEntries = landingFileAsset({
  key: 'raw/time_entries',
  file: 'time_entries_{date}.tsv',
  delimiter: '\t',
  description:
    'Nightly time clock exports (time_entries_YYYY-MM-DD.tsv, tab-separated), all text, partitioned by ' +
    'the file’s date (_file_date): clock-in and clock-out per shift with employee, job and hourly rate.',
  tags: { domain: 'labor' },
});
