import { notEmptyString, notNull } from 'strata';
import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** The nightly order item exports, one daily partition per file, loaded as text. */
export const orderItems = landingFileAsset({
  key: 'raw/order_items',
  file: 'order_items_{date}.csv',
  delimiter: ',',
  description:
    'Nightly POS order item exports (order_items_YYYY-MM-DD.csv), all text, partitioned by the file’s ' +
    'date (_file_date): every item selection of every exported order, so items of a re-sent order come twice.',
  tags: { domain: 'sales' },
  // An item line without its order cannot be joined later: stop the file here.
  checks: [notNull('order_id'), notEmptyString('order_id')],
});
