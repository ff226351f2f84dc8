/**
 * The deterministic ledger core: (state, batch, time) -> (state', results, journal bytes).
 *
 * It does no I/O and reads no clock or randomness: the batch timestamp comes in as an argument.
 * A batch is applied synchronously from start to finish. Every command is validated completely
 * before it changes anything, so a rejected command leaves no trace; a linked chain records undo
 * steps and rolls back as a whole when one of its commands is rejected.
 *
 * Sign convention: an account's balance is its posted credits minus its posted debits. Money is
 * issued by debiting an issuance account that may go negative, so per asset the balances always
 * sum to zero and the amount in circulation is minus the issuance account's balance.
 */
import { amountMax, referenceLengthMax, timeoutSecondsMax, transferCodeMax } from '../limits.ts';
import { isValidAssetCode, isValidId } from './identifiers.ts';
import { JournalEncoder } from './journal-codec.ts';
import { MinHeap } from './min-heap.ts';
import { okExisted, okNew, reject } from './results.ts';
import type {
  Account,
  AccountStatus,
  Asset,
  BatchOutcome,
  AnyCommand,
  CommandResult,
  CoreCommand,
  CreateAccount,
  CreateAsset,
  CreateTransfer,
  ExtensionCommand,
  ExtensionContext,
  LedgerExtension,
  PostPending,
  SetAccountStatus,
  Transfer,
  TransferStatus,
  VoidPending,
} from './types.ts';
import { assertNever } from './types.ts';

interface AccountState {
  readonly id: string;
  readonly asset: string;
  readonly allowNegative: boolean;
  readonly maxBalance: bigint | null;
  status: AccountStatus;
  balance: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
  readonly createdAt: number;
  /** Transfers touching this account, in commit order. */
  readonly history: TransferState[];
}

interface TransferState {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly asset: string;
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

type Undo = () => void;


export class Ledger {
  private readonly assets = new Map<string, Asset>();
  private readonly accounts = new Map<string, AccountState>();
  private readonly transfers = new Map<string, TransferState>();
  /** Every transfer by sequence (index = sequence - 1), for the ledger-wide history. */
  private readonly transfersBySequence: TransferState[] = [];
  /** Every account in creation order, for listing; accounts are never removed. */
  private readonly accountsInOrder: AccountState[] = [];
  private readonly expiries = new MinHeap<TransferState>();
  /** Transfers whose status is 'pending', so invariant checks need not scan every transfer. */
  private readonly outstanding = new Set<TransferState>();
  private readonly encoder: JournalEncoder;
  private transferSequence = 0;
  private lastTimestamp = 0;
  /** Undo steps of the linked chain being applied, or null outside a chain. */
  private undo: Undo[] | null = null;
  /** Expiries to schedule once the current chain is known to commit. */
  private newExpiries: TransferState[] = [];
  /** Most transfers and accounts held; unbounded unless the engine sets it (never during replay). */
  private transfersMax = Number.POSITIVE_INFINITY;
  private accountsMax = Number.POSITIVE_INFINITY;
  private readonly context: ExtensionContext & { timestamp: number };

  /** `extension` applies and journals the commands of the layer above the core (the platform). */
  constructor(readonly extension: LedgerExtension | null = null) {
    this.encoder = new JournalEncoder(extension);
    const ledger = this;
    this.context = {
      timestamp: 0,
      execute: (command: CoreCommand) => ledger.applyOne(command, ledger.context.timestamp),
      onUndo: (undo: () => void) => {
        ledger.undo!.push(undo);
      },
      balance: (id: string) => ledger.accounts.get(id)?.balance,
    };
  }

  /**
   * Sets how many transfers and accounts the ledger accepts before refusing new ones with
   * `ledger_full`. Recovery replays without a cap, so lowering it never makes a journal unreadable.
   */
  setCapacity(capacity: { readonly transfersMax: number; readonly accountsMax: number }): void {
    this.transfersMax = capacity.transfersMax;
    this.accountsMax = capacity.accountsMax;
  }

