/**
 * Result codes of the ledger core. Each rejection has exactly one code; codes are stable strings
 * that clients may switch on, and this list is append-only. Within each operation the codes are
 * listed in precedence order: when several apply, the first one listed is returned (STYLE 10).
 * The HTTP status and problem type of each code live in `src/api/problem.ts`.
 */

export const transferCodes = [
  'linked_event_failed',
  'linked_event_chain_open',
  'id_invalid',
  'timeout_reserved_for_pending_transfer',
  'accounts_must_be_different',
  'amount_must_be_positive',
  'amount_exceeds_maximum',
  'code_invalid',
  'reference_too_long',
  'reference_invalid',
  'timeout_invalid',
  'exists_with_different_fields',
  'ledger_full',
  'debit_account_not_found',
  'credit_account_not_found',
  'accounts_must_have_the_same_asset',
  'debit_account_not_active',
  'credit_account_not_active',
  'overflows_pending',
  'overflows_balance',
  'insufficient_funds',
  'limit_exceeded',
] as const;

export const resolveCodes = [
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'amount_must_be_positive',
  'amount_exceeds_maximum',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'amount_exceeds_pending_amount',
  'debit_account_not_active',
  'credit_account_not_active',
] as const;

export const accountCodes = [
  'id_invalid',
  'asset_not_found',
  'max_balance_invalid',
  'exists_with_different_fields',
  'ledger_full',
  'account_not_found',
  'status_invalid',
  'account_closed',
] as const;

export const assetCodes = ['asset_code_invalid', 'scale_invalid', 'exists_with_different_fields'] as const;

export type TransferCode = (typeof transferCodes)[number];
export type ResolveCode = (typeof resolveCodes)[number];
export type AccountCode = (typeof accountCodes)[number];
export type AssetCode = (typeof assetCodes)[number];
export type ResultCode = TransferCode | ResolveCode | AccountCode | AssetCode;

/** Every code, for documentation and for the exhaustive HTTP mapping test. */
export const allResultCodes: readonly ResultCode[] = [
  ...new Set<ResultCode>([...transferCodes, ...resolveCodes, ...accountCodes, ...assetCodes]),
];

/** One sentence per code, rendered into problem `detail` and into docs/API.md. */
export const resultCodeDescriptions: Readonly<Record<ResultCode, string>> = {
  linked_event_failed: 'Another transfer in the same linked chain was rejected, so this one was not applied.',
  linked_event_chain_open: 'The last item of the batch has linked: true, so its chain is never closed.',
  id_invalid: 'The id must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-".',
  timeout_reserved_for_pending_transfer: 'timeoutSeconds may only be given for a pending transfer.',
  accounts_must_be_different: 'The debit and credit accounts must be different accounts.',
  amount_must_be_positive: 'The amount must be a positive integer number of minor units.',
  amount_exceeds_maximum: 'The amount exceeds the signed 64-bit maximum 9223372036854775807.',
  code_invalid: 'The transfer code must be an integer from 0 to 65535.',
  reference_too_long: 'The reference must be at most 128 characters.',
  reference_invalid: 'The reference must be well-formed Unicode (no lone surrogates).',
  timeout_invalid: 'timeoutSeconds must be an integer from 0 (no timeout) to 31622400 (366 days).',
  exists_with_different_fields: 'A record with this id exists with different fields; ids are never reused.',
  ledger_full: 'The ledger holds as many records of this kind as its configured capacity allows; nothing was changed.',
  debit_account_not_found: 'The debit account does not exist.',
  credit_account_not_found: 'The credit account does not exist.',
  accounts_must_have_the_same_asset: 'The debit and credit accounts hold different assets.',
  debit_account_not_active: 'The debit account is frozen or closed.',
  credit_account_not_active: 'The credit account is frozen or closed.',
  overflows_pending: 'The pending total of an account would exceed the signed 64-bit range.',
  overflows_balance: 'The balance of an account would leave the signed 64-bit range.',
  insufficient_funds: 'The debit account may not go negative and its available balance is too low.',
  limit_exceeded: 'The credit account would exceed its holding limit (maxBalance).',
  pending_transfer_not_found: 'No transfer has this id.',
  pending_transfer_not_pending: 'The transfer was not created as pending, so it cannot be posted or voided.',
  pending_transfer_already_posted: 'The pending transfer was already posted (with a different amount, if one was given).',
  pending_transfer_already_voided: 'The pending transfer was already voided.',
  pending_transfer_expired: 'The pending transfer expired and its reservation was released.',
  amount_exceeds_pending_amount: 'The amount to post exceeds the amount of the pending transfer.',
  asset_not_found: 'The asset does not exist.',
  max_balance_invalid: 'maxBalance must be a non-negative integer of minor units within 64 bits, and not combined with allowNegative.',
  account_not_found: 'The account does not exist.',
  status_invalid: 'The account status must be active, frozen or closed.',
  account_closed: 'The account is closed; a closed account stays closed.',
  asset_code_invalid: 'The asset code must be 2 to 24 characters: an upper-case letter, then A-Z, 0-9 or "_".',
  scale_invalid: 'The scale must be an integer from 0 to 18.',
};
