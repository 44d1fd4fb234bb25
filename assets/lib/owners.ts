/** The teams that own the example's assets. */

/** Owns ingestion and cleaning: the raw and staging layers. */
export const DATA_ENG = 'data-eng@bistro.example';

/** Owns the marts and features that reports and models read. */
export const ANALYTICS = 'analytics@bistro.example';
