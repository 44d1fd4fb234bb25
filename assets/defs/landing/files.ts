/** The files the point of sale and the time clock drop every night, observed as source assets. */
import { landingSource } from '../../lib/landing-source.ts';

export const ordersFiles = landingSource({
  key: 'landing/orders',
  file: 'orders_{date}.csv',
  description: 'Nightly POS order exports (orders_YYYY-MM-DD.csv).',
});

export const orderItemsFiles = landingSource({
  key: 'landing/order_items',
  file: 'order_items_{date}.csv',
  description: 'Nightly POS order item exports (order_items_YYYY-MM-DD.csv).',
});

export const paymentsFiles = landingSource({
  key: 'landing/payments',
  file: 'payments_{date}.tsv',
  description: 'Nightly POS payment exports (payments_YYYY-MM-DD.tsv).',
});

export const timeEntriesFiles = landingSource({
  key: 'landing/time_entries',
  file: 'time_entries_{date}.tsv',
  description: 'Nightly time clock exports (time_entries_YYYY-MM-DD.tsv).',
});

export const locationsFile = landingSource({ key: 'landing/locations', file: 'locations.csv', description: 'The locations snapshot (locations.csv).' });

export const menuItemsFile = landingSource({ key: 'landing/menu_items', file: 'menu_items.csv', description: 'The menu snapshot (menu_items.csv).' });
