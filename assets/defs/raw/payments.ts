import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** Every nightly payment export (tab-separated), loaded as text. */
export const payments = landingFileAsset({
  key: 'raw/payments',
  pattern: 'payments_*.tsv',
  delimiter: '\t',
  description:
    'Nightly POS payment exports (payments_YYYY-MM-DD.tsv, tab-separated), all text: ' +
    'card, cash and gift card payments with tips.',
  tags: { domain: 'payments' },
});
