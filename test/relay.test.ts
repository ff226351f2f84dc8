// Proves the outbox relay end to end, on both stores, against a real NATS JetStream server and a
// real `tengri start` and `tengri relay` process: every committed payment yields exactly one
// `payment.sent` and one `payment.received` event per subscriber after de-duplication by event id,
// in commit order per wallet and per bank (the same order as GET /v1/events), although the relay is
// killed with SIGKILL while payments flow and restarted; and a bank whose durable consumer was
// offline catches up from where it stopped, without repeats.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import { client, onboardBank, openWallet, signedPayment, type Client, type Holder } from './support/platform.ts';
import { freshSchema, postgresUrl } from './support/postgres.ts';
import { removeScratchDirectories, scratchDirectory, spawnServer, testToken, watchTengri, type ServerProcess, type WatchedProcess } from './support/servers.ts';

const natsUrl = process.env.TENGRI_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
let nc: NatsConnection;
try {
  nc = await connect({ servers: natsUrl, timeout: 3000 });
} catch (error) {
  throw new Error(
    `test/relay.test.ts (the outbox relay to NATS JetStream) cannot run: no NATS server with JetStream at ${natsUrl} (${String(error)}). ` +
      'Start one (nats-server -js) or set TENGRI_TEST_NATS_URL.',
  );
}
const database = await postgresUrl('test/relay.test.ts (the outbox relay on PostgreSQL)');
const jsm: JetStreamManager = await jetstreamManager(nc);
const cleanups: (() => Promise<unknown>)[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  // Give the killed processes a moment to let go of their files, then remove them.
  await new Promise((resolve) => setTimeout(resolve, 100));
  removeScratchDirectories();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await nc.close();
  await database.stop();
});

interface EventJson {
  id: string;
  seq: number;
  bank: string;
  type: string;
  wallet: string | null;
  payment: string | null;
}

function startRelay(args: string[]): WatchedProcess {
  const relay = watchTengri(['relay', ...args]);
  children.push(relay.child);
  return relay;
}

/** Pulls every message of a durable consumer that is there now; acks each. Returns the events. */
async function drain(stream: string, consumer: string, expected: number): Promise<EventJson[]> {
  const js = jetstream(nc);
  const c = await js.consumers.get(stream, consumer);
  const events: EventJson[] = [];
  for (;;) {
    const batch = await c.fetch({ max_messages: 500, expires: 1000 });
    let got = 0;
    for await (const message of batch) {
      got++;
      const event = message.json<EventJson>();
      // The message id JetStream de-duplicates by is the event's own stable id.
      expect(message.headers?.get('Nats-Msg-Id')).toBe(event.id);
      events.push(event);
      message.ack();
    }
    if (got === 0 && events.length >= expected) return events;
    if (got === 0 && expected === 0) return events;
  }
}

async function bankEvents(http: Client, bank: string): Promise<EventJson[]> {
  const all: EventJson[] = [];
  for (let after = 0; ; ) {
    const page = await http.call<{ events: EventJson[] }>('GET', `/v1/events?bank=${bank}&after=${after}&limit=1000`);
    expect(page.status).toBe(200);
    if (page.json.events.length === 0) return all;
    all.push(...page.json.events);
    after = page.json.events.at(-1)!.seq;
  }
}

/** Removes repeats by event id, keeping the first; counts what was dropped. */
function deduplicate(events: readonly EventJson[]): { unique: EventJson[]; repeats: number } {
  const seen = new Set<string>();
  const unique: EventJson[] = [];
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    unique.push(event);
  }
  return { unique, repeats: events.length - unique.length };
}

