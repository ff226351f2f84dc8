/**
 * Recovery: rebuild the ledger from the journal and prove, on the way, that the journal is
 * intact. Every batch must follow its predecessor (sequence and previous hash), must hash to its
 * stored hash, must decode, and every command in it must apply again exactly as it did the first
 * time: the re-encoded journal of the replayed batch must equal the stored bytes. At the end the
 * full set of invariants must hold. Any fault stops recovery; the process does not serve a ledger
 * it cannot vouch for.
 */
import { journalReadPageMax } from '../limits.ts';
import { checkInvariants, type InvariantReport } from '../ledger/invariants.ts';
import { decodeCommands, JournalCodecError } from '../ledger/journal-codec.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { outboxEntries } from '../events/outbox.ts';
import { createLedger, platformOf } from '../platform/index.ts';
import { Platform } from '../platform/platform.ts';
import { journalHeadKey, type JournalBatch, type JournalHead, type OutboxPosition, type OutboxRecord, type Store } from '../store/store.ts';
import type { AnyCommand } from '../ledger/types.ts';
import { batchHash, bytesEqual, genesisHash } from './journal-chain.ts';

export class RecoveryError extends Error {
  override readonly name = 'RecoveryError';
  constructor(
    message: string,
    readonly sequence: number,
  ) {
    super(`journal batch ${sequence}: ${message}`);
  }
}

export interface Recovered {
  readonly ledger: Ledger;
  readonly head: JournalHead | null;
  readonly batches: number;
  readonly commands: number;
  /** The full invariant check made at the end of recovery (it passed, or recovery threw). */
  readonly report: InvariantReport;
}

export interface RecoverOptions {
  readonly onProgress?: (batches: number) => void;
  /**
   * Also prove the outbox: the events each replayed batch produces must be exactly the outbox rows
   * stored with that batch (ids, keys and payloads, in order). Rows may be missing only as a
   * pruned prefix: batches before the first stored row are not compared.
   */
  readonly checkOutbox?: boolean;
}

export async function recover(store: Store, options: RecoverOptions = {}): Promise<Recovered> {
  const { onProgress } = options;
  const ledger = createLedger();
  const outbox = options.checkOutbox === true ? new OutboxCheck(store, platformOf(ledger)) : null;
  await outbox?.begin();
  // Read the recorded head and the stored head first and replay exactly up to the stored head:
  // a writer may append while `tengri verify` runs, and a batch appended after these reads must
  // neither be half-read nor look like a removed tail.
  const anchor = await store.getMeta(journalHeadKey);
  const storedHead = await store.head();
  const last = storedHead?.sequence ?? 0;
  // The hash chain cannot tell a journal cut short from a shorter history; the head recorded with
  // every append can (for a store that keeps one).
  if (anchor !== null && Number(anchor) > last) {
    throw new RecoveryError(`the journal ends before its recorded head ${anchor}: batches were removed`, last + 1);
  }
  let previousHash = genesisHash;
  let head: JournalHead | null = null;
  let expected = 1;
  let commandTotal = 0;
  while (expected <= last) {
    const page = await store.read(expected, Math.min(journalReadPageMax, last - expected + 1));
    if (page.length === 0) throw new RecoveryError(`missing: the stored head is ${last}`, expected);
    for (const batch of page) {
      const sequence = batch.sequence;
      if (sequence !== expected) throw new RecoveryError(`expected sequence ${expected}`, sequence);
      const commands = replayBatch(ledger, batch, previousHash);
      await outbox?.check(sequence);
      commandTotal += commands.length;
      previousHash = batch.hash;
      head = { sequence, timestamp: batch.timestamp, hash: batch.hash };
      expected++;
    }
    onProgress?.(expected - 1);
  }
  if (storedHead !== null && !bytesEqual(storedHead.hash, previousHash)) {
    throw new RecoveryError('the stored head is not the last batch read', last);
  }
  await outbox?.end(last);
  const report = withPlatformChecks(ledger, checkInvariants(ledger));
  if (!report.ok) throw new RecoveryError(`invariants fail after replay: ${report.violations.join('; ')}`, head?.sequence ?? 0);
  return { ledger, head, batches: expected - 1, commands: commandTotal, report };
}

