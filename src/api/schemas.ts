/**
 * TypeBox schemas of the HTTP API: request bodies are validated against them (unknown fields are
 * refused, nothing is coerced) and responses are serialised through them, so no field leaves the
 * server unless it is declared here. The OpenAPI document is generated from these.
 */
import { Type, type Static } from 'typebox';
import { idPatternSource, assetCodePatternSource } from '../ledger/identifiers.ts';
import { allResultCodes } from '../ledger/result-codes.ts';
import { pageLimitMax, referenceLengthMax, requestTransfersMax, timeoutSecondsMax, transferCodeMax } from '../limits.ts';
import { apiErrorCodes } from './problem.ts';

export const Id = Type.String({ pattern: idPatternSource, description: '1-64 characters of A-Z a-z 0-9 . _ : -', examples: ['alice:wallet'] });
export const AssetCode = Type.String({ pattern: assetCodePatternSource, description: 'Upper-case asset code', examples: ['KZT'] });

/** Syntax only; zero, negative and out-of-range values get their own result codes from the core. */
export const AmountInput = Type.String({
  pattern: '^-?[0-9]{1,40}$',
  description: 'Integer number of minor units as a string of digits (1 KZT = 100 tiyn).',
  examples: ['12500'],
});
export const Amount = Type.String({ description: 'Integer number of minor units, as a string', examples: ['12500'] });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ enum: [...Object.keys(apiErrorCodes), ...allResultCodes] }),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    leader: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'not_leader: the leader to send the request to (null while not known)' })),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details with a stable code' },
);

export const AssetBody = Type.Object(
  { code: AssetCode, scale: Type.Integer({ minimum: 0, maximum: 18, description: 'Decimal places of one unit' }) },
  { additionalProperties: false },
);
export const AssetView = Type.Object({ code: Type.String(), scale: Type.Integer() });

export const AccountBody = Type.Object(
  {
    id: Id,
    asset: AssetCode,
    allowNegative: Type.Optional(Type.Boolean({ description: 'May the balance go below zero (issuance accounts)? Default false.' })),
    maxBalance: Type.Optional(AmountInput),
  },
  { additionalProperties: false },
);
export const AccountView = Type.Object({
  id: Type.String(),
  asset: Type.String(),
  balance: Amount,
  pendingDebits: Amount,
  pendingCredits: Amount,
  available: Type.String({ description: 'balance minus pending debits' }),
  allowNegative: Type.Boolean(),
  maxBalance: Type.Union([Amount, Type.Null()]),
  status: Type.String({ enum: ['active', 'frozen', 'closed'] }),
  createdAt: Type.String({ format: 'date-time' }),
});

const transferFields = {
  id: Id,
  debit: Id,
  credit: Id,
  amount: AmountInput,
  pending: Type.Optional(Type.Boolean({ description: 'Reserve now, post or void later' })),
  timeoutSeconds: Type.Optional(
    Type.Integer({ minimum: 0, maximum: timeoutSecondsMax, description: 'Pending only: void automatically after this many seconds; 0 or absent means never' }),
  ),
  code: Type.Optional(Type.Integer({ minimum: 0, maximum: transferCodeMax, description: 'Purpose code chosen by the caller' })),
  // The pattern refuses lone UTF-16 surrogates, which UTF-8 cannot store: the journal would keep
  // U+FFFD and the acknowledged record would differ from the durable one.
  reference: Type.Optional(
    Type.String({ maxLength: referenceLengthMax, pattern: '^[^\\uD800-\\uDFFF]*$', description: 'Free text, at most 128 characters; must not hold personal data' }),
  ),
};
export const TransferBody = Type.Object(transferFields, { additionalProperties: false });
export const BatchItem = Type.Object(
  { ...transferFields, linked: Type.Optional(Type.Boolean({ description: 'Chain this item with the next one: all or none' })) },
  { additionalProperties: false },
);
export const BatchBody = Type.Object(
  { transfers: Type.Array(BatchItem, { minItems: 1, maxItems: requestTransfersMax }) },
  { additionalProperties: false },
);
export const BatchResult = Type.Object({
  id: Type.String(),
  status: Type.String({ enum: ['created', 'exists', 'rejected'] }),
  code: Type.Optional(Type.String({ description: 'Present only when the item was rejected' })),
});
export const BatchResponse = Type.Object({ results: Type.Array(BatchResult) });

export const TransferView = Type.Object({
  id: Type.String(),
  debit: Type.String(),
  credit: Type.String(),
  asset: Type.String(),
  amount: Amount,
  pending: Type.Boolean(),
  status: Type.String({ enum: ['posted', 'pending', 'voided', 'expired'] }),
  postedAmount: Type.Union([Amount, Type.Null()]),
  timeoutSeconds: Type.Integer(),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  resolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  code: Type.Integer(),
  reference: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  sequence: Type.Integer({ description: 'Position among all transfers of the ledger' }),
});
export const TransferPage = Type.Object({
  transfers: Type.Array(TransferView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor to get the next (older) page; null at the end' }),
});
export const EmptyBody = Type.Object({}, { additionalProperties: false });
export const AccountPage = Type.Object({
  accounts: Type.Array(AccountView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor to get the next page; null at the end' }),
});
export const PostBody = Type.Object({ amount: Type.Optional(AmountInput) }, { additionalProperties: false });

export const IdParams = Type.Object({ id: Id });
export const CodeParams = Type.Object({ code: AssetCode });
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `1 to ${pageLimitMax}, default 50` })),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })),
  },
  { additionalProperties: false },
);

export const SupplyView = Type.Object({
  invariantsHold: Type.Boolean(),
  violations: Type.Array(Type.String()),
  journal: Type.Object({ sequence: Type.Integer(), hash: Type.String() }),
  assets: Type.Array(
    Type.Object({
      asset: Type.String(),
      scale: Type.Integer(),
      inCirculation: Amount,
      pending: Amount,
      accounts: Type.Integer(),
      balancesSumToZero: Type.Boolean(),
      invariantsHold: Type.Boolean(),
      issuanceAccounts: Type.Array(Type.Object({ id: Type.String(), balance: Amount }), {
        description: 'Accounts that may go negative (they create the asset), with balances; at most 20 listed',
      }),
      issuanceAccountCount: Type.Integer(),
    }),
  ),
});

export const HealthView = Type.Object({
  status: Type.String({ enum: ['ok'] }),
  role: Type.String({ enum: ['leader', 'replica'], description: 'leader: this process writes its ledger; replica: it serves reads from its copy and forwards writes to the leader' }),
  version: Type.String(),
  store: Type.String(),
  journalSequence: Type.Integer({ description: 'The last journal batch this process has applied' }),
  leader: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'On a replica: the leader it forwards writes to (null while not known)' })),
});

export type TransferBodyType = Static<typeof TransferBody>;
export type BatchItemType = Static<typeof BatchItem>;
