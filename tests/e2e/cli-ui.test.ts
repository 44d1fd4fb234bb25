/**
 * `assets ui` as a process, without a browser: its help, and which addresses it treats as this
 * machine (the same rule as the server's Host check, see ui/host-check.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, Sandbox, startCli } from './cli-harness.ts';

let sandbox: Sandbox;
let project: string;

beforeAll(() => {
  sandbox = Sandbox.create();
  project = sandbox.writeProject('tiny', {
    'strata.json': '{ "name": "tiny" }',
    'package.json': '{ "type": "module", "private": true }',
    'defs/raw/one.sql': 'select 1 as n\n',
  });
});

afterAll(() => sandbox?.cleanup());

/** Starts `assets ui --port 0 ...extra`, waits for its address, stops it; returns what it printed. */
async function uiOutput(extra: readonly string[]): Promise<{ url: string; printed: string }> {
  const { child, done } = startCli(['ui', '--port', '0', '--project', project, ...extra]);
  let printed = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address within 60 s:\n${printed}`)), 60_000);
    const look = (chunk: Buffer | string) => {
      printed += String(chunk);
      const match = /(http:\/\/\S+):\d+\//.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', (chunk: Buffer | string) => (printed += String(chunk)));
    void done.then((result) => {
      clearTimeout(timer);
      reject(new Error(`assets ui exited ${result.status}:\n${result.stdout}${result.stderr}`));
    });
  });
  // Give a warning printed after the address the time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGINT');
  const result = await done;
  return { url, printed: result.stdout + result.stderr };
}

describe('assets ui', () => {
  it('is listed in assets --help as the web UI, with nothing "to come"', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    const line = help.stdout.split('\n').find((l) => /^\s+ui\b/.test(l)) ?? '';
    expect(line).toContain('web UI');
    // `assets query` is read-only; the web UI is not (it launches runs).
    expect(line).not.toMatch(/to come|read-only/);
  });

  it('treats any 127.x.y.z address as this machine (no warning), like the Host check', async () => {
    const { url, printed } = await uiOutput(['--host', '127.0.0.2']);
    expect(url).toBe('http://127.0.0.2');
    expect(printed).not.toContain('warning');
  });

  it('warns when it listens beyond this machine', async () => {
    const { printed } = await uiOutput(['--host', '0.0.0.0']);
    expect(printed).toContain('warning: listening on 0.0.0.0');
    expect(printed).toContain('launching runs is disabled');
  });
});
