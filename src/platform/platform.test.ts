// Proves, command by command and driving the platform ledger directly (no HTTP), that every platform command does what it says on its happy path, returns each of its rejection codes (the first in `platformCodes` order when several apply) and changes nothing when rejected or repeated; and pins down payments: replay sequences, expiry, key versions, per-payment and daily limits at the UTC day boundary, the reverse waterfall, conversion, payment requests, refunds, frozen and closed wallets, suspended banks and issuance caps.
import { describe, expect, it } from 'vitest';
import { encodeBase64url } from '../crypto/base64url.ts';
import { generateKeyPair } from '../crypto/ed25519.ts';
import { genesisCommands } from '../engine/engine.ts';
import { amountMax } from '../limits.ts';
import { checkInvariants } from '../ledger/invariants.ts';
import { decodeCommands, encodeCommands } from '../ledger/journal-codec.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ResultCode } from '../ledger/result-codes.ts';
import { platformCodes } from '../ledger/result-codes.ts';
import { stateDigest } from '../ledger/state-digest.ts';
import type { AnyCommand, CommandResult } from '../ledger/types.ts';
import { createLedger, platformOf } from './index.ts';
import { defaultTiers } from './tiers.ts';
import type {
  CloseWallet,
  CreatePaymentRequest,
  OpenWallet,
  Pay,
  PlatformCommand,
  RegisterParticipant,
  ReserveOperation,
  SetWalletStatus,
  WalletKind,
  WalletOperation,
} from './types.ts';

// ---- helpers ----------------------------------------------------------------------------------

const DAY = 86_400_000;
/** 09:00 UTC on day 20,000 (2024-10-04): far enough from midnight that tests stay within a day unless they mean to cross it. */
const T0 = 20_000 * DAY + 9 * 3_600_000;
const MAX = amountMax;

const newKey = (): string => encodeBase64url(generateKeyPair().publicKey);
/** A syntactically fine key that is not a valid Ed25519 point for registration: the identity (small order). */
const smallOrderKey = encodeBase64url(new Uint8Array([1, ...new Array<number>(31).fill(0)]));
const keyHash = (n: number): string => n.toString(16).padStart(64, '0');

const ok = { ok: true, existed: false } as const;
const existed = { ok: true, existed: true } as const;
const rejected = (code: ResultCode): CommandResult => ({ ok: false, code });
/** Core and platform commands (platform command literals are not excess-property-checked against ExtensionCommand). */
type Command = AnyCommand | PlatformCommand;

