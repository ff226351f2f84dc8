// Proves, on random sequences of platform operations over two or three banks and a handful of wallets (valid and invalid ones) at increasing times that cross UTC midnights, that after every batch the ledger's invariants hold, the platform's records agree with the ledger, money is conserved (reserves put in by the operator = bank reserves + digital tenge in circulation; each bank's money = its customers' deposits), no wallet holds more than its tier allows unless the limit was lowered under it, no wallet spends more per payment or per UTC day than its tier allows, payments split at the holding limit to the tiyn and sequences only ever grow; that the journal replays into a fresh platform ledger to the same state and reads and re-encodes to the same bytes, and repeated commands answer existed; and that the platform's journal records decode or fail with JournalCodecError only.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBase64url } from '../crypto/base64url.ts';
import { generateKeyPair } from '../crypto/ed25519.ts';
import { genesisCommands } from '../engine/engine.ts';
import { amountMax } from '../limits.ts';
import { checkInvariants } from '../ledger/invariants.ts';
import { decodeCommands, encodeCommands, JournalCodecError } from '../ledger/journal-codec.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { allResultCodes } from '../ledger/result-codes.ts';
import { stateDigest } from '../ledger/state-digest.ts';
import type { AnyCommand, CommandResult, LedgerExtension } from '../ledger/types.ts';
import { createLedger, platformOf } from './index.ts';
import type { Pay, PlatformCommand, WalletKind, WalletOperation } from './types.ts';
import { participantRoles, walletKinds } from './types.ts';

const NUM_RUNS = Math.max(200, Number(process.env.TENGRI_PROPERTY_RUNS ?? 200));
const SEED = Number(process.env.TENGRI_PROPERTY_SEED ?? 20_261_125);
const MAX = amountMax;
const DAY = 86_400_000;
/** 22:00 UTC: the first UTC midnight comes two hours into a run. */
const START = 20_000 * DAY + 22 * 3_600_000;

function json(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

// ---- the world --------------------------------------------------------------------------------

const banks = ['b0', 'b1', 'b2'] as const;
const bics: Record<string, string> = { b0: 'BANKAKZA', b1: 'BANKBKZA', b2: 'BANKCKZA' };
/** ww0..ww3 are opened and funded at the start (ww3 converts incoming payments); ww4 and ww5 only if a run opens them. */
const wallets = ['ww0', 'ww1', 'ww2', 'ww3', 'ww4', 'ww5'] as const;
/** Valid keys (any wallet may share one) and two that registration must refuse. */
const keys = [
  ...Array.from({ length: 5 }, () => encodeBase64url(generateKeyPair().publicKey)),
  'too-short',
  encodeBase64url(new Uint8Array([1, ...new Array<number>(31).fill(0)])), // the identity point: small order
];
/** Small limits, so that runs hit them often. */
const tierLimits = [
  { kind: 'x.set_tier_limits', tier: 0, holdingMax: 1000n, perPaymentMax: 400n, dailyMax: 500n },
  { kind: 'x.set_tier_limits', tier: 1, holdingMax: 3000n, perPaymentMax: 1500n, dailyMax: 1600n },
  { kind: 'x.set_tier_limits', tier: 2, holdingMax: 10_000n, perPaymentMax: 5000n, dailyMax: 8000n },
] as const;

// ---- generated intents ------------------------------------------------------------------------
// Intents are resolved into commands as the run proceeds, so that payments can use the payer's
// current sequence and key version, pay recent payment requests and refund recent payments.

/** A flag as a command carries it: a boolean, or (refused with field_invalid) a number. */
type Flag = boolean | 1;
type Expiry = 'none' | 'past' | 'now' | 'soon' | 'later' | 'negative' | 'fractional';
type Link = { readonly kind: 'none' } | { readonly kind: 'request' | 'refund'; readonly pick: number; readonly match: boolean } | { readonly kind: 'ghostRequest' | 'ghostRefund' };

type SimpleIntent =
  | { readonly t: 'op'; readonly kind: WalletOperation['kind']; readonly id: string; readonly wallet: string; readonly amount: bigint }
  | {
      readonly t: 'pay';
      readonly id: string;
      readonly from: string;
      readonly to: string;
      readonly amount: bigint;
      readonly seqDelta: number;
      readonly keyOffset: number;
      readonly expires: Expiry;
      readonly reference: string;
      readonly link: Link;
    }
  | { readonly t: 'request'; readonly id: string; readonly wallet: string; readonly amount: bigint; readonly expires: Expiry }
  | { readonly t: 'repeat'; readonly pick: number };

type Intent =
  | SimpleIntent
  | { readonly t: 'reserves'; readonly kind: 'x.top_up_reserves' | 'x.issue' | 'x.redeem'; readonly id: string; readonly bank: string; readonly amount: bigint }
  | { readonly t: 'cap'; readonly bank: string; readonly cap: bigint }
  | { readonly t: 'bankStatus'; readonly bank: string; readonly suspended: boolean }
  /** A bank's API key digest: that of bank `key` (0..2, possibly another bank's), a fresh one (3) or a malformed one (4). */
  | { readonly t: 'bankKey'; readonly bank: string; readonly key: number }
  | { readonly t: 'tier'; readonly tier: number; readonly scale: bigint }
  | { readonly t: 'open'; readonly wallet: string; readonly bank: string; readonly kind: WalletKind; readonly tier: number; readonly convert: Flag; readonly key: number }
  | { readonly t: 'status'; readonly wallet: string; readonly status: 'active' | 'frozen' | 'closed'; readonly actor: 'own' | 'operator' | 'other' }
  | { readonly t: 'key'; readonly wallet: string; readonly key: number; readonly recovery: boolean }
  | { readonly t: 'walletTier'; readonly wallet: string; readonly tier: number }
  | { readonly t: 'conversion'; readonly wallet: string; readonly convert: Flag }
  | { readonly t: 'close'; readonly wallet: string; readonly sweepTo: string };

type Advance = { readonly t: 'ms'; readonly ms: number } | { readonly t: 'midnight'; readonly offset: number };
interface Step {
  readonly advance: Advance;
  readonly intents: readonly Intent[];
}
interface Scenario {
  readonly bankCount: number;
  readonly steps: readonly Step[];
}

const bankRef = fc.oneof({ weight: 16, arbitrary: fc.constantFrom(...banks) }, { weight: 1, arbitrary: fc.constantFrom('ghost', 'B0') });
/** Payers lean towards ww0 (tier 0), so that daily limits are reached. */
const payerRef = fc.oneof(
  { weight: 10, arbitrary: fc.constant('ww0') },
  { weight: 8, arbitrary: fc.constantFrom('ww1', 'ww2', 'ww3') },
  { weight: 2, arbitrary: fc.constantFrom('ww4', 'ww5') },
  { weight: 1, arbitrary: fc.constant('ghost') },
);
const walletRef = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom('ww0', 'ww1', 'ww2', 'ww3') },
  { weight: 3, arbitrary: fc.constantFrom('ww4', 'ww5') },
  { weight: 1, arbitrary: fc.constant('ghost') },
);
const amount = fc.oneof(
  { weight: 14, arbitrary: fc.bigInt({ min: 1n, max: 450n }) },
  { weight: 4, arbitrary: fc.bigInt({ min: 451n, max: 3000n }) },
  { weight: 1, arbitrary: fc.constantFrom(0n, -1n, MAX, MAX + 1n) },
);
const opId = fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 40 }).map((n) => `o${n}`) }, { weight: 1, arbitrary: fc.constantFrom('bad id', '') });
const paymentId = fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 60 }).map((n) => `p${n}`) }, { weight: 1, arbitrary: fc.constantFrom('bad:id', '') });
const requestId = fc.oneof({ weight: 20, arbitrary: fc.nat({ max: 12 }).map((n) => `r${n}`) }, { weight: 1, arbitrary: fc.constant('bad id') });
const expiry = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Expiry>('none') },
  { weight: 4, arbitrary: fc.constantFrom<Expiry>('past', 'now', 'soon', 'later') },
  // Not a time a journal holds (field_invalid).
  { weight: 1, arbitrary: fc.constantFrom<Expiry>('negative', 'fractional') },
);
const tierRef = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0, 1, 2) }, { weight: 1, arbitrary: fc.constantFrom(3, -1) });

