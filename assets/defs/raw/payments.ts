import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** The nightly payment exports (tab-separated), one daily partition per file, loaded as text. */
export const payments = landingFileAsset({
  key: 'raw/payments',
  file: 'payments_{date}.tsv',
  delimiter: '\t',
  description:
    'Nightly POS payment exports (payments_YYYY-MM-DD.tsv, tab-separated), all text, partitioned by the ' +
    'file’s date (_file_date): card, cash and gift card payments with tips. An order still open at export ' +
    'time has its payments in the next day’s file.',
  tags: { domain: 'payments' },
});
