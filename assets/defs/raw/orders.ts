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
});
