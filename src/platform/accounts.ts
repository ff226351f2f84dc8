/**
 * Names of the ledger accounts and assets the platform manages, and the syntax of the ids it
 * accepts. Every platform account id contains a ':' and starts with one of `managedPrefixes`; the
 * operator's raw ledger API refuses to create or move money on such ids, so only platform commands
 * (which keep the platform's own records in step) touch them.
 */

export const reserveAsset = 'KZT_RES';
export const cbdcAsset = 'KZT';
export const cbIssuance = 'cb:issuance';
export const cbReserves = 'cb:reserves';

export const reserveAccount = (bank: string): string => `bank:${bank}:reserve`;
/** The bank's own digital tenge: what it bought from the central bank and not yet passed on. */
export const floatAccount = (bank: string): string => `bank:${bank}:cbdc`;
/** Issuance account of the bank's own money (non-cash tenge): it may go negative. */
export const moneyAccount = (bank: string): string => `bank:${bank}:money`;
export const walletAccount = (wallet: string): string => `w:${wallet}`;
/** The holder's linked account at the wallet's bank, in the bank's money. */
export const depositAccount = (wallet: string): string => `dep:${wallet}`;
export const bankMoneyAsset = (bic: string): string => `KZT_${bic}`;

/** Account ids the raw ledger API may not create or move money on. */
export const managedAccountPrefixes = ['w:', 'dep:', 'bank:', 'cb:reserves'] as const;
/** Transfer ids derived by platform commands. */
export const managedTransferPrefixes = ['res:', 'iss:', 'red:', 'fund:', 'def:', 'cr:', 'dr:', 'pay:', 'close:'] as const;

export function isManagedAccount(id: string): boolean {
  for (const prefix of managedAccountPrefixes) if (id.startsWith(prefix)) return true;
  return false;
}

export function isManagedTransfer(id: string): boolean {
  for (const prefix of managedTransferPrefixes) if (id.startsWith(prefix)) return true;
  return false;
}

/** Participant and bank ids: lower-case slugs, 2 to 32 characters. */
export const participantIdPattern = '^[a-z0-9][a-z0-9-]{1,31}$';
/** Wallet ids: 3 to 48 characters of A-Z, a-z, 0-9, '_' and '-' (never '.', so never a dot segment). */
export const walletIdPattern = '^[A-Za-z0-9_-]{3,48}$';
/** Ids of payments, payment requests and money operations: 1 to 56 such characters. */
export const operationIdPattern = '^[A-Za-z0-9_-]{1,56}$';
export const bicPattern = '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$';

const participantId = new RegExp(participantIdPattern);
const walletId = new RegExp(walletIdPattern);
const operationId = new RegExp(operationIdPattern);
const bic = new RegExp(bicPattern);

/** `operator` names the central bank's operator in audit records, so no participant may take it. */
export const isParticipantId = (value: string): boolean => participantId.test(value) && value !== 'operator';
export const isWalletId = (value: string): boolean => walletId.test(value);
export const isOperationId = (value: string): boolean => operationId.test(value);
export const isBic = (value: string): boolean => bic.test(value);
