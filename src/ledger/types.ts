/**
 * Records and commands of the ledger core. Records handed out by the core are read-only views;
 * only the core itself changes the derived state of an account (its balances) or of a pending
 * transfer (its status). The journal holds the commands, which are immutable.
 */
import type { ResultCode } from './result-codes.ts';

export type AccountStatus = 'active' | 'frozen' | 'closed';
export type TransferStatus = 'posted' | 'pending' | 'voided' | 'expired';

export interface Asset {
  readonly code: string;
  readonly scale: number;
}

export interface Account {
  readonly id: string;
  readonly asset: string;
  readonly allowNegative: boolean;
  /** Holding limit: posted balance plus pending credits never exceeds it. `null` means none. */
  readonly maxBalance: bigint | null;
  readonly status: AccountStatus;
  /** Posted credits minus posted debits. */
  readonly balance: bigint;
  readonly pendingDebits: bigint;
  readonly pendingCredits: bigint;
  readonly createdAt: number;
}

export interface Transfer {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly asset: string;
  readonly amount: bigint;
  readonly pending: boolean;
  readonly timeoutSeconds: number;
  readonly code: number;
  readonly reference: string;
  /** Ledger-assigned commit time, milliseconds since the Unix epoch (the batch timestamp). */
  readonly timestamp: number;
  /** Ledger-assigned position among all transfers, starting at 1. */
  readonly sequence: number;
  readonly status: TransferStatus;
  /** For a posted pending transfer: the amount that was posted (at most `amount`). */
  readonly postedAmount: bigint | null;
  /** When a pending transfer was posted, voided or expired. */
  readonly resolvedAt: number | null;
}

export interface CreateAsset {
  readonly kind: 'create_asset';
  readonly code: string;
  readonly scale: number;
  readonly linked?: boolean;
}

export interface CreateAccount {
  readonly kind: 'create_account';
  readonly id: string;
  readonly asset: string;
  readonly allowNegative: boolean;
  readonly maxBalance: bigint | null;
  readonly linked?: boolean;
}

export interface CreateTransfer {
  readonly kind: 'create_transfer';
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly amount: bigint;
  readonly pending: boolean;
  /** 0 means no timeout. Only allowed on pending transfers. */
  readonly timeoutSeconds: number;
  readonly code: number;
  readonly reference: string;
  readonly linked?: boolean;
}

export interface PostPending {
  readonly kind: 'post_pending';
  readonly pendingId: string;
  /** `null` posts the full pending amount. */
  readonly amount: bigint | null;
  readonly linked?: boolean;
}

export interface VoidPending {
  readonly kind: 'void_pending';
  readonly pendingId: string;
  readonly linked?: boolean;
}

export interface SetAccountStatus {
  readonly kind: 'set_account_status';
  readonly id: string;
  readonly status: AccountStatus;
  readonly linked?: boolean;
}

export type Command = CreateAsset | CreateAccount | CreateTransfer | PostPending | VoidPending | SetAccountStatus;

/**
 * Outcome of one command. `existed` is true when the command repeated an earlier one exactly
 * (idempotent retry) and so changed nothing.
 */
export type CommandResult =
  | { readonly ok: true; readonly existed: boolean }
  | { readonly ok: false; readonly code: ResultCode };

export interface BatchOutcome {
  readonly results: readonly CommandResult[];
  /** Canonical encoding of the commands that changed state, in order: the journal body. */
  readonly journal: Uint8Array;
  /** Pending transfers that expired at the start of this batch. */
  readonly expired: readonly Transfer[];
  /** Number of commands that changed state. */
  readonly appliedCount: number;
}

export function assertNever(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
