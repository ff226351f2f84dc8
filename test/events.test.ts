// Proves what a bank hears about its wallets, over real HTTP: the server-sent event stream carries
// the bank's own events in commit order and resumes after Last-Event-ID without a gap or a
// duplicate; events of rejected or never-committed commands never appear; GET /v1/events pages
// agree with the stream; webhooks are signed, ordered, retried with backoff and resumed across a
// restart of `tengri start`; and a bank's daily statement has exact balances and totals.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type ClientRequest, type Server } from 'node:http';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { client, onboardBank, openWallet, pay, signedPayment, startPlatform, type Client, type Holder } from './support/platform.ts';
import { spawnServer, temporaryDirectory, testToken, type InProcess, type ServerProcess } from './support/servers.ts';

// ---- shared helpers -----------------------------------------------------------------------------

interface EventJson {
  readonly id: string;
  readonly seq: number;
  readonly bank: string;
  readonly type: string;
  readonly at: string;
  readonly wallet: string | null;
  readonly payment: string | null;
  readonly counterparty: string | null;
  readonly amount: string | null;
  readonly toBankAccount: string | null;
  readonly detail: string | null;
}

interface EventPage {
  readonly events: EventJson[];
  readonly last: number;
  readonly firstAvailable: number;
}

type Platform = InProcess & Client;

const platforms: Platform[] = [];
const processes: ServerProcess[] = [];
const directories: string[] = [];
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  // Streams and receivers first: a server waits for open streams before it closes.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const platform of platforms.splice(0)) await platform.close();
  for (const server of processes.splice(0)) await stopProcess(server, 'SIGTERM');
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

async function platform(options: Parameters<typeof startPlatform>[0] = {}): Promise<Platform> {
  const started = await startPlatform(options);
  platforms.push(started);
  return started;
}

/** Closes an in-process platform now (for a restart on the same directory). */
async function closePlatform(started: Platform): Promise<void> {
  platforms.splice(platforms.indexOf(started), 1);
  await started.close();
}

async function stopProcess(server: ServerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const index = processes.indexOf(server);
  if (index >= 0) processes.splice(index, 1);
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

async function spawn(directory: string): Promise<ServerProcess> {
  const server = await spawnServer(directory);
  processes.push(server);
  return server;
}

function fresh(): string {
  const directory = temporaryDirectory('tengri-events-');
  directories.push(directory);
  return directory;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `condition` holds; fails with `what` after a generous deadline. */
async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Every event of a bank from GET /v1/events, following the pages. */
async function allEvents(http: Client, token: string | undefined, bank?: string): Promise<EventJson[]> {
  const events: EventJson[] = [];
  for (;;) {
    const query = `after=${events.length === 0 ? 0 : events[events.length - 1]!.seq}&limit=1000${bank === undefined ? '' : `&bank=${bank}`}`;
    const page = await http.call<EventPage>('GET', `/v1/events?${query}`, undefined, token);
    expect(page.status, JSON.stringify(page.json)).toBe(200);
    if (page.json.events.length === 0) return events;
    events.push(...page.json.events);
  }
}

/** "type wallet payment" of each event: enough to compare sequences readably. */
function summary(events: readonly EventJson[]): string[] {
  return events.map((e) => [e.type, e.wallet ?? '-', e.payment ?? '-'].join(' '));
}

async function walletOperation(http: Client, bankKey: string, wallet: Holder, path: string, amount: bigint, id?: string): Promise<void> {
  const response = await http.call('POST', `/v1/wallets/${wallet.id}/${path}`, { amount: String(amount), ...(id === undefined ? {} : { id }) }, bankKey);
  expect(response.status, `${path} ${JSON.stringify(response.json)}`).toBe(200);
}

async function expectPaid(http: Client, from: Holder, to: Holder, amount: bigint, id: string): Promise<void> {
  const response = await pay(http, from, { to: to.id, amount, id });
  expect(response.status, JSON.stringify(response.json)).toBe(201);
}

// ---- a server-sent events client over node:http -------------------------------------------------

interface SseMessage {
  readonly id: string;
  readonly event: string;
  readonly data: EventJson;
}

interface Stream {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The problem body when the stream was refused. */
  readonly problem: Record<string, unknown> | null;
  readonly messages: SseMessage[];
  readonly comments: string[];
  ended(): boolean;
  /** Resolves with all messages once at least `count` have arrived. */
  waitFor(count: number): Promise<SseMessage[]>;
  close(): void;
}

function openStream(base: string, token: string, options: { query?: string; lastEventId?: string } = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const request: ClientRequest = httpRequest(`${base}/v1/events/stream${options.query ?? ''}`, { headers }, (response) => {
      response.setEncoding('utf8');
      const messages: SseMessage[] = [];
      const comments: string[] = [];
      let finished = false;
      response.on('close', () => (finished = true));
      response.on('error', () => (finished = true));
      const stream: Stream = {
        status: response.statusCode ?? 0,
        contentType: response.headers['content-type'],
        problem: null,
        messages,
        comments,
        ended: () => finished,
        async waitFor(count: number): Promise<SseMessage[]> {
          await waitUntil(`${count} stream messages (have ${messages.length}: ${messages.map((m) => m.id).join(', ')})`, () => {
            if (messages.length < count && finished) throw new Error(`the stream ended after ${messages.length} of ${count} messages`);
            return messages.length >= count;
          }, 20_000);
          return messages;
        },
        close: () => request.destroy(),
      };
      cleanups.push(() => stream.close());
      if (response.statusCode !== 200) {
        let text = '';
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ ...stream, problem: JSON.parse(text) as Record<string, unknown> }));
        return;
      }
      let buffer = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? '' : line.slice(colon + 1);
            if (value.startsWith(' ')) value = value.slice(1);
            fields[name] = name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
          }
          if (fields.data === undefined) continue;
          messages.push({ id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) as EventJson });
        }
      });
      resolve(stream);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Checks the framing of every message and returns the events they carry. */
function eventsOf(messages: readonly SseMessage[], bank: string): EventJson[] {
  for (const message of messages) {
    expect(message.id).toBe(`${bank}:${message.data.seq}`);
    expect(message.data.id).toBe(message.id);
    expect(message.event).toBe(message.data.type);
    expect(message.data.bank).toBe(bank);
  }
  return messages.map((m) => m.data);
}