const simpleIntent: fc.Arbitrary<SimpleIntent> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('op' as const),
      kind: fc.constantFrom<WalletOperation['kind']>('x.credit_account', 'x.credit_account', 'x.fund', 'x.fund', 'x.fund', 'x.defund', 'x.debit_account'),
      id: opId,
      wallet: walletRef,
      amount,
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      t: fc.constant('pay' as const),
      id: paymentId,
      from: payerRef,
      to: walletRef,
      amount,
      seqDelta: fc.oneof({ weight: 12, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.integer({ min: 2, max: 6 }) }, { weight: 2, arbitrary: fc.constantFrom(0, -1) }),
      keyOffset: fc.oneof({ weight: 25, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, -1) }),
      expires: expiry,
      reference: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.constantFrom('ref', '₸ 😀') }, { weight: 1, arbitrary: fc.constantFrom('r'.repeat(129), 'lone \ud800') }),
      link: fc.oneof(
        { weight: 10, arbitrary: fc.constant<Link>({ kind: 'none' }) },
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('request' as const), pick: fc.nat(), match: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('refund' as const), pick: fc.nat(), match: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
        { weight: 1, arbitrary: fc.constantFrom<Link>({ kind: 'ghostRequest' }, { kind: 'ghostRefund' }) },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('request' as const), id: requestId, wallet: walletRef, amount, expires: expiry }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('repeat' as const), pick: fc.nat() }) },
);

const otherIntent: fc.Arbitrary<Intent> = fc.oneof(
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constant('reserves' as const),
      kind: fc.constantFrom('x.top_up_reserves', 'x.issue', 'x.issue', 'x.redeem'),
      id: opId,
      bank: bankRef,
      amount: fc.oneof({ weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 1500n }) }, { weight: 3, arbitrary: fc.bigInt({ min: 1501n, max: 6000n }) }, { weight: 1, arbitrary: fc.constantFrom(0n, MAX + 1n) }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('cap' as const),
      bank: bankRef,
      // 1 stops all issuance, -1 removes the cap; 0 and -2 are no caps (field_invalid).
      cap: fc.oneof({ weight: 12, arbitrary: fc.bigInt({ min: 1000n, max: 4000n }) }, { weight: 2, arbitrary: fc.constantFrom(1n, -1n) }, { weight: 1, arbitrary: fc.constantFrom(0n, -2n) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('bankStatus' as const), bank: bankRef, suspended: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('bankKey' as const), bank: bankRef, key: fc.nat({ max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tier' as const), tier: fc.constantFrom(0, 1, 2), scale: fc.constantFrom(1n, 2n, 3n, 4n) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('open' as const),
      wallet: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('ww4', 'ww5') }, { weight: 3, arbitrary: fc.constantFrom(...wallets) }, { weight: 1, arbitrary: fc.constantFrom('zz', 'bad.id') }),
      bank: bankRef,
      kind: fc.oneof({ weight: 10, arbitrary: fc.constantFrom<WalletKind>('individual', 'individual', 'merchant', 'government') }, { weight: 1, arbitrary: fc.constant('robot' as WalletKind) }),
      tier: tierRef,
      convert: fc.oneof({ weight: 8, arbitrary: fc.constant<Flag>(false) }, { weight: 2, arbitrary: fc.constant<Flag>(true) }, { weight: 1, arbitrary: fc.constant<Flag>(1) }),
      key: fc.nat({ max: keys.length - 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('status' as const),
      wallet: walletRef,
      // 'closed' is no wallet status command (field_invalid).
      status: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('active' as const, 'frozen' as const) }, { weight: 1, arbitrary: fc.constant('closed' as const) }),
      actor: fc.constantFrom('own', 'own', 'operator', 'other'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('key' as const), wallet: walletRef, key: fc.nat({ max: keys.length - 1 }), recovery: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('walletTier' as const), wallet: walletRef, tier: tierRef }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('conversion' as const), wallet: walletRef, convert: fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constant<Flag>(1) }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('close' as const), wallet: walletRef, sweepTo: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 3, arbitrary: walletRef }) }),
  },
);

const advance: fc.Arbitrary<Advance> = fc.oneof(
  { weight: 16, arbitrary: fc.integer({ min: 0, max: 400 }).map((ms) => ({ t: 'ms' as const, ms })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((hours) => ({ t: 'ms' as const, ms: hours * 3_600_000 })) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1).map((offset) => ({ t: 'midnight' as const, offset })) },
);

