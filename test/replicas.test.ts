// Proves several Tengri API processes on one PostgreSQL ledger, on one machine, on nothing more
// than different ports: one leader and two `--follow` processes that never lead. Writes sent to
// any of them reach the one leader (and a read sent to the same process afterwards sees them);
// reads are served from each process's own copy; leader-only reads are forwarded; a forwarded
// request is never forwarded again; with the leader gone the followers keep serving reads and
// refuse writes with a clear error, and forward to the next leader as soon as one starts.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, onboardBank, openWallet, signedPayment, type Client } from './support/platform.ts';
import { freshSchema, postgresUrl } from './support/postgres.ts';
import { removeScratchDirectories, scratchDirectory, spawnServer, testToken } from './support/servers.ts';

const database = await postgresUrl('the replica and stateless API process test (test/replicas.test.ts)');
let schema: { schema: string; drop(): Promise<void> };
const children: ChildProcess[] = [];

interface Started extends Client {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
}

/** Starts `tengri start --db` and resolves once it listens (as leader or replica). */
async function start(extra: string[] = []): Promise<Started> {
  const server = await spawnServer(scratchDirectory(), ['--db', database.url, '--db-schema', schema.schema, ...extra]);
  children.push(server.child);
  return Object.assign(client(server.url), { child: server.child, exited: server.exited });
}

beforeAll(async () => {
  schema = freshSchema(database.url);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  // Give the killed processes a moment to let go of their files, then remove them.
  await new Promise((resolve) => setTimeout(resolve, 100));
  removeScratchDirectories();
  await schema.drop();
  await database.stop();
});

async function head(process: Client): Promise<number> {
  return (await process.call<{ journalSequence: number }>('GET', '/health', undefined, null)).json.journalSequence;
}

