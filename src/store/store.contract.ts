// Proves, for any Store implementation, the journal contract the engine relies on: byte-exact append and read, paging, refusal of gaps and duplicates without side effects, metadata, and durability across close and reopen.
/**
 * A backend-independent test suite for `Store`. A backend's test file calls it with a factory:
 *
 *   describeStoreContract('SqliteStore', {
 *     makeLocation: () => join(mkdtempSync(...), 'ledger.sqlite'),
 *     open: async (path) => new SqliteStore(path),
 *     destroy: (path) => rmSync(dirname(path), { recursive: true, force: true }),
 *   });
 *
 * A location names one durable journal (a file path for SQLite; a database URL or schema name for
 * PostgreSQL). `open` may be called several times for the same location, one store at a time, to
 * prove that what was written survives closing and reopening. Every test gets a fresh location.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalBatch, Store } from './store.ts';
import { StoreConflictError } from './store.ts';

export interface StoreFactory<Location> {
  /** A new, empty location. */
  makeLocation(): Location | Promise<Location>;
  /** Opens (creating if needed) the store at `location`. */
  open(location: Location): Promise<Store>;
  /** Removes everything at `location`; called after each test, once its stores are closed. */
  destroy?(location: Location): void | Promise<void>;
}

/** A batch with recognisable, sequence-dependent contents. Hashes are not checked by a store. */
export function sampleBatch(sequence: number, options: { body?: Uint8Array; timestamp?: number } = {}): JournalBatch {
  const fill = (seed: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
  return {
    sequence,
    timestamp: options.timestamp ?? 1_700_000_000_000 + sequence * 1000,
    count: sequence % 5,
    previousHash: fill(sequence - 1, 32),
    hash: fill(sequence, 32),
    body: options.body ?? fill(sequence + 100, 10 + ((sequence * 13) % 50)),
  };
}

/** A comparable plain form: typed arrays as hex, so Buffer vs Uint8Array never matters. */
export function plainBatch(batch: JournalBatch): Record<string, unknown> {
  const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return {
    sequence: batch.sequence,
    timestamp: batch.timestamp,
    count: batch.count,
    previousHash: hex(batch.previousHash),
    hash: hex(batch.hash),
    body: hex(batch.body),
  };
}

async function readAll(store: Store): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for (let from = 1; ; ) {
    const page = await store.read(from, 7);
    if (page.length === 0) return all;
    all.push(...page.map(plainBatch));
    from = page.at(-1)!.sequence + 1;
  }
}