/** Anything may stand alone in a batch; only payments, money operations, requests and repeats share one. */
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ advance, intents: fc.tuple(fc.oneof({ weight: 3, arbitrary: simpleIntent }, { weight: 2, arbitrary: otherIntent })) }) },
  { weight: 2, arbitrary: fc.record({ advance, intents: fc.array(simpleIntent, { minLength: 2, maxLength: 4 }) }) },
);

const scenario: fc.Arbitrary<Scenario> = fc.record({ bankCount: fc.constantFrom(2, 3), steps: fc.array(step, { minLength: 5, maxLength: 36 }) });

// ---- running a scenario -----------------------------------------------------------------------

const stats = {
  runs: 0,
  commands: 0,
  codes: new Map<string, number>(),
  /** Outcomes per command kind (`kind outcome`), for the paths only one kind reaches. */
  kindCodes: new Map<string, number>(),
  splitPayments: 0,
  convertedPayments: 0,
  refunds: 0,
  requestsPaid: 0,
  spendingAcrossMidnight: 0,
  overLimitAfterLowering: 0,
  closesRepeated: 0,
};
const count = (kind: string, key: string): void => {
  stats.codes.set(key, (stats.codes.get(key) ?? 0) + 1);
  stats.kindCodes.set(`${kind} ${key}`, (stats.kindCodes.get(`${kind} ${key}`) ?? 0) + 1);
};

/** Everything the platform shows, for comparing a ledger with its replay. */
function platformReads(ledger: Ledger, paymentIds: readonly string[], requestIds: readonly string[], days: readonly number[]): unknown {
  const p = platformOf(ledger);
  const bankList = p.listBanks();
  return {
    tiers: p.listTiers(),
    participants: p.listParticipants(0, 1_000_000).items,
    banks: bankList,
    // Without a time, wallet views (their `day` and `spentToday` too) depend on the journal alone,
    // so a replay, which never sees rejected commands, shows them the same.
    wallets: p.listWallets(null, 0, 1_000_000).items,
    walletCount: p.walletCount,
    payments: paymentIds.map((id) => p.getPayment(id) ?? null),
    requests: requestIds.map((id) => p.getPaymentRequest(id) ?? null),
    events: bankList.map((b) => p.bankEvents(b.id, 0, 1_000_000)),
    statements: bankList.map((b) => days.map((d) => p.statement(b.id, d))),
  };
}

/** As the journal decodes a command: core commands with `linked` as a boolean. */
function normalised(command: AnyCommand | PlatformCommand): AnyCommand | PlatformCommand {
  return command.kind.startsWith('x.') ? command : ({ ...command, linked: (command as AnyCommand).linked === true } as AnyCommand);
}

interface PaymentFacts {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  readonly refundOf: string;
}

