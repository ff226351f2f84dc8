// Proves, on random batches of every command kind applied at increasing times, that the ledger keeps its invariants, applies linked chains all or nothing, journals exactly what replays to the same state, agrees with an independent model (balances and every result code) and is idempotent.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { amountMax, timeoutSecondsMax } from '../limits.ts';
import { checkInvariants } from './invariants.ts';
import { decodeCommands } from './journal-codec.ts';
import { Ledger } from './ledger.ts';
import type { ResultCode } from './result-codes.ts';
import { accountCodes, assetCodes, resolveCodes, transferCodes } from './result-codes.ts';
import { stateDigest } from './state-digest.ts';
import type { AccountStatus, Command, CommandResult, CreateTransfer, TransferStatus } from './types.ts';

const MAX = amountMax;
const NUM_RUNS = Number(process.env.TENGRI_PROPERTY_RUNS ?? 400);

// ---- generated intents ------------------------------------------------------------------------
// The generator produces intents; they are resolved into commands while the run proceeds, so a
// post or void can aim at a pending transfer submitted earlier and a repeat can copy (or alter) any
// earlier command. Shrinking works on the intents.

type Target = { readonly recent: number } | { readonly id: string };
type Intent =
  | { readonly t: 'asset'; readonly code: string; readonly scale: number; readonly linked: boolean }
  | { readonly t: 'account'; readonly id: string; readonly asset: string; readonly allowNegative: boolean; readonly maxBalance: bigint | null; readonly linked: boolean }
  | {
      readonly t: 'transfer';
      readonly id: string;
      readonly debit: string;
      readonly credit: string;
      readonly amount: bigint;
      readonly pending: boolean;
      readonly timeoutSeconds: number;
      readonly code: number;
      readonly reference: string;
      readonly linked: boolean;
    }
  | { readonly t: 'post'; readonly target: Target; readonly amount: bigint | null; readonly linked: boolean }
  | { readonly t: 'void'; readonly target: Target; readonly linked: boolean }
  | { readonly t: 'status'; readonly id: string; readonly status: AccountStatus; readonly linked: boolean }
  | { readonly t: 'repeat'; readonly pick: number; readonly alter: boolean; readonly linked: boolean }
  /** A linked chain of plausible transfers, posts and voids; with `poison`, one member is made to fail. */
  | { readonly t: 'chain'; readonly members: readonly ChainMember[]; readonly poison: number | null };

interface ChainMember {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly amount: bigint;
  readonly pending: boolean;
  readonly timeoutSeconds: number;
  readonly resolve: null | { readonly recent: number; readonly post: boolean };
}

interface BatchPlan {
  readonly advanceMs: number;
  readonly intents: readonly Intent[];
  /** Picks of already-applied commands to resubmit in the idempotency probe after the batch. */
  readonly probe: readonly number[];
}