describe('stateless API processes on one PostgreSQL ledger', () => {
  it('forwards writes from any process to the one leader, serves reads locally, and follows a new leader', async () => {
    const leader = await start();
    const a = await start(['--follow']);
    const b = await start(['--follow']);
    expect((await leader.call('GET', '/health', undefined, null)).json).toMatchObject({ role: 'leader' });
    for (const follower of [a, b]) expect((await follower.call('GET', '/health', undefined, null)).json).toMatchObject({ role: 'replica', leader: leader.base });

    // Writes through a follower are applied by the leader; a read from the same follower right
    // after sees them (it waits for the batch named by Tengri-Journal-Sequence).
    const bankKey = await onboardBank(a, 'rp-bank', 'REPLKZKA', { reserves: 100_000_000n, issue: 50_000_000n });
    const bank = await a.call<{ reserves: string; issued: string }>('GET', '/v1/banks/rp-bank');
    expect(bank.status).toBe(200);
    // Issuance turns reserves into digital tenge: 100M of reserves, 50M issued, 50M left.
    expect(bank.json).toMatchObject({ reserves: '50000000', issued: '50000000' });
    const payer = await openWallet(b, bankKey, { fund: 1_000_000n });
    const payee = await openWallet(a, bankKey);
    expect((await b.call<{ balance: string }>('GET', `/v1/wallets/${payer.id}`, undefined, bankKey)).json.balance).toBe('1000000');

    // Payments of one wallet alternate between the two followers and the leader.
    const processes = [a, b, leader];
    for (let i = 0; i < 30; i++) {
      const through = processes[i % 3]!;
      const answer = await through.call('POST', '/v1/payments', signedPayment(payer, { to: payee.id, amount: 1000n }), null);
      expect(answer.status, JSON.stringify(answer.json)).toBe(201);
      const own = await through.call<{ lastSequence: number }>('GET', `/v1/wallets/${payer.id}`, undefined, bankKey);
      expect(own.json.lastSequence).toBe(i + 1);
    }
    // A replayed payment through another process is the same payment (idempotent by id).
    const again = signedPayment(payer, { to: payee.id, amount: 5n });
    expect((await a.call('POST', '/v1/payments', again, null)).status).toBe(201);
    const replayed = await b.call('POST', '/v1/payments', again, null);
    expect(replayed.status).toBe(200);
    expect(replayed.json).toMatchObject({ id: again.id, amount: '5' });

    // Every process converges on the same state.
    const leaderHead = await head(leader);
    for (const follower of [a, b]) {
      const deadline = Date.now() + 5000;
      while ((await head(follower)) < leaderHead && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await head(follower)).toBe(leaderHead);
      const wallet = await follower.call<{ balance: string; lastSequence: number }>('GET', `/v1/wallets/${payee.id}`, undefined, bankKey);
      expect(wallet.json).toMatchObject({ balance: '30005', lastSequence: 0 });
      const supply = await follower.call<{ invariantsHold: boolean; journal: { sequence: number } }>('GET', '/v1/supply');
      expect(supply.json).toMatchObject({ invariantsHold: true, journal: { sequence: leaderHead } });
    }
    // The events API works on a follower from its own copy.
    const events = await b.call<{ events: { type: string }[] }>('GET', '/v1/events?bank=rp-bank&limit=1000');
    expect(events.json.events.filter((e) => e.type === 'payment.sent')).toHaveLength(31);

    // Webhooks live with the leader: registered through one follower, their state read through another.
    const registered = await a.call<{ secret: string }>('PUT', '/v1/webhook', { url: 'http://127.0.0.1:9/hook' }, bankKey);
    expect(registered.status).toBe(200);
    const status = await b.call<{ url: string }>('GET', '/v1/webhook', undefined, bankKey);
    expect(status.status).toBe(200);
    expect(status.json.url).toBe('http://127.0.0.1:9/hook');

    // Bad input through a follower gets the leader's problem answer, and changes nothing.
    const malformed = await fetch(`${a.base}/v1/banks`, { method: 'POST', headers: { authorization: `Bearer ${testToken}`, 'content-type': 'application/json' }, body: '{"id": "x",' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await malformed.json()).toMatchObject({ code: 'malformed_json' });
    const unauthenticated = await a.call('POST', '/v1/banks', { id: 'nobody', name: 'Nobody', bic: 'NOBOKZKA' }, null);
    expect(unauthenticated.status).toBe(401);

    // A request that already came through a replica is not forwarded again.
    const looped = await fetch(`${b.base}/v1/banks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testToken}`, 'content-type': 'application/json', 'tengri-forwarded-by': a.base },
      body: JSON.stringify({ id: 'loop-bank', name: 'Loop', bic: 'LOOPKZKA' }),
    });
    expect(looped.status).toBe(503);
    expect(await looped.json()).toMatchObject({ code: 'not_leader', leader: leader.base });

    // The leader stops: followers go on serving reads, and refuse writes with a clear error.
    leader.child.kill('SIGTERM');
    expect(await leader.exited).toBe(0);
    const read = await a.call<{ balance: string }>('GET', `/v1/wallets/${payee.id}`, undefined, bankKey);
    expect(read.json.balance).toBe('30005');
    const refused = await a.call<{ code: string }>('POST', '/v1/payments', signedPayment(payer, { to: payee.id, amount: 1n }), null);
    expect(refused.status).toBe(503);
    expect(['leader_unreachable', 'not_leader']).toContain(refused.json.code);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await a.call<{ role: string }>('GET', '/health', undefined, null)).json.role).toBe('replica');

    // A new leader starts; the followers find it and forward to it. The refused payment can be
    // sent again with the same sequence: it was not applied.
    const next = await start();
    expect((await next.call('GET', '/health', undefined, null)).json).toMatchObject({ role: 'leader' });
    const deadline = Date.now() + 5000;
    let resent = await a.call('POST', '/v1/payments', signedPayment(payer, { to: payee.id, amount: 1n, sequence: payer.sequence }), null);
    while (resent.status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      resent = await a.call('POST', '/v1/payments', signedPayment(payer, { to: payee.id, amount: 1n, sequence: payer.sequence }), null);
    }
    expect(resent.status, JSON.stringify(resent.json)).toBe(201);
    // The follower that forwarded it reads it at once; the other one catches up within its tail interval.
    expect((await a.call<{ balance: string }>('GET', `/v1/wallets/${payee.id}`, undefined, bankKey)).json.balance).toBe('30006');
    const caughtUp = Date.now() + 5000;
    while ((await b.call<{ balance: string }>('GET', `/v1/wallets/${payee.id}`, undefined, bankKey)).json.balance !== '30006' && Date.now() < caughtUp) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await b.call<{ balance: string }>('GET', `/v1/wallets/${payee.id}`, undefined, bankKey)).json.balance).toBe('30006');
    // The webhook registration moved with the ledger (it is kept in the database).
    expect((await next.call<{ url: string }>('GET', '/v1/webhook', undefined, bankKey)).json.url).toBe('http://127.0.0.1:9/hook');
  }, 90_000);
});