function expectContiguous(events: readonly EventJson[], from: number): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => from + i));
}

// ---- a webhook receiver over node:http ----------------------------------------------------------

interface Attempt {
  readonly id: string;
  readonly signature: string;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly status: number;
}

interface Receiver {
  readonly url: string;
  readonly attempts: Attempt[];
  /** Answer 500 to this many more attempts. */
  failFirst: number;
  /** Answer 500 to every attempt while set. */
  failing: boolean;
  /** Attempts answered 2xx, de-duplicated by event id (first delivery kept), in arrival order. */
  delivered(): Attempt[];
}

async function startReceiver(failFirst = 0): Promise<Receiver> {
  const attempts: Attempt[] = [];
  const receiver: Receiver = {
    url: '',
    attempts,
    failFirst,
    failing: false,
    delivered() {
      const seen = new Set<string>();
      const firsts: Attempt[] = [];
      for (const attempt of attempts) {
        if (attempt.status >= 300 || seen.has(attempt.id)) continue;
        seen.add(attempt.id);
        firsts.push(attempt);
      }
      return firsts;
    },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let status = 200;
      if (receiver.failing || receiver.failFirst > 0) {
        status = 500;
        if (receiver.failFirst > 0) receiver.failFirst--;
      }
      attempts.push({
        id: String(request.headers['tengri-event-id']),
        signature: String(request.headers['tengri-signature']),
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      });
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(status === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('receiver not listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return Object.assign(receiver, { url: `http://127.0.0.1:${address.port}/hooks/tengri` });
}

/** Whether `header` is `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` for this body. */
function validSignature(secret: string, header: string, body: string): boolean {
  const match = /^t=([0-9]+),v1=([0-9a-f]{64})$/.exec(header);
  if (match === null) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
  // The timestamp is a real one (within ten minutes of now), so a receiver can refuse old replays.
  if (Math.abs(Number(match[1]) - Date.now() / 1000) > 600) return false;
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

/** Every attempt is signed with `secret`, names its event, and its body is that event. */
function expectSignedAttempts(attempts: readonly Attempt[], secret: string): void {
  for (const attempt of attempts) {
    expect(validSignature(secret, attempt.signature, attempt.body), `signature of ${attempt.id}: ${attempt.signature}`).toBe(true);
    expect(validSignature(`${secret}x`, attempt.signature, attempt.body)).toBe(false);
    expect(attempt.contentType).toMatch(/^application\/json/);
    expect((JSON.parse(attempt.body) as EventJson).id).toBe(attempt.id);
  }
}

/** At-least-once in order: no attempt skips past an event that was not yet accepted. */
function expectNoSkips(attempts: readonly Attempt[], firstSeq: number): void {
  let highestAccepted = firstSeq - 1;
  for (const attempt of attempts) {
    const seq = (JSON.parse(attempt.body) as EventJson).seq;
    expect(seq, `attempt for ${attempt.id} after ${highestAccepted} was accepted`).toBeLessThanOrEqual(highestAccepted + 1);
    if (attempt.status < 300) highestAccepted = Math.max(highestAccepted, seq);
  }
}

interface WebhookStatus {
  readonly url: string;
  readonly delivered: number;
  readonly pending: number;
  readonly failures: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
}

// ---- the server-sent event stream ---------------------------------------------------------------

describe('the event stream', () => {
  it("gives a bank its own wallets' events in commit order, and only its own", async () => {
    const p = await platform();
    const alphaKey = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const betaKey = await onboardBank(p, 'beta', 'BETAKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const alpha = await openStream(p.base, alphaKey);
    const beta = await openStream(p.base, betaKey);
    expect(alpha.status).toBe(200);
    expect(alpha.contentType).toMatch(/^text\/event-stream/);
    // Catch-up: what committed before the stream was opened.
    await alpha.waitFor(3);
    await beta.waitFor(3);

    const a1 = await openWallet(p, alphaKey, { fund: 50_000n });
    const a2 = await openWallet(p, alphaKey);
    const b1 = await openWallet(p, betaKey, { fund: 20_000n });
    await expectPaid(p, a1, a2, 1_000n, 'sse-p1');
    await expectPaid(p, a1, b1, 2_000n, 'sse-p2');
    await expectPaid(p, b1, a2, 500n, 'sse-p3');
    expect((await p.call('POST', `/v1/wallets/${a2.id}/freeze`, { reason: 'court order' }, alphaKey)).status).toBe(200);
    expect((await p.call('POST', `/v1/wallets/${a2.id}/unfreeze`, {}, alphaKey)).status).toBe(200);
    await walletOperation(p, alphaKey, a1, 'defund', 4_000n);

    const expectedAlpha = [
      'bank.onboarded - -',
      'reserves.topped_up - -',
      'issuance - -',
      `wallet.opened ${a1.id} -`,
      `account.credited ${a1.id} -`,
      `wallet.funded ${a1.id} -`,
      `wallet.opened ${a2.id} -`,
      `payment.sent ${a1.id} sse-p1`,
      `payment.received ${a2.id} sse-p1`,
      `payment.sent ${a1.id} sse-p2`,
      `payment.received ${a2.id} sse-p3`,
      `wallet.frozen ${a2.id} -`,
      `wallet.unfrozen ${a2.id} -`,
      `wallet.defunded ${a1.id} -`,
    ];
    const expectedBeta = [
      'bank.onboarded - -',
      'reserves.topped_up - -',
      'issuance - -',
      `wallet.opened ${b1.id} -`,
      `account.credited ${b1.id} -`,
      `wallet.funded ${b1.id} -`,
      `payment.received ${b1.id} sse-p2`,
      `payment.sent ${b1.id} sse-p3`,
    ];
    const alphaEvents = eventsOf(await alpha.waitFor(expectedAlpha.length), 'alpha');
    const betaEvents = eventsOf(await beta.waitFor(expectedBeta.length), 'beta');
    expect(summary(alphaEvents)).toEqual(expectedAlpha);
    expect(summary(betaEvents)).toEqual(expectedBeta);
    expectContiguous(alphaEvents, 1);
    expectContiguous(betaEvents, 1);

    // The fields of a few events.
    const sent = alphaEvents.find((e) => e.type === 'payment.sent' && e.payment === 'sse-p2')!;
    expect(sent).toMatchObject({ wallet: a1.id, counterparty: b1.id, amount: '2000' });
    const received = alphaEvents.find((e) => e.type === 'payment.received' && e.payment === 'sse-p3')!;
    expect(received).toMatchObject({ wallet: a2.id, counterparty: b1.id, amount: '500', toBankAccount: '0' });
    expect(alphaEvents.find((e) => e.type === 'wallet.frozen')!.detail).toBe('court order');
    expect(alphaEvents.find((e) => e.type === 'wallet.funded')!.amount).toBe('50000');
    for (const event of alphaEvents) expect(Number.isNaN(Date.parse(event.at))).toBe(false);

    // The operator and the auditor read a bank's stream with ?bank=; the JSON page says the same.
    const operatorStream = await openStream(p.base, testToken, { query: '?bank=alpha' });
    expect(eventsOf(await operatorStream.waitFor(expectedAlpha.length), 'alpha')).toEqual(alphaEvents);
    expect(await allEvents(p, alphaKey)).toEqual(alphaEvents);
    expect(await allEvents(p, betaKey)).toEqual(betaEvents);

    // Nothing more arrived on either stream (a last event on beta marks the point to check at).
    await walletOperation(p, betaKey, b1, 'bank-account/credit', 1n);
    await beta.waitFor(expectedBeta.length + 1);
    expect(alpha.messages).toHaveLength(expectedAlpha.length);
    expect(alpha.messages.every((m) => m.data.bank === 'alpha')).toBe(true);
    expect(beta.messages.every((m) => m.data.bank === 'beta')).toBe(true);
  });

  it("refuses another bank's stream, a missing bank and a foreign Last-Event-ID", async () => {
    const p = await platform();
    const alphaKey = await onboardBank(p, 'alpha', 'ALPHKZKA');
    await onboardBank(p, 'beta', 'BETAKZKA');
    const foreign = await openStream(p.base, alphaKey, { query: '?bank=beta' });
    expect(foreign.status).toBe(404);
    expect(foreign.problem).toMatchObject({ code: 'bank_not_found' });
    const noBank = await openStream(p.base, testToken);
    expect(noBank.status).toBe(400);
    const unknown = await openStream(p.base, testToken, { query: '?bank=nobody' });
    expect(unknown.status).toBe(404);
    for (const lastEventId of ['beta:1', 'alpha', 'alpha:x', '1']) {
      const refused = await openStream(p.base, alphaKey, { lastEventId });
      expect(refused.status, lastEventId).toBe(400);
      expect(refused.problem).toMatchObject({ code: 'validation_failed' });
    }
    const anonymous = await openStream(p.base, 'not-a-key-of-anyone-at-all');
    expect(anonymous.status).toBe(401);
  });

  it('resumes after Last-Event-ID (or ?after=) with no gap and no duplicate', async () => {
    const p = await platform();
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const payer = await openWallet(p, key, { fund: 100_000n });
    const payee = await openWallet(p, key);

    const first = await openStream(p.base, key);
    expect(await first.waitFor(7)).toHaveLength(7);
    await expectPaid(p, payer, payee, 100n, 'resume-1');
    const seen = await first.waitFor(9);
    first.close();
    await waitUntil('the first stream to end', () => first.ended());
    const lastSeen = seen[seen.length - 1]!.id;
    expect(lastSeen).toBe('alpha:9');

    // While no one listens.
    await expectPaid(p, payer, payee, 200n, 'resume-2');
    await walletOperation(p, key, payee, 'defund', 50n);
    const missed = 3;

    const second = await openStream(p.base, key, { lastEventId: lastSeen });
    await second.waitFor(missed);
    // And while it listens.
    await expectPaid(p, payer, payee, 300n, 'resume-3');
    const resumed = eventsOf(await second.waitFor(missed + 2), 'alpha');
    expect(resumed[0]!.seq).toBe(10);
    expectContiguous(resumed, 10);
    const joined = [...eventsOf(seen, 'alpha'), ...resumed];
    expect(new Set(joined.map((e) => e.id)).size).toBe(joined.length);
    expect(joined).toEqual(await allEvents(p, key));

    // ?after= resumes the same way; Last-Event-ID wins over it; an id beyond the last waits.
    const byQuery = await openStream(p.base, key, { query: '?after=9' });
    expect(eventsOf(await byQuery.waitFor(resumed.length), 'alpha')).toEqual(resumed);
    const headerWins = await openStream(p.base, key, { query: '?after=0', lastEventId: 'alpha:12' });
    expect(eventsOf(await headerWins.waitFor(2), 'alpha').map((e) => e.seq)).toEqual([13, 14]);
    const upToDate = await openStream(p.base, key, { lastEventId: 'alpha:14' });
    await expectPaid(p, payer, payee, 400n, 'resume-4');
    const live = eventsOf(await upToDate.waitFor(2), 'alpha');
    expect(summary(live)).toEqual([`payment.sent ${payer.id} resume-4`, `payment.received ${payee.id} resume-4`]);
    expect(live.map((e) => e.seq)).toEqual([15, 16]);
    await headerWins.waitFor(4);
    expect(headerWins.messages.map((m) => m.id)).toEqual(['alpha:13', 'alpha:14', 'alpha:15', 'alpha:16']);
  });

  it('never shows events of rejected commands or repeated requests', async () => {
    const p = await platform();
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const payer = await openWallet(p, key, { fund: 10_000n });
    const payee = await openWallet(p, key);
    const stream = await openStream(p.base, key);
    const before = (await stream.waitFor(7)).length;
    expect(before).toBe(7);

    const paid = signedPayment(payer, { to: payee.id, amount: 1_000n, id: 'ok-1' });
    expect((await p.call('POST', '/v1/payments', paid, null)).status).toBe(201);
    const repeated = await p.call('POST', '/v1/payments', paid, null);
    expect(repeated.status).toBe(200); // the same payment again: applied once

    const problems: [string, Awaited<ReturnType<Client['call']>>][] = [
      ['insufficient_funds', await pay(p, payer, { to: payee.id, amount: 1_000_000n, id: 'no-funds' })],
      ['payee_not_found', await pay(p, payer, { to: 'w_nobody_at_all', amount: 1n, id: 'no-payee' })],
      ['sequence_replayed', await pay(p, payer, { to: payee.id, amount: 1n, id: 'replayed', sequence: 1 })],
      ['insufficient_deposit', await p.call('POST', `/v1/wallets/${payee.id}/fund`, { amount: '5' }, key)],
      ['insufficient_reserves', await p.call('POST', '/v1/issuance', { amount: '999999999' }, key)],
    ];
    const forged = signedPayment(payer, { to: payee.id, amount: 1n, id: 'forged' });
    forged.amount = '2';
    problems.push(['signature_invalid', await p.call('POST', '/v1/payments', forged, null)]);
    expect((await p.call('POST', `/v1/wallets/${payee.id}/freeze`, {}, key)).status).toBe(200);
    problems.push(['payee_not_active', await pay(p, payer, { to: payee.id, amount: 1n, id: 'to-frozen' })]);
    problems.push(['wallet_frozen', await pay(p, payee, { to: payer.id, amount: 1n, id: 'from-frozen' })]);
    // Freezing again and a repeated funding operation change nothing: no events either.
    expect((await p.call('POST', `/v1/wallets/${payee.id}/freeze`, {}, key)).status).toBe(200);
    await walletOperation(p, key, payer, 'bank-account/credit', 7n, 'credit-once');
    await walletOperation(p, key, payer, 'bank-account/credit', 7n, 'credit-once');
    for (const [code, response] of problems) expect(response.json, code).toMatchObject({ code });

    const expected = [
      `payment.sent ${payer.id} ok-1`,
      `payment.received ${payee.id} ok-1`,
      `wallet.frozen ${payee.id} -`,
      `account.credited ${payer.id} -`,
    ];
    const events = eventsOf(await stream.waitFor(before + expected.length), 'alpha');
    expect(summary(events.slice(before))).toEqual(expected);
    expectContiguous(events, 1);
    expect(await allEvents(p, key)).toEqual(events);
    // A last committed event: nothing else slipped in before it.
    await walletOperation(p, key, payer, 'bank-account/credit', 8n);
    const all = eventsOf(await stream.waitFor(before + expected.length + 1), 'alpha');
    expect(all).toHaveLength(before + expected.length + 1);
    expect(all[all.length - 1]).toMatchObject({ type: 'account.credited', amount: '8', seq: before + expected.length + 1 });
  });

  it('never shows events of a batch that did not become durable, before or after the restart', { timeout: 45_000 }, async () => {
    const directory = fresh();
    let p = await platform({ directory });
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const payer = await openWallet(p, key, { fund: 10_000n });
    const payee = await openWallet(p, key);
    const stream = await openStream(p.base, key);
    await stream.waitFor(7);

    // The disk fails: the payment is applied in memory, but its batch never reaches the journal.
    p.store.append = async () => {
      throw new Error('injected: disk full');
    };
    const lost = await pay(p, payer, { to: payee.id, amount: 1_000n, id: 'never-durable' });
    expect(lost.status).toBe(503);
    expect(lost.json).toMatchObject({ code: 'engine_unavailable' });
    const read = await p.call('GET', '/v1/events', undefined, key);
    expect(read.status).toBe(503);
    stream.close();
    await waitUntil('the stream to end', () => stream.ended());
    expect(stream.messages).toHaveLength(7);
    await closePlatform(p);

    // After the restart the journal decides: the payment never happened, and the numbers its
    // events had in memory go to the next committed events.
    p = await platform({ directory });
    expect((await p.call('GET', '/v1/payments/never-durable')).status).toBe(404);
    const page = await p.call<EventPage>('GET', '/v1/events', undefined, key);
    expect(page.json.last).toBe(7);
    expect(page.json.events.every((e) => e.payment !== 'never-durable')).toBe(true);
    const resumed = await openStream(p.base, key, { lastEventId: 'alpha:7' });
    await walletOperation(p, key, payee, 'bank-account/credit', 3n);
    const after = eventsOf(await resumed.waitFor(1), 'alpha');
    expect(after[0]).toMatchObject({ id: 'alpha:8', type: 'account.credited', wallet: payee.id, amount: '3' });
    expect(after.every((e) => e.payment !== 'never-durable')).toBe(true);
  });
});

// ---- GET /v1/events -----------------------------------------------------------------------------

describe('GET /v1/events', () => {
  it('pages through the same events the stream carries', async () => {
    const p = await platform();
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const otherKey = await onboardBank(p, 'beta', 'BETAKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const a = await openWallet(p, key, { fund: 50_000n });
    const b = await openWallet(p, key, { fund: 1_000n });
    const other = await openWallet(p, otherKey, { fund: 1_000n });
    for (let i = 1; i <= 4; i++) await expectPaid(p, a, i % 2 === 0 ? b : other, BigInt(i * 10), `page-${i}`);
    const total = 3 + 3 + 3 + 4 + 2; // bank, two funded wallets, four payments sent, two received
    const stream = await openStream(p.base, key);
    const streamed = eventsOf(await stream.waitFor(total), 'alpha');

    const paged: EventJson[] = [];
    let after = 0;
    for (;;) {
      const page = await p.call<EventPage>('GET', `/v1/events?after=${after}&limit=4`, undefined, key);
      expect(page.status).toBe(200);
      expect(page.json.last).toBe(total);
      expect(page.json.firstAvailable).toBe(1);
      expect(page.json.events.length).toBeLessThanOrEqual(4);
      if (page.json.events.length === 0) break;
      paged.push(...page.json.events);
      after = page.json.events[page.json.events.length - 1]!.seq;
    }
    expect(paged).toEqual(streamed);
    expect(paged).toHaveLength(total);
    expectContiguous(paged, 1);

    // A page from the middle; the default page; the operator's and the auditor's view.
    const middle = await p.call<EventPage>('GET', '/v1/events?after=5&limit=3', undefined, key);
    expect(middle.json.events).toEqual(streamed.slice(5, 8));
    expect((await p.call<EventPage>('GET', '/v1/events', undefined, key)).json.events).toEqual(streamed);
    expect((await p.call<EventPage>('GET', '/v1/events?bank=alpha', undefined, key)).json.events).toEqual(streamed);
    expect((await p.call<EventPage>('GET', '/v1/events?bank=alpha&limit=1000')).json.events).toEqual(streamed);
    const auditor = await p.call<{ apiKey: string }>('POST', '/v1/participants', { id: 'audit', role: 'auditor', name: 'Audit' });
    expect((await p.call<EventPage>('GET', '/v1/events?bank=alpha', undefined, auditor.json.apiKey)).json.events).toEqual(streamed);
    const past = await p.call<EventPage>('GET', `/v1/events?after=${total}`, undefined, key);
    expect(past.json).toEqual({ events: [], last: total, firstAvailable: 1 });

    // Bad requests.
    for (const query of ['limit=0', 'limit=1001', 'limit=-1', 'after=x', 'after=-1', 'colour=red']) {
      const bad = await p.call('GET', `/v1/events?${query}`, undefined, key);
      expect(bad.status, query).toBe(400);
      expect(bad.json, query).toMatchObject({ code: 'validation_failed' });
    }
    expect((await p.call('GET', '/v1/events?bank=beta', undefined, key)).status).toBe(404);
    expect((await p.call('GET', '/v1/events')).status).toBe(400);
    expect((await p.call('GET', '/v1/events?bank=nobody')).status).toBe(404);
    expect((await p.call('GET', '/v1/events', undefined, null)).status).toBe(401);
  });
});

// ---- webhooks -----------------------------------------------------------------------------------

describe('webhooks', () => {
  it('POSTs each event, signed, in order, exactly once', async () => {
    const p = await platform();
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const otherKey = await onboardBank(p, 'beta', 'BETAKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const receiver = await startReceiver();
    const otherReceiver = await startReceiver();

    const registered = await p.call<{ url: string; secret: string; delivered: number }>('PUT', '/v1/webhook', { url: receiver.url }, key);
    expect(registered.status).toBe(200);
    // Delivery starts after what had committed: earlier events are in GET /v1/events.
    expect(registered.json).toMatchObject({ url: receiver.url, delivered: 3 });
    expect(registered.json.secret.length).toBeGreaterThanOrEqual(32);
    const otherRegistered = await p.call<{ secret: string }>('PUT', '/v1/webhook', { url: otherReceiver.url }, otherKey);
    expect(otherRegistered.json.secret).not.toBe(registered.json.secret);
    const idle = await p.call<WebhookStatus>('GET', '/v1/webhook', undefined, key);
    expect(idle.json).toEqual({ url: receiver.url, delivered: 3, pending: 0, failures: 0, lastError: null, nextAttemptAt: null });

    const a = await openWallet(p, key, { fund: 20_000n });
    const b = await openWallet(p, key);
    const other = await openWallet(p, otherKey, { fund: 5_000n });
    await expectPaid(p, a, b, 100n, 'hook-1');
    await expectPaid(p, a, other, 200n, 'hook-2');
    await expectPaid(p, other, b, 300n, 'hook-3');
    expect((await p.call('POST', `/v1/wallets/${b.id}/freeze`, {}, key)).status).toBe(200);
    expect((await pay(p, a, { to: b.id, amount: 1n, id: 'hook-rejected' })).status).toBe(422);

    const expected = (await allEvents(p, key)).slice(3);
    expect(expected).toHaveLength(9);
    await waitUntil('every event delivered', () => receiver.delivered().length >= expected.length);
    const expectedOther = (await allEvents(p, otherKey)).slice(3);
    await waitUntil('every event of the other bank delivered', () => otherReceiver.delivered().length >= expectedOther.length);

    expect(receiver.attempts).toHaveLength(expected.length); // nothing failed, so nothing repeated
    expectSignedAttempts(receiver.attempts, registered.json.secret);
    expect(receiver.delivered().map((d) => JSON.parse(d.body) as EventJson)).toEqual(expected);
    expect(otherReceiver.delivered().map((d) => JSON.parse(d.body) as EventJson)).toEqual(expectedOther);
    expectSignedAttempts(otherReceiver.attempts, otherRegistered.json.secret);
    expect(otherReceiver.attempts.every((d) => d.id.startsWith('beta:'))).toBe(true);
    expect(receiver.attempts.some((d) => d.body.includes('hook-rejected'))).toBe(false);

    await waitUntil('the status to catch up', async () => (await p.call<WebhookStatus>('GET', '/v1/webhook', undefined, key)).json.delivered === 12);
    expect((await p.call<WebhookStatus>('GET', '/v1/webhook', undefined, key)).json).toEqual({ url: receiver.url, delivered: 12, pending: 0, failures: 0, lastError: null, nextAttemptAt: null });
  });

  it('retries a failing endpoint with backoff, then delivers everything in order', { timeout: 45_000 }, async () => {
    const p = await platform();
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const receiver = await startReceiver(2);
    const registered = await p.call<{ secret: string; delivered: number }>('PUT', '/v1/webhook', { url: receiver.url }, key);
    const a = await openWallet(p, key, { fund: 20_000n });
    const b = await openWallet(p, key);
    await expectPaid(p, a, b, 100n, 'retry-1');

    // While the endpoint fails, the status tells so and the next attempt is scheduled.
    await waitUntil('a failed attempt', () => receiver.attempts.length >= 1);
    const failing = await p.call<WebhookStatus>('GET', '/v1/webhook', undefined, key);
    expect(failing.json.failures).toBeGreaterThanOrEqual(1);
    expect(failing.json.lastError).toBe('HTTP 500');
    expect(failing.json.nextAttemptAt).not.toBeNull();
    expect(failing.json.delivered).toBe(3);
    expect(failing.json.pending).toBe(6);

    const expected = (await allEvents(p, key)).slice(3);
    await waitUntil('every event delivered after the retries', () => receiver.delivered().length >= expected.length, 25_000);
    // The first event was tried three times; later events waited behind it and went once each.
    expect(receiver.attempts.map((d) => d.status)).toEqual([500, 500, ...expected.map(() => 200)]);
    expect(receiver.attempts.slice(0, 3).map((d) => d.id)).toEqual(['alpha:4', 'alpha:4', 'alpha:4']);
    expectSignedAttempts(receiver.attempts, registered.json.secret);
    expectNoSkips(receiver.attempts, 4);
    expect(receiver.delivered().map((d) => JSON.parse(d.body) as EventJson)).toEqual(expected);
    await waitUntil('the status to recover', async () => (await p.call<WebhookStatus>('GET', '/v1/webhook', undefined, key)).json.pending === 0);
    expect((await p.call<WebhookStatus>('GET', '/v1/webhook', undefined, key)).json).toMatchObject({ delivered: 9, failures: 0, lastError: null, nextAttemptAt: null });
  });

  it('re-registering replaces the URL and secret; deleting stops delivery; bad URLs are refused', async () => {
    const p = await platform();
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const first = await startReceiver();
    const second = await startReceiver();
    const third = await startReceiver();

    expect((await p.call('GET', '/v1/webhook', undefined, key)).json).toMatchObject({ code: 'webhook_not_found' });
    expect((await p.call('DELETE', '/v1/webhook', undefined, key)).status).toBe(404);
    for (const url of ['ftp://127.0.0.1/x', 'http://user:secret@127.0.0.1/x', 'not a url', '/relative/path', `http://127.0.0.1/${'x'.repeat(2050)}`]) {
      const refused = await p.call('PUT', '/v1/webhook', { url }, key);
      expect(refused.status, url.slice(0, 40)).toBe(400);
    }
    expect((await p.call('PUT', '/v1/webhook', { url: first.url })).status).toBe(403); // the operator has no webhook
    expect((await p.call('PUT', '/v1/webhook', { url: first.url, extra: 1 }, key)).status).toBe(400);

    const one = await p.call<{ secret: string }>('PUT', '/v1/webhook', { url: first.url }, key);
    const a = await openWallet(p, key);
    await waitUntil('the first endpoint to get wallet.opened', () => first.delivered().length === 1);
    const two = await p.call<{ url: string; secret: string; delivered: number }>('PUT', '/v1/webhook', { url: second.url }, key);
    expect(two.json.url).toBe(second.url);
    expect(two.json.secret).not.toBe(one.json.secret);
    expect(two.json.delivered).toBe(4);
    await walletOperation(p, key, a, 'bank-account/credit', 5n);
    await waitUntil('the second endpoint to get account.credited', () => second.delivered().length === 1);
    expect(second.attempts[0]!.id).toBe('alpha:5');
    expectSignedAttempts(second.attempts, two.json.secret);
    expect(validSignature(one.json.secret, second.attempts[0]!.signature, second.attempts[0]!.body)).toBe(false);
    expect(first.attempts.map((d) => d.id)).toEqual(['alpha:4']);

    expect((await p.call('DELETE', '/v1/webhook', undefined, key)).status).toBe(204);
    expect((await p.call('GET', '/v1/webhook', undefined, key)).status).toBe(404);
    await walletOperation(p, key, a, 'bank-account/credit', 6n); // alpha:6, told to nobody
    const three = await p.call<{ secret: string; delivered: number }>('PUT', '/v1/webhook', { url: third.url }, key);
    expect(three.json.delivered).toBe(6);
    await walletOperation(p, key, a, 'bank-account/credit', 7n);
    await waitUntil('the third endpoint to get alpha:7', () => third.delivered().length === 1);
    expect(third.attempts.map((d) => d.id)).toEqual(['alpha:7']);
    expect(second.attempts.map((d) => d.id)).toEqual(['alpha:5']);
    expect(first.attempts.map((d) => d.id)).toEqual(['alpha:4']);
  });

  it('resumes delivery after `tengri start` restarts, losing nothing (SIGTERM, then SIGKILL)', { timeout: 90_000 }, async () => {
    const directory = fresh();
    let server = await spawn(directory);
    let http = client(server.url);
    const key = await onboardBank(http, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 500_000n });
    const receiver = await startReceiver();
    const registered = await http.call<{ secret: string; delivered: number }>('PUT', '/v1/webhook', { url: receiver.url }, key);
    expect(registered.json.delivered).toBe(3);
    const webhooksFile = join(directory, 'webhooks.json');
    expect(existsSync(webhooksFile)).toBe(true);
    expect(statSync(webhooksFile).mode & 0o777).toBe(0o600);

    // Delivered before the restart.
    const a = await openWallet(http, key, { fund: 30_000n });
    await waitUntil('the first events delivered', () => receiver.delivered().length === 3);
    // Committed but not delivered: the endpoint is down when the server stops.
    receiver.failing = true;
    const b = await openWallet(http, key, { fund: 1_000n });
    await expectPaid(http, a, b, 100n, 'restart-1');
    await waitUntil('a failed attempt', () => receiver.attempts.some((d) => d.status === 500));
    await stopProcess(server, 'SIGTERM');
    const saved = JSON.parse(readFileSync(webhooksFile, 'utf8')) as Record<string, { url: string; secret: string; delivered: number }>;
    expect(saved.alpha).toMatchObject({ url: receiver.url, secret: registered.json.secret, delivered: 6 });

    receiver.failing = false;
    server = await spawn(directory);
    http = client(server.url);
    await expectPaid(http, b, a, 50n, 'restart-2');
    let expected = (await allEvents(http, key)).slice(3);
    expect(expected).toHaveLength(10);
    await waitUntil('delivery to resume after SIGTERM', () => receiver.delivered().length >= expected.length);

    // A crash right after deliveries: the saved cursor may lag, so some events may come twice.
    await walletOperation(http, key, a, 'defund', 10n);
    await walletOperation(http, key, b, 'bank-account/credit', 11n);
    await waitUntil('the last events delivered before the crash', () => receiver.delivered().length >= expected.length + 2);
    await stopProcess(server, 'SIGKILL');
    server = await spawn(directory);
    http = client(server.url);
    await expectPaid(http, a, b, 12n, 'restart-3');
    expected = (await allEvents(http, key)).slice(3);
    expect(expected).toHaveLength(14);
    await waitUntil('delivery to resume after SIGKILL', () => receiver.delivered().length >= expected.length);

    expectSignedAttempts(receiver.attempts, registered.json.secret);
    expectNoSkips(receiver.attempts, 4);
    expect(receiver.delivered().map((d) => JSON.parse(d.body) as EventJson)).toEqual(expected);
    await waitUntil('the status to catch up', async () => (await http.call<WebhookStatus>('GET', '/v1/webhook', undefined, key)).json.pending === 0);
    expect((await http.call<WebhookStatus>('GET', '/v1/webhook', undefined, key)).json).toMatchObject({ url: receiver.url, delivered: 17, failures: 0 });
  });
});

// ---- statements ---------------------------------------------------------------------------------

interface Statement {
  readonly bank: string;
  readonly date: string;
  readonly [field: string]: string | number;
}

const totalsZero = {
  reservesToppedUp: '0',
  issued: '0',
  redeemed: '0',
  funded: '0',
  defunded: '0',
  bankAccountCredits: '0',
  bankAccountDebits: '0',
  paymentsOut: 0,
  paymentsOutAmount: '0',
  paymentsIn: 0,
  paymentsInAmount: '0',
  convertedToBankAccounts: '0',
  walletsOpened: 0,
  walletsClosed: 0,
};

/** A statement with no activity: every opening balance carried to closing, every total zero. */
function quietDay(bank: string, date: string, balances: { reserves: string; cbdcFloat: string; walletHoldings: string; deposits: string }): Statement {
  return {
    bank,
    date,
    openingReserves: balances.reserves,
    closingReserves: balances.reserves,
    openingCbdcFloat: balances.cbdcFloat,
    closingCbdcFloat: balances.cbdcFloat,
    openingWalletHoldings: balances.walletHoldings,
    closingWalletHoldings: balances.walletHoldings,
    openingDeposits: balances.deposits,
    closingDeposits: balances.deposits,
    ...totalsZero,
  };
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const dayMs = 86_400_000;

describe('statements', () => {
  it("has today's exact balances and totals after a known set of operations", async () => {
    // Ledger time stands still at the start, so every operation falls on one day.
    const started = Date.now();
    const p = await platform({ clock: () => started });
    const today = isoDay(started);
    const alphaKey = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 400_000n });
    const betaKey = await onboardBank(p, 'beta', 'BETAKZKA', { reserves: 500_000n, issue: 200_000n });

    const a1 = await openWallet(p, alphaKey);
    await walletOperation(p, alphaKey, a1, 'bank-account/credit', 50_000n);
    await walletOperation(p, alphaKey, a1, 'fund', 30_000n);
    const a2 = await openWallet(p, alphaKey, { tier: 0 });
    const shop = await openWallet(p, alphaKey, { kind: 'merchant', convertIncoming: true });
    const b1 = await openWallet(p, betaKey, { fund: 40_000n });
    await expectPaid(p, a1, a2, 5_000n, 'st-1'); // within alpha
    await expectPaid(p, a1, b1, 3_000n, 'st-2'); // alpha to beta
    await expectPaid(p, b1, shop, 7_000n, 'st-3'); // beta to alpha, sent on to the shop's bank account
    await walletOperation(p, alphaKey, a1, 'defund', 2_000n);
    await walletOperation(p, alphaKey, a1, 'bank-account/debit', 1_000n);
    expect((await p.call('POST', '/v1/redemption', { amount: '10000' }, alphaKey)).status).toBe(201);
    expect((await p.call('POST', `/v1/wallets/${a2.id}/close`, {}, alphaKey)).status).toBe(200); // 5,000 to a2's bank account
    // Rejected operations change no total.
    expect((await pay(p, a1, { to: b1.id, amount: 1_000_000n, id: 'st-too-much' })).status).toBe(422);
    expect((await p.call('POST', `/v1/wallets/${a1.id}/fund`, { amount: '1000000' }, alphaKey)).status).toBe(422);
    expect((await p.call('POST', '/v1/issuance', { amount: '100000000' }, alphaKey)).status).toBe(422);

    const alphaToday: Statement = {
      bank: 'alpha',
      date: today,
      openingReserves: '0',
      closingReserves: '610000', // 1,000,000 topped up - 400,000 issued + 10,000 redeemed
      openingCbdcFloat: '0',
      closingCbdcFloat: '374000', // 400,000 - 30,000 funded + 7,000 converted + 2,000 defunded - 10,000 redeemed + 5,000 closed
      openingWalletHoldings: '0',
      closingWalletHoldings: '20000', // a1: 30,000 - 5,000 - 3,000 - 2,000; a2 closed; the shop converts
      openingDeposits: '0',
      closingDeposits: '33000', // a1: 50,000 - 30,000 + 2,000 - 1,000; shop 7,000; a2 5,000
      reservesToppedUp: '1000000',
      issued: '400000',
      redeemed: '10000',
      funded: '30000',
      defunded: '2000',
      bankAccountCredits: '50000',
      bankAccountDebits: '1000',
      paymentsOut: 2,
      paymentsOutAmount: '8000',
      paymentsIn: 2,
      paymentsInAmount: '12000',
      convertedToBankAccounts: '7000',
      walletsOpened: 3,
      walletsClosed: 1,
    };
    const betaToday: Statement = {
      bank: 'beta',
      date: today,
      openingReserves: '0',
      closingReserves: '300000',
      openingCbdcFloat: '0',
      closingCbdcFloat: '160000',
      openingWalletHoldings: '0',
      closingWalletHoldings: '36000',
      openingDeposits: '0',
      closingDeposits: '0',
      reservesToppedUp: '500000',
      issued: '200000',
      redeemed: '0',
      funded: '40000',
      defunded: '0',
      bankAccountCredits: '40000',
      bankAccountDebits: '0',
      paymentsOut: 1,
      paymentsOutAmount: '7000',
      paymentsIn: 1,
      paymentsInAmount: '3000',
      convertedToBankAccounts: '0',
      walletsOpened: 1,
      walletsClosed: 0,
    };
    const alpha = await p.call<Statement>('GET', `/v1/banks/alpha/statement?date=${today}`, undefined, alphaKey);
    expect(alpha.status).toBe(200);
    expect(alpha.json).toEqual(alphaToday);
    expect((await p.call('GET', `/v1/banks/beta/statement?date=${today}`)).json).toEqual(betaToday);
    // The closing balances agree with the bank's own figures.
    const bank = await p.call<{ reserves: string; cbdcFloat: string }>('GET', '/v1/banks/alpha', undefined, alphaKey);
    expect(bank.json).toMatchObject({ reserves: alphaToday.closingReserves, cbdcFloat: alphaToday.closingCbdcFloat });
    // Without a date: today (when the wall clock has not passed midnight meanwhile).
    const undated = await p.call<Statement>('GET', '/v1/banks/alpha/statement', undefined, alphaKey);
    if (isoDay(Date.now()) === today) expect(undated.json).toEqual(alphaToday);

    // Days without activity: after it, the closing balances carried over; before it, nothing.
    const tomorrow = isoDay(started + dayMs);
    expect((await p.call('GET', `/v1/banks/alpha/statement?date=${tomorrow}`, undefined, alphaKey)).json).toEqual(
      quietDay('alpha', tomorrow, { reserves: '610000', cbdcFloat: '374000', walletHoldings: '20000', deposits: '33000' }),
    );
    const yesterday = isoDay(started - dayMs);
    expect((await p.call('GET', `/v1/banks/beta/statement?date=${yesterday}`)).json).toEqual(quietDay('beta', yesterday, { reserves: '0', cbdcFloat: '0', walletHoldings: '0', deposits: '0' }));

    // Who may read it, and bad dates.
    const regulator = await p.call<{ apiKey: string }>('POST', '/v1/participants', { id: 'regulator', role: 'regulator', name: 'Regulator' });
    expect((await p.call('GET', `/v1/banks/alpha/statement?date=${today}`, undefined, regulator.json.apiKey)).json).toEqual(alphaToday);
    expect((await p.call('GET', `/v1/banks/alpha/statement?date=${today}`, undefined, betaKey)).status).toBe(404);
    expect((await p.call('GET', `/v1/banks/nobody/statement?date=${today}`)).status).toBe(404);
    expect((await p.call('GET', `/v1/banks/alpha/statement?date=${today}`, undefined, null)).status).toBe(401);
    for (const date of ['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-3-1', '20260301', 'today', '2026-03-01T00:00:00Z', '', '%20']) {
      const bad = await p.call('GET', `/v1/banks/alpha/statement?date=${date}`, undefined, alphaKey);
      expect(bad.status, `date=${date}`).toBe(400);
      expect(bad.json, `date=${date}`).toMatchObject({ code: 'validation_failed' });
    }
    expect((await p.call('GET', '/v1/banks/alpha/statement?date=2028-02-29', undefined, alphaKey)).status).toBe(200);
    expect((await p.call('GET', `/v1/banks/alpha/statement?date=${today}&extra=1`, undefined, alphaKey)).status).toBe(400);
  });

  it('carries closing balances over quiet days, and rebuilds the same statements after a restart', async () => {
    const directory = fresh();
    let now = Date.UTC(2026, 2, 1, 10); // 2026-03-01 10:00 UTC
    const clock = (): number => now;
    let p = await platform({ directory, clock });
    const key = await onboardBank(p, 'alpha', 'ALPHKZKA', { reserves: 1_000_000n, issue: 300_000n });
    const a1 = await openWallet(p, key, { fund: 20_000n });
    // 2026-03-02: only rejected operations.
    now += dayMs;
    expect((await p.call('POST', '/v1/issuance', { amount: '999999999' }, key)).status).toBe(422);
    expect((await p.call('POST', `/v1/wallets/${a1.id}/fund`, { amount: '5' }, key)).status).toBe(422);
    expect((await pay(p, a1, { to: a1.id, amount: 1n })).status).toBe(422);
    // 2026-03-03: nothing. 2026-03-04: a wallet opened (no balance changes) and a defunding.
    now += 2 * dayMs;
    await openWallet(p, key);
    await walletOperation(p, key, a1, 'defund', 5_000n);
    // 2026-03-05: only a wallet opened, which moves no money.
    now += dayMs;
    await openWallet(p, key);

    const dayOne = { reserves: '700000', cbdcFloat: '280000', walletHoldings: '20000', deposits: '0' };
    const dayFour = { reserves: '700000', cbdcFloat: '285000', walletHoldings: '15000', deposits: '5000' };
    const expected: Record<string, Statement> = {
      '2026-02-28': quietDay('alpha', '2026-02-28', { reserves: '0', cbdcFloat: '0', walletHoldings: '0', deposits: '0' }),
      '2026-03-01': {
        ...quietDay('alpha', '2026-03-01', { reserves: '0', cbdcFloat: '0', walletHoldings: '0', deposits: '0' }),
        closingReserves: dayOne.reserves,
        closingCbdcFloat: dayOne.cbdcFloat,
        closingWalletHoldings: dayOne.walletHoldings,
        closingDeposits: dayOne.deposits,
        reservesToppedUp: '1000000',
        issued: '300000',
        funded: '20000',
        bankAccountCredits: '20000',
        walletsOpened: 1,
      },
      '2026-03-02': quietDay('alpha', '2026-03-02', dayOne),
      '2026-03-03': quietDay('alpha', '2026-03-03', dayOne),
      '2026-03-04': {
        ...quietDay('alpha', '2026-03-04', dayOne),
        closingCbdcFloat: dayFour.cbdcFloat,
        closingWalletHoldings: dayFour.walletHoldings,
        closingDeposits: dayFour.deposits,
        defunded: '5000',
        walletsOpened: 1,
      },
      '2026-03-05': { ...quietDay('alpha', '2026-03-05', dayFour), walletsOpened: 1 },
      '2026-03-09': quietDay('alpha', '2026-03-09', dayFour),
    };
    const read = async (): Promise<Record<string, unknown>> => {
      const statements: Record<string, unknown> = {};
      for (const date of Object.keys(expected)) statements[date] = (await p.call('GET', `/v1/banks/alpha/statement?date=${date}`, undefined, key)).json;
      return statements;
    };
    expect(await read()).toEqual(expected);

    // The statements are rebuilt from the journal alone.
    await closePlatform(p);
    now += dayMs;
    p = await platform({ directory, clock });
    expect(await read()).toEqual(expected);
  });
});
