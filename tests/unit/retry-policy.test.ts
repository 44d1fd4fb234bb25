/**
 * Retry policies as data: the delay before each retry (backoff, cap, jitter with an injected
 * random), the SQL header form, and the clear errors bad policies give in `asset()`, SQL
 * headers and strata.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { parseDuration } from '../../core/model/definitions/duration.ts';
import { describeRetryPolicy, parseRetriesText, retryDelayMs, retryPolicySchema, type RetryPolicy } from '../../core/model/definitions/retry-policy.ts';
import { parseSqlAssetFile, sqlAssetDefinition } from '../../core/model/definitions/sql-asset-file.ts';
import { ConfigError, DefinitionError } from '../../core/model/errors.ts';
import { loadProjectConfig } from '../../core/engine/project/project-config.ts';

const policy = (overrides: Partial<RetryPolicy>): RetryPolicy => ({
  maxRetries: 5,
  delayMs: 1_000,
  backoff: 'exponential',
  jitter: 0,
  maxDelayMs: 60_000,
  ...overrides,
});

describe('retryDelayMs', () => {
  it('doubles the delay with exponential backoff, up to the cap', () => {
    const p = policy({ maxDelayMs: 5_000 });
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(p, n))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('grows linearly, or stays constant', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(policy({ backoff: 'linear', delayMs: 500 }), n))).toEqual([500, 1_000, 1_500]);
    expect([1, 2, 3].map((n) => retryDelayMs(policy({ backoff: 'constant', delayMs: 500 }), n))).toEqual([500, 500, 500]);
  });

  it('takes a random share of up to `jitter` off the capped delay', () => {
    const full = policy({ jitter: 1, maxDelayMs: 3_000 });
    expect(retryDelayMs(full, 3, () => 0)).toBe(3_000);
    expect(retryDelayMs(full, 3, () => 0.25)).toBe(2_250);
    expect(retryDelayMs(full, 1, () => 0.999)).toBe(1);
    const half = policy({ jitter: 0.5, delayMs: 2_000 });
    expect(retryDelayMs(half, 1, () => 0.5)).toBe(1_500);
    expect(retryDelayMs(half, 2, () => 1)).toBe(2_000);
  });
});

describe('retry policy options', () => {
  it('fill defaults and accept durations as text', () => {
    expect(retryPolicySchema.parse({ maxRetries: 2 })).toEqual({ maxRetries: 2, delayMs: 1_000, backoff: 'exponential', jitter: 0, maxDelayMs: 300_000 });
    expect(retryPolicySchema.parse({ maxRetries: 3, delay: '2s', backoff: 'linear', jitter: true, maxDelay: '1.5m' })).toEqual({
      maxRetries: 3,
      delayMs: 2_000,
      backoff: 'linear',
      jitter: 1,
      maxDelayMs: 90_000,
    });
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('2 days')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(describeRetryPolicy(retryPolicySchema.parse({ maxRetries: 3, delay: '2s', jitter: true, maxDelay: '1m' }))).toBe(
      '3 retries, 2s exponential backoff (max 1m), full jitter',
    );
  });

  it('are frozen into the spec of a TypeScript asset', () => {
    const definition = asset({ key: 'raw/flaky', retryPolicy: { maxRetries: 2, delay: 10 }, materialize: () => undefined });
    expect(definition.spec.retryPolicy).toEqual({ maxRetries: 2, delayMs: 10, backoff: 'exponential', jitter: 0, maxDelayMs: 300_000 });
    expect(Object.isFrozen(definition.spec.retryPolicy)).toBe(true);
    expect(asset({ key: 'raw/plain', materialize: () => undefined }).spec.retryPolicy).toBeUndefined();
  });

  it('that are invalid fail asset() with a definition error naming the asset and the field', () => {
    const attempt = (retryPolicy: unknown) => {
      try {
        asset({ key: 'raw/flaky', retryPolicy: retryPolicy as never, materialize: () => undefined });
      } catch (error) {
        return error;
      }
      throw new Error('expected asset() to throw');
    };
    const negative = attempt({ maxRetries: -1 });
    expect(negative).toBeInstanceOf(DefinitionError);
    expect(negative).toMatchObject({ context: { assetKey: 'raw/flaky' } });
    expect((negative as Error).message).toMatch(/^retryPolicy\.maxRetries: /);
    expect((attempt({ maxRetries: 1, delay: 'soon' }) as Error).message).toBe(
      'retryPolicy.delay: "soon" is not a duration (use milliseconds or text such as 500ms, 2s, 1m)',
    );
    expect((attempt({ maxRetries: 1, backoff: 'fibonacci' }) as Error).message).toMatch(/^retryPolicy\.backoff: /);
    expect((attempt({ maxRetries: 1, retries: 2 }) as Error).message).toMatch(/retries/);
  });
});

describe('the retries header of a SQL asset', () => {
  it('reads a count and settings', () => {
    expect(parseRetriesText('3 delay=2s backoff=exponential jitter max_delay=1m')).toEqual({
      maxRetries: 3,
      delay: '2s',
      backoff: 'exponential',
      jitter: true,
      maxDelay: '1m',
    });
    expect(parseRetriesText(' 0 ')).toEqual({ maxRetries: 0 });
    expect(parseRetriesText('2, jitter=0.5')).toEqual({ maxRetries: 2, jitter: 0.5 });
  });

  it('freezes the policy into the spec', () => {
    const parsed = parseSqlAssetFile('staging/orders.sql', '-- retries: 2 delay=500ms backoff=linear\nselect 1 as x', 'defs/staging/orders.sql');
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
    const definition = sqlAssetDefinition(parsed, []);
    expect(definition.spec.retryPolicy).toEqual({ maxRetries: 2, delayMs: 500, backoff: 'linear', jitter: 0, maxDelayMs: 300_000 });
  });

  it.each([
    ['-- retries: many\nselect 1', /retries must start with a number of retries/],
    ['-- retries: 2 delay=soon\nselect 1', /header field "retries" \(delay\): "soon" is not a duration/],
    ['-- retries: 2 backoff=fibonacci\nselect 1', /header field "retries" \(backoff\)/],
    ['-- retries: 2 jitter=2\nselect 1', /header field "retries" \(jitter\)/],
    ['-- retries: 2 wait=3s\nselect 1', /unknown or incomplete setting "wait=3s"/],
    ['-- retries: 101\nselect 1', /header field "retries" \(maxRetries\)/],
    ['-- retrys: 2\nselect 1', /unknown header field "retrys" \(did you mean "retries"\?\)/],
  ])('reports %j as a definition error naming the file', (text, message) => {
    const parsed = parseSqlAssetFile('staging/orders.sql', text, 'defs/staging/orders.sql');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.message).toMatch(message);
    expect(parsed.errors[0]?.context).toEqual({ assetKey: 'staging/orders', file: 'defs/staging/orders.sql' });
  });
});

describe('strata.json retries and heartbeat', () => {
  function configOf(settings: unknown, env: Record<string, string> = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-retry-config-'));
    const saved = { ...process.env };
    try {
      fs.writeFileSync(path.join(dir, 'strata.json'), JSON.stringify(settings));
      Object.assign(process.env, env);
      return loadProjectConfig(dir);
    } finally {
      for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name];
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives the project default policy and heartbeat timing', () => {
    const config = configOf({ retries: { maxRetries: 2, delay: '1s', backoff: 'constant' }, heartbeat: { interval: '200ms', timeout: '2s' } });
    expect(config.retries).toEqual({ maxRetries: 2, delayMs: 1_000, backoff: 'constant', jitter: 0, maxDelayMs: 300_000 });
    expect(config.heartbeat).toEqual({ intervalMs: 200, timeoutMs: 2_000 });
    expect(configOf({}, { STRATA_HEARTBEAT_TIMEOUT: '3s', STRATA_HEARTBEAT_INTERVAL: '1000' }).heartbeat).toEqual({ intervalMs: 1_000, timeoutMs: 3_000 });
  });

  it('reports bad settings as configuration errors naming the field', () => {
    expect(() => configOf({ retries: { maxRetries: 'three' } })).toThrow(ConfigError);
    expect(() => configOf({ retries: { maxRetries: 'three' } })).toThrow(/retries\.maxRetries/);
    expect(() => configOf({ heartbeat: { interval: 'often' } })).toThrow(/heartbeat\.interval: must be a positive duration/);
    expect(() => configOf({ heartbeat: { interval: '5s', timeout: '6s' } })).toThrow(
      /heartbeat\.timeout \(6000 ms\) must be at least twice heartbeat\.interval/,
    );
    expect(() => configOf({}, { STRATA_HEARTBEAT_TIMEOUT: 'never' })).toThrow(/STRATA_HEARTBEAT_TIMEOUT: "never" is not a positive duration/);
  });
});
