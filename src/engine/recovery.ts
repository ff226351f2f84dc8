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
import { createLedger } from '../platform/index.ts';
import { Platform } from '../platform/platform.ts';
import { journalHeadKey, type JournalHead, type Store } from '../store/store.ts';
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

export async function recover(store: Store, onProgress?: (batches: number) => void): Promise<Recovered> {
  const ledger = createLedger();
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
  const report = withPlatformChecks(ledger, checkInvariants(ledger));
  if (!report.ok) throw new RecoveryError(`invariants fail after replay: ${report.violations.join('; ')}`, head?.sequence ?? 0);
  return { ledger, head, batches: expected - 1, commands: commandTotal, report };
}

/** The ledger's invariants plus the platform's cross-checks of its records against the ledger. */
export function withPlatformChecks(ledger: Ledger, report: InvariantReport): InvariantReport {
  if (!(ledger.extension instanceof Platform)) return report;
  const violations = ledger.extension.check((id) => ledger.getAccount(id)?.balance);
  if (violations.length === 0) return report;
  return { ...report, ok: false, violations: [...report.violations, ...violations] };
}
