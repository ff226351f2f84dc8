/**
 * RFC 9457 problem details. One table maps every result code of the ledger core and every
 * API-level error code to an HTTP status and a title (STYLE 10). The `type` of a problem is the
 * URN `urn:tengri:problem:<code>`, and `code` repeats the code for clients that switch on it.
 */
import type { FastifyReply } from 'fastify';
import type { ResultCode } from '../ledger/result-codes.ts';
import { resultCodeDescriptions } from '../ledger/result-codes.ts';

export const apiErrorCodes = {
  unauthorized: { status: 401, title: 'Missing or wrong credentials', detail: 'Send Authorization: Bearer <token>.' },
  forbidden: { status: 403, title: 'Not allowed for this role', detail: 'The credentials are valid but their role may not call this endpoint.' },
  malformed_request: { status: 400, title: 'Malformed HTTP request', detail: 'The request could not be parsed as HTTP/1.1.' },
  malformed_json: { status: 400, title: 'Malformed JSON', detail: 'The request body is not valid JSON.' },
  validation_failed: { status: 400, title: 'Request does not match its schema', detail: 'See errors for each offending field.' },
  batch_too_large: { status: 400, title: 'Batch too large', detail: 'A batch holds at most 8190 items.' },
  body_too_large: { status: 413, title: 'Body too large', detail: 'The request body exceeds the 9 MiB limit.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', detail: 'Send Content-Type: application/json.' },
  route_not_found: { status: 404, title: 'No such endpoint', detail: 'No endpoint has this method and path; see /openapi.json.' },
  participant_suspended: { status: 403, title: 'Participant suspended', detail: 'The credentials belong to a participant the central bank has suspended, or to a merchant or government body whose bank is suspended.' },
  json_duplicate_key: { status: 400, title: 'Duplicate JSON key', detail: 'An object in the body has the same key twice; RFC 8785 and this API refuse that.' },
  id_reserved: { status: 400, title: 'Id reserved for the platform', detail: 'Ids of accounts and transfers starting with w:, dep:, bank:, cb:reserves, res:, iss:, red:, fund:, def:, cr:, dr:, pay: or close: belong to platform commands; use the platform endpoints.' },
  account_managed_by_platform: { status: 409, title: 'Account managed by the platform', detail: 'Wallets, bank accounts and reserves change only through the platform endpoints (wallets, payments, issuance), which keep their records in step.' },
  signature_malformed: { status: 400, title: 'Signature malformed', detail: 'The signature must be the 64-byte Ed25519 signature in base64url without padding (86 characters).' },
  too_many_streams: { status: 429, title: 'Too many event streams', detail: 'Each caller may hold at most 8 event streams open at once; close one first.' },
  webhook_not_found: { status: 404, title: 'No webhook', detail: 'This bank has no webhook registered; PUT /v1/webhook registers one.' },
  payment_not_found: { status: 404, title: 'Payment not found', detail: 'No payment with this id is visible to the caller.' },
  payment_invalid: { status: 400, title: 'Payment cannot be signed', detail: 'The payment holds a value RFC 8785 canonical JSON cannot represent exactly, so no signature can cover it.' },
  webhook_url_invalid: { status: 400, title: 'Webhook URL invalid', detail: 'The webhook URL must be an absolute http or https URL without credentials.' },
  transfer_not_found: { status: 404, title: 'Transfer not found', detail: 'No transfer has this id.' },
  cursor_invalid: { status: 400, title: 'Invalid cursor', detail: 'Pass back the nextCursor of a previous page unchanged.' },
  engine_overloaded: { status: 503, title: 'Overloaded', detail: 'The sequencer queue is full; retry after the given number of seconds.' },
  not_leader: { status: 503, title: 'Not the leader', detail: 'This process is a replica and cannot pass the request on to the leader (not known yet, or the request was already forwarded once); retry, or send it to the leader named in the body (leader) and the Location header.' },
  leader_unreachable: { status: 503, title: 'Leader unreachable', detail: 'This replica could not get an answer from the leader. A write may or may not have been applied: retry it with the same id (every write is idempotent by its id).' },
  engine_unavailable: { status: 503, title: 'Unavailable', detail: 'The sequencer is not accepting requests.' },
  internal_error: { status: 500, title: 'Internal error', detail: 'Quote the requestId when reporting this.' },
} as const;

