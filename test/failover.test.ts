// Proves two `tengri start --db` processes on one PostgreSQL ledger behave as leader and standby:
// the standby serves reads and forwards writes to the leader; when the leader is killed with
// SIGKILL under a steady load of payments sent to the standby, the standby takes over within 5
// seconds with every acknowledged payment present exactly once; a stalled old leader that resumes
// cannot write (fencing) and exits; `tengri verify --db` passes on the database.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { signPayment } from '../src/crypto/payment-signature.ts';
import { client } from './support/platform.ts';
import { freshSchema, postgresUrl } from './support/postgres.ts';
import { removeScratchDirectories, runCli, scratchDirectory, watchTengri, type WatchedProcess } from './support/servers.ts';

const database = await postgresUrl('the fail-over test (test/failover.test.ts)');
let schema: { schema: string; drop(): Promise<void> };
const children: ChildProcess[] = [];

/** A `tengri start --db` process; `when('listening')` gives its URL as a replica, `when('leading')` once it writes. */
function start(): WatchedProcess {
  const started = watchTengri(['start', '--data', scratchDirectory(), '--port', '0', '--db', database.url, '--db-schema', schema.schema]);
  children.push(started.child);
  return started;
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

describe('leader and standby on one PostgreSQL ledger', () => {
  it('fails over within 5 s under load, loses no acknowledged payment, and fences a resumed old leader', async () => {
    const first = start();
    const leaderUrl = await first.when('leading');
    const leader = client(leaderUrl);
    const bank = await leader.call<{ apiKey: string }>('POST', '/v1/banks', { id: 'fo-bank', name: 'Failover bank', bic: 'FAILKZKA' });
    expect(bank.status).toBe(201);
    const bankKey = bank.json.apiKey;
    expect((await leader.call('POST', '/v1/banks/fo-bank/reserves', { amount: '100000000' })).status).toBe(201);
    expect((await leader.call('POST', '/v1/issuance', { amount: '50000000' }, bankKey)).status).toBe(201);
    const pair = generateKeyPair();
    const payer = await leader.call<{ id: string }>('POST', '/v1/wallets', { publicKey: encodeBase64url(pair.publicKey), kind: 'individual', tier: 2 }, bankKey);
    const payee = await leader.call<{ id: string }>('POST', '/v1/wallets', { publicKey: encodeBase64url(generateKeyPair().publicKey), kind: 'merchant', tier: 2 }, bankKey);
    expect((await leader.call('POST', `/v1/wallets/${payer.json.id}/bank-account/credit`, { amount: '10000000' }, bankKey)).status).toBe(200);
    expect((await leader.call('POST', `/v1/wallets/${payer.json.id}/fund`, { amount: '10000000' }, bankKey)).status).toBe(200);

    const second = start();
    const standbyUrl = await second.when('listening');
    const standby = client(standbyUrl);
    // The standby forwards a write to the leader, and a read sent to it right after sees it.
    const health = await standby.call<{ role: string; leader: string }>('GET', '/health', undefined, null);
    expect(health.json).toMatchObject({ role: 'replica', leader: leaderUrl });
    const forwarded = await standby.call('PUT', '/v1/tiers/0', { holdingLimit: '10000000', perPaymentLimit: '10000000', dailyLimit: '10000000' });
    expect(forwarded.status, JSON.stringify(forwarded.json)).toBe(200);
    expect(Number(forwarded.headers.get('tengri-journal-sequence'))).toBeGreaterThan(0);
    const tiers = await standby.call<{ tiers: { tier: number; holdingLimit: string }[] }>('GET', '/v1/tiers');
    expect(tiers.json.tiers.find((t) => t.tier === 0)?.holdingLimit).toBe('10000000');

    // A steady load of payments against whichever process leads; the leader dies in the middle.
    const acknowledged = new Set<string>();
    let sequence = 0;
    // Sent to the standby, which forwards them while the leader lives and serves them once it leads.
    const target = standbyUrl;
    let stopLoad = false;
    let killedAt = 0;
    let recoveredAt = 0;
    const load = (async () => {
      while (!stopLoad) {
        const payment = { id: `fo-${sequence + 1}`, from: payer.json.id, to: payee.json.id, amount: '100', sequence: sequence + 1 };
        const body = { ...payment, signature: signPayment(payment, pair.seed) };
        try {
          const response = await client(target).call('POST', '/v1/payments', body, null);
          if (response.status === 201 || response.status === 200) {
            acknowledged.add(payment.id);
            sequence++;
            if (killedAt > 0 && recoveredAt === 0) recoveredAt = Date.now();
          } else if (response.status === 503) {
            // leader_unreachable while the leader is dead and before the standby leads: retry the
            // same payment (same id and sequence), which is safe whether or not it was applied.
            await new Promise((resolve) => setTimeout(resolve, 50));
          } else {
            throw new Error(`payment answered ${response.status} ${JSON.stringify(response.json)}`);
          }
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('payment answered')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    while (acknowledged.size < 30) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    killedAt = Date.now();
    await second.when('leading');
    while (recoveredAt === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    while (acknowledged.size < 60) await new Promise((resolve) => setTimeout(resolve, 20));
    stopLoad = true;
    await load;
    process.stdout.write(`fail-over: payments answered again ${recoveredAt - killedAt} ms after SIGKILL of the leader\n`);
    expect(recoveredAt - killedAt).toBeLessThan(5000);

    // Every acknowledged payment is there exactly once (ids are unique; the sequence has no gap).
    const wallet = await standby.call<{ lastSequence: number; balance: string }>('GET', `/v1/wallets/${payer.json.id}`, undefined, bankKey);
    expect(wallet.json.lastSequence).toBe(sequence);
    expect(wallet.json.balance).toBe(String(10_000_000 - 100 * sequence));
    for (const id of acknowledged) expect((await standby.call('GET', `/v1/payments/${id}`, undefined, bankKey)).status, id).toBe(200);

    // A third process stands by; the new leader stalls (SIGSTOP), the third takes over, and the
    // resumed old leader can no longer write: it exits, and its last request is not applied.
    const third = start();
    const thirdUrl = await third.when('listening');
    second.child.kill('SIGSTOP');
    const takenOver = await third.when('leading');
    expect(takenOver).toBe(thirdUrl);
    const late = client(standbyUrl).call('POST', '/v1/banks', { id: 'late-bank', name: 'Late', bic: 'LATEKZKA' }).catch(() => null);
    second.child.kill('SIGCONT');
    expect(await second.exited).toBe(70);
    const lateAnswer = await late;
    expect(lateAnswer === null || lateAnswer.status !== 201).toBe(true);
    expect((await client(thirdUrl).call('GET', '/v1/banks/late-bank')).status).toBe(404);

    const verified = await runCli(['verify', '--db', database.url, '--db-schema', schema.schema, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, banks: 1, wallets: 2 });
  }, 90_000);
});
