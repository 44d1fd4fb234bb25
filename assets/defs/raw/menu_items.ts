import { landingFileAsset } from '../../lib/landing-file-asset.ts';

/** The menu snapshot, loaded as text. */
export const menuItems = landingFileAsset({
  key: 'raw/menu_items',
  file: 'menu_items.csv',
  delimiter: ',',
  description: 'The current menu snapshot (menu_items.csv), all text: items, categories, prices and plate costs.',
  tags: { domain: 'menu' },
});
