/**
 * JSON shapes of platform records, TypeBox schemas for them, and the helpers the platform routes
 * share: submitting one platform command, and deciding who may see which wallet.
 */
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { Sequencer } from '../engine/sequencer.ts';
import { depositAccount, floatAccount, operationIdPattern, participantIdPattern, reserveAccount, walletAccount, walletIdPattern } from '../platform/accounts.ts';
import type { Platform } from '../platform/platform.ts';
import type { BankRecord, Participant, Payment, PaymentRequest, PlatformCommand, PlatformEvent, TierLimits, Wallet } from '../platform/types.ts';
import type { Principal } from './auth.ts';
import { sendProblem } from './problem.ts';
import { Amount } from './schemas.ts';
import { isoTime } from './views.ts';

export const ParticipantId = Type.String({ pattern: participantIdPattern, description: 'Lower-case slug, 2-32 characters', examples: ['halyk'] });
export const WalletId = Type.String({ pattern: walletIdPattern, description: '3-48 characters of A-Z a-z 0-9 _ -', examples: ['w_5k2m7q4x9c3v8b6n'] });
export const OperationId = Type.String({ pattern: operationIdPattern, description: '1-56 characters of A-Z a-z 0-9 _ -; chosen by the client so that a retry is safe', examples: ['op-2026-11-25-0001'] });
/** A positive amount: at most 19 digits, no sign. Zero and values beyond 2^63-1 get result codes. */
export const PositiveAmount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,18})$',
  description: 'Integer number of tiyn (1 KZT = 100 tiyn), as a string of digits without leading zeros (one text per amount, so a signed amount has one meaning)',
  examples: ['500000'],
});

/** Actions without parameters: no body, or an empty JSON object. */
export const NoBody = Type.Object({}, { additionalProperties: false, description: 'No body, or {}' });

/** Lets an action be called without a body (curl -X POST); a JSON null or any other value is still refused. */
export async function noBodyMeansEmpty(request: { body: unknown }): Promise<void> {
  if (request.body === undefined) request.body = {};
}
export const Rfc3339Utc = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z$',
  description: 'RFC 3339 time in UTC (ending in Z), at most millisecond precision',
  examples: ['2026-12-31T23:59:59Z'],
});

export const ParticipantView = Type.Object({
  id: Type.String(),
  role: Type.String(),
  name: Type.String(),
  bic: Type.Union([Type.String(), Type.Null()]),
  wallet: Type.Union([Type.String(), Type.Null()]),
  bank: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  keyVersion: Type.Integer(),
  createdAt: Type.String(),
});

export const BankView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  bic: Type.String(),
  status: Type.String(),
  asset: Type.String({ description: 'The bank\'s own money (non-cash tenge) on the platform' }),
  reserves: Amount,
  cbdcFloat: Amount,
  issued: Amount,
  issuanceCap: Type.Union([Amount, Type.Null()]),
  wallets: Type.Integer(),
  createdAt: Type.String(),
});

export const WalletView = Type.Object({
  id: Type.String(),
  bank: Type.String(),
  kind: Type.String(),
  tier: Type.Integer(),
  status: Type.String(),
  balance: Amount,
  bankAccountBalance: Amount,
  holdingLimit: Amount,
  perPaymentLimit: Amount,
  dailyLimit: Amount,
  spentToday: Amount,
  lastSequence: Type.Integer(),
  publicKey: Type.String(),
  keyVersion: Type.Integer(),
  convertIncoming: Type.Boolean(),
  createdAt: Type.String(),
  closedAt: Type.Union([Type.String(), Type.Null()]),
});