// u0..u3 exist from the start (u1 with a holding limit, u2 in USD); u4..u7 only if a batch creates them.
const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'] as const;
const issuers = ['iss.KZT', 'iss.USD'] as const;
const strangeAccount = fc.constantFrom('ghost', 'bad id', 'x'.repeat(65));
const debitAccount = fc.oneof(
  { arbitrary: fc.constant('iss.KZT'), weight: 8 },
  { arbitrary: fc.constant('iss.USD'), weight: 1 },
  { arbitrary: fc.constantFrom('u0', 'u1', 'u3'), weight: 8 },
  { arbitrary: fc.constantFrom(...users), weight: 3 },
  { arbitrary: strangeAccount, weight: 1 },
);
const creditAccount = fc.oneof(
  { arbitrary: fc.constant('iss.KZT'), weight: 2 },
  { arbitrary: fc.constant('iss.USD'), weight: 1 },
  { arbitrary: fc.constantFrom('u0', 'u1', 'u3'), weight: 12 },
  { arbitrary: fc.constantFrom(...users), weight: 4 },
  { arbitrary: strangeAccount, weight: 1 },
);
const transferId = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 79 }).map((n) => `t${n}`), weight: 30 }, { arbitrary: fc.constantFrom('', 'bad id'), weight: 1 });
const linkedFlag = fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 });
const amount = fc.oneof(
  { arbitrary: fc.bigInt({ min: 1n, max: 400n }), weight: 12 },
  { arbitrary: fc.bigInt({ min: 401n, max: 5000n }), weight: 3 },
  { arbitrary: fc.constantFrom(0n, -1n), weight: 1 },
  { arbitrary: fc.constantFrom(MAX, MAX + 1n, MAX - 1n, 2n ** 62n, MAX / 2n, MAX / 3n), weight: 2 },
);
const maxBalance = fc.oneof(
  { arbitrary: fc.constant(null), weight: 6 },
  { arbitrary: fc.bigInt({ min: 0n, max: 3000n }), weight: 3 },
  { arbitrary: fc.constantFrom(-1n, MAX, MAX + 1n), weight: 1 },
);
/** Pending transfers mostly get a short timeout or none; rarely a timeout is out of range or given to a posted transfer. */
type TimeoutChoice = { readonly kind: 'none' } | { readonly kind: 'short'; readonly seconds: number } | { readonly kind: 'wild'; readonly seconds: number };
const timeout: fc.Arbitrary<TimeoutChoice> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 14 },
  { arbitrary: fc.integer({ min: 1, max: 4 }).map((seconds) => ({ kind: 'short' as const, seconds })), weight: 10 },
  { arbitrary: fc.constantFrom(1, -1, 1.5, timeoutSecondsMax, timeoutSecondsMax + 1).map((seconds) => ({ kind: 'wild' as const, seconds })), weight: 1 },
);
function timeoutSeconds(choice: TimeoutChoice, pending: boolean): number {
  if (choice.kind === 'none') return 0;
  if (choice.kind === 'short') return pending ? choice.seconds : 0;
  return choice.seconds;
}
const reference = fc.oneof(
  { arbitrary: fc.constant(''), weight: 6 },
  { arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', ' ', 'ä', '₸', '😀'), maxLength: 8 }), weight: 3 },
  { arbitrary: fc.constantFrom('r'.repeat(128), 'r'.repeat(129), '😀'.repeat(128), '😀'.repeat(129), 'lone \ud800', '\udc00'), weight: 1 },
);
const target: fc.Arbitrary<Target> = fc.oneof(
  { arbitrary: fc.nat({ max: 50 }).map((recent) => ({ recent })), weight: 10 },
  { arbitrary: transferId.map((id) => ({ id })), weight: 1 },
);

const intent: fc.Arbitrary<Intent> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('asset' as const),
      code: fc.constantFrom('KZT', 'USD', 'EUR', 'kzt', 'X'),
      scale: fc.constantFrom(0, 2, 2, 18, 19, -1),
      linked: linkedFlag,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('account' as const),
      id: fc.oneof({ arbitrary: fc.constantFrom('u4', 'u5', 'u6', 'u7'), weight: 6 }, { arbitrary: fc.constantFrom(...users), weight: 2 }, { arbitrary: fc.constantFrom(...issuers, 'bad id', ''), weight: 1 }),
      asset: fc.oneof({ arbitrary: fc.constant('KZT'), weight: 8 }, { arbitrary: fc.constant('USD'), weight: 2 }, { arbitrary: fc.constantFrom('EUR', 'NOPE'), weight: 1 }),
      allowNegative: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
      maxBalance,
      linked: linkedFlag,
    }),
  },
  {
    weight: 12,
    arbitrary: fc
      .record({
        t: fc.constant('transfer' as const),
        id: transferId,
        debit: debitAccount,
        credit: creditAccount,
        amount,
        pending: fc.boolean(),
        timeoutSeconds: timeout,
        code: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 12 }, { arbitrary: fc.constantFrom(65535, 65536, -1), weight: 1 }),
        reference,
        linked: linkedFlag,
      })
      .map((i) => ({ ...i, timeoutSeconds: timeoutSeconds(i.timeoutSeconds, i.pending) })),  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('post' as const), target, amount: fc.option(amount, { nil: null, freq: 2 }), linked: linkedFlag }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('void' as const), target, linked: linkedFlag }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('status' as const),
      id: fc.oneof({ arbitrary: fc.constantFrom(...users), weight: 6 }, { arbitrary: fc.constantFrom(...issuers, 'ghost'), weight: 1 }),
      status: fc.constantFrom<AccountStatus>('active', 'active', 'frozen', 'frozen', 'closed'),
      linked: linkedFlag,
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('repeat' as const), pick: fc.nat(), alter: fc.boolean(), linked: linkedFlag }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('chain' as const),
      members: fc.array(
        fc.record({
          id: transferId,
          debit: fc.constantFrom('iss.KZT', 'iss.KZT', 'u0', 'u1', 'u3'),
          credit: fc.constantFrom('u0', 'u1', 'u3', 'u4', 'iss.KZT'),
          amount: fc.bigInt({ min: 1n, max: 60n }),
          pending: fc.boolean(),
          timeoutSeconds: fc.constantFrom(0, 0, 1, 2, 3),
          resolve: fc.option(fc.record({ recent: fc.nat({ max: 5 }), post: fc.boolean() }), { nil: null, freq: 3 }),
        }),
        { minLength: 2, maxLength: 4 },
      ),
      poison: fc.option(fc.nat({ max: 3 }), { nil: null, freq: 3 }),
    }),
  },
);