function json(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

const registerBank = (id: string, bic: string, hash: number, overrides: Partial<RegisterParticipant> = {}): RegisterParticipant => ({
  kind: 'x.register_participant',
  id,
  role: 'bank',
  name: `Bank ${id}`,
  bic,
  wallet: '',
  keyHash: keyHash(hash),
  ...overrides,
});
const reserveOp = (kind: ReserveOperation['kind'], id: string, bank: string, amount: bigint): ReserveOperation => ({ kind, id, bank, amount });
const topUp = (id: string, bank: string, amount: bigint): ReserveOperation => reserveOp('x.top_up_reserves', id, bank, amount);
const issue = (id: string, bank: string, amount: bigint): ReserveOperation => reserveOp('x.issue', id, bank, amount);
const redeem = (id: string, bank: string, amount: bigint): ReserveOperation => reserveOp('x.redeem', id, bank, amount);
const walletOp = (kind: WalletOperation['kind'], id: string, wallet: string, amount: bigint): WalletOperation => ({ kind, id, wallet, amount });
const credit = (id: string, wallet: string, amount: bigint): WalletOperation => walletOp('x.credit_account', id, wallet, amount);
const debit = (id: string, wallet: string, amount: bigint): WalletOperation => walletOp('x.debit_account', id, wallet, amount);
const fund = (id: string, wallet: string, amount: bigint): WalletOperation => walletOp('x.fund', id, wallet, amount);
const defund = (id: string, wallet: string, amount: bigint): WalletOperation => walletOp('x.defund', id, wallet, amount);
const freeze = (id: string, actor: string, reason = ''): SetWalletStatus => ({ kind: 'x.set_wallet_status', id, status: 'frozen', reason, actor });
const unfreeze = (id: string, actor: string, reason = ''): SetWalletStatus => ({ kind: 'x.set_wallet_status', id, status: 'active', reason, actor });
const close = (id: string, sweepTo = ''): CloseWallet => ({ kind: 'x.close_wallet', id, sweepTo });
const suspend = (id: string): PlatformCommand => ({ kind: 'x.set_participant_status', id, status: 'suspended' });
const reinstate = (id: string): PlatformCommand => ({ kind: 'x.set_participant_status', id, status: 'active' });
const payment = (id: string, from: string, to: string, amount: bigint, sequence: number, options: Partial<Omit<Pay, 'kind'>> = {}): Pay => ({
  kind: 'x.pay',
  id,
  from,
  to,
  amount,
  sequence,
  expiresAt: 0,
  reference: '',
  request: '',
  refundOf: '',
  keyVersion: 1,
  ...options,
});
const paymentRequest = (id: string, wallet: string, amount: bigint, options: Partial<Omit<CreatePaymentRequest, 'kind'>> = {}): CreatePaymentRequest => ({
  kind: 'x.create_payment_request',
  id,
  wallet,
  amount,
  reference: '',
  expiresAt: 0,
  ...options,
});

/**
 * A platform ledger after genesis, with its own clock, a record of every batch (for replay) and of
 * the payment, request and day ids it saw (so snapshots can read them back).
 */
class World {
  readonly ledger: Ledger = createLedger();
  readonly platform = platformOf(this.ledger);
  readonly journal: { timestamp: number; body: Uint8Array }[] = [];
  readonly keys = new Map<string, string>();
  private readonly paymentIds = new Set<string>();
  private readonly requestIds = new Set<string>();
  private readonly days = new Set<number>();
  now = T0;

  constructor() {
    this.setup(genesisCommands);
  }

  /** Applies one batch `advanceMs` after the previous one. */
  apply(commands: readonly Command[], advanceMs = 1): CommandResult[] {
    return this.applyAt(this.now + advanceMs, commands);
  }

  applyAt(timestamp: number, commands: readonly Command[]): CommandResult[] {
    this.now = timestamp;
    this.days.add(Math.floor(timestamp / DAY));
    this.track(commands);
    const outcome = this.ledger.apply(commands as readonly AnyCommand[], timestamp);
    this.journal.push({ timestamp, body: outcome.journal });
    return [...outcome.results];
  }

  /** Makes snapshots read back the payments and requests these commands name. */
  track(commands: readonly Command[]): void {
    for (const c of commands) {
      if (c.kind === 'x.pay') this.paymentIds.add((c as Pay).id);
      if (c.kind === 'x.create_payment_request') this.requestIds.add((c as CreatePaymentRequest).id);
    }
  }

  one(command: Command, advanceMs = 1): CommandResult {
    return this.apply([command], advanceMs)[0]!;
  }

  /** Applies commands that must all succeed as new (fixture set-up). */
  setup(commands: readonly Command[], advanceMs = 1): void {
    const results = this.apply(commands, advanceMs);
    results.forEach((result, index) => {
      if (!result.ok || result.existed) throw new Error(`fixture command ${index} (${json(commands[index])}) gave ${json(result)}`);
    });
  }

  openWallet(id: string, bank: string, options: { tier?: number; kind?: WalletKind; convertIncoming?: boolean } = {}): OpenWallet {
    const publicKey = newKey();
    this.keys.set(id, publicKey);
    return { kind: 'x.open_wallet', id, bank, publicKey, walletKind: options.kind ?? 'individual', tier: options.tier ?? 0, convertIncoming: options.convertIncoming ?? false };
  }

  balance(account: string): bigint {
    const found = this.ledger.getAccount(account);
    if (found === undefined) throw new Error(`no account ${account}`);
    return found.balance;
  }

  wallet(id: string) {
    const found = this.platform.getWallet(id);
    if (found === undefined) throw new Error(`no wallet ${id}`);
    return found;
  }

  /** Everything observable: the ledger's state digest and every platform read. */
  snapshot(): string {
    const p = this.platform;
    const banks = p.listBanks();
    return json({
      digest: stateDigest(this.ledger),
      tiers: p.listTiers(),
      participants: p.listParticipants(0, 1_000_000).items,
      banks,
      wallets: p.listWallets(null, 0, 1_000_000).items,
      walletCount: p.walletCount,
      payments: [...this.paymentIds].sort().map((id) => p.getPayment(id) ?? null),
      requests: [...this.requestIds].sort().map((id) => p.getPaymentRequest(id) ?? null),
      events: banks.map((b) => p.bankEvents(b.id, 0, 1_000_000)),
      statements: banks.map((b) => [...this.days].sort((a, b) => a - b).map((d) => p.statement(b.id, d))),
    });
  }

  /** The command, alone in a batch, is rejected with exactly `code` and changes nothing observable. */
  expectRejected(command: Command, code: ResultCode, advanceMs = 1): void {
    const before = this.snapshot();
    const outcome = this.ledger.apply([command as AnyCommand], this.now + advanceMs);
    this.now += advanceMs;
    this.journal.push({ timestamp: this.now, body: outcome.journal });
    expect(outcome.results[0], `${json(command)}`).toEqual(rejected(code));
    expect(outcome.journal.length).toBe(0);
    expect(this.snapshot(), `${json(command)} (${code}) changed state`).toBe(before);
  }

  /** The command repeats an earlier one: it answers existed and changes nothing. */
  expectExisted(command: Command): void {
    const before = this.snapshot();
    const outcome = this.ledger.apply([command as AnyCommand], ++this.now);
    this.journal.push({ timestamp: this.now, body: outcome.journal });
    expect(outcome.results[0], `${json(command)}`).toEqual(existed);
    expect(outcome.journal.length).toBe(0);
    expect(this.snapshot(), `${json(command)} (existed) changed state`).toBe(before);
  }

  /** The ledger's invariants hold and the platform's records agree with the ledger's balances. */
  expectConsistent(): void {
    expect(checkInvariants(this.ledger).violations).toEqual([]);
    expect(this.platform.check((id) => this.ledger.getAccount(id)?.balance)).toEqual([]);
  }

  /** Replaying the journal into a fresh platform ledger gives the same state and the same reads. */
  expectReplayMatches(): void {
    const fresh = new World();
    // The fresh world applied genesis itself; replay the rest with this world's timestamps.
    for (const { timestamp, body } of this.journal.slice(1)) {
      const decoded = decodeCommands(body, fresh.ledger.extension);
      expect(Buffer.from(encodeCommands(decoded, fresh.ledger.extension)).equals(Buffer.from(body))).toBe(true);
      for (const c of decoded) {
        if (c.kind === 'x.pay') fresh.paymentIds.add((c as Pay).id);
        if (c.kind === 'x.create_payment_request') fresh.requestIds.add((c as CreatePaymentRequest).id);
      }
      const outcome = fresh.ledger.apply(decoded, timestamp);
      for (const result of outcome.results) expect(result).toEqual(ok);
    }
    for (const d of this.days) fresh.days.add(d);
    for (const id of this.paymentIds) fresh.paymentIds.add(id);
    for (const id of this.requestIds) fresh.requestIds.add(id);
    expect(JSON.parse(fresh.snapshot())).toEqual(JSON.parse(this.snapshot()));
  }
}

const kzt = (tenge: number): bigint => BigInt(tenge) * 100n;
const tier0 = defaultTiers[0]!;

/**
 * Two banks with reserves and digital tenge; alice and bob (tier 0) bank with alpha, carol
 * (tier 1), shop (merchant, tier 2) and conv (merchant, tier 1, converting) with beta.
 * alice holds 80,000 KZT and has 120,000 KZT in her bank account; carol holds 400,000 KZT.
 */
function standardWorld(): World {
  const w = new World();
  w.setup([
    registerBank('alpha', 'ALPHKZKA', 1),
    registerBank('beta', 'BETAKZKA', 2),
    topUp('seed-a', 'alpha', kzt(10_000_000)),
    topUp('seed-b', 'beta', kzt(10_000_000)),
    issue('iss-a', 'alpha', kzt(5_000_000)),
    issue('iss-b', 'beta', kzt(5_000_000)),
  ]);
  w.setup([
    w.openWallet('alice', 'alpha'),
    w.openWallet('bob', 'alpha'),
    w.openWallet('carol', 'beta', { tier: 1 }),
    w.openWallet('shop', 'beta', { tier: 2, kind: 'merchant' }),
    w.openWallet('conv', 'beta', { tier: 1, kind: 'merchant', convertIncoming: true }),
  ]);
  w.setup([credit('c-alice', 'alice', kzt(200_000)), fund('f-alice', 'alice', kzt(80_000)), credit('c-carol', 'carol', kzt(600_000)), fund('f-carol', 'carol', kzt(400_000))]);
  return w;
}

// ---- genesis and tiers ------------------------------------------------------------------------

describe('genesis and tier limits', () => {
  it('genesis journals the default tiers, and repeating it changes nothing', () => {
    const w = new World();
    expect(w.platform.listTiers()).toEqual(defaultTiers.map(({ kind: _, ...limits }) => limits));
    const before = w.snapshot();
    expect(w.apply(genesisCommands)).toEqual(genesisCommands.map(() => existed));
    expect(w.snapshot()).toBe(before);
  });

  it('set_tier_limits changes a tier; the same limits again answer existed', () => {
    const w = new World();
    const command = { kind: 'x.set_tier_limits', tier: 0, holdingMax: 1000n, perPaymentMax: 400n, dailyMax: 700n } as const;
    expect(w.one(command)).toEqual(ok);
    expect(w.platform.tier(0)).toEqual({ tier: 0, holdingMax: 1000n, perPaymentMax: 400n, dailyMax: 700n });
    w.expectExisted(command);
    w.expectReplayMatches();
  });

  it.each([
    ['a tier beyond 2', 3, 1n, 1n, 1n, 'tier_invalid'],
    ['a negative tier', -1, 1n, 1n, 1n, 'tier_invalid'],
    ['a fractional tier', 1.5, 1n, 1n, 1n, 'tier_invalid'],
    ['a zero holding limit', 0, 0n, 1n, 1n, 'amount_must_be_positive'],
    ['a negative daily limit', 0, 1n, 1n, -5n, 'amount_must_be_positive'],
    ['a per-payment limit beyond 64 bits', 0, 1n, MAX + 1n, 1n, 'amount_exceeds_maximum'],
    // Precedence (platformCodes order): the amounts before the tier.
    ['a zero holding limit and a tier beyond 2', 3, 0n, 1n, 1n, 'amount_must_be_positive'],
    ['a daily limit beyond 64 bits and a fractional tier', 1.5, 1n, 1n, MAX + 1n, 'amount_exceeds_maximum'],
    ['a tier of 256 (beyond a journal byte)', 256, 1n, 1n, 1n, 'tier_invalid'],
  ] as const)('set_tier_limits with %s is rejected', (_name, tier, holdingMax, perPaymentMax, dailyMax, code) => {
    const w = new World();
    w.expectRejected({ kind: 'x.set_tier_limits', tier, holdingMax, perPaymentMax, dailyMax }, code);
  });
});

// ---- participants -----------------------------------------------------------------------------

describe('participants', () => {
  it('registering a bank creates its money asset and accounts, its record and an onboarding event', () => {
    const w = new World();
    expect(w.one(registerBank('alpha', 'ALPHKZKA', 1))).toEqual(ok);
    expect(w.ledger.getAsset('KZT_ALPHKZKA')).toEqual({ code: 'KZT_ALPHKZKA', scale: 2 });
    expect(w.ledger.getAccount('bank:alpha:reserve')).toMatchObject({ asset: 'KZT_RES', allowNegative: false, balance: 0n });
    expect(w.ledger.getAccount('bank:alpha:cbdc')).toMatchObject({ asset: 'KZT', allowNegative: false, balance: 0n });
    expect(w.ledger.getAccount('bank:alpha:money')).toMatchObject({ asset: 'KZT_ALPHKZKA', allowNegative: true, balance: 0n });
    expect(w.platform.getBank('alpha')).toEqual({
      id: 'alpha',
      role: 'bank',
      name: 'Bank alpha',
      bic: 'ALPHKZKA',
      wallet: null,
      bank: 'alpha',
      status: 'active',
      keyVersion: 1,
      createdAt: w.now,
      issued: 0n,
      issuanceCap: null,
      wallets: 0,
      asset: 'KZT_ALPHKZKA',
    });
    expect(w.platform.participantByKeyHash(keyHash(1))?.id).toBe('alpha');
    expect(w.platform.bankEvents('alpha', 0, 10).events).toMatchObject([{ seq: 1, type: 'bank.onboarded', detail: 'ALPHKZKA', at: w.now }]);
    w.expectExisted(registerBank('alpha', 'ALPHKZKA', 1));
    w.expectRejected(registerBank('alpha', 'ALPHKZKA', 1, { name: 'Another name' }), 'exists_with_different_fields');
    w.expectRejected(registerBank('alpha', 'ALPHKZKB', 1), 'exists_with_different_fields');
    w.expectRejected(registerBank('alpha', 'ALPHKZKA', 9), 'exists_with_different_fields');
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('registers merchants and government bodies for a wallet of their kind, and auditors and regulators without one', () => {
    const w = standardWorld();
    w.setup([w.openWallet('akimat', 'alpha', { kind: 'government', tier: 2 })]);
    const merchant: RegisterParticipant = { kind: 'x.register_participant', id: 'shop-llp', role: 'merchant', name: 'Shop LLP', bic: '', wallet: 'shop', keyHash: keyHash(10) };
    expect(w.one(merchant)).toEqual(ok);
    expect(w.platform.getParticipant('shop-llp')).toMatchObject({ role: 'merchant', wallet: 'shop', bank: 'beta', bic: null, status: 'active', keyVersion: 1 });
    expect(w.one({ ...merchant, id: 'city', role: 'government', wallet: 'akimat', keyHash: keyHash(11) })).toEqual(ok);
    expect(w.platform.getParticipant('city')?.bank).toBe('alpha');
    expect(w.one({ ...merchant, id: 'audit', role: 'auditor', wallet: '', keyHash: keyHash(12) })).toEqual(ok);
    expect(w.platform.getParticipant('audit')).toMatchObject({ role: 'auditor', wallet: null, bank: null });
    expect(w.one({ ...merchant, id: 'reg', role: 'regulator', wallet: '', keyHash: keyHash(13) })).toEqual(ok);
    w.expectExisted(merchant);

    w.expectRejected({ ...merchant, id: 'shop-2', wallet: 'ghost', keyHash: keyHash(20) }, 'wallet_not_found');
    w.expectRejected({ ...merchant, id: 'shop-2', wallet: 'alice', keyHash: keyHash(20) }, 'participant_role_invalid');
    w.expectRejected({ ...merchant, id: 'shop-2', role: 'government', wallet: 'shop', keyHash: keyHash(20) }, 'participant_role_invalid');
    w.expectRejected({ ...merchant, id: 'shop-2', bic: 'SHOPKZKA', keyHash: keyHash(20) }, 'participant_role_invalid');
    w.expectRejected({ ...merchant, id: 'audit-2', role: 'auditor', wallet: 'shop', keyHash: keyHash(20) }, 'participant_role_invalid');
    w.expectRejected({ ...merchant, id: 'audit-2', role: 'auditor', wallet: '', bic: 'AUDTKZKA', keyHash: keyHash(20) }, 'participant_role_invalid');
    w.expectRejected({ ...merchant, id: 'op', role: 'operator' as never, wallet: '', keyHash: keyHash(20) }, 'participant_role_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { wallet: 'shop' }), 'participant_role_invalid');
    // The digest of an API key belongs to one participant only.
    w.expectRejected({ ...merchant, id: 'shop-2', keyHash: keyHash(10) }, 'api_key_in_use');
    w.expectRejected({ ...merchant, id: 'audit-2', role: 'auditor', wallet: '', keyHash: keyHash(1) }, 'api_key_in_use');
    w.expectReplayMatches();
  });

  it('rejects malformed registrations with the first applicable code', () => {
    const w = standardWorld();
    // Precedence (platformCodes order): id, the key hash's form (field_invalid), name, BIC, BIC in
    // use, role, then a key hash that belongs to another participant (api_key_in_use).
    w.expectRejected(registerBank('G', 'bad', 1, { name: '', keyHash: 'ab', role: 'operator' as never }), 'id_invalid');
    w.expectRejected(registerBank('g', 'GAMMKZKA', 20), 'id_invalid');
    w.expectRejected(registerBank('-gamma', 'GAMMKZKA', 20), 'id_invalid');
    w.expectRejected(registerBank('g'.repeat(33), 'GAMMKZKA', 20), 'id_invalid');
    w.expectRejected(registerBank('gamma', 'bad', 20, { name: '', keyHash: 'ab', role: 'operator' as never }), 'field_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { keyHash: 'A'.repeat(64) }), 'field_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { keyHash: 'ab' }), 'field_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { keyHash: `${keyHash(20)}0` }), 'field_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { keyHash: `${keyHash(20)}\n` }), 'field_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { keyHash: '' }), 'field_invalid');
    w.expectRejected(registerBank('gamma', 'bad', 1, { name: '' }), 'name_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { name: 'n'.repeat(129) }), 'name_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 20, { name: 'lone \ud800' }), 'name_invalid');
    w.expectRejected(registerBank('gamma', 'gammkzka', 1), 'bic_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZK', 20), 'bic_invalid');
    w.expectRejected(registerBank('gamma', 'ALPHKZKA', 1), 'bic_in_use');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 1, { role: 'operator' as never }), 'participant_role_invalid');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 1), 'api_key_in_use');
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 2), 'api_key_in_use');
    // Names count characters, not UTF-16 units.
    expect(w.one(registerBank('gamma', 'GAMMKZKA', 20, { name: '😀'.repeat(128) }))).toEqual(ok);
    // An 11-character BIC is fine too.
    expect(w.one(registerBank('delta', 'DELTKZKAXXX', 21))).toEqual(ok);
    expect(w.ledger.getAsset('KZT_DELTKZKAXXX')).toBeDefined();
  });

  it('suspends and reinstates a participant, with events for banks', () => {
    const w = standardWorld();
    expect(w.one(suspend('alpha'))).toEqual(ok);
    expect(w.platform.getBank('alpha')?.status).toBe('suspended');
    w.expectExisted(suspend('alpha'));
    expect(w.one(reinstate('alpha'))).toEqual(ok);
    w.expectExisted(reinstate('alpha'));
    const types = w.platform.bankEvents('alpha', 0, 1000).events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(['bank.suspended', 'bank.reinstated']);
    w.expectRejected(suspend('ghost'), 'participant_not_found');
    w.expectRejected({ kind: 'x.set_participant_status', id: 'alpha', status: 'closed' as never }, 'field_invalid');
    // The status is checked before the participant is looked up.
    w.expectRejected({ kind: 'x.set_participant_status', id: 'ghost', status: 'closed' as never }, 'field_invalid');
    w.expectReplayMatches();
  });

  it('replaces a participant key: the new hash finds it, the old one no longer does', () => {
    const w = standardWorld();
    expect(w.one({ kind: 'x.set_participant_key', id: 'alpha', keyHash: keyHash(100) })).toEqual(ok);
    expect(w.platform.getParticipant('alpha')?.keyVersion).toBe(2);
    expect(w.platform.participantByKeyHash(keyHash(100))?.id).toBe('alpha');
    expect(w.platform.participantByKeyHash(keyHash(1))).toBeUndefined();
    w.expectExisted({ kind: 'x.set_participant_key', id: 'alpha', keyHash: keyHash(100) });
    // beta holds keyHash(2).
    w.expectRejected({ kind: 'x.set_participant_key', id: 'alpha', keyHash: keyHash(2) }, 'api_key_in_use');
    w.expectRejected({ kind: 'x.set_participant_key', id: 'alpha', keyHash: 'not hex' }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_participant_key', id: 'alpha', keyHash: 'A'.repeat(64) }, 'field_invalid');
    // The key hash's form is checked before the participant is looked up.
    w.expectRejected({ kind: 'x.set_participant_key', id: 'ghost', keyHash: 'not hex' }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_participant_key', id: 'ghost', keyHash: keyHash(101) }, 'participant_not_found');
    // The old key's hash is free again; the new one is taken.
    w.expectRejected(registerBank('gamma', 'GAMMKZKA', 100), 'api_key_in_use');
    expect(w.one(registerBank('gamma', 'GAMMKZKA', 1))).toEqual(ok);
    expect(w.platform.participantByKeyHash(keyHash(1))?.id).toBe('gamma');
    w.expectReplayMatches();
  });

});

// ---- reserves, issuance, redemption -----------------------------------------------------------

