/**
 * The durable store behind the engine. The journal is the only record of truth: an append-only,
 * hash-chained sequence of batches, each holding the canonical encoding of the commands that
 * changed the ledger in that batch. Everything else (balances, indexes) is derived by replaying it.
 *
 * An implementation must make `append` durable before its promise resolves, must refuse a batch
 * whose sequence is not exactly one more than the last one stored, and must never change or
 * remove a stored batch. SQLite (the embedded default) and PostgreSQL implement it.
 *
 * The store also keeps the **outbox**: the events a batch produced (see events/outbox.ts), written
 * in the same transaction as the batch, so an event exists exactly when its batch does. A relay
 * reads it in order (`readOutbox`) and publishes each event at least once.
 */

export interface JournalBatch {
  /** Position of the batch, starting at 1, without gaps. */
  readonly sequence: number;
  /** Ledger time of the batch, milliseconds since the Unix epoch, never decreasing. */
  readonly timestamp: number;
  /** Number of commands in the body. */
  readonly count: number;
  /** SHA-256 hash of the previous batch (32 zero bytes for the first). */
  readonly previousHash: Uint8Array;
  /** SHA-256 over previousHash, sequence, timestamp, count and body (see engine/journal-chain.ts). */
  readonly hash: Uint8Array;
  readonly body: Uint8Array;
}

export interface JournalHead {
  readonly sequence: number;
  readonly timestamp: number;
  readonly hash: Uint8Array;
}

/**
 * Meta key under which `append` records, in the same transaction, the sequence of the batch it
 * appended. Recovery compares it with the last batch it finds, to notice batches removed from
 * the end of the journal, which the hash chain alone cannot tell from a shorter history.
 */
export const journalHeadKey = 'journal.head';

/** One event for the outbox: a stable id (for de-duplication), a routing key and a JSON payload. */
export interface OutboxEntry {
  /** Never changes and never repeats (`<bank>:<seq>` for platform events). */
  readonly id: string;
  /** Where it is routed: the bank the event belongs to (one NATS subject per key). */
  readonly key: string;
  /** The event as JSON text. */
  readonly payload: string;
}

/** Position of an outbox entry: the batch that wrote it and its place in that batch, from 1. */
export interface OutboxPosition {
  readonly sequence: number;
  readonly index: number;
}

export interface OutboxRecord extends OutboxEntry, OutboxPosition {}

export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
}

export interface Store {
  readonly kind: string;
  /** The last stored batch, or null for an empty journal. */
  head(): Promise<JournalHead | null>;
  /**
   * Appends one batch durably, with its outbox entries in the same transaction (all or nothing).
   * Rejects with StoreConflictError unless sequence = head + 1; a refused append writes nothing.
   */
  append(batch: JournalBatch, outbox?: readonly OutboxEntry[]): Promise<void>;
  /** Up to `limit` outbox entries strictly after `after` (null: from the start), in commit order. */
  readOutbox(after: OutboxPosition | null, limit: number): Promise<OutboxRecord[]>;
  /** Up to `limit` batches with sequence >= fromSequence, in order. */
  read(fromSequence: number, limit: number): Promise<JournalBatch[]>;
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}
