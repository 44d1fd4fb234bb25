import { describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { all, any, eager, onCron, onMissing, parseAutomation } from '../../core/model/definitions/automation-condition.ts';
import { parseSqlAssetFile, sqlAssetDefinition } from '../../core/model/definitions/sql-asset-file.ts';
import { DefinitionError } from '../../core/model/errors.ts';

const noop = () => undefined;

describe('automation conditions', () => {
  it('build frozen trees that print back to the header syntax', () => {
    const condition = eager().or(onCron('30 4 * * *', 'Europe/Paris').and(onMissing()));
    expect(String(condition)).toBe("any(eager(), all(on_cron('30 4 * * *', 'Europe/Paris'), on_missing()))");
    expect(Object.isFrozen(condition)).toBe(true);
    expect(Object.isFrozen(condition.conditions)).toBe(true);
    expect(condition.cronNodes().map((n) => n.cron)).toEqual(['30 4 * * *']);
    expect(String(any(eager(), all(onMissing())))).toBe('any(eager(), all(on_missing()))');
  });

  it.each([
    ['eager', 'eager()'],
    ['eager()', 'eager()'],
    ['ON_MISSING', 'on_missing()'],
    ["on_cron('30 4 * * *', 'Europe/Paris')", "on_cron('30 4 * * *', 'Europe/Paris')"],
    ['on_cron("0 5 * * 1-5")', "on_cron('0 5 * * 1-5', 'UTC')"],
    ["eager or on_missing and on_cron('@daily')", "any(eager(), all(on_missing(), on_cron('@daily', 'UTC')))"],
    ["(eager or on_missing) and on_cron('@daily')", "all(any(eager(), on_missing()), on_cron('@daily', 'UTC'))"],
    ["any(eager, on_cron('0 * * * *', 'UTC'))", "any(eager(), on_cron('0 * * * *', 'UTC'))"],
  ])('parses %s', (text, printed) => {
    const condition = parseAutomation(text);
    expect(String(condition)).toBe(printed);
    expect(String(parseAutomation(printed))).toBe(printed);
  });

  it.each([
    ['eagerly', /unknown condition "eagerly"/],
    ["on_cron('61 * * * *')", /on_cron: cron "61 \* \* \* \*".*61/],
    ["on_cron('* * * *')", /must have 5 fields/],
    ["on_cron('0 5 * * *', 'Mars/Olympus')", /unknown time zone "Mars\/Olympus"/],
    ['on_cron', /on_cron needs arguments/],
    ['any()', /any\(\) needs at least one condition/],
    ['eager or', /expected a condition/],
    ["on_cron('0 5 * * *'", /expected "\)"/],
    ['eager)', /unexpected "\)"/],
    ["on_cron('0 5", /unterminated string/],
  ])('rejects %s', (text, message) => {
    expect(() => parseAutomation(text)).toThrow(message);
  });

  it('are frozen into the spec of a TypeScript asset, with its pool', () => {
    const definition = asset({ key: 'features/daily', automation: eager(), pool: 'api', materialize: noop });
    expect(String(definition.spec.automation)).toBe('eager()');
    expect(definition.spec.pool).toBe('api');
    expect(asset({ key: 'features/plain', materialize: noop }).spec.automation).toBeUndefined();
  });

  it('reject a bad cron in asset() naming the asset', () => {
    const error = captureError(() => asset({ key: 'features/daily', automation: onCron('0 25 * * *'), materialize: noop }));
    expect(error).toBeInstanceOf(DefinitionError);
    expect(error.context.assetKey).toBe('features/daily');
    expect(error.message).toMatch(/automation: on_cron: cron "0 25 \* \* \*"/);
    const notACondition = captureError(() => asset({ key: 'features/x', automation: 'eager' as never, materialize: noop }));
    expect(notACondition.message).toMatch(/automation must come from eager\(\)/);
  });

  it('come from a SQL header field, with pool', () => {
    const text = "-- automation: on_cron('30 4 * * *', 'Europe/Paris') or eager\n-- pool: warehouse\nselect 1 as x";
    const parsed = parseSqlAssetFile('marts/x.sql', text, 'defs/marts/x.sql');
    if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
    const definition = sqlAssetDefinition(parsed, []);
    expect(String(definition.spec.automation)).toBe("any(on_cron('30 4 * * *', 'Europe/Paris'), eager())");
    expect(definition.spec.pool).toBe('warehouse');
  });

  it('report a bad SQL header automation naming the asset and the file', () => {
    const parsed = parseSqlAssetFile('marts/x.sql', "-- automation: on_cron('30 4 * * *', 'Nowhere/City')\nselect 1 as x", 'defs/marts/x.sql');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.context).toEqual({ assetKey: 'marts/x', file: 'defs/marts/x.sql' });
    expect(parsed.errors[0]?.message).toMatch(/unknown time zone "Nowhere\/City"/);
  });
});

function captureError(work: () => unknown): DefinitionError {
  try {
    work();
  } catch (error) {
    return error as DefinitionError;
  }
  throw new Error('expected an error');
}