  get capacity(): { readonly transfersMax: number; readonly accountsMax: number } {
    return { transfersMax: this.transfersMax, accountsMax: this.accountsMax };
  }

  get timestamp(): number {
    return this.lastTimestamp;
  }

  get transferCount(): number {
    return this.transferSequence;
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  /** Time of the earliest pending timeout, so the engine can schedule a batch to expire it. */
  nextExpiryAt(): number | undefined {
    return this.expiries.peekKey();
  }

  /**
   * Applies one batch at `timestamp` (milliseconds, never less than the previous batch's: several
   * batches may share a millisecond, and the transfer sequence orders them).
   * First voids every pending transfer whose timeout has passed, then applies the commands in
   * order. `requestEnds` (ascending exclusive end indices) marks where the requests merged into
   * this batch end; a linked chain left open at the end of a request is rejected.
   */
  apply(commands: readonly AnyCommand[], timestamp: number, requestEnds?: readonly number[]): BatchOutcome {
    if (!Number.isSafeInteger(timestamp) || timestamp < this.lastTimestamp) {
      throw new Error(`ledger: batch timestamp ${timestamp} must not be before ${this.lastTimestamp}`);
    }
    this.lastTimestamp = timestamp;
    const expired = this.expireDue(timestamp);
    const encoder = this.encoder;
    encoder.reset();
    const count = commands.length;
    const results = new Array<CommandResult>(count);
    let appliedCount = 0;
    // A linked chain never extends past the end of the request it came in: requests merged into
    // one batch must not chain into each other.
    let requestIndex = 0;
    let requestEnd = requestEnds === undefined || requestEnds.length === 0 ? count : requestEnds[0]!;

    let index = 0;
    while (index < count) {
      while (index >= requestEnd) requestEnd = requestEnds![++requestIndex] ?? count;
      let end = index;
      while (end < requestEnd && commands[end]!.linked === true) end++;
      if (end === index) {
        const result = this.applyOne(commands[index]!, timestamp);
        results[index] = result;
        if (result.ok && !result.existed) {
          encoder.write(commands[index]!);
          appliedCount++;
        }
        this.flushExpiries();
        index++;
        continue;
      }
      // A linked chain runs from `index` through `end` inclusive; `end === requestEnd` means the
      // last command of the request was linked, so the chain never closes.
      if (end === requestEnd) {
        for (let i = index; i < requestEnd; i++) results[i] = reject('linked_event_failed');
        results[requestEnd - 1] = reject('linked_event_chain_open');
        index = requestEnd;
        continue;
      }
      const undo: Undo[] = [];
      this.undo = undo;
      let failedAt = -1;
      const journaled: number[] = [];
      for (let i = index; i <= end; i++) {
        const result = this.applyOne(commands[i]!, timestamp);
        results[i] = result;
        if (!result.ok) {
          failedAt = i;
          break;
        }
        if (!result.existed) journaled.push(i);
      }
      this.undo = null;
      if (failedAt >= 0) {
        for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
        this.newExpiries.length = 0;
        for (let i = index; i <= end; i++) if (i !== failedAt) results[i] = reject('linked_event_failed');
      } else {
        // Members that merely repeated earlier commands are not journaled, so the journaled
        // members form the chain: linked on all of them but the last.
        const last = journaled.length - 1;
        for (let j = 0; j <= last; j++) {
          const command = commands[journaled[j]!]!;
          const linked = j < last;
          encoder.write(command.linked === linked ? command : ({ ...command, linked } as AnyCommand));
        }
        this.flushExpiries();
        appliedCount += journaled.length;
      }
      index = end + 1;
    }
    return { results, journal: encoder.bytes(), expired, appliedCount };
  }

  // ---- reads -------------------------------------------------------------------------------

  getAsset(code: string): Asset | undefined {
    return this.assets.get(code);
  }

  listAssets(): Asset[] {
    return [...this.assets.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  }

  getAccount(id: string): Account | undefined {
    const account = this.accounts.get(id);
    return account === undefined ? undefined : accountView(account);
  }

  /** All accounts in insertion order, as read-only views (for invariant checks and digests). */
  *allAccounts(): IterableIterator<Account> {
    for (const account of this.accounts.values()) yield accountView(account);
  }

  getTransfer(id: string): Transfer | undefined {
    const transfer = this.transfers.get(id);
    return transfer === undefined ? undefined : transferView(transfer);
  }

  /** Pending transfers that are still pending, for invariant checks. */
  *pendingTransfers(): IterableIterator<Transfer> {
    for (const transfer of this.outstanding) yield transferView(transfer);
  }

  /**
   * Transfers touching an account, newest first, with `sequence < before` when `before` is given.
   * Returns undefined when the account does not exist.
   */
  /** Accounts in creation order, starting after the first `after` of them. */
  listAccounts(after: number, limit: number): Account[] {
    return this.accountsInOrder.slice(after, after + limit).map(accountView);
  }

  /** All transfers of the ledger, newest first, with `sequence < before` when `before` is given. */
  listTransfers(before: number | null, limit: number): Transfer[] {
    const all = this.transfersBySequence;
    const start = before === null ? all.length : Math.min(before - 1, all.length);
    const page: Transfer[] = [];
    for (let i = start - 1; i >= 0 && page.length < limit; i--) page.push(transferView(all[i]!));
    return page;
  }

  listAccountTransfers(id: string, before: number | null, limit: number): Transfer[] | undefined {
    const account = this.accounts.get(id);
    if (account === undefined) return undefined;
    const history = account.history;
    // Binary search for the first entry with sequence >= before; start just below it.
    let high = history.length;
    if (before !== null) {
      let low = 0;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (history[middle]!.sequence < before) low = middle + 1;
        else high = middle;
      }
    }
    const page: Transfer[] = [];
    for (let i = high - 1; i >= 0 && page.length < limit; i--) page.push(transferView(history[i]!));
    return page;
  }

  // ---- commands ----------------------------------------------------------------------------

  private applyOne(command: AnyCommand, timestamp: number): CommandResult {
    switch (command.kind) {
      case 'create_transfer':
        return this.createTransfer(command, timestamp);
      case 'post_pending':
        return this.postPending(command, timestamp);
      case 'void_pending':
        return this.voidPending(command, timestamp);
      case 'create_account':
        return this.createAccount(command, timestamp);
      case 'create_asset':
        return this.createAsset(command);
      case 'set_account_status':
        return this.setAccountStatus(command);
      default:
        return this.applyExtension(command, timestamp);
    }
  }

  /**
   * An extension command is one atomic step: it runs as a linked chain of its own (or as a
   * member of the enclosing chain) and everything it did is undone when it is rejected.
   */
  private applyExtension(command: ExtensionCommand, timestamp: number): CommandResult {
    const extension = this.extension;
    if (extension === null) throw new Error(`ledger: no extension to apply ${command.kind}`);
    // Inside a client's linked chain a platform command could be undone after its own state
    // changes were made; platform commands are atomic steps of their own instead.
    if (this.undo !== null) return reject('platform_command_in_chain');
    const undo: Undo[] = [];
    this.undo = undo;
    this.context.timestamp = timestamp;
    let result: CommandResult;
    try {
      result = extension.apply(command, this.context);
    } finally {
      this.undo = null;
    }
    if (!result.ok || result.existed) {
      for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
      this.newExpiries.length = 0;
    }
    return result;
  }

  private createAsset(command: CreateAsset): CommandResult {
    if (!isValidAssetCode(command.code)) return reject('asset_code_invalid');
    if (!Number.isInteger(command.scale) || command.scale < 0 || command.scale > 18) return reject('scale_invalid');
    const existing = this.assets.get(command.code);
    if (existing !== undefined) {
      return existing.scale === command.scale ? okExisted : reject('exists_with_different_fields');
    }
    const asset: Asset = Object.freeze({ code: command.code, scale: command.scale });
    this.assets.set(asset.code, asset);
    this.undo?.push(() => this.assets.delete(asset.code));
    return okNew;
  }

  private createAccount(command: CreateAccount, timestamp: number): CommandResult {
    if (!isValidId(command.id)) return reject('id_invalid');
    if (!this.assets.has(command.asset)) return reject('asset_not_found');
    const maxBalance = command.maxBalance;
    if (maxBalance !== null && (maxBalance < 0n || maxBalance > amountMax || command.allowNegative)) {
      return reject('max_balance_invalid');
    }
    const existing = this.accounts.get(command.id);
    if (existing !== undefined) {
      const same =
        existing.asset === command.asset &&
        existing.allowNegative === command.allowNegative &&
        existing.maxBalance === command.maxBalance;
      return same ? okExisted : reject('exists_with_different_fields');
    }
    if (this.accounts.size >= this.accountsMax) return reject('ledger_full');
    const account: AccountState = {
      id: command.id,
      asset: command.asset,
      allowNegative: command.allowNegative,
      maxBalance,
      status: 'active',
      balance: 0n,
      pendingDebits: 0n,
      pendingCredits: 0n,
      createdAt: timestamp,
      history: [],
    };
    this.accounts.set(account.id, account);
    this.accountsInOrder.push(account);
    this.undo?.push(() => {
      this.accounts.delete(account.id);
      this.accountsInOrder.pop();
    });
    return okNew;
  }

  private setAccountStatus(command: SetAccountStatus): CommandResult {
    const account = this.accounts.get(command.id);
    if (account === undefined) return reject('account_not_found');
    if (command.status !== 'active' && command.status !== 'frozen' && command.status !== 'closed') return reject('status_invalid');
    if (account.status === command.status) return okExisted;
    if (account.status === 'closed') return reject('account_closed');
    const previous = account.status;
    account.status = command.status;
    this.undo?.push(() => {
      account.status = previous;
    });
    return okNew;
  }

  private createTransfer(command: CreateTransfer, timestamp: number): CommandResult {
    const { id, amount } = command;
    if (!isValidId(id)) return reject('id_invalid');
    if (!command.pending && command.timeoutSeconds !== 0) return reject('timeout_reserved_for_pending_transfer');
    if (command.debit === command.credit) return reject('accounts_must_be_different');
    if (amount <= 0n) return reject('amount_must_be_positive');
    if (amount > amountMax) return reject('amount_exceeds_maximum');
    if (!Number.isInteger(command.code) || command.code < 0 || command.code > transferCodeMax) return reject('code_invalid');
    if (command.reference.length > referenceLengthMax && codePointLength(command.reference) > referenceLengthMax) {
      return reject('reference_too_long');
    }
    if (!command.reference.isWellFormed()) return reject('reference_invalid');
    if (!Number.isInteger(command.timeoutSeconds) || command.timeoutSeconds < 0 || command.timeoutSeconds > timeoutSecondsMax) {
      return reject('timeout_invalid');
    }
    const existing = this.transfers.get(id);
    if (existing !== undefined) {
      const same =
        existing.debit === command.debit &&
        existing.credit === command.credit &&
        existing.amount === amount &&
        existing.pending === command.pending &&
        existing.timeoutSeconds === command.timeoutSeconds &&
        existing.code === command.code &&
        existing.reference === command.reference;
      return same ? okExisted : reject('exists_with_different_fields');
    }
    if (this.transfers.size >= this.transfersMax) return reject('ledger_full');
    const debit = this.accounts.get(command.debit);
    if (debit === undefined) return reject('debit_account_not_found');
    const credit = this.accounts.get(command.credit);
    if (credit === undefined) return reject('credit_account_not_found');
    if (debit.asset !== credit.asset) return reject('accounts_must_have_the_same_asset');
    if (debit.status !== 'active') return reject('debit_account_not_active');
    if (credit.status !== 'active') return reject('credit_account_not_active');

    if (command.pending) {
      if (debit.pendingDebits + amount > amountMax || credit.pendingCredits + amount > amountMax) {
        return reject('overflows_pending');
      }
      // The reservation must be postable later, so check balances as if it were posted now.
      if (debit.balance - debit.pendingDebits - amount < -amountMax) return reject('overflows_balance');
      if (credit.balance + credit.pendingCredits + amount > amountMax) return reject('overflows_balance');
    } else {
      if (debit.balance - debit.pendingDebits - amount < -amountMax) return reject('overflows_balance');
      if (credit.balance + credit.pendingCredits + amount > amountMax) return reject('overflows_balance');
    }
    if (!debit.allowNegative && debit.balance - debit.pendingDebits < amount) return reject('insufficient_funds');
    if (credit.maxBalance !== null && credit.balance + credit.pendingCredits + amount > credit.maxBalance) {
      return reject('limit_exceeded');
    }

    const transfer: TransferState = {
      id,
      debit: debit.id,
      credit: credit.id,
      asset: debit.asset,
      amount,
      pending: command.pending,
      timeoutSeconds: command.timeoutSeconds,
      code: command.code,
      reference: command.reference,
      timestamp,
      sequence: ++this.transferSequence,
      status: command.pending ? 'pending' : 'posted',
      postedAmount: null,
      resolvedAt: null,
    };
    this.transfers.set(id, transfer);
    this.transfersBySequence.push(transfer);
    if (command.pending) {
      this.outstanding.add(transfer);
      debit.pendingDebits += amount;
      credit.pendingCredits += amount;
      if (command.timeoutSeconds > 0) this.newExpiries.push(transfer);
    } else {
      debit.balance -= amount;
      credit.balance += amount;
    }
    assertFlags(debit);
    assertFlags(credit);
    debit.history.push(transfer);
    credit.history.push(transfer);
    const undo = this.undo;
    if (undo !== null) {
      undo.push(() => {
        if (transfer.pending) {
          this.outstanding.delete(transfer);
          debit.pendingDebits -= amount;
          credit.pendingCredits -= amount;
        } else {
          debit.balance += amount;
          credit.balance -= amount;
        }
        this.transfers.delete(id);
        debit.history.pop();
        credit.history.pop();
        this.transferSequence--;
        this.transfersBySequence.pop();
      });
    }
    return okNew;
  }

  /** Status checks shared by post and void, in precedence order. */
  private resolvable(pendingId: string): TransferState | CommandResult {
    const transfer = this.transfers.get(pendingId);
    if (transfer === undefined) return reject('pending_transfer_not_found');
    if (!transfer.pending) return reject('pending_transfer_not_pending');
    return transfer;
  }

  private postPending(command: PostPending, timestamp: number): CommandResult {
    const found = this.resolvable(command.pendingId);
    if (!isTransfer(found)) return found;
    const transfer = found;
    const requested = command.amount;
    if (requested !== null && requested <= 0n) return reject('amount_must_be_positive');
    if (requested !== null && requested > amountMax) return reject('amount_exceeds_maximum');
    switch (transfer.status) {
      case 'posted': {
        const same = requested === null ? transfer.postedAmount === transfer.amount : transfer.postedAmount === requested;
        return same ? okExisted : reject('pending_transfer_already_posted');
      }
      case 'voided':
        return reject('pending_transfer_already_voided');
      case 'expired':
        return reject('pending_transfer_expired');
      case 'pending':
        break;
      default:
        return assertNever(transfer.status);
    }
    const amount = requested ?? transfer.amount;
    if (amount > transfer.amount) return reject('amount_exceeds_pending_amount');
    const debit = this.accounts.get(transfer.debit)!;
    const credit = this.accounts.get(transfer.credit)!;
    if (debit.status !== 'active') return reject('debit_account_not_active');
    if (credit.status !== 'active') return reject('credit_account_not_active');

    debit.pendingDebits -= transfer.amount;
    credit.pendingCredits -= transfer.amount;
    debit.balance -= amount;
    credit.balance += amount;
    transfer.status = 'posted';
    transfer.postedAmount = amount;
    transfer.resolvedAt = timestamp;
    this.outstanding.delete(transfer);
    assertFlags(debit);
    assertFlags(credit);
    this.undo?.push(() => {
      debit.pendingDebits += transfer.amount;
      credit.pendingCredits += transfer.amount;
      debit.balance += amount;
      credit.balance -= amount;
      transfer.status = 'pending';
      transfer.postedAmount = null;
      transfer.resolvedAt = null;
      this.outstanding.add(transfer);
    });
    return okNew;
  }

  private voidPending(command: VoidPending, timestamp: number): CommandResult {
    const found = this.resolvable(command.pendingId);
    if (!isTransfer(found)) return found;
    const transfer = found;
    switch (transfer.status) {
      case 'voided':
        return okExisted;
      case 'posted':
        return reject('pending_transfer_already_posted');
      case 'expired':
        return reject('pending_transfer_expired');
      case 'pending':
        break;
      default:
        return assertNever(transfer.status);
    }
    this.release(transfer, 'voided', timestamp);
    this.undo?.push(() => {
      const debit = this.accounts.get(transfer.debit)!;
      const credit = this.accounts.get(transfer.credit)!;
      debit.pendingDebits += transfer.amount;
      credit.pendingCredits += transfer.amount;
      transfer.status = 'pending';
      transfer.resolvedAt = null;
      this.outstanding.add(transfer);
    });
    return okNew;
  }

  private release(transfer: TransferState, status: 'voided' | 'expired', timestamp: number): void {
    const debit = this.accounts.get(transfer.debit)!;
    const credit = this.accounts.get(transfer.credit)!;
    debit.pendingDebits -= transfer.amount;
    credit.pendingCredits -= transfer.amount;
    transfer.status = status;
    transfer.resolvedAt = timestamp;
    this.outstanding.delete(transfer);
  }

  private expireDue(timestamp: number): Transfer[] {
    const expired: Transfer[] = [];
    const heap = this.expiries;
    for (;;) {
      const at = heap.peekKey();
      if (at === undefined || at > timestamp) break;
      const transfer = heap.pop()!;
      // Posted or voided transfers stay in the heap until their time comes; skip them then.
      if (transfer.status !== 'pending') continue;
      this.release(transfer, 'expired', timestamp);
      expired.push(transferView(transfer));
    }
    return expired;
  }

  private flushExpiries(): void {
    const list = this.newExpiries;
    if (list.length === 0) return;
    for (const transfer of list) this.expiries.push(transfer.timestamp + transfer.timeoutSeconds * 1000, transfer);
    list.length = 0;
  }
}

/**
 * An invariant check that stays on in production (STYLE 12): after every change to an account,
 * its flags still hold. The validation above should make this impossible to trip; if it ever
 * trips, the exception stops the sequencer and the process, and nothing of the batch is
 * acknowledged. The comparisons allocate nothing on the common path.
 */
function assertFlags(account: AccountState): void {
  if (account.pendingDebits < 0n || account.pendingCredits < 0n) {
    throw new Error(`ledger invariant: account ${account.id} has a negative pending total`);
  }
  if (!account.allowNegative && account.balance < account.pendingDebits) {
    throw new Error(`ledger invariant: account ${account.id} may not go negative`);
  }
  if (account.maxBalance !== null && account.balance + account.pendingCredits > account.maxBalance) {
    throw new Error(`ledger invariant: account ${account.id} exceeds its holding limit`);
  }
}

/** Length in Unicode code points, as JSON Schema's maxLength counts it. */
function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function isTransfer(value: TransferState | CommandResult): value is TransferState {
  return 'sequence' in value;
}

function accountView(account: AccountState): Account {
  return {
    id: account.id,
    asset: account.asset,
    allowNegative: account.allowNegative,
    maxBalance: account.maxBalance,
    status: account.status,
    balance: account.balance,
    pendingDebits: account.pendingDebits,
    pendingCredits: account.pendingCredits,
    createdAt: account.createdAt,
  };
}

function transferView(transfer: TransferState): Transfer {
  return {
    id: transfer.id,
    debit: transfer.debit,
    credit: transfer.credit,
    asset: transfer.asset,
    amount: transfer.amount,
    pending: transfer.pending,
    timeoutSeconds: transfer.timeoutSeconds,
    code: transfer.code,
    reference: transfer.reference,
    timestamp: transfer.timestamp,
    sequence: transfer.sequence,
    status: transfer.status,
    postedAmount: transfer.postedAmount,
    resolvedAt: transfer.resolvedAt,
  };
}
