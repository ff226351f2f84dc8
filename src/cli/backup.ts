/**
 * `tengri backup`: an online copy of a ledger's journal into another data directory, taken with
 * SQLite's backup API while the server may keep writing. The copy is a consistent snapshot (a
 * prefix of the journal) and can be checked with `tengri verify --data <target>` or started from.
 */
import { existsSync, mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { dataDir } from './data-dir.ts';

export interface BackupReport {
  readonly target: string;
  readonly pages: number;
  readonly batches: number;
}

export async function backup(source: string, target: string): Promise<BackupReport> {
  const from = dataDir(source);
  const to = dataDir(target);
  if (!existsSync(from.databasePath)) throw new Error(`no ledger at ${from.databasePath}`);
  if (existsSync(to.databasePath)) throw new Error(`${to.databasePath} exists; back up into a new directory`);
  mkdirSync(to.path, { recursive: true, mode: 0o700 });
  const db = new Database(from.databasePath, { readonly: true, fileMustExist: true });
  try {
    const result = await db.backup(to.databasePath);
    const copy = new Database(to.databasePath, { readonly: true });
    try {
      const row = copy.prepare('SELECT coalesce(max(sequence), 0) AS batches FROM journal').get() as { batches: number };
      return { target: to.databasePath, pages: result.totalPages, batches: row.batches };
    } finally {
      copy.close();
    }
  } finally {
    db.close();
  }
}
