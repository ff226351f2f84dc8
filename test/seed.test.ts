// Proves `tengri start --seed pilot` as a user would run it: the demonstration network has the
// pilot's banks (Kazpost among them), government bodies, school canteens and a few hundred wallets
// with money and payments; its credentials file is private and every key in it works; the ledger
// it builds holds every invariant and passes `tengri verify`; and seeding happens only on a ledger
// with no banks (never again on a restart, never without --seed).
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase64url, encodeBase64url } from '../src/crypto/base64url.ts';
import { keyPairFromSeed } from '../src/crypto/ed25519.ts';
import { signPayment } from '../src/crypto/payment-signature.ts';
import { client, type Client } from './support/platform.ts';
import { runCli, spawnServer, temporaryDirectory, type ServerProcess } from './support/servers.ts';

interface Credentials {
  readonly warning: string;
  readonly banks: Record<string, { apiKey: string; bic: string }>;
  readonly participants: Record<string, { role: string; apiKey: string; wallet: string; bank: string }>;
  readonly wallets: { id: string; bank: string; kind: string; tier: number; publicKey: string; privateKey: string }[];
}

interface Bank {
  readonly id: string;
  readonly name: string;
  readonly bic: string;
  readonly status: string;
  readonly issued: string;
  readonly wallets: number;
}

interface Participant {
  readonly id: string;
  readonly role: string;
  readonly name: string;
  readonly wallet: string | null;
  readonly bank: string | null;
}

interface Wallet {
  readonly id: string;
  readonly bank: string;
  readonly kind: string;
  readonly tier: number;
  readonly status: string;
  readonly balance: string;
  readonly publicKey: string;
  readonly lastSequence: number;
}

const directories: string[] = [];
const running: ServerProcess[] = [];

