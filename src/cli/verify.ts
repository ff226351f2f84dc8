/**
 * `tengri verify`: re-check a ledger offline. Opens the journal read-only, verifies the hash
 * chain batch by batch, replays every command (platform commands included), and checks every
 * invariant of the ledger and every cross-check of the platform's records against it, and that the
 * event outbox holds exactly the events the replay produces. Exits 0 only if all of it holds;
 * prints what failed otherwise.
 */
import { existsSync } from 'node:fs';
import { toHex } from '../engine/journal-chain.ts';
import { recover, RecoveryError } from '../engine/recovery.ts';
import { stateDigest } from '../ledger/state-digest.ts';
import { platformOf } from '../platform/index.ts';
import { PostgresStore } from '../store/postgres-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { dataDir } from './data-dir.ts';

export interface VerifyReport {
  readonly ok: boolean;
  readonly batches: number;
  readonly commands: number;
  readonly accounts: number;
  readonly transfers: number;
  readonly banks: number;
  readonly wallets: number;
  readonly head: string | null;
  readonly stateDigest: string | null;
  readonly error: string | null;
  readonly supply: readonly { asset: string; inCirculation: string }[];
}

export async function verify(path: string, db?: { url: string; schema?: string }): Promise<VerifyReport> {
  const dir = dataDir(path);
  const failed = (error: string): VerifyReport => ({ ok: false, batches: 0, commands: 0, accounts: 0, transfers: 0, banks: 0, wallets: 0, head: null, stateDigest: null, error, supply: [] });
  let store: Store;
  if (db === undefined) {
    if (!existsSync(dir.databasePath)) return failed(`no ledger at ${dir.databasePath}`);
    store = new SqliteStore(dir.databasePath, { readonly: true });
  } else {
    try {
      store = await PostgresStore.open(db.url, { readonly: true, ...(db.schema === undefined ? {} : { schema: db.schema }) });
    } catch (error) {
      return failed(`cannot open the PostgreSQL ledger: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    const recovered = await recover(store, { checkOutbox: true });
    const report = recovered.report;
    return {
      ok: report.ok,
      batches: recovered.batches,
      commands: recovered.commands,
      accounts: recovered.ledger.accountCount,
      transfers: recovered.ledger.transferCount,
      banks: platformOf(recovered.ledger).listBanks().length,
      wallets: platformOf(recovered.ledger).walletCount,
      head: recovered.head === null ? null : toHex(recovered.head.hash),
      stateDigest: stateDigest(recovered.ledger),
      error: report.ok ? null : report.violations.join('; '),
      supply: report.assets.map((asset) => ({ asset: asset.asset, inCirculation: asset.inCirculation.toString() })),
    };
  } catch (error) {
    if (error instanceof RecoveryError) return failed(error.message);
    return failed(error instanceof Error ? error.message : String(error));
  } finally {
    await store.close();
  }
}
