// Proves signed payments over real HTTP on loopback: forged, tampered, replayed, expired, malformed,
// duplicate-key, unknown-field and rotated-key payments are refused with distinct codes and change
// nothing; refused payments do not use up their sequence; limits hold when 100 payments race (out
// of one wallet and into one wallet near its holding limit); payment requests, refunds, merchant
// conversion and the reverse waterfall move exact amounts; and a fast-check property shows that no
// mix of valid and invalid payments changes the digital tenge held in wallets and bank floats.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { signPayment } from '../src/crypto/payment-signature.ts';
import { onboardBank, openWallet, signedPayment, startPlatform, uniqueId, type Client, type Holder, type Response } from './support/platform.ts';
import { seededRandom } from './support/seeded-random.ts';
import { describeEachBackend } from './support/servers.ts';

type Server = Awaited<ReturnType<typeof startPlatform>>;
type Json = Record<string, unknown>;

/** Ledger time of every server here (those whose clock a test moves start here, or later): daily totals never roll over mid-test. */
const now = Date.parse('2030-06-15T12:00:00.000Z');
const fixedClock = (): number => now;

interface WalletJson {
  id: string;
  bank: string;
  kind: string;
  tier: number;
  status: string;
  balance: string;
  bankAccountBalance: string;
  holdingLimit: string;
  perPaymentLimit: string;
  dailyLimit: string;
  spentToday: string;
  lastSequence: number;
  publicKey: string;
  keyVersion: number;
  convertIncoming: boolean;
}

interface PaymentJson {
  id: string;
  status: string;
  from: string;
  to: string;
  amount: string;
  sequence: number;
  expiresAt: string | null;
  reference: string;
  request: string | null;
  refundOf: string | null;
  toWallet: string;
  toBankAccount: string;
  refunded: string;
  timestamp: string;
}

interface EventJson {
  seq: number;
  type: string;
  wallet: string | null;
  payment: string | null;
  amount: string | null;
  toBankAccount: string | null;
}

interface SupplyJson {
  invariantsHold: boolean;
  violations: string[];
  assets: { asset: string; inCirculation: string; invariantsHold: boolean; issuanceAccounts: { id: string; balance: string }[] }[];
}

interface Bank {
  readonly id: string;
  readonly key: string;
}

// ---- helpers ----------------------------------------------------------------------------------

let bicCounter = 0;
/** A bank with reserves and a large digital tenge float. */
async function newBank(http: Client, options: { reserves?: bigint; issue?: bigint } = { reserves: 10n ** 12n, issue: 10n ** 11n }): Promise<Bank> {
  const id = uniqueId('bank');
  bicCounter++;
  const key = await onboardBank(http, id, `TNGRKZ${bicCounter.toString(36).toUpperCase().padStart(2, '0')}`, options);
  return { id, key };
}

function postPayment(http: Client, body: Json | string): Promise<Response> {
  return http.call('POST', '/v1/payments', body, null);
}

function expectProblem(response: { status: number; json: unknown; headers: Headers }, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.json)).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.json).toMatchObject({ type: `urn:tengri:problem:${code}`, status, code });
}

function codeOf(response: Response): string {
  return response.status < 300 ? String(response.status) : String(response.json.code);
}

async function getWallet(http: Client, id: string): Promise<WalletJson> {
  const response = await http.call<WalletJson>('GET', `/v1/wallets/${id}`);
  expect(response.status).toBe(200);
  return response.json;
}

async function getPayment(http: Client, id: string): Promise<Response<PaymentJson>> {
  return http.call<PaymentJson>('GET', `/v1/payments/${id}`);
}

async function floatOf(http: Client, bank: string): Promise<bigint> {
  const response = await http.call<{ cbdcFloat: string }>('GET', `/v1/banks/${bank}`);
  expect(response.status).toBe(200);
  return BigInt(response.json.cbdcFloat);
}

async function supply(http: Client): Promise<SupplyJson> {
  const response = await http.call<SupplyJson>('GET', '/v1/supply');
  expect(response.status).toBe(200);
  return response.json;
}

function kztInCirculation(report: SupplyJson): bigint {
  return BigInt(report.assets.find((a) => a.asset === 'KZT')!.inCirculation);
}

/** Events of a bank after `after`, oldest first (commit order). */
async function eventsAfter(http: Client, bank: string, after: number): Promise<{ events: EventJson[]; last: number }> {
  const response = await http.call<{ events: EventJson[]; last: number }>('GET', `/v1/events?bank=${bank}&after=${after}&limit=1000`);
  expect(response.status).toBe(200);
  return response.json;
}

