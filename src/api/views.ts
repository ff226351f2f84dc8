/** Conversions from ledger records to their JSON shapes: amounts as strings, times as RFC 3339. */
import type { Account, Transfer } from '../ledger/types.ts';

export function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

export function accountJson(account: Account) {
  return {
    id: account.id,
    asset: account.asset,
    balance: account.balance.toString(),
    pendingDebits: account.pendingDebits.toString(),
    pendingCredits: account.pendingCredits.toString(),
    available: (account.balance - account.pendingDebits).toString(),
    allowNegative: account.allowNegative,
    maxBalance: account.maxBalance === null ? null : account.maxBalance.toString(),
    status: account.status,
    createdAt: isoTime(account.createdAt),
  };
}

export function transferJson(transfer: Transfer) {
  return {
    id: transfer.id,
    debit: transfer.debit,
    credit: transfer.credit,
    asset: transfer.asset,
    amount: transfer.amount.toString(),
    pending: transfer.pending,
    status: transfer.status,
    postedAmount: transfer.postedAmount === null ? null : transfer.postedAmount.toString(),
    timeoutSeconds: transfer.timeoutSeconds,
    expiresAt: transfer.pending && transfer.timeoutSeconds > 0 ? isoTime(transfer.timestamp + transfer.timeoutSeconds * 1000) : null,
    resolvedAt: transfer.resolvedAt === null ? null : isoTime(transfer.resolvedAt),
    code: transfer.code,
    reference: transfer.reference,
    timestamp: isoTime(transfer.timestamp),
    sequence: transfer.sequence,
  };
}