const batchPlan: fc.Arbitrary<BatchPlan> = fc.record({
  // Always at least 2 ms, so the idempotency probe fits at +1 ms. Sometimes far past the 1-4 s timeouts.
  advanceMs: fc.oneof({ arbitrary: fc.integer({ min: 2, max: 50 }), weight: 4 }, { arbitrary: fc.integer({ min: 200, max: 1500 }), weight: 3 }, { arbitrary: fc.integer({ min: 1500, max: 6000 }), weight: 2 }),
  intents: fc.array(intent, { minLength: 1, maxLength: 12 }),
  probe: fc.array(fc.nat(), { maxLength: 3 }),
});
const scenario = fc.array(batchPlan, { minLength: 1, maxLength: 14 });

const setupCommands: readonly Command[] = [
  { kind: 'create_asset', code: 'KZT', scale: 2 },
  { kind: 'create_asset', code: 'USD', scale: 2 },
  { kind: 'create_account', id: 'iss.KZT', asset: 'KZT', allowNegative: true, maxBalance: null },
  { kind: 'create_account', id: 'iss.USD', asset: 'USD', allowNegative: true, maxBalance: null },
  { kind: 'create_account', id: 'u0', asset: 'KZT', allowNegative: false, maxBalance: null },
  { kind: 'create_account', id: 'u1', asset: 'KZT', allowNegative: false, maxBalance: 2000n },
  { kind: 'create_account', id: 'u2', asset: 'USD', allowNegative: false, maxBalance: null },
  { kind: 'create_account', id: 'u3', asset: 'KZT', allowNegative: false, maxBalance: null },
  { kind: 'create_transfer', id: 'fund-u0', debit: 'iss.KZT', credit: 'u0', amount: 1000n, pending: false, timeoutSeconds: 0, code: 0, reference: '' },
  { kind: 'create_transfer', id: 'fund-u3', debit: 'iss.KZT', credit: 'u3', amount: 1000n, pending: false, timeoutSeconds: 0, code: 0, reference: '' },
  { kind: 'create_transfer', id: 'hold-1', debit: 'iss.KZT', credit: 'u1', amount: 50n, pending: true, timeoutSeconds: 0, code: 0, reference: '' },
  { kind: 'create_transfer', id: 'hold-2', debit: 'u3', credit: 'u0', amount: 30n, pending: true, timeoutSeconds: 2, code: 0, reference: '' },
];

// ---- the independent model --------------------------------------------------------------------

interface ModelAccount {
  readonly id: string;
  readonly asset: string;
  readonly allowNegative: boolean;
  readonly maxBalance: bigint | null;
  status: AccountStatus;
  balance: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
}
interface ModelTransfer {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly amount: bigint;
  readonly pending: boolean;
  readonly timeoutSeconds: number;
  readonly code: number;
  readonly reference: string;
  readonly timestamp: number;
  readonly sequence: number;
  status: TransferStatus;
  postedAmount: bigint | null;
  resolvedAt: number | null;
}

const idPattern = /^[A-Za-z0-9._:-]{1,64}$/;
const assetPattern = /^[A-Z][A-Z0-9_]{1,23}$/;
const ok: CommandResult = { ok: true, existed: false };
const existed: CommandResult = { ok: true, existed: true };

/** The result for a set of applicable rejection codes: the first in the operation's published order wins. */
function decide(order: readonly ResultCode[], codes: ResultCode[], otherwise: CommandResult): CommandResult {
  if (codes.length === 0) return otherwise;
  const ranked = [...codes].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return { ok: false, code: ranked[0]! };
}

/**
 * A plain reimplementation of the ledger rules, written from the result-code descriptions: it
 * collects every code whose condition holds and lets the published order decide. It never
 * shares code with the ledger.
 */
class Model {
  assets = new Map<string, number>();
  accounts = new Map<string, ModelAccount>();
  transfers = new Map<string, ModelTransfer>();
  sequence = 0;

  clone(): Model {
    const copy = new Model();
    copy.assets = new Map(this.assets);
    copy.accounts = new Map([...this.accounts].map(([k, v]) => [k, { ...v }]));
    copy.transfers = new Map([...this.transfers].map(([k, v]) => [k, { ...v }]));
    copy.sequence = this.sequence;
    return copy;
  }

  /** Pending transfers due at `timestamp`, in (deadline, sequence) order; releases them. */
  expire(timestamp: number): string[] {
    const due = [...this.transfers.values()]
      .filter((t) => t.status === 'pending' && t.timeoutSeconds > 0 && t.timestamp + t.timeoutSeconds * 1000 <= timestamp)
      .sort((a, b) => a.timestamp + a.timeoutSeconds * 1000 - (b.timestamp + b.timeoutSeconds * 1000) || a.sequence - b.sequence);
    for (const t of due) this.release(t, 'expired', timestamp);
    return due.map((t) => t.id);
  }

