/**
 * The two-tier platform as a deterministic extension of the ledger core. Every platform command
 * is applied inside the sequencer, in the same step that moves its money, so statuses, replay
 * sequences, tier limits and issuance caps hold however requests race. Platform state
 * (participants, wallets, payments, per-bank totals and events) changes only through journaled
 * commands and is rebuilt exactly by replaying them.
 *
 * Each command handler follows one shape: validate everything (returning the first code in
 * `platformCodes` order that applies), execute the core transfers (any core rejection undoes the
 * ones before it), and only then change platform records — which cannot fail — so a rejected
 * command leaves no trace here either.
 *
 * No clock, randomness or I/O (the purity test covers this directory): time is the batch
 * timestamp, and ids and keys come in with the commands.
 */
import { amountMax, referenceLengthMax } from '../limits.ts';
import type { ResultCode } from '../ledger/result-codes.ts';
import { okExisted, okNew, reject } from '../ledger/results.ts';
import type { CommandResult, CoreCommand, ExtensionCommand, ExtensionContext, JournalReader, JournalWriter, LedgerExtension } from '../ledger/types.ts';
import {
  bankMoneyAsset,
  cbdcAsset,
  cbIssuance,
  cbReserves,
  depositAccount,
  floatAccount,
  isBic,
  isOperationId,
  isParticipantId,
  isWalletId,
  moneyAccount,
  reserveAccount,
  reserveAsset,
  walletAccount,
} from './accounts.ts';
import { decodePlatformCommand, encodePlatformCommand } from './codec.ts';
import type {
  BankRecord,
  CloseWallet,
  CreatePaymentRequest,
  EventType,
  OpenWallet,
  Participant,
  ParticipantRole,
  Pay,
  Payment,
  PaymentRequest,
  PlatformCommand,
  PlatformEvent,
  RegisterParticipant,
  ReserveOperation,
  SetIssuanceCap,
  SetParticipantKey,
  SetParticipantStatus,
  SetTierLimits,
  SetWalletConversion,
  SetWalletKey,
  SetWalletStatus,
  SetWalletTier,
  TierLimits,
  Wallet,
  WalletOperation,
} from './types.ts';
import { participantRoles, walletKinds } from './types.ts';

/** Transfer codes of the transfers platform commands create (visible in account histories). */
export const transferCodes = {
  reservesTopUp: 1,
  issuance: 2,
  redemption: 3,
  fund: 10,
  defund: 11,
  accountCredit: 12,
  accountDebit: 13,
  payment: 20,
  paymentToBankAccount: 21,
  close: 30,
} as const;

const dayMs = 86_400_000;
const nameLengthMax = 128;

interface ParticipantState {
  id: string;
  role: ParticipantRole;
  name: string;
  bic: string | null;
  wallet: string | null;
  bank: string | null;
  status: 'active' | 'suspended';
  keyHash: string;
  keyVersion: number;
  createdAt: number;
}

interface DayTotals {
  reservesToppedUp: bigint;
  issued: bigint;
  redeemed: bigint;
  funded: bigint;
  defunded: bigint;
  accountCredits: bigint;
  accountDebits: bigint;
  paymentsOut: number;
  paymentsOutAmount: bigint;
  paymentsIn: number;
  paymentsInAmount: bigint;
  /** Part of received payments sent on to holders' bank accounts. */
  convertedToBankAccounts: bigint;
  walletsOpened: number;
  walletsClosed: number;
  closingReserve: bigint;
  closingFloat: bigint;
  closingWalletHoldings: bigint;
  closingDeposits: bigint;
}

interface BankState {
  issued: bigint;
  issuanceCap: bigint | null;
  wallets: string[];
  asset: string;
  /** Digital tenge held by this bank's wallets. */
  walletHoldings: bigint;
  /** Bank money held in its customers' linked accounts. */
  deposits: bigint;
  days: Map<number, DayTotals>;
  lastDay: number;
  eventCount: number;
  events: PlatformEvent[];
  /** Index in `events` of the oldest event kept (the ring is trimmed in chunks). */
  eventsStart: number;
}

interface WalletState {
  id: string;
  bank: string;
  kind: (typeof walletKinds)[number];
  tier: number;
  status: 'active' | 'frozen' | 'closed';
  /** Who froze a frozen wallet: its bank, or 'operator' (then only the operator unfreezes it). */
  frozenBy: string | null;
  publicKey: string;
  keyVersion: number;
  lastSequence: number;
  day: number;
  spentToday: bigint;
  convertIncoming: boolean;
  createdAt: number;
  closedAt: number | null;
  /** The sweepTo of the close, to recognise a retried close. */
  closedSweepTo: string;
  balance: bigint;
  deposit: bigint;
  /** The fields it was opened with, to recognise a retried open after later changes. */
  readonly openedWith: { readonly publicKey: string; readonly tier: number; readonly convertIncoming: boolean };
}

interface PaymentState extends Omit<Payment, 'refunded'> {
  refunded: bigint;
  keyVersion: number;
}

interface OperationState {
  readonly kind: string;
  readonly target: string;
  readonly amount: bigint;
}

export interface PlatformOptions {
  /** Events kept per bank for catch-up; older ones are dropped (default 100,000). */
  readonly eventsPerBank?: number;
  /** Validates a wallet public key (the platform core does no crypto of its own). */
  readonly isValidPublicKey?: (publicKey: string) => boolean;
}


function isAmount(value: bigint): ResultCode | null {
  if (value <= 0n) return 'amount_must_be_positive';
  if (value > amountMax) return 'amount_exceeds_maximum';
  return null;
}

function isText(value: string, max: number): boolean {
  let count = 0;
  for (const _ of value) if (++count > max) return false;
  return value.isWellFormed();
}

/** A free-text reference: at most 128 code points of well-formed Unicode. */
function referenceCode(value: string): ResultCode | null {
  if (value === '') return null;
  if (typeof value !== 'string') return 'field_invalid';
  if (!value.isWellFormed()) return 'reference_invalid';
  return isText(value, referenceLengthMax) ? null : 'reference_too_long';
}