function runScenario(s: Scenario): void {
  stats.runs++;
  const main = createLedger();
  const replica = createLedger();
  const platform = platformOf(main);
  const extension = main.extension as LedgerExtension;
  const bankIds = banks.slice(0, s.bankCount);
  const journal: { timestamp: number; body: Uint8Array }[] = [];
  let now = START;

  // Independent bookkeeping.
  let toppedUp = 0n;
  const issuedBy = new Map<string, bigint>();
  const lastSequence = new Map<string, number>();
  /** Outgoing payments per wallet and UTC day (`wallet@day`). */
  const spent = new Map<string, bigint>();
  /** The UTC day of each wallet's last payment out. */
  const lastPaymentDay = new Map<string, number>();
  const overLimitAllowed = new Set<string>();
  const previousBalance = new Map<string, bigint>();
  const requests: { id: string; wallet: string; amount: bigint }[] = [];
  const payments: PaymentFacts[] = [];
  const paymentsById = new Map<string, PaymentFacts>();
  const refunded = new Map<string, bigint>();
  const paymentIds = new Set<string>();
  const requestIds = new Set<string>();
  const days = new Set<number>();
  const repeatable: PlatformCommand[] = [];

  // Checks collect their failures and assert once per batch (calling expect thousands of times
  // per run would dominate the run time).
  let problems: string[] = [];
  const must = (condition: boolean, message: () => string): void => {
    if (!condition) problems.push(message());
  };
  const same = (actual: unknown, expected: unknown, message: string): void => {
    if (actual !== expected) problems.push(`${message}: ${json(actual)}, expected ${json(expected)}`);
  };
  const settle = (where: string): void => {
    if (problems.length > 0) expect(problems, where).toEqual([]);
    problems = [];
  };

  const balance = (account: string): bigint => main.getAccount(account)?.balance ?? 0n;
  const limitsOf = (tier: number) => platform.tier(tier)!;

  const apply = (commands: readonly (AnyCommand | PlatformCommand)[], timestamp: number, where: string): readonly CommandResult[] => {
    const outcome = main.apply(commands as readonly AnyCommand[], timestamp);
    journal.push({ timestamp, body: outcome.journal });
    days.add(Math.floor(timestamp / DAY));
    // The journal holds exactly the commands that changed state, re-encodes to the same bytes and
    // replays into a fresh platform ledger with every command applying anew.
    const decoded = decodeCommands(outcome.journal, extension);
    const applied = commands.filter((_, i) => {
      const r = outcome.results[i]!;
      return r.ok && !r.existed;
    });
    must(Buffer.from(encodeCommands(applied.map(normalised) as AnyCommand[], extension)).equals(Buffer.from(outcome.journal)), () => 'the journal is not the applied commands');
    must(Buffer.from(encodeCommands(decoded, extension)).equals(Buffer.from(outcome.journal)), () => 're-encoding differs');
    const replayed = replica.apply(decoded, timestamp);
    for (const r of replayed.results) must(r.ok && !r.existed, () => `replayed command: ${json(r)}`);
    must(Buffer.from(replayed.journal).equals(Buffer.from(outcome.journal)), () => 'replay journals another body');
    // Rejected commands must leave no trace: the replica, which never saw them, holds the same
    // accounts and transfers (the full state digests are compared at the end of the run).
    same(replica.transferCount, main.transferCount, 'replica transfer count');
    same(replica.accountCount, main.accountCount, 'replica account count');
    for (const a of main.allAccounts()) {
      const r = replica.getAccount(a.id);
      must(r !== undefined && r.balance === a.balance && r.status === a.status, () => `replica account ${a.id}: ${json(r)} vs ${json(a)}`);
    }
    settle(where);
    return outcome.results;
  };

  const setup: AnyCommand[] = [
    ...genesisCommands,
    ...tierLimits,
    ...bankIds.map((b, i): PlatformCommand => ({ kind: 'x.register_participant', id: b, role: 'bank', name: `Bank ${b}`, bic: bics[b]!, wallet: '', keyHash: (i + 1).toString(16).padStart(64, '0') })),
    ...bankIds.flatMap((b): PlatformCommand[] => [
      { kind: 'x.top_up_reserves', id: `seed-${b}`, bank: b, amount: 6000n },
      { kind: 'x.issue', id: `seed-${b}`, bank: b, amount: 2500n },
    ]),
  ];
  const setupResults = apply(setup, now, 'setup');
  expect(setupResults.every((r) => r.ok)).toBe(true);
  const start: PlatformCommand[] = [
    { kind: 'x.open_wallet', id: 'ww0', bank: 'b0', publicKey: keys[0]!, walletKind: 'individual', tier: 0, convertIncoming: false },
    { kind: 'x.open_wallet', id: 'ww1', bank: 'b1', publicKey: keys[1]!, walletKind: 'individual', tier: 1, convertIncoming: false },
    { kind: 'x.open_wallet', id: 'ww2', bank: 'b0', publicKey: keys[2]!, walletKind: 'merchant', tier: 0, convertIncoming: false },
    { kind: 'x.open_wallet', id: 'ww3', bank: 'b1', publicKey: keys[3]!, walletKind: 'merchant', tier: 2, convertIncoming: true },
    ...([
      ['ww0', 900n],
      ['ww1', 1500n],
      ['ww2', 900n],
      ['ww3', 800n],
    ] as const).flatMap(([w, funded]): PlatformCommand[] => [
      { kind: 'x.credit_account', id: `seed-${w}`, wallet: w, amount: 3000n },
      { kind: 'x.fund', id: `seed-${w}`, wallet: w, amount: funded },
    ]),
  ];
  now += 1;
  const startResults = apply(start, now, 'start');
  expect(startResults.every((r) => r.ok && !r.existed)).toBe(true);
  toppedUp = 6000n * BigInt(bankIds.length);
  for (const b of bankIds) issuedBy.set(b, 2500n);

  const materialise = (intent: Intent, timestamp: number, sequenceBase: Map<string, number>): PlatformCommand => {
    const expiresAt = (e: Expiry): number => {
      switch (e) {
        case 'none':
          return 0;
        case 'past':
          return timestamp - 1;
        case 'now':
          return timestamp;
        case 'soon':
          return timestamp + 100;
        case 'later':
          return timestamp + DAY;
        case 'negative':
          return -1;
        case 'fractional':
          return timestamp + 100.5;
      }
    };
    switch (intent.t) {
      case 'op':
        return { kind: intent.kind, id: intent.id, wallet: intent.wallet, amount: intent.amount };
      case 'request':
        requests.push({ id: intent.id, wallet: intent.wallet, amount: intent.amount });
        requestIds.add(intent.id);
        return { kind: 'x.create_payment_request', id: intent.id, wallet: intent.wallet, amount: intent.amount, reference: '', expiresAt: expiresAt(intent.expires) };
      case 'repeat': {
        if (repeatable.length === 0) return { kind: 'x.set_wallet_tier', id: 'ghost', tier: 0 };
        return repeatable[intent.pick % repeatable.length]!;
      }
      case 'pay': {
        let { from, to, amount: value } = intent;
        let request = '';
        let refundOf = '';
        const link = intent.link;
        if (link.kind === 'request' && requests.length > 0) {
          const r = requests[link.pick % requests.length]!;
          request = r.id;
          if (link.match) [to, value] = [r.wallet, r.amount];
        } else if (link.kind === 'refund' && payments.length > 0) {
          const p = payments[link.pick % payments.length]!;
          refundOf = p.id;
          if (link.match) {
            [from, to] = [p.to, p.from];
            if (value > 0n && value <= MAX) value = value > p.amount ? p.amount : value;
          }
        } else if (link.kind === 'ghostRequest') request = 'ghost';
        else if (link.kind === 'ghostRefund') refundOf = 'ghost';
        const wallet = platform.getWallet(from);
        const base = sequenceBase.get(from) ?? wallet?.lastSequence ?? 0;
        const sequence = base + intent.seqDelta;
        sequenceBase.set(from, Math.max(sequence, base));
        paymentIds.add(intent.id);
        return {
          kind: 'x.pay',
          id: intent.id,
          from,
          to,
          amount: value,
          sequence,
          expiresAt: expiresAt(intent.expires),
          reference: intent.reference,
          request,
          refundOf,
          keyVersion: (wallet?.keyVersion ?? 1) + intent.keyOffset,
        };
      }
      case 'reserves':
        return { kind: intent.kind, id: intent.id, bank: intent.bank, amount: intent.amount };
      case 'cap':
        return { kind: 'x.set_issuance_cap', bank: intent.bank, cap: intent.cap };
      case 'bankStatus':
        return { kind: 'x.set_participant_status', id: intent.bank, status: intent.suspended ? 'suspended' : 'active' };
      case 'bankKey':
        return { kind: 'x.set_participant_key', id: intent.bank, keyHash: intent.key === 4 ? 'not a digest' : (intent.key + 1).toString(16).padStart(64, '0') };
      case 'tier': {
        const base = tierLimits[intent.tier]!;
        return { ...base, holdingMax: (base.holdingMax * intent.scale) / 2n, perPaymentMax: (base.perPaymentMax * intent.scale) / 2n, dailyMax: (base.dailyMax * intent.scale) / 2n };
      }
      case 'open':
        return { kind: 'x.open_wallet', id: intent.wallet, bank: intent.bank, publicKey: keys[intent.key]!, walletKind: intent.kind, tier: intent.tier, convertIncoming: intent.convert as boolean };
      case 'status': {
        const own = platform.getWallet(intent.wallet)?.bank ?? 'b0';
        const actor = intent.actor === 'operator' ? 'operator' : intent.actor === 'own' ? own : own === 'b0' ? 'b1' : 'b0';
        return { kind: 'x.set_wallet_status', id: intent.wallet, status: intent.status as 'active' | 'frozen', reason: '', actor };
      }
      case 'key':
        return { kind: 'x.set_wallet_key', id: intent.wallet, publicKey: keys[intent.key]!, reason: intent.recovery ? 'recovery' : 'rotation' };
      case 'walletTier':
        return { kind: 'x.set_wallet_tier', id: intent.wallet, tier: intent.tier };
      case 'conversion':
        return { kind: 'x.set_wallet_conversion', id: intent.wallet, convertIncoming: intent.convert as boolean };
      case 'close':
        return { kind: 'x.close_wallet', id: intent.wallet, sweepTo: intent.sweepTo };
    }
  };

  const checkAfter = (where: string, time: number): void => {
    const day = Math.floor(time / DAY);
    // Invariants of the core, and the platform's own records against the ledger.
    const report = checkInvariants(main);
    must(report.ok, () => `invariants: ${json(report.violations)}`);
    const crossCheck = platform.check((id) => main.getAccount(id)?.balance);
    must(crossCheck.length === 0, () => `platform check: ${json(crossCheck)}`);

    // Conservation of reserves: what the operator put in is in the banks' reserve accounts or
    // circulates as digital tenge.
    const circulating = -balance('cb:issuance');
    let reserves = 0n;
    let floats = 0n;
    let issued = 0n;
    for (const b of bankIds) {
      reserves += balance(`bank:${b}:reserve`);
      floats += balance(`bank:${b}:cbdc`);
      const net = platform.getBank(b)!.issued;
      issued += net;
      same(net, issuedBy.get(b), `${b} net issuance`);
    }
    same(reserves + circulating, toppedUp, 'reserves put in = bank reserves + digital tenge in circulation');
    same(-balance('cb:reserves'), reserves, 'central bank reserves issued = bank reserves');
    same(issued, circulating, 'net issuance = digital tenge in circulation');
    const all = platform.listWallets(null, 0, 1000).items;
    let held = 0n;
    const deposits = new Map<string, bigint>();
    for (const w of all) {
      held += balance(`w:${w.id}`);
      deposits.set(w.bank, (deposits.get(w.bank) ?? 0n) + balance(`dep:${w.id}`));
    }
    same(floats + held, circulating, 'digital tenge is held by banks and wallets');
    // Bank money: each bank's money in circulation is exactly its customers' deposits.
    for (const b of bankIds) same(-balance(`bank:${b}:money`), deposits.get(b) ?? 0n, `${b} money = deposits`);

    const at = new Map(platform.listWallets(null, 0, 1000, time).items.map((w) => [w.id, w]));
    for (const w of all) {
      // Holding limits: above the limit only if the limit was lowered under the wallet, and then
      // the balance never grows.
      const balanceNow = balance(`w:${w.id}`);
      const limit = limitsOf(w.tier).holdingMax;
      if (balanceNow > limit) {
        must(overLimitAllowed.has(w.id), () => `${w.id} holds ${balanceNow} over its limit ${limit}`);
        must(balanceNow <= (previousBalance.get(w.id) ?? 0n), () => `${w.id} grew to ${balanceNow} while over its limit`);
      } else overLimitAllowed.delete(w.id);
      previousBalance.set(w.id, balanceNow);
      // Sequences only grow, and only with committed payments.
      same(w.lastSequence, lastSequence.get(w.id) ?? 0, `${w.id} last sequence`);
      // Today's spending as the platform counts it, read at this time, equals the committed payments
      // of this UTC day; read without a time, the day of the last payment out and what was paid on it.
      const view = at.get(w.id);
      same(json([view?.day, view?.spentToday]), json([day, spent.get(`${w.id}@${day}`) ?? 0n]), `${w.id} day and spent today at ${time}`);
      same(platform.getWallet(w.id, time)?.spentToday, view?.spentToday, `${w.id} spent today (getWallet at ${time})`);
      const paidDay = lastPaymentDay.get(w.id) ?? 0;
      same(json([w.day, w.spentToday]), json([paidDay, spent.get(`${w.id}@${paidDay}`) ?? 0n]), `${w.id} day and spent on its last day of payments`);
      same(json(platform.getWallet(w.id)), json(w), `${w.id} getWallet without a time`);
    }
    settle(where);
  };
  checkAfter('start', now);

  for (const [index, st] of s.steps.entries()) {
    const where = `step ${index}`;
    if (st.advance.t === 'ms') now += st.advance.ms;
    else now = Math.max(now, (Math.floor(now / DAY) + 1) * DAY + st.advance.offset);
    const day = Math.floor(now / DAY);
    const sequenceBase = new Map<string, number>();
    const commands = st.intents.map((i) => materialise(i, now, sequenceBase));
    // Wallet balances before the batch, advanced command by command below (a batch of several
    // commands holds only payments, money operations, requests and repeats).
    const model = new Map<string, bigint>();
    for (const w of wallets) model.set(w, balance(`w:${w}`));
    let modelValid = true;
    /** Payments refunded in this batch (several refunds of one payment may share a batch). */
    const refundedNow = new Set<string>();
    const lowering = commands.some((c) => c.kind === 'x.set_tier_limits' || c.kind === 'x.set_wallet_tier');

    const results = apply(commands, now, where);
    stats.commands += commands.length;

    for (const [i, c] of commands.entries()) {
      const r = results[i]!;
      count(c.kind, r.ok ? (r.existed ? 'existed' : 'ok') : r.code);
      if (!r.ok) {
        must(allResultCodes.includes(r.code), () => `unknown code ${r.code}`);
        continue;
      }
      if (r.existed) continue;
      switch (c.kind) {
        case 'x.pay': {
          const from = platform.getWallet(c.from)!;
          const to = platform.getWallet(c.to)!;
          // Limits as they stand for this batch (tier changes never share a batch with payments).
          const limits = limitsOf(from.tier);
          must(c.amount <= limits.perPaymentMax, () => `${c.id}: ${c.amount} over the per-payment limit ${limits.perPaymentMax}`);
          const key = `${c.from}@${day}`;
          const total = (spent.get(key) ?? 0n) + c.amount;
          spent.set(key, total);
          lastPaymentDay.set(c.from, day);
          must(total <= limits.dailyMax, () => `${c.from} spent ${total} on day ${day}, over ${limits.dailyMax}`);
          if (spent.has(`${c.from}@${day - 1}`)) stats.spendingAcrossMidnight++;
          must(c.sequence > (lastSequence.get(c.from) ?? 0), () => `${c.id}: sequence ${c.sequence} accepted after ${lastSequence.get(c.from)}`);
          lastSequence.set(c.from, c.sequence);
          // Reverse waterfall, to the tiyn.
          const room = to.convertIncoming ? 0n : limitsOf(to.tier).holdingMax - model.get(c.to)!;
          const toWallet = room <= 0n ? 0n : room < c.amount ? room : c.amount;
          const record = platform.getPayment(c.id)!;
          same(json([record.toWallet, record.toBankAccount]), json([toWallet, c.amount - toWallet]), `split of ${c.id}`);
          model.set(c.from, model.get(c.from)! - c.amount);
          model.set(c.to, model.get(c.to)! + toWallet);
          // Statuses, key versions, expiry, requests and refunds as they stand for this batch
          // (changes to them never share a batch with payments).
          must(from.status === 'active' && to.status === 'active', () => `${c.id} went from a ${from.status} to a ${to.status} wallet`);
          must(platform.getBank(from.bank)!.status === 'active' && platform.getBank(to.bank)!.status === 'active', () => `${c.id} involves a suspended bank`);
          must(c.keyVersion === from.keyVersion, () => `${c.id} accepted for key version ${c.keyVersion} of ${from.keyVersion}`);
          must(c.expiresAt === 0 || c.expiresAt >= now, () => `${c.id} accepted after it expired`);
          if (c.request !== '') {
            const r = platform.getPaymentRequest(c.request);
            must(r !== undefined && r.paidBy === c.id && r.wallet === c.to && r.amount === c.amount && (r.expiresAt === 0 || r.expiresAt >= now), () => `${c.id} paid request ${json(r)}`);
          }
          if (c.refundOf !== '') {
            const original = paymentsById.get(c.refundOf);
            const total = (refunded.get(c.refundOf) ?? 0n) + c.amount;
            refunded.set(c.refundOf, total);
            must(original !== undefined && original.refundOf === '' && original.to === c.from && original.from === c.to && total <= original.amount, () => `${c.id} refunds ${total} of ${json(original)}`);
            refundedNow.add(c.refundOf);
          }
          const facts = { id: c.id, from: c.from, to: c.to, amount: c.amount, refundOf: c.refundOf };
          payments.push(facts);
          paymentsById.set(c.id, facts);
          repeatable.push(c);
          if (toWallet > 0n && toWallet < c.amount) stats.splitPayments++;
          if (to.convertIncoming) stats.convertedPayments++;
          if (c.refundOf !== '') stats.refunds++;
          if (c.request !== '') stats.requestsPaid++;
          break;
        }
        case 'x.fund':
          model.set(c.wallet, model.get(c.wallet)! + c.amount);
          repeatable.push(c);
          break;
        case 'x.defund':
          model.set(c.wallet, model.get(c.wallet)! - c.amount);
          repeatable.push(c);
          break;
        case 'x.credit_account':
        case 'x.debit_account':
        case 'x.create_payment_request':
        case 'x.open_wallet':
          repeatable.push(c);
          break;
        case 'x.close_wallet':
          // A closed wallet stays closed: the same close again answers existed.
          repeatable.push(c);
          modelValid = false;
          break;
        case 'x.top_up_reserves':
          toppedUp += c.amount;
          repeatable.push(c);
          break;
        case 'x.issue':
          issuedBy.set(c.bank, issuedBy.get(c.bank)! + c.amount);
          repeatable.push(c);
          break;
        case 'x.redeem':
          issuedBy.set(c.bank, issuedBy.get(c.bank)! - c.amount);
          repeatable.push(c);
          break;
        default:
          modelValid = false;
      }
    }
    if (modelValid) for (const w of wallets) same(balance(`w:${w}`), model.get(w), `balance of ${w}`);
    for (const id of refundedNow) same(platform.getPayment(id)?.refunded, refunded.get(id), `refunded part of ${id}`);
    if (lowering) {
      for (const w of platform.listWallets(null, 0, 1000).items) {
        if (balance(`w:${w.id}`) > limitsOf(w.tier).holdingMax) {
          overLimitAllowed.add(w.id);
          stats.overLimitAfterLowering++;
        }
      }
    }
    checkAfter(where, now);
  }

  // The replica, fed only the journal, holds exactly the same state ...
  expect(stateDigest(replica), 'replayed state').toBe(stateDigest(main));
  // ... and shows the same platform: records, payments, requests, events per bank, statements.
  const ids = [...paymentIds].sort();
  const requestList = [...requestIds].sort();
  const dayList = [...days].sort((a, b) => a - b);
  expect(json(platformReads(replica, ids, requestList, dayList))).toBe(json(platformReads(main, ids, requestList, dayList)));

  // The whole journal as one body decodes to the batches' commands in order and re-encodes to the
  // same bytes.
  const whole = new Uint8Array(Buffer.concat(journal.map((j) => j.body)));
  const all = decodeCommands(whole, extension);
  expect(json(all)).toBe(json(journal.flatMap((j) => decodeCommands(j.body, extension))));
  expect(Buffer.from(encodeCommands(all, extension)).equals(Buffer.from(whole))).toBe(true);

  // Repeating every command that created something answers existed and changes nothing.
  if (repeatable.length > 0) {
    const before = stateDigest(main);
    const events = json(platformReads(main, ids, requestList, dayList));
    const outcome = main.apply(repeatable, now + 1);
    outcome.results.forEach((r, i) => must(r.ok && r.existed, () => `repeat of ${json(repeatable[i])}: ${json(r)}`));
    stats.closesRepeated += repeatable.filter((c) => c.kind === 'x.close_wallet').length;
    settle('repeats');
    expect(outcome.journal.length).toBe(0);
    expect(stateDigest(main)).toBe(before);
    expect(json(platformReads(main, ids, requestList, dayList))).toBe(events);
  }
}