  private release(t: ModelTransfer, to: TransferStatus, timestamp: number): void {
    if (t.status !== 'pending') throw new Error(`model: transfer ${t.id} resolved twice (${t.status} -> ${to})`);
    this.accounts.get(t.debit)!.pendingDebits -= t.amount;
    this.accounts.get(t.credit)!.pendingCredits -= t.amount;
    t.status = to;
    t.resolvedAt = timestamp;
  }

  predict(c: Command): CommandResult {
    const codes: ResultCode[] = [];
    switch (c.kind) {
      case 'create_asset': {
        if (!assetPattern.test(c.code)) codes.push('asset_code_invalid');
        if (!Number.isInteger(c.scale) || c.scale < 0 || c.scale > 18) codes.push('scale_invalid');
        const scale = this.assets.get(c.code);
        if (scale !== undefined && scale !== c.scale) codes.push('exists_with_different_fields');
        return decide(assetCodes, codes, scale === undefined ? ok : existed);
      }
      case 'create_account': {
        if (!idPattern.test(c.id)) codes.push('id_invalid');
        if (!this.assets.has(c.asset)) codes.push('asset_not_found');
        if (c.maxBalance !== null && (c.maxBalance < 0n || c.maxBalance > MAX || c.allowNegative)) codes.push('max_balance_invalid');
        const a = this.accounts.get(c.id);
        if (a !== undefined && (a.asset !== c.asset || a.allowNegative !== c.allowNegative || a.maxBalance !== c.maxBalance)) codes.push('exists_with_different_fields');
        return decide(accountCodes, codes, a === undefined ? ok : existed);
      }
      case 'set_account_status': {
        const a = this.accounts.get(c.id);
        if (a === undefined) return decide(accountCodes, ['account_not_found'], ok);
        if (a.status === c.status) return existed;
        if (a.status === 'closed') codes.push('account_closed');
        return decide(accountCodes, codes, ok);
      }
      case 'create_transfer': {
        if (!idPattern.test(c.id)) codes.push('id_invalid');
        if (!c.pending && c.timeoutSeconds !== 0) codes.push('timeout_reserved_for_pending_transfer');
        if (c.debit === c.credit) codes.push('accounts_must_be_different');
        if (c.amount <= 0n) codes.push('amount_must_be_positive');
        if (c.amount > MAX) codes.push('amount_exceeds_maximum');
        if (!Number.isInteger(c.code) || c.code < 0 || c.code > 65535) codes.push('code_invalid');
        if ([...c.reference].length > 128) codes.push('reference_too_long');
        if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(c.reference)) codes.push('reference_invalid');
        if (!Number.isInteger(c.timeoutSeconds) || c.timeoutSeconds < 0 || c.timeoutSeconds > timeoutSecondsMax) codes.push('timeout_invalid');
        const t = this.transfers.get(c.id);
        if (t !== undefined) {
          const same = t.debit === c.debit && t.credit === c.credit && t.amount === c.amount && t.pending === c.pending && t.timeoutSeconds === c.timeoutSeconds && t.code === c.code && t.reference === c.reference;
          if (!same) codes.push('exists_with_different_fields');
          return decide(transferCodes, codes, existed);
        }
        const d = this.accounts.get(c.debit);
        const k = this.accounts.get(c.credit);
        if (d === undefined) codes.push('debit_account_not_found');
        if (k === undefined) codes.push('credit_account_not_found');
        if (d !== undefined && k !== undefined) {
          if (d.asset !== k.asset) codes.push('accounts_must_have_the_same_asset');
          if (d.status !== 'active') codes.push('debit_account_not_active');
          if (k.status !== 'active') codes.push('credit_account_not_active');
          if (c.pending && (d.pendingDebits + c.amount > MAX || k.pendingCredits + c.amount > MAX)) codes.push('overflows_pending');
          if (d.balance - d.pendingDebits - c.amount < -MAX || k.balance + k.pendingCredits + c.amount > MAX) codes.push('overflows_balance');
          if (!d.allowNegative && d.balance - d.pendingDebits < c.amount) codes.push('insufficient_funds');
          if (k.maxBalance !== null && k.balance + k.pendingCredits + c.amount > k.maxBalance) codes.push('limit_exceeded');
        }
        return decide(transferCodes, codes, ok);
      }
      case 'post_pending':
      case 'void_pending': {
        const t = this.transfers.get(c.pendingId);
        const requested = c.kind === 'post_pending' ? c.amount : null;
        if (t === undefined) codes.push('pending_transfer_not_found');
        else if (!t.pending) codes.push('pending_transfer_not_pending');
        if (requested !== null && requested <= 0n) codes.push('amount_must_be_positive');
        if (requested !== null && requested > MAX) codes.push('amount_exceeds_maximum');
        if (t === undefined || !t.pending) return decide(resolveCodes, codes, ok);
        let repeated = false;
        if (t.status === 'posted') {
          if (c.kind === 'post_pending' && (requested ?? t.amount) === t.postedAmount) repeated = true;
          else codes.push('pending_transfer_already_posted');
        } else if (t.status === 'voided') {
          if (c.kind === 'void_pending') repeated = true;
          else codes.push('pending_transfer_already_voided');
        } else if (t.status === 'expired') {
          codes.push('pending_transfer_expired');
        } else if (c.kind === 'post_pending') {
          if ((requested ?? t.amount) > t.amount) codes.push('amount_exceeds_pending_amount');
          if (this.accounts.get(t.debit)!.status !== 'active') codes.push('debit_account_not_active');
          if (this.accounts.get(t.credit)!.status !== 'active') codes.push('credit_account_not_active');
        }
        return decide(resolveCodes, codes, repeated ? existed : ok);
      }
    }
  }

  /** Applies a command that was accepted as new (ok, not existed). */
  effect(c: Command, timestamp: number): void {
    switch (c.kind) {
      case 'create_asset':
        this.assets.set(c.code, c.scale);
        return;
      case 'create_account':
        this.accounts.set(c.id, { id: c.id, asset: c.asset, allowNegative: c.allowNegative, maxBalance: c.maxBalance, status: 'active', balance: 0n, pendingDebits: 0n, pendingCredits: 0n });
        return;
      case 'set_account_status':
        this.accounts.get(c.id)!.status = c.status;
        return;
      case 'create_transfer': {
        const d = this.accounts.get(c.debit)!;
        const k = this.accounts.get(c.credit)!;
        if (c.pending) {
          d.pendingDebits += c.amount;
          k.pendingCredits += c.amount;
        } else {
          d.balance -= c.amount;
          k.balance += c.amount;
        }
        this.transfers.set(c.id, {
          id: c.id,
          debit: c.debit,
          credit: c.credit,
          amount: c.amount,
          pending: c.pending,
          timeoutSeconds: c.timeoutSeconds,
          code: c.code,
          reference: c.reference,
          timestamp,
          sequence: ++this.sequence,
          status: c.pending ? 'pending' : 'posted',
          postedAmount: null,
          resolvedAt: null,
        });
        return;
      }
      case 'post_pending': {
        const t = this.transfers.get(c.pendingId)!;
        const posted = c.amount ?? t.amount;
        this.release(t, 'posted', timestamp);
        t.postedAmount = posted;
        this.accounts.get(t.debit)!.balance -= posted;
        this.accounts.get(t.credit)!.balance += posted;
        return;
      }
      case 'void_pending':
        this.release(this.transfers.get(c.pendingId)!, 'voided', timestamp);
        return;
    }
  }
}