afterAll(async () => {
  for (const server of running.splice(0)) await stop(server);
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function fresh(): string {
  const directory = temporaryDirectory('tengri-seed-');
  directories.push(directory);
  return directory;
}

async function start(directory: string, seed: boolean): Promise<{ server: ServerProcess; http: Client }> {
  const server = await spawnServer(directory, seed ? ['--seed', 'pilot'] : []);
  running.push(server);
  return { server, http: client(server.url) };
}

async function stop(server: ServerProcess): Promise<void> {
  const index = running.indexOf(server);
  if (index >= 0) running.splice(index, 1);
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  const code = await server.exited;
  clearTimeout(timer);
  expect(code, server.stderr()).toBe(0);
}

async function get<T>(http: Client, path: string, token?: string): Promise<T> {
  const response = await http.call<T>('GET', path, undefined, token);
  expect(response.status, `GET ${path}: ${JSON.stringify(response.json)}`).toBe(200);
  return response.json;
}

/** Every item of a cursor-paginated list. */
async function all<T>(http: Client, path: string, field: string, token?: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Record<string, unknown> = await get(http, `${path}?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`, token);
    items.push(...(page[field] as T[]));
    cursor = page.nextCursor as string | null;
  } while (cursor !== null);
  return items;
}

interface Counts {
  readonly banks: string[];
  readonly participants: number;
  readonly wallets: number;
  readonly paymentsSent: number;
  readonly events: Record<string, number>;
}

async function counts(http: Client): Promise<Counts> {
  const banks = (await get<{ banks: Bank[] }>(http, '/v1/banks')).banks;
  const events: Record<string, number> = {};
  let paymentsSent = 0;
  for (const bank of banks) {
    let after = 0;
    for (;;) {
      const next = await get<{ events: { seq: number; type: string }[]; last: number }>(http, `/v1/events?bank=${bank.id}&limit=1000&after=${after}`);
      events[bank.id] = next.last;
      if (next.events.length === 0) break;
      paymentsSent += next.events.filter((e) => e.type === 'payment.sent').length;
      after = next.events[next.events.length - 1]!.seq;
    }
  }
  return {
    banks: banks.map((b) => b.id).sort(),
    participants: (await all(http, '/v1/participants', 'participants')).length,
    wallets: (await all(http, '/v1/wallets', 'wallets')).length,
    paymentsSent,
    events,
  };
}

describe('tengri start --seed pilot', () => {
  const directory = fresh();
  let server: ServerProcess;
  let http: Client;
  let credentials: Credentials;
  let credentialsText: string;
  let seeded: Counts;

  beforeAll(async () => {
    ({ server, http } = await start(directory, true));
    credentialsText = readFileSync(join(directory, 'pilot-credentials.json'), 'utf8');
    credentials = JSON.parse(credentialsText) as Credentials;
  });

  it('creates the pilot network: five banks with Kazpost, government bodies, canteens, 300+ wallets, 200 payments', async () => {
    const banks = (await get<{ banks: Bank[] }>(http, '/v1/banks')).banks;
    expect(banks.map((b) => b.id).sort()).toEqual(['bereke', 'freedom', 'halyk', 'kaspi', 'kazpost']);
    expect(banks.find((b) => b.id === 'kazpost')).toMatchObject({ name: 'Kazpost', status: 'active' });
    for (const bank of banks) {
      expect(bank.bic).toMatch(/^[A-Z]{6}[A-Z0-9]{2}$/);
      expect(BigInt(bank.issued)).toBeGreaterThan(0n);
      expect(bank.wallets).toBeGreaterThan(0);
    }

    const participants = await all<Participant>(http, '/v1/participants', 'participants');
    const byId = new Map(participants.map((p) => [p.id, p]));
    expect(participants.filter((p) => p.role === 'bank')).toHaveLength(5);
    expect(byId.get('tax-authority')).toMatchObject({ role: 'government', name: 'State Revenue Committee' });
    expect(byId.get('astana-akimat')).toMatchObject({ role: 'government' });
    expect(byId.get('astana-akimat')!.name).toMatch(/city administration/i);
    const canteens = participants.filter((p) => p.role === 'merchant' && /canteen/i.test(p.name));
    expect(canteens.length).toBeGreaterThanOrEqual(2);
    expect(participants.filter((p) => p.role === 'auditor')).toHaveLength(1);
    expect(participants.filter((p) => p.role === 'regulator')).toHaveLength(1);
    for (const actor of participants.filter((p) => p.role === 'merchant' || p.role === 'government')) {
      expect(actor.wallet, actor.id).not.toBeNull();
      expect(actor.bank, actor.id).not.toBeNull();
    }

    const wallets = await all<Wallet>(http, '/v1/wallets', 'wallets');
    expect(wallets.length).toBeGreaterThanOrEqual(300);
    expect(new Set(wallets.map((w) => w.id)).size).toBe(wallets.length);
    expect(wallets.length).toBe(banks.reduce((sum, b) => sum + b.wallets, 0));
    expect(wallets.filter((w) => w.kind === 'individual').length).toBeGreaterThanOrEqual(300);
    expect(new Set(wallets.map((w) => w.tier))).toEqual(new Set([0, 1, 2]));
    expect(wallets.every((w) => w.status === 'active')).toBe(true);
    const funded = wallets.filter((w) => w.kind === 'individual' && BigInt(w.balance) > 0n);
    expect(funded.length).toBeGreaterThanOrEqual(300);
    // The canteens took payments.
    for (const canteen of canteens) {
      const wallet = wallets.find((w) => w.id === canteen.wallet)!;
      expect(wallet.kind).toBe('merchant');
    }

    seeded = await counts(http);
    expect(seeded.paymentsSent).toBe(200);
    expect(seeded.participants).toBe(participants.length);
    expect(seeded.wallets).toBe(wallets.length);
    expect((await get<{ status: string }>(http, '/v1/payments/pilot-payment-1')).status).toBe('completed');
  });

  it('writes the credentials file with mode 0600, and its keys work', async () => {
    const path = join(directory, 'pilot-credentials.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Object.keys(credentials.banks).sort()).toEqual(['bereke', 'freedom', 'halyk', 'kaspi', 'kazpost']);
    expect(credentials.warning).toMatch(/never/i);
    const wallets = await all<Wallet>(http, '/v1/wallets', 'wallets');
    expect(credentials.wallets.map((w) => w.id).sort()).toEqual(wallets.map((w) => w.id).sort());

    // A bank's key reads its own wallets and only them.
    for (const [bank, { apiKey }] of Object.entries(credentials.banks)) {
      const own = await all<Wallet>(http, '/v1/wallets', 'wallets', apiKey);
      expect(own.length, bank).toBe(wallets.filter((w) => w.bank === bank).length);
      expect(own.every((w) => w.bank === bank), bank).toBe(true);
      expect((await get<Bank>(http, `/v1/banks/${bank}`, apiKey)).id).toBe(bank);
    }
    const kazpostKey = credentials.banks.kazpost!.apiKey;
    expect((await http.call('GET', '/v1/banks/halyk', undefined, kazpostKey)).status).toBe(404);
    const halykWallet = wallets.find((w) => w.bank === 'halyk')!;
    expect((await http.call('GET', `/v1/wallets/${halykWallet.id}`, undefined, kazpostKey)).status).toBe(404);

    // Every wallet's private key is the pair of the public key the platform holds.
    const publicKeys = new Map(wallets.map((w) => [w.id, w.publicKey]));
    for (const wallet of credentials.wallets) {
      const pair = keyPairFromSeed(decodeBase64url(wallet.privateKey, 32));
      expect(encodeBase64url(pair.publicKey), wallet.id).toBe(publicKeys.get(wallet.id));
    }

    // A holder signs a payment to a school canteen with the key from the file, and it goes through.
    const canteen = credentials.participants['canteen-school-88']!;
    const payer = credentials.wallets.find((w) => w.kind === 'individual' && w.bank === 'kazpost' && w.tier === 2)!;
    const before = await get<Wallet>(http, `/v1/wallets/${payer.id}`, kazpostKey);
    const canteenBefore = await get<Wallet>(http, `/v1/wallets/${canteen.wallet}`, canteen.apiKey);
    const payment: Record<string, unknown> = { id: 'seed-test-lunch', from: payer.id, to: canteen.wallet, amount: '45000', sequence: before.lastSequence + 1, reference: 'lunch' };
    payment.signature = signPayment(payment, decodeBase64url(payer.privateKey, 32));
    const paid = await http.call('POST', '/v1/payments', payment, null);
    expect(paid.status, JSON.stringify(paid.json)).toBe(201);
    expect(paid.json).toMatchObject({ status: 'completed', from: payer.id, to: canteen.wallet, amount: '45000' });
    expect(BigInt((await get<Wallet>(http, `/v1/wallets/${payer.id}`, kazpostKey)).balance)).toBe(BigInt(before.balance) - 45_000n);
    // The canteen's own key reads its wallet and sees the money.
    expect(BigInt((await get<Wallet>(http, `/v1/wallets/${canteen.wallet}`, canteen.apiKey)).balance)).toBe(BigInt(canteenBefore.balance) + 45_000n);
    // A wrong key does not sign for the wallet.
    const other = credentials.wallets.find((w) => w.id !== payer.id)!;
    const forged: Record<string, unknown> = { ...payment, id: 'seed-test-forged', sequence: before.lastSequence + 2 };
    delete forged.signature;
    forged.signature = signPayment(forged, decodeBase64url(other.privateKey, 32));
    expect((await http.call('POST', '/v1/payments', forged, null)).json).toMatchObject({ code: 'signature_invalid' });

    // The other participants' keys work for their roles.
    const tax = credentials.participants['tax-authority']!;
    expect(tax.role).toBe('government');
    expect((await get<Wallet>(http, `/v1/wallets/${tax.wallet}`, tax.apiKey)).kind).toBe('government');
    const auditor = credentials.participants.auditor!;
    expect((await get<{ last: number }>(http, '/v1/events?bank=kazpost', auditor.apiKey)).last).toBeGreaterThan(0);
    const regulator = credentials.participants.regulator!;
    expect((await get<{ banks: Bank[] }>(http, '/v1/banks', regulator.apiKey)).banks).toHaveLength(5);
    expect((await http.call('GET', '/v1/banks', undefined, 'tk_not-a-real-key-at-all-000000')).status).toBe(401);
  });

  it('holds every invariant', async () => {
    const supply = await get<{ invariantsHold: boolean; violations: string[]; assets: { asset: string; balancesSumToZero: boolean }[] }>(http, '/v1/supply');
    expect(supply.invariantsHold).toBe(true);
    expect(supply.violations).toEqual([]);
    expect(supply.assets.every((a) => a.balancesSumToZero)).toBe(true);
    expect(supply.assets.map((a) => a.asset)).toContain('KZT');
  });

  it('seeds nothing more when started again with --seed pilot, and keeps the credentials', { timeout: 60_000 }, async () => {
    const before = await counts(http);
    await stop(server);
    ({ server, http } = await start(directory, true));
    const after = await counts(http);
    expect(after).toEqual(before);
    expect(after.banks).toHaveLength(5);
    expect(after.wallets).toBe(seeded.wallets);
    expect(after.participants).toBe(seeded.participants);
    expect(after.paymentsSent).toBe(seeded.paymentsSent + 1); // the test's own payment
    expect(readFileSync(join(directory, 'pilot-credentials.json'), 'utf8')).toBe(credentialsText);
    // The keys from the first start still work.
    expect((await get<Bank>(http, '/v1/banks/kaspi', credentials.banks.kaspi!.apiKey)).id).toBe('kaspi');
    expect((await get<{ invariantsHold: boolean }>(http, '/v1/supply')).invariantsHold).toBe(true);
  });

  it('passes tengri verify', { timeout: 60_000 }, async () => {
    await stop(server);
    const report = await runCli(['verify', '--data', directory, '--json']);
    expect(report.code, report.stderr).toBe(0);
    const parsed = JSON.parse(report.stdout) as { ok: boolean; error: string | null; batches: number; accounts: number; banks: number; wallets: number };
    expect(parsed.ok).toBe(true);
    expect(parsed.error).toBeNull();
    expect(parsed.banks).toBe(5);
    expect(parsed.wallets).toBe(seeded.wallets);
    expect(parsed.batches).toBeGreaterThan(0);
    // Two accounts per wallet, three per bank, and the central bank's.
    expect(parsed.accounts).toBeGreaterThanOrEqual(2 * seeded.wallets + 3 * 5);
  });
});

describe('tengri start without --seed', () => {
  it('seeds nothing; and --seed pilot later leaves a ledger that has banks alone', { timeout: 90_000 }, async () => {
    const directory = fresh();
    let { server, http } = await start(directory, false);
    expect(await get(http, '/v1/banks')).toEqual({ banks: [] });
    expect(await get(http, '/v1/wallets')).toMatchObject({ wallets: [] });
    expect((await get<{ participants: unknown[] }>(http, '/v1/participants')).participants).toEqual([]);
    expect(() => statSync(join(directory, 'pilot-credentials.json'))).toThrow();

    const onboarded = await http.call('POST', '/v1/banks', { id: 'solo', name: 'Solo Bank', bic: 'SOLOKZKA' });
    expect(onboarded.status).toBe(201);
    await stop(server);
    ({ server, http } = await start(directory, true));
    expect((await get<{ banks: Bank[] }>(http, '/v1/banks')).banks.map((b) => b.id)).toEqual(['solo']);
    expect(await get(http, '/v1/wallets')).toMatchObject({ wallets: [] });
    expect(() => statSync(join(directory, 'pilot-credentials.json'))).toThrow();
    await stop(server);
  });
});