describe.each(['sqlite', 'postgres'] as const)('outbox relay to NATS JetStream (%s)', (backend) => {
  it('every committed payment yields exactly one event per subscriber, in commit order, across a relay crash; an offline bank catches up', async () => {
    const tag = randomBytes(4).toString('hex');
    const stream = `TENGRI_TEST_${tag}`;
    const prefix = `ttest${tag}.events`;
    const directory = scratchDirectory();
    const storeArgs: string[] = [];
    if (backend === 'postgres') {
      const schema = freshSchema(database.url);
      cleanups.push(() => schema.drop());
      storeArgs.push('--db', database.url, '--db-schema', schema.schema);
    } else {
      storeArgs.push('--data', directory);
    }
    const server: ServerProcess = await spawnServer(directory, backend === 'postgres' ? storeArgs : []);
    children.push(server.child);
    const http = client(server.url);
    expect(server.token).toBe(testToken);

    // The stream and the subscribers exist before any event is published.
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], duplicate_window: 120e9 });
    cleanups.push(() => jsm.streams.delete(stream));
    const bankA = `ra-${tag}`;
    const bankB = `rb-${tag}`;
    await jsm.consumers.add(stream, { durable_name: 'all', ack_policy: AckPolicy.Explicit, filter_subject: `${prefix}.>` });
    await jsm.consumers.add(stream, { durable_name: 'bank-b', ack_policy: AckPolicy.Explicit, filter_subject: `${prefix}.${bankB}` });

    const keyA = await onboardBank(http, bankA, 'RELAKZKA', { reserves: 100_000_000n, issue: 50_000_000n });
    const keyB = await onboardBank(http, bankB, 'RELBKZKA', { reserves: 100_000_000n, issue: 50_000_000n });
    const walletsA: Holder[] = [];
    const walletsB: Holder[] = [];
    for (let i = 0; i < 3; i++) walletsA.push(await openWallet(http, keyA, { fund: 1_000_000n }));
    for (let i = 0; i < 3; i++) walletsB.push(await openWallet(http, keyB, { fund: 1_000_000n }));
    const holders = [...walletsA, ...walletsB];

    const relayArgs = ['--nats', natsUrl, '--stream', stream, '--subject-prefix', prefix, ...storeArgs];
    const first = startRelay(relayArgs);
    await first.when('relay started');

    // Each wallet pays the wallet across from it in the other bank, one payment at a time, all
    // wallets at once; the payments each wallet made are acknowledged in this order.
    const acknowledged = new Map<string, string[]>(holders.map((h) => [h.id, []]));
    let paid = 0;
    const payUntil = (total: number): Promise<unknown> =>
      Promise.all(
        holders.map(async (from, index) => {
          const to = index < 3 ? walletsB[index]! : walletsA[index - 3]!;
          while (paid < total) {
            paid++;
            const payment = signedPayment(from, { to: to.id, amount: 100n });
            const answer = await http.call('POST', '/v1/payments', payment, null);
            expect(answer.status, JSON.stringify(answer.json)).toBe(201);
            acknowledged.get(from.id)!.push(payment.id as string);
          }
        }),
      );
    const waitFor = async (condition: () => Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const published = async (): Promise<number> => (await jsm.streams.info(stream)).state.messages;

    // Phase 1: payments flow and the relay publishes them; bank B's consumer reads what is there,
    // then goes offline. The relay is killed while payments still flow and it is publishing.
    const phase1 = payUntil(300);
    await waitFor(async () => paid >= 60 && (await published()) >= 60);
    const bankBEarly = await drain(stream, 'bank-b', 1);
    expect(bankBEarly.length).toBeGreaterThan(0);
    await waitFor(async () => paid >= 120);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await phase1;
    const publishedBeforeCrash = await published();
    // Phase 2: payments while no relay runs. Phase 3: a new relay resumes while payments go on.
    await payUntil(420);
    const second = startRelay(relayArgs);
    await second.when('relay started');
    await payUntil(540);

    const expectedA = await bankEvents(http, bankA);
    const expectedB = await bankEvents(http, bankB);
    await waitFor(async () => (await jsm.streams.info(stream)).state.messages >= expectedA.length + expectedB.length);
    const all = await drain(stream, 'all', expectedA.length + expectedB.length);
    const bankBLate = await drain(stream, 'bank-b', expectedB.length - bankBEarly.length);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // After de-duplication by id, each subscriber has each bank's events exactly once, in the
    // bank's commit order (the order of GET /v1/events).
    const everything = deduplicate(all).unique;
    expect(everything.filter((e) => e.bank === bankA).map((e) => e.id)).toEqual(expectedA.map((e) => e.id));
    expect(everything.filter((e) => e.bank === bankB).map((e) => e.id)).toEqual(expectedB.map((e) => e.id));
    expect(everything).toHaveLength(expectedA.length + expectedB.length);
    const bankBView = deduplicate([...bankBEarly, ...bankBLate]);
    // The offline bank resumed where it stopped: nothing it had acknowledged came again.
    expect(bankBView.repeats).toBe(0);
    expect(bankBView.unique.map((e) => e.id)).toEqual(expectedB.map((e) => e.id));

    // Every committed payment: exactly one payment.sent (payer's bank) and one payment.received
    // (payee's bank) per subscriber, and each wallet's payments in the order they were committed.
    const totalPaid = [...acknowledged.values()].reduce((sum, ids) => sum + ids.length, 0);
    expect(totalPaid).toBe(540);
    for (const [subscriber, events] of [
      ['all', everything],
      ['bank-b', bankBView.unique],
    ] as const) {
      for (const holder of holders) {
        const inB = walletsB.includes(holder);
        if (subscriber === 'bank-b' && !inB) continue;
        const sent = events.filter((e) => e.type === 'payment.sent' && e.wallet === holder.id).map((e) => e.payment);
        expect(sent, `${subscriber}: payments sent by ${holder.id}`).toEqual(acknowledged.get(holder.id));
      }
      const received = events.filter((e) => e.type === 'payment.received').map((e) => e.payment!);
      const expectedReceived = subscriber === 'all' ? totalPaid : walletsA.reduce((sum, h) => sum + acknowledged.get(h.id)!.length, 0);
      expect(received).toHaveLength(expectedReceived);
      expect(new Set(received).size).toBe(expectedReceived);
    }
    // The crash happened mid-stream: some events were published before it and the rest after.
    expect(publishedBeforeCrash).toBeGreaterThan(0);
    expect(publishedBeforeCrash).toBeLessThan(expectedA.length + expectedB.length);
    server.child.kill('SIGTERM');
    await server.exited;
  }, 120_000);
});

