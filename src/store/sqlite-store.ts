/**
 * The embedded default store: one SQLite file in the data directory, in WAL mode with
 * `synchronous = FULL`, so a committed batch survives a crash or power loss. better-sqlite3 is
 * synchronous, which suits the single writer: an append is one short transaction with one row.
 */
import Database from 'better-sqlite3';
import type { JournalBatch, JournalHead, OutboxEntry, OutboxPosition, OutboxRecord, Store } from './store.ts';
import { journalHeadKey, StoreConflictError } from './store.ts';

interface BatchRow {
  sequence: number;
  timestamp: number;
  count: number;
  previous_hash: Buffer;
  hash: Buffer;
  body: Buffer;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly selectHead: Database.Statement;
  private readonly selectFrom: Database.Statement;
  private readonly selectMeta: Database.Statement;
  private readonly upsertMeta: Database.Statement;
  private readonly insertOutbox: Database.Statement;
  /** Null for a read-only store of a journal written before the outbox existed. */
  private readonly selectOutbox: Database.Statement | null;

  private readonly readonly: boolean;

  constructor(path: string, options: { readonly readonly?: boolean } = {}) {
    this.readonly = options.readonly === true;
    this.db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    if (options.readonly !== true) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS journal (
          sequence      INTEGER PRIMARY KEY,
          timestamp     INTEGER NOT NULL,
          count         INTEGER NOT NULL,
          previous_hash BLOB NOT NULL,
          hash          BLOB NOT NULL,
          body          BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS outbox (
          sequence INTEGER NOT NULL,
          idx      INTEGER NOT NULL,
          id       TEXT NOT NULL,
          key      TEXT NOT NULL,
          payload  TEXT NOT NULL,
          PRIMARY KEY (sequence, idx)
        ) WITHOUT ROWID;
        CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
          BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS journal_no_replace BEFORE INSERT ON journal
          WHEN EXISTS (SELECT 1 FROM journal WHERE sequence = NEW.sequence)
          BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
          BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;
      `);
    }
    this.db.pragma('busy_timeout = 5000');
    // The WHERE clause makes the store itself refuse gaps and duplicates, whatever the caller does.
    this.insert = options.readonly === true
      ? this.db.prepare('SELECT 1')
      : this.db.prepare(`
        INSERT INTO journal (sequence, timestamp, count, previous_hash, hash, body)
        SELECT @sequence, @timestamp, @count, @previousHash, @hash, @body
        WHERE (SELECT coalesce(max(sequence), 0) FROM journal) = @sequence - 1`);
    this.selectHead = this.db.prepare('SELECT sequence, timestamp, hash FROM journal ORDER BY sequence DESC LIMIT 1');
    this.selectFrom = this.db.prepare('SELECT * FROM journal WHERE sequence >= ? ORDER BY sequence LIMIT ?');
    this.selectMeta = this.db.prepare('SELECT value FROM meta WHERE key = ?');
    // A read-only store of a journal written before the outbox existed has no outbox table.
    const hasOutbox = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").get() !== undefined;
    this.insertOutbox = options.readonly === true ? this.db.prepare('SELECT 1') : this.db.prepare('INSERT INTO outbox (sequence, idx, id, key, payload) VALUES (?, ?, ?, ?, ?)');
    this.selectOutbox = hasOutbox ? this.db.prepare('SELECT sequence, idx, id, key, payload FROM outbox WHERE (sequence, idx) > (?, ?) ORDER BY sequence, idx LIMIT ?') : null;
    this.upsertMeta = options.readonly === true
      ? this.db.prepare('SELECT 1')
      : this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  async head(): Promise<JournalHead | null> {
    const row = this.selectHead.get() as Pick<BatchRow, 'sequence' | 'timestamp' | 'hash'> | undefined;
    return row === undefined ? null : { sequence: row.sequence, timestamp: row.timestamp, hash: new Uint8Array(row.hash) };
  }

  async append(batch: JournalBatch, outbox: readonly OutboxEntry[] = []): Promise<void> {
    if (this.readonly) throw new Error('the store is open read-only');
    this.appendTransaction(batch, outbox);
  }

  /**
   * One transaction: the batch row, its outbox entries, and the head sequence recorded in `meta`
   * as an anchor, so that recovery notices batches removed from the end of the journal.
   */
  private readonly appendTransaction = (batch: JournalBatch, outbox: readonly OutboxEntry[]): void => {
    this.db.transaction(() => this.appendRows(batch, outbox))();
  };

  private appendRows(batch: JournalBatch, outbox: readonly OutboxEntry[]): void {
    const info = this.insert.run({
      sequence: batch.sequence,
      timestamp: batch.timestamp,
      count: batch.count,
      previousHash: Buffer.from(batch.previousHash),
      hash: Buffer.from(batch.hash),
      body: Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength),
    });
    if (info.changes !== 1) throw new StoreConflictError(`journal batch ${batch.sequence} does not follow the stored head`);
    for (let i = 0; i < outbox.length; i++) {
      const entry = outbox[i]!;
      this.insertOutbox.run(batch.sequence, i + 1, entry.id, entry.key, entry.payload);
    }
    this.upsertMeta.run(journalHeadKey, String(batch.sequence));
  }

  async readOutbox(after: OutboxPosition | null, limit: number): Promise<OutboxRecord[]> {
    if (this.selectOutbox === null) return [];
    const rows = this.selectOutbox.all(after?.sequence ?? 0, after?.index ?? 0, limit) as { sequence: number; idx: number; id: string; key: string; payload: string }[];
    return rows.map((row) => ({ sequence: row.sequence, index: row.idx, id: row.id, key: row.key, payload: row.payload }));
  }

  async read(fromSequence: number, limit: number): Promise<JournalBatch[]> {
    const rows = this.selectFrom.all(fromSequence, limit) as BatchRow[];
    return rows.map((row) => ({
      sequence: row.sequence,
      timestamp: row.timestamp,
      count: row.count,
      previousHash: new Uint8Array(row.previous_hash),
      hash: new Uint8Array(row.hash),
      body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
    }));
  }

  async getMeta(key: string): Promise<string | null> {
    const row = this.selectMeta.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    if (this.readonly) throw new Error('the store is open read-only');
    this.upsertMeta.run(key, value);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