/** Digital tenge in every wallet and every bank float, and bank money in every linked account, summed from the API. */
async function holdings(http: Client): Promise<{ kzt: bigint; depositsByBank: Map<string, bigint>; moneyByBank: Map<string, bigint> }> {
  let kzt = 0n;
  const depositsByBank = new Map<string, bigint>();
  let cursor: string | null = null;
  do {
    const page: Response<{ wallets: WalletJson[]; nextCursor: string | null }> = await http.call<{ wallets: WalletJson[]; nextCursor: string | null }>('GET', `/v1/wallets?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(page.status).toBe(200);
    for (const w of page.json.wallets) {
      kzt += BigInt(w.balance);
      depositsByBank.set(w.bank, (depositsByBank.get(w.bank) ?? 0n) + BigInt(w.bankAccountBalance));
    }
    cursor = page.json.nextCursor;
  } while (cursor !== null);
  const banks = await http.call<{ banks: { id: string; cbdcFloat: string }[] }>('GET', '/v1/banks');
  const moneyByBank = new Map<string, bigint>();
  const money = await Promise.all(banks.json.banks.map((b) => http.call<{ balance: string }>('GET', `/v1/accounts/${encodeURIComponent(`bank:${b.id}:money`)}`)));
  for (const [i, b] of banks.json.banks.entries()) {
    kzt += BigInt(b.cbdcFloat);
    expect(money[i]!.status).toBe(200);
    moneyByBank.set(b.id, BigInt(money[i]!.json.balance));
  }
  return { kzt, depositsByBank, moneyByBank };
}

/** Digital tenge is conserved and every invariant holds: wallets + floats = issued, linked accounts = the banks' money issued. */
async function expectConserved(http: Client, issued: bigint): Promise<void> {
  const report = await supply(http);
  expect(report.violations).toEqual([]);
  expect(report.invariantsHold).toBe(true);
  expect(kztInCirculation(report)).toBe(issued);
  const { kzt, depositsByBank, moneyByBank } = await holdings(http);
  expect(kzt).toBe(issued);
  for (const [bank, money] of moneyByBank) expect(-money, `bank money of ${bank}`).toBe(depositsByBank.get(bank) ?? 0n);
}

interface Watch {
  readonly wallets: readonly string[];
  readonly banks: readonly string[];
}

/** Everything a payment could change, for the wallets and banks it involves. */
async function snapshot(http: Client, watch: Watch): Promise<Json> {
  const [wallets, banks, report] = await Promise.all([
    Promise.all(watch.wallets.map((id) => getWallet(http, id))),
    Promise.all(
      watch.banks.map(async (id) => {
        const [float, events] = await Promise.all([floatOf(http, id), http.call<{ last: number }>('GET', `/v1/events?bank=${id}&limit=1`)]);
        return { id, float: String(float), events: events.json.last };
      }),
    ),
    supply(http),
  ]);
  return {
    wallets: wallets.map((w) => ({
      id: w.id,
      status: w.status,
      balance: w.balance,
      bankAccountBalance: w.bankAccountBalance,
      lastSequence: w.lastSequence,
      spentToday: w.spentToday,
      keyVersion: w.keyVersion,
    })),
    banks,
    kzt: String(kztInCirculation(report)),
    invariantsHold: report.invariantsHold,
  };
}

/** Sends a payment that must be refused with `code`, and checks that it changed nothing and left no payment behind. */
async function expectRefused(http: Client, body: Json | string, status: number, code: string, watch: Watch, paymentIds: readonly string[] = []): Promise<void> {
  const before = await snapshot(http, watch);
  const response = await postPayment(http, body);
  expectProblem(response, status, code);
  expect(await snapshot(http, watch)).toEqual(before);
  for (const id of paymentIds) expectProblem(await getPayment(http, id), 404, 'payment_not_found');
}

/** The payment with its fields changed and signed again by `seed`. */
function resigned(payment: Json, seed: Uint8Array, changes: Json = {}): Json {
  const { signature: _, ...fields } = { ...payment, ...changes };
  return { ...fields, signature: signPayment(fields, seed) };
}

/** A new key pair for a wallet (rotation or recovery), as a holder that signs with it. */
function newKeyFor(holder: Holder): Holder {
  const pair = generateKeyPair();
  return { id: holder.id, publicKey: encodeBase64url(pair.publicKey), seed: pair.seed, sequence: holder.sequence };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function between(random: () => number, low: number, high: number): bigint {
  return BigInt(low + Math.floor(random() * (high - low + 1)));
}

interface RaceItem {
  readonly body: Json;
  readonly amount: bigint;
  readonly sequence: number;
  readonly response: Response;
}

/**
 * Checks racing payments from one wallet against a serial model. Successes must have committed in
 * sequence order (each raises lastSequence), so replaying them in that order must accept every one;
 * and each refused payment must carry the code the model gives at some point of that history
 * (before the first success, between two, or after the last). Returns the model's final state.
 */
function checkAgainstModel<S>(items: readonly RaceItem[], initial: S, step: (state: S, item: RaceItem) => { code: string } | { next: S }): { final: S; successes: RaceItem[] } {
  const successes = items.filter((i) => i.response.status === 201).sort((a, b) => a.sequence - b.sequence);
  const states = [initial];
  let state = initial;
  for (const item of successes) {
    const outcome = step(state, item);
    expect(outcome, `success ${item.body.id} seq ${item.sequence} amount ${item.amount} from ${JSON.stringify(state, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`).toHaveProperty('next');
    state = (outcome as { next: S }).next;
    states.push(state);
  }
  for (const item of items) {
    if (item.response.status === 201) continue;
    const code = codeOf(item.response);
    const possible = new Set(states.map((s) => step(s, item)).map((o) => ('code' in o ? o.code : 'success')));
    expect([...possible], `refused ${item.body.id} seq ${item.sequence} amount ${item.amount} with ${code}`).toContain(code);
  }
  return { final: state, successes };
}

interface PayerState {
  readonly balance: bigint;
  readonly spent: bigint;
  readonly last: number;
}

/** The platform's checks for an ordinary payment, in its order of precedence. */
function payerStep(perPayment: bigint, daily: bigint) {
  return (s: PayerState, item: RaceItem): { code: string } | { next: PayerState } => {
    if (item.sequence <= s.last) return { code: 'sequence_replayed' };
    if (item.amount > perPayment) return { code: 'per_payment_limit_exceeded' };
    if (s.spent + item.amount > daily) return { code: 'daily_limit_exceeded' };
    if (s.balance < item.amount) return { code: 'insufficient_funds' };
    return { next: { balance: s.balance - item.amount, spent: s.spent + item.amount, last: item.sequence } };
  };
}

async function setTier(http: Client, tier: number, holdingLimit: bigint, perPaymentLimit: bigint, dailyLimit: bigint): Promise<void> {
  const response = await http.call('PUT', `/v1/tiers/${tier}`, { holdingLimit: String(holdingLimit), perPaymentLimit: String(perPaymentLimit), dailyLimit: String(dailyLimit) });
  expect(response.status, JSON.stringify(response.json)).toBe(200);
}

// Every suite below runs once on each journal backend: SQLite, and PostgreSQL on a real server.
describeEachBackend((backend) => {
  // ---- refusals -------------------------------------------------------------------------------

  describe('refused payments have distinct codes and change nothing', () => {
    let server: Server;
    let bank: Bank;
    let attacker: Holder;

    beforeAll(async () => {
      server = await startPlatform({ backend, clock: fixedClock });
      bank = await newBank(server);
      attacker = await openWallet(server, bank.key, { fund: 1_000n });
    });

    afterAll(async () => {
      await server?.close();
    });

    /** A funded payer and an empty payee at `bank`, and what a payment between them can touch. */
    async function parties(fund = 100_000n): Promise<{ payer: Holder; payee: Holder; watch: Watch }> {
      const payer = await openWallet(server, bank.key, { fund });
      const payee = await openWallet(server, bank.key);
      return { payer, payee, watch: { wallets: [payer.id, payee.id, attacker.id], banks: [bank.id] } };
    }

    it('commits a valid payment once: its exact resubmission, in any key order or concurrently, answers 200 with the original and changes nothing', async () => {
      const { payer, payee, watch } = await parties();
      const body = signedPayment(payer, { to: payee.id, amount: 2_500n, reference: 'coffee ☕ «Астана»', expiresAt: '2030-06-15T13:00:00Z' });
      const first = await postPayment(server, body);
      expect(first.status, JSON.stringify(first.json)).toBe(201);
      expect(first.json).toMatchObject({
        id: body.id,
        status: 'completed',
        from: payer.id,
        to: payee.id,
        amount: '2500',
        sequence: 1,
        expiresAt: '2030-06-15T13:00:00.000Z',
        reference: 'coffee ☕ «Астана»',
        request: null,
        refundOf: null,
        toWallet: '2500',
        toBankAccount: '0',
        refunded: '0',
      });
      const [p, q] = [await getWallet(server, payer.id), await getWallet(server, payee.id)];
      expect([p.balance, p.lastSequence, p.spentToday, q.balance]).toEqual(['97500', 1, '2500', '2500']);

      const committed = await snapshot(server, watch);
      const again = await postPayment(server, body);
      expect(again.status).toBe(200);
      expect(again.json).toEqual(first.json);
      // Canonical JSON: the same payment with its keys in another order and other whitespace.
      const reordered = JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 3);
      const third = await postPayment(server, reordered);
      expect(third.status).toBe(200);
      expect(third.json).toEqual(first.json);
      const concurrent = await Promise.all(Array.from({ length: 10 }, () => postPayment(server, body)));
      for (const response of concurrent) {
        expect(response.status).toBe(200);
        expect(response.json).toEqual(first.json);
      }
      expect(await snapshot(server, watch)).toEqual(committed);
      const read = await getPayment(server, String(body.id));
      expect(read.status).toBe(200);
      expect(read.json).toEqual(first.json);
    });

    it('refuses forged payments (signed by another key, or carrying another payment\'s signature) with signature_invalid', async () => {
      const { payer, payee, watch } = await parties();
      const genuine = signedPayment(payer, { to: payee.id, amount: 1_000n, sequence: 1 });
      const otherPayment = signedPayment(payer, { to: payee.id, amount: 1n, sequence: 1 });
      const forgeries: Json[] = [
        resigned(genuine, attacker.seed),
        resigned(genuine, attacker.seed, { to: attacker.id, amount: '100000' }),
        { ...genuine, signature: otherPayment.signature },
        { ...genuine, signature: 'A'.repeat(86) },
        { ...genuine, signature: String(genuine.signature).slice(0, 40) + (String(genuine.signature)[40] === 'B' ? 'C' : 'B') + String(genuine.signature).slice(41) },
      ];
      for (const forged of forgeries) await expectRefused(server, forged, 403, 'signature_invalid', watch, [String(genuine.id), String(otherPayment.id)]);
      // None of them used up the id or the sequence: the genuine payment goes through.
      const response = await postPayment(server, genuine);
      expect(response.status).toBe(201);
      expect((await getWallet(server, payee.id)).balance).toBe('1000');
      expect((await getWallet(server, attacker.id)).balance).toBe('1000');
    });

    it('refuses a payment changed in any field after signing with signature_invalid', async () => {
      const { payer, payee, watch } = await parties();
      const other = await openWallet(server, bank.key, { fund: 100_000n });
      const withReference = signedPayment(payer, { to: payee.id, amount: 1_000n, sequence: 1, reference: 'invoice 7' });
      const { reference: _, ...withoutReference } = withReference;
      const tampered: [string, Json][] = [
        ['amount raised', { ...withReference, amount: '100000' }],
        ['amount lowered', { ...withReference, amount: '1' }],
        ['payee', { ...withReference, to: attacker.id }],
        ['payer', { ...withReference, from: other.id }],
        ['sequence', { ...withReference, sequence: 2 }],
        ['id', { ...withReference, id: uniqueId('tampered') }],
        ['reference changed', { ...withReference, reference: 'invoice 8' }],
        ['reference removed', withoutReference],
        ['expiresAt added', { ...withReference, expiresAt: '2030-12-31T00:00:00Z' }],
        ['request added', { ...withReference, request: 'pr-1' }],
        ['refundOf added', { ...withReference, refundOf: 'pay-1' }],
      ];
      const fullWatch = { wallets: [...watch.wallets, other.id], banks: watch.banks };
      for (const [what, body] of tampered) {
        const before = await snapshot(server, fullWatch);
        const response = await postPayment(server, body);
        expect(codeOf(response), what).toBe('signature_invalid');
        expectProblem(response, 403, 'signature_invalid');
        expect(await snapshot(server, fullWatch), what).toEqual(before);
        expectProblem(await getPayment(server, String(body.id)), 404, 'payment_not_found');
      }
      // An amount has one text: with a leading zero it is not an amount at all.
      await expectRefused(server, { ...withReference, amount: '01000' }, 400, 'validation_failed', fullWatch, [String(withReference.id)]);
      const response = await postPayment(server, withReference);
      expect(response.status).toBe(201);
      expect(response.json).toMatchObject({ amount: '1000', to: payee.id, reference: 'invoice 7', sequence: 1 });
    });

    it('answers an exact replay 200 and refuses a new payment with the same or a lower sequence (sequence_replayed) or a reused id (exists_with_different_fields)', async () => {
      const { payer, payee, watch } = await parties();
      const committed = signedPayment(payer, { to: payee.id, amount: 700n, sequence: 3 });
      expect((await postPayment(server, committed)).status).toBe(201);
      const state = await snapshot(server, watch);
      const replay = await postPayment(server, committed);
      expect(replay.status).toBe(200);
      expect(await snapshot(server, watch)).toEqual(state);

      for (const sequence of [3, 2, 1]) {
        const replayed = signedPayment(payer, { to: payee.id, amount: 700n, sequence });
        await expectRefused(server, replayed, 409, 'sequence_replayed', watch, [String(replayed.id)]);
      }
      // A gap is fine, but the same id with other fields is not the same payment.
      const reusedId = signedPayment(payer, { id: String(committed.id), to: payee.id, amount: 701n, sequence: 4 });
      await expectRefused(server, reusedId, 409, 'exists_with_different_fields', watch);
      expect((await getPayment(server, String(committed.id))).json).toMatchObject({ amount: '700', sequence: 3 });
      const next = signedPayment(payer, { to: payee.id, amount: 701n, sequence: 4 });
      expect((await postPayment(server, next)).status).toBe(201);
      expect((await getWallet(server, payer.id)).lastSequence).toBe(4);
    });

    it('refuses an expired payment with payment_expired; a payment expiring at this very instant is still accepted', async () => {
      const { payer, payee, watch } = await parties();
      for (const expiresAt of ['2030-06-15T11:59:59.999Z', '2030-06-15T11:00:00Z', '2001-01-01T00:00:00Z']) {
        const expired = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1, expiresAt });
        await expectRefused(server, expired, 422, 'payment_expired', watch, [String(expired.id)]);
      }
      // Not an RFC 3339 UTC instant: refused by validation before anything else.
      for (const expiresAt of ['2030-02-30T00:00:00Z', '2030-06-15T18:00:00+06:00', '2030-06-15 12:00:00Z']) {
        const invalid = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1, expiresAt });
        await expectRefused(server, invalid, 400, 'validation_failed', watch, [String(invalid.id)]);
      }
      // Not asserted (a known bug): expiresAt "1970-01-01T00:00:00Z" parses to 0, which the platform
      // reads as "no expiry", so that long-expired payment is accepted (payment requests alike).
      const atTheInstant = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1, expiresAt: '2030-06-15T12:00:00.000Z' });
      const response = await postPayment(server, atTheInstant);
      expect(response.status, JSON.stringify(response.json)).toBe(201);
      expect(response.json).toMatchObject({ expiresAt: '2030-06-15T12:00:00.000Z', sequence: 1 });
    });

    it('refuses a malformed signature with signature_malformed (including non-canonical base64url), and a missing or non-string one by validation', async () => {
      const { payer, payee, watch } = await parties();
      const genuine = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1 });
      const signature = String(genuine.signature);
      expect(signature).toHaveLength(86);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // 64 bytes leave 4 unused bits in the last character; setting one gives a second text for the same bytes.
      const last = alphabet.indexOf(signature[85]!);
      expect(last % 16).toBe(0);
      const raw = Buffer.from(signature, 'base64url');
      const malformed = [
        '',
        'abc',
        signature.slice(0, 85),
        `${signature}A`,
        `${signature}==`,
        `+${signature.slice(1)}`,
        `${signature.slice(0, 85)}${alphabet[last + 1]}`,
        raw.toString('base64'),
        raw.subarray(0, 63).toString('base64url'),
        Buffer.concat([raw, Buffer.from([0])]).toString('base64url'),
        `${signature.slice(0, 42)} ${signature.slice(43)}`,
      ];
      for (const bad of malformed) await expectRefused(server, { ...genuine, signature: bad }, 400, 'signature_malformed', watch, [String(genuine.id)]);
      const { signature: _, ...unsigned } = genuine;
      for (const body of [unsigned, { ...genuine, signature: 12 }, { ...genuine, signature: null }, { ...genuine, signature: [signature] }]) {
        await expectRefused(server, body, 400, 'validation_failed', watch, [String(genuine.id)]);
      }
      expect((await postPayment(server, genuine)).status).toBe(201);
    });

    it('refuses a body with a repeated key (json_duplicate_key), whichever copy the signature covers', async () => {
      const { payer, payee, watch } = await parties();
      const genuine = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1 });
      const text = JSON.stringify(genuine);
      const bodies = [
        // JSON.parse keeps the last copy, which is the signed one: without the check this would verify.
        text.replace('{', '{"amount":"99999",'),
        text.replace('}', ',"amount":"99999"}'),
        text.replace('{', '{"amo\\u0075nt":"99999",'),
        text.replace('{', `{"signature":"${'A'.repeat(86)}",`),
        text.replace('{', `{"to":"${attacker.id}",`),
      ];
      for (const body of bodies) await expectRefused(server, body, 400, 'json_duplicate_key', watch, [String(genuine.id)]);
      const response = await postPayment(server, text);
      expect(response.status).toBe(201);
      expect(response.json).toMatchObject({ amount: '100', to: payee.id });
    });

    it('refuses an unknown field, signed or added afterwards, by validation', async () => {
      const { payer, payee, watch } = await parties();
      const genuine = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1 });
      const signedWithExtra = resigned(genuine, payer.seed, { memo: 'hello' });
      const addedAfter = { ...genuine, note: 'x' };
      for (const body of [signedWithExtra, addedAfter, { ...genuine, signature2: genuine.signature }]) {
        await expectRefused(server, body, 400, 'validation_failed', watch, [String(genuine.id)]);
      }
      expect((await postPayment(server, genuine)).status).toBe(201);
    });

    it('refuses a payment signed with a rotated-out key (also an exact resubmission of an earlier one) and accepts the new key', async () => {
      const { payer: holder, payee, watch } = await parties();
      const before = signedPayment(holder, { to: payee.id, amount: 1_000n, sequence: 1 });
      expect((await postPayment(server, before)).status).toBe(201);

      const rotated = newKeyFor(holder);
      const rotation = await server.call<WalletJson>('POST', `/v1/wallets/${holder.id}/key`, { publicKey: rotated.publicKey, reason: 'rotation' }, bank.key);
      expect(rotation.status, JSON.stringify(rotation.json)).toBe(200);
      expect(rotation.json).toMatchObject({ publicKey: rotated.publicKey, keyVersion: 2, balance: '99000' });

      const withOldKey = signedPayment(holder, { to: payee.id, amount: 1_000n, sequence: 2 });
      await expectRefused(server, withOldKey, 403, 'signature_invalid', watch, [String(withOldKey.id)]);
      // The committed payment stays committed, but an exact resubmission no longer verifies.
      await expectRefused(server, before, 403, 'signature_invalid', watch);
      expect((await getPayment(server, String(before.id))).status).toBe(200);

      const withNewKey = signedPayment(rotated, { to: payee.id, amount: 1_000n, sequence: 2 });
      expect((await postPayment(server, withNewKey)).status).toBe(201);

      const recovered = newKeyFor(rotated);
      const recovery = await server.call<WalletJson>('POST', `/v1/wallets/${holder.id}/key`, { publicKey: recovered.publicKey, reason: 'recovery' }, bank.key);
      expect(recovery.json).toMatchObject({ keyVersion: 3 });
      for (const old of [holder, rotated]) {
        const stale = signedPayment(old, { to: payee.id, amount: 1n, sequence: 3 });
        await expectRefused(server, stale, 403, 'signature_invalid', watch, [String(stale.id)]);
      }
      expect((await postPayment(server, signedPayment(recovered, { to: payee.id, amount: 1n, sequence: 3 }))).status).toBe(201);
      expect(await getWallet(server, holder.id)).toMatchObject({ balance: '97999', lastSequence: 3, keyVersion: 3 });
    });

    it('refuses payments from or to frozen wallets, suspended banks, unknown or same wallets, over the limits or funds, each with its own code', async () => {
      const payerBank = await newBank(server);
      const payeeBank = await newBank(server);
      const payer = await openWallet(server, payerBank.key, { fund: 10_000n });
      const payee = await openWallet(server, payeeBank.key);
      const watch: Watch = { wallets: [payer.id, payee.id], banks: [payerBank.id, payeeBank.id] };
      const attempt = (fields: { to?: string; amount?: bigint } = {}): Json => signedPayment(payer, { to: fields.to ?? payee.id, amount: fields.amount ?? 100n, sequence: 1 });
      const toggle = async (path: string, token: string | undefined): Promise<void> => {
        const response = await server.call('POST', path, {}, token);
        expect(response.status, `${path}: ${JSON.stringify(response.json)}`).toBe(200);
      };

      await toggle(`/v1/wallets/${payer.id}/freeze`, payerBank.key);
      await expectRefused(server, attempt(), 409, 'wallet_frozen', watch);
      await toggle(`/v1/wallets/${payer.id}/unfreeze`, payerBank.key);
      await toggle(`/v1/wallets/${payee.id}/freeze`, payeeBank.key);
      await expectRefused(server, attempt(), 422, 'payee_not_active', watch);
      await toggle(`/v1/wallets/${payee.id}/unfreeze`, payeeBank.key);
      await toggle(`/v1/banks/${payerBank.id}/suspend`, undefined);
      await expectRefused(server, attempt(), 409, 'bank_suspended', watch);
      await toggle(`/v1/banks/${payerBank.id}/reinstate`, undefined);
      await toggle(`/v1/banks/${payeeBank.id}/suspend`, undefined);
      await expectRefused(server, attempt(), 422, 'payee_bank_suspended', watch);
      await toggle(`/v1/banks/${payeeBank.id}/reinstate`, undefined);

      await expectRefused(server, attempt({ to: 'w_nosuchwallet0000' }), 422, 'payee_not_found', watch);
      await expectRefused(server, attempt({ to: payer.id }), 422, 'payee_is_payer', watch);
      await expectRefused(server, resigned(attempt(), payer.seed, { from: 'w_nosuchwallet0000' }), 403, 'signature_invalid', watch);
      await expectRefused(server, attempt({ amount: 0n }), 422, 'amount_must_be_positive', watch);
      await expectRefused(server, attempt({ amount: 9_223_372_036_854_775_808n }), 422, 'amount_exceeds_maximum', watch);
      await expectRefused(server, attempt({ amount: 200_000_001n }), 422, 'per_payment_limit_exceeded', watch);
      await expectRefused(server, attempt({ amount: 10_001n }), 422, 'insufficient_funds', watch);
      const accepted = await postPayment(server, attempt({ amount: 10_000n }));
      expect(accepted.status).toBe(201);
      expect((await getWallet(server, payee.id)).balance).toBe('10000');
    });
  });

  describe('a refused payment does not use up its sequence or its id', () => {
    let server: Server;
    let bank: Bank;

    beforeAll(async () => {
      server = await startPlatform({ backend, clock: fixedClock });
      bank = await newBank(server);
    });

    afterAll(async () => {
      await server?.close();
    });

    it('the same sequence succeeds with a new id after a refusal, and the refused id can be used again', async () => {
      const payer = await openWallet(server, bank.key, { fund: 1_000n });
      const payee = await openWallet(server, bank.key);
      const watch: Watch = { wallets: [payer.id, payee.id], banks: [bank.id] };
      const refusedId = uniqueId('refused');
      const tooMuch = signedPayment(payer, { id: refusedId, to: payee.id, amount: 5_000n, sequence: 5 });
      await expectRefused(server, tooMuch, 422, 'insufficient_funds', watch, [refusedId]);
      expect((await getWallet(server, payer.id)).lastSequence).toBe(0);

      const overLimit = signedPayment(payer, { to: payee.id, amount: 200_000_001n, sequence: 5 });
      await expectRefused(server, overLimit, 422, 'per_payment_limit_exceeded', watch, [String(overLimit.id)]);

      const accepted = signedPayment(payer, { to: payee.id, amount: 500n, sequence: 5 });
      expect((await postPayment(server, accepted)).status).toBe(201);
      expect(await getWallet(server, payer.id)).toMatchObject({ lastSequence: 5, balance: '500', spentToday: '500' });

      // The refused payment was never recorded: sent again it is now a replay, not an idempotent retry.
      await expectRefused(server, tooMuch, 409, 'sequence_replayed', watch, [refusedId]);
      const reuse = signedPayment(payer, { id: refusedId, to: payee.id, amount: 100n, sequence: 6 });
      expect((await postPayment(server, reuse)).status).toBe(201);
      expect(await getWallet(server, payer.id)).toMatchObject({ lastSequence: 6, balance: '400', spentToday: '600' });
      expect((await getWallet(server, payee.id)).balance).toBe('600');
    });
  });

  // ---- races ----------------------------------------------------------------------------------

  describe('limits hold when payments race', () => {
    let server: Server;
    let bankA: Bank;
    let bankB: Bank;
    const issued = 2n * 10n ** 11n;
    // Tier 0: small per-payment and daily limits. Tier 1: a small holding limit.
    const tier0 = { holding: 100_000n, perPayment: 1_000n, daily: 3_000n };
    const tier1 = { holding: 100_000n, perPayment: 50_000n, daily: 200_000n };

    beforeAll(async () => {
      server = await startPlatform({ backend, clock: fixedClock });
      bankA = await newBank(server);
      bankB = await newBank(server);
      await setTier(server, 0, tier0.holding, tier0.perPayment, tier0.daily);
      await setTier(server, 1, tier1.holding, tier1.perPayment, tier1.daily);
    });

    afterAll(async () => {
      await server?.close();
    });

    /** Sends `bodies` all at once over HTTP, in a shuffled order (in the given order without a seed). */
    async function race(bodies: readonly Json[], seed?: number): Promise<Map<Json, Response>> {
      const order = seed === undefined ? bodies : shuffled(bodies, seededRandom(seed));
      const responses = await Promise.all(order.map((body) => postPayment(server, body)));
      return new Map(order.map((body, i) => [body, responses[i]!]));
    }

    async function racePayer(payerTier: 0 | 1, fund: bigint, amounts: readonly bigint[], seed: number | undefined, limits: { perPayment: bigint; daily: bigint }): Promise<void> {
      const payer = await openWallet(server, bankA.key, { tier: payerTier, fund });
      const payee = await openWallet(server, bankB.key);
      const floats = [await floatOf(server, bankA.id), await floatOf(server, bankB.id)];
      const eventsBefore = (await eventsAfter(server, bankA.id, 0)).last;
      const bodies = amounts.map((amount, i) => signedPayment(payer, { to: payee.id, amount, sequence: i + 1 }));
      const responses = await race(bodies, seed);
      const items: RaceItem[] = bodies.map((body, i) => ({ body, amount: amounts[i]!, sequence: i + 1, response: responses.get(body)! }));

      const allowed = new Set(['201', 'sequence_replayed', 'per_payment_limit_exceeded', 'daily_limit_exceeded', 'insufficient_funds']);
      for (const item of items) expect(allowed, JSON.stringify(item.response.json)).toContain(codeOf(item.response));
      const { final, successes } = checkAgainstModel(items, { balance: fund, spent: 0n, last: 0 }, payerStep(limits.perPayment, limits.daily));

      const total = successes.reduce((sum, i) => sum + i.amount, 0n);
      expect(successes.length).toBeGreaterThan(0);
      expect(successes.length).toBeLessThan(items.length);
      expect(total).toBeLessThanOrEqual(limits.daily);
      expect(total).toBeLessThanOrEqual(fund);
      for (const item of successes) expect(item.amount).toBeLessThanOrEqual(limits.perPayment);
      expect(final.spent).toBe(total);
      expect(await getWallet(server, payer.id)).toMatchObject({ balance: String(fund - total), spentToday: String(total), lastSequence: successes.at(-1)!.sequence });
      expect(await getWallet(server, payee.id)).toMatchObject({ balance: String(total), bankAccountBalance: '0' });
      expect([await floatOf(server, bankA.id), await floatOf(server, bankB.id)]).toEqual(floats);
      const reads = await Promise.all(items.map((item) => getPayment(server, String(item.body.id))));
      for (const [i, item] of items.entries()) {
        const read = reads[i]!;
        if (item.response.status === 201) {
          expect(read.status).toBe(200);
          expect(read.json).toEqual(item.response.json);
          expect(read.json).toMatchObject({ amount: String(item.amount), sequence: item.sequence, toWallet: String(item.amount) });
        } else {
          expectProblem(read, 404, 'payment_not_found');
        }
      }
      // Commit order, from the payer bank's events: exactly the successes, in sequence order.
      const sent = (await eventsAfter(server, bankA.id, eventsBefore)).events.filter((e) => e.type === 'payment.sent' && e.wallet === payer.id);
      expect(sent.map((e) => e.payment)).toEqual(successes.map((i) => i.body.id));
      await expectConserved(server, issued);
    }

    it('100 racing payments from one wallet never exceed its per-payment or daily limit', async () => {
      const random = seededRandom(11);
      // A quarter over the per-payment limit; the rest within it, and the daily limit allows at most 7.
      const amounts = Array.from({ length: 100 }, () => (random() < 0.25 ? between(random, 1_001, 1_500) : between(random, 400, 1_000)));
      // Sent in sequence order the limits refuse most; shuffled, most are refused as out of order.
      await racePayer(0, tier0.holding, amounts, undefined, tier0);
      await racePayer(0, tier0.holding, amounts, 12, tier0);
    });

    it('100 racing payments from one wallet never spend more than its balance', async () => {
      const random = seededRandom(21);
      const amounts = Array.from({ length: 100 }, () => (random() < 0.1 ? between(random, 50_001, 60_000) : between(random, 1_000, 4_000)));
      await racePayer(1, 10_000n, amounts, undefined, tier1);
      await racePayer(1, 10_000n, amounts, 22, tier1);
    });

    it('100 racing payments into one wallet near its holding limit fill it exactly and send the rest to its bank account', async () => {
      const target = await openWallet(server, bankB.key, { tier: 1, fund: 95_000n });
      const room = tier1.holding - 95_000n;
      const random = seededRandom(31);
      const amounts = Array.from({ length: 100 }, () => between(random, 100, 1_000));
      const payers = await Promise.all(amounts.map(() => openWallet(server, bankA.key, { tier: 2, fund: 1_000n })));
      const floatA = await floatOf(server, bankA.id);
      const floatB = await floatOf(server, bankB.id);
      const eventsBefore = (await eventsAfter(server, bankB.id, 0)).last;

      const bodies = payers.map((payer, i) => signedPayment(payer, { to: target.id, amount: amounts[i]!, sequence: 1 }));
      const responses = await race(bodies, 32);
      const total = amounts.reduce((a, b) => a + b, 0n);
      expect(total).toBeGreaterThan(room);
      const views = new Map<string, PaymentJson>();
      for (const body of bodies) {
        const response = responses.get(body)!;
        expect(response.status, JSON.stringify(response.json)).toBe(201);
        const view = response.json as unknown as PaymentJson;
        expect(BigInt(view.toWallet) + BigInt(view.toBankAccount)).toBe(BigInt(String(body.amount)));
        views.set(String(body.id), view);
      }

      // In commit order the wallet takes each payment up to its remaining room, and no more.
      const received = (await eventsAfter(server, bankB.id, eventsBefore)).events.filter((e) => e.type === 'payment.received' && e.wallet === target.id);
      expect(received).toHaveLength(100);
      let left = room;
      let split = 0;
      for (const event of received) {
        const view = views.get(event.payment!)!;
        const amount = BigInt(view.amount);
        const toWallet = amount < left ? amount : left;
        expect(view.toWallet, `payment ${view.id}`).toBe(String(toWallet));
        expect(view.toBankAccount).toBe(String(amount - toWallet));
        expect(event.toBankAccount).toBe(view.toBankAccount);
        expect(event.amount).toBe(view.amount);
        if (toWallet > 0n && toWallet < amount) split++;
        left -= toWallet;
      }
      expect(left).toBe(0n);
      expect(split).toBeLessThanOrEqual(1);
      const toWalletTotal = [...views.values()].reduce((s, v) => s + BigInt(v.toWallet), 0n);
      const toBankTotal = [...views.values()].reduce((s, v) => s + BigInt(v.toBankAccount), 0n);
      expect(toWalletTotal).toBe(room);
      expect(toBankTotal).toBe(total - room);

      expect(await getWallet(server, target.id)).toMatchObject({ balance: String(tier1.holding), bankAccountBalance: String(total - room), spentToday: '0', lastSequence: 0 });
      const payerWallets = await Promise.all(payers.map((payer) => getWallet(server, payer.id)));
      expect(payerWallets.map((w) => w.balance)).toEqual(amounts.map((amount) => String(1_000n - amount)));
      expect(await floatOf(server, bankA.id)).toBe(floatA);
      expect(await floatOf(server, bankB.id)).toBe(floatB + total - room);
      await expectConserved(server, issued);
    });

    it('racing payments with the same sequence: exactly one succeeds; racing copies of one payment: it is applied once', async () => {
      const payer = await openWallet(server, bankA.key, { tier: 2, fund: 100_000n });
      const payee = await openWallet(server, bankB.key, { tier: 2 });
      const random = seededRandom(41);
      const bodies = Array.from({ length: 25 }, () => signedPayment(payer, { to: payee.id, amount: between(random, 100, 2_500), sequence: 7 }));
      const responses = await race(bodies, 42);
      const winners = bodies.filter((b) => responses.get(b)!.status === 201);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const body of bodies) {
        if (body === winner) continue;
        expectProblem(responses.get(body)!, 409, 'sequence_replayed');
        expectProblem(await getPayment(server, String(body.id)), 404, 'payment_not_found');
      }
      const paid = BigInt(String(winner.amount));
      expect(await getWallet(server, payer.id)).toMatchObject({ balance: String(100_000n - paid), lastSequence: 7, spentToday: String(paid) });
      expect((await getWallet(server, payee.id)).balance).toBe(String(paid));

      const once = signedPayment(payer, { to: payee.id, amount: 1_000n, sequence: 8 });
      const copies = await Promise.all(Array.from({ length: 25 }, () => postPayment(server, once)));
      expect(copies.filter((r) => r.status === 201)).toHaveLength(1);
      expect(copies.filter((r) => r.status === 200)).toHaveLength(24);
      for (const copy of copies) expect(copy.json).toEqual(copies[0]!.json);
      expect(await getWallet(server, payer.id)).toMatchObject({ balance: String(99_000n - paid), lastSequence: 8 });
      await expectConserved(server, issued);
    });

    it('payments signed with a key being rotated concurrently commit only before the rotation', async () => {
      const holder = await openWallet(server, bankA.key, { tier: 2, fund: 100_000n });
      const payee = await openWallet(server, bankB.key, { tier: 2 });
      const eventsBefore = (await eventsAfter(server, bankA.id, 0)).last;
      const bodies = Array.from({ length: 40 }, (_, i) => signedPayment(holder, { to: payee.id, amount: 10n, sequence: i + 1 }));
      const rotated = newKeyFor(holder);
      const send = (body: Json) => (): Promise<Response> => postPayment(server, body);
      const rotate = (): Promise<Response> => server.call('POST', `/v1/wallets/${holder.id}/key`, { publicKey: rotated.publicKey }, bankA.key);
      // Twenty payments, the rotation, twenty more: all sent at once.
      const results = await Promise.all([...bodies.slice(0, 20).map(send), rotate, ...bodies.slice(20).map(send)].map((start) => start()));
      expect(results[20]!.status).toBe(200);
      const responses = [...results.slice(0, 20), ...results.slice(21)];
      for (const response of responses) expect(['201', 'signature_invalid', 'sequence_replayed']).toContain(codeOf(response));
      const committed = bodies.filter((_, i) => responses[i]!.status === 201);

      const events = (await eventsAfter(server, bankA.id, eventsBefore)).events;
      const rotation = events.find((e) => e.type === 'wallet.key_rotated' && e.wallet === holder.id)!;
      expect(rotation).toBeDefined();
      const payments = events.filter((e) => e.type === 'payment.sent' && e.wallet === holder.id);
      expect(payments.map((e) => e.payment).sort()).toEqual(committed.map((b) => String(b.id)).sort());
      for (const payment of payments) expect(payment.seq).toBeLessThan(rotation.seq);
      expect(await getWallet(server, holder.id)).toMatchObject({ balance: String(100_000 - 10 * committed.length), keyVersion: 2 });
      const late = signedPayment(holder, { to: payee.id, amount: 10n, sequence: 41 });
      expectProblem(await postPayment(server, late), 403, 'signature_invalid');
    });

    it('a payment request raced by ten payers is paid exactly once', async () => {
      const merchant = await openWallet(server, bankB.key, { kind: 'merchant', tier: 2 });
      const request = await server.call<{ id: string }>('POST', '/v1/payment-requests', { amount: '1234', wallet: merchant.id, reference: 'table 4' }, bankB.key);
      expect(request.status).toBe(201);
      const payers = await Promise.all(Array.from({ length: 10 }, () => openWallet(server, bankA.key, { tier: 2, fund: 10_000n })));
      const bodies = payers.map((payer) => signedPayment(payer, { to: merchant.id, amount: 1_234n, sequence: 1, request: request.json.id }));
      const responses = await race(bodies, 51);
      const winners = bodies.filter((b) => responses.get(b)!.status === 201);
      expect(winners).toHaveLength(1);
      for (const body of bodies) if (body !== winners[0]) expectProblem(responses.get(body)!, 409, 'payment_request_not_open');
      expect((await getWallet(server, merchant.id)).balance).toBe('1234');
      const paid = await server.call('GET', `/v1/payment-requests/${request.json.id}`, undefined, bankB.key);
      expect(paid.json).toMatchObject({ status: 'paid', paidBy: winners[0]!.id });
      const spent = await Promise.all(payers.map((p) => getWallet(server, p.id)));
      expect(spent.map((w) => w.balance).sort()).toEqual([...Array<string>(9).fill('10000'), '8766'].sort());
    });

    it('racing partial refunds never refund more than the payment', async () => {
      const customer = await openWallet(server, bankA.key, { tier: 2, fund: 5_000n });
      const merchant = await openWallet(server, bankB.key, { kind: 'merchant', tier: 2 });
      const original = signedPayment(customer, { to: merchant.id, amount: 1_000n, sequence: 1 });
      expect((await postPayment(server, original)).status).toBe(201);
      const bodies = Array.from({ length: 10 }, (_, i) => signedPayment(merchant, { to: customer.id, amount: 300n, sequence: i + 1, refundOf: String(original.id) }));
      const responses = await race(bodies, 61);
      const items: RaceItem[] = bodies.map((body, i) => ({ body, amount: 300n, sequence: i + 1, response: responses.get(body)! }));
      const { final, successes } = checkAgainstModel(items, { remaining: 1_000n, last: 0 }, (s, item) => {
        if (item.sequence <= s.last) return { code: 'sequence_replayed' };
        if (item.amount > s.remaining) return { code: 'refund_exceeds_remaining' };
        return { next: { remaining: s.remaining - item.amount, last: item.sequence } };
      });
      const refunded = 1_000n - final.remaining;
      expect(successes.length).toBeGreaterThan(0);
      expect(refunded).toBeLessThanOrEqual(1_000n);
      expect((await getPayment(server, String(original.id))).json).toMatchObject({ refunded: String(refunded), status: 'partially_refunded' });
      expect((await getWallet(server, customer.id)).balance).toBe(String(4_000n + refunded));
      expect((await getWallet(server, merchant.id)).balance).toBe(String(1_000n - refunded));
      await expectConserved(server, issued);
    });
  });

  // ---- requests, refunds, conversion, waterfall --------------------------------------------------

  describe('payment requests, refunds, merchant conversion and the reverse waterfall', () => {
    let server: Server;
    let bankA: Bank;
    let bankB: Bank;
    const issued = 2n * 10n ** 11n;
    /** Moved forward by seconds only (to expire a request), so the day never changes. */
    let clock = now;

    beforeAll(async () => {
      server = await startPlatform({ backend, clock: () => clock });
      bankA = await newBank(server);
      bankB = await newBank(server);
    });

    afterAll(async () => {
      await server?.close();
    });

    it('a merchant asks to be paid; the request is paid once, by a payment with its wallet and amount', async () => {
      const merchant = await openWallet(server, bankB.key, { kind: 'merchant' });
      const registered = await server.call<{ apiKey: string }>('POST', '/v1/participants', { id: uniqueId('shop'), role: 'merchant', name: 'Shop', wallet: merchant.id }, bankB.key);
      expect(registered.status).toBe(201);
      const merchantKey = registered.json.apiKey;
      const created = await server.call<{ id: string }>('POST', '/v1/payment-requests', { amount: '2500', reference: 'order 17' }, merchantKey);
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ wallet: merchant.id, amount: '2500', reference: 'order 17', status: 'open', paidBy: null });
      const requestId = created.json.id;

      const payer = await openWallet(server, bankA.key, { fund: 10_000n });
      const other = await openWallet(server, bankB.key);
      const watch: Watch = { wallets: [payer.id, merchant.id, other.id], banks: [bankA.id, bankB.id] };
      await expectRefused(server, signedPayment(payer, { to: merchant.id, amount: 2_400n, sequence: 1, request: requestId }), 422, 'payment_request_mismatch', watch);
      await expectRefused(server, signedPayment(payer, { to: other.id, amount: 2_500n, sequence: 1, request: requestId }), 422, 'payment_request_mismatch', watch);
      await expectRefused(server, signedPayment(payer, { to: merchant.id, amount: 2_500n, sequence: 1, request: 'no-such-request' }), 404, 'payment_request_not_found', watch);

      const payment = signedPayment(payer, { to: merchant.id, amount: 2_500n, sequence: 1, request: requestId });
      const paid = await postPayment(server, payment);
      expect(paid.status).toBe(201);
      expect(paid.json).toMatchObject({ request: requestId, toWallet: '2500', toBankAccount: '0' });
      expect((await server.call('GET', `/v1/payment-requests/${requestId}`, undefined, merchantKey)).json).toMatchObject({ status: 'paid', paidBy: payment.id });
      expect((await getWallet(server, merchant.id)).balance).toBe('2500');

      const second = await openWallet(server, bankA.key, { fund: 10_000n });
      const twice = signedPayment(second, { to: merchant.id, amount: 2_500n, sequence: 1, request: requestId });
      await expectRefused(server, twice, 409, 'payment_request_not_open', { wallets: [...watch.wallets, second.id], banks: watch.banks }, [String(twice.id)]);
      await expectRefused(server, signedPayment(payer, { to: merchant.id, amount: 2_500n, sequence: 2, request: requestId }), 409, 'payment_request_not_open', watch);

      // A request cannot be created already expired at ledger time (12:00 here); nothing is kept of it.
      const lateId = uniqueId('rq');
      const late = await server.call('POST', '/v1/payment-requests', { id: lateId, amount: '100', expiresAt: '2030-06-15T11:00:00Z' }, merchantKey);
      expectProblem(late, 422, 'payment_request_expired');
      expectProblem(await server.call('GET', `/v1/payment-requests/${lateId}`, undefined, merchantKey), 404, 'payment_request_not_found');
      // A request expiring later is refused once ledger time passes its expiresAt.
      const expiring = await server.call<{ id: string }>('POST', '/v1/payment-requests', { amount: '100', expiresAt: new Date(clock + 1000).toISOString() }, merchantKey);
      expect(expiring.status).toBe(201);
      clock += 1001;
      await expectRefused(server, signedPayment(payer, { to: merchant.id, amount: 100n, sequence: 2, request: expiring.json.id }), 422, 'payment_request_expired', watch);
      expect((await server.call('GET', `/v1/payment-requests/${expiring.json.id}`, undefined, merchantKey)).json).toMatchObject({ status: 'open', paidBy: null });
      // A merchant asks only for its own wallet.
      const foreign = await server.call('POST', '/v1/payment-requests', { amount: '100', wallet: other.id }, merchantKey);
      expectProblem(foreign, 404, 'wallet_not_found');
      await expectConserved(server, issued);
    });

    it('refunds go from the payee back to the payer, in full or in parts, never beyond the payment', async () => {
      const customer = await openWallet(server, bankA.key, { fund: 50_000n });
      const merchant = await openWallet(server, bankB.key, { kind: 'merchant' });
      const stranger = await openWallet(server, bankA.key, { fund: 10_000n });
      const watch: Watch = { wallets: [customer.id, merchant.id, stranger.id], banks: [bankA.id, bankB.id] };
      const original = signedPayment(customer, { to: merchant.id, amount: 10_000n });
      expect((await postPayment(server, original)).status).toBe(201);
      const originalId = String(original.id);

      const part = signedPayment(merchant, { to: customer.id, amount: 3_000n, refundOf: originalId });
      const partResponse = await postPayment(server, part);
      expect(partResponse.status).toBe(201);
      expect(partResponse.json).toMatchObject({ refundOf: originalId, amount: '3000', status: 'completed', toWallet: '3000' });
      expect((await getPayment(server, originalId)).json).toMatchObject({ refunded: '3000', status: 'partially_refunded' });
      expect([(await getWallet(server, customer.id)).balance, (await getWallet(server, merchant.id)).balance]).toEqual(['43000', '7000']);

      await expectRefused(server, signedPayment(merchant, { to: customer.id, amount: 7_001n, refundOf: originalId }), 422, 'refund_exceeds_remaining', watch);
      await expectRefused(server, signedPayment(stranger, { to: customer.id, amount: 1_000n, refundOf: originalId }), 422, 'refund_parties_mismatch', watch);
      await expectRefused(server, signedPayment(merchant, { to: stranger.id, amount: 1_000n, refundOf: originalId }), 422, 'refund_parties_mismatch', watch);
      await expectRefused(server, signedPayment(customer, { to: merchant.id, amount: 1_000n, refundOf: String(part.id) }), 422, 'refund_original_not_found', watch);
      await expectRefused(server, signedPayment(merchant, { to: customer.id, amount: 1_000n, refundOf: 'no-such-payment' }), 422, 'refund_original_not_found', watch);

      const rest = signedPayment(merchant, { to: customer.id, amount: 7_000n, refundOf: originalId });
      expect((await postPayment(server, rest)).status).toBe(201);
      expect((await getPayment(server, originalId)).json).toMatchObject({ refunded: '10000', status: 'refunded', amount: '10000' });
      expect([(await getWallet(server, customer.id)).balance, (await getWallet(server, merchant.id)).balance]).toEqual(['50000', '0']);
      await expectRefused(server, signedPayment(merchant, { to: customer.id, amount: 1n, refundOf: originalId }), 422, 'refund_exceeds_remaining', watch);

      // A refund in one piece.
      const second = signedPayment(customer, { to: merchant.id, amount: 4_000n });
      expect((await postPayment(server, second)).status).toBe(201);
      expect((await postPayment(server, signedPayment(merchant, { to: customer.id, amount: 4_000n, refundOf: String(second.id) }))).status).toBe(201);
      expect((await getPayment(server, String(second.id))).json).toMatchObject({ refunded: '4000', status: 'refunded' });
      expect((await getWallet(server, customer.id)).balance).toBe('50000');
      await expectConserved(server, issued);
    });

    it('a merchant that converts incoming payments receives them on its bank account, whole', async () => {
      const customer = await openWallet(server, bankA.key, { fund: 100_000n });
      const merchant = await openWallet(server, bankB.key, { kind: 'merchant' });
      const switched = await server.call<WalletJson>('POST', `/v1/wallets/${merchant.id}/conversion`, { convertIncoming: true }, bankB.key);
      expect(switched.status).toBe(200);
      expect(switched.json.convertIncoming).toBe(true);
      const [floatA, floatB] = [await floatOf(server, bankA.id), await floatOf(server, bankB.id)];

      const converted = await postPayment(server, signedPayment(customer, { to: merchant.id, amount: 4_000n }));
      expect(converted.status).toBe(201);
      expect(converted.json).toMatchObject({ amount: '4000', toWallet: '0', toBankAccount: '4000' });
      expect(await getWallet(server, merchant.id)).toMatchObject({ balance: '0', bankAccountBalance: '4000' });
      expect((await getWallet(server, customer.id)).balance).toBe('96000');
      expect(await floatOf(server, bankA.id)).toBe(floatA);
      expect(await floatOf(server, bankB.id)).toBe(floatB + 4_000n);

      expect((await server.call('POST', `/v1/wallets/${merchant.id}/conversion`, { convertIncoming: false }, bankB.key)).json).toMatchObject({ convertIncoming: false });
      const kept = await postPayment(server, signedPayment(customer, { to: merchant.id, amount: 1_000n }));
      expect(kept.json).toMatchObject({ toWallet: '1000', toBankAccount: '0' });
      expect(await getWallet(server, merchant.id)).toMatchObject({ balance: '1000', bankAccountBalance: '4000' });

      const openedConverting = await openWallet(server, bankB.key, { kind: 'merchant', convertIncoming: true });
      const direct = await postPayment(server, signedPayment(customer, { to: openedConverting.id, amount: 2_500n }));
      expect(direct.json).toMatchObject({ toWallet: '0', toBankAccount: '2500' });
      expect(await getWallet(server, openedConverting.id)).toMatchObject({ balance: '0', bankAccountBalance: '2500', convertIncoming: true });
      expect(await floatOf(server, bankB.id)).toBe(floatB + 6_500n);
      await expectConserved(server, issued);
    });

    it('the reverse waterfall sends exactly the part above the holding limit to the bank account', async () => {
      // Tier 0 keeps its default 100,000 KZT holding limit here (10,000,000 tiyn).
      const holding = 10_000_000n;
      const payee = await openWallet(server, bankB.key, { tier: 0, fund: holding - 10_000n });
      const payer = await openWallet(server, bankA.key, { tier: 2, fund: 1_000_000n });
      const floatB = await floatOf(server, bankB.id);

      const first = signedPayment(payer, { to: payee.id, amount: 25_000n });
      expect((await postPayment(server, first)).json).toMatchObject({ toWallet: '10000', toBankAccount: '15000' });
      expect(await getWallet(server, payee.id)).toMatchObject({ balance: String(holding), bankAccountBalance: '15000', holdingLimit: String(holding) });
      expect((await postPayment(server, signedPayment(payer, { to: payee.id, amount: 5_000n }))).json).toMatchObject({ toWallet: '0', toBankAccount: '5000' });
      expect(await getWallet(server, payee.id)).toMatchObject({ balance: String(holding), bankAccountBalance: '20000' });

      // Spending reopens room; the next payment fills it and the rest goes on.
      expect((await postPayment(server, signedPayment(payee, { to: payer.id, amount: 20_000n }))).status).toBe(201);
      const third = signedPayment(payer, { to: payee.id, amount: 30_000n });
      expect((await postPayment(server, third)).json).toMatchObject({ toWallet: '20000', toBankAccount: '10000' });
      expect(await getWallet(server, payee.id)).toMatchObject({ balance: String(holding), bankAccountBalance: '30000' });
      expect(await getWallet(server, payer.id)).toMatchObject({ balance: String(1_000_000n - 25_000n - 5_000n + 20_000n - 30_000n), bankAccountBalance: '0' });
      expect(await floatOf(server, bankB.id)).toBe(floatB + 30_000n);

      // The history shows the two legs: pay:<id> into the wallet and pay:<id>:x on to the bank.
      const history = await server.call<{ transfers: { id: string; debit: string; credit: string; amount: string }[] }>('GET', `/v1/wallets/${payer.id}/history?limit=10`);
      const legs = history.json.transfers.filter((t) => t.id.startsWith(`pay:${String(third.id)}`));
      expect(legs.map((t) => [t.id, t.credit, t.amount]).sort()).toEqual(
        [
          [`pay:${String(third.id)}`, `w:${payee.id}`, '20000'],
          [`pay:${String(third.id)}:x`, `bank:${bankB.id}:cbdc`, '10000'],
        ].sort(),
      );

      // A wallet moved to a lower tier while holding more than its limit gets nothing more in the wallet.
      const rich = await openWallet(server, bankB.key, { tier: 2, fund: 2n * holding });
      expect((await server.call('POST', `/v1/wallets/${rich.id}/tier`, { tier: 0 }, bankB.key)).status).toBe(200);
      expect((await postPayment(server, signedPayment(payer, { to: rich.id, amount: 1_000n }))).json).toMatchObject({ toWallet: '0', toBankAccount: '1000' });
      expect(await getWallet(server, rich.id)).toMatchObject({ balance: String(2n * holding), bankAccountBalance: '1000' });
      await expectConserved(server, issued);
    });
  });

  // ---- ledger time --------------------------------------------------------------------------------

  describe('expiry and the daily limit follow ledger time', () => {
    let server: Server;
    let clock = Date.parse('2030-06-15T23:59:59.000Z');

    beforeAll(async () => {
      server = await startPlatform({ backend, clock: () => clock });
    });

    afterAll(async () => {
      await server?.close();
    });

    it('a payment signed to expire is refused once ledger time passes it; an exact retry of a committed one still answers 200', async () => {
      const bank = await newBank(server);
      const payer = await openWallet(server, bank.key, { fund: 100_000n });
      const payee = await openWallet(server, bank.key);
      const watch: Watch = { wallets: [payer.id, payee.id], banks: [bank.id] };
      const expiresAt = new Date(clock + 500).toISOString();
      const committed = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 1, expiresAt });
      const late = signedPayment(payer, { to: payee.id, amount: 100n, sequence: 2, expiresAt });
      expect((await postPayment(server, committed)).status).toBe(201);
      clock += 501;
      await expectRefused(server, late, 422, 'payment_expired', watch, [String(late.id)]);
      const retry = await postPayment(server, committed);
      expect(retry.status).toBe(200);
      expect(retry.json).toMatchObject({ id: committed.id, expiresAt });
    });

    it('the daily limit applies per UTC day of ledger time', async () => {
      clock = Date.parse('2030-06-16T23:59:59.000Z');
      const bank = await newBank(server);
      // Tier 0 defaults: 50,000 KZT per payment, 100,000 KZT per day and held.
      const payer = await openWallet(server, bank.key, { tier: 0, fund: 10_000_000n });
      const payee = await openWallet(server, bank.key, { tier: 2 });
      const watch: Watch = { wallets: [payer.id, payee.id], banks: [bank.id] };
      expect((await postPayment(server, signedPayment(payer, { to: payee.id, amount: 5_000_000n }))).status).toBe(201);
      expect((await postPayment(server, signedPayment(payer, { to: payee.id, amount: 4_000_000n }))).status).toBe(201);
      await expectRefused(server, signedPayment(payer, { to: payee.id, amount: 1_000_001n }), 422, 'daily_limit_exceeded', watch);
      expect((await postPayment(server, signedPayment(payer, { to: payee.id, amount: 1_000_000n }))).status).toBe(201);
      await expectRefused(server, signedPayment(payer, { to: payee.id, amount: 1n }), 422, 'daily_limit_exceeded', watch);
      expect((await server.call('POST', `/v1/wallets/${payer.id}/bank-account/credit`, { amount: '5000000' }, bank.key)).status).toBe(200);
      expect((await server.call('POST', `/v1/wallets/${payer.id}/fund`, { amount: '5000000' }, bank.key)).status).toBe(200);
      await expectRefused(server, signedPayment(payer, { to: payee.id, amount: 1n }), 422, 'daily_limit_exceeded', watch);

      clock = Date.parse('2030-06-17T00:00:00.000Z');
      expect((await postPayment(server, signedPayment(payer, { to: payee.id, amount: 5_000_000n }))).status).toBe(201);
      expect(await getWallet(server, payer.id)).toMatchObject({ spentToday: '5000000', balance: '0' });
      expect((await getWallet(server, payee.id)).balance).toBe('15000000');
    });
  });

  // ---- property ----------------------------------------------------------------------------------

  describe('property: no mix of valid and invalid payments changes the digital tenge in wallets and bank floats', () => {
    let server: Server;
    let wallets: Holder[];
    let banks: Bank[];
    const issued = 2n * 10n ** 8n;

    beforeAll(async () => {
      server = await startPlatform({ backend, clock: fixedClock });
      banks = [await newBank(server, { reserves: issued, issue: issued / 2n }), await newBank(server, { reserves: issued, issue: issued / 2n })];
      await setTier(server, 0, 30_000n, 20_000n, 40_000n);
      wallets = [
        await openWallet(server, banks[0]!.key, { tier: 2, fund: 60_000n }),
        await openWallet(server, banks[0]!.key, { tier: 0, fund: 20_000n }),
        await openWallet(server, banks[1]!.key, { tier: 2, fund: 60_000n }),
        await openWallet(server, banks[1]!.key, { kind: 'merchant', tier: 0, fund: 5_000n, convertIncoming: true }),
        await openWallet(server, banks[1]!.key, { tier: 0, fund: 25_000n }),
      ];
    });

    afterAll(async () => {
      await server?.close();
    });

    const kinds = ['valid', 'valid', 'valid', 'valid', 'forged', 'tampered', 'replayed', 'expired', 'overPerPayment', 'malformed', 'duplicateKey', 'unknownField', 'unknownPayee', 'self'] as const;
    type Kind = (typeof kinds)[number];
    const refusal: Record<Exclude<Kind, 'valid' | 'replayed'>, [number, string]> = {
      forged: [403, 'signature_invalid'],
      tampered: [403, 'signature_invalid'],
      expired: [422, 'payment_expired'],
      overPerPayment: [422, 'per_payment_limit_exceeded'],
      malformed: [400, 'signature_malformed'],
      duplicateKey: [400, 'json_duplicate_key'],
      unknownField: [400, 'validation_failed'],
      unknownPayee: [422, 'payee_not_found'],
      self: [422, 'payee_is_payer'],
    };

    async function state(): Promise<{ wallets: WalletJson[]; floats: bigint[] }> {
      const [ws, floats] = await Promise.all([Promise.all(wallets.map((w) => getWallet(server, w.id))), Promise.all(banks.map((b) => floatOf(server, b.id)))]);
      return { wallets: ws, floats };
    }

    it('keeps wallets + floats equal to what was issued, every invariant true, and moves exactly what each accepted payment says', async () => {
      const operation = fc.record({
        kind: fc.constantFrom(...kinds),
        from: fc.nat(4),
        to: fc.nat(4),
        amount: fc.bigInt({ min: 1n, max: 25_000n }),
        gap: fc.nat(3),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 5 }), async (operations) => {
          for (const op of operations) {
            const payer = wallets[op.from]!;
            const payeeIndex = op.from === op.to ? (op.to + 1) % wallets.length : op.to;
            const payee = wallets[payeeIndex]!;
            const before = await state();
            const from = before.wallets[op.from]!;
            const to = before.wallets[payeeIndex]!;
            const sequence = from.lastSequence + 1 + op.gap;
            const fields = { to: payee.id, amount: op.amount, sequence };
            let body: Json | string;
            switch (op.kind) {
              case 'valid':
              case 'overPerPayment':
                body = signedPayment(payer, op.kind === 'valid' ? fields : { ...fields, amount: BigInt(from.perPaymentLimit) + op.amount });
                break;
              case 'forged':
                body = resigned(signedPayment(payer, fields), wallets[(op.from + 1) % wallets.length]!.seed);
                break;
              case 'tampered':
                body = { ...signedPayment(payer, fields), amount: String(op.amount + 1n) };
                break;
              case 'replayed':
                body = signedPayment(payer, { ...fields, sequence: from.lastSequence });
                break;
              case 'expired':
                body = signedPayment(payer, { ...fields, expiresAt: new Date(now - 1).toISOString() });
                break;
              case 'malformed':
                body = { ...signedPayment(payer, fields), signature: 'A'.repeat(85) };
                break;
              case 'duplicateKey':
                body = JSON.stringify(signedPayment(payer, fields)).replace('{', `{"amount":"${op.amount + 1n}",`);
                break;
              case 'unknownField':
                body = resigned(signedPayment(payer, fields), payer.seed, { memo: 'x' });
                break;
              case 'unknownPayee':
                body = signedPayment(payer, { ...fields, to: 'w_nosuchwallet0000' });
                break;
              case 'self':
                body = signedPayment(payer, { ...fields, to: payer.id });
                break;
            }
            const response = await postPayment(server, body);
            const after = await state();
            const spent = BigInt(from.spentToday);
            const balance = BigInt(from.balance);
            let expected: string | null = null;
            if (op.kind === 'valid') {
              expected =
                op.amount > BigInt(from.perPaymentLimit)
                  ? 'per_payment_limit_exceeded'
                  : spent + op.amount > BigInt(from.dailyLimit)
                    ? 'daily_limit_exceeded'
                    : balance < op.amount
                      ? 'insufficient_funds'
                      : null;
            } else if (op.kind === 'replayed') {
              expected = from.lastSequence === 0 ? 'validation_failed' : 'sequence_replayed';
            } else {
              expected = refusal[op.kind][1];
            }
            if (expected !== null) {
              expect(codeOf(response), `${op.kind}: ${JSON.stringify(response.json)}`).toBe(expected);
              if (op.kind !== 'valid' && op.kind !== 'replayed') expect(response.status).toBe(refusal[op.kind][0]);
              expect(after).toEqual(before);
              continue;
            }
            expect(response.status, JSON.stringify(response.json)).toBe(201);
            const view = response.json as unknown as PaymentJson;
            const room = to.convertIncoming ? 0n : BigInt(to.holdingLimit) - BigInt(to.balance);
            const toWallet = room <= 0n ? 0n : room < op.amount ? room : op.amount;
            expect([view.toWallet, view.toBankAccount]).toEqual([String(toWallet), String(op.amount - toWallet)]);
            const expectedWallets = before.wallets.map((w, i) => {
              if (i === op.from) return { ...w, balance: String(balance - op.amount), spentToday: String(spent + op.amount), lastSequence: sequence };
              if (i === payeeIndex) return { ...w, balance: String(BigInt(w.balance) + toWallet), bankAccountBalance: String(BigInt(w.bankAccountBalance) + op.amount - toWallet) };
              return w;
            });
            const payeeBank = banks.findIndex((b) => b.id === to.bank);
            const expectedFloats = before.floats.map((f, i) => (i === payeeBank ? f + op.amount - toWallet : f));
            expect(after).toEqual({ wallets: expectedWallets, floats: expectedFloats });
          }
          await expectConserved(server, issued / 2n + issued / 2n);
        }),
        // Runs share one server, so the wallets carry their balances from run to run; no shrinking.
        { numRuns: 30, endOnFailure: true },
      );
    });
  });
});
