import { describe, expect, it } from 'vitest';
import { Output } from '../../core/cli/output.ts';
import { ProgressReporter } from '../../core/cli/progress.ts';
import { describeProgress, StepProgressLine } from '../../core/cli/step-progress-line.ts';
import type { EventRecord } from '../../storage/storage.ts';

function event(type: EventRecord['type'], key: string, data: Record<string, unknown> | null = null, partition: string | null = null): EventRecord {
  return { runId: 'r', timestamp: 0, type, level: 'info', assetKey: key, partition, message: '', data };
}

/** A stream that records what is written, a terminal or not. */
function fakeStream(tty: boolean): NodeJS.WriteStream & { text: string } {
  const stream = {
    isTTY: tty,
    text: '',
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('describeProgress', () => {
  it('shows the percentage, the time so far and an estimate of what is left', () => {
    expect(describeProgress(25, 10_000)).toBe('25% (10s, ETA 30s)');
    expect(describeProgress(0.42, 1_000)).toBe('0.4% (1s)');
  });
});

describe('StepProgressLine', () => {
  it('lists the running steps with their latest percentage; a step that ends drops out', () => {
    const line = new StepProgressLine();
    expect(line.update(event('step_start', 'raw/a'))).toBe(false);
    expect(line.update(event('step_progress', 'raw/a', { percentage: 10, elapsedMs: 1_000 }))).toBe(true);
    line.update(event('step_progress', 'raw/b', { percentage: 50, elapsedMs: 2_000 }, '2025-01-01'));
    expect(line.text()).toBe('raw/a 10% (1s, ETA 9s) · raw/b@2025-01-01 50% (2s, ETA 2s)');
    expect(line.update(event('step_success', 'raw/a'))).toBe(true);
    expect(line.text()).toBe('raw/b@2025-01-01 50% (2s, ETA 2s)');
  });
});

describe('progress on a terminal', () => {
  it('Output.status redraws one line in place, replaced by the next line; nothing off a terminal', () => {
    const tty = fakeStream(true);
    const out = new Output(tty);
    out.status('raw/a 10%');
    out.status('raw/a 20%');
    out.line('done');
    expect(tty.text).toBe('\r\u001b[2Kraw/a 10%\r\u001b[2Kraw/a 20%\r\u001b[2Kdone\n');
    const pipe = fakeStream(false);
    new Output(pipe).status('raw/a 10%');
    expect(pipe.text).toBe('');
  });

  it("the backfill bar ends with the running step's percentage", () => {
    const tty = fakeStream(true);
    const progress = new ProgressReporter(new Output(tty), tty);
    progress.start(3);
    progress.event(event('step_progress', 'raw/a', { percentage: 42, elapsedMs: 4_200 }, '2025-01-01'));
    expect(progress.line()).toContain('0/3 partitions');
    expect(progress.line()).toMatch(/ · raw\/a@2025-01-01 42% \(4\.2s, ETA 5\.8s\)$/);
    expect(tty.text).toContain('raw/a@2025-01-01 42%');
  });
});
