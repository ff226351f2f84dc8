/**
 * The PostgreSQL store: the same append-only, hash-chained journal as the SQLite store, in one
 * schema of a PostgreSQL database (default `tengri`), plus the writer lease that lets several
 * Tengri processes share that database with exactly one writer at a time.
 *
 * Tables (created idempotently by `open`, under a transaction-scoped advisory lock so that
 * processes opening the same schema at once do not race):
 *
 *   journal(sequence bigint PK, timestamp bigint, count integer, previous_hash bytea, hash bytea, body bytea)
 *   outbox(sequence bigint, idx integer, id text, key text, payload text, PK (sequence, idx))
 *   meta(key text PK, value text)
 *   writer_lease(id smallint PK CHECK (id = 1), holder text, token bigint NOT NULL, expires_at timestamptz)
 *
 * Triggers refuse UPDATE, DELETE and TRUNCATE on `journal` (it is append-only), and refuse deleting
 * the lease row or moving its token backwards. Opening re-creates any trigger that is missing.
 *
 * ## Append: one round trip, one transaction
 *
 * `append` is ONE parameterised statement (extended protocol: Parse/Bind/Execute/Sync written
 * together, one ReadyForQuery back), and so one implicit transaction (see `appendSql`):
 *
 *   WITH lease    AS (SELECT token, live FROM writer_lease WHERE id = 1 FOR SHARE),
 *        head     AS (SELECT coalesce(max(sequence), 0) FROM journal),
 *        inserted AS (INSERT INTO journal ... WHERE head = $sequence - 1 AND <fencing holds> RETURNING sequence),
 *        outbox   AS (INSERT INTO outbox SELECT sequence, ... FROM inserted, unnest($ids, $keys, $payloads) WITH ORDINALITY),
 *        anchor   AS (INSERT INTO meta ('journal.head', sequence) ... ON CONFLICT DO UPDATE)
 *   SELECT head, count(inserted), lease.token, lease.live
 *
 * (a) the batch goes in only when its sequence is the stored head + 1; two appends of the same
 *     sequence that both pass that check meet at the primary key, and the loser's unique
 *     violation becomes StoreConflictError; (b) the fencing condition below must hold; (c) the
 *     batch row, its outbox rows (the events it produced, as three parallel text arrays) and the
 *     `journal.head` meta anchor are written by the same statement: all of them or none. When no row
 *     was inserted, the returned head and lease tell which refusal it was, and nothing was
 *     written. Because it is a single statement in autocommit, no lock is ever held while the
 *     server waits for this process: a stalled or killed Tengri process cannot leave the lease
 *     row or the journal locked. The commit is durable before the promise resolves: if the
 *     server's `synchronous_commit` is `off` for our role and database, the store sets it to `on`
 *     on each of its connections (stronger settings such as `remote_apply` are kept as they are).
 *
 * ## Writer lease and fencing
 *
 * `writer_lease` holds one row: the holder's name, a fencing token and an expiry. All times are
 * the database's clock (`now()`), never this process's.
 *
 * - `acquireLease(holder, ttl)` takes the lease when it is free, expired, or ours and live. The
 *   token is incremented on every takeover: every change of holder, and also when a holder takes
 *   back its own lease after it expired (so a restarted process that reuses a holder name still
 *   fences out its stalled predecessor once the lease has lapsed). Re-acquiring our own LIVE lease
 *   keeps the token and extends the expiry. Holder names should still be unique per process
 *   incarnation (for example host, pid and a random id): two live processes with one name are one
 *   holder to the lease.
 * - `renewLease(holder, token, ttl)` extends the expiry while holder and token are still ours;
 *   false means someone else took over (stop writing).
 * - `releaseLease(holder, token)` clears the holder; the next acquire takes over with token + 1.
 * - `leaseInfo()` names the current holder (for a standby to name the leader).
 *
 * Fencing: after `setFencingToken(token)`, the lease CTE of every append locks the lease row
 * `FOR SHARE` and the batch goes in only if `token = $token AND expires_at > now()`; otherwise the
 * append rejects with StoreFencedError and writes nothing. FOR SHARE (not FOR KEY SHARE, which an
 * UPDATE of non-key columns does not wait for) conflicts with the takeover's UPDATE, so the two
 * serialise on the row:
 *
 * - the old leader's append locked the row first: the takeover's UPDATE waits until that append
 *   has committed, so the new leader's recovery, which reads the journal after its acquire
 *   returned, sees the old leader's last batch;
 * - the takeover updated the row first: the append's FOR SHARE waits for that commit and, in READ
 *   COMMITTED, then reads the row's newest version, whose token no longer matches: fenced.
 *
 * Either way no batch of an old token can be written after a takeover. Without a fencing token
 * the same lease CTE is used with the opposite condition: the batch goes in only while NO live
 * lease is held (a process that did not take the lease must not write while another holds it).
 *
 * ## Numbers
 *
 * pg returns bigint columns as strings; `safeInteger` converts them and throws a RangeError for
 * anything that is not a safe integer (the engine's sequences and timestamps are JS numbers).
 * Tokens stay `bigint`.
 */