// ---- running a scenario -----------------------------------------------------------------------

interface Group {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  /** The batch ended inside this chain. */
  readonly open: boolean;
}

/** Splits a batch into standalone commands and linked chains, the way the published rules define them. */
function groups(commands: readonly Command[]): Group[] {
  const list: Group[] = [];
  let i = 0;
  while (i < commands.length) {
    let end = i;
    while (end < commands.length && commands[end]!.linked === true) end++;
    if (end === commands.length) {
      list.push({ start: i, end: commands.length - 1, open: true });
      break;
    }
    list.push({ start: i, end, open: false });
    i = end + 1;
  }
  return list;
}

interface Checks {
  /** (a) invariants, (b) chains all or nothing, (d) model balances, (e) idempotency. */
  readonly state: boolean;
  /** (c) journal replay. */
  readonly replay: boolean;
  /** Every result equals the model's prediction. */
  readonly oracle: boolean;
}

const stats = {
  runs: 0,
  batches: 0,
  commands: 0,
  codes: new Map<string, number>(),
  expired: 0,
  chainsCommitted: 0,
  chainsFailed: 0,
  chainsOpen: 0,
  probes: 0,
};
function count(key: string): void {
  stats.codes.set(key, (stats.codes.get(key) ?? 0) + 1);
}

const show = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