/**
 * Checks one journal batch against the ledger it must follow (previous hash, own hash, decoding,
 * command count, time) and applies it, requiring every command to apply exactly as it did when it
 * was written: the re-encoded journal must equal the stored body. Returns the commands. Throws
 * RecoveryError, and then the ledger must be thrown away (a batch may be half applied).
 */
export function replayBatch(ledger: Ledger, batch: JournalBatch, previousHash: Uint8Array): readonly AnyCommand[] {
  const sequence = batch.sequence;
  if (!bytesEqual(batch.previousHash, previousHash)) throw new RecoveryError('previous hash does not match', sequence);
  const computed = batchHash(batch.previousHash, sequence, batch.timestamp, batch.count, batch.body);
  if (!bytesEqual(computed, batch.hash)) throw new RecoveryError('hash does not match its contents', sequence);
  let commands;
  try {
    commands = decodeCommands(batch.body, ledger.extension);
  } catch (error) {
    if (error instanceof JournalCodecError) throw new RecoveryError(`body does not decode: ${error.message}`, sequence);
    throw error;
  }
  if (commands.length !== batch.count) throw new RecoveryError('command count does not match', sequence);
  if (batch.timestamp < ledger.timestamp) throw new RecoveryError('timestamp goes back in time', sequence);
  const outcome = ledger.apply(commands, batch.timestamp);
  outcome.results.forEach((result, index) => {
    if (!result.ok) throw new RecoveryError(`command ${index} is rejected on replay (${result.code})`, sequence);
    if (result.existed) throw new RecoveryError(`command ${index} repeats an earlier one`, sequence);
  });
  if (!bytesEqual(outcome.journal, batch.body)) throw new RecoveryError('replay does not reproduce the stored body', sequence);
  return commands;
}

/** Compares the events replay produces with the stored outbox, batch by batch (see RecoverOptions). */
class OutboxCheck {
  private rows: OutboxRecord[] = [];
  private next = 0;
  private after: OutboxPosition | null = null;
  private done = false;
  private firstSequence = Number.POSITIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly platform: Platform,
  ) {}

  async begin(): Promise<void> {
    this.platform.collectOutbox();
    const first = await this.peek();
    this.firstSequence = first?.sequence ?? Number.POSITIVE_INFINITY;
  }

  private async peek(): Promise<OutboxRecord | null> {
    if (this.next < this.rows.length) return this.rows[this.next]!;
    if (this.done) return null;
    this.rows = await this.store.readOutbox(this.after, 4096);
    this.next = 0;
    if (this.rows.length === 0) {
      this.done = true;
      return null;
    }
    const last = this.rows.at(-1)!;
    this.after = { sequence: last.sequence, index: last.index };
    return this.rows[0]!;
  }

  async check(sequence: number): Promise<void> {
    const produced = outboxEntries(this.platform.takeOutboxEvents());
    if (sequence < this.firstSequence) return;
    for (let i = 0; i < produced.length; i++) {
      const row = await this.peek();
      const entry = produced[i]!;
      if (row === null || row.sequence !== sequence || row.index !== i + 1 || row.id !== entry.id || row.key !== entry.key || row.payload !== entry.payload) {
        throw new RecoveryError(`the outbox does not hold event ${entry.id} as entry ${i + 1} of this batch`, sequence);
      }
      this.next++;
    }
    const extra = await this.peek();
    if (extra !== null && extra.sequence <= sequence) throw new RecoveryError(`the outbox holds ${extra.id} (entry ${extra.index}), which replay does not produce`, extra.sequence);
  }

  async end(last: number): Promise<void> {
    const extra = await this.peek();
    if (extra !== null && extra.sequence <= last) throw new RecoveryError(`the outbox holds ${extra.id}, which replay does not produce`, extra.sequence);
  }
}

/** The ledger's invariants plus the platform's cross-checks of its records against the ledger. */
export function withPlatformChecks(ledger: Ledger, report: InvariantReport): InvariantReport {
  if (!(ledger.extension instanceof Platform)) return report;
  const violations = ledger.extension.check((id) => ledger.getAccount(id)?.balance);
  if (violations.length === 0) return report;
  return { ...report, ok: false, violations: [...report.violations, ...violations] };
}
