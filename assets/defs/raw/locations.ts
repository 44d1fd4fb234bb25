import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** The locations snapshot, loaded as text. */
export const locations = landingFileAsset({
  key: 'raw/locations',
  file: 'locations.csv',
  delimiter: ',',
  description: 'The locations snapshot (locations.csv), all text: restaurants with city, time zone, opening hours and sales tax rate.',
  tags: { domain: 'sales' },
});
