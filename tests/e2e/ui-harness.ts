/**
 * What the browser tests and the screenshot script share: `assets ui` started as a real child
 * process on a free port, and Debian's Chromium driven by playwright-core.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startCli, type CliResult } from './cli-harness.ts';

/** Where Debian installs Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here, or `undefined` when they can; under `CI=true` a missing browser throws. */
export function browserMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is not installed (apt-get install -y chromium); .ci/run installs it`;
  // Locally the browser tests may skip, saying why; under CI they must run.
  if (process.env.CI === 'true') throw new Error(`CI=true and the browser tests cannot run: ${reason}`);
  return reason;
}

/** Starts headless Chromium with the flags this machine's closed network needs. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A running `assets ui`. */
export interface UiProcess {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends SIGINT and waits for the process to exit. */
  stop(): Promise<CliResult>;
}

/** Runs `assets ui --port 0 --project DIR` (`env` adds variables) and waits for the address it prints. */
export async function startUi(projectDir: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<UiProcess> {
  const { child, done } = startCli(['ui', '--port', '0', '--project', projectDir, ...extra], { env });
  let printed = '';
  child.stdout?.on('data', (chunk: string) => (printed += chunk));
  child.stderr?.on('data', (chunk: string) => (printed += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`assets ui printed no address within 60 s:\n${printed}`)), 60_000);
    const look = () => {
      // A server on every interface (--host 0.0.0.0) is reached through loopback too.
      const match = /http:\/\/(127\.0\.0\.1|0\.0\.0\.0):(\d+)/.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[2]}`);
      }
    };
    child.stdout?.on('data', look);
    void done.then((result) => {
      clearTimeout(timer);
      reject(new Error(`assets ui exited ${result.status} before listening:\n${result.stdout}${result.stderr}`));
    });
  });
  return {
    url,
    output: () => printed,
    stop: async () => {
      child.kill('SIGINT');
      return done;
    },
  };
}

/** A UI process and a Chromium page to drive it, as the browser tests open them. */
export interface UiPage {
  readonly ui: UiProcess;
  readonly browser: Browser;
  /** 1400 × 900. */
  readonly page: Page;
}

/** Starts `assets ui` on `projectDir` and opens a Chromium page (the UI is stopped again if Chromium fails). */
export async function openUiPage(projectDir: string): Promise<UiPage> {
  const ui = await startUi(projectDir);
  try {
    const browser = await launchChromium();
    return { ui, browser, page: await browser.newPage({ viewport: { width: 1400, height: 900 } }) };
  } catch (error) {
    await ui.stop();
    throw error;
  }
}

/** Closes what {@link openUiPage} opened; either part may be missing (a `beforeAll` that failed). */
export async function closeUiPage(opened: { readonly ui?: UiProcess; readonly browser?: Browser }): Promise<void> {
  await opened.browser?.close();
  await opened.ui?.stop();
}
