/**
 * Every limit of the platform in one place (STYLE 13). Relationships between limits are asserted
 * at module load, so a bad edit fails at start rather than in production traffic.
 */

/** Largest amount, balance or pending total: the signed 64-bit maximum. */
export const amountMax = 9_223_372_036_854_775_807n;

/** Items in one `POST /v1/transfers/batch` request (the same bound TigerBeetle uses). */
export const requestTransfersMax = 8190;

/** Default and maximum number of commands the sequencer applies and commits as one batch. */
export const batchCommandsDefault = 8190;
export const batchCommandsMax = 65_536;

/** Default maximum time the sequencer waits for a batch to fill before committing it. */
export const batchWaitDefaultMs = 1;
export const batchWaitMaxMs = 1000;

/** Commands waiting for the sequencer, across all requests. Beyond it the API answers 503. */
export const queueCommandsDefault = requestTransfersMax * 16;

/** Length bounds of client-chosen identifiers and free text. */
export const idLengthMax = 64;
export const referenceLengthMax = 128;
export const assetCodeLengthMax = 24;
export const assetScaleMax = 18;
export const transferCodeMax = 65_535;

/** Pending transfers may be held at most this long (366 days). */
export const timeoutSecondsMax = 366 * 24 * 3600;

/**
 * Records the single writer keeps in memory. Every transfer and account lives in the writer's
 * heap (about 335 and 215 bytes each, measured in docs/PERFORMANCE.md), and a V8 Map holds at
 * most 2^24 entries. Beyond these counts new records are refused with `ledger_full` instead of
 * exhausting the heap; the defaults fit Node's default 4 GiB heap together. Raise them with
 * `--transfers-max` / `--accounts-max` and a larger `--max-old-space-size`.
 */
export const transfersInMemoryDefault = 8_000_000;
export const accountsInMemoryDefault = 4_000_000;
export const recordsInMemoryMax = 16_000_000;

/** Signatures verified in one `verifyBatch` call (callers split larger batches). */
export const verifyBatchItemsMax = 65_536;

/** Deepest nesting of a JSON value that canonical JSON (RFC 8785) will encode. */
export const canonicalJsonDepthMax = 32;

/** Pagination. */
export const pageLimitDefault = 50;
export const pageLimitMax = 1000;

/**
 * Largest HTTP request body. A full batch of 8190 transfers with 64-character ids and a
 * 128-character non-ASCII reference written as \u escapes (Python's default) is about 7 MiB.
 */
export const bodyBytesMax = 9 * 1024 * 1024;

/** Journal batches read per round trip during recovery and verification. */
export const journalReadPageMax = 256;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`limits: ${message}`);
}

assert(batchCommandsDefault >= 1 && batchCommandsDefault <= batchCommandsMax, 'batch default in range');
assert(requestTransfersMax <= batchCommandsMax, 'a full request fits in the largest batch');
assert(queueCommandsDefault >= requestTransfersMax, 'the queue holds at least one full request');
assert(batchWaitDefaultMs <= batchWaitMaxMs, 'batch wait default in range');
assert(pageLimitDefault <= pageLimitMax, 'page default in range');
assert(transfersInMemoryDefault <= recordsInMemoryMax && accountsInMemoryDefault <= recordsInMemoryMax, 'record caps below the Map limit');
assert(recordsInMemoryMax < 2 ** 24, 'a V8 Map holds fewer than 2^24 entries');
