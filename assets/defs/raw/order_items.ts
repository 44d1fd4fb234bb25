import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** Every nightly order item export, loaded as text. */
export const orderItems = landingFileAsset({
  key: 'raw/order_items',
  pattern: 'order_items_*.csv',
  delimiter: ',',
  description:
    'Nightly POS order item exports (order_items_YYYY-MM-DD.csv), all text: ' +
    'every item selection of every exported order.',
  tags: { domain: 'sales' },
});
