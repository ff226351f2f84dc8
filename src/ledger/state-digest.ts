/**
 * A SHA-256 digest of the complete ledger state over a fixed canonical encoding: assets,
 * accounts (sorted by id) and every transfer's derived status (in sequence order). Two ledgers
 * with the same digest hold the same state; recovery and replay tests compare digests.
 */
import { createHash } from 'node:crypto';
import type { Ledger } from './ledger.ts';

export function stateDigest(ledger: Ledger): string {
  const hash = createHash('sha256');
  const line = (...fields: (string | number | bigint | boolean | null)[]): void => {
    hash.update(fields.map((field) => (field === null ? '-' : String(field))).join('\u001f') + '\u001e');
  };
  for (const asset of ledger.listAssets()) line('asset', asset.code, asset.scale);
  const accounts = [...ledger.allAccounts()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const a of accounts) {
    line('account', a.id, a.asset, a.allowNegative, a.maxBalance, a.status, a.balance, a.pendingDebits, a.pendingCredits, a.createdAt);
    for (const t of ledger.listAccountTransfers(a.id, null, Number.MAX_SAFE_INTEGER) ?? []) {
      line('t', t.sequence, t.id, t.debit, t.credit, t.amount, t.pending, t.timeoutSeconds, t.code, t.reference, t.timestamp, t.status, t.postedAmount, t.resolvedAt);
    }
  }
  // The ledger's clock is left out: a batch in which everything was rejected advances it without
  // being journaled, so it is not part of the state that replay must reproduce.
  line('sequence', ledger.transferCount);
  return hash.digest('hex');
}
