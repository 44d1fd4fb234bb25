/** How far apart the two sequence numbers of a partition are packed into one integer. */
export declare const PACK: number;

/**
 * `count` comma-separated integers `seq × 2^20 + (seq − readSeq)` → the sequence numbers and
 * read sequence numbers (see packed-sequences.js).
 */
export declare function unpack(text: string, count: number): [Float64Array, Float64Array];
