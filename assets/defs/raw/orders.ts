import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** Every nightly order export, loaded as text. */
export const orders = landingFileAsset({
  key: 'raw/orders',
  pattern: 'orders_*.csv',
  delimiter: ',',
  description:
    'Nightly POS order exports (orders_YYYY-MM-DD.csv), all text, one row per exported line. ' +
    'Orders still open at export time are re-sent, closed, in the next day’s file.',
  tags: { domain: 'sales' },
});
