// Proves PostgresStore meets the backend-independent Store contract against a real PostgreSQL server, and adds the PostgreSQL guarantees: append-only triggers, durable commits, read-only mode, safe bigint conversion, one round trip per append, and the writer lease with fencing (including the race between an old leader's append and a takeover).
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freshSchema, postgresUrl } from '../../test/support/postgres.ts';
import { PostgresStore, safeInteger, StoreFencedError } from './postgres-store.ts';
import { describeStoreContract, plainBatch, sampleBatch } from './store.contract.ts';
import type { JournalBatch } from './store.ts';
import { journalHeadKey, StoreConflictError } from './store.ts';

const server = await postgresUrl('src/store/postgres-store.test.ts (the PostgresStore contract, lease and fencing tests)');
afterAll(() => server.stop());

describeStoreContract('PostgresStore', {
  makeLocation: () => freshSchema(server.url),
  open: (location) => PostgresStore.open(server.url, { schema: location.schema, poolSize: 2 }),
  destroy: (location) => location.drop(),
});

describe('PostgresStore specifics', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function schema(): string {
    const fresh = freshSchema(server.url);
    cleanups.push(() => fresh.drop());
    return fresh.schema;
  }

  async function open(name: string, options: { readonly?: boolean; poolSize?: number; url?: string } = {}): Promise<PostgresStore> {
    const store = await PostgresStore.open(options.url ?? server.url, { schema: name, readonly: options.readonly, poolSize: options.poolSize ?? 2 });
    cleanups.push(() => store.close());
    return store;
  }

  async function raw(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {});
    await client.connect();
    cleanups.push(() => client.end());
    return client;
  }

  async function storeWithBatches(count: number): Promise<{ name: string; store: PostgresStore }> {
    const name = schema();
    const store = await open(name);
    for (let sequence = 1; sequence <= count; sequence++) await store.append(sampleBatch(sequence));
    return { name, store };
  }

  const q = (name: string): string => pg.Client.prototype.escapeIdentifier(name);

  /** Counts ReadyForQuery messages, i.e. completed round trips, on the store's connections. */
  function countRoundTrips(store: PostgresStore): () => number {
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    let count = 0;
    const watched = new WeakSet<object>();
    pool.on('acquire', (client) => {
      if (watched.has(client)) return;
      watched.add(client);
      client.connection.on('readyForQuery', () => count++);
    });
    return () => count;
  }

  /** Waits, on the database clock, until the lease is no longer live. */
  async function untilExpired(store: PostgresStore): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      const info = await store.leaseInfo();
      if (info === null || !info.live) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(50, Math.ceil(info.remainingMs)))));
    }
    throw new Error('the lease never expired');
  }

  describe('append-only journal', () => {
    it('refuses UPDATE, DELETE and TRUNCATE through triggers, and nothing changes', async () => {
      const { name, store } = await storeWithBatches(3);
      const before = (await store.read(1, 10)).map(plainBatch);
      const db = await raw();
      await expect(db.query(`UPDATE ${q(name)}.journal SET body = '\\x00' WHERE sequence = 2`)).rejects.toThrow(/append-only/);
      await expect(db.query(`UPDATE ${q(name)}.journal SET sequence = 9 WHERE sequence = 3`)).rejects.toThrow(/append-only/);
      await expect(db.query(`DELETE FROM ${q(name)}.journal WHERE sequence = 3`)).rejects.toThrow(/append-only/);
      await expect(db.query(`DELETE FROM ${q(name)}.journal`)).rejects.toThrow(/append-only/);
      await expect(db.query(`TRUNCATE ${q(name)}.journal`)).rejects.toThrow(/append-only/);
      await expect(db.query(`INSERT INTO ${q(name)}.journal VALUES (2, 1, 0, '\\x00', '\\x00', '\\x00') ON CONFLICT (sequence) DO UPDATE SET body = excluded.body`)).rejects.toThrow(/append-only/);
      expect((await store.read(1, 10)).map(plainBatch)).toEqual(before);
    });

    it('stores batch bodies compressed with lz4 when the server has it, and reads them back exactly', async () => {
      const name = schema();
      const store = await open(name);
      const db = await raw();
      const lz4 = (await db.query<{ has: boolean }>(`SELECT enumvals::text LIKE '%lz4%' AS has FROM pg_settings WHERE name = 'default_toast_compression'`)).rows[0]?.has === true;
      const column = await db.query<{ attcompression: string }>(`SELECT attcompression FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'body'`, [`${q(name)}.journal`]);
      expect(column.rows[0]!.attcompression).toBe(lz4 ? 'l' : '');
      // A body large enough to be stored out of line and compressed.
      const body = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 13);
      await store.append(sampleBatch(1, { body }));
      expect(Buffer.from((await store.read(1, 1))[0]!.body).equals(Buffer.from(body))).toBe(true);
      if (lz4) {
        const method = await db.query<{ method: string }>(`SELECT pg_column_compression(body) AS method FROM ${q(name)}.journal WHERE sequence = 1`);
        expect(method.rows[0]!.method).toBe('lz4');
      }
    });

    it('re-creates missing triggers when opened again', async () => {
      const { name, store } = await storeWithBatches(1);
      await store.close();
      const db = await raw();
      await db.query(`DROP TRIGGER journal_no_update ON ${q(name)}.journal; DROP TRIGGER journal_no_truncate ON ${q(name)}.journal`);
      await open(name);
      const triggers = await db.query<{ tgname: string }>(`SELECT tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`, [`${q(name)}.journal`]);
      expect(triggers.rows.map((r) => r.tgname)).toEqual(['journal_no_delete', 'journal_no_truncate', 'journal_no_update']);
      await expect(db.query(`TRUNCATE ${q(name)}.journal`)).rejects.toThrow(/append-only/);
    });

    it('several processes opening one new schema at once all succeed', async () => {
      const name = schema();
      const stores = await Promise.all(Array.from({ length: 6 }, () => open(name, { poolSize: 1 })));
      await stores[0]!.append(sampleBatch(1));
      expect((await stores[5]!.head())?.sequence).toBe(1);
    });

    it('the lease row cannot be deleted and its token never goes back', async () => {
      const name = schema();
      const store = await open(name);
      expect(await store.acquireLease('a', 10_000)).not.toBeNull();
      const db = await raw();
      await expect(db.query(`DELETE FROM ${q(name)}.writer_lease`)).rejects.toThrow(/cannot be deleted/);
      await expect(db.query(`TRUNCATE ${q(name)}.writer_lease`)).rejects.toThrow(/cannot be deleted/);
      await expect(db.query(`UPDATE ${q(name)}.writer_lease SET token = 0`)).rejects.toThrow(/never goes back/);
      expect((await store.leaseInfo())?.token).toBe(1n);
    });
  });

  describe('durability, visibility, read-only', () => {
    it('a second connection sees an append as soon as it resolves, with the head anchor', async () => {
      const { name, store } = await storeWithBatches(2);
      const db = await raw();
      const headOf = async () => (await db.query(`SELECT max(sequence)::integer AS head FROM ${q(name)}.journal`)).rows[0];
      expect(await headOf()).toEqual({ head: 2 });
      await store.append(sampleBatch(3));
      expect(await headOf()).toEqual({ head: 3 });
      const anchor = await db.query(`SELECT value FROM ${q(name)}.meta WHERE key = $1`, [journalHeadKey]);
      expect(anchor.rows).toEqual([{ value: '3' }]);
    });

    it('commits synchronously even when the connection default is synchronous_commit = off', async () => {
      const name = schema();
      const url = new URL(server.url);
      url.searchParams.set('options', '-c synchronous_commit=off');
      const store = await open(name, { url: url.toString() });
      await store.append(sampleBatch(1));
      const settings = await (store as unknown as { withClient<T>(run: (c: pg.PoolClient) => Promise<T>): Promise<T> }).withClient((c) => c.query('SHOW synchronous_commit'));
      expect(settings.rows[0].synchronous_commit).toBe('on');
      // The server's own default connection is not made weaker either.
      const plain = await open(name);
      const defaults = await (plain as unknown as { withClient<T>(run: (c: pg.PoolClient) => Promise<T>): Promise<T> }).withClient((c) => c.query('SHOW synchronous_commit'));
      expect(defaults.rows[0].synchronous_commit).not.toBe('off');
    });

    it('a read-only store reads what a writer stored and refuses every write', async () => {
      const { name, store } = await storeWithBatches(3);
      await store.setMeta('k', 'v');
      const grant = await store.acquireLease('leader', 60_000);
      const reader = await open(name, { readonly: true });
      expect(reader.readonly).toBe(true);
      expect((await reader.read(1, 10)).map(plainBatch)).toEqual((await store.read(1, 10)).map(plainBatch));
      expect((await reader.head())?.sequence).toBe(3);
      expect(await reader.getMeta('k')).toBe('v');
      expect(await reader.leaseInfo()).toMatchObject({ holder: 'leader', token: grant!.token, live: true });
      await expect(reader.append(sampleBatch(4))).rejects.toThrow(/read-only/);
      await expect(reader.setMeta('k', 'w')).rejects.toThrow(/read-only/);
      await expect(reader.acquireLease('standby', 1000)).rejects.toThrow(/read-only/);
      await expect(reader.renewLease('leader', grant!.token, 1000)).rejects.toThrow(/read-only/);
      await expect(reader.releaseLease('leader', grant!.token)).rejects.toThrow(/read-only/);
      // Its connections are read-only in the database too.
      const attempt = (reader as unknown as { withClient<T>(run: (c: pg.PoolClient) => Promise<T>): Promise<T> }).withClient((c) => c.query(`INSERT INTO ${q(name)}.meta VALUES ('x', 'y')`));
      await expect(attempt).rejects.toThrow(/read-only transaction/);
      expect(await store.getMeta('k')).toBe('v');
      expect((await store.head())?.sequence).toBe(3);
    });

    it('a read-only store refuses a schema that does not exist instead of creating it', async () => {
      const name = schema();
      await expect(PostgresStore.open(server.url, { schema: name, readonly: true })).rejects.toThrow(/read-only store does not create/);
      const db = await raw();
      expect((await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name])).rowCount).toBe(0);
    });

    it('refuses unsafe schema names', async () => {
      await expect(PostgresStore.open(server.url, { schema: 'a"; DROP SCHEMA public; --' })).rejects.toThrow(/schema name/);
      await expect(PostgresStore.open(server.url, { schema: '' })).rejects.toThrow(/schema name/);
    });
  });

  describe('numbers', () => {
    it('safeInteger converts pg bigint strings exactly and throws beyond 2^53 - 1', () => {
      expect(safeInteger('0', 'x')).toBe(0);
      expect(safeInteger('-42', 'x')).toBe(-42);
      expect(safeInteger('9007199254740991', 'x')).toBe(Number.MAX_SAFE_INTEGER);
      expect(safeInteger('-9007199254740991', 'x')).toBe(Number.MIN_SAFE_INTEGER);
      expect(safeInteger(12n, 'x')).toBe(12);
      for (const bad of ['9007199254740992', '9007199254740993', '-9007199254740992', '9223372036854775807', '1.5', '', ' 1', '1e3', 'abc', 1.5, NaN, null, undefined, 2n ** 53n]) {
        expect(() => safeInteger(bad, 'value'), String(bad)).toThrow(RangeError);
      }
    });

    it('reads timestamps and sequences up to 2^53 - 1 exactly, and refuses to round larger ones', async () => {
      const name = schema();
      const store = await open(name);
      await store.append(sampleBatch(1, { timestamp: Number.MAX_SAFE_INTEGER }));
      expect((await store.head())?.timestamp).toBe(Number.MAX_SAFE_INTEGER);
      expect((await store.read(1, 1))[0]!.timestamp).toBe(Number.MAX_SAFE_INTEGER);
      // Rows the engine could never have written, put there behind its back:
      const db = await raw();
      await db.query(`INSERT INTO ${q(name)}.journal VALUES (2, 9007199254740993, 0, '\\x00', '\\x00', '\\x00')`);
      await expect(store.head()).rejects.toThrow(/journal timestamp 9007199254740993 is not a safe integer/);
      await expect(store.read(2, 1)).rejects.toThrow(RangeError);
      await db.query(`INSERT INTO ${q(name)}.journal VALUES (9007199254740992, 1, 0, '\\x00', '\\x00', '\\x00')`);
      await expect(store.head()).rejects.toThrow(/journal sequence 9007199254740992 is not a safe integer/);
    });

    it('refuses to send numbers that are not safe integers', async () => {
      const store = await open(schema());
      await expect(store.append({ ...sampleBatch(1), timestamp: 2 ** 53 })).rejects.toThrow(RangeError);
      await expect(store.append({ ...sampleBatch(1), sequence: 1.5 })).rejects.toThrow(RangeError);
      await expect(store.append({ ...sampleBatch(1), count: -1 })).rejects.toThrow(RangeError);
      expect(await store.head()).toBeNull();
    });
  });

  describe('round trips', () => {
    it('an append is one round trip, fenced or not, on a new connection or a used one', async () => {
      const store = await open(schema(), { poolSize: 1 });
      const roundTrips = countRoundTrips(store);
      let before = roundTrips();
      await store.append(sampleBatch(1)); // first use of the connection: Parse travels with Bind/Execute
      expect(roundTrips() - before).toBe(1);
      before = roundTrips();
      await store.append(sampleBatch(2));
      expect(roundTrips() - before).toBe(1);
      const grant = (await store.acquireLease('leader', 60_000))!;
      store.setFencingToken(grant.token);
      for (let sequence = 3; sequence <= 5; sequence++) {
        before = roundTrips();
        await store.append(sampleBatch(sequence));
        expect(roundTrips() - before).toBe(1);
      }
      before = roundTrips();
      await expect(store.append(sampleBatch(5))).rejects.toBeInstanceOf(StoreConflictError);
      expect(roundTrips() - before).toBe(1);
      before = roundTrips();
      expect(await store.renewLease('leader', grant.token, 60_000)).toBe(true);
      expect(roundTrips() - before).toBe(1);
    });
  });

  describe('writer lease', () => {
    it('acquire, renew, release; leaseInfo names the holder on the database clock', async () => {
      const store = await open(schema());
      expect(await store.leaseInfo()).toBeNull();
      const db = await raw();
      const dbNow = async (): Promise<number> => (await db.query<{ now: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now')).rows[0]!.now;
      const t0 = await dbNow();
      const grant = await store.acquireLease('node-a', 30_000);
      const t1 = await dbNow();
      expect(grant).not.toBeNull();
      expect(grant!.token).toBe(1n);
      expect(grant!.expiresAt).toBeGreaterThanOrEqual(Math.floor(t0) + 30_000 - 1);
      expect(grant!.expiresAt).toBeLessThanOrEqual(t1 + 30_000);
      const info = await store.leaseInfo();
      expect(info).toMatchObject({ holder: 'node-a', token: 1n, expiresAt: grant!.expiresAt, live: true });
      expect(info!.remainingMs).toBeGreaterThan(25_000);
      expect(await store.renewLease('node-a', 1n, 60_000)).toBe(true);
      expect((await store.leaseInfo())!.expiresAt).toBeGreaterThan(grant!.expiresAt + 25_000);
      expect(await store.renewLease('node-a', 2n, 60_000)).toBe(false);
      expect(await store.renewLease('node-b', 1n, 60_000)).toBe(false);
      expect(await store.releaseLease('node-b', 1n)).toBe(false);
      expect(await store.releaseLease('node-a', 1n)).toBe(true);
      expect(await store.leaseInfo()).toBeNull();
      expect(await store.renewLease('node-a', 1n, 60_000)).toBe(false);
      // Anyone takes a released lease at once, with the next token.
      expect((await store.acquireLease('node-b', 30_000))?.token).toBe(2n);
    });

    it('re-acquiring one’s own live lease keeps the token and extends it', async () => {
      const store = await open(schema());
      const first = (await store.acquireLease('node-a', 10_000))!;
      const again = (await store.acquireLease('node-a', 60_000))!;
      expect(again.token).toBe(first.token);
      expect(again.expiresAt).toBeGreaterThan(first.expiresAt);
    });

    it('a second holder cannot take a live lease', async () => {
      const name = schema();
      const a = await open(name);
      const b = await open(name);
      const grant = (await a.acquireLease('node-a', 60_000))!;
      expect(await b.acquireLease('node-b', 60_000)).toBeNull();
      expect(await b.leaseInfo()).toMatchObject({ holder: 'node-a', token: grant.token, live: true });
      expect(await b.renewLease('node-b', grant.token, 60_000)).toBe(false);
      expect(await b.releaseLease('node-b', grant.token)).toBe(false);
      expect(await a.renewLease('node-a', grant.token, 60_000)).toBe(true);
    });

    it('concurrent acquires of a free lease: exactly one wins', async () => {
      const name = schema();
      const stores = await Promise.all(Array.from({ length: 5 }, () => open(name, { poolSize: 1 })));
      const grants = await Promise.all(stores.map((s, i) => s.acquireLease(`node-${i}`, 60_000)));
      expect(grants.filter((g) => g !== null)).toHaveLength(1);
      expect(grants.find((g) => g !== null)!.token).toBe(1n);
    });

    it('takes an expired lease with a higher token; the old holder can then neither renew nor release', async () => {
      const name = schema();
      const a = await open(name);
      const b = await open(name);
      const old = (await a.acquireLease('node-a', 50))!;
      await untilExpired(a);
      expect(await a.leaseInfo()).toMatchObject({ holder: 'node-a', live: false });
      const taken = (await b.acquireLease('node-b', 60_000))!;
      expect(taken.token).toBe(old.token + 1n);
      expect(await a.renewLease('node-a', old.token, 60_000)).toBe(false);
      expect(await a.releaseLease('node-a', old.token)).toBe(false);
      expect(await a.acquireLease('node-a', 60_000)).toBeNull();
      expect((await a.leaseInfo())?.holder).toBe('node-b');
    });

    it('a holder that takes back its own expired lease gets a new token', async () => {
      const store = await open(schema());
      const first = (await store.acquireLease('node-a', 20))!;
      await untilExpired(store);
      const again = (await store.acquireLease('node-a', 60_000))!;
      expect(again.token).toBe(first.token + 1n);
    });

    it('validates its arguments', async () => {
      const store = await open(schema());
      await expect(store.acquireLease('', 1000)).rejects.toThrow(TypeError);
      await expect(store.acquireLease('a', 0)).rejects.toThrow(RangeError);
      await expect(store.acquireLease('a', 1.5)).rejects.toThrow(RangeError);
      expect(() => store.setFencingToken(0n)).toThrow(RangeError);
    });
  });

  describe('fencing', () => {
    const tag = (round: number, writer: number): Uint8Array => Uint8Array.from([round & 0xff, (round >> 8) & 0xff, writer]);

    it('an old leader with the old token is fenced after a takeover, and the journal is unchanged', async () => {
      const name = schema();
      const oldLeader = await open(name);
      const newLeader = await open(name);
      const old = (await oldLeader.acquireLease('old', 50))!;
      oldLeader.setFencingToken(old.token);
      for (let sequence = 1; sequence <= 3; sequence++) await oldLeader.append(sampleBatch(sequence));
      for (let i = 0; (await newLeader.acquireLease('new', 60_000)) === null; i++) {
        if (i > 500) throw new Error('no takeover');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const taken = (await newLeader.leaseInfo())!;
      expect(taken.token).toBe(old.token + 1n);
      const before = (await newLeader.read(1, 10)).map(plainBatch);
      const refused = await oldLeader.append(sampleBatch(4)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(StoreFencedError);
      expect(String(refused)).toMatch(/token 2 \(holder "new"\).*token 1/);
      expect((await newLeader.read(1, 10)).map(plainBatch)).toEqual(before);
      expect(await newLeader.getMeta(journalHeadKey)).toBe('3');
      // The new leader continues the journal; the old one stays fenced, whatever it sends.
      newLeader.setFencingToken(taken.token);
      await newLeader.append(sampleBatch(4));
      await expect(oldLeader.append(sampleBatch(5))).rejects.toBeInstanceOf(StoreFencedError);
      await expect(oldLeader.append(sampleBatch(4))).rejects.toBeInstanceOf(StoreFencedError);
      expect((await newLeader.head())?.sequence).toBe(4);
      // Metadata a leader keeps (webhook registrations, the relay's position) is fenced too.
      await newLeader.setMeta('webhooks', 'new');
      await expect(oldLeader.setMeta('webhooks', 'old')).rejects.toBeInstanceOf(StoreFencedError);
      expect(await newLeader.getMeta('webhooks')).toBe('new');
    });

    it('a leader whose lease expired is fenced until it renews (nobody took over)', async () => {
      const store = await open(schema());
      const grant = (await store.acquireLease('leader', 30))!;
      store.setFencingToken(grant.token);
      await store.append(sampleBatch(1));
      for (let i = 0; (await store.leaseInfo())!.live; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      await expect(store.append(sampleBatch(2))).rejects.toThrow(/has expired/);
      expect((await store.head())?.sequence).toBe(1);
      expect(await store.renewLease('leader', grant.token, 60_000)).toBe(true);
      await store.append(sampleBatch(2));
      expect((await store.head())?.sequence).toBe(2);
    });

    it('a store without a fencing token cannot write while someone holds a live lease', async () => {
      const name = schema();
      const leader = await open(name);
      const other = await open(name);
      const grant = (await leader.acquireLease('leader', 60_000))!;
      await expect(other.append(sampleBatch(1))).rejects.toThrow(/"leader" holds the writer lease/);
      expect(await other.head()).toBeNull();
      expect(await leader.releaseLease('leader', grant.token)).toBe(true);
      await other.append(sampleBatch(1));
      expect((await other.head())?.sequence).toBe(1);
    });

    it('a takeover waits for an in-flight append of the old leader, and then sees its batch', async () => {
      const name = schema();
      const oldLeader = await open(name);
      const newLeader = await open(name);
      const db = await raw();
      // Slow every insert down, so the old leader's append is in flight (holding its share lock
      // on the lease row) while the lease expires and the new leader tries to take over.
      await db.query(`
        CREATE FUNCTION ${q(name)}.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NEW; END $$;
        CREATE TRIGGER slow BEFORE INSERT ON ${q(name)}.journal FOR EACH ROW EXECUTE FUNCTION ${q(name)}.slow();`);
      const old = (await oldLeader.acquireLease('old', 200))!;
      oldLeader.setFencingToken(old.token);
      const order: string[] = [];
      const append = oldLeader.append(sampleBatch(1)).then(() => order.push('append'));
      await untilExpired(newLeader);
      const takeover = newLeader.acquireLease('new', 60_000).then((grant) => {
        order.push('takeover');
        return grant;
      });
      const [, grant] = await Promise.all([append, takeover]);
      expect(order).toEqual(['append', 'takeover']);
      expect(grant?.token).toBe(old.token + 1n);
      // The new leader's recovery reads after its acquire: the old leader's batch is there.
      expect((await newLeader.head())?.sequence).toBe(1);
    });

    it('an append that meets an uncommitted takeover waits for it and is then fenced', async () => {
      const name = schema();
      const oldLeader = await open(name);
      const old = (await oldLeader.acquireLease('old', 60_000))!;
      oldLeader.setFencingToken(old.token);
      await oldLeader.append(sampleBatch(1));
      const db = await raw();
      await db.query('BEGIN');
      await db.query(`UPDATE ${q(name)}.writer_lease SET holder = 'new', token = token + 1, expires_at = now() + interval '1 minute' WHERE id = 1`);
      const appended = oldLeader.append(sampleBatch(2)).then(
        () => 'written',
        (error: unknown) => error,
      );
      // Wait until the append is blocked on the lease row lock, then commit the takeover.
      const watcher = await raw();
      for (let i = 0; ; i++) {
        const waiting = await watcher.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR SHARE%' AND query LIKE $1`, [`%${name}%`]);
        if (waiting.rowCount! > 0) break;
        if (i > 1000) throw new Error('the append never waited for the lease row');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await db.query('COMMIT');
      expect(await appended).toBeInstanceOf(StoreFencedError);
      expect((await oldLeader.head())?.sequence).toBe(1);
      expect(await oldLeader.getMeta(journalHeadKey)).toBe('1');
    });

    it('race: an old leader’s append against a takeover, 50 rounds: never a batch by the old token after the takeover', async () => {
      const name = schema();
      const holders = ['x', 'y'] as const;
      const stores = [await open(name), await open(name)];
      let leader = 0;
      let token = (await stores[0]!.acquireLease(holders[0], 60_000))!.token;
      stores[0]!.setFencingToken(token);
      let head = 0;
      const seen = { oldWon: 0, oldFenced: 0 };
      // A fixed pseudo-random schedule: where, around the expiry, the old leader's append starts.
      let seed = 12345;
      const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      for (let round = 1; round <= 50; round++) {
        const oldStore = stores[leader]!;
        const newIndex = 1 - leader;
        const newStore = stores[newIndex]!;
        expect(await oldStore.renewLease(holders[leader]!, token, 15)).toBe(true);
        const oldBatch = sampleBatch(head + 1, { body: tag(round, 0) });
        const delay = Math.floor(next() * 30);
        const oldAppend = new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
          oldStore.append(oldBatch).then(
            () => true,
            (error: unknown) => {
              expect(error).toBeInstanceOf(StoreFencedError);
              return false;
            },
          ),
        );
        const takeover = (async () => {
          for (let i = 0; ; i++) {
            const grant = await newStore.acquireLease(holders[newIndex]!, 60_000);
            if (grant !== null) return { token: grant.token, headAfter: (await newStore.head())?.sequence ?? 0 };
            if (i > 2000) throw new Error('no takeover');
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })();
        const [oldWrote, taken] = await Promise.all([oldAppend, takeover]);
        expect(taken.token).toBe(token + 1n);
        if (oldWrote) {
          // It committed before the takeover: the new leader's first read sees it.
          expect(taken.headAfter).toBe(head + 1);
          head++;
          seen.oldWon++;
        } else {
          expect(taken.headAfter).toBe(head);
          seen.oldFenced++;
        }
        // The new leader writes next; the old one, retrying, is fenced.
        newStore.setFencingToken(taken.token);
        await newStore.append(sampleBatch(head + 1, { body: tag(round, 1) }));
        head++;
        await expect(oldStore.append(sampleBatch(head + 1, { body: tag(round, 0) }))).rejects.toBeInstanceOf(StoreFencedError);
        leader = newIndex;
        token = taken.token;
      }
      // The journal: contiguous, each sequence once, and in every round the old leader's batch (if
      // any) comes before the new leader's.
      const all: JournalBatch[] = [];
      for (let from = 1; ; ) {
        const page = await stores[0]!.read(from, 100);
        if (page.length === 0) break;
        all.push(...page);
        from = page.at(-1)!.sequence + 1;
      }
      expect(all.map((b) => b.sequence)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      const tags = all.map((b) => [b.body[0]! | (b.body[1]! << 8), b.body[2]!] as const);
      for (let round = 1; round <= 50; round++) {
        const inRound = tags.filter(([r]) => r === round).map(([, writer]) => writer);
        expect([[1], [0, 1]], `round ${round}`).toContainEqual(inRound);
      }
      expect(seen.oldWon + seen.oldFenced).toBe(50);
      expect(await stores[1]!.getMeta(journalHeadKey)).toBe(String(head));
    });
  });
});