describe('reserves, issuance and redemption', () => {
  function twoBanks(): World {
    const w = new World();
    w.setup([registerBank('alpha', 'ALPHKZKA', 1), registerBank('beta', 'BETAKZKA', 2)]);
    return w;
  }

  it('a top-up moves central bank reserves to the bank; retries are idempotent and ids are per kind', () => {
    const w = twoBanks();
    expect(w.one(topUp('op-1', 'alpha', 1000n))).toEqual(ok);
    expect(w.balance('bank:alpha:reserve')).toBe(1000n);
    expect(w.balance('cb:reserves')).toBe(-1000n);
    expect(w.ledger.getTransfer('res:op-1')).toMatchObject({ debit: 'cb:reserves', credit: 'bank:alpha:reserve', amount: 1000n, code: 1 });
    expect(w.platform.statement('alpha', Math.floor(w.now / DAY))).toMatchObject({ reservesToppedUp: 1000n, closingReserve: 1000n });
    w.expectExisted(topUp('op-1', 'alpha', 1000n));
    w.expectRejected(topUp('op-1', 'alpha', 999n), 'exists_with_different_fields');
    w.expectRejected(topUp('op-1', 'beta', 1000n), 'exists_with_different_fields');
    // The same id for another kind of operation is another operation.
    expect(w.one(issue('op-1', 'alpha', 400n))).toEqual(ok);
    expect(w.one(redeem('op-1', 'alpha', 100n))).toEqual(ok);
    expect(w.platform.bankEvents('alpha', 0, 100).events.map((e) => [e.type, e.amount])).toEqual([
      ['bank.onboarded', null],
      ['reserves.topped_up', 1000n],
      ['issuance', 400n],
      ['redemption', 100n],
    ]);
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it.each([
    ['an id with a colon', topUp('a:b', 'alpha', 1n), 'id_invalid'],
    ['an empty id', topUp('', 'alpha', 1n), 'id_invalid'],
    ['an id of 57 characters', topUp('x'.repeat(57), 'alpha', 1n), 'id_invalid'],
    ['a zero amount', topUp('t', 'alpha', 0n), 'amount_must_be_positive'],
    ['a negative amount', issue('t', 'alpha', -1n), 'amount_must_be_positive'],
    ['an amount beyond 64 bits', redeem('t', 'alpha', MAX + 1n), 'amount_exceeds_maximum'],
    ['an unknown bank', topUp('t', 'ghost', 1n), 'bank_not_found'],
    ['a bank id that is not a bank', issue('t', 'audit', 1n), 'bank_not_found'],
    ['precedence: bad id, zero amount, unknown bank', topUp('a b', 'ghost', 0n), 'id_invalid'],
    ['precedence: zero amount, unknown bank', issue('t', 'ghost', 0n), 'amount_must_be_positive'],
  ] as const)('rejects %s', (_name, command, code) => {
    const w = twoBanks();
    w.setup([{ kind: 'x.register_participant', id: 'audit', role: 'auditor', name: 'Audit', bic: '', wallet: '', keyHash: keyHash(5) }]);
    w.expectRejected(command, code);
  });

  it('issuance takes reserves back and credits the bank digital tenge; redemption is the mirror', () => {
    const w = twoBanks();
    w.setup([topUp('t1', 'alpha', 1000n)]);
    expect(w.one(issue('i1', 'alpha', 600n))).toEqual(ok);
    expect(w.ledger.getTransfer('iss:i1:r')).toMatchObject({ debit: 'bank:alpha:reserve', credit: 'cb:reserves', amount: 600n, code: 2 });
    expect(w.ledger.getTransfer('iss:i1')).toMatchObject({ debit: 'cb:issuance', credit: 'bank:alpha:cbdc', amount: 600n, code: 2 });
    expect([w.balance('bank:alpha:reserve'), w.balance('bank:alpha:cbdc'), w.balance('cb:issuance'), w.balance('cb:reserves')]).toEqual([400n, 600n, -600n, -400n]);
    expect(w.platform.getBank('alpha')?.issued).toBe(600n);
    expect(w.one(redeem('r1', 'alpha', 250n))).toEqual(ok);
    expect(w.ledger.getTransfer('red:r1')).toMatchObject({ debit: 'bank:alpha:cbdc', credit: 'cb:issuance', amount: 250n, code: 3 });
    expect(w.ledger.getTransfer('red:r1:r')).toMatchObject({ debit: 'cb:reserves', credit: 'bank:alpha:reserve', amount: 250n, code: 3 });
    expect([w.balance('bank:alpha:reserve'), w.balance('bank:alpha:cbdc'), w.balance('cb:issuance')]).toEqual([650n, 350n, -350n]);
    expect(w.platform.getBank('alpha')?.issued).toBe(350n);
    expect(w.platform.statement('alpha', Math.floor(w.now / DAY))).toMatchObject({ reservesToppedUp: 1000n, issued: 600n, redeemed: 250n, closingReserve: 650n, closingFloat: 350n });
    w.expectExisted(issue('i1', 'alpha', 600n));
    w.expectExisted(redeem('r1', 'alpha', 250n));
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('issuance is refused without reserves, for a suspended bank and above the cap; redemption without float and for a suspended bank', () => {
    const w = twoBanks();
    w.setup([topUp('t1', 'alpha', 1000n), issue('i1', 'alpha', 600n)]);
    w.expectRejected(issue('i2', 'alpha', 401n), 'insufficient_reserves');
    w.expectRejected(redeem('r2', 'alpha', 601n), 'insufficient_float');
    w.setup([{ kind: 'x.set_issuance_cap', bank: 'alpha', cap: 700n }]);
    expect(w.platform.getBank('alpha')?.issuanceCap).toBe(700n);
    // insufficient_reserves comes before issuance_cap_exceeded.
    w.expectRejected(issue('i2', 'alpha', 401n), 'insufficient_reserves');
    w.expectRejected(issue('i2', 'alpha', 101n), 'issuance_cap_exceeded');
    expect(w.one(issue('i2', 'alpha', 100n))).toEqual(ok); // exactly the cap
    w.expectRejected(issue('i3', 'alpha', 1n), 'issuance_cap_exceeded');
    // Redemption lowers net issuance, making room under the cap again.
    w.setup([redeem('r1', 'alpha', 50n)]);
    expect(w.platform.getBank('alpha')?.issued).toBe(650n);
    expect(w.one(issue('i3', 'alpha', 50n))).toEqual(ok);
    w.expectRejected(issue('i4', 'alpha', 1n), 'issuance_cap_exceeded');
    // Suspension comes before insufficient reserves and the cap; a top-up still works.
    w.setup([suspend('alpha')]);
    w.expectRejected(issue('i4', 'alpha', 5000n), 'bank_suspended');
    w.expectRejected(redeem('r2', 'alpha', 5000n), 'bank_suspended');
    w.expectRejected(redeem('r2', 'alpha', 1n), 'bank_suspended');
    w.setup([reinstate('alpha')]);
    expect(w.one(redeem('r2', 'alpha', 1n))).toEqual(ok);
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('set_issuance_cap sets, removes (-1) and validates the cap', () => {
    const w = twoBanks();
    w.setup([topUp('t1', 'alpha', 1000n), issue('i1', 'alpha', 600n)]);
    // A cap of exactly what is issued stops further issuance.
    expect(w.one({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: 600n })).toEqual(ok);
    expect(w.platform.getBank('alpha')?.issuanceCap).toBe(600n);
    w.expectExisted({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: 600n });
    w.expectRejected(issue('i2', 'alpha', 1n), 'issuance_cap_exceeded');
    // A cap below what is already issued is allowed; it only stops further issuance.
    expect(w.one({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: 100n })).toEqual(ok);
    w.expectRejected(issue('i2', 'alpha', 1n), 'issuance_cap_exceeded');
    expect(w.one({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: -1n })).toEqual(ok);
    expect(w.platform.getBank('alpha')?.issuanceCap).toBeNull();
    w.expectExisted({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: -1n });
    expect(w.one(issue('i2', 'alpha', 400n))).toEqual(ok);
    expect(w.one({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: MAX })).toEqual(ok);
    expect(w.platform.getBank('alpha')?.issuanceCap).toBe(MAX);
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'ghost', cap: 1n }, 'bank_not_found');
    // 0 and anything below -1 are not caps (field_invalid); precedence: the cap's form, its size, then the bank.
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: 0n }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: -2n }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: -MAX - 1n }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'ghost', cap: 0n }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'alpha', cap: MAX + 1n }, 'amount_exceeds_maximum');
    w.expectRejected({ kind: 'x.set_issuance_cap', bank: 'ghost', cap: MAX + 1n }, 'amount_exceeds_maximum');
    expect(w.platform.getBank('alpha')?.issuanceCap).toBe(MAX);
    w.expectReplayMatches();
  });
});

// ---- wallets ----------------------------------------------------------------------------------

