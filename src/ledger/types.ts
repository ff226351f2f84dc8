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

/** A command of the ledger core. */
export type Command = CreateAsset | CreateAccount | CreateTransfer | PostPending | VoidPending | SetAccountStatus;
export type CoreCommand = Command;

/**
 * A command of a layer above the core (the two-tier platform). The core applies it through the
 * ledger's extension as one atomic step — an implicit linked chain of the core commands it
 * causes — and journals the command itself, never the transfers it derives. Its `kind` is never
 * one of the core kinds; it is never `linked`.
 */
export interface ExtensionCommand {
  readonly kind: `x.${string}`;
  readonly linked?: false;
}

/** What the ledger applies and journals: core commands and its extension's commands. */
export type AnyCommand = Command | ExtensionCommand;

/** Writes the fields of an extension command into the journal (see journal-codec.ts). */
export interface JournalWriter {
  u8(value: number): void;
  u32(value: number): void;
  i64(value: bigint): void;
  /** A safe integer (0 to 2^53-1) as 8 bytes. */
  uint(value: number): void;
  str(value: string): void;
}

export interface JournalReader {
  u8(): number;
  u32(): number;
  i64(): bigint;
  uint(): number;
  str(): string;
}

/** What an extension may do while one of its commands is applied. */
export interface ExtensionContext {
  /** The batch timestamp. */
  readonly timestamp: number;
  /** Applies a core command inside the extension command's chain; undone if the command fails. */
  execute(command: CoreCommand): CommandResult;
  /** Registers an undo step for the extension's own state, run if the command fails. */
  onUndo(undo: () => void): void;
  /** An account's posted balance, without building a view (undefined when it does not exist). */
  balance(id: string): bigint | undefined;
}

export interface LedgerExtension {
  /**
   * Applies one extension command. Returning a rejection (or a core rejection from `execute`)
   * undoes everything the command did, core and extension state alike.
   */
  apply(command: ExtensionCommand, context: ExtensionContext): CommandResult;
  /** Journal tag (16 to 255) of a command, then its fields. */
  encode(command: ExtensionCommand, writer: JournalWriter): void;
  /** The inverse of `encode`, given the tag; throws on a tag it does not know. */
  decode(tag: number, reader: JournalReader): ExtensionCommand;
}

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
