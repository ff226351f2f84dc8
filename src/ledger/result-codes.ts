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
/**
 * Codes of the two-tier platform's commands (src/platform). A payment returns the first code of
 * this list that applies to it. Other platform commands follow the same order for one fault at a
 * time, checking the command's own fields first, then the records it names, then their states and
 * limits; for some combinations of faults (an unknown wallet with a bad key, say) the record that
 * must be found comes first. The tests pin the answer for each combination they make.
 */
export const platformCodes = [
  'platform_command_in_chain',
  'exists_with_different_fields',
  'id_invalid',
  'field_invalid',
  'amount_must_be_positive',
  'amount_exceeds_maximum',
  'reference_too_long',
  'reference_invalid',
  'name_invalid',
  'bic_invalid',
  'bic_in_use',
  'participant_role_invalid',
  'api_key_in_use',
  'participant_not_found',
  'bank_not_found',
  'tier_invalid',
  'wallet_kind_invalid',
  'public_key_invalid',
  'wallet_not_found',
  'wallet_already_exists',
  'payee_is_payer',
  'payee_not_found',
  'signature_invalid',
  'payment_expired',
  'sequence_replayed',
  'wallet_frozen',
  'wallet_closed',
  'frozen_by_central_bank',
  'bank_suspended',
  'payee_not_active',
  'payee_bank_suspended',
  'payment_request_not_found',
  'payment_request_not_open',
  'payment_request_expired',
  'payment_request_mismatch',
  'refund_original_not_found',
  'refund_parties_mismatch',
  'refund_exceeds_remaining',
  'per_payment_limit_exceeded',
  'daily_limit_exceeded',
  'holding_limit_exceeded',
  'insufficient_funds',
  'insufficient_reserves',
  'insufficient_float',
  'insufficient_deposit',
  'issuance_cap_exceeded',
  'sweep_target_invalid',
  'ledger_full',
] as const;

export type PlatformCode = (typeof platformCodes)[number];
export type ResultCode = TransferCode | ResolveCode | AccountCode | AssetCode | PlatformCode;

/** Every code, for documentation and for the exhaustive HTTP mapping test. */
export const allResultCodes: readonly ResultCode[] = [
  ...new Set<ResultCode>([...transferCodes, ...resolveCodes, ...accountCodes, ...assetCodes, ...platformCodes]),
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
  field_invalid: 'A field of the platform command is outside its range (a time, a status, a flag, a tier or a key digest of the wrong form).',
  api_key_in_use: 'The digest of this API key belongs to another participant.',
  platform_command_in_chain: 'Platform commands are atomic on their own and cannot be members of a linked chain.',
  name_invalid: 'The name must be 1 to 128 characters of well-formed Unicode.',
  bic_invalid: 'The BIC must be 8 or 11 characters: 6 letters, then 2 and optionally 3 more letters or digits (ISO 9362).',
  bic_in_use: 'Another bank is registered with this BIC.',
  participant_role_invalid: 'The role must be one of bank, merchant, government, auditor, regulator, and match the wallet given (merchants and government bodies act for a wallet of their kind).',
  participant_not_found: 'No participant has this id.',
  bank_not_found: 'No bank has this id.',
  tier_invalid: 'The tier must be 0, 1 or 2.',
  wallet_kind_invalid: 'The wallet kind must be individual, merchant or government.',
  public_key_invalid: 'The public key must be a valid 32-byte Ed25519 key (no small-order or non-canonical points), in base64url.',
  wallet_not_found: 'No wallet with this id is visible to the caller.',
  wallet_already_exists: 'A wallet with this id exists with different fields.',
  payee_is_payer: 'A wallet cannot pay itself.',
  payee_not_found: 'The payee wallet does not exist.',
  signature_invalid: 'The signature does not verify with the payer wallet\'s current public key over the canonical JSON of the payment (or there is no such payer wallet: anonymous callers are not told which wallets exist).',
  payment_expired: 'The payment\'s expiresAt has passed.',
  sequence_replayed: 'The sequence is not greater than the last sequence this wallet used: the payment is a replay or out of order.',
  wallet_frozen: 'The wallet is frozen.',
  wallet_closed: 'The wallet is closed.',
  frozen_by_central_bank: 'The central bank froze this wallet: only the operator may unfreeze it, and until then its bank may not close it or replace its key.',
  bank_suspended: 'The bank is suspended by the central bank.',
  payee_not_active: 'The payee wallet is frozen or closed.',
  payee_bank_suspended: 'The payee\'s bank is suspended by the central bank.',
  payment_request_not_found: 'No payment request has this id.',
  payment_request_not_open: 'The payment request was already paid.',
  payment_request_expired: 'The payment request expired.',
  payment_request_mismatch: 'The payment must go to the request\'s wallet with exactly its amount.',
  refund_original_not_found: 'The payment to refund does not exist, or is itself a refund.',
  refund_parties_mismatch: 'A refund goes from the original payee back to the original payer.',
  refund_exceeds_remaining: 'The refund exceeds what is left unrefunded of the original payment.',
  per_payment_limit_exceeded: 'The amount exceeds the per-payment limit of the payer\'s tier.',
  daily_limit_exceeded: 'The payment would take the payer over its tier\'s daily limit (UTC day).',
  holding_limit_exceeded: 'The wallet would hold more than its tier\'s holding limit.',
  insufficient_reserves: 'The bank\'s reserve account at the central bank holds less than the amount.',
  insufficient_float: 'The bank holds less digital tenge than the amount.',
  insufficient_deposit: 'The holder\'s bank account holds less than the amount.',
  issuance_cap_exceeded: 'The bank\'s net issuance would exceed the cap set by the central bank.',
  sweep_target_invalid: 'The balance of a closing wallet must go to another active wallet or to the holder\'s bank account.',
};