describe('wallets', () => {
  it('opening a wallet creates its wallet and deposit accounts and its record; retries are recognised even after later changes', () => {
    const w = standardWorld();
    const open = w.openWallet('dave', 'alpha', { tier: 1, convertIncoming: true });
    expect(w.one(open)).toEqual(ok);
    expect(w.ledger.getAccount('w:dave')).toMatchObject({ asset: 'KZT', allowNegative: false, status: 'active' });
    expect(w.ledger.getAccount('dep:dave')).toMatchObject({ asset: 'KZT_ALPHKZKA', allowNegative: false });
    expect(w.wallet('dave')).toEqual({
      id: 'dave',
      bank: 'alpha',
      kind: 'individual',
      tier: 1,
      status: 'active',
      publicKey: open.publicKey,
      keyVersion: 1,
      lastSequence: 0,
      // Without a time, the view depends on the journal alone: no payment out yet, so day 0.
      day: 0,
      spentToday: 0n,
      convertIncoming: true,
      createdAt: w.now,
      closedAt: null,
    });
    expect(w.platform.getWallet('dave', w.now)).toMatchObject({ day: Math.floor(w.now / DAY), spentToday: 0n });
    expect(w.platform.getBank('alpha')?.wallets).toBe(3);
    expect(w.platform.bankEvents('alpha', 0, 1000).events.at(-1)).toMatchObject({ type: 'wallet.opened', wallet: 'dave', detail: 'individual tier 1' });
    w.expectExisted(open);
    w.setup([
      { kind: 'x.set_wallet_key', id: 'dave', publicKey: newKey(), reason: 'rotation' },
      { kind: 'x.set_wallet_tier', id: 'dave', tier: 2 },
      { kind: 'x.set_wallet_conversion', id: 'dave', convertIncoming: false },
    ]);
    w.expectExisted(open);
    w.expectRejected({ ...open, tier: 2 }, 'wallet_already_exists');
    w.expectRejected({ ...open, bank: 'beta' }, 'wallet_already_exists');
    w.expectRejected({ ...open, publicKey: newKey() }, 'wallet_already_exists');
    w.expectRejected({ ...open, walletKind: 'merchant' }, 'wallet_already_exists');
    w.expectRejected({ ...open, convertIncoming: false }, 'wallet_already_exists');
    w.expectReplayMatches();
  });

  it('rejects malformed openings with the first applicable code', () => {
    const w = standardWorld();
    const open = (overrides: Partial<OpenWallet>): OpenWallet => ({ ...w.openWallet('erin', 'alpha'), ...overrides });
    // Precedence (platformCodes order): id, the convertIncoming flag (field_invalid), bank, tier,
    // kind, key, and only then a suspended bank.
    w.expectRejected(open({ id: 'ab', bank: 'ghost', convertIncoming: 1 as never }), 'id_invalid');
    w.expectRejected(open({ id: 'a.b.c' }), 'id_invalid');
    w.expectRejected(open({ id: 'x'.repeat(49) }), 'id_invalid');
    w.expectRejected(open({ convertIncoming: 1 as never, bank: 'ghost', tier: 7 }), 'field_invalid');
    w.expectRejected(open({ convertIncoming: 'yes' as never }), 'field_invalid');
    w.expectRejected(open({ bank: 'ghost', tier: 7 }), 'bank_not_found');
    w.expectRejected(open({ tier: 7, walletKind: 'robot' as never }), 'tier_invalid');
    w.expectRejected(open({ tier: 1.5 }), 'tier_invalid');
    w.expectRejected(open({ tier: 256 }), 'tier_invalid');
    w.expectRejected(open({ walletKind: 'robot' as never, publicKey: 'nope' }), 'wallet_kind_invalid');
    w.expectRejected(open({ publicKey: 'nope' }), 'public_key_invalid');
    w.expectRejected(open({ publicKey: smallOrderKey }), 'public_key_invalid');
    w.expectRejected(open({ publicKey: `${newKey()}A` }), 'public_key_invalid');
    w.setup([suspend('alpha')]);
    w.expectRejected(open({ bank: 'ghost' }), 'bank_not_found');
    w.expectRejected(open({ tier: 7 }), 'tier_invalid');
    w.expectRejected(open({ walletKind: 'robot' as never }), 'wallet_kind_invalid');
    w.expectRejected(open({ publicKey: 'nope' }), 'public_key_invalid');
    w.expectRejected(open({}), 'bank_suspended');
    w.setup([reinstate('alpha')]);
    expect(w.one(open({}))).toEqual(ok);
    // A wallet id whose accounts exist already (made through the raw ledger) is refused whole.
    w.setup([{ kind: 'create_account', id: 'dep:frank', asset: 'KZT_ALPHKZKA', allowNegative: false, maxBalance: null }]);
    w.expectRejected(open({ id: 'frank' }), 'wallet_already_exists');
    expect(w.ledger.getAccount('w:frank')).toBeUndefined();
  });

  it('freezes and unfreezes a wallet by its bank or the operator, mirrored on its ledger account', () => {
    const w = standardWorld();
    expect(w.one(freeze('alice', 'alpha', 'suspicious'))).toEqual(ok);
    expect(w.wallet('alice').status).toBe('frozen');
    expect(w.ledger.getAccount('w:alice')?.status).toBe('frozen');
    w.expectExisted(freeze('alice', 'alpha', 'another reason'));
    expect(w.one(unfreeze('alice', 'operator', 'cleared'))).toEqual(ok);
    expect(w.ledger.getAccount('w:alice')?.status).toBe('active');
    expect(w.one(freeze('alice', 'operator'))).toEqual(ok);
    const events = w.platform.bankEvents('alpha', 0, 1000).events.slice(-3);
    expect(events.map((e) => [e.type, e.wallet, e.detail])).toEqual([
      ['wallet.frozen', 'alice', 'suspicious'],
      ['wallet.unfrozen', 'alice', 'by operator: cleared'],
      ['wallet.frozen', 'alice', 'by operator'],
    ]);
    w.expectRejected(unfreeze('alice', 'beta'), 'participant_role_invalid');
    w.expectRejected(unfreeze('alice', 'alpha', 'r'.repeat(129)), 'reference_too_long');
    w.expectRejected(freeze('ghost', 'operator'), 'wallet_not_found');
    // Precedence (platformCodes order): the status (only active and frozen are commands) and the
    // reason come first, even for an unknown wallet and before an unchanged status answers existed;
    // then the wallet, the actor, a closed wallet.
    w.expectRejected({ ...freeze('alice', 'operator'), status: 'closed' as never }, 'field_invalid');
    w.expectRejected({ ...freeze('ghost', 'nobody', 'r'.repeat(129)), status: 'closed' as never }, 'field_invalid');
    w.expectRejected(freeze('ghost', 'nobody', 'r'.repeat(129)), 'reference_too_long');
    w.expectRejected(freeze('ghost', 'nobody', 'lone \ud800'), 'reference_invalid');
    w.expectRejected(freeze('alice', 'operator', 'r'.repeat(129)), 'reference_too_long');
    w.expectRejected(freeze('alice', 'operator', 'lone \ud800'), 'reference_invalid');
    w.expectRejected(freeze('alice', 'nobody'), 'participant_role_invalid');
    w.expectRejected({ ...freeze('alice', 'operator'), reason: 7 as never }, 'field_invalid');
    // Frozen by the central bank: its bank may not unfreeze, close or re-key it; the operator may unfreeze.
    w.expectRejected(unfreeze('alice', 'alpha'), 'frozen_by_central_bank');
    w.expectRejected(close('alice'), 'frozen_by_central_bank');
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'alice', publicKey: newKey(), reason: 'recovery' }, 'frozen_by_central_bank');
    // An invalid key is reported before the freeze.
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'alice', publicKey: 'short', reason: 'recovery' }, 'public_key_invalid');
    w.setup([unfreeze('alice', 'operator'), close('bob')]);
    w.expectRejected(freeze('bob', 'alpha'), 'wallet_closed');
    w.expectRejected(unfreeze('bob', 'alpha'), 'wallet_closed');
    // A closed wallet: the actor and the status are checked first.
    w.expectRejected(freeze('bob', 'beta'), 'participant_role_invalid');
    w.expectRejected({ ...unfreeze('bob', 'alpha'), status: 'closed' as never }, 'field_invalid');
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('rotates and recovers keys: the key version counts up and payments signed for an older version are refused', () => {
    const w = standardWorld();
    const rotated = newKey();
    expect(w.one({ kind: 'x.set_wallet_key', id: 'alice', publicKey: rotated, reason: 'rotation' })).toEqual(ok);
    expect(w.wallet('alice')).toMatchObject({ publicKey: rotated, keyVersion: 2 });
    w.expectExisted({ kind: 'x.set_wallet_key', id: 'alice', publicKey: rotated, reason: 'recovery' });
    w.expectRejected(payment('p1', 'alice', 'bob', 100n, 1), 'signature_invalid');
    expect(w.one(payment('p1', 'alice', 'bob', 100n, 1, { keyVersion: 2 }))).toEqual(ok);
    expect(w.one({ kind: 'x.set_wallet_key', id: 'alice', publicKey: newKey(), reason: 'recovery' })).toEqual(ok);
    expect(w.wallet('alice').keyVersion).toBe(3);
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, 2, { keyVersion: 2 }), 'signature_invalid');
    expect(w.platform.bankEvents('alpha', 0, 1000).events.filter((e) => e.wallet === 'alice' && e.type.startsWith('wallet.key')).map((e) => e.type)).toEqual([
      'wallet.key_rotated',
      'wallet.key_recovered',
    ]);
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'alice', publicKey: 'short', reason: 'rotation' }, 'public_key_invalid');
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'alice', publicKey: smallOrderKey, reason: 'rotation' }, 'public_key_invalid');
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'ghost', publicKey: newKey(), reason: 'rotation' }, 'wallet_not_found');
    // The reason is checked first (field_invalid), even for an unknown wallet or an unchanged key.
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'alice', publicKey: newKey(), reason: 'reset' as never }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'alice', publicKey: w.wallet('alice').publicKey, reason: 'reset' as never }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'ghost', publicKey: 'short', reason: 'reset' as never }, 'field_invalid');
    w.setup([close('bob')]);
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'bob', publicKey: newKey(), reason: 'rotation' }, 'wallet_closed');
    // A closed wallet: an invalid key is reported first, and its own key again is no retry.
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'bob', publicKey: 'short', reason: 'rotation' }, 'public_key_invalid');
    w.expectRejected({ kind: 'x.set_wallet_key', id: 'bob', publicKey: w.keys.get('bob')!, reason: 'rotation' }, 'wallet_closed');
    w.expectReplayMatches();
  });

  it('changes tier and conversion, with events', () => {
    const w = standardWorld();
    expect(w.one({ kind: 'x.set_wallet_tier', id: 'alice', tier: 2 })).toEqual(ok);
    expect(w.wallet('alice').tier).toBe(2);
    w.expectExisted({ kind: 'x.set_wallet_tier', id: 'alice', tier: 2 });
    w.expectRejected({ kind: 'x.set_wallet_tier', id: 'alice', tier: 3 }, 'tier_invalid');
    w.expectRejected({ kind: 'x.set_wallet_tier', id: 'ghost', tier: 1 }, 'wallet_not_found');
    expect(w.one({ kind: 'x.set_wallet_conversion', id: 'alice', convertIncoming: true })).toEqual(ok);
    expect(w.wallet('alice').convertIncoming).toBe(true);
    w.expectExisted({ kind: 'x.set_wallet_conversion', id: 'alice', convertIncoming: true });
    w.expectRejected({ kind: 'x.set_wallet_conversion', id: 'ghost', convertIncoming: true }, 'wallet_not_found');
    expect(w.platform.bankEvents('alpha', 0, 1000).events.slice(-2).map((e) => [e.type, e.detail])).toEqual([
      ['wallet.tier_changed', 'tier 2'],
      ['wallet.conversion_changed', 'on'],
    ]);
    w.expectRejected({ kind: 'x.set_wallet_tier', id: 'alice', tier: 1.5 }, 'tier_invalid');
    w.expectRejected({ kind: 'x.set_wallet_tier', id: 'alice', tier: 256 }, 'tier_invalid');
    // A flag that is not a boolean is refused (field_invalid) before the wallet is looked up.
    w.expectRejected({ kind: 'x.set_wallet_conversion', id: 'alice', convertIncoming: 1 as never }, 'field_invalid');
    w.expectRejected({ kind: 'x.set_wallet_conversion', id: 'ghost', convertIncoming: 'yes' as never }, 'field_invalid');
    w.setup([close('bob')]);
    w.expectRejected({ kind: 'x.set_wallet_tier', id: 'bob', tier: 1 }, 'wallet_closed');
    w.expectRejected({ kind: 'x.set_wallet_conversion', id: 'bob', convertIncoming: true }, 'wallet_closed');
    // A closed wallet: the tier and the flag are checked first.
    w.expectRejected({ kind: 'x.set_wallet_tier', id: 'bob', tier: 3 }, 'tier_invalid');
    w.expectRejected({ kind: 'x.set_wallet_conversion', id: 'bob', convertIncoming: 0 as never }, 'field_invalid');
    w.expectReplayMatches();
  });

  it('closing sweeps the balance to the holder’s bank account; a closed wallet neither pays, is paid nor is funded', () => {
    const w = standardWorld();
    const floatBefore = w.balance('bank:alpha:cbdc');
    const depositBefore = w.balance('dep:alice');
    expect(w.one(close('alice'))).toEqual(ok);
    expect(w.ledger.getTransfer('close:alice')).toMatchObject({ debit: 'w:alice', credit: 'bank:alpha:cbdc', amount: kzt(80_000), code: 30 });
    expect(w.ledger.getTransfer('close:alice:d')).toMatchObject({ debit: 'bank:alpha:money', credit: 'dep:alice', amount: kzt(80_000), code: 30 });
    expect(w.balance('w:alice')).toBe(0n);
    expect(w.balance('bank:alpha:cbdc')).toBe(floatBefore + kzt(80_000));
    expect(w.balance('dep:alice')).toBe(depositBefore + kzt(80_000));
    expect(w.ledger.getAccount('w:alice')?.status).toBe('closed');
    expect(w.wallet('alice')).toMatchObject({ status: 'closed', closedAt: w.now });
    expect(w.platform.bankEvents('alpha', 0, 1000).events.at(-1)).toMatchObject({ type: 'wallet.closed', wallet: 'alice', amount: kzt(80_000), detail: 'balance to bank account' });
    expect(w.platform.statement('alpha', Math.floor(w.now / DAY))).toMatchObject({ walletsClosed: 1, closingWalletHoldings: 0n });
    w.expectExisted(close('alice'));
    w.expectRejected(payment('p1', 'alice', 'bob', 1n, 1), 'wallet_closed');
    w.expectRejected(payment('p1', 'carol', 'alice', 1n, 1), 'payee_not_active');
    w.expectRejected(fund('f1', 'alice', 1n), 'wallet_closed');
    w.expectRejected(defund('d1', 'alice', 1n), 'wallet_closed');
    w.expectRejected(paymentRequest('rq', 'alice', 1n), 'wallet_closed');
    // A retry of the close answers existed; a close with another sweepTo is another command.
    w.expectRejected(close('alice', 'bob'), 'exists_with_different_fields');
    // The holder can still take the money out of the bank account.
    expect(w.one(debit('d1', 'alice', w.balance('dep:alice')))).toEqual(ok);
    expect(w.balance('dep:alice')).toBe(0n);
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('closing a wallet with nothing in it moves no money', () => {
    const w = standardWorld();
    expect(w.one(close('bob'))).toEqual(ok);
    expect(w.ledger.getTransfer('close:bob')).toBeUndefined();
    expect(w.ledger.getAccount('w:bob')?.status).toBe('closed');
    // With nothing to sweep, even a wallet above its (lowered) holding limit may be the target.
    w.setup([w.openWallet('dan', 'alpha'), { kind: 'x.set_wallet_tier', id: 'carol', tier: 0 }]);
    expect(w.balance('w:carol')).toBe(kzt(400_000));
    w.expectRejected(close('alice', 'carol'), 'holding_limit_exceeded');
    expect(w.one(close('dan', 'carol'))).toEqual(ok);
    expect(w.ledger.getTransfer('close:dan')).toBeUndefined();
    expect(w.ledger.getAccount('w:dan')?.status).toBe('closed');
    expect(w.balance('w:carol')).toBe(kzt(400_000));
    w.expectExisted(close('dan', 'carol'));
    w.expectRejected(close('dan'), 'exists_with_different_fields');
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('closing can sweep the balance into another active wallet within its holding limit', () => {
    const w = standardWorld();
    w.setup([credit('c-bob', 'bob', kzt(50_000)), fund('f-bob', 'bob', kzt(30_000))]);
    // alice (tier 0) holds 80,000; 30,000 more would take her over 100,000.
    w.expectRejected(close('bob', 'alice'), 'holding_limit_exceeded');
    w.expectRejected(close('bob', 'bob'), 'sweep_target_invalid');
    w.expectRejected(close('bob', 'ghost'), 'sweep_target_invalid');
    w.setup([freeze('carol', 'beta')]);
    w.expectRejected(close('bob', 'carol'), 'sweep_target_invalid');
    w.setup([unfreeze('carol', 'beta'), close('conv')]);
    w.expectRejected(close('bob', 'conv'), 'sweep_target_invalid');
    w.expectRejected(close('ghost', 'carol'), 'wallet_not_found');
    // Not into a wallet whose bank is suspended (payee_bank_suspended, before the holding limit):
    // carol, moved down to tier 0, holds more than it allows.
    w.setup([{ kind: 'x.set_wallet_tier', id: 'carol', tier: 0 }]);
    w.expectRejected(close('bob', 'carol'), 'holding_limit_exceeded');
    w.setup([suspend('beta')]);
    w.expectRejected(close('bob', 'carol'), 'payee_bank_suspended');
    w.setup([reinstate('beta'), { kind: 'x.set_wallet_tier', id: 'carol', tier: 1 }]);
    // Nor out of a wallet whose own bank is suspended, wherever the balance would go.
    w.setup([suspend('alpha')]);
    w.expectRejected(close('bob'), 'bank_suspended');
    w.expectRejected(close('bob', 'carol'), 'bank_suspended');
    w.expectRejected(close('bob', 'alice'), 'bank_suspended');
    w.setup([reinstate('alpha')]);
    const carolBefore = w.balance('w:carol');
    expect(w.one(close('bob', 'carol'))).toEqual(ok);
    expect(w.ledger.getTransfer('close:bob')).toMatchObject({ debit: 'w:bob', credit: 'w:carol', amount: kzt(30_000) });
    expect(w.balance('w:carol')).toBe(carolBefore + kzt(30_000));
    expect(w.platform.bankEvents('beta', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment.received', wallet: 'carol', counterparty: 'bob', amount: kzt(30_000) });
    expect(w.platform.bankEvents('alpha', 0, 1000).events.at(-1)).toMatchObject({ type: 'wallet.closed', wallet: 'bob', counterparty: 'carol', amount: kzt(30_000) });
    // A retry with the same target answers existed (also once the bank is suspended); another
    // target, or none, is another command.
    w.expectExisted(close('bob', 'carol'));
    w.expectRejected(close('bob'), 'exists_with_different_fields');
    w.expectRejected(close('bob', 'shop'), 'exists_with_different_fields');
    w.setup([suspend('alpha')]);
    w.expectExisted(close('bob', 'carol'));
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('a frozen wallet can be closed to its bank account (it is unfrozen on the ledger first), not into another wallet', () => {
    const w = standardWorld();
    w.setup([freeze('alice', 'alpha')]);
    // Its balance may only go back to the holder's own bank account.
    w.expectRejected(close('alice', 'carol'), 'wallet_frozen');
    w.expectRejected(close('alice', 'ghost'), 'wallet_frozen');
    w.expectRejected(close('alice', 'alice'), 'wallet_frozen');
    expect(w.one(close('alice'))).toEqual(ok);
    expect(w.ledger.getAccount('w:alice')).toMatchObject({ status: 'closed', balance: 0n });
    expect(w.ledger.getTransfer('close:alice')).toMatchObject({ debit: 'w:alice', credit: 'bank:alpha:cbdc', amount: kzt(80_000) });
    expect(w.balance('w:carol')).toBe(kzt(400_000));
    w.expectExisted(close('alice'));
    w.expectRejected(close('alice', 'carol'), 'exists_with_different_fields');
    w.expectConsistent();
    w.expectReplayMatches();
  });
});

// ---- money between wallets and bank accounts --------------------------------------------------

describe('funding, defunding and the holder’s bank account', () => {
  it('credit and debit mirror the bank account in bank money; fund and defund move it against the bank’s float', () => {
    const w = standardWorld();
    const money = w.balance('bank:alpha:money');
    expect(w.one(credit('op', 'bob', 5000n))).toEqual(ok);
    expect(w.ledger.getTransfer('cr:op')).toMatchObject({ debit: 'bank:alpha:money', credit: 'dep:bob', amount: 5000n, code: 12 });
    expect([w.balance('dep:bob'), w.balance('bank:alpha:money')]).toEqual([5000n, money - 5000n]);
    const float = w.balance('bank:alpha:cbdc');
    expect(w.one(fund('op', 'bob', 3000n))).toEqual(ok);
    expect(w.ledger.getTransfer('fund:op:d')).toMatchObject({ debit: 'dep:bob', credit: 'bank:alpha:money', amount: 3000n, code: 10 });
    expect(w.ledger.getTransfer('fund:op')).toMatchObject({ debit: 'bank:alpha:cbdc', credit: 'w:bob', amount: 3000n, code: 10 });
    expect([w.balance('w:bob'), w.balance('dep:bob'), w.balance('bank:alpha:cbdc')]).toEqual([3000n, 2000n, float - 3000n]);
    expect(w.one(defund('op', 'bob', 1000n))).toEqual(ok);
    expect(w.ledger.getTransfer('def:op')).toMatchObject({ debit: 'w:bob', credit: 'bank:alpha:cbdc', amount: 1000n, code: 11 });
    expect(w.ledger.getTransfer('def:op:d')).toMatchObject({ debit: 'bank:alpha:money', credit: 'dep:bob', amount: 1000n, code: 11 });
    expect(w.one(debit('op', 'bob', 3000n))).toEqual(ok);
    expect(w.ledger.getTransfer('dr:op')).toMatchObject({ debit: 'dep:bob', credit: 'bank:alpha:money', amount: 3000n, code: 13 });
    expect([w.balance('w:bob'), w.balance('dep:bob')]).toEqual([2000n, 0n]);
    expect(w.platform.bankEvents('alpha', 0, 1000).events.slice(-4).map((e) => [e.type, e.wallet, e.amount])).toEqual([
      ['account.credited', 'bob', 5000n],
      ['wallet.funded', 'bob', 3000n],
      ['wallet.defunded', 'bob', 1000n],
      ['account.debited', 'bob', 3000n],
    ]);
    for (const c of [credit('op', 'bob', 5000n), fund('op', 'bob', 3000n), defund('op', 'bob', 1000n), debit('op', 'bob', 3000n)]) w.expectExisted(c);
    w.expectRejected(fund('op', 'bob', 3001n), 'exists_with_different_fields');
    w.expectRejected(fund('op', 'alice', 3000n), 'exists_with_different_fields');
    w.expectRejected(credit('op', 'bob', 1n), 'exists_with_different_fields');
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('rejects wallet operations with the first applicable code', () => {
    const w = standardWorld();
    w.setup([fund('used', 'alice', 1n)]);
    // alice: wallet 80,000.01, bank account 119,999.99 KZT, tier 0 (holding 100,000).
    w.expectRejected(fund('used', 'alice', 0n), 'exists_with_different_fields');
    w.expectRejected(fund('bad id', 'ghost', 0n), 'id_invalid');
    w.expectRejected(fund('f', 'ghost', 0n), 'amount_must_be_positive');
    w.expectRejected(credit('f', 'ghost', MAX + 1n), 'amount_exceeds_maximum');
    w.expectRejected(defund('f', 'ghost', 1n), 'wallet_not_found');
    w.setup([suspend('alpha')]);
    w.expectRejected(fund('f', 'alice', kzt(500_000)), 'bank_suspended');
    w.expectRejected(defund('f', 'alice', 1n), 'bank_suspended');
    w.expectRejected(credit('f', 'alice', 1n), 'bank_suspended');
    w.expectRejected(debit('f', 'alice', 1n), 'bank_suspended');
    // A frozen wallet of a suspended bank: the wallet's status comes first for fund and defund; the
    // bank account (credit, debit) does not depend on the wallet's status.
    w.setup([freeze('alice', 'alpha')]);
    w.expectRejected(fund('f', 'alice', kzt(500_000)), 'wallet_frozen');
    w.expectRejected(defund('f', 'alice', kzt(500_000)), 'wallet_frozen');
    w.expectRejected(credit('f', 'alice', 1n), 'bank_suspended');
    w.expectRejected(debit('f', 'alice', kzt(500_000)), 'bank_suspended');
    w.setup([reinstate('alpha')]);
    w.expectRejected(fund('f', 'alice', kzt(500_000)), 'wallet_frozen');
    w.expectRejected(defund('f', 'alice', kzt(500_000)), 'wallet_frozen');
    w.setup([unfreeze('alice', 'alpha')]);
    // holding limit before insufficient deposit
    w.expectRejected(fund('f', 'alice', kzt(500_000)), 'holding_limit_exceeded');
    w.expectRejected(fund('f', 'alice', kzt(20_000)), 'holding_limit_exceeded');
    w.expectRejected(defund('f', 'alice', kzt(80_000) + 2n), 'insufficient_funds');
    w.expectRejected(debit('f', 'alice', kzt(120_000)), 'insufficient_deposit');
    w.setup([defund('d-alice', 'alice', kzt(80_000) + 1n), fund('f-max', 'alice', kzt(100_000))]);
    w.expectRejected(fund('f', 'alice', 1n), 'holding_limit_exceeded');
    w.setup([defund('d2', 'alice', kzt(100_000)), { kind: 'x.set_wallet_tier', id: 'alice', tier: 1 }]);
    w.expectRejected(fund('f', 'alice', kzt(200_000) + 1n), 'insufficient_deposit');
    // Drain alpha's float: funding then fails on the bank's side, before the holder's deposit.
    w.setup([redeem('drain', 'alpha', w.balance('bank:alpha:cbdc') - 10n)]);
    w.expectRejected(fund('f', 'alice', 11n), 'insufficient_float');
    w.expectRejected(fund('f', 'alice', kzt(200_000) + 1n), 'insufficient_float');
    expect(w.one(fund('f', 'alice', 10n))).toEqual(ok);
    // A closed wallet of a suspended bank: wallet_closed first.
    w.setup([close('bob'), suspend('alpha')]);
    w.expectRejected(fund('f2', 'bob', 1n), 'wallet_closed');
    w.expectRejected(defund('f2', 'bob', 1n), 'wallet_closed');
    w.expectRejected(credit('f2', 'bob', 1n), 'bank_suspended');
    w.expectConsistent();
    w.expectReplayMatches();
  });
});

// ---- payments ---------------------------------------------------------------------------------

describe('payments', () => {
  it('moves money between wallets and records the payment, the sequence, the day’s spending and events for both banks', () => {
    const w = standardWorld();
    const command = payment('p1', 'alice', 'carol', kzt(1000), 1, { reference: 'invoice 7' });
    expect(w.one(command)).toEqual(ok);
    expect(w.ledger.getTransfer('pay:p1')).toMatchObject({ debit: 'w:alice', credit: 'w:carol', amount: kzt(1000), code: 20, reference: 'invoice 7' });
    expect(w.ledger.getTransfer('pay:p1:x')).toBeUndefined();
    expect(w.balance('w:alice')).toBe(kzt(79_000));
    expect(w.balance('w:carol')).toBe(kzt(401_000));
    expect(w.platform.getPayment('p1')).toEqual({
      id: 'p1',
      from: 'alice',
      to: 'carol',
      amount: kzt(1000),
      sequence: 1,
      expiresAt: 0,
      reference: 'invoice 7',
      request: '',
      refundOf: '',
      toWallet: kzt(1000),
      toBankAccount: 0n,
      refunded: 0n,
      timestamp: w.now,
    });
    expect(w.wallet('alice')).toMatchObject({ lastSequence: 1, spentToday: kzt(1000) });
    expect(w.wallet('carol')).toMatchObject({ lastSequence: 0, spentToday: 0n });
    expect(w.platform.bankEvents('alpha', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment.sent', wallet: 'alice', payment: 'p1', counterparty: 'carol', amount: kzt(1000), at: w.now });
    expect(w.platform.bankEvents('beta', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment.received', wallet: 'carol', payment: 'p1', counterparty: 'alice', amount: kzt(1000), toBankAccount: 0n });
    const day = Math.floor(w.now / DAY);
    expect(w.platform.statement('alpha', day)).toMatchObject({ paymentsOut: 1, paymentsOutAmount: kzt(1000), paymentsIn: 0 });
    expect(w.platform.statement('beta', day)).toMatchObject({ paymentsIn: 1, paymentsInAmount: kzt(1000), convertedToBankAccounts: 0n });

    // An exact repeat is an idempotent retry, even though its sequence is now used.
    w.expectExisted(command);
    for (const changed of [
      { amount: kzt(1001) },
      { to: 'bob' },
      { sequence: 2 },
      { reference: 'other' },
      { expiresAt: w.now + 1000 },
      { request: 'r' },
      { refundOf: 'x' },
      { from: 'bob' },
    ]) {
      w.expectRejected({ ...command, ...changed }, 'exists_with_different_fields');
    }
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('rejects malformed payments', () => {
    const w = standardWorld();
    w.expectRejected(payment('bad id', 'alice', 'bob', 1n, 1), 'id_invalid');
    w.expectRejected(payment('', 'alice', 'bob', 1n, 1), 'id_invalid');
    w.expectRejected(payment('x'.repeat(57), 'alice', 'bob', 1n, 1), 'id_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 0n, 1), 'amount_must_be_positive');
    w.expectRejected(payment('p', 'alice', 'bob', -5n, 1), 'amount_must_be_positive');
    w.expectRejected(payment('p', 'alice', 'bob', MAX + 1n, 1), 'amount_exceeds_maximum');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { reference: 'r'.repeat(129) }), 'reference_too_long');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { reference: 'lone \ud800' }), 'reference_invalid');
    // Journaled fields out of range are refused (field_invalid) after the id, before the amount,
    // and leave nothing behind (they used to fail only when the journal was written).
    w.expectRejected(payment('bad id', 'alice', 'bob', 0n, 1, { expiresAt: -1 }), 'id_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 0n, 1, { expiresAt: -1 }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { expiresAt: w.now + 0.5 }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { expiresAt: Number.MAX_SAFE_INTEGER + 1 }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { expiresAt: Number.NaN }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { keyVersion: 0 }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { keyVersion: -1 }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { keyVersion: 1.5 }), 'field_invalid');
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { keyVersion: 2 ** 32 }), 'field_invalid');
    // The largest key version a journal holds is in range (and simply not alice's).
    w.expectRejected(payment('p', 'alice', 'bob', 1n, 1, { keyVersion: 2 ** 32 - 1 }), 'signature_invalid');
    w.expectRejected(payment('p', 'ghost', 'bob', 1n, 1), 'wallet_not_found');
    w.expectRejected(payment('p', 'alice', 'alice', 1n, 1), 'payee_is_payer');
    w.expectRejected(payment('p', 'alice', 'ghost', 1n, 1), 'payee_not_found');
    w.expectRejected(payment('p', 'bob', 'alice', 1n, 1), 'insufficient_funds');
    // A reference of 128 characters (not UTF-16 units) is fine.
    expect(w.one(payment('p', 'alice', 'bob', 1n, 1, { reference: '₸😀'.repeat(64) }))).toEqual(ok);
    expect(w.ledger.getTransfer('pay:p')?.reference).toBe('₸😀'.repeat(64));
  });

  it('sequences must increase strictly, gaps are allowed, and a rejected payment does not use up its sequence', () => {
    const w = standardWorld();
    expect(w.one(payment('p1', 'alice', 'bob', 100n, 5))).toEqual(ok);
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, 5), 'sequence_replayed');
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, 4), 'sequence_replayed');
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, 0), 'sequence_replayed');
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, -1), 'sequence_replayed');
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, 5.5), 'sequence_replayed');
    w.expectRejected(payment('p2', 'alice', 'bob', 100n, Number.MAX_SAFE_INTEGER + 1), 'sequence_replayed');
    expect(w.one(payment('p2', 'alice', 'bob', 100n, 1000))).toEqual(ok);
    // Rejected (over the per-payment limit): sequence 1001 stays free.
    w.expectRejected(payment('p3', 'alice', 'bob', kzt(80_000), 1001), 'per_payment_limit_exceeded');
    expect(w.wallet('alice').lastSequence).toBe(1000);
    expect(w.one(payment('p3', 'alice', 'bob', 100n, 1001))).toEqual(ok);
    // Sequences are per payer.
    expect(w.one(payment('p4', 'bob', 'alice', 100n, 1))).toEqual(ok);
    // Several payments of one wallet in one batch: each must exceed the one before.
    expect(w.apply([payment('p5', 'alice', 'bob', 1n, 1003), payment('p6', 'alice', 'bob', 1n, 1002), payment('p7', 'alice', 'bob', 1n, Number.MAX_SAFE_INTEGER)])).toEqual([
      ok,
      rejected('sequence_replayed'),
      ok,
    ]);
    w.expectRejected(payment('p8', 'alice', 'bob', 1n, Number.MAX_SAFE_INTEGER), 'sequence_replayed');
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('refuses an expired payment; a payment expiring in this very millisecond still goes', () => {
    const w = standardWorld();
    w.expectRejected(payment('p1', 'alice', 'bob', 100n, 1, { expiresAt: w.now }), 'payment_expired');
    w.expectRejected(payment('p1', 'alice', 'bob', 100n, 1, { expiresAt: 1 }), 'payment_expired');
    expect(w.applyAt(w.now + 10, [payment('p1', 'alice', 'bob', 100n, 1, { expiresAt: w.now + 10 })])).toEqual([ok]);
    expect(w.one(payment('p2', 'alice', 'bob', 100n, 2, { expiresAt: w.now + DAY }))).toEqual(ok);
    expect(w.platform.getPayment('p2')?.expiresAt).toBe(w.now + DAY - 1);
    w.expectReplayMatches();
  });

  it('enforces the payer tier’s per-payment limit exactly', () => {
    const w = standardWorld();
    w.setup([credit('c', 'bob', kzt(200_000)), fund('f', 'bob', kzt(100_000))]);
    w.expectRejected(payment('p1', 'bob', 'carol', tier0.perPaymentMax + 1n, 1), 'per_payment_limit_exceeded');
    expect(w.one(payment('p1', 'bob', 'carol', tier0.perPaymentMax, 1))).toEqual(ok);
    // A higher tier has a higher limit.
    w.setup([{ kind: 'x.set_wallet_tier', id: 'bob', tier: 1 }, fund('f2', 'bob', kzt(10_000))]);
    expect(w.one(payment('p2', 'bob', 'carol', tier0.perPaymentMax + 1n, 2))).toEqual(ok);
    w.expectReplayMatches();
  });

  it('enforces the daily limit per UTC day of the batch time; it resets at midnight exactly and rejected payments do not count', () => {
    const w = new World();
    w.setup([
      registerBank('alpha', 'ALPHKZKA', 1),
      topUp('t', 'alpha', 1_000_000n),
      issue('i', 'alpha', 500_000n),
      { kind: 'x.set_tier_limits', tier: 0, holdingMax: 10_000n, perPaymentMax: 600n, dailyMax: 1000n },
    ]);
    w.setup([w.openWallet('alice', 'alpha'), w.openWallet('bob', 'alpha', { tier: 2 })]);
    w.setup([credit('c', 'alice', 10_000n), fund('f', 'alice', 5000n)]);
    const midnight = (Math.floor(w.now / DAY) + 1) * DAY;
    w.applyAt(midnight - 1000, []);
    expect(w.one(payment('p1', 'alice', 'bob', 600n, 1))).toEqual(ok);
    w.expectRejected(payment('p2', 'alice', 'bob', 401n, 2), 'daily_limit_exceeded');
    // A payment rejected for another reason does not count either.
    w.expectRejected(payment('p2', 'alice', 'bob', 601n, 2), 'per_payment_limit_exceeded');
    expect(w.one(payment('p2', 'alice', 'bob', 400n, 2))).toEqual(ok);
    expect(w.wallet('alice').spentToday).toBe(1000n);
    // Refunds a wallet sends count as its spending too.
    w.setup([payment('in', 'bob', 'alice', 50n, 1)]);
    w.expectRejected(payment('refund', 'alice', 'bob', 1n, 3, { refundOf: 'in' }), 'daily_limit_exceeded');
    w.expectRejected(payment('p3', 'alice', 'bob', 1n, 3), 'daily_limit_exceeded');
    // One millisecond before midnight it is still the same day ...
    expect(w.applyAt(midnight - 1, [payment('p3', 'alice', 'bob', 1n, 3)])).toEqual([rejected('daily_limit_exceeded')]);
    // ... at midnight a new day begins.
    expect(w.applyAt(midnight, [payment('p3', 'alice', 'bob', 600n, 3)])).toEqual([ok]);
    expect(w.wallet('alice')).toMatchObject({ spentToday: 600n, day: midnight / DAY });
    expect(w.one(payment('p4', 'alice', 'bob', 400n, 4))).toEqual(ok);
    w.expectRejected(payment('p5', 'alice', 'bob', 1n, 5), 'daily_limit_exceeded');
    // Several payments in one batch add up.
    expect(w.applyAt(midnight + DAY, [payment('p5', 'alice', 'bob', 500n, 5), payment('p6', 'alice', 'bob', 500n, 6), payment('p7', 'alice', 'bob', 1n, 7)])).toEqual([
      ok,
      ok,
      rejected('daily_limit_exceeded'),
    ]);
    // A lower daily limit applies from then on to what was spent today.
    w.setup([{ kind: 'x.set_tier_limits', tier: 0, holdingMax: 10_000n, perPaymentMax: 600n, dailyMax: 2000n }]);
    expect(w.one(payment('p7', 'alice', 'bob', 500n, 7))).toEqual(ok);
    w.setup([{ kind: 'x.set_tier_limits', tier: 0, holdingMax: 10_000n, perPaymentMax: 600n, dailyMax: 1000n }]);
    w.expectRejected(payment('p8', 'alice', 'bob', 1n, 8), 'daily_limit_exceeded');
    // Without a time, a wallet's view depends on the journal alone: the day of its last payment out
    // and what it paid that day, whatever came later (here a rejected payment a day later, which
    // expectRejected proves changes no read). With a time, it is relative to that time.
    const lastDay = midnight / DAY + 1;
    expect(w.wallet('alice')).toMatchObject({ day: lastDay, spentToday: 1500n });
    w.expectRejected(payment('p8', 'alice', 'ghost', 1n, 8), 'payee_not_found', DAY);
    expect(w.wallet('alice')).toMatchObject({ day: lastDay, spentToday: 1500n });
    expect(w.platform.listWallets('alpha', 0, 1).items).toMatchObject([{ id: 'alice', day: lastDay, spentToday: 1500n }]);
    expect(w.platform.getWallet('alice', w.now)).toMatchObject({ day: lastDay + 1, spentToday: 0n });
    expect(w.platform.listWallets('alpha', 0, 1, w.now).items).toMatchObject([{ id: 'alice', day: lastDay + 1, spentToday: 0n }]);
    expect(w.platform.listWallets(null, 0, 1, w.now).items).toMatchObject([{ id: 'alice', day: lastDay + 1, spentToday: 0n }]);
    expect(w.platform.getWallet('alice', (lastDay + 1) * DAY - 1)).toMatchObject({ day: lastDay, spentToday: 1500n });
    expect(w.platform.getWallet('bob', w.now)).toMatchObject({ day: lastDay + 1, spentToday: 0n });
    expect(w.wallet('bob')).toMatchObject({ day: midnight / DAY - 1, spentToday: 50n });
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('refunds count toward the refunding wallet’s daily limit', () => {
    const w = new World();
    w.setup([
      registerBank('alpha', 'ALPHKZKA', 1),
      topUp('t', 'alpha', 1_000_000n),
      issue('i', 'alpha', 500_000n),
      { kind: 'x.set_tier_limits', tier: 0, holdingMax: 10_000n, perPaymentMax: 600n, dailyMax: 1000n },
    ]);
    w.setup([w.openWallet('buyer', 'alpha', { tier: 2 }), w.openWallet('seller', 'alpha', { kind: 'merchant' })]);
    w.setup([credit('c', 'buyer', 10_000n), fund('f', 'buyer', 5000n), credit('c2', 'seller', 1000n), fund('f2', 'seller', 1000n)]);
    w.setup([payment('buy', 'buyer', 'seller', 500n, 1), payment('sell', 'seller', 'buyer', 600n, 1)]);
    w.expectRejected(payment('refund', 'seller', 'buyer', 401n, 2, { refundOf: 'buy' }), 'daily_limit_exceeded');
    expect(w.one(payment('refund', 'seller', 'buyer', 400n, 2, { refundOf: 'buy' }))).toEqual(ok);
    expect(w.wallet('seller').spentToday).toBe(1000n);
  });

  it('sends what would take the payee over its holding limit on to its bank account (reverse waterfall), to the exact tiyn', () => {
    const w = standardWorld();
    // bob (tier 0, holding limit 100,000 KZT) holds 90,000.
    w.setup([credit('c-bob', 'bob', kzt(100_000)), fund('f-bob', 'bob', kzt(90_000))]);
    const float = w.balance('bank:alpha:cbdc');
    const money = w.balance('bank:alpha:money');
    const depositBefore = w.balance('dep:bob');
    expect(w.one(payment('p1', 'alice', 'bob', kzt(30_000) + 7n, 1))).toEqual(ok);
    expect(w.ledger.getTransfer('pay:p1')).toMatchObject({ debit: 'w:alice', credit: 'w:bob', amount: kzt(10_000), code: 20 });
    expect(w.ledger.getTransfer('pay:p1:x')).toMatchObject({ debit: 'w:alice', credit: 'bank:alpha:cbdc', amount: kzt(20_000) + 7n, code: 21 });
    expect(w.ledger.getTransfer('pay:p1:d')).toMatchObject({ debit: 'bank:alpha:money', credit: 'dep:bob', amount: kzt(20_000) + 7n, code: 21 });
    expect(w.balance('w:bob')).toBe(tier0.holdingMax);
    expect(w.balance('dep:bob')).toBe(depositBefore + kzt(20_000) + 7n);
    expect(w.balance('bank:alpha:cbdc')).toBe(float + kzt(20_000) + 7n);
    expect(w.balance('bank:alpha:money')).toBe(money - kzt(20_000) - 7n);
    expect(w.platform.getPayment('p1')).toMatchObject({ toWallet: kzt(10_000), toBankAccount: kzt(20_000) + 7n });
    expect(w.platform.bankEvents('alpha', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment.received', wallet: 'bob', amount: kzt(30_000) + 7n, toBankAccount: kzt(20_000) + 7n });
    expect(w.platform.statement('alpha', Math.floor(w.now / DAY))).toMatchObject({ convertedToBankAccounts: kzt(20_000) + 7n });

    // At the limit, everything goes to the bank account.
    expect(w.one(payment('p2', 'alice', 'bob', 5n, 2))).toEqual(ok);
    expect(w.ledger.getTransfer('pay:p2')).toBeUndefined();
    expect(w.platform.getPayment('p2')).toMatchObject({ toWallet: 0n, toBankAccount: 5n });
    expect(w.balance('w:bob')).toBe(tier0.holdingMax);

    // Exactly the room left: everything goes to the wallet.
    w.setup([defund('d-bob', 'bob', 1234n)]);
    expect(w.one(payment('p3', 'alice', 'bob', 1234n, 3))).toEqual(ok);
    expect(w.ledger.getTransfer('pay:p3:x')).toBeUndefined();
    expect(w.platform.getPayment('p3')).toMatchObject({ toWallet: 1234n, toBankAccount: 0n });
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('sends the overflow to the payee’s bank, not the payer’s, across banks', () => {
    const w = standardWorld();
    // carol (tier 1, 500,000 KZT) holds 400,000.
    const alphaFloat = w.balance('bank:alpha:cbdc');
    const betaFloat = w.balance('bank:beta:cbdc');
    w.setup([{ kind: 'x.set_wallet_tier', id: 'alice', tier: 2 }, credit('c2', 'alice', kzt(500_000)), fund('f2', 'alice', kzt(300_000))]);
    expect(w.one(payment('p1', 'alice', 'carol', kzt(150_000), 1))).toEqual(ok);
    expect(w.platform.getPayment('p1')).toMatchObject({ toWallet: kzt(100_000), toBankAccount: kzt(50_000) });
    expect(w.ledger.getTransfer('pay:p1:x')).toMatchObject({ credit: 'bank:beta:cbdc' });
    expect(w.ledger.getTransfer('pay:p1:d')).toMatchObject({ debit: 'bank:beta:money', credit: 'dep:carol' });
    expect(w.balance('bank:beta:cbdc')).toBe(betaFloat + kzt(50_000));
    expect(w.balance('bank:alpha:cbdc')).toBe(alphaFloat - kzt(300_000));
    w.expectConsistent();
  });

  it('never adds to a wallet above a lowered holding limit: everything goes to the bank account', () => {
    const w = standardWorld();
    w.setup([credit('c-bob', 'bob', 100n), fund('f-bob', 'bob', 100n)]);
    // carol holds 400,000 KZT; tier 0 allows 100,000. Lowering the tier is allowed.
    expect(w.one({ kind: 'x.set_wallet_tier', id: 'carol', tier: 0 })).toEqual(ok);
    expect(w.one(payment('p1', 'alice', 'carol', 700n, 1))).toEqual(ok);
    expect(w.platform.getPayment('p1')).toMatchObject({ toWallet: 0n, toBankAccount: 700n });
    expect(w.balance('w:carol')).toBe(kzt(400_000));
    w.expectRejected(fund('f', 'carol', 1n), 'holding_limit_exceeded');
    w.expectRejected(close('bob', 'carol'), 'holding_limit_exceeded');
    // Lowering the tier's limit for everyone has the same effect.
    w.setup([w.openWallet('dora', 'beta', { tier: 1 })]);
    w.setup([credit('c-dora', 'dora', kzt(2000)), fund('f-dora', 'dora', kzt(2000))]);
    expect(w.one({ ...defaultTiers[1]!, holdingMax: kzt(1000) })).toEqual(ok);
    expect(w.one(payment('p2', 'alice', 'dora', 5n, 2))).toEqual(ok);
    expect(w.platform.getPayment('p2')).toMatchObject({ toWallet: 0n, toBankAccount: 5n });
    expect(w.balance('w:dora')).toBe(kzt(2000));
    // Once the balance is below the limit again, payments fill the wallet up to it.
    w.setup([defund('d-dora', 'dora', kzt(1500))]);
    expect(w.one(payment('p3', 'alice', 'dora', kzt(600), 3))).toEqual(ok);
    expect(w.platform.getPayment('p3')).toMatchObject({ toWallet: kzt(500), toBankAccount: kzt(100) });
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('converts every incoming payment for a wallet that chose conversion, until it stops', () => {
    const w = standardWorld();
    expect(w.one(payment('p1', 'alice', 'conv', kzt(2000), 1))).toEqual(ok);
    expect(w.platform.getPayment('p1')).toMatchObject({ toWallet: 0n, toBankAccount: kzt(2000) });
    expect(w.ledger.getTransfer('pay:p1')).toBeUndefined();
    expect(w.ledger.getTransfer('pay:p1:x')).toMatchObject({ debit: 'w:alice', credit: 'bank:beta:cbdc', amount: kzt(2000) });
    expect(w.ledger.getTransfer('pay:p1:d')).toMatchObject({ debit: 'bank:beta:money', credit: 'dep:conv', amount: kzt(2000) });
    expect([w.balance('w:conv'), w.balance('dep:conv')]).toEqual([0n, kzt(2000)]);
    expect(w.platform.statement('beta', Math.floor(w.now / DAY))).toMatchObject({ paymentsIn: 1, convertedToBankAccounts: kzt(2000) });
    w.setup([{ kind: 'x.set_wallet_conversion', id: 'conv', convertIncoming: false }]);
    expect(w.one(payment('p2', 'alice', 'conv', kzt(2000), 2))).toEqual(ok);
    expect(w.platform.getPayment('p2')).toMatchObject({ toWallet: kzt(2000), toBankAccount: 0n });
    w.setup([{ kind: 'x.set_wallet_conversion', id: 'conv', convertIncoming: true }]);
    expect(w.one(payment('p3', 'alice', 'conv', 1n, 3))).toEqual(ok);
    expect(w.platform.getPayment('p3')).toMatchObject({ toWallet: 0n, toBankAccount: 1n });
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('pays payment requests once, to the right wallet and amount, before they expire', () => {
    const w = standardWorld();
    const request = paymentRequest('rq1', 'shop', kzt(2500), { reference: 'order 1' });
    expect(w.one(request)).toEqual(ok);
    expect(w.platform.getPaymentRequest('rq1')).toEqual({ id: 'rq1', wallet: 'shop', amount: kzt(2500), reference: 'order 1', expiresAt: 0, status: 'open', paidBy: null, createdAt: w.now });
    expect(w.platform.bankEvents('beta', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment_request.created', wallet: 'shop', payment: null, amount: kzt(2500), detail: 'rq1' });
    w.expectExisted(request);
    w.expectRejected({ ...request, amount: 1n }, 'exists_with_different_fields');
    w.expectRejected({ ...request, wallet: 'carol' }, 'exists_with_different_fields');
    w.expectRejected({ ...request, reference: '' }, 'exists_with_different_fields');
    w.expectRejected({ ...request, expiresAt: w.now + 5 }, 'exists_with_different_fields');

    w.expectRejected(payment('p1', 'alice', 'shop', kzt(2500), 1, { request: 'nope' }), 'payment_request_not_found');
    w.expectRejected(payment('p1', 'alice', 'shop', kzt(2500) - 1n, 1, { request: 'rq1' }), 'payment_request_mismatch');
    w.expectRejected(payment('p1', 'alice', 'carol', kzt(2500), 1, { request: 'rq1' }), 'payment_request_mismatch');
    expect(w.one(payment('p1', 'alice', 'shop', kzt(2500), 1, { request: 'rq1' }))).toEqual(ok);
    expect(w.platform.getPaymentRequest('rq1')).toMatchObject({ status: 'paid', paidBy: 'p1' });
    expect(w.platform.getPayment('p1')?.request).toBe('rq1');
    const betaEvents = w.platform.bankEvents('beta', 0, 1000).events.slice(-2);
    expect(betaEvents.map((e) => [e.type, e.payment, e.detail])).toEqual([
      ['payment_request.paid', 'p1', 'rq1'],
      ['payment.received', 'p1', null],
    ]);
    w.expectRejected(payment('p2', 'carol', 'shop', kzt(2500), 1, { request: 'rq1' }), 'payment_request_not_open');
    // The paying payment itself can be retried.
    w.expectExisted(payment('p1', 'alice', 'shop', kzt(2500), 1, { request: 'rq1' }));

    // Expiry: a request is payable up to and including its expiresAt.
    w.setup([paymentRequest('rq2', 'shop', 100n, { expiresAt: w.now + 10 }), paymentRequest('rq3', 'shop', 100n, { expiresAt: w.now + 10 })]);
    expect(w.applyAt(w.now + 9, [payment('p3', 'alice', 'shop', 100n, 3, { request: 'rq2' })])).toEqual([ok]);
    w.expectRejected(payment('p4', 'alice', 'shop', 100n, 4, { request: 'rq3' }), 'payment_request_expired');
    // A paid request that has also expired is reported as not open (the earlier code).
    w.expectRejected(payment('p4', 'alice', 'shop', 100n, 4, { request: 'rq2' }), 'payment_request_not_open');
    // An expired request with a mismatching payment: expiry is reported first.
    w.expectRejected(payment('p4', 'alice', 'carol', 7n, 4, { request: 'rq3' }), 'payment_request_expired');
    // A request cannot be created already expired at the batch time; expiring in that very
    // millisecond is fine.
    w.expectRejected(paymentRequest('rq4', 'shop', 100n, { expiresAt: w.now }), 'payment_request_expired');
    w.expectRejected(paymentRequest('rq4', 'shop', 100n, { expiresAt: 1 }), 'payment_request_expired');
    expect(w.applyAt(w.now + 5, [paymentRequest('rq4', 'shop', 100n, { expiresAt: w.now + 5 })])).toEqual([ok]);
    expect(w.platform.getPaymentRequest('rq4')).toMatchObject({ status: 'open', expiresAt: w.now });
    expect(w.applyAt(w.now, [payment('p4', 'alice', 'shop', 100n, 4, { request: 'rq4' })])).toEqual([ok]);
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('rejects malformed payment requests', () => {
    const w = standardWorld();
    w.expectRejected(paymentRequest('bad id', 'shop', 0n, { expiresAt: -1 }), 'id_invalid');
    // An expiry that is not a non-negative safe integer (field_invalid) changes nothing.
    w.expectRejected(paymentRequest('rq', 'ghost', 0n, { expiresAt: -1 }), 'field_invalid');
    w.expectRejected(paymentRequest('rq', 'shop', 1n, { expiresAt: w.now + 1000.5 }), 'field_invalid');
    w.expectRejected(paymentRequest('rq', 'shop', 1n, { expiresAt: Number.MAX_SAFE_INTEGER + 1 }), 'field_invalid');
    w.expectRejected(paymentRequest('rq', 'ghost', 0n), 'amount_must_be_positive');
    w.expectRejected(paymentRequest('rq', 'ghost', MAX + 1n), 'amount_exceeds_maximum');
    w.expectRejected(paymentRequest('rq', 'ghost', 1n, { reference: 'r'.repeat(129) }), 'reference_too_long');
    w.expectRejected(paymentRequest('rq', 'ghost', 1n, { reference: 'lone \ud800', expiresAt: 1 }), 'reference_invalid');
    w.expectRejected(paymentRequest('rq', 'ghost', 1n, { expiresAt: 1 }), 'wallet_not_found');
    w.expectRejected(paymentRequest('rq', 'shop', 1n, { expiresAt: 1 }), 'payment_request_expired');
    w.setup([freeze('shop', 'beta')]);
    w.expectRejected(paymentRequest('rq', 'shop', 1n), 'wallet_frozen');
  });

  it('refunds go from the original payee back to the payer, in parts, up to what is left', () => {
    const w = standardWorld();
    w.setup([payment('buy', 'alice', 'shop', kzt(3000), 1), payment('other', 'alice', 'bob', kzt(10), 2)]);
    const alice = w.balance('w:alice');
    expect(w.one(payment('r1', 'shop', 'alice', kzt(1000), 1, { refundOf: 'buy' }))).toEqual(ok);
    expect(w.platform.getPayment('buy')?.refunded).toBe(kzt(1000));
    expect(w.platform.getPayment('r1')).toMatchObject({ refundOf: 'buy', amount: kzt(1000), toWallet: kzt(1000) });
    expect(w.balance('w:alice')).toBe(alice + kzt(1000));
    expect(w.platform.bankEvents('beta', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment.sent', payment: 'r1', detail: 'refund of buy' });
    expect(w.platform.bankEvents('alpha', 0, 1000).events.at(-1)).toMatchObject({ type: 'payment.received', payment: 'r1', detail: 'refund of buy' });
    w.expectRejected(payment('r2', 'shop', 'alice', kzt(2000) + 1n, 2, { refundOf: 'buy' }), 'refund_exceeds_remaining');
    w.expectRejected(payment('r2', 'bob', 'alice', 1n, 1, { refundOf: 'buy' }), 'refund_parties_mismatch');
    w.expectRejected(payment('r2', 'shop', 'bob', 1n, 2, { refundOf: 'buy' }), 'refund_parties_mismatch');
    w.expectRejected(payment('r2', 'alice', 'shop', 1n, 3, { refundOf: 'buy' }), 'refund_parties_mismatch');
    w.expectRejected(payment('r2', 'shop', 'alice', 1n, 2, { refundOf: 'ghost' }), 'refund_original_not_found');
    // A refund cannot itself be refunded.
    w.expectRejected(payment('r2', 'alice', 'shop', 1n, 3, { refundOf: 'r1' }), 'refund_original_not_found');
    // The rest, exactly.
    expect(w.one(payment('r2', 'shop', 'alice', kzt(2000), 2, { refundOf: 'buy' }))).toEqual(ok);
    expect(w.platform.getPayment('buy')?.refunded).toBe(kzt(3000));
    w.expectRejected(payment('r3', 'shop', 'alice', 1n, 3, { refundOf: 'buy' }), 'refund_exceeds_remaining');
    // A refund is a payment: the payer's per-payment limit, funds and statuses apply.
    w.expectRejected(payment('r3', 'bob', 'alice', kzt(11), 1, { refundOf: 'other' }), 'refund_exceeds_remaining');
    w.expectRejected(payment('r3', 'bob', 'alice', kzt(10), 1, { refundOf: 'other', keyVersion: 2 }), 'signature_invalid');
    w.setup([freeze('alice', 'alpha')]);
    w.expectRejected(payment('r3', 'bob', 'alice', kzt(10), 1, { refundOf: 'other' }), 'payee_not_active');
    w.setup([unfreeze('alice', 'alpha')]);
    expect(w.one(payment('r3', 'bob', 'alice', kzt(10), 1, { refundOf: 'other' }))).toEqual(ok);
    w.expectConsistent();
    w.expectReplayMatches();
  });

  it('a refund from a converting merchant needs digital tenge in its wallet', () => {
    const w = standardWorld();
    w.setup([payment('buy', 'alice', 'conv', kzt(3000), 1)]);
    w.expectRejected(payment('r1', 'conv', 'alice', kzt(3000), 1, { refundOf: 'buy' }), 'insufficient_funds');
    w.setup([fund('f-conv', 'conv', kzt(3000))]);
    expect(w.one(payment('r1', 'conv', 'alice', kzt(3000), 1, { refundOf: 'buy' }))).toEqual(ok);
    w.expectConsistent();
  });

  it('frozen and closed wallets neither pay nor are paid; unfreezing restores both', () => {
    const w = standardWorld();
    w.setup([freeze('alice', 'alpha')]);
    w.expectRejected(payment('p1', 'alice', 'bob', 1n, 1), 'wallet_frozen');
    w.expectRejected(payment('p1', 'carol', 'alice', 1n, 1), 'payee_not_active');
    w.setup([unfreeze('alice', 'alpha')]);
    expect(w.one(payment('p1', 'alice', 'bob', 1n, 1))).toEqual(ok);
    expect(w.one(payment('p2', 'carol', 'alice', 1n, 1))).toEqual(ok);
    w.setup([close('bob')]);
    w.expectRejected(payment('p3', 'bob', 'alice', 1n, 1), 'wallet_closed');
    w.expectRejected(payment('p3', 'alice', 'bob', 1n, 2), 'payee_not_active');
    w.expectReplayMatches();
  });

  it('a suspended bank’s wallets neither pay nor are paid; reinstating restores both', () => {
    const w = standardWorld();
    w.setup([suspend('alpha')]);
    w.expectRejected(payment('p1', 'alice', 'carol', 1n, 1), 'bank_suspended');
    w.expectRejected(payment('p1', 'carol', 'alice', 1n, 1), 'payee_bank_suspended');
    w.expectRejected(payment('p1', 'alice', 'bob', 1n, 1), 'bank_suspended');
    // Wallets of other banks pay each other as before.
    expect(w.one(payment('p1', 'carol', 'shop', 1n, 1))).toEqual(ok);
    w.setup([reinstate('alpha')]);
    expect(w.one(payment('p2', 'alice', 'carol', 1n, 1))).toEqual(ok);
    expect(w.one(payment('p3', 'carol', 'alice', 1n, 2))).toEqual(ok);
    w.expectReplayMatches();
  });

  it('returns the first code in platformCodes order when a payment breaks many rules at once', () => {
    const w = new World();
    w.setup([
      registerBank('alpha', 'ALPHKZKA', 1),
      registerBank('beta', 'BETAKZKA', 2),
      registerBank('gamma', 'GAMMKZKA', 3),
      registerBank('delta', 'DELTKZKA', 4),
      ...['alpha', 'beta', 'gamma', 'delta'].flatMap((b) => [topUp(`t-${b}`, b, kzt(10_000_000)), issue(`i-${b}`, b, kzt(5_000_000))]),
    ]);
    w.setup([
      w.openWallet('payer', 'alpha'),
      w.openWallet('payee', 'beta', { tier: 2 }),
      w.openWallet('frozen', 'alpha'),
      w.openWallet('closed', 'alpha'),
      w.openWallet('gammas', 'gamma'),
      w.openWallet('frozen-payee', 'beta'),
      w.openWallet('deltas', 'delta'),
      w.openWallet('xx1', 'alpha'),
      w.openWallet('yy1', 'alpha'),
    ]);
    // payer (tier 0: per payment 50,000, per day 100,000 KZT) spends 80,000 today in two payments
    // (sequences 1 and 3) and has 5,001 KZT left; the payee paid it back 1 KZT.
    w.setup([credit('c1', 'payer', kzt(90_000)), fund('f1', 'payer', kzt(85_000)), credit('c2', 'xx1', 1000n), fund('f2', 'xx1', 1000n), credit('c3', 'payee', kzt(10)), fund('f3', 'payee', kzt(10))]);
    w.setup([payment('p-1', 'payer', 'payee', kzt(40_000), 1), payment('p-3', 'payer', 'payee', kzt(40_000), 3), payment('p-rp', 'payee', 'payer', 100n, 1), payment('p-xy', 'xx1', 'yy1', 10n, 1)]);
    w.setup([
      paymentRequest('req-paid', 'payee', 100n, { expiresAt: w.now + 100 }),
      paymentRequest('req-expired', 'payee', 1n, { expiresAt: w.now + 100 }),
      paymentRequest('req-other', 'yy1', 1n),
    ]);
    w.setup([payment('p-req', 'xx1', 'payee', 100n, 2, { request: 'req-paid' })]);
    w.setup([freeze('frozen', 'alpha'), close('closed'), freeze('frozen-payee', 'beta'), suspend('gamma'), suspend('delta')], 1000);
    expect(w.balance('w:payer')).toBe(kzt(5000) + 100n);

    const past = w.now - 500;
    const steps: [Partial<Pay>, ResultCode][] = [
      [{ id: 'p-1', amount: 0n, keyVersion: 0 }, 'exists_with_different_fields'],
      [{ id: 'bad id' }, 'id_invalid'],
      [{ id: 'p-new' }, 'field_invalid'],
      [{ keyVersion: 1 }, 'amount_must_be_positive'],
      [{ amount: MAX + 1n, reference: 'r'.repeat(129) }, 'amount_exceeds_maximum'],
      [{ amount: kzt(60_000), from: 'ghost', to: 'ghost' }, 'reference_too_long'],
      [{ reference: 'lone \ud800' }, 'reference_invalid'],
      [{ reference: '' }, 'wallet_not_found'],
      [{ from: 'payer', to: 'payer' }, 'payee_is_payer'],
      [{ from: 'frozen', to: 'ghost', keyVersion: 2, expiresAt: past }, 'payee_not_found'],
      [{ to: 'frozen-payee' }, 'signature_invalid'],
      [{ keyVersion: 1 }, 'payment_expired'],
      [{ expiresAt: 0 }, 'sequence_replayed'],
      [{ sequence: 10 }, 'wallet_frozen'],
      [{ from: 'closed' }, 'wallet_closed'],
      [{ from: 'gammas' }, 'bank_suspended'],
      [{ from: 'payer' }, 'payee_not_active'],
      [{ to: 'deltas' }, 'payee_bank_suspended'],
      [{ to: 'payee', request: 'nope', refundOf: 'nope' }, 'payment_request_not_found'],
      [{ request: 'req-paid' }, 'payment_request_not_open'],
      [{ request: 'req-expired' }, 'payment_request_expired'],
      [{ request: 'req-other' }, 'payment_request_mismatch'],
      [{ request: '' }, 'refund_original_not_found'],
      [{ refundOf: 'p-xy' }, 'refund_parties_mismatch'],
      [{ refundOf: 'p-rp' }, 'refund_exceeds_remaining'],
      [{ refundOf: '' }, 'per_payment_limit_exceeded'],
      [{ amount: kzt(30_000) }, 'daily_limit_exceeded'],
      [{ amount: kzt(10_000) }, 'insufficient_funds'],
    ];
    // The ladder starts with sequence 0, replayed for every wallet.
    let command = payment('p-1', 'payer', 'payee', 0n, 0);
    let previousIndex = -1;
    for (const [change, code] of steps) {
      command = { ...command, ...change };
      w.expectRejected(command, code);
      // The ladder walks platformCodes forward.
      const index = platformCodes.indexOf(code as (typeof platformCodes)[number]);
      expect(index, code).toBeGreaterThan(previousIndex);
      previousIndex = index;
    }
    command = { ...command, amount: kzt(5000) + 100n };
    expect(w.one(command)).toEqual(ok);
    expect(w.balance('w:payer')).toBe(0n);
    w.expectConsistent();
    w.expectReplayMatches();
  });
});

// ---- batches ----------------------------------------------------------------------------------

describe('platform commands in batches', () => {
  it('a platform command inside a client’s linked chain is refused and the chain undone', () => {
    const w = standardWorld();
    const commands: Command[] = [{ kind: 'create_asset', code: 'USD', scale: 2, linked: true }, payment('p1', 'alice', 'bob', 1n, 1)];
    w.track(commands);
    const before = w.snapshot();
    expect(w.apply(commands)).toEqual([
      rejected('linked_event_failed'),
      rejected('platform_command_in_chain'),
    ]);
    expect(w.ledger.getAsset('USD')).toBeUndefined();
    expect(w.snapshot()).toBe(before);
  });

  it('rejected commands in a batch leave no trace while the others apply and are journaled in order', () => {
    const w = standardWorld();
    const commands: PlatformCommand[] = [
      payment('p1', 'alice', 'bob', 100n, 1),
      payment('p2', 'alice', 'bob', 100n, 1), // replayed
      fund('f9', 'bob', 1n), // no deposit
      credit('c9', 'bob', 500n),
      fund('f9', 'bob', 500n), // id f9 is free again: the earlier fund was rejected
      payment('p1', 'alice', 'bob', 100n, 1), // repeat
    ];
    w.track(commands);
    const outcome = w.ledger.apply(commands, ++w.now);
    w.journal.push({ timestamp: w.now, body: outcome.journal });
    expect(outcome.results).toEqual([ok, rejected('sequence_replayed'), rejected('insufficient_deposit'), ok, ok, existed]);
    expect(outcome.appliedCount).toBe(3);
    expect(decodeCommands(outcome.journal, w.ledger.extension)).toEqual([commands[0], commands[3], commands[4]]);
    expect(w.balance('w:bob')).toBe(600n);
    w.expectConsistent();
    w.expectReplayMatches();
  });
});