import pg from 'pg';
import type { JournalBatch, JournalHead, OutboxEntry, OutboxPosition, OutboxRecord, Store } from './store.ts';
import { journalHeadKey, StoreConflictError } from './store.ts';

/** The append was refused because this store's fencing token is not the live lease's. */
export class StoreFencedError extends Error {
  override readonly name = 'StoreFencedError';
}

export interface PostgresStoreOptions {
  /** The schema holding the journal, meta and lease tables. Default `tengri`. */
  readonly schema?: string;
  /** Open an existing schema for reading only: nothing is created and writes are refused. */
  readonly readonly?: boolean;
  /** Connections in the pool (default 4), so lease renewals do not queue behind long reads. */
  readonly poolSize?: number;
}

export interface LeaseGrant {
  readonly token: bigint;
  /** Expiry on the database clock, milliseconds since the Unix epoch. */
  readonly expiresAt: number;
}

export interface LeaseInfo {
  readonly holder: string;
  readonly token: bigint;
  /** Expiry on the database clock, milliseconds since the Unix epoch. */
  readonly expiresAt: number;
  /** Whether the lease was live on the database clock when read. */
  readonly live: boolean;
  /** Milliseconds until expiry on the database clock when read (negative once expired). */
  readonly remainingMs: number;
}

export const defaultSchema = 'tengri';
const defaultPoolSize = 4;
const schemaNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** First key of the advisory lock taken while creating a schema (the second is the schema's hash). */
const bootstrapLockClass = 0x7e6e;

/** A bigint column (pg returns it as a string) as a JS number; throws unless it is a safe integer. */
export function safeInteger(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?[0-9]{1,16}$/.test(value)) {
    const number = Number(value);
    if (Number.isSafeInteger(number)) return number;
  }
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  throw new RangeError(`${what} ${String(value)} is not a safe integer`);
}

function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  throw new RangeError(`${what} ${String(value)} is not an integer`);
}

