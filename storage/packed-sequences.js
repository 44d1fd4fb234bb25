// Plain JavaScript (typed by packed-sequences.d.ts): the staleness summary worker
// (staleness-summary-worker.js) runs it in a worker thread, which compiles no TypeScript, both
// from source and from the build.

/** How far apart the two sequence numbers of a partition are packed into one integer. */
export const PACK = 2 ** 20;

/**
 * `count` comma-separated integers `seq × 2^20 + (seq − readSeq)` → the sequence numbers and
 * read sequence numbers. The gap is clamped to 0 … 2^20 − 1 (a step reads before it commits,
 * so it is never negative in practice): a clamped read number comes out lower than it was,
 * which can only make staleness check a partition's versions when it did not need to. Exact
 * while sequence numbers stay below 2^33.
 */
export function unpack(text, count) {
  const seqs = new Float64Array(count);
  const readSeqs = new Float64Array(count);
  let value = 0;
  let index = 0;
  // One pass, a comma past the end closing the last number.
  for (let i = 0; i <= text.length; i++) {
    const code = i === text.length ? 44 : text.charCodeAt(i);
    if (code !== 44) {
      value = value * 10 + (code - 48);
      continue;
    }
    const seq = Math.floor(value / PACK);
    seqs[index] = seq;
    readSeqs[index] = seq - (value - seq * PACK);
    index++;
    value = 0;
  }
  return [seqs, readSeqs];
}