/** A time field of a journaled command: 0 (none) or milliseconds since the epoch. */
function isTime(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

const keyHashPattern = /^[0-9a-f]{64}$/;

function newDay(): DayTotals {
  return {
    reservesToppedUp: 0n,
    issued: 0n,
    redeemed: 0n,
    funded: 0n,
    defunded: 0n,
    accountCredits: 0n,
    accountDebits: 0n,
    paymentsOut: 0,
    paymentsOutAmount: 0n,
    paymentsIn: 0,
    paymentsInAmount: 0n,
    convertedToBankAccounts: 0n,
    walletsOpened: 0,
    walletsClosed: 0,
    closingReserve: 0n,
    closingFloat: 0n,
    closingWalletHoldings: 0n,
    closingDeposits: 0n,
  };
}

export type DayStatement = Readonly<DayTotals> & { readonly day: number; readonly openingReserve: bigint; readonly openingFloat: bigint; readonly openingWalletHoldings: bigint; readonly openingDeposits: bigint };

export class Platform implements LedgerExtension {
  private readonly tierLimits = new Map<number, TierLimits>();
  private readonly participants = new Map<string, ParticipantState>();
  private readonly participantsInOrder: ParticipantState[] = [];
  private readonly byKeyHash = new Map<string, ParticipantState>();
  private readonly bics = new Set<string>();
  private readonly banks = new Map<string, BankState>();
  private readonly wallets = new Map<string, WalletState>();
  private readonly walletsInOrder: WalletState[] = [];
  private readonly payments = new Map<string, PaymentState>();
  private readonly requests = new Map<string, PaymentRequest & { status: 'open' | 'paid'; paidBy: string | null }>();
  private readonly operations = new Map<string, OperationState>();
  /** Events of committed and uncommitted commands not yet taken by `takeNewEvents`. */
  private newEvents: PlatformEvent[] = [];
  /** Events not yet taken by `takeOutboxEvents`; null until `collectOutbox()` (only a writer has an outbox). */
  private outboxEvents: PlatformEvent[] | null = null;
  private readonly eventsPerBank: number;
  private readonly validPublicKey: (publicKey: string) => boolean;
  private context!: ExtensionContext;
  private timestamp = 0;
  private pendingEvents: { bank: string; type: EventType; wallet: string | null; payment: string | null; counterparty: string | null; amount: bigint | null; toBankAccount: bigint | null; detail: string | null }[] = [];

  constructor(options: PlatformOptions = {}) {
    this.eventsPerBank = options.eventsPerBank ?? 100_000;
    this.validPublicKey = options.isValidPublicKey ?? ((key) => /^[A-Za-z0-9_-]{43}$/.test(key));
  }

  // ---- LedgerExtension --------------------------------------------------------------------------

  encode(command: ExtensionCommand, writer: JournalWriter): void {
    encodePlatformCommand(command, writer);
  }

  decode(tag: number, reader: JournalReader): ExtensionCommand {
    return decodePlatformCommand(tag, reader);
  }

  apply(command: ExtensionCommand, context: ExtensionContext): CommandResult {
    this.context = context;
    this.timestamp = context.timestamp;
    this.pendingEvents.length = 0;
    const c = command as PlatformCommand;
    let result: CommandResult;
    switch (c.kind) {
      case 'x.pay':
        result = this.pay(c);
        break;
      case 'x.set_tier_limits':
        result = this.setTierLimits(c);
        break;
      case 'x.register_participant':
        result = this.registerParticipant(c);
        break;
      case 'x.set_participant_status':
        result = this.setParticipantStatus(c);
        break;
      case 'x.set_participant_key':
        result = this.setParticipantKey(c);
        break;
      case 'x.set_issuance_cap':
        result = this.setIssuanceCap(c);
        break;
      case 'x.top_up_reserves':
      case 'x.issue':
      case 'x.redeem':
        result = this.reserveOperation(c);
        break;
      case 'x.open_wallet':
        result = this.openWallet(c);
        break;
      case 'x.set_wallet_status':
        result = this.setWalletStatus(c);
        break;
      case 'x.set_wallet_key':
        result = this.setWalletKey(c);
        break;
      case 'x.set_wallet_tier':
        result = this.setWalletTier(c);
        break;
      case 'x.set_wallet_conversion':
        result = this.setWalletConversion(c);
        break;
      case 'x.close_wallet':
        result = this.closeWallet(c);
        break;
      case 'x.fund':
      case 'x.defund':
      case 'x.credit_account':
      case 'x.debit_account':
        result = this.walletOperation(c);
        break;
      case 'x.create_payment_request':
        result = this.createPaymentRequest(c);
        break;
      default:
        throw new Error(`platform: unknown command ${(command as { kind: string }).kind}`);
    }
    if (result.ok && !result.existed) this.publishPending();
    this.pendingEvents.length = 0;
    return result;
  }

  // ---- reads ------------------------------------------------------------------------------------

  tier(tier: number): TierLimits | undefined {
    return this.tierLimits.get(tier);
  }

  listTiers(): TierLimits[] {
    return [...this.tierLimits.values()].sort((a, b) => a.tier - b.tier);
  }

  getParticipant(id: string): Participant | undefined {
    const p = this.participants.get(id);
    return p === undefined ? undefined : participantView(p);
  }

  listParticipants(after: number, limit: number, role?: ParticipantRole, bank?: string): { items: Participant[]; next: number | null } {
    const items: Participant[] = [];
    let i = after;
    for (; i < this.participantsInOrder.length && items.length < limit; i++) {
      const p = this.participantsInOrder[i]!;
      if (role !== undefined && p.role !== role) continue;
      if (bank !== undefined && p.bank !== bank) continue;
      items.push(participantView(p));
    }
    return { items, next: i < this.participantsInOrder.length ? i : null };
  }

  /** The participant holding the API key with this SHA-256 (hex), if any. */
  participantByKeyHash(keyHash: string): Participant | undefined {
    const p = this.byKeyHash.get(keyHash);
    return p === undefined ? undefined : participantView(p);
  }

  getBank(id: string): BankRecord | undefined {
    const p = this.participants.get(id);
    const b = this.banks.get(id);
    if (p === undefined || b === undefined) return undefined;
    return { ...participantView(p), issued: b.issued, issuanceCap: b.issuanceCap, wallets: b.wallets.length, asset: b.asset };
  }

  listBanks(): BankRecord[] {
    return [...this.banks.keys()].map((id) => this.getBank(id)!);
  }

  /**
   * A wallet; with `now` (ledger time), `spentToday` counts the UTC day of `now`, so a read after
   * midnight shows 0 before the wallet pays again. Without it the view depends on the journal only.
   */
  getWallet(id: string, now?: number): Wallet | undefined {
    const w = this.wallets.get(id);
    return w === undefined ? undefined : walletView(w, now ?? null);
  }

  /** Wallets in opening order (of one bank, when given), starting after the first `after`. */
  listWallets(bank: string | null, after: number, limit: number, now?: number): { items: Wallet[]; next: number | null } {
    const at = now ?? null;
    if (bank === null) {
      const page = this.walletsInOrder.slice(after, after + limit).map((w) => walletView(w, at));
      return { items: page, next: after + limit < this.walletsInOrder.length ? after + limit : null };
    }
    const ids = this.banks.get(bank)?.wallets ?? [];
    const page = ids.slice(after, after + limit).map((id) => walletView(this.wallets.get(id)!, at));
    return { items: page, next: after + limit < ids.length ? after + limit : null };
  }

  get walletCount(): number {
    return this.wallets.size;
  }

  getPayment(id: string): Payment | undefined {
    const p = this.payments.get(id);
    if (p === undefined) return undefined;
    const { keyVersion: _, ...payment } = p;
    return payment;
  }

  getPaymentRequest(id: string): PaymentRequest | undefined {
    const r = this.requests.get(id);
    return r === undefined ? undefined : { ...r };
  }

  /** Events of a bank with `seq > after`, oldest first; `firstKept` tells whether older ones were dropped. */
  bankEvents(bank: string, after: number, limit: number, upTo = Number.POSITIVE_INFINITY): { events: PlatformEvent[]; firstKept: number; last: number } {
    const b = this.banks.get(bank);
    if (b === undefined) return { events: [], firstKept: 1, last: 0 };
    const live = b.events.length - b.eventsStart;
    const firstKept = b.eventCount - live + 1;
    const from = Math.max(after + 1, firstKept);
    const events: PlatformEvent[] = [];
    for (let seq = from; seq <= b.eventCount && seq <= upTo && events.length < limit; seq++) {
      events.push(b.events[b.eventsStart + (seq - firstKept)]!);
    }
    return { events, firstKept, last: b.eventCount };
  }

  eventCount(bank: string): number {
    return this.banks.get(bank)?.eventCount ?? 0;
  }

  /** Every event produced since the last call (by committed or just-applied batches). */
  takeNewEvents(): PlatformEvent[] {
    const events = this.newEvents;
    this.newEvents = [];
    return events;
  }

  /**
   * From now on every event is also kept for `takeOutboxEvents`, which the sequencer calls after
   * applying each batch so the batch's events go into the store's outbox with it. Replicas and
   * recovery do not collect: their events are in the outbox already.
   */
  collectOutbox(): void {
    this.outboxEvents ??= [];
  }

  /** The events produced since the last call (empty unless `collectOutbox()` was called). */
  takeOutboxEvents(): PlatformEvent[] {
    const events = this.outboxEvents;
    if (events === null || events.length === 0) return [];
    this.outboxEvents = [];
    return events;
  }

  /** A bank's totals for one UTC day (days since the epoch), with opening and closing balances. */
  statement(bank: string, day: number): DayStatement | undefined {
    const b = this.banks.get(bank);
    if (b === undefined) return undefined;
    let previous: DayTotals | undefined;
    let previousDay = -1;
    for (const [d, totals] of b.days) if (d < day && d > previousDay) [previousDay, previous] = [d, totals];
    const totals = b.days.get(day);
    const opening = {
      openingReserve: previous?.closingReserve ?? 0n,
      openingFloat: previous?.closingFloat ?? 0n,
      openingWalletHoldings: previous?.closingWalletHoldings ?? 0n,
      openingDeposits: previous?.closingDeposits ?? 0n,
    };
    if (totals !== undefined) return { day, ...totals, ...opening };
    return {
      day,
      ...newDay(),
      closingReserve: opening.openingReserve,
      closingFloat: opening.openingFloat,
      closingWalletHoldings: opening.openingWalletHoldings,
      closingDeposits: opening.openingDeposits,
      ...opening,
    };
  }

  /**
   * Cross-checks of platform records against the ledger (for `tengri verify` and the tests):
   * wallet balances and deposits as the platform counts them equal the ledger's accounts, and each
   * bank's wallet holdings and deposits are the sums over its wallets.
   */
  check(getBalance: (account: string) => bigint | undefined): string[] {
    const violations: string[] = [];
    const holdings = new Map<string, bigint>();
    const deposits = new Map<string, bigint>();
    for (const w of this.wallets.values()) {
      if (getBalance(walletAccount(w.id)) !== w.balance) violations.push(`wallet ${w.id}: balance differs from the ledger`);
      if (getBalance(depositAccount(w.id)) !== w.deposit) violations.push(`wallet ${w.id}: deposit differs from the ledger`);
      holdings.set(w.bank, (holdings.get(w.bank) ?? 0n) + w.balance);
      deposits.set(w.bank, (deposits.get(w.bank) ?? 0n) + w.deposit);
      if (violations.length > 100) return violations;
    }
    for (const [id, b] of this.banks) {
      if ((holdings.get(id) ?? 0n) !== b.walletHoldings) violations.push(`bank ${id}: wallet holdings differ from the sum over its wallets`);
      if ((deposits.get(id) ?? 0n) !== b.deposits) violations.push(`bank ${id}: deposits differ from the sum over its wallets`);
      if (-(getBalance(moneyAccount(id)) ?? 0n) !== b.deposits) violations.push(`bank ${id}: bank money issued differs from its customers' deposits`);
    }
    return violations;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private balance(account: string): bigint {
    return this.context.balance(account) ?? 0n;
  }

  private transfer(id: string, debit: string, credit: string, amount: bigint, code: number, reference = ''): CommandResult {
    const command: CoreCommand = { kind: 'create_transfer', id, debit, credit, amount, pending: false, timeoutSeconds: 0, code, reference };
    const result = this.context.execute(command);
    // A derived id that already exists means an operator reused a platform id: never merge.
    if (result.ok && result.existed) return reject('exists_with_different_fields');
    return result;
  }

  private execute(command: CoreCommand): CommandResult {
    const result = this.context.execute(command);
    return result;
  }

  private event(
    bank: string,
    type: EventType,
    fields: { wallet?: string; payment?: string; counterparty?: string; amount?: bigint; toBankAccount?: bigint; detail?: string } = {},
  ): void {
    this.pendingEvents.push({
      bank,
      type,
      wallet: fields.wallet ?? null,
      payment: fields.payment ?? null,
      counterparty: fields.counterparty ?? null,
      amount: fields.amount ?? null,
      toBankAccount: fields.toBankAccount ?? null,
      detail: fields.detail ?? null,
    });
  }

  private publishPending(): void {
    for (const pending of this.pendingEvents) {
      const b = this.banks.get(pending.bank);
      if (b === undefined) continue;
      const event: PlatformEvent = {
        bank: pending.bank,
        seq: ++b.eventCount,
        type: pending.type,
        at: this.timestamp,
        wallet: pending.wallet,
        payment: pending.payment,
        counterparty: pending.counterparty,
        amount: pending.amount,
        toBankAccount: pending.toBankAccount,
        detail: pending.detail,
      };
      b.events.push(event);
      if (b.events.length - b.eventsStart > this.eventsPerBank) {
        b.eventsStart++;
        // Drop the dropped prefix in chunks so trimming stays amortised O(1).
        if (b.eventsStart >= 4096 && b.eventsStart * 2 >= b.events.length) {
          b.events = b.events.slice(b.eventsStart);
          b.eventsStart = 0;
        }
      }
      this.newEvents.push(event);
      this.outboxEvents?.push(event);
      // Nobody takes new events while a journal is replayed: keep the latest ones only, dropping
      // in chunks so this stays amortised O(1).
      if (this.newEvents.length >= this.eventsPerBank * 8) this.newEvents = this.newEvents.slice(-this.eventsPerBank * 4);
    }
  }

  /**
   * The bank's totals for the day of the current command, created on first use with the previous
   * day's closing balances carried forward. Called only once a command is known to succeed, so a
   * rejected command never leaves a day behind.
   */
  private today(bank: BankState): DayTotals {
    const day = Math.floor(this.timestamp / dayMs);
    let totals = bank.days.get(day);
    if (totals === undefined) {
      totals = newDay();
      const previous = bank.days.get(bank.lastDay);
      if (previous !== undefined) {
        totals.closingReserve = previous.closingReserve;
        totals.closingFloat = previous.closingFloat;
        totals.closingWalletHoldings = previous.closingWalletHoldings;
        totals.closingDeposits = previous.closingDeposits;
      }
      bank.days.set(day, totals);
      bank.lastDay = day;
    }
    return totals;
  }

  /** Records the bank's balances at the end of the command as the day's closing balances. */
  private snapshot(bankId: string): void {
    const bank = this.banks.get(bankId)!;
    const totals = this.today(bank);
    totals.closingReserve = this.balance(reserveAccount(bankId));
    totals.closingFloat = this.balance(floatAccount(bankId));
    totals.closingWalletHoldings = bank.walletHoldings;
    totals.closingDeposits = bank.deposits;
  }

  /**
   * What money operations (reserves, issuance, funding, ...) check first: a repeat of the same
   * operation id (existed, or a conflict), then the id and the amount. Null when the operation
   * may go on.
   */
  private checkOperation(key: string, id: string, op: OperationState): CommandResult | null {
    const existing = this.operations.get(key);
    if (existing !== undefined) {
      return existing.kind === op.kind && existing.target === op.target && existing.amount === op.amount ? okExisted : reject('exists_with_different_fields');
    }
    if (!isOperationId(id)) return reject('id_invalid');
    const bad = isAmount(op.amount);
    return bad === null ? null : reject(bad);
  }


  private activeBank(id: string): { state: BankState; participant: ParticipantState } | ResultCode {
    const participant = this.participants.get(id);
    const state = this.banks.get(id);
    if (participant === undefined || state === undefined) return 'bank_not_found';
    if (participant.status !== 'active') return 'bank_suspended';
    return { state, participant };
  }

  // ---- commands ---------------------------------------------------------------------------------

  private setTierLimits(c: SetTierLimits): CommandResult {
    for (const value of [c.holdingMax, c.perPaymentMax, c.dailyMax]) {
      const bad = isAmount(value);
      if (bad !== null) return reject(bad);
    }
    if (!Number.isInteger(c.tier) || c.tier < 0 || c.tier > 2) return reject('tier_invalid');
    const existing = this.tierLimits.get(c.tier);
    if (existing !== undefined && existing.holdingMax === c.holdingMax && existing.perPaymentMax === c.perPaymentMax && existing.dailyMax === c.dailyMax) {
      return okExisted;
    }
    this.tierLimits.set(c.tier, Object.freeze({ tier: c.tier, holdingMax: c.holdingMax, perPaymentMax: c.perPaymentMax, dailyMax: c.dailyMax }));
    return okNew;
  }

  private registerParticipant(c: RegisterParticipant): CommandResult {
    const existing = this.participants.get(c.id);
    if (existing !== undefined) {
      const same = existing.role === c.role && existing.name === c.name && (existing.bic ?? '') === c.bic && (existing.wallet ?? '') === c.wallet && existing.keyHash === c.keyHash;
      return same ? okExisted : reject('exists_with_different_fields');
    }
    if (!isParticipantId(c.id)) return reject('id_invalid');
    if (!keyHashPattern.test(c.keyHash)) return reject('field_invalid');
    if (c.name.length === 0 || !isText(c.name, nameLengthMax)) return reject('name_invalid');
    if (c.role === 'bank') {
      if (!isBic(c.bic)) return reject('bic_invalid');
      if (this.bics.has(c.bic)) return reject('bic_in_use');
    }
    if (!participantRoles.includes(c.role)) return reject('participant_role_invalid');
    if (this.byKeyHash.has(c.keyHash)) return reject('api_key_in_use');
    let bank: string | null = null;
    if (c.role === 'bank') {
      if (c.wallet !== '') return reject('participant_role_invalid');
      bank = c.id;
      const asset = bankMoneyAsset(c.bic);
      const steps: CoreCommand[] = [
        { kind: 'create_asset', code: asset, scale: 2 },
        { kind: 'create_account', id: reserveAccount(c.id), asset: reserveAsset, allowNegative: false, maxBalance: null },
        { kind: 'create_account', id: floatAccount(c.id), asset: cbdcAsset, allowNegative: false, maxBalance: null },
        { kind: 'create_account', id: moneyAccount(c.id), asset, allowNegative: true, maxBalance: null },
      ];
      for (const step of steps) {
        const result = this.execute(step);
        if (!result.ok) return result;
        if (result.existed) return reject('exists_with_different_fields');
      }
    } else if (c.role === 'merchant' || c.role === 'government') {
      if (c.bic !== '') return reject('participant_role_invalid');
      const wallet = this.wallets.get(c.wallet);
      if (wallet === undefined) return reject('wallet_not_found');
      if (wallet.kind !== c.role) return reject('participant_role_invalid');
      bank = wallet.bank;
    } else if (c.bic !== '' || c.wallet !== '') {
      return reject('participant_role_invalid');
    }
    const participant: ParticipantState = {
      id: c.id,
      role: c.role,
      name: c.name,
      bic: c.role === 'bank' ? c.bic : null,
      wallet: c.wallet === '' ? null : c.wallet,
      bank,
      status: 'active',
      keyHash: c.keyHash,
      keyVersion: 1,
      createdAt: this.timestamp,
    };
    this.participants.set(c.id, participant);
    this.participantsInOrder.push(participant);
    this.byKeyHash.set(c.keyHash, participant);
    if (c.role === 'bank') {
      this.bics.add(c.bic);
      this.banks.set(c.id, {
        issued: 0n,
        issuanceCap: null,
        wallets: [],
        asset: bankMoneyAsset(c.bic),
        walletHoldings: 0n,
        deposits: 0n,
        days: new Map(),
        lastDay: -1,
        eventCount: 0,
        events: [],
        eventsStart: 0,
      });
      this.event(c.id, 'bank.onboarded', { detail: c.bic });
      this.snapshot(c.id);
    }
    return okNew;
  }

  private setParticipantStatus(c: SetParticipantStatus): CommandResult {
    if (c.status !== 'active' && c.status !== 'suspended') return reject('field_invalid');
    const p = this.participants.get(c.id);
    if (p === undefined) return reject('participant_not_found');
    if (p.status === c.status) return okExisted;
    p.status = c.status;
    if (p.role === 'bank') this.event(p.id, c.status === 'suspended' ? 'bank.suspended' : 'bank.reinstated');
    return okNew;
  }

  private setParticipantKey(c: SetParticipantKey): CommandResult {
    if (!keyHashPattern.test(c.keyHash)) return reject('field_invalid');
    const p = this.participants.get(c.id);
    if (p === undefined) return reject('participant_not_found');
    if (p.keyHash === c.keyHash) return okExisted;
    if (this.byKeyHash.has(c.keyHash)) return reject('api_key_in_use');
    this.byKeyHash.delete(p.keyHash);
    p.keyHash = c.keyHash;
    p.keyVersion++;
    this.byKeyHash.set(c.keyHash, p);
    return okNew;
  }

  private setIssuanceCap(c: SetIssuanceCap): CommandResult {
    if (c.cap < -1n || c.cap === 0n) return reject('field_invalid');
    if (c.cap > amountMax) return reject('amount_exceeds_maximum');
    const bank = this.banks.get(c.bank);
    if (bank === undefined) return reject('bank_not_found');
    const cap = c.cap === -1n ? null : c.cap;
    if (bank.issuanceCap === cap) return okExisted;
    bank.issuanceCap = cap;
    return okNew;
  }

  private reserveOperation(c: ReserveOperation): CommandResult {
    const op: OperationState = { kind: c.kind, target: c.bank, amount: c.amount };
    const key = `${c.kind}:${c.id}`;
    const checked = this.checkOperation(key, c.id, op);
    if (checked !== null) return checked;
    const participant = this.participants.get(c.bank);
    const bank = this.banks.get(c.bank);
    if (participant === undefined || bank === undefined) return reject('bank_not_found');
    const reserve = reserveAccount(c.bank);
    const float = floatAccount(c.bank);
    let result: CommandResult;
    switch (c.kind) {
      case 'x.top_up_reserves':
        result = this.transfer(`res:${c.id}`, cbReserves, reserve, c.amount, transferCodes.reservesTopUp);
        if (!result.ok) return result;
        this.today(bank).reservesToppedUp += c.amount;
        this.event(c.bank, 'reserves.topped_up', { amount: c.amount });
        break;
      case 'x.issue':
        if (participant.status !== 'active') return reject('bank_suspended');
        if (this.balance(reserve) < c.amount) return reject('insufficient_reserves');
        if (bank.issuanceCap !== null && bank.issued + c.amount > bank.issuanceCap) return reject('issuance_cap_exceeded');
        result = this.transfer(`iss:${c.id}:r`, reserve, cbReserves, c.amount, transferCodes.issuance);
        if (!result.ok) return result;
        result = this.transfer(`iss:${c.id}`, cbIssuance, float, c.amount, transferCodes.issuance);
        if (!result.ok) return result;
        bank.issued += c.amount;
        this.today(bank).issued += c.amount;
        this.event(c.bank, 'issuance', { amount: c.amount });
        break;
      case 'x.redeem':
        if (participant.status !== 'active') return reject('bank_suspended');
        if (this.balance(float) < c.amount) return reject('insufficient_float');
        result = this.transfer(`red:${c.id}`, float, cbIssuance, c.amount, transferCodes.redemption);
        if (!result.ok) return result;
        result = this.transfer(`red:${c.id}:r`, cbReserves, reserve, c.amount, transferCodes.redemption);
        if (!result.ok) return result;
        bank.issued -= c.amount;
        this.today(bank).redeemed += c.amount;
        this.event(c.bank, 'redemption', { amount: c.amount });
        break;
    }
    this.operations.set(key, op);
    this.snapshot(c.bank);
    return okNew;
  }

  private openWallet(c: OpenWallet): CommandResult {
    const existing = this.wallets.get(c.id);
    if (existing !== undefined) {
      const opened = existing.openedWith;
      const same = existing.bank === c.bank && existing.kind === c.walletKind && opened.publicKey === c.publicKey && opened.tier === c.tier && opened.convertIncoming === c.convertIncoming;
      return same ? okExisted : reject('wallet_already_exists');
    }
    if (!isWalletId(c.id)) return reject('id_invalid');
    if (typeof c.convertIncoming !== 'boolean') return reject('field_invalid');
    if (!this.banks.has(c.bank)) return reject('bank_not_found');
    if (!Number.isInteger(c.tier) || !this.tierLimits.has(c.tier)) return reject('tier_invalid');
    if (!walletKinds.includes(c.walletKind)) return reject('wallet_kind_invalid');
    if (!this.validPublicKey(c.publicKey)) return reject('public_key_invalid');
    const bankCheck = this.activeBank(c.bank);
    if (typeof bankCheck === 'string') return reject(bankCheck);
    const bank = bankCheck.state;
    for (const step of [
      { kind: 'create_account', id: walletAccount(c.id), asset: cbdcAsset, allowNegative: false, maxBalance: null },
      { kind: 'create_account', id: depositAccount(c.id), asset: bank.asset, allowNegative: false, maxBalance: null },
    ] as const) {
      const result = this.execute(step);
      if (!result.ok) return result;
      if (result.existed) return reject('wallet_already_exists');
    }
    const wallet: WalletState = {
      id: c.id,
      bank: c.bank,
      kind: c.walletKind,
      tier: c.tier,
      status: 'active',
      frozenBy: null,
      publicKey: c.publicKey,
      keyVersion: 1,
      lastSequence: 0,
      day: 0,
      spentToday: 0n,
      convertIncoming: c.convertIncoming,
      createdAt: this.timestamp,
      closedAt: null,
      closedSweepTo: '',
      balance: 0n,
      deposit: 0n,
      openedWith: { publicKey: c.publicKey, tier: c.tier, convertIncoming: c.convertIncoming },
    };
    this.wallets.set(c.id, wallet);
    this.walletsInOrder.push(wallet);
    bank.wallets.push(c.id);
    this.today(bank).walletsOpened++;
    this.event(c.bank, 'wallet.opened', { wallet: c.id, detail: `${c.walletKind} tier ${c.tier}` });
    return okNew;
  }

  private setWalletStatus(c: SetWalletStatus): CommandResult {
    if (c.status !== 'active' && c.status !== 'frozen') return reject('field_invalid');
    const badReason = referenceCode(c.reason);
    if (badReason !== null) return reject(badReason);
    const wallet = this.wallets.get(c.id);
    if (wallet === undefined) return reject('wallet_not_found');
    if (c.actor !== 'operator' && c.actor !== wallet.bank) return reject('participant_role_invalid');
    if (wallet.status === 'closed') return reject('wallet_closed');
    // A central-bank freeze on a wallet its bank froze already is a new fact: it is journaled and
    // from then on only the operator lifts the freeze.
    const escalates = c.status === 'frozen' && c.actor === 'operator' && wallet.frozenBy !== 'operator';
    if (wallet.status === c.status && !escalates) return okExisted;
    if (wallet.frozenBy === 'operator' && c.actor !== 'operator') return reject('frozen_by_central_bank');
    if (!escalates) {
      const result = this.execute({ kind: 'set_account_status', id: walletAccount(c.id), status: c.status });
      if (!result.ok) return result;
    }
    wallet.status = c.status;
    wallet.frozenBy = c.status === 'frozen' ? c.actor : null;
    const detail = c.actor === wallet.bank ? c.reason : `by ${c.actor}${c.reason === '' ? '' : `: ${c.reason}`}`;
    this.event(wallet.bank, c.status === 'frozen' ? 'wallet.frozen' : 'wallet.unfrozen', { wallet: c.id, ...(detail === '' ? {} : { detail }) });
    return okNew;
  }

  private setWalletKey(c: SetWalletKey): CommandResult {
    if (c.reason !== 'rotation' && c.reason !== 'recovery') return reject('field_invalid');
    const wallet = this.wallets.get(c.id);
    if (wallet === undefined) return reject('wallet_not_found');
    if (!this.validPublicKey(c.publicKey)) return reject('public_key_invalid');
    if (wallet.status === 'closed') return reject('wallet_closed');
    if (wallet.frozenBy === 'operator') return reject('frozen_by_central_bank');
    if (wallet.publicKey === c.publicKey) return okExisted;
    wallet.publicKey = c.publicKey;
    wallet.keyVersion++;
    this.event(wallet.bank, c.reason === 'recovery' ? 'wallet.key_recovered' : 'wallet.key_rotated', { wallet: c.id });
    return okNew;
  }

  private setWalletTier(c: SetWalletTier): CommandResult {
    const wallet = this.wallets.get(c.id);
    if (wallet === undefined) return reject('wallet_not_found');
    if (!Number.isInteger(c.tier) || !this.tierLimits.has(c.tier)) return reject('tier_invalid');
    if (wallet.status === 'closed') return reject('wallet_closed');
    if (wallet.tier === c.tier) return okExisted;
    wallet.tier = c.tier;
    this.event(wallet.bank, 'wallet.tier_changed', { wallet: c.id, detail: `tier ${c.tier}` });
    return okNew;
  }

  private setWalletConversion(c: SetWalletConversion): CommandResult {
    if (typeof c.convertIncoming !== 'boolean') return reject('field_invalid');
    const wallet = this.wallets.get(c.id);
    if (wallet === undefined) return reject('wallet_not_found');
    if (wallet.status === 'closed') return reject('wallet_closed');
    if (wallet.convertIncoming === c.convertIncoming) return okExisted;
    wallet.convertIncoming = c.convertIncoming;
    this.event(wallet.bank, 'wallet.conversion_changed', { wallet: c.id, detail: c.convertIncoming ? 'on' : 'off' });
    return okNew;
  }

  private closeWallet(c: CloseWallet): CommandResult {
    const wallet = this.wallets.get(c.id);
    if (wallet === undefined) return reject('wallet_not_found');
    if (wallet.status === 'closed') return wallet.closedSweepTo === c.sweepTo ? okExisted : reject('exists_with_different_fields');
    if (wallet.frozenBy === 'operator') return reject('frozen_by_central_bank');
    if (this.participants.get(wallet.bank)!.status !== 'active') return reject('bank_suspended');
    let target: WalletState | null = null;
    if (c.sweepTo !== '') {
      // A frozen wallet's balance may only go back to the holder's own bank account.
      if (wallet.status === 'frozen') return reject('wallet_frozen');
      target = this.wallets.get(c.sweepTo) ?? null;
      if (target === null || target === wallet || target.status !== 'active') return reject('sweep_target_invalid');
      if (this.participants.get(target.bank)!.status !== 'active') return reject('payee_bank_suspended');
      const limits = this.tierLimits.get(target.tier)!;
      if (wallet.balance > 0n && target.balance + wallet.balance > limits.holdingMax) return reject('holding_limit_exceeded');
    }
    const account = walletAccount(c.id);
    const amount = wallet.balance;
    if (wallet.status === 'frozen') {
      const result = this.execute({ kind: 'set_account_status', id: account, status: 'active' });
      if (!result.ok) return result;
    }
    const bank = this.banks.get(wallet.bank)!;
    if (amount > 0n) {
      if (target !== null) {
        const result = this.transfer(`close:${c.id}`, account, walletAccount(target.id), amount, transferCodes.close);
        if (!result.ok) return result;
      } else {
        let result = this.transfer(`close:${c.id}`, account, floatAccount(wallet.bank), amount, transferCodes.close);
        if (!result.ok) return result;
        result = this.transfer(`close:${c.id}:d`, moneyAccount(wallet.bank), depositAccount(c.id), amount, transferCodes.close);
        if (!result.ok) return result;
      }
    }
    const result = this.execute({ kind: 'set_account_status', id: account, status: 'closed' });
    if (!result.ok) return result;
    wallet.status = 'closed';
    wallet.frozenBy = null;
    wallet.closedSweepTo = c.sweepTo;
    wallet.closedAt = this.timestamp;
    wallet.balance = 0n;
    bank.walletHoldings -= amount;
    if (target !== null) {
      target.balance += amount;
      this.banks.get(target.bank)!.walletHoldings += amount;
      this.event(target.bank, 'payment.received', { wallet: target.id, counterparty: c.id, amount, detail: 'balance of a closed wallet' });
      this.snapshot(target.bank);
    } else {
      wallet.deposit += amount;
      bank.deposits += amount;
    }
    this.today(bank).walletsClosed++;
    this.event(wallet.bank, 'wallet.closed', { wallet: c.id, amount, ...(target === null ? { detail: 'balance to bank account' } : { counterparty: target.id }) });
    this.snapshot(wallet.bank);
    return okNew;
  }

  private walletOperation(c: WalletOperation): CommandResult {
    const op: OperationState = { kind: c.kind, target: c.wallet, amount: c.amount };
    const key = `${c.kind}:${c.id}`;
    const checked = this.checkOperation(key, c.id, op);
    if (checked !== null) return checked;
    const wallet = this.wallets.get(c.wallet);
    if (wallet === undefined) return reject('wallet_not_found');
    const movesWallet = c.kind === 'x.fund' || c.kind === 'x.defund';
    if (movesWallet && wallet.status !== 'active') return reject(wallet.status === 'frozen' ? 'wallet_frozen' : 'wallet_closed');
    const bankCheck = this.activeBank(wallet.bank);
    if (typeof bankCheck === 'string') return reject(bankCheck);
    const bank = bankCheck.state;
    const w = walletAccount(wallet.id);
    const dep = depositAccount(wallet.id);
    const float = floatAccount(wallet.bank);
    const money = moneyAccount(wallet.bank);
    let result: CommandResult;
    switch (c.kind) {
      case 'x.fund': {
        if (wallet.balance + c.amount > this.tierLimits.get(wallet.tier)!.holdingMax) return reject('holding_limit_exceeded');
        if (this.balance(float) < c.amount) return reject('insufficient_float');
        if (wallet.deposit < c.amount) return reject('insufficient_deposit');
        result = this.transfer(`fund:${c.id}:d`, dep, money, c.amount, transferCodes.fund);
        if (!result.ok) return result;
        result = this.transfer(`fund:${c.id}`, float, w, c.amount, transferCodes.fund);
        if (!result.ok) return result;
        wallet.balance += c.amount;
        wallet.deposit -= c.amount;
        bank.walletHoldings += c.amount;
        bank.deposits -= c.amount;
        this.today(bank).funded += c.amount;
        this.event(wallet.bank, 'wallet.funded', { wallet: wallet.id, amount: c.amount });
        break;
      }
      case 'x.defund': {
        if (wallet.balance < c.amount) return reject('insufficient_funds');
        result = this.transfer(`def:${c.id}`, w, float, c.amount, transferCodes.defund);
        if (!result.ok) return result;
        result = this.transfer(`def:${c.id}:d`, money, dep, c.amount, transferCodes.defund);
        if (!result.ok) return result;
        wallet.balance -= c.amount;
        wallet.deposit += c.amount;
        bank.walletHoldings -= c.amount;
        bank.deposits += c.amount;
        this.today(bank).defunded += c.amount;
        this.event(wallet.bank, 'wallet.defunded', { wallet: wallet.id, amount: c.amount });
        break;
      }
      case 'x.credit_account':
        result = this.transfer(`cr:${c.id}`, money, dep, c.amount, transferCodes.accountCredit);
        if (!result.ok) return result;
        wallet.deposit += c.amount;
        bank.deposits += c.amount;
        this.today(bank).accountCredits += c.amount;
        this.event(wallet.bank, 'account.credited', { wallet: wallet.id, amount: c.amount });
        break;
      case 'x.debit_account':
        if (wallet.deposit < c.amount) return reject('insufficient_deposit');
        result = this.transfer(`dr:${c.id}`, dep, money, c.amount, transferCodes.accountDebit);
        if (!result.ok) return result;
        wallet.deposit -= c.amount;
        bank.deposits -= c.amount;
        this.today(bank).accountDebits += c.amount;
        this.event(wallet.bank, 'account.debited', { wallet: wallet.id, amount: c.amount });
        break;
    }
    this.operations.set(key, op);
    this.snapshot(wallet.bank);
    return okNew;
  }

  private createPaymentRequest(c: CreatePaymentRequest): CommandResult {
    const existing = this.requests.get(c.id);
    if (existing !== undefined) {
      const same = existing.wallet === c.wallet && existing.amount === c.amount && existing.reference === c.reference && existing.expiresAt === c.expiresAt;
      return same ? okExisted : reject('exists_with_different_fields');
    }
    if (!isOperationId(c.id)) return reject('id_invalid');
    if (!isTime(c.expiresAt)) return reject('field_invalid');
    const bad = isAmount(c.amount);
    if (bad !== null) return reject(bad);
    const badReference = referenceCode(c.reference);
    if (badReference !== null) return reject(badReference);
    const wallet = this.wallets.get(c.wallet);
    if (wallet === undefined) return reject('wallet_not_found');
    if (c.expiresAt !== 0 && c.expiresAt < this.timestamp) return reject('payment_request_expired');
    if (wallet.status !== 'active') return reject(wallet.status === 'frozen' ? 'wallet_frozen' : 'wallet_closed');
    this.requests.set(c.id, {
      id: c.id,
      wallet: c.wallet,
      amount: c.amount,
      reference: c.reference,
      expiresAt: c.expiresAt,
      status: 'open',
      paidBy: null,
      createdAt: this.timestamp,
    });
    this.event(wallet.bank, 'payment_request.created', { wallet: c.wallet, amount: c.amount, detail: c.id });
    return okNew;
  }

  private pay(c: Pay): CommandResult {
    const existing = this.payments.get(c.id);
    if (existing !== undefined) {
      const same =
        existing.from === c.from &&
        existing.to === c.to &&
        existing.amount === c.amount &&
        existing.sequence === c.sequence &&
        existing.expiresAt === c.expiresAt &&
        existing.reference === c.reference &&
        existing.request === c.request &&
        existing.refundOf === c.refundOf;
      return same ? okExisted : reject('exists_with_different_fields');
    }
    if (!isOperationId(c.id)) return reject('id_invalid');
    if (!isTime(c.expiresAt) || !Number.isInteger(c.keyVersion) || c.keyVersion < 1 || c.keyVersion > 0xffffffff) return reject('field_invalid');
    const bad = isAmount(c.amount);
    if (bad !== null) return reject(bad);
    if (c.reference !== '') {
      const badReference = referenceCode(c.reference);
      if (badReference !== null) return reject(badReference);
    }
    const from = this.wallets.get(c.from);
    if (from === undefined) return reject('wallet_not_found');
    if (c.to === c.from) return reject('payee_is_payer');
    const to = this.wallets.get(c.to);
    if (to === undefined) return reject('payee_not_found');
    if (c.keyVersion !== from.keyVersion) return reject('signature_invalid');
    const timestamp = this.timestamp;
    if (c.expiresAt !== 0 && c.expiresAt < timestamp) return reject('payment_expired');
    if (!Number.isSafeInteger(c.sequence) || c.sequence <= from.lastSequence) return reject('sequence_replayed');
    if (from.status !== 'active') return reject(from.status === 'frozen' ? 'wallet_frozen' : 'wallet_closed');
    const fromBank = this.participants.get(from.bank)!;
    if (fromBank.status !== 'active') return reject('bank_suspended');
    if (to.status !== 'active') return reject('payee_not_active');
    if (this.participants.get(to.bank)!.status !== 'active') return reject('payee_bank_suspended');
    let request: (PaymentRequest & { status: 'open' | 'paid'; paidBy: string | null }) | undefined;
    if (c.request !== '') {
      request = this.requests.get(c.request);
      if (request === undefined) return reject('payment_request_not_found');
      if (request.status !== 'open') return reject('payment_request_not_open');
      if (request.expiresAt !== 0 && request.expiresAt < timestamp) return reject('payment_request_expired');
      if (request.wallet !== c.to || request.amount !== c.amount) return reject('payment_request_mismatch');
    }
    let original: PaymentState | undefined;
    if (c.refundOf !== '') {
      original = this.payments.get(c.refundOf);
      if (original === undefined || original.refundOf !== '') return reject('refund_original_not_found');
      if (original.to !== c.from || original.from !== c.to) return reject('refund_parties_mismatch');
      if (c.amount > original.amount - original.refunded) return reject('refund_exceeds_remaining');
    }
    const limits = this.tierLimits.get(from.tier)!;
    if (c.amount > limits.perPaymentMax) return reject('per_payment_limit_exceeded');
    const day = Math.floor(timestamp / dayMs);
    const spent = from.day === day ? from.spentToday : 0n;
    if (spent + c.amount > limits.dailyMax) return reject('daily_limit_exceeded');
    if (from.balance < c.amount) return reject('insufficient_funds');

    // Reverse waterfall: what would take the payee over its holding limit (or everything, for a
    // wallet that converts incoming payments) goes on to the payee's bank account.
    const room = to.convertIncoming ? 0n : this.tierLimits.get(to.tier)!.holdingMax - to.balance;
    const toWallet = room <= 0n ? 0n : room >= c.amount ? c.amount : room;
    const toBankAccount = c.amount - toWallet;
    const fromAccount = walletAccount(c.from);
    if (toWallet > 0n) {
      const result = this.transfer(`pay:${c.id}`, fromAccount, walletAccount(c.to), toWallet, transferCodes.payment, c.reference);
      if (!result.ok) return result;
    }
    if (toBankAccount > 0n) {
      let result = this.transfer(`pay:${c.id}:x`, fromAccount, floatAccount(to.bank), toBankAccount, transferCodes.paymentToBankAccount, c.reference);
      if (!result.ok) return result;
      result = this.transfer(`pay:${c.id}:d`, moneyAccount(to.bank), depositAccount(c.to), toBankAccount, transferCodes.paymentToBankAccount, c.reference);
      if (!result.ok) return result;
    }

    from.lastSequence = c.sequence;
    from.day = day;
    from.spentToday = spent + c.amount;
    from.balance -= c.amount;
    to.balance += toWallet;
    to.deposit += toBankAccount;
    const payerBank = this.banks.get(from.bank)!;
    const payeeBank = this.banks.get(to.bank)!;
    payerBank.walletHoldings -= c.amount;
    payeeBank.walletHoldings += toWallet;
    payeeBank.deposits += toBankAccount;
    this.payments.set(c.id, {
      id: c.id,
      from: c.from,
      to: c.to,
      amount: c.amount,
      sequence: c.sequence,
      expiresAt: c.expiresAt,
      reference: c.reference,
      request: c.request,
      refundOf: c.refundOf,
      toWallet,
      toBankAccount,
      refunded: 0n,
      timestamp,
      keyVersion: c.keyVersion,
    });
    if (request !== undefined) {
      request.status = 'paid';
      request.paidBy = c.id;
      this.event(to.bank, 'payment_request.paid', { wallet: c.to, payment: c.id, amount: c.amount, detail: request.id });
    }
    if (original !== undefined) original.refunded += c.amount;
    const outTotals = this.today(payerBank);
    outTotals.paymentsOut++;
    outTotals.paymentsOutAmount += c.amount;
    const inTotals = this.today(payeeBank);
    inTotals.paymentsIn++;
    inTotals.paymentsInAmount += c.amount;
    inTotals.convertedToBankAccounts += toBankAccount;
    const detail = c.refundOf === '' ? undefined : `refund of ${c.refundOf}`;
    this.event(from.bank, 'payment.sent', { wallet: c.from, payment: c.id, counterparty: c.to, amount: c.amount, ...(detail === undefined ? {} : { detail }) });
    this.event(to.bank, 'payment.received', {
      wallet: c.to,
      payment: c.id,
      counterparty: c.from,
      amount: c.amount,
      toBankAccount,
      ...(detail === undefined ? {} : { detail }),
    });
    this.snapshot(from.bank);
    if (to.bank !== from.bank) this.snapshot(to.bank);
    return okNew;
  }
}

function participantView(p: ParticipantState): Participant {
  return {
    id: p.id,
    role: p.role,
    name: p.name,
    bic: p.bic,
    wallet: p.wallet,
    bank: p.bank,
    status: p.status,
    keyVersion: p.keyVersion,
    createdAt: p.createdAt,
  };
}

/**
 * With `now`, `day` is the UTC day of `now` and `spentToday` what was paid out on it; without,
 * they are the day of the last payment out and what was paid out on that day (a view that depends
 * on the journal alone).
 */
function walletView(w: WalletState, now: number | null): Wallet {
  const today = now === null ? w.day : Math.floor(now / dayMs);
  return {
    id: w.id,
    bank: w.bank,
    kind: w.kind,
    tier: w.tier,
    status: w.status,
    publicKey: w.publicKey,
    keyVersion: w.keyVersion,
    lastSequence: w.lastSequence,
    day: today,
    spentToday: w.day === today ? w.spentToday : 0n,
    convertIncoming: w.convertIncoming,
    createdAt: w.createdAt,
    closedAt: w.closedAt,
  };
}