export function describeStoreContract<Location>(name: string, factory: StoreFactory<Location>): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const locations: Location[] = [];

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      for (const location of locations.splice(0)) await factory.destroy?.(location);
    });

    async function fresh(): Promise<{ store: Store; location: Location }> {
      const location = await factory.makeLocation();
      locations.push(location);
      const store = await factory.open(location);
      opened.push(store);
      return { store, location };
    }

    async function reopen(store: Store, location: Location): Promise<Store> {
      await store.close();
      opened.splice(opened.indexOf(store), 1);
      const again = await factory.open(location);
      opened.push(again);
      return again;
    }

    async function appendRange(store: Store, from: number, to: number): Promise<JournalBatch[]> {
      const batches: JournalBatch[] = [];
      for (let sequence = from; sequence <= to; sequence++) {
        const batch = sampleBatch(sequence);
        await store.append(batch);
        batches.push(batch);
      }
      return batches;
    }

    it('an empty journal has a null head and reads as empty', async () => {
      const { store } = await fresh();
      expect(await store.head()).toBeNull();
      expect(await store.read(1, 10)).toEqual([]);
      expect(typeof store.kind).toBe('string');
    });

    it('appends batches 1..n and reads them back byte for byte', async () => {
      const { store } = await fresh();
      const batches = await appendRange(store, 1, 12);
      expect(await readAll(store)).toEqual(batches.map(plainBatch));
      const last = batches.at(-1)!;
      const head = await store.head();
      expect(head && { sequence: head.sequence, timestamp: head.timestamp, hash: Buffer.from(head.hash).toString('hex') }).toEqual({
        sequence: 12,
        timestamp: last.timestamp,
        hash: Buffer.from(last.hash).toString('hex'),
      });
    });

    it('keeps every byte value, an empty body (an expiry-only batch) and a large body intact', async () => {
      const { store } = await fresh();
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      const large = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 2654435761) >>> 24);
      const batches = [sampleBatch(1, { body: every }), sampleBatch(2, { body: new Uint8Array(0) }), sampleBatch(3, { body: large }), sampleBatch(4, { body: new Uint8Array([0]) })];
      for (const batch of batches) await store.append(batch);
      const read = await store.read(1, 10);
      expect(read.map(plainBatch)).toEqual(batches.map(plainBatch));
      expect(read[1]!.body).toBeInstanceOf(Uint8Array);
      expect(read[1]!.body.byteLength).toBe(0);
    });

    it('keeps timestamps and sequences beyond 32 bits exactly', async () => {
      const { store } = await fresh();
      const batch = sampleBatch(1, { timestamp: 253_402_300_799_999 }); // 9999-12-31T23:59:59.999Z
      await store.append(batch);
      expect((await store.read(1, 1)).map(plainBatch)).toEqual([plainBatch(batch)]);
      expect((await store.head())?.timestamp).toBe(253_402_300_799_999);
    });

    it('reads in pages: fromSequence and limit', async () => {
      const { store } = await fresh();
      const batches = (await appendRange(store, 1, 10)).map(plainBatch);
      expect((await store.read(1, 3)).map(plainBatch)).toEqual(batches.slice(0, 3));
      expect((await store.read(4, 3)).map(plainBatch)).toEqual(batches.slice(3, 6));
      expect((await store.read(9, 100)).map(plainBatch)).toEqual(batches.slice(8));
      expect((await store.read(10, 1)).map(plainBatch)).toEqual(batches.slice(9));
      expect(await store.read(11, 5)).toEqual([]);
      expect(await store.read(1000, 5)).toEqual([]);
      expect((await store.read(0, 2)).map(plainBatch)).toEqual(batches.slice(0, 2));
      expect(await store.read(1, 0)).toEqual([]);
    });

    it('refuses a first batch other than 1 with StoreConflictError', async () => {
      const { store } = await fresh();
      await expect(store.append(sampleBatch(2))).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.append(sampleBatch(0))).rejects.toBeInstanceOf(StoreConflictError);
      expect(await store.head()).toBeNull();
      expect(await store.read(0, 10)).toEqual([]);
    });

    it('refuses a gap with StoreConflictError and leaves the journal unchanged', async () => {
      const { store } = await fresh();
      const batches = (await appendRange(store, 1, 3)).map(plainBatch);
      await expect(store.append(sampleBatch(5))).rejects.toBeInstanceOf(StoreConflictError);
      expect(await readAll(store)).toEqual(batches);
      expect((await store.head())?.sequence).toBe(3);
      // The refusal leaves the store usable: the right next batch still goes in.
      await store.append(sampleBatch(4));
      expect((await store.head())?.sequence).toBe(4);
    });

    it('refuses a duplicate sequence with StoreConflictError and keeps the first batch', async () => {
      const { store } = await fresh();
      const batches = (await appendRange(store, 1, 3)).map(plainBatch);
      const impostor = { ...sampleBatch(3, { body: new Uint8Array([9, 9, 9]) }), hash: new Uint8Array(32).fill(0xee) };
      await expect(store.append(impostor)).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.append(sampleBatch(2))).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.append(sampleBatch(1))).rejects.toBeInstanceOf(StoreConflictError);
      expect(await readAll(store)).toEqual(batches);
      expect(Buffer.from((await store.head())!.hash).toString('hex')).toBe(batches[2]!.hash);
    });

    it('lets exactly one of two concurrent appends of the same sequence win', async () => {
      const { store } = await fresh();
      await appendRange(store, 1, 2);
      const a = sampleBatch(3, { body: new Uint8Array([1]) });
      const b = sampleBatch(3, { body: new Uint8Array([2]) });
      const outcomes = await Promise.allSettled([store.append(a), store.append(b)]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(StoreConflictError);
      const winner = outcomes[0]!.status === 'fulfilled' ? a : b;
      expect((await store.read(3, 10)).map(plainBatch)).toEqual([plainBatch(winner)]);
    });

    it('stores a copy: changing the caller’s arrays after append or after read changes nothing stored', async () => {
      const { store } = await fresh();
      const batch = sampleBatch(1);
      const expected = plainBatch(batch);
      await store.append(batch);
      (batch.body as Uint8Array).fill(0);
      (batch.hash as Uint8Array).fill(0);
      (batch.previousHash as Uint8Array).fill(0);
      const [first] = await store.read(1, 1);
      expect(plainBatch(first!)).toEqual(expected);
      first!.body.fill(0xff);
      first!.hash.fill(0xff);
      expect((await store.read(1, 1)).map(plainBatch)).toEqual([expected]);
      const head = await store.head();
      head!.hash.fill(0xff);
      expect(Buffer.from((await store.head())!.hash).toString('hex')).toBe(expected.hash);
    });

    it('metadata: missing keys read as null; set, overwrite and keep keys apart', async () => {
      const { store } = await fresh();
      expect(await store.getMeta('ledger.id')).toBeNull();
      await store.setMeta('ledger.id', 'first');
      await store.setMeta('other', '');
      expect(await store.getMeta('ledger.id')).toBe('first');
      await store.setMeta('ledger.id', 'second ₸ 😀');
      expect(await store.getMeta('ledger.id')).toBe('second ₸ 😀');
      expect(await store.getMeta('other')).toBe('');
      expect(await store.getMeta('LEDGER.ID')).toBeNull();
      const long = 'x'.repeat(100_000);
      await store.setMeta('long', long);
      expect(await store.getMeta('long')).toBe(long);
    });

    it('metadata is independent of the journal', async () => {
      const { store } = await fresh();
      await store.setMeta('k', 'v');
      expect(await store.head()).toBeNull();
      await appendRange(store, 1, 2);
      expect(await store.getMeta('k')).toBe('v');
    });

    it('keeps the journal and metadata across close and reopen, and continues from the stored head', async () => {
      const { store, location } = await fresh();
      const batches = await appendRange(store, 1, 5);
      await store.setMeta('ledger.id', 'kz-1');
      const again = await reopen(store, location);
      expect(await readAll(again)).toEqual(batches.map(plainBatch));
      expect((await again.head())?.sequence).toBe(5);
      expect(await again.getMeta('ledger.id')).toBe('kz-1');
      await expect(again.append(sampleBatch(5))).rejects.toBeInstanceOf(StoreConflictError);
      await again.append(sampleBatch(6));
      const third = await reopen(again, location);
      expect((await readAll(third)).map((b) => b.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('reopening an empty location gives an empty journal', async () => {
      const { store, location } = await fresh();
      const again = await reopen(store, location);
      expect(await again.head()).toBeNull();
      await again.append(sampleBatch(1));
      expect((await again.head())?.sequence).toBe(1);
    });

    it('outbox: entries are written with their batch, numbered from 1 per batch, and read in commit order after a position', async () => {
      const { store, location } = await fresh();
      const entry = (n: number) => ({ id: `bank-${n % 3}:${n}`, key: `bank-${n % 3}`, payload: JSON.stringify({ n, text: 'tenge ₸ 😀 "quoted"' }) });
      expect(await store.readOutbox(null, 10)).toEqual([]);
      await store.append(sampleBatch(1), [entry(1), entry(2), entry(3)]);
      await store.append(sampleBatch(2));
      await store.append(sampleBatch(3), []);
      await store.append(sampleBatch(4), [entry(4)]);
      const all = await store.readOutbox(null, 100);
      expect(all.map((r) => [r.sequence, r.index, r.id])).toEqual([
        [1, 1, 'bank-1:1'],
        [1, 2, 'bank-2:2'],
        [1, 3, 'bank-0:3'],
        [4, 1, 'bank-1:4'],
      ]);
      expect(all[0]).toEqual({ sequence: 1, index: 1, ...entry(1) });
      expect((await store.readOutbox({ sequence: 1, index: 1 }, 2)).map((r) => r.id)).toEqual(['bank-2:2', 'bank-0:3']);
      expect((await store.readOutbox({ sequence: 1, index: 3 }, 10)).map((r) => r.id)).toEqual(['bank-1:4']);
      expect((await store.readOutbox({ sequence: 2, index: 0 }, 10)).map((r) => r.id)).toEqual(['bank-1:4']);
      expect(await store.readOutbox({ sequence: 4, index: 1 }, 10)).toEqual([]);
      expect(await store.readOutbox(null, 0)).toEqual([]);
      const again = await reopen(store, location);
      expect(await again.readOutbox(null, 100)).toEqual(all);
    });

    it('outbox: reads in numeric order of sequence and index, past 9 and 99', async () => {
      const { store } = await fresh();
      for (let sequence = 1; sequence <= 12; sequence++) {
        const entries = sequence === 11 ? Array.from({ length: 12 }, (_, i) => ({ id: `b:${sequence}.${i + 1}`, key: 'b', payload: '{}' })) : [{ id: `b:${sequence}`, key: 'b', payload: '{}' }];
        await store.append(sampleBatch(sequence), entries);
      }
      const all = await store.readOutbox(null, 100);
      expect(all.map((r) => `${r.sequence}.${r.index}`)).toEqual([
        ...Array.from({ length: 10 }, (_, i) => `${i + 1}.1`),
        ...Array.from({ length: 12 }, (_, i) => `11.${i + 1}`),
        '12.1',
      ]);
      expect((await store.readOutbox({ sequence: 9, index: 1 }, 3)).map((r) => `${r.sequence}.${r.index}`)).toEqual(['10.1', '11.1', '11.2']);
      expect((await store.readOutbox({ sequence: 11, index: 9 }, 2)).map((r) => `${r.sequence}.${r.index}`)).toEqual(['11.10', '11.11']);
    });

    it('outbox: a refused append writes none of its entries', async () => {
      const { store } = await fresh();
      await store.append(sampleBatch(1), [{ id: 'a:1', key: 'a', payload: '{}' }]);
      await expect(store.append(sampleBatch(1), [{ id: 'a:2', key: 'a', payload: '{}' }])).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.append(sampleBatch(3), [{ id: 'a:3', key: 'a', payload: '{}' }])).rejects.toBeInstanceOf(StoreConflictError);
      expect((await store.readOutbox(null, 10)).map((r) => r.id)).toEqual(['a:1']);
    });

    it('close is idempotent', async () => {
      const { store } = await fresh();
      await store.close();
      await store.close();
    });
  });
}