function runScenario(plans: readonly BatchPlan[], checks: Checks): void {
  stats.runs++;
  const main = new Ledger();
  const twin = new Ledger(); // gets each batch without its rejected commands and failed chains
  const replica = new Ledger(); // gets only the journal
  const model = new Model();
  const history: Command[] = [];
  /** Commands that applied as new and may be resubmitted: they must then answer existed. */
  const repeatable: Command[] = [];
  const journal: { timestamp: number; body: Uint8Array }[] = [];
  /** Transfers resolved so far with how: they must never change again. */
  const resolved = new Map<string, { status: TransferStatus; postedAmount: bigint | null; resolvedAt: number | null }>();
  let now = 1_000;

  // A post or void mostly aims at a pending transfer that exists (whatever its state now) or was
  // submitted earlier in this batch, recent ones first.
  let batchPendingIds: string[] = [];
  const resolveTarget = (target: Target): string => {
    if ('id' in target) return target.id;
    const pool = [...new Set([...[...model.transfers.values()].filter((t) => t.pending).map((t) => t.id), ...batchPendingIds])];
    return pool.length === 0 ? 'none' : pool[pool.length - 1 - (target.recent % Math.min(pool.length, 6))]!;
  };
  const materialise = (intent: Intent): Command[] => {
    if (intent.t === 'chain') {
      const list = intent.members.map((m, i): Command => {
        const linked = i < intent.members.length - 1;
        const poisoned = intent.poison !== null && intent.poison % intent.members.length === i;
        if (m.resolve !== null) {
          const pendingId = resolveTarget({ recent: m.resolve.recent });
          if (!m.resolve.post) return { kind: 'void_pending', pendingId: poisoned ? 'ghost' : pendingId, linked };
          return { kind: 'post_pending', pendingId, amount: poisoned ? 0n : null, linked };
        }
        const debit = m.debit === m.credit ? 'iss.KZT' : m.debit;
        const credit = m.debit === m.credit ? 'u0' : m.credit;
        return {
          kind: 'create_transfer',
          id: m.id,
          debit,
          credit,
          amount: poisoned ? MAX + 1n : m.amount,
          pending: m.pending,
          timeoutSeconds: m.pending ? m.timeoutSeconds : 0,
          code: 0,
          reference: 'chain',
          linked,
        };
      });
      return list;
    }
    return [materialiseOne(intent)];
  };
  const materialiseOne = (intent: Exclude<Intent, { t: 'chain' }>): Command => {
    switch (intent.t) {
      case 'asset':
        return { kind: 'create_asset', code: intent.code, scale: intent.scale, linked: intent.linked };
      case 'account':
        return { kind: 'create_account', id: intent.id, asset: intent.asset, allowNegative: intent.allowNegative, maxBalance: intent.maxBalance, linked: intent.linked };
      case 'transfer': {
        const { t: _t, ...fields } = intent;
        return { kind: 'create_transfer', ...fields };
      }
      case 'post':
        return { kind: 'post_pending', pendingId: resolveTarget(intent.target), amount: intent.amount, linked: intent.linked };
      case 'void':
        return { kind: 'void_pending', pendingId: resolveTarget(intent.target), linked: intent.linked };
      case 'status':
        return { kind: 'set_account_status', id: intent.id, status: intent.status, linked: intent.linked };
      case 'repeat': {
        const earlier = history.length === 0 ? setupCommands[intent.pick % setupCommands.length]! : history[intent.pick % history.length]!;
        if (!intent.alter) return { ...earlier, linked: intent.linked };
        switch (earlier.kind) {
          case 'create_transfer':
            return { ...earlier, amount: earlier.amount + 1n, linked: intent.linked };
          case 'create_account':
            return { ...earlier, maxBalance: earlier.maxBalance === null ? 100n : null, linked: intent.linked };
          case 'create_asset':
            return { ...earlier, scale: earlier.scale + 1, linked: intent.linked };
          case 'post_pending':
            return { ...earlier, amount: earlier.amount === null ? 1n : null, linked: intent.linked };
          default:
            return { ...earlier, linked: intent.linked };
        }
      }
    }
  };

  const compareWithModel = (where: string): void => {
    const accounts = [...main.allAccounts()];
    expect(accounts.map((a) => a.id).sort(), `${where}: account ids`).toEqual([...model.accounts.keys()].sort());
    for (const a of accounts) {
      const m = model.accounts.get(a.id)!;
      expect({ balance: a.balance, pendingDebits: a.pendingDebits, pendingCredits: a.pendingCredits, status: a.status }, `${where}: account ${a.id}`).toEqual({
        balance: m.balance,
        pendingDebits: m.pendingDebits,
        pendingCredits: m.pendingCredits,
        status: m.status,
      });
    }
    expect(main.transferCount, `${where}: transfer count`).toBe(model.transfers.size);
    for (const m of model.transfers.values()) {
      const t = main.getTransfer(m.id);
      expect(t && { sequence: t.sequence, amount: t.amount, status: t.status, postedAmount: t.postedAmount, resolvedAt: t.resolvedAt, timestamp: t.timestamp }, `${where}: transfer ${m.id}`).toEqual({
        sequence: m.sequence,
        amount: m.amount,
        status: m.status,
        postedAmount: m.postedAmount,
        resolvedAt: m.resolvedAt,
        timestamp: m.timestamp,
      });
    }
    // A pending transfer is resolved at most once: what was resolved stays exactly as it was.
    for (const [id, before] of resolved) {
      const t = main.getTransfer(id)!;
      expect({ status: t.status, postedAmount: t.postedAmount, resolvedAt: t.resolvedAt }, `${where}: resolved transfer ${id} changed`).toEqual(before);
    }
    for (const t of model.transfers.values()) {
      if (t.pending && t.status !== 'pending' && !resolved.has(t.id)) resolved.set(t.id, { status: t.status, postedAmount: t.postedAmount, resolvedAt: t.resolvedAt });
    }
  };

  const checkExpired = (expiredIds: string[], timestamp: number, where: string): void => {
    const predicted = model.expire(timestamp);
    stats.expired += predicted.length;
    if (checks.state || checks.oracle) expect(expiredIds, `${where}: expired at ${timestamp}`).toEqual(predicted);
  };

  const step = (commands: readonly Command[], timestamp: number, where: string, probe: boolean): void => {
    const outcome = main.apply(commands, timestamp);
    const results = outcome.results;
    expect(results.length).toBe(commands.length);
    checkExpired(outcome.expired.map((t) => t.id), timestamp, where);

    // Walk the batch chain by chain: compare with the model's prediction, then update the model
    // from what was observed.
    const kept: Command[] = [];
    const keptResults: CommandResult[] = [];
    for (const g of groups(commands)) {
      const members = commands.slice(g.start, g.end + 1);
      const observed = results.slice(g.start, g.end + 1);
      const label = `${where}: commands ${g.start}..${g.end} ${show(members)}`;
      let expected: CommandResult[];
      if (g.open) {
        expected = members.map((_, i) => ({ ok: false as const, code: i === members.length - 1 ? ('linked_event_chain_open' as const) : ('linked_event_failed' as const) }));
        stats.chainsOpen++;
      } else {
        const scratch = members.length > 1 ? model.clone() : model;
        expected = [];
        let failedAt = -1;
        for (const [i, c] of members.entries()) {
          const p = scratch.predict(c);
          expected.push(p);
          if (!p.ok) {
            failedAt = i;
            break;
          }
          if (!p.existed && members.length > 1) scratch.effect(c, timestamp);
        }
        if (failedAt >= 0 && members.length > 1) expected = members.map((_, i) => (i === failedAt ? expected[failedAt]! : { ok: false as const, code: 'linked_event_failed' as const }));
      }
      if (checks.oracle) expect(observed, `${label}: results differ from the model`).toEqual(expected);

      const allOk = observed.every((r) => r.ok);
      if (checks.state && members.length > 1) {
        // (b) all or nothing: a chain's results are all ok or all rejected, exactly one with its own
        // code unless the chain was left open.
        const rejectedCount = observed.filter((r) => !r.ok).length;
        expect(rejectedCount === 0 || rejectedCount === members.length, `${label}: partial chain ${show(observed)}`).toBe(true);
        if (rejectedCount > 0 && !g.open) {
          expect(observed.filter((r) => !r.ok && r.code !== 'linked_event_failed').length, `${label}: one member names the cause`).toBe(1);
        }
      }
      if (members.length > 1 && !g.open) {
        if (allOk) stats.chainsCommitted++;
        else stats.chainsFailed++;
      }
      for (const r of observed) count(r.ok ? (r.existed ? 'existed' : 'ok') : r.code);
      if (allOk) {
        for (const [i, c] of members.entries()) {
          const r = observed[i]!;
          if (r.ok && !r.existed) {
            model.effect(c, timestamp);
            // Status changes are not idempotent by fields over time (frozen, active, frozen again).
            if (!probe && c.kind !== 'set_account_status') repeatable.push(c);
          }
          kept.push(c);
          keptResults.push(r);
        }
      }
    }

    // (b) Leaving out every rejected command and failed chain gives the same state and results.
    const twinOutcome = twin.apply(kept, timestamp);
    if (checks.state) {
      expect(twinOutcome.results, `${where}: results without the rejected commands`).toEqual(keptResults);
      expect(stateDigest(twin), `${where}: rejected commands or failed chains left a trace`).toBe(stateDigest(main));
    }

    // (c) The journal holds exactly the commands that changed state and replays to the same state.
    journal.push({ timestamp, body: outcome.journal });
    if (checks.replay) {
      const decoded = decodeCommands(outcome.journal);
      const applied = commands.filter((_, i) => results[i]!.ok && !(results[i] as { existed: boolean }).existed);
      expect(decoded.length, `${where}: appliedCount`).toBe(outcome.appliedCount);
      expect(decoded.map((c) => ({ ...c, linked: false })), `${where}: journal content`).toEqual(applied.map((c) => ({ ...c, linked: false })));
      const replayed = replica.apply(decoded, timestamp);
      replayed.results.forEach((r, i) => expect(r, `${where}: replayed command ${i} ${show(decoded[i])} of journal ${show(decoded)}`).toEqual(ok));
      expect(Buffer.from(replayed.journal).equals(Buffer.from(outcome.journal)), `${where}: replay re-encodes to the same body`).toBe(true);
      expect(stateDigest(replica), `${where}: replayed state`).toBe(stateDigest(main));
    }

    if (checks.state) {
      // (a) invariants.
      const report = checkInvariants(main);
      expect(report.violations, `${where}: invariants`).toEqual([]);
      expect(report.ok).toBe(true);
      // (d) the model's balances, statuses and transfers.
      compareWithModel(where);
    }
  };

  step(setupCommands, now, 'setup', false);
  history.push(...setupCommands);
  for (const [b, plan] of plans.entries()) {
    stats.batches++;
    now += plan.advanceMs;
    const commands: Command[] = [];
    batchPendingIds = [];
    for (const i of plan.intents) {
      for (const c of materialise(i)) {
        commands.push(c);
        history.push(c);
        if (c.kind === 'create_transfer' && c.pending) batchPendingIds.push(c.id);
      }
    }
    stats.commands += commands.length;
    step(commands, now, `batch ${b}`, false);

    // (e) Idempotency probe, 1 ms later: resubmitting applied commands answers existed and
    // changes nothing (the twin gets an empty batch at the same time).
    const probe = repeatable.length === 0 ? [] : plan.probe.map((p) => ({ ...repeatable[p % repeatable.length]!, linked: false }));
    if (probe.length > 0) stats.probes++;
    const probeOutcome = main.apply(probe, now + 1);
    checkExpired(probeOutcome.expired.map((t) => t.id), now + 1, `probe ${b}`);
    twin.apply([], now + 1);
    replica.apply(decodeCommands(probeOutcome.journal), now + 1);
    journal.push({ timestamp: now + 1, body: probeOutcome.journal });
    if (checks.state) {
      probeOutcome.results.forEach((r, i) => {
        const c = probe[i]!;
        // A resubmitted void or post answers existed; a resubmitted create answers existed.
        expect(r, `probe ${b}: resubmitted ${show(c)}`).toEqual(existed);
      });
      expect(probeOutcome.appliedCount).toBe(0);
      expect(probeOutcome.journal.length).toBe(0);
      expect(stateDigest(main), `probe ${b}: a resubmission changed the state`).toBe(stateDigest(twin));
      compareWithModel(`probe ${b}`);
    }
  }

  if (checks.replay) {
    // The concatenation of all journal bodies, replayed with the batch timestamps into a fresh
    // ledger, reproduces the state.
    const fresh = new Ledger();
    const all = decodeCommands(new Uint8Array(Buffer.concat(journal.map((j) => j.body))));
    let offset = 0;
    for (const { timestamp, body } of journal) {
      const n = decodeCommands(body).length;
      const outcome = fresh.apply(all.slice(offset, offset + n), timestamp);
      offset += n;
      for (const r of outcome.results) expect(r).toEqual(ok);
    }
    expect(offset).toBe(all.length);
    expect(stateDigest(fresh)).toBe(stateDigest(main));
  }
}

