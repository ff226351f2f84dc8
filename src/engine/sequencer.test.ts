// Proves the sequencer commits requests in groups, acknowledges only durable batches, never splits or mixes requests, bounds its queue, fails closed on a storage error, expires reservations on its own and drains on close, against a real SQLite store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCommands } from '../ledger/journal-codec.ts';
import { stateDigest } from '../ledger/state-digest.ts';
import type { Command, CommandResult, CreateTransfer } from '../ledger/types.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { JournalBatch, JournalHead, OutboxEntry, OutboxPosition, OutboxRecord, Store } from '../store/store.ts';
import { openEngine } from './engine.ts';
import { recover } from './recovery.ts';
import type { BatchInfo, SequencerOptions } from './sequencer.ts';
import { EngineOverloadedError, EngineUnavailableError, Sequencer } from './sequencer.ts';

// ---- helpers ----------------------------------------------------------------------------------

/** Delegates to a real store, and lets a test hold an append in flight, then release or fail it. */
class ControlledStore implements Store {
  readonly kind = 'controlled';
  /** Batches whose append has started, in order. */
  readonly started: JournalBatch[] = [];
  /** Sequences whose append has completed durably in the inner store. */
  readonly completed: number[] = [];
  private gate: { promise: Promise<void>; release: () => void; fail: (error: Error) => void } | null = null;

  constructor(readonly inner: Store) {}

  /** Appends from now on wait until release() or fail(). */
  hold(): void {
    let release!: () => void;
    let fail!: (error: Error) => void;
    const promise = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    promise.catch(() => undefined);
    this.gate = { promise, release, fail };
  }

  release(): void {
    const gate = this.gate;
    this.gate = null;
    gate?.release();
  }

  fail(error: Error): void {
    const gate = this.gate;
    this.gate = null;
    gate?.fail(error);
  }

  async append(batch: JournalBatch, outbox?: readonly OutboxEntry[]): Promise<void> {
    this.started.push(batch);
    const gate = this.gate;
    if (gate !== null) await gate.promise;
    await this.inner.append(batch, outbox);
    this.completed.push(batch.sequence);
  }

  readOutbox(after: OutboxPosition | null, limit: number): Promise<OutboxRecord[]> {
    return this.inner.readOutbox(after, limit);
  }