describe('platform properties on random operation sequences', () => {
  afterAll(() => {
    if (process.env.TENGRI_PROPERTY_STATS !== undefined) console.log(json({ ...stats, codes: Object.fromEntries(stats.codes), kindCodes: Object.fromEntries(stats.kindCodes) }));
    if (stats.runs < 200) return; // a filtered run proves too little to judge coverage
    // The generator must reach the interesting paths, or the properties prove little.
    const c = (key: string): number => stats.codes.get(key) ?? 0;
    expect(c('ok')).toBeGreaterThan(stats.commands / 5);
    for (const code of [
      'existed',
      'exists_with_different_fields',
      'id_invalid',
      'field_invalid',
      'amount_must_be_positive',
      'reference_too_long',
      'reference_invalid',
      'api_key_in_use',
      'wallet_not_found',
      'wallet_already_exists',
      'public_key_invalid',
      'sequence_replayed',
      'payment_expired',
      'signature_invalid',
      'wallet_frozen',
      'wallet_closed',
      'bank_suspended',
      'payee_not_active',
      'payee_bank_suspended',
      'payment_request_not_open',
      'payment_request_expired',
      'payment_request_mismatch',
      'refund_parties_mismatch',
      'refund_exceeds_remaining',
      'refund_original_not_found',
      'per_payment_limit_exceeded',
      'daily_limit_exceeded',
      'holding_limit_exceeded',
      'insufficient_funds',
      'insufficient_deposit',
      'insufficient_reserves',
      'insufficient_float',
      'issuance_cap_exceeded',
      'sweep_target_invalid',
    ]) {
      expect(c(code), `generator never produced ${code}`).toBeGreaterThan(0);
    }
    // Paths that only some commands reach: journaled fields out of range, and requests that expire
    // before they are paid (not only ones created already expired).
    const k = (key: string): number => stats.kindCodes.get(key) ?? 0;
    for (const key of ['x.pay field_invalid', 'x.create_payment_request field_invalid', 'x.set_wallet_status field_invalid', 'x.set_issuance_cap field_invalid', 'x.open_wallet field_invalid', 'x.set_participant_key api_key_in_use', 'x.create_payment_request payment_request_expired', 'x.pay payment_request_expired']) {
      expect(k(key), `generator never produced ${key}`).toBeGreaterThan(0);
    }
    expect(stats.splitPayments).toBeGreaterThan(0);
    expect(stats.convertedPayments).toBeGreaterThan(0);
    expect(stats.refunds).toBeGreaterThan(0);
    expect(stats.requestsPaid).toBeGreaterThan(0);
    expect(stats.spendingAcrossMidnight).toBeGreaterThan(0);
    expect(stats.overLimitAfterLowering).toBeGreaterThan(0);
    expect(stats.closesRepeated).toBeGreaterThan(0);
  });

  it('keep invariants, conservation, limits and the waterfall, replay exactly and answer repeats with existed', () => {
    fc.assert(
      fc.property(scenario, (s) => runScenario(s)),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });
});

// ---- the platform's journal codec -------------------------------------------------------------

const codecExtension = createLedger().extension as LedgerExtension;

/** Strings that survive UTF-8 exactly (no lone surrogates), short and occasionally long. */
const text = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', ':', ' ', 'ä', '₸', '😀'), maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(300), '😀'.repeat(100)) },
);
const i64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 10_000n }));
const u8 = fc.integer({ min: 0, max: 255 });
const safeUint = fc.oneof(fc.nat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER, 2 ** 32, 2 ** 32 - 1));

