import { rowCountAnomaly } from 'strata';
import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** The nightly order exports, one daily partition per file, loaded as text. */
export const orders = landingFileAsset({
  key: 'raw/orders',
  file: 'orders_{date}.csv',
  delimiter: ',',
  description:
    'Nightly POS order exports (orders_YYYY-MM-DD.csv), all text, one row per exported line; ' +
    'partitioned by the file’s date (_file_date). Orders still open at export time are re-sent, ' +
    'closed, in the next day’s file.',
  tags: { domain: 'sales' },
  // A day's export far below the two weeks before it is a truncated file: stop it here.
  // (Across 2025, a day differs from its trailing average by at most 45%.)
  checks: [rowCountAnomaly({ lookback: 14, maxPercent: 70 })],
});
