/**
 * The example's landing-zone generator: deterministic, seeded POS exports for a six-location
 * restaurant group (orders, order items, payments, time entries, menu, locations).
 */
export { ensureLanding, generateLanding } from './generate-landing.ts';
export type { GenerateSummary } from './generate-landing.ts';
export { DEFAULT_GENERATE_OPTIONS, resolveGenerateOptions, simulateLanding } from './simulate-landing.ts';
export type { GenerateOptions, ResolvedGenerateOptions } from './simulate-landing.ts';
export { HEADERS } from './landing-files.ts';
export type { LandingFile } from './landing-files.ts';