export type ApiErrorCode = keyof typeof apiErrorCodes;
export type ProblemCode = ApiErrorCode | ResultCode;

const resultStatus: Readonly<Record<ResultCode, number>> = {
  linked_event_failed: 422,
  linked_event_chain_open: 422,
  id_invalid: 400,
  timeout_reserved_for_pending_transfer: 422,
  accounts_must_be_different: 422,
  amount_must_be_positive: 422,
  amount_exceeds_maximum: 422,
  code_invalid: 422,
  reference_too_long: 422,
  reference_invalid: 422,
  timeout_invalid: 422,
  exists_with_different_fields: 409,
  ledger_full: 507,
  debit_account_not_found: 422,
  credit_account_not_found: 422,
  accounts_must_have_the_same_asset: 422,
  debit_account_not_active: 422,
  credit_account_not_active: 422,
  overflows_pending: 422,
  overflows_balance: 422,
  insufficient_funds: 422,
  limit_exceeded: 422,
  pending_transfer_not_found: 404,
  pending_transfer_not_pending: 409,
  pending_transfer_already_posted: 409,
  pending_transfer_already_voided: 409,
  pending_transfer_expired: 409,
  amount_exceeds_pending_amount: 422,
  asset_not_found: 422,
  max_balance_invalid: 422,
  account_not_found: 404,
  status_invalid: 400,
  account_closed: 409,
  asset_code_invalid: 400,
  scale_invalid: 400,
  platform_command_in_chain: 400,
  field_invalid: 400,
  api_key_in_use: 409,
  name_invalid: 400,
  bic_invalid: 400,
  bic_in_use: 409,
  participant_role_invalid: 400,
  participant_not_found: 404,
  bank_not_found: 404,
  tier_invalid: 400,
  wallet_kind_invalid: 400,
  public_key_invalid: 400,
  wallet_not_found: 404,
  wallet_already_exists: 409,
  payee_is_payer: 422,
  payee_not_found: 422,
  signature_invalid: 403,
  payment_expired: 422,
  sequence_replayed: 409,
  wallet_frozen: 409,
  wallet_closed: 409,
  frozen_by_central_bank: 409,
  bank_suspended: 409,
  payee_not_active: 422,
  payee_bank_suspended: 422,
  payment_request_not_found: 404,
  payment_request_not_open: 409,
  payment_request_expired: 422,
  payment_request_mismatch: 422,
  refund_original_not_found: 422,
  refund_parties_mismatch: 422,
  refund_exceeds_remaining: 422,
  per_payment_limit_exceeded: 422,
  daily_limit_exceeded: 422,
  holding_limit_exceeded: 422,
  insufficient_reserves: 422,
  insufficient_float: 422,
  insufficient_deposit: 422,
  issuance_cap_exceeded: 422,
  sweep_target_invalid: 422,
};

export function problemStatus(code: ProblemCode): number {
  return code in apiErrorCodes ? apiErrorCodes[code as ApiErrorCode].status : resultStatus[code as ResultCode];
}

export function problemTitle(code: ProblemCode): string {
  return code in apiErrorCodes ? apiErrorCodes[code as ApiErrorCode].title : code.replaceAll('_', ' ');
}

export function problemDetail(code: ProblemCode): string {
  return code in apiErrorCodes ? apiErrorCodes[code as ApiErrorCode].detail : resultCodeDescriptions[code as ResultCode];
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
  requestId?: string;
  errors?: { path: string; message: string }[];
}

export function problem(code: ProblemCode, extra: Partial<ProblemBody> = {}): ProblemBody {
  return {
    type: `urn:tengri:problem:${code}`,
    title: problemTitle(code),
    status: problemStatus(code),
    detail: problemDetail(code),
    code,
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, code: ProblemCode, extra: Partial<ProblemBody> = {}): FastifyReply {
  const body = problem(code, { instance: reply.request.url.split('?')[0], requestId: String(reply.request.id), ...extra });
  return reply.code(body.status).type('application/problem+json; charset=utf-8').send(body);
}
