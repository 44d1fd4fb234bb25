/**
 * vitest global setup: the end-to-end tests run the CLI (`bin/assets.js`), which runs the
 * compiled engine in dist/; build it first when it is missing or older than the source, so the
 * CLI under test is the code under test. (The other tests import the source directly.)
 */
import { ensureEngineBuilt } from '../bin/engine-build.js';

export default async function setup(): Promise<void> {
  await ensureEngineBuilt({ quiet: true });
}