  head(): Promise<JournalHead | null> {
    return this.inner.head();
  }
  read(fromSequence: number, limit: number): Promise<JournalBatch[]> {
    return this.inner.read(fromSequence, limit);
  }
  getMeta(key: string): Promise<string | null> {
    return this.inner.getMeta(key);
  }
  setMeta(key: string, value: string): Promise<void> {
    return this.inner.setMeta(key, value);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Fixture {
  readonly path: string;
  readonly sqlite: SqliteStore;
  readonly store: ControlledStore;
  readonly sequencer: Sequencer;
  readonly batches: BatchInfo[];
  readonly fatal: unknown[];
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temp-dir SQLite ledger with the genesis records and accounts u1..u4 (KZT), opened with `options`. */
async function start(options: SequencerOptions = {}): Promise<Fixture> {
  const directory = mkdtempSync(join(tmpdir(), 'tengri-sequencer-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  const path = join(directory, 'ledger.sqlite');
  const sqlite = new SqliteStore(path);
  cleanups.push(() => sqlite.close());
  const store = new ControlledStore(sqlite);
  // Genesis and set-up run on a quick sequencer; the one under test then takes over the same
  // ledger and journal head, so a long batchWaitMs does not slow the set-up down.
  const opened = await openEngine(store, { batchWaitMs: 0 });
  const setup = await opened.sequencer.submit(['u1', 'u2', 'u3', 'u4'].map((id): Command => ({ kind: 'create_account', id, asset: 'KZT', allowNegative: false, maxBalance: null })));
  expect(setup.every((r) => r.ok)).toBe(true);
  await opened.sequencer.close();
  const sequencer = new Sequencer(opened.sequencer.ledger, store, opened.sequencer.journalHead, options);
  cleanups.push(() => closeWithin(sequencer, 5000));
  const batches: BatchInfo[] = [];
  const fatal: unknown[] = [];
  sequencer.observe({ onBatch: (info) => batches.push(info), onFatal: (error) => fatal.push(error) });
  return { path, sqlite, store, sequencer, batches, fatal };
}

/** Waits until one more append than `before` has started (the batch under test is in flight). */
async function appendInFlight(f: Fixture, before: number): Promise<void> {
  await until(() => f.store.started.length > before, 'the append to start');
}

async function closeWithin(sequencer: Sequencer, ms: number): Promise<void> {
  await Promise.race([sequencer.close(), sleep(ms)]);
}

function transfer(id: string, amount = 1n, options: Partial<CreateTransfer> = {}): CreateTransfer {
  return { kind: 'create_transfer', id, debit: 'cb:issuance', credit: 'u1', amount, pending: false, timeoutSeconds: 0, code: 0, reference: '', ...options };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { readonly settled: boolean; readonly value: T | undefined; readonly error: unknown; readonly promise: Promise<T> } {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown, promise };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

const ok: CommandResult = { ok: true, existed: false };

/** Ids of the transfers in each committed batch, as the observer saw them. */
function batchIds(batches: readonly BatchInfo[]): string[][] {
  return batches.map((b) => b.commands.map((c) => (c.kind === 'create_transfer' ? c.id : c.kind)));
}

/** Reopens the SQLite file in a fresh store and recovers the ledger from it. */
async function recoverFile(path: string): Promise<Awaited<ReturnType<typeof recover>>> {
  const store = new SqliteStore(path);
  try {
    return await recover(store);
  } finally {
    await store.close();
  }
}

// ---- group commit and durability --------------------------------------------------------------

describe('group commit', () => {
  it('commits many concurrent submits in fewer batches than requests', async () => {
    const f = await start({ batchWaitMs: 5 });
    const requests = Array.from({ length: 200 }, (_, i) => f.sequencer.submit([transfer(`g${i}`)]));
    const results = await Promise.all(requests);
    expect(results.every((r) => r.length === 1 && r[0]!.ok && !r[0]!.existed)).toBe(true);
    const committed = f.batches.filter((b) => b.sequence !== null);
    expect(committed.length).toBeLessThan(200);
    expect(committed.length).toBeLessThanOrEqual(2);
    expect(committed.reduce((n, b) => n + b.commands.length, 0)).toBe(200);
    // One journal batch per committed group, after the genesis and setup batches.
    expect((await f.sqlite.head())?.sequence).toBe(2 + committed.length);
    expect(f.sequencer.ledger.getAccount('u1')?.balance).toBe(200n);
  });

  it('acknowledges a request only after its batch is durably appended', async () => {
    const f = await start({ batchWaitMs: 1 });
    const headBefore = (await f.sqlite.head())!.sequence;
    const before = f.store.started.length;
    f.store.hold();
    const a = track(f.sequencer.submit([transfer('d1')]));
    const b = track(f.sequencer.submit([transfer('d2'), transfer('d3')]));
    await appendInFlight(f, before);
    await sleep(30);
    expect(a.settled).toBe(false);
    expect(b.settled).toBe(false);
    expect((await f.sqlite.head())?.sequence).toBe(headBefore);
    // Each acknowledgement must find its batch already in the store.
    const durableAtAck: boolean[] = [];
    for (const t of [a, b]) void t.promise.then(() => durableAtAck.push(f.store.completed.includes(headBefore + 1)));
    f.store.release();
    expect(await a.promise).toEqual([ok]);
    expect(await b.promise).toEqual([ok, ok]);
    expect(durableAtAck).toEqual([true, true]);
    expect((await f.sqlite.head())?.sequence).toBe(headBefore + 1);
  });

  it('answers a batch whose commands changed nothing without writing to the store', async () => {
    const f = await start({ batchWaitMs: 1 });
    await f.sequencer.submit([transfer('x1')]);
    const head = (await f.sqlite.head())!.sequence;
    const started = f.store.started.length;
    expect(await f.sequencer.submit([transfer('x1'), transfer('bad', 0n)])).toEqual([{ ok: true, existed: true }, { ok: false, code: 'amount_must_be_positive' }]);
    expect(f.store.started.length).toBe(started);
    expect((await f.sqlite.head())?.sequence).toBe(head);
    expect(f.batches.at(-1)?.sequence).toBeNull();
  });

  it('resolves an empty submit at once with no results', async () => {
    const f = await start();
    expect(await f.sequencer.submit([])).toEqual([]);
  });
});

describe('batch formation', () => {
  it('never splits a request across batches and keeps batches within batchCommandsMax', async () => {
    const f = await start({ batchCommandsMax: 10, batchWaitMs: 20 });
    const sizes = [3, 4, 5, 2, 7, 12, 1, 9, 10, 6, 1, 1];
    const requests = sizes.map((size, r) => Array.from({ length: size }, (_, j) => transfer(`r${r}-${j}`)));
    const results = await Promise.all(requests.map((commands) => f.sequencer.submit(commands)));
    results.forEach((list, r) => expect(list, `request ${r}`).toEqual(Array.from({ length: sizes[r]! }, () => ok)));

    const ids = batchIds(f.batches);
    expect(ids.length).toBeGreaterThan(1);
    for (const [r, commands] of requests.entries()) {
      const wanted = commands.map((c) => c.id);
      const holding = ids.filter((batch) => batch.some((id) => wanted.includes(id)));
      expect(holding, `request ${r} is in exactly one batch`).toHaveLength(1);
      const batch = holding[0]!;
      const at = batch.indexOf(wanted[0]!);
      expect(batch.slice(at, at + wanted.length), `request ${r} is contiguous and in order`).toEqual(wanted);
    }
    for (const batch of f.batches) {
      const requestsInBatch = new Set(batchIds([batch])[0]!.map((id) => id.split('-')[0]));
      if (requestsInBatch.size > 1) expect(batch.commands.length).toBeLessThanOrEqual(10);
    }
    // Requests are committed in submission order.
    expect(ids.flat()).toEqual(requests.flat().map((c) => c.id));
    // The journal holds the same grouping.
    const stored = await f.sqlite.read(3, 100);
    expect(stored.map((b) => decodeCommands(b.body).map((c) => (c as CreateTransfer).id))).toEqual(ids);
  });

  it('a request larger than batchCommandsMax forms a batch of its own', async () => {
    const f = await start({ batchCommandsMax: 4, batchWaitMs: 20 });
    const small = f.sequencer.submit([transfer('s1')]);
    const large = f.sequencer.submit(Array.from({ length: 9 }, (_, i) => transfer(`l${i}`)));
    await Promise.all([small, large]);
    expect(batchIds(f.batches)).toEqual([['s1'], ['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8']]);
  });

  it('waits up to batchWaitMs for a batch to fill, then commits what it has', async () => {
    const f = await start({ batchWaitMs: 200 });
    const started = performance.now();
    const first = f.sequencer.submit([transfer('w1')]);
    await sleep(50);
    const second = f.sequencer.submit([transfer('w2')]);
    await first;
    const latency = performance.now() - started;
    await second;
    expect(batchIds(f.batches)).toEqual([['w1', 'w2']]);
    expect(latency).toBeGreaterThanOrEqual(180);
    expect(latency).toBeLessThan(1500);
  });

  it('with batchWaitMs 0 a lone request is committed at once', async () => {
    const f = await start({ batchWaitMs: 0 });
    const started = performance.now();
    await f.sequencer.submit([transfer('z1')]);
    expect(performance.now() - started).toBeLessThan(300);
  });

  it('a batch that fills up is committed without waiting out batchWaitMs', async () => {
    const f = await start({ batchCommandsMax: 4, batchWaitMs: 1000 });
    const started = performance.now();
    await Promise.all([1, 2, 3, 4].map((i) => f.sequencer.submit([transfer(`f${i}`)])));
    expect(batchIds(f.batches)).toEqual([['f1', 'f2', 'f3', 'f4']]);
    expect(performance.now() - started, 'a full batch waited for the batch timer').toBeLessThan(500);
  });

  it('rejects out-of-range options', async () => {
    const f = await start();
    for (const options of [{ batchCommandsMax: 0 }, { batchCommandsMax: 65_537 }, { batchWaitMs: -1 }, { batchWaitMs: 1001 }, { queueCommandsMax: 0 }, { batchWaitMs: 1.5 }]) {
      expect(() => new Sequencer(f.sequencer.ledger, f.store, null, options), JSON.stringify(options)).toThrow(RangeError);
    }
  });
});

describe('requests do not interfere through linked chains', () => {
  it('a request ending in linked: true gets linked_event_chain_open and does not chain into the next request', async () => {
    const f = await start({ batchWaitMs: 30 });
    const a = f.sequencer.submit([transfer('a1', 1n, { linked: true })]);
    const b = f.sequencer.submit([transfer('b1')]);
    const [ra, rb] = await Promise.all([a, b]);
    // Both requests arrived within one batch window (so the sequencer could have merged them).
    expect(f.batches).toHaveLength(1);
    expect(batchIds(f.batches)[0]).toContain('b1');
    expect(ra).toEqual([{ ok: false, code: 'linked_event_chain_open' }]);
    expect(rb).toEqual([ok]);
    expect(f.sequencer.ledger.getTransfer('a1')).toBeUndefined();
  });

  it('a failure in one request does not fail an open chain of another', async () => {
    const f = await start({ batchWaitMs: 30 });
    const a = f.sequencer.submit([transfer('a2', 1n, { linked: true })]);
    const b = f.sequencer.submit([transfer('b2', 0n)]);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toEqual([{ ok: false, code: 'linked_event_chain_open' }]);
    expect(rb).toEqual([{ ok: false, code: 'amount_must_be_positive' }]);
  });
});

// ---- back-pressure and failure ----------------------------------------------------------------

describe('bounded queue', () => {
  it('refuses with EngineOverloadedError when full, and loses nothing it accepted', async () => {
    const f = await start({ queueCommandsMax: 10, batchWaitMs: 1 });
    const before = f.store.started.length;
    f.store.hold();
    const inFlight = track(f.sequencer.submit([transfer('q0')]));
    await appendInFlight(f, before);
    // The in-flight batch no longer counts; the queue takes 10 more commands.
    const b = track(f.sequencer.submit(Array.from({ length: 4 }, (_, i) => transfer(`qb${i}`))));
    const c = track(f.sequencer.submit(Array.from({ length: 6 }, (_, i) => transfer(`qc${i}`))));
    expect(f.sequencer.queueDepth).toBe(10);
    const refused = f.sequencer.submit([transfer('qd')]);
    await expect(refused).rejects.toBeInstanceOf(EngineOverloadedError);
    const error = await refused.catch((e: unknown) => e);
    expect((error as EngineOverloadedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(f.sequencer.queueDepth).toBe(10);
    expect(f.sequencer.status).toBe('open');

    f.store.release();
    expect(await inFlight.promise).toEqual([ok]);
    expect(await b.promise).toHaveLength(4);
    expect(await c.promise).toHaveLength(6);
    expect([...(await b.promise), ...(await c.promise)].every((r) => r.ok)).toBe(true);
    expect(f.sequencer.ledger.getTransfer('qd')).toBeUndefined();
    // Once drained, the queue accepts again.
    expect(await f.sequencer.submit([transfer('qe')])).toEqual([ok]);

    const live = stateDigest(f.sequencer.ledger);
    await f.sequencer.close();
    const recovered = await recoverFile(f.path);
    expect(stateDigest(recovered.ledger)).toBe(live);
    for (const id of ['q0', 'qb0', 'qb3', 'qc0', 'qc5', 'qe']) expect(recovered.ledger.getTransfer(id), id).toBeDefined();
    expect(recovered.ledger.getTransfer('qd')).toBeUndefined();
  });
});

describe('storage failure', () => {
  it('rejects in-flight and queued requests with EngineUnavailableError, refuses new ones, and recovery finds only durable batches', async () => {
    const f = await start({ batchWaitMs: 1 });
    expect(await f.sequencer.submit([transfer('durable-1')])).toEqual([ok]);
    const durableDigest = stateDigest(f.sequencer.ledger);
    const durableHead = (await f.sqlite.head())!.sequence;

    const before = f.store.started.length;
    f.store.hold();
    const inFlight = track(f.sequencer.submit([transfer('lost-1')]));
    await appendInFlight(f, before);
    expect(f.store.started.at(-1)!.sequence).toBe(durableHead + 1);
    const queued1 = track(f.sequencer.submit([transfer('lost-2')]));
    const queued2 = track(f.sequencer.submit([transfer('lost-3'), transfer('lost-4')]));
    f.store.fail(new Error('disk full'));

    await expect(inFlight.promise).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(queued1.promise).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(queued2.promise).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(f.sequencer.status).toBe('failed');
    expect(f.fatal).toHaveLength(1);
    expect(String(f.fatal[0])).toMatch(/disk full/);
    await expect(f.sequencer.submit([transfer('after')])).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(f.sequencer.queueDepth).toBe(0);
    await closeWithin(f.sequencer, 2000);

    // Nothing of the failed batch reached the journal; recovery rebuilds the last durable state.
    expect((await f.sqlite.head())?.sequence).toBe(durableHead);
    const recovered = await recoverFile(f.path);
    expect(recovered.head?.sequence).toBe(durableHead);
    expect(stateDigest(recovered.ledger)).toBe(durableDigest);
    expect(recovered.ledger.getTransfer('durable-1')).toBeDefined();
    for (const id of ['lost-1', 'lost-2', 'lost-3', 'after']) expect(recovered.ledger.getTransfer(id), id).toBeUndefined();
  });

  it('a store conflict (another writer appended) is fatal too', async () => {
    const f = await start({ batchWaitMs: 1 });
    const head = (await f.sqlite.head())!;
    // Someone else takes the next sequence behind the sequencer's back.
    await f.sqlite.append({ sequence: head.sequence + 1, timestamp: head.timestamp + 1, count: 0, previousHash: head.hash, hash: new Uint8Array(32), body: new Uint8Array(0) });
    await expect(f.sequencer.submit([transfer('c1')])).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(f.sequencer.status).toBe('failed');
  });
});

// ---- expiry and shutdown ----------------------------------------------------------------------

describe('expiry', () => {
  it('voids a pending transfer at its timeout with an automatic empty batch, without further submissions', async () => {
    const f = await start({ batchWaitMs: 1 });
    expect(await f.sequencer.submit([transfer('p1', 5n, { pending: true, timeoutSeconds: 1 })])).toEqual([ok]);
    const created = f.sequencer.ledger.getTransfer('p1')!.timestamp;
    expect(f.sequencer.ledger.getAccount('u1')?.pendingCredits).toBe(5n);
    const headBefore = (await f.sqlite.head())!.sequence;

    await until(() => f.batches.some((b) => b.expired.length > 0), 'the expiry batch', 4000);
    const expiryBatch = f.batches.find((b) => b.expired.length > 0)!;
    expect(expiryBatch.commands).toEqual([]);
    expect(expiryBatch.expired.map((t) => t.id)).toEqual(['p1']);
    expect(expiryBatch.sequence).toBe(headBefore + 1);
    const p1 = f.sequencer.ledger.getTransfer('p1')!;
    expect(p1.status).toBe('expired');
    expect(p1.resolvedAt!).toBeGreaterThanOrEqual(created + 1000);
    expect(f.sequencer.ledger.getAccount('u1')?.pendingCredits).toBe(0n);

    // The expiry is durable: an empty journal batch, and recovery reproduces it exactly.
    const [stored] = await f.sqlite.read(headBefore + 1, 1);
    expect(stored?.count).toBe(0);
    expect(stored?.body.length).toBe(0);
    const live = stateDigest(f.sequencer.ledger);
    const recovered = await recoverFile(f.path);
    expect(stateDigest(recovered.ledger)).toBe(live);
    expect(recovered.ledger.getTransfer('p1')?.resolvedAt).toBe(p1.resolvedAt);
  });
});

describe('close', () => {
  it('drains the queue: every accepted request is committed before close resolves', async () => {
    const f = await start({ batchWaitMs: 1000 });
    const requests = [1, 2, 3, 4, 5].map((i) => f.sequencer.submit([transfer(`c${i}`)]));
    const started = performance.now();
    await f.sequencer.close();
    expect(performance.now() - started, 'close waited for the batch timer').toBeLessThan(500);
    expect(await Promise.all(requests)).toEqual([[ok], [ok], [ok], [ok], [ok]]);
    expect(f.sequencer.status).toBe('closed');
    await expect(f.sequencer.submit([transfer('late')])).rejects.toBeInstanceOf(EngineUnavailableError);
    const recovered = await recoverFile(f.path);
    for (const i of [1, 2, 3, 4, 5]) expect(recovered.ledger.getTransfer(`c${i}`)).toBeDefined();
  });

  it('waits for an append in flight and the requests queued behind it', async () => {
    const f = await start({ batchWaitMs: 1 });
    const before = f.store.started.length;
    f.store.hold();
    const a = track(f.sequencer.submit([transfer('h1')]));
    await appendInFlight(f, before);
    const b = track(f.sequencer.submit([transfer('h2')]));
    const closing = track(f.sequencer.close());
    await sleep(30);
    expect(closing.settled).toBe(false);
    expect(f.sequencer.status).toBe('closing');
    await expect(f.sequencer.submit([transfer('h3')])).rejects.toBeInstanceOf(EngineUnavailableError);
    f.store.release();
    await closing.promise;
    expect(await a.promise).toEqual([ok]);
    expect(await b.promise).toEqual([ok]);
    expect(f.sequencer.status).toBe('closed');
  });

  it('two concurrent close() calls both resolve', async () => {
    const f = await start({ batchWaitMs: 1 });
    const before = f.store.started.length;
    f.store.hold();
    const a = track(f.sequencer.submit([transfer('k1')]));
    await appendInFlight(f, before);
    const first = track(f.sequencer.close());
    const second = track(f.sequencer.close());
    f.store.release();
    await a.promise;
    await until(() => second.settled, 'the second close', 2000);
    await until(() => first.settled, 'the first close', 500).catch(() => undefined);
    expect(first.settled, 'the first close() never resolved').toBe(true);
    expect(second.settled).toBe(true);
  });

  it('close on an idle sequencer resolves and is idempotent', async () => {
    const f = await start();
    await f.sequencer.close();
    await f.sequencer.close();
    expect(f.sequencer.status).toBe('closed');
  });
});
