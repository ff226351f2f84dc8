/**
 * The ledger's invariants, checked over the whole state: after recovery, by `tengri verify`, by
 * `GET /v1/supply` and by the property tests. The engine also checks the cheap per-batch ones
 * after every batch (see `engine/sequencer.ts`). A violation is a bug, never an input error.
 */
import { amountMax } from '../limits.ts';
import type { Ledger } from './ledger.ts';

export interface AssetSupply {
  readonly asset: string;
  readonly scale: number;
  /** Held by accounts that may not go negative: minus the sum of the issuance accounts' balances. */
  readonly inCirculation: bigint;
  readonly pending: bigint;
  readonly accounts: number;
  readonly balancesSumToZero: boolean;
  /** Whether every invariant holds for this asset and its accounts. */
  readonly invariantsHold: boolean;
  /**
   * The accounts that may go negative, i.e. that can create this asset, with their balances (at
   * most `issuanceAccountsListed`). For KZT that should be `cb:issuance` alone.
   */
  readonly issuanceAccounts: readonly { readonly id: string; readonly balance: bigint }[];
  readonly issuanceAccountCount: number;
}

export const issuanceAccountsListed = 20;

export interface InvariantReport {
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly assets: readonly AssetSupply[];
}

/** Bounded so a badly broken state cannot produce an unbounded report. */
const violationsMax = 100;

export function checkInvariants(ledger: Ledger): InvariantReport {
  const violations: string[] = [];
  const violatedAssets = new Set<string>();
  const note = (message: string, asset?: string): void => {
    if (asset !== undefined) violatedAssets.add(asset);
    if (violations.length < violationsMax) violations.push(message);
  };
  interface Totals {
    sum: bigint;
    circulation: bigint;
    pendingDebits: bigint;
    pendingCredits: bigint;
    accounts: number;
    issuance: { id: string; balance: bigint }[];
    issuanceCount: number;
  }
  const totals = new Map<string, Totals>();
  for (const asset of ledger.listAssets()) {
    totals.set(asset.code, { sum: 0n, circulation: 0n, pendingDebits: 0n, pendingCredits: 0n, accounts: 0, issuance: [], issuanceCount: 0 });
  }
  const expectedPendingDebits = new Map<string, bigint>();
  const expectedPendingCredits = new Map<string, bigint>();
  for (const transfer of ledger.pendingTransfers()) {
    expectedPendingDebits.set(transfer.debit, (expectedPendingDebits.get(transfer.debit) ?? 0n) + transfer.amount);
    expectedPendingCredits.set(transfer.credit, (expectedPendingCredits.get(transfer.credit) ?? 0n) + transfer.amount);
  }
  for (const account of ledger.allAccounts()) {
    const total = totals.get(account.asset);
    if (total === undefined) {
      note(`account ${account.id}: unknown asset ${account.asset}`, account.asset);
      continue;
    }
    total.sum += account.balance;
    total.pendingDebits += account.pendingDebits;
    total.pendingCredits += account.pendingCredits;
    total.accounts++;
    if (!account.allowNegative) total.circulation += account.balance;
    else {
      total.issuanceCount++;
      if (total.issuance.length < issuanceAccountsListed) total.issuance.push({ id: account.id, balance: account.balance });
    }
    if (account.balance > amountMax || account.balance < -amountMax) note(`account ${account.id}: balance outside 64 bits`, account.asset);
    if (account.pendingDebits < 0n || account.pendingDebits > amountMax) note(`account ${account.id}: pending debits out of range`, account.asset);
    if (account.pendingCredits < 0n || account.pendingCredits > amountMax) note(`account ${account.id}: pending credits out of range`, account.asset);
    if (!account.allowNegative && account.balance - account.pendingDebits < 0n) {
      note(`account ${account.id}: may not go negative but available balance is ${account.balance - account.pendingDebits}`, account.asset);
    }
    if (account.maxBalance !== null && account.balance + account.pendingCredits > account.maxBalance) {
      note(`account ${account.id}: exceeds its holding limit`, account.asset);
    }
    if ((expectedPendingDebits.get(account.id) ?? 0n) !== account.pendingDebits) {
      note(`account ${account.id}: pending debits do not match its pending transfers`, account.asset);
    }
    if ((expectedPendingCredits.get(account.id) ?? 0n) !== account.pendingCredits) {
      note(`account ${account.id}: pending credits do not match its pending transfers`, account.asset);
    }
  }
  const assets: AssetSupply[] = [];
  for (const asset of ledger.listAssets()) {
    const total = totals.get(asset.code)!;
    if (total.sum !== 0n) note(`asset ${asset.code}: balances sum to ${total.sum}, not zero`, asset.code);
    if (total.pendingDebits !== total.pendingCredits) note(`asset ${asset.code}: pending debits and credits differ`, asset.code);
    assets.push({
      asset: asset.code,
      scale: asset.scale,
      inCirculation: total.circulation,
      pending: total.pendingDebits,
      accounts: total.accounts,
      balancesSumToZero: total.sum === 0n,
      invariantsHold: !violatedAssets.has(asset.code),
      issuanceAccounts: total.issuance,
      issuanceAccountCount: total.issuanceCount,
    });
  }
  return { ok: violations.length === 0, violations, assets };
}