function toBytes(value: unknown, what: string): Uint8Array {
  if (!Buffer.isBuffer(value)) throw new TypeError(`${what} is not a byte string`);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** A copy (the caller may change its arrays once append resolves, or even while it waits). */
function copyBytes(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

function requireSafeInteger(value: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`${what} must be an integer from ${min} to ${max}, got ${value}`);
}

function requireHolder(holder: string): void {
  if (typeof holder !== 'string' || holder.length === 0 || holder.length > 1000) throw new TypeError('a lease holder is a non-empty string of at most 1000 characters');
}

function requireTtl(ttlMs: number): void {
  requireSafeInteger(ttlMs, 'a lease ttl (ms)', 1, 365 * 24 * 3600 * 1000);
}

interface AppendRow {
  head: string;
  inserted: number;
  lease_token: string | null;
  lease_live: boolean | null;
  lease_holder: string | null;
}

interface BatchRow {
  sequence: string;
  timestamp: string;
  count: number;
  previous_hash: Buffer;
  hash: Buffer;
  body: Buffer;
}

interface LeaseRow {
  holder: string | null;
  token: string;
  expires_at_ms: number | null;
  live: boolean;
  remaining_ms: number | null;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly schema: string;
  readonly readonly: boolean;
  private readonly pool: pg.Pool;
  /** Connections that have run `connectionSetup` (empty setup: nothing to run). */
  private readonly prepared = new WeakSet<pg.PoolClient>();
  private fencingToken: bigint | null = null;
  private closed = false;
  private readonly sql: ReturnType<typeof statements>;

  private constructor(
    pool: pg.Pool,
    schema: string,
    readonly_: boolean,
    private readonly connectionSetup: string,
  ) {
    this.pool = pool;
    this.schema = schema;
    this.readonly = readonly_;
    this.sql = statements(pg.Client.prototype.escapeIdentifier(schema));
  }

  /**
   * Opens (creating if needed, unless read-only) the Tengri schema at `url`. A read-only store
   * refuses a schema that does not exist yet instead of creating it.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema ?? defaultSchema;
    if (!schemaNamePattern.test(schema)) throw new TypeError(`schema name ${JSON.stringify(schema)} must match ${schemaNamePattern}`);
    const poolSize = options.poolSize ?? defaultPoolSize;
    requireSafeInteger(poolSize, 'poolSize', 1, 100);
    const readonly = options.readonly === true;
    const s = pg.Client.prototype.escapeIdentifier(schema);

    const bootstrap = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    bootstrap.on('error', () => {});
    await bootstrap.connect();
    const setup: string[] = [];
    try {
      const tables = [`${s}.journal`, `${s}.meta`, `${s}.writer_lease`, `${s}.outbox`];
      const triggerNames = triggerSql(s).map(([name]) => name);
      const state = await bootstrap.query<{ synchronous_commit: string; tables: boolean; triggers: number }>(
        `SELECT current_setting('synchronous_commit') AS synchronous_commit,
                to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AND to_regclass($4) IS NOT NULL AS tables,
                (SELECT count(*)::integer FROM pg_trigger
                   WHERE tgrelid IN (to_regclass($1), to_regclass($3)) AND tgname = ANY($5::text[]) AND NOT tgisinternal) AS triggers`,
        [...tables, triggerNames],
      );
      const row = state.rows[0]!;
      let ready = row.tables && row.triggers === triggerNames.length;
      if (ready) ready = (await bootstrap.query(`SELECT 1 FROM ${s}.writer_lease WHERE id = 1`)).rowCount === 1;
      if (row.synchronous_commit === 'off') setup.push('SET synchronous_commit = on');
      if (readonly) {
        if (!ready) throw new Error(`no complete Tengri journal in schema ${schema}: a read-only store does not create one`);
        setup.push('SET default_transaction_read_only = on');
      } else if (!ready) {
        await bootstrap.query('BEGIN');
        try {
          await bootstrap.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [bootstrapLockClass, schema]);
          await bootstrap.query(createSql(s));
          const existing = await bootstrap.query<{ tgname: string }>('SELECT tgname FROM pg_trigger WHERE tgrelid IN ($1::regclass, $2::regclass) AND NOT tgisinternal', [
            `${s}.journal`,
            `${s}.writer_lease`,
          ]);
          const have = new Set(existing.rows.map((r) => r.tgname));
          for (const [name, ddl] of triggerSql(s)) if (!have.has(name)) await bootstrap.query(ddl);
          await bootstrap.query('COMMIT');
        } catch (error) {
          await bootstrap.query('ROLLBACK').catch(() => {});
          throw error;
        }
      }
    } finally {
      await bootstrap.end().catch(() => {});
    }

    const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000, keepAlive: true, application_name: 'tengri' });
    // An idle connection that breaks (server restart, network) must not crash the process; the
    // next query on a new connection reports the problem.
    pool.on('error', () => {});
    return new PostgresStore(pool, schema, readonly, setup.join('; '));
  }

  private async withClient<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the store is closed');
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      if (this.connectionSetup !== '' && !this.prepared.has(client)) {
        await client.query(this.connectionSetup);
        this.prepared.add(client);
      }
      return await run(client);
    } catch (error) {
      // A connection-level failure (not a query error) must not go back to the pool.
      if (!(error instanceof pg.DatabaseError)) broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private refuseIfReadonly(): void {
    if (this.readonly) throw new Error('the store is open read-only');
  }

  async head(): Promise<JournalHead | null> {
    const result = await this.withClient((c) => c.query<Pick<BatchRow, 'sequence' | 'timestamp' | 'hash'>>({ name: 'tengri.head', text: this.sql.head }));
    const row = result.rows[0];
    if (row === undefined) return null;
    return { sequence: safeInteger(row.sequence, 'journal sequence'), timestamp: safeInteger(row.timestamp, 'journal timestamp'), hash: toBytes(row.hash, 'hash') };
  }

  /** Appends one batch in one round trip; see the file header for the statement and its checks. */
  async append(batch: JournalBatch, outbox: readonly OutboxEntry[] = []): Promise<void> {
    this.refuseIfReadonly();
    requireSafeInteger(batch.sequence, 'sequence', Number.MIN_SAFE_INTEGER);
    requireSafeInteger(batch.timestamp, 'timestamp', Number.MIN_SAFE_INTEGER);
    requireSafeInteger(batch.count, 'count', 0, 0x7fffffff);
    const token = this.fencingToken;
    const params = [
      String(batch.sequence),
      String(batch.timestamp),
      batch.count,
      copyBytes(batch.previousHash),
      copyBytes(batch.hash),
      copyBytes(batch.body),
      token === null ? null : token.toString(),
      journalHeadKey,
      outbox.map((entry) => entry.id),
      outbox.map((entry) => entry.key),
      outbox.map((entry) => entry.payload),
    ];
    let row: AppendRow;
    try {
      const result = await this.withClient((c) => c.query<AppendRow>({ name: 'tengri.append', text: this.sql.append, values: params }));
      row = result.rows[0]!;
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '23505' && error.table === 'journal') {
        throw new StoreConflictError(`journal batch ${batch.sequence} was stored concurrently by another append`);
      }
      throw error;
    }
    if (row.inserted === 1) return;
    const live = row.lease_live === true;
    if (token !== null) {
      const current = row.lease_token === null ? null : toBigInt(row.lease_token, 'lease token');
      if (current !== token) throw new StoreFencedError(`fenced: the writer lease is at token ${String(current)} (holder ${JSON.stringify(row.lease_holder)}), this store writes with token ${token}`);
      if (!live) throw new StoreFencedError(`fenced: the writer lease with token ${token} has expired`);
    } else if (live) {
      throw new StoreFencedError(`fenced: ${JSON.stringify(row.lease_holder)} holds the writer lease and this store has no fencing token`);
    }
    throw new StoreConflictError(`journal batch ${batch.sequence} does not follow the stored head ${safeInteger(row.head, 'journal head')}`);
  }

  async read(fromSequence: number, limit: number): Promise<JournalBatch[]> {
    requireSafeInteger(fromSequence, 'fromSequence', Number.MIN_SAFE_INTEGER);
    requireSafeInteger(limit, 'limit', 0);
    if (limit === 0) return [];
    const result = await this.withClient((c) => c.query<BatchRow>({ name: 'tengri.read', text: this.sql.read, values: [String(fromSequence), String(limit)] }));
    return result.rows.map((row) => ({
      sequence: safeInteger(row.sequence, 'journal sequence'),
      timestamp: safeInteger(row.timestamp, 'journal timestamp'),
      count: row.count,
      previousHash: toBytes(row.previous_hash, 'previous_hash'),
      hash: toBytes(row.hash, 'hash'),
      body: toBytes(row.body, 'body'),
    }));
  }

  async readOutbox(after: OutboxPosition | null, limit: number): Promise<OutboxRecord[]> {
    requireSafeInteger(limit, 'limit', 0);
    if (limit === 0) return [];
    const values = [String(after?.sequence ?? 0), String(after?.index ?? 0), String(limit)];
    const result = await this.withClient((c) => c.query<{ sequence: string; idx: number; id: string; key: string; payload: string }>({ name: 'tengri.readOutbox', text: this.sql.readOutbox, values }));
    return result.rows.map((row) => ({ sequence: safeInteger(row.sequence, 'outbox sequence'), index: row.idx, id: row.id, key: row.key, payload: row.payload }));
  }

  async getMeta(key: string): Promise<string | null> {
    const result = await this.withClient((c) => c.query<{ value: string }>({ name: 'tengri.getMeta', text: this.sql.getMeta, values: [key] }));
    return result.rows[0]?.value ?? null;
  }

  /**
   * Sets a metadata value. With a fencing token set (a leader), the write is fenced like an append:
   * a stalled old leader cannot overwrite what the new one saved (webhook registrations, the
   * relay's position); it gets StoreFencedError instead.
   */
  async setMeta(key: string, value: string): Promise<void> {
    this.refuseIfReadonly();
    const token = this.fencingToken;
    if (token === null) {
      await this.withClient((c) => c.query({ name: 'tengri.setMeta', text: this.sql.setMeta, values: [key, value] }));
      return;
    }
    const result = await this.withClient((c) => c.query<{ written: number }>({ name: 'tengri.setMetaFenced', text: this.sql.setMetaFenced, values: [key, value, token.toString()] }));
    if (result.rows[0]?.written !== 1) throw new StoreFencedError(`fenced: the writer lease is no longer held with token ${token}; ${JSON.stringify(key)} was not written`);
  }

  // ----- writer lease -----

  /**
   * Takes the writer lease for `holder` if it is free, expired, or already held by `holder` and
   * live; null when another holder's lease is live. The token is one more than before on every
   * takeover, and unchanged when `holder` re-acquires its own live lease.
   */
  async acquireLease(holder: string, ttlMs: number): Promise<LeaseGrant | null> {
    this.refuseIfReadonly();
    requireHolder(holder);
    requireTtl(ttlMs);
    const result = await this.withClient((c) => c.query<{ token: string; expires_at_ms: number }>({ name: 'tengri.acquireLease', text: this.sql.acquireLease, values: [holder, String(ttlMs)] }));
    const row = result.rows[0];
    return row === undefined ? null : { token: toBigInt(row.token, 'lease token'), expiresAt: row.expires_at_ms };
  }

  /** Extends the lease while `holder` still holds it with `token`; false once it does not. */
  async renewLease(holder: string, token: bigint, ttlMs: number): Promise<boolean> {
    this.refuseIfReadonly();
    requireHolder(holder);
    requireTtl(ttlMs);
    const result = await this.withClient((c) => c.query({ name: 'tengri.renewLease', text: this.sql.renewLease, values: [holder, token.toString(), String(ttlMs)] }));
    return result.rowCount === 1;
  }

  /** Gives the lease up (the next acquire takes over at once); false if it was not ours. */
  async releaseLease(holder: string, token: bigint): Promise<boolean> {
    this.refuseIfReadonly();
    requireHolder(holder);
    const result = await this.withClient((c) => c.query({ name: 'tengri.releaseLease', text: this.sql.releaseLease, values: [holder, token.toString()] }));
    return result.rowCount === 1;
  }

  /** The current holder (live or expired), or null when nobody holds the lease. Works read-only. */
  async leaseInfo(): Promise<LeaseInfo | null> {
    const result = await this.withClient((c) => c.query<LeaseRow>({ name: 'tengri.leaseInfo', text: this.sql.leaseInfo }));
    const row = result.rows[0];
    if (row === undefined || row.holder === null || row.expires_at_ms === null) return null;
    return { holder: row.holder, token: toBigInt(row.token, 'lease token'), expiresAt: row.expires_at_ms, live: row.live, remainingMs: row.remaining_ms ?? 0 };
  }

  /**
   * From now on every append checks, in its own transaction, that `token` is the live lease's
   * token, else rejects with StoreFencedError. `null` turns fencing off (an append then refuses
   * only while someone holds a live lease).
   */
  setFencingToken(token: bigint | null): void {
    if (token !== null && (typeof token !== 'bigint' || token < 1n)) throw new RangeError('a fencing token is a bigint of at least 1');
    this.fencingToken = token;
  }

  get fencing(): bigint | null {
    return this.fencingToken;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function createSql(s: string): string {
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.journal (
      sequence      bigint  PRIMARY KEY CHECK (sequence >= 1),
      timestamp     bigint  NOT NULL,
      count         integer NOT NULL CHECK (count >= 0),
      previous_hash bytea   NOT NULL,
      hash          bytea   NOT NULL,
      body          bytea   NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.outbox (
      sequence bigint  NOT NULL,
      idx      integer NOT NULL,
      id       text    NOT NULL,
      key      text    NOT NULL,
      payload  text    NOT NULL,
      PRIMARY KEY (sequence, idx)
    );
    CREATE TABLE IF NOT EXISTS ${s}.writer_lease (
      id         smallint PRIMARY KEY CHECK (id = 1),
      holder     text,
      token      bigint NOT NULL,
      expires_at timestamptz
    );
    INSERT INTO ${s}.writer_lease (id, holder, token, expires_at) VALUES (1, NULL, 0, NULL) ON CONFLICT (id) DO NOTHING;
    -- Batch bodies of large batches are stored out of line and compressed inside the append: lz4
    -- compresses about twice as fast as the default pglz (PERFORMANCE.md). A server built
    -- without lz4 keeps pglz.
    DO $lz4$ BEGIN
      EXECUTE 'ALTER TABLE ${s}.journal ALTER COLUMN body SET COMPRESSION lz4';
    EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR undefined_object THEN NULL;
    END $lz4$;
    CREATE OR REPLACE FUNCTION ${s}.journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN RAISE EXCEPTION 'journal is append-only' USING ERRCODE = 'restrict_violation'; END
    $fn$;
    CREATE OR REPLACE FUNCTION ${s}.writer_lease_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP IN ('DELETE', 'TRUNCATE') THEN RAISE EXCEPTION 'the writer lease row cannot be deleted' USING ERRCODE = 'restrict_violation'; END IF;
        IF NEW.id <> OLD.id OR NEW.token < OLD.token THEN
          RAISE EXCEPTION 'the writer lease token never goes back' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
      END
    $fn$;`;
}

function triggerSql(s: string): [string, string][] {
  return [
    ['journal_no_update', `CREATE TRIGGER journal_no_update BEFORE UPDATE ON ${s}.journal FOR EACH ROW EXECUTE FUNCTION ${s}.journal_append_only()`],
    ['journal_no_delete', `CREATE TRIGGER journal_no_delete BEFORE DELETE ON ${s}.journal FOR EACH ROW EXECUTE FUNCTION ${s}.journal_append_only()`],
    ['journal_no_truncate', `CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON ${s}.journal FOR EACH STATEMENT EXECUTE FUNCTION ${s}.journal_append_only()`],
    ['writer_lease_guard', `CREATE TRIGGER writer_lease_guard BEFORE UPDATE OR DELETE ON ${s}.writer_lease FOR EACH ROW EXECUTE FUNCTION ${s}.writer_lease_guard()`],
    ['writer_lease_no_truncate', `CREATE TRIGGER writer_lease_no_truncate BEFORE TRUNCATE ON ${s}.writer_lease FOR EACH STATEMENT EXECUTE FUNCTION ${s}.writer_lease_guard()`],
  ];
}

/** Every statement the store runs, for the escaped schema identifier `s`. */
function statements(s: string) {
  const expiresAtMs = `floor(extract(epoch FROM expires_at) * 1000)::float8`;
  return {
    head: `SELECT sequence, timestamp, hash FROM ${s}.journal ORDER BY sequence DESC LIMIT 1`,
    read: `SELECT sequence, timestamp, count, previous_hash, hash, body FROM ${s}.journal WHERE sequence >= $1::bigint ORDER BY sequence LIMIT $2::bigint`,
    getMeta: `SELECT value FROM ${s}.meta WHERE key = $1`,
    /** $1, $2: the position to read after; $3 limit. */
    // Ordered by the bigint columns (an ORDER BY name would pick the text output column).
    readOutbox: `SELECT o.sequence::text AS sequence, o.idx, o.id, o.key, o.payload FROM ${s}.outbox AS o
      WHERE (o.sequence, o.idx) > ($1::bigint, $2::integer) ORDER BY o.sequence, o.idx LIMIT $3::bigint`,
    setMeta: `INSERT INTO ${s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    /** $1 key, $2 value, $3 fencing token: written only while that token's lease is live. */
    setMetaFenced: `
      WITH lease AS (
        SELECT token, coalesce(expires_at > now(), false) AS live FROM ${s}.writer_lease WHERE id = 1 FOR SHARE
      ), written AS (
        INSERT INTO ${s}.meta (key, value)
        SELECT $1::text, $2::text WHERE EXISTS (SELECT 1 FROM lease WHERE token = $3::bigint AND live)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
        RETURNING 1
      )
      SELECT count(*)::integer AS written FROM written`,
    /**
     * $1 sequence, $2 timestamp, $3 count, $4 previous_hash, $5 hash, $6 body,
     * $7 fencing token (NULL: none), $8 the meta key of the recorded head,
     * $9, $10, $11 the outbox entries' ids, keys and payloads (parallel arrays, possibly empty).
     */
    append: `
      WITH lease AS (
        SELECT holder, token, coalesce(expires_at > now(), false) AS live
        FROM ${s}.writer_lease WHERE id = 1
        FOR SHARE
      ), head AS (
        SELECT coalesce(max(sequence), 0) AS sequence FROM ${s}.journal
      ), inserted AS (
        INSERT INTO ${s}.journal (sequence, timestamp, count, previous_hash, hash, body)
        SELECT $1::bigint, $2::bigint, $3::integer, $4::bytea, $5::bytea, $6::bytea
        WHERE (SELECT sequence FROM head) = $1::bigint - 1
          AND CASE WHEN $7::bigint IS NULL
                   THEN NOT EXISTS (SELECT 1 FROM lease WHERE holder IS NOT NULL AND live)
                   ELSE EXISTS (SELECT 1 FROM lease WHERE token = $7::bigint AND live)
              END
        RETURNING sequence
      ), outbox AS (
        INSERT INTO ${s}.outbox (sequence, idx, id, key, payload)
        SELECT inserted.sequence, o.idx, o.id, o.key, o.payload
        FROM inserted, unnest($9::text[], $10::text[], $11::text[]) WITH ORDINALITY AS o(id, key, payload, idx)
      ), anchor AS (
        INSERT INTO ${s}.meta (key, value)
        SELECT $8::text, sequence::text FROM inserted
        ON CONFLICT (key) DO UPDATE SET value = excluded.value
      )
      SELECT (SELECT sequence FROM head)::text AS head,
             (SELECT count(*) FROM inserted)::integer AS inserted,
             (SELECT token FROM lease)::text AS lease_token,
             (SELECT live FROM lease) AS lease_live,
             (SELECT holder FROM lease) AS lease_holder`,
    /** $1 holder, $2 ttl in ms. */
    acquireLease: `
      UPDATE ${s}.writer_lease SET
        token = CASE WHEN holder = $1::text AND expires_at > now() THEN token ELSE token + 1 END,
        holder = $1::text,
        expires_at = now() + $2::bigint * interval '1 millisecond'
      WHERE id = 1 AND (holder IS NULL OR expires_at IS NULL OR expires_at <= now() OR holder = $1::text)
      RETURNING token::text AS token, ${expiresAtMs} AS expires_at_ms`,
    /** $1 holder, $2 token, $3 ttl in ms. */
    renewLease: `
      UPDATE ${s}.writer_lease SET expires_at = now() + $3::bigint * interval '1 millisecond'
      WHERE id = 1 AND holder = $1::text AND token = $2::bigint`,
    /** $1 holder, $2 token. */
    releaseLease: `
      UPDATE ${s}.writer_lease SET holder = NULL, expires_at = NULL
      WHERE id = 1 AND holder = $1::text AND token = $2::bigint`,
    leaseInfo: `
      SELECT holder, token::text AS token, ${expiresAtMs} AS expires_at_ms,
             coalesce(expires_at > now(), false) AS live,
             (extract(epoch FROM expires_at - now()) * 1000)::float8 AS remaining_ms
      FROM ${s}.writer_lease WHERE id = 1`,
  };
}