describe('tengri start --nats', () => {
  it('runs the relay in the writer: a committed event reaches JetStream, and the relay resumes after a restart', async () => {
    const tag = randomBytes(4).toString('hex');
    const directory = scratchDirectory();
    // The default stream and subjects; events are told apart by this test's own bank id.
    const bank = `rs-${tag}`;
    const js = jetstream(nc);
    const startServer = () => spawnServer(directory, ['--nats', natsUrl]);
    let server = await startServer();
    children.push(server.child);
    await onboardBank(client(server.url), bank, 'RELSKZKA');
    const nextEvent = async (): Promise<EventJson> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const message = await jsm.streams.getMessage('TENGRI_EVENTS', { last_by_subj: `tengri.events.${bank}` });
          if (message !== null) return message.json<EventJson>();
        } catch {
          // not there yet
        }
        if (Date.now() > deadline) throw new Error(`no event of ${bank} in TENGRI_EVENTS`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    expect(await nextEvent()).toMatchObject({ id: `${bank}:1`, type: 'bank.onboarded' });
    server.child.kill('SIGTERM');
    await server.exited;
    server = await startServer();
    children.push(server.child);
    expect((await client(server.url).call('POST', `/v1/banks/${bank}/reserves`, { amount: '1000' })).status).toBe(201);
    const deadline = Date.now() + 10_000;
    while ((await nextEvent()).seq < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await nextEvent()).toMatchObject({ id: `${bank}:2`, type: 'reserves.topped_up' });
    // Both events once each in the subject, the first one not published again after the restart.
    await jsm.consumers.add('TENGRI_EVENTS', { durable_name: bank, ack_policy: AckPolicy.None, filter_subject: `tengri.events.${bank}` });
    cleanups.push(() => jsm.consumers.delete('TENGRI_EVENTS', bank));
    const consumer = await js.consumers.get('TENGRI_EVENTS', bank);
    const seen: string[] = [];
    const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
    for await (const message of batch) seen.push(message.json<EventJson>().id);
    expect(seen).toEqual([`${bank}:1`, `${bank}:2`]);
    server.child.kill('SIGTERM');
    await server.exited;
  }, 60_000);
});

describe('tengri start --nats with NATS away', () => {
  it('keeps serving writes; the events wait in the outbox', async () => {
    const directory = scratchDirectory();
    // Nothing listens on port 1: the relay cannot connect and retries in the background.
    const server = await spawnServer(directory, ['--nats', 'nats://127.0.0.1:1']);
    children.push(server.child);
    const http = client(server.url);
    await onboardBank(http, `rn-${randomBytes(3).toString('hex')}`, 'RELNKZKA');
    expect((await http.call<{ status: string }>('GET', '/health', undefined, null)).json.status).toBe('ok');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).not.toMatch(/fatal/i);
  }, 60_000);
});
