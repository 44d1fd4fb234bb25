// The staleness summary worker thread (plain JavaScript, so that it runs from source and from
// the build alike; started by SqliteStalenessStatements.dataSummariesInParallel): opens its own
// read-only connection to the storage file, runs one summaries query over the keys it is given,
// unpacks their sequence numbers and posts the rows, their arrays' memory transferred rather
// than copied.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { unpack } from './packed-sequences.js';

const { file, sql, keys } = workerData;
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  const rows = db
    .prepare(sql)
    .raw()
    .all({ keys })
    .map((r) => [r[0], r[1], r[2], r[3], ...unpack(r[4], r[1])]);
  parentPort.postMessage(
    rows,
    rows.flatMap((r) => [r[4].buffer, r[5].buffer]),
  );
} finally {
  db.close();
}