/** Every platform command, with any value its journal fields can carry (valid for the platform or not). */
const platformCommand: fc.Arbitrary<PlatformCommand> = fc.oneof(
  fc.record({ kind: fc.constant('x.set_tier_limits' as const), tier: u8, holdingMax: i64, perPaymentMax: i64, dailyMax: i64 }),
  fc.record({ kind: fc.constant('x.register_participant' as const), id: text, role: fc.constantFrom(...participantRoles), name: text, bic: text, wallet: text, keyHash: text }),
  fc.record({ kind: fc.constant('x.set_participant_status' as const), id: text, status: fc.constantFrom('active' as const, 'suspended' as const) }),
  fc.record({ kind: fc.constant('x.set_participant_key' as const), id: text, keyHash: text }),
  fc.record({ kind: fc.constant('x.set_issuance_cap' as const), bank: text, cap: i64 }),
  fc.record({ kind: fc.constantFrom('x.top_up_reserves' as const, 'x.issue' as const, 'x.redeem' as const), id: text, bank: text, amount: i64 }),
  fc.record({ kind: fc.constant('x.open_wallet' as const), id: text, bank: text, publicKey: text, walletKind: fc.constantFrom(...walletKinds), tier: u8, convertIncoming: fc.boolean() }),
  fc.record({ kind: fc.constant('x.set_wallet_status' as const), id: text, status: fc.constantFrom('active' as const, 'frozen' as const), reason: text, actor: text }),
  fc.record({ kind: fc.constant('x.set_wallet_key' as const), id: text, publicKey: text, reason: fc.constantFrom('rotation' as const, 'recovery' as const) }),
  fc.record({ kind: fc.constant('x.set_wallet_tier' as const), id: text, tier: u8 }),
  fc.record({ kind: fc.constant('x.set_wallet_conversion' as const), id: text, convertIncoming: fc.boolean() }),
  fc.record({ kind: fc.constant('x.close_wallet' as const), id: text, sweepTo: text }),
  fc.record({ kind: fc.constantFrom('x.fund' as const, 'x.defund' as const, 'x.credit_account' as const, 'x.debit_account' as const), id: text, wallet: text, amount: i64 }),
  fc.record({
    kind: fc.constant('x.pay' as const),
    id: text,
    from: text,
    to: text,
    amount: i64,
    sequence: safeUint,
    expiresAt: safeUint,
    reference: text,
    request: text,
    refundOf: text,
    keyVersion: fc.oneof(fc.nat({ max: 10 }), fc.constant(2 ** 32 - 1)),
  }),
  fc.record({ kind: fc.constant('x.create_payment_request' as const), id: text, wallet: text, amount: i64, reference: text, expiresAt: safeUint }),
);

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 3, 16, 24, 25, 34, 35, 36, 0x7f, 0x80, 0xc0, 0xff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const bytes = Buffer.from(input);
  if (bytes.length === 0) return m.kind === 'insert' ? new Uint8Array(m.bytes) : new Uint8Array(0);
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'flip':
      bytes[at] = bytes[at]! ^ (1 << m.bit);
      return new Uint8Array(bytes);
    case 'set':
      bytes[at] = m.value;
      return new Uint8Array(bytes);
    case 'truncate':
      return new Uint8Array(bytes.subarray(0, at));
    case 'insert':
      return new Uint8Array(Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]));
    case 'delete':
      return new Uint8Array(Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]));
  }
}