describe('ledger properties on random command sequences', () => {
  afterAll(() => {
    if (process.env.TENGRI_PROPERTY_STATS !== undefined) console.log(show({ ...stats, codes: Object.fromEntries(stats.codes) }));
    if (stats.runs < 300) return; // a filtered or shortened run proves too little to judge coverage
    // The generator must exercise the interesting paths, or the properties above prove little.
    const c = (key: string): number => stats.codes.get(key) ?? 0;
    expect(c('ok')).toBeGreaterThan(stats.commands / 10);
    expect(c('existed')).toBeGreaterThan(0);
    for (const code of ['exists_with_different_fields', 'insufficient_funds', 'linked_event_failed', 'linked_event_chain_open', 'pending_transfer_already_posted', 'pending_transfer_expired', 'limit_exceeded', 'overflows_balance']) {
      expect(c(code), `generator never produced ${code}`).toBeGreaterThan(0);
    }
    expect(stats.expired).toBeGreaterThan(0);
    expect(stats.chainsCommitted).toBeGreaterThan(0);
    expect(stats.chainsFailed).toBeGreaterThan(0);
    expect(stats.probes).toBeGreaterThan(0);
  });

  it('(a, b, d, e) keep invariants, apply chains all or nothing, match the model and are idempotent', () => {
    fc.assert(
      fc.property(scenario, (plans) => runScenario(plans, { state: true, replay: false, oracle: false })),
      { numRuns: NUM_RUNS },
    );
  });

  it('(c) replaying the journal bodies with the batch timestamps reproduces the state exactly', () => {
    fc.assert(
      fc.property(scenario, (plans) => runScenario(plans, { state: false, replay: true, oracle: false })),
      { numRuns: NUM_RUNS },
    );
  });

  it('every result equals the independent model prediction, precedence included', () => {
    fc.assert(
      fc.property(scenario, (plans) => runScenario(plans, { state: false, replay: false, oracle: true })),
      { numRuns: NUM_RUNS },
    );
  });
});
