// Proves SqliteStore meets the backend-independent Store contract and adds the SQLite guarantees: an append-only journal enforced by triggers, WAL mode and synchronous = FULL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.ts';
import { describeStoreContract, plainBatch, sampleBatch } from './store.contract.ts';

function newDatabasePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'tengri-sqlite-store-')), 'ledger.sqlite');
}

describeStoreContract('SqliteStore', {
  makeLocation: newDatabasePath,
  open: async (path: string) => new SqliteStore(path),
  destroy: (path: string) => rmSync(dirname(path), { recursive: true, force: true }),
});

describe('SqliteStore specifics', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function storeWithBatches(count: number): Promise<{ path: string; store: SqliteStore }> {
    const path = newDatabasePath();
    cleanups.push(() => rmSync(dirname(path), { recursive: true, force: true }));
    const store = new SqliteStore(path);
    cleanups.push(() => store.close());
    for (let sequence = 1; sequence <= count; sequence++) await store.append(sampleBatch(sequence));
    return { path, store };
  }

  function rawDatabase(path: string): Database.Database {
    const db = new Database(path);
    cleanups.push(() => {
      if (db.open) db.close();
    });
    return db;
  }

  it('the journal refuses UPDATE through its trigger, and nothing changes', async () => {
    const { path, store } = await storeWithBatches(3);
    const before = (await store.read(1, 10)).map(plainBatch);
    const db = rawDatabase(path);
    expect(() => db.prepare('UPDATE journal SET body = x\'00\' WHERE sequence = 2').run()).toThrow(/append-only/);
    expect(() => db.prepare('UPDATE journal SET sequence = 9 WHERE sequence = 3').run()).toThrow(/append-only/);
    expect((await store.read(1, 10)).map(plainBatch)).toEqual(before);
  });

  it('the journal refuses DELETE through its trigger, and nothing changes', async () => {
    const { path, store } = await storeWithBatches(3);
    const before = (await store.read(1, 10)).map(plainBatch);
    const db = rawDatabase(path);
    expect(() => db.prepare('DELETE FROM journal WHERE sequence = 3').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM journal').run()).toThrow(/append-only/);
    expect((await store.read(1, 10)).map(plainBatch)).toEqual(before);
  });

  it('the journal refuses INSERT OR REPLACE of a stored sequence', async () => {
    const { path, store } = await storeWithBatches(2);
    const before = (await store.read(1, 10)).map(plainBatch);
    const db = rawDatabase(path);
    // The REPLACE conflict resolution removes the old row without firing DELETE triggers (unless
    // recursive_triggers is on), so the UPDATE/DELETE triggers alone do not stop this rewrite.
    let replaced = false;
    try {
      db.prepare("INSERT OR REPLACE INTO journal (sequence, timestamp, count, previous_hash, hash, body) VALUES (2, 1, 0, x'00', x'00', x'00')").run();
      replaced = true;
    } catch (error) {
      expect(String(error)).toMatch(/append-only/);
    }
    expect(replaced, 'INSERT OR REPLACE rewrote a stored batch').toBe(false);
    expect((await store.read(1, 10)).map(plainBatch)).toEqual(before);
  });

  it('the triggers are created again when the store is opened on a file that lacks them', async () => {
    const { path, store } = await storeWithBatches(1);
    await store.close();
    const db = rawDatabase(path);
    db.exec('DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;');
    db.close();
    const again = new SqliteStore(path);
    cleanups.push(() => again.close());
    const check = rawDatabase(path);
    const triggers = check.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all() as { name: string }[];
    expect(triggers.map((t) => t.name)).toEqual(expect.arrayContaining(['journal_no_delete', 'journal_no_update']));
  });

  it('the database is in WAL mode', async () => {
    const { path } = await storeWithBatches(1);
    // journal_mode = WAL is persistent, so any connection sees it.
    expect(rawDatabase(path).pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('the store connection uses synchronous = FULL (2)', async () => {
    const { store } = await storeWithBatches(0);
    // `synchronous` is a per-connection setting: read it on the store's own connection.
    const db = (store as unknown as { db: Database.Database }).db;
    expect(db).toBeInstanceOf(Database);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('a second connection sees an append as soon as it resolves (committed, not buffered)', async () => {
    const { path, store } = await storeWithBatches(2);
    const db = rawDatabase(path);
    expect(db.prepare('SELECT max(sequence) AS head FROM journal').get()).toEqual({ head: 2 });
    await store.append(sampleBatch(3));
    expect(db.prepare('SELECT max(sequence) AS head FROM journal').get()).toEqual({ head: 3 });
  });

  it('a read-only store reads what a writer stored and refuses to write', async () => {
    const { path, store } = await storeWithBatches(3);
    await store.setMeta('k', 'v');
    const reader = new SqliteStore(path, { readonly: true });
    cleanups.push(() => reader.close());
    expect((await reader.read(1, 10)).map(plainBatch)).toEqual((await store.read(1, 10)).map(plainBatch));
    expect((await reader.head())?.sequence).toBe(3);
    expect(await reader.getMeta('k')).toBe('v');
    await expect(reader.append(sampleBatch(4))).rejects.toThrow();
    await expect(reader.setMeta('k', 'w')).rejects.toThrow();
    expect(await store.getMeta('k')).toBe('v');
    expect((await store.head())?.sequence).toBe(3);
  });

  it('a read-only store refuses a missing file instead of creating one', () => {
    const path = newDatabasePath();
    cleanups.push(() => rmSync(dirname(path), { recursive: true, force: true }));
    expect(() => new SqliteStore(path, { readonly: true })).toThrow();
  });
});