/**
 * Damaged bytes either fail with JournalCodecError (nothing else) or decode to commands that
 * encode back to exactly the same bytes. The one exception is invalid UTF-8, which decodes to
 * U+FFFD: such commands must still re-encode (or fail with JournalCodecError when the replacement
 * makes a string too long) and be stable under a second round trip.
 */
function decodesCanonicallyOrFails(bytes: Uint8Array): void {
  let decoded: AnyCommand[];
  try {
    decoded = decodeCommands(bytes, codecExtension);
  } catch (error) {
    if (error instanceof JournalCodecError) return;
    throw new Error(`decodeCommands threw ${String(error)} (not JournalCodecError) for ${Buffer.from(bytes).toString('hex')}`);
  }
  if (!json(decoded).includes('\ufffd')) {
    expect(Buffer.from(encodeCommands(decoded, codecExtension)).toString('hex'), `re-encoding of ${json(decoded)}`).toBe(Buffer.from(bytes).toString('hex'));
    return;
  }
  let again: Uint8Array;
  try {
    again = encodeCommands(decoded, codecExtension);
  } catch (error) {
    expect(error).toBeInstanceOf(JournalCodecError);
    return;
  }
  expect(json(decodeCommands(again, codecExtension))).toBe(json(decoded));
}

describe('platform journal codec', () => {
  it('decode(encode(commands)) gives the commands back, and encoding them again the same bytes', () => {
    fc.assert(
      fc.property(fc.array(platformCommand, { minLength: 1, maxLength: 6 }), (commands) => {
        const bytes = encodeCommands(commands, codecExtension);
        const decoded = decodeCommands(bytes, codecExtension);
        expect(decoded).toEqual(commands);
        expect(Buffer.from(encodeCommands(decoded, codecExtension)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 500, seed: SEED },
    );
  });

  it('arbitrary bytes behind a platform record tag decode canonically or throw JournalCodecError', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 16, max: 35 }) }, { weight: 1, arbitrary: fc.integer({ min: 36, max: 255 }) }), fc.uint8Array({ maxLength: 160 }), (tag, rest) => {
        decodesCanonicallyOrFails(new Uint8Array([tag, ...rest]));
      }),
      { numRuns: 2000, seed: SEED },
    );
  });

  it('mutated platform records (bit flips, truncations, insertions, deletions) decode canonically or throw JournalCodecError', () => {
    fc.assert(
      fc.property(fc.array(platformCommand, { minLength: 1, maxLength: 5 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (commands, mutations) => {
        let bytes = encodeCommands(commands, codecExtension);
        for (const m of mutations) bytes = mutate(bytes, m);
        decodesCanonicallyOrFails(bytes);
      }),
      { numRuns: 2000, seed: SEED },
    );
  });

  it('every truncation of a platform record decodes to a prefix or throws JournalCodecError', () => {
    fc.assert(
      fc.property(fc.array(platformCommand, { minLength: 1, maxLength: 4 }), (commands) => {
        const bytes = encodeCommands(commands, codecExtension);
        for (let end = 0; end < bytes.length; end++) {
          let decoded: AnyCommand[];
          try {
            decoded = decodeCommands(bytes.subarray(0, end), codecExtension);
          } catch (error) {
            expect(error).toBeInstanceOf(JournalCodecError);
            continue;
          }
          expect(decoded).toEqual(commands.slice(0, decoded.length));
        }
      }),
      { numRuns: 100, seed: SEED },
    );
  });

  it.each([
    ['an unknown platform tag', [36]],
    ['a participant role beyond the list', [17, 0, 1, 97, 9, 0, 1, 65, 0, 0, 0, 0, 0, 0]],
    ['a participant status beyond suspended', [18, 0, 1, 97, 2]],
    ['a convertIncoming flag of 2', [28, 0, 1, 97, 2]],
    ['a wallet status of closed (never journaled)', [25, 0, 1, 97, 2, 0, 0, 0, 0]],
    ['a key reason beyond recovery', [26, 0, 1, 97, 0, 0, 2]],
    ['a pay sequence beyond 2^53', [34, 0, 1, 97, 0, 1, 98, 0, 1, 99, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x20, 0, 0, 0, 0, 0, 0]],
    ['a truncated pay', [34, 0, 1, 97, 0, 1, 98]],
  ])('rejects %s with JournalCodecError', (_name, bytes) => {
    expect(() => decodeCommands(new Uint8Array(bytes), codecExtension)).toThrow(JournalCodecError);
  });

  it('refuses to encode what it could not decode back, with JournalCodecError', () => {
    const pay = { kind: 'x.pay', id: 'p', from: 'a', to: 'b', amount: 1n, sequence: 1, expiresAt: 0, reference: '', request: '', refundOf: '', keyVersion: 1 } satisfies Pay;
    const encode = (command: PlatformCommand): Uint8Array => encodeCommands([command], codecExtension);
    expect(() => encode({ ...pay, sequence: -1 })).toThrow(JournalCodecError);
    expect(() => encode({ ...pay, expiresAt: 1.5 })).toThrow(JournalCodecError);
    expect(() => encode({ ...pay, reference: '😀'.repeat(16_384) })).toThrow(JournalCodecError);
    expect(() => encode({ kind: 'x.set_wallet_status', id: 'w', status: 'closed' as never, reason: '', actor: 'operator' })).toThrow(JournalCodecError);
    expect(() => encodeCommands([{ kind: 'x.nope' }], codecExtension)).toThrow(JournalCodecError);
    // Numbers beyond their byte (u8) or 32-bit (u32) field are refused, never truncated.
    for (const keyVersion of [2 ** 32, -1, 1.5, Number.NaN]) expect(() => encode({ ...pay, keyVersion }), `keyVersion ${keyVersion}`).toThrow(JournalCodecError);
    for (const tier of [256, -1, 1.5, Number.NaN]) {
      expect(() => encode({ kind: 'x.set_tier_limits', tier, holdingMax: 1n, perPaymentMax: 1n, dailyMax: 1n }), `tier ${tier}`).toThrow(JournalCodecError);
      expect(() => encode({ kind: 'x.set_wallet_tier', id: 'w', tier }), `tier ${tier}`).toThrow(JournalCodecError);
      expect(() => encode({ kind: 'x.open_wallet', id: 'w', bank: 'b', publicKey: 'k', walletKind: 'individual', tier, convertIncoming: false }), `tier ${tier}`).toThrow(JournalCodecError);
    }
    // The largest values still round-trip.
    for (const command of [{ ...pay, keyVersion: 2 ** 32 - 1 }, { kind: 'x.set_wallet_tier', id: 'w', tier: 255 }] satisfies PlatformCommand[]) {
      expect(decodeCommands(encode(command), codecExtension)).toEqual([command]);
    }
  });
});
