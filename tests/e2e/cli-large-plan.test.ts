/**
 * Plans of hundreds of thousands of steps through the real `assets` CLI: an hourly asset since
 * 2000 and its hourly child (over 440,000 steps, one per partition) can be dry-run; the text
 * output summarizes the plan per asset instead of printing a line per step, and nothing is
 * written.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox, stackFrames, stateFiles } from './cli-harness.ts';

const HOURLY = 'hourly(start=2000-01-01, timezone=UTC)';

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('hourly-since-2000', {
    'package.json': '{"type":"module"}\n',
    'strata.json': JSON.stringify({ name: 'hourly-since-2000' }),
    'defs/raw/ticks.sql': [`-- partitioned_by: ${HOURLY}`, '-- partition_column: hour', 'select {{ partition_start }}::timestamp as hour, 1 as n'].join('\n'),
    'defs/staging/ticks.sql': [
      `-- partitioned_by: ${HOURLY}`,
      '-- partition_column: hour',
      'select hour, n * 2 as n2 from raw.ticks where hour >= {{ partition_start }} and hour < {{ partition_end }}',
    ].join('\n'),
  });
});

afterAll(() => sandbox?.cleanup());

describe('materialize --dry-run of an hourly asset since 2000', () => {
  // Bug: buildPlan appended the steps with steps.push(...mine), which overflowed the stack past
  // about 120,000 steps ("Maximum call stack size exceeded"), and the dry run printed a line per step.
  it('prints a summary per asset, not a line per step, and writes nothing', () => {
    const result = runCli(['materialize', '--select', '*', '--dry-run', '--project', project]);
    expect(stackFrames(result.stderr)).toEqual([]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThan(20);
    expect(lines[0]).toMatch(/^ASSET\s+KINDS\s+BUILD\s+STEPS\s+PARTITIONS$/);
    const hours = lines[1]?.split(/\s{2,}/)[3]?.replace(/,/g, '');
    expect(Number(hours)).toBeGreaterThan(200_000);
    const range = /^2000-01-01-00:00\.\.\d{4}-\d{2}-\d{2}-\d{2}:00$/;
    expect(lines[1]?.split(/\s{2,}/)).toEqual(['raw/ticks', expect.stringMatching(/^sql/), 'partitions', expect.any(String), expect.stringMatching(range)]);
    expect(lines[2]?.split(/\s{2,}/)).toEqual([
      'staging/ticks',
      expect.stringMatching(/^sql/),
      'partitions',
      lines[1]?.split(/\s{2,}/)[3],
      expect.stringMatching(range),
    ]);
    const total = (Number(hours) * 2).toLocaleString('en-US');
    expect(lines.at(-1)).toBe(`dry run: ${total} steps of 2 assets, nothing written (--json lists every step)`);
    expect(fs.existsSync(stateFiles(project).warehouse)).toBe(false);
    expect(fs.existsSync(stateFiles(project).storage)).toBe(false);
  });
});
