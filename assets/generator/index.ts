/**
 * The example's landing-zone generator: deterministic, seeded POS exports for a six-location
 * restaurant group (orders, order items, payments, time entries, menu, locations), with
 * optional injected bad data for data-quality checks to catch.
 */
export { ensureLanding, generateLanding } from './generate-landing.ts';
export type { GenerateSummary } from './generate-landing.ts';
export { DEFAULT_GENERATE_OPTIONS, resolveGenerateOptions, simulateLanding } from './simulate-landing.ts';
export type { GenerateOptions, ResolvedGenerateOptions } from './simulate-landing.ts';
export { HEADERS } from './landing-files.ts';
export type { LandingFile } from './landing-files.ts';
export { FAULT_KINDS, checkFaultSpecs, formatFaultSpecs, parseFaultSpecs } from './fault-spec.ts';
export type { FaultKind, FaultSpec } from './fault-spec.ts';
export { applyFaults } from './landing-faults.ts';
export type { FaultEffect } from './landing-faults.ts';
export { injectFaults, restoreDays } from './redeliver-days.ts';
export type { RedeliverOptions, RedeliverSummary } from './redeliver-days.ts';