export const PaymentView = Type.Object({
  id: Type.String(),
  status: Type.String(),
  from: Type.String(),
  to: Type.String(),
  amount: Amount,
  sequence: Type.Integer(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  reference: Type.String(),
  request: Type.Union([Type.String(), Type.Null()]),
  refundOf: Type.Union([Type.String(), Type.Null()]),
  toWallet: Amount,
  toBankAccount: Amount,
  refunded: Amount,
  timestamp: Type.String(),
});

export const PaymentRequestView = Type.Object({
  id: Type.String(),
  wallet: Type.String(),
  amount: Amount,
  reference: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  paidBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

export const EventView = Type.Object({
  id: Type.String({ description: '<bank>:<seq>, stable across restarts' }),
  seq: Type.Integer(),
  bank: Type.String(),
  type: Type.String(),
  at: Type.String(),
  wallet: Type.Union([Type.String(), Type.Null()]),
  payment: Type.Union([Type.String(), Type.Null()]),
  counterparty: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Union([Amount, Type.Null()]),
  toBankAccount: Type.Union([Amount, Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});

export const TierView = Type.Object({ tier: Type.Integer(), holdingLimit: Amount, perPaymentLimit: Amount, dailyLimit: Amount });

export const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } } as const;

export function participantJson(p: Participant) {
  return { ...p, createdAt: isoTime(p.createdAt) };
}

export function bankJson(b: BankRecord, sequencer: Sequencer) {
  const ledger = sequencer.ledger;
  return {
    id: b.id,
    name: b.name,
    bic: b.bic!,
    status: b.status,
    asset: b.asset,
    reserves: (ledger.getAccount(reserveAccount(b.id))?.balance ?? 0n).toString(),
    cbdcFloat: (ledger.getAccount(floatAccount(b.id))?.balance ?? 0n).toString(),
    issued: b.issued.toString(),
    issuanceCap: b.issuanceCap === null ? null : b.issuanceCap.toString(),
    wallets: b.wallets,
    createdAt: isoTime(b.createdAt),
  };
}

export function walletJson(view: Wallet, platform: Platform, sequencer: Sequencer) {
  const ledger = sequencer.ledger;
  // Re-read as of now, so spentToday is about today even when the wallet was read before midnight.
  const w = platform.getWallet(view.id, sequencer.now()) ?? view;
  const limits = platform.tier(w.tier)!;
  return {
    id: w.id,
    bank: w.bank,
    kind: w.kind,
    tier: w.tier,
    status: w.status,
    balance: (ledger.getAccount(walletAccount(w.id))?.balance ?? 0n).toString(),
    bankAccountBalance: (ledger.getAccount(depositAccount(w.id))?.balance ?? 0n).toString(),
    holdingLimit: limits.holdingMax.toString(),
    perPaymentLimit: limits.perPaymentMax.toString(),
    dailyLimit: limits.dailyMax.toString(),
    spentToday: w.spentToday.toString(),
    lastSequence: w.lastSequence,
    publicKey: w.publicKey,
    keyVersion: w.keyVersion,
    convertIncoming: w.convertIncoming,
    createdAt: isoTime(w.createdAt),
    closedAt: w.closedAt === null ? null : isoTime(w.closedAt),
  };
}

export function paymentJson(p: Payment) {
  return {
    id: p.id,
    status: p.refunded === 0n ? 'completed' : p.refunded === p.amount ? 'refunded' : 'partially_refunded',
    from: p.from,
    to: p.to,
    amount: p.amount.toString(),
    sequence: p.sequence,
    expiresAt: p.expiresAt === 0 ? null : isoTime(p.expiresAt),
    reference: p.reference,
    request: p.request === '' ? null : p.request,
    refundOf: p.refundOf === '' ? null : p.refundOf,
    toWallet: p.toWallet.toString(),
    toBankAccount: p.toBankAccount.toString(),
    refunded: p.refunded.toString(),
    timestamp: isoTime(p.timestamp),
  };
}

export function paymentRequestJson(r: PaymentRequest) {
  return {
    id: r.id,
    wallet: r.wallet,
    amount: r.amount.toString(),
    reference: r.reference,
    expiresAt: r.expiresAt === 0 ? null : isoTime(r.expiresAt),
    status: r.status,
    paidBy: r.paidBy,
    createdAt: isoTime(r.createdAt),
  };
}

export function eventJson(e: PlatformEvent) {
  return eventJsonAt(e, isoTime(e.at));
}

/** `eventJson` with the event's time already formatted (for many events of one batch). */
export function eventJsonAt(e: PlatformEvent, at: string) {
  return {
    id: `${e.bank}:${e.seq}`,
    seq: e.seq,
    bank: e.bank,
    type: e.type,
    at,
    wallet: e.wallet,
    payment: e.payment,
    counterparty: e.counterparty,
    amount: e.amount === null ? null : e.amount.toString(),
    toBankAccount: e.toBankAccount === null ? null : e.toBankAccount.toString(),
    detail: e.detail,
  };
}

export function tierJson(t: TierLimits) {
  return { tier: t.tier, holdingLimit: t.holdingMax.toString(), perPaymentLimit: t.perPaymentMax.toString(), dailyLimit: t.dailyMax.toString() };
}

/** Submits one platform command; sends the problem and returns null when it was rejected. */
export async function submitOne(sequencer: Sequencer, reply: FastifyReply, command: PlatformCommand): Promise<{ readonly ok: true; readonly existed: boolean } | null> {
  const [result] = await sequencer.submit([command]);
  if (!result!.ok) {
    await sendProblem(reply, result!.code);
    return null;
  }
  return result!;
}

/** Whether the caller may see a wallet: its bank, the merchant or body acting for it, the operator and the auditor. */
export function mayReadWallet(principal: Principal, wallet: Wallet): boolean {
  switch (principal.role) {
    case 'operator':
    case 'auditor':
      return true;
    case 'bank':
      return wallet.bank === principal.id;
    case 'merchant':
    case 'government':
      return wallet.id === principal.wallet;
    case 'regulator':
      return false;
  }
}

/** Whether the caller may change a wallet: only the bank that holds it. */
export function mayManageWallet(principal: Principal, wallet: Wallet): boolean {
  return principal.role === 'bank' && wallet.bank === principal.id;
}

/** Parses an RFC 3339 UTC time to milliseconds, or null when it is not a real instant. */
export function parseUtc(text: string): number | null {
  const ms = Date.parse(text);
  // 0 stands for "no expiry" inside the platform, so the epoch itself is not a usable time.
  if (!Number.isFinite(ms) || ms <= 0) return null;
  // Date.parse rolls over impossible dates (2026-02-30); require the round trip to match.
  const normalised = new Date(ms).toISOString();
  const withMillis = text.includes('.') ? text.replace(/\.(\d{1,3})Z$/, (_, f: string) => `.${f.padEnd(3, '0')}Z`) : text.replace(/Z$/, '.000Z');
  return normalised === withMillis ? ms : null;
}
