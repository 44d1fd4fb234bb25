/** The text of what an incremental or snapshot write did: one file for the CLI and the web UI. */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { writeSummaryText } from '../../core/model/format/write-summary-text.js';
import { staticPages } from '../../ui/static-pages.ts';

describe('writeSummaryText', () => {
  it('says what an incremental build did, with the watermark it read when there was one', () => {
    expect(writeSummaryText({ build: 'incremental', rowsInserted: 12, rowsUpdated: 3, rowsDeleted: 0, watermark: '2025-01-02 00:00:00' })).toBe(
      'incremental: 12 inserted, 3 updated, 0 deleted, watermark 2025-01-02 00:00:00',
    );
    expect(writeSummaryText({ build: 'full', rowsInserted: 2, rowsUpdated: 0, rowsDeleted: 0, watermark: null })).toBe(
      'full: 2 inserted, 0 updated, 0 deleted',
    );
    expect(writeSummaryText({ build: 'incremental', rowsInserted: 1 })).toBe('incremental: 1 inserted, 0 updated, 0 deleted');
  });

  it('says what a snapshot write did, and nothing for other metadata', () => {
    expect(writeSummaryText({ rowsInserted: 2, rowsClosed: 1 })).toBe('snapshot: 2 inserted, 1 closed');
    expect(writeSummaryText({ file: 'seeds/x.csv', sha256: 'ab' })).toBeNull();
    expect(writeSummaryText({ build: 'other', rowsClosed: 'x' })).toBeNull();
    expect(writeSummaryText({})).toBeNull();
    expect(writeSummaryText(null)).toBeNull();
    expect(writeSummaryText(undefined)).toBeNull();
  });

  it('is the file the web UI loads as /static/shared/write-summary-text.js', async () => {
    const server = express().use(staticPages()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const served = await fetch(`${base}/static/shared/write-summary-text.js`);
      expect(served.status).toBe(200);
      expect(await served.text()).toBe(readFileSync(new URL('../../core/model/format/write-summary-text.js', import.meta.url), 'utf8'));
      expect(await (await fetch(`${base}/static/js/format.js`)).text()).toContain(`from '../shared/write-summary-text.js'`);
    } finally {
      server.close();
    }
  });
});
