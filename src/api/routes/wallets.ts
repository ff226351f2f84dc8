/**
 * Wallets, as their banks manage them: opening with the holder's Ed25519 key, a kind and a KYC
 * tier; freezing, closing, key rotation and recovery, tier and conversion changes; moving money
 * between the wallet and the holder's account at the bank. Wallet ids are pseudonymous: nothing
 * here carries a name, phone or national id (docs/DATA-MAP.md).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sequencer } from '../../engine/sequencer.ts';
import { walletAccount } from '../../platform/accounts.ts';
import type { Platform } from '../../platform/platform.ts';
import type { PlatformCommand, Wallet } from '../../platform/types.ts';
import type { Principal } from '../auth.ts';
import { parsePage, sendPageProblem, transferPage } from '../pagination.ts';
import { OperationId, PositiveAmount, noBodyMeansEmpty, WalletId, WalletView, mayManageWallet, mayReadWallet, problems, submitOne, walletJson } from '../platform-views.ts';
import { sendProblem } from '../problem.ts';
import { PageQuery, TransferPage } from '../schemas.ts';

const IdParams = Type.Object({ id: WalletId });
const PublicKey = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'Raw 32-byte Ed25519 public key, base64url without padding' });
const base32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A random wallet id: `w_` and 16 base32 characters (80 bits), unlinkable to the holder. */
export function newWalletId(): string {
  const bytes = randomBytes(16);
  let id = 'w_';
  for (let i = 0; i < 16; i++) id += base32[bytes[i]! & 31];
  return id;
}

export const walletRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer; platform: Platform }> = async (app, { sequencer, platform }) => {
  /** The wallet if the caller may manage it; otherwise a 404 that does not reveal whether it exists. */
  function managed(principal: Principal, id: string): Wallet | undefined {
    const wallet = platform.getWallet(id);
    return wallet !== undefined && mayManageWallet(principal, wallet) ? wallet : undefined;
  }

  app.post(
    '/v1/wallets',
    {
      config: { roles: ['bank'] },
      schema: {
        summary: "Open a wallet for a customer with the customer's public key (bank)",
        description: 'The id is random unless given (give one to make a retry safe). The bank keeps the KYC data; the platform keeps only the key, kind and tier.',
        tags: ['wallets'],
        body: Type.Object(
          {
            publicKey: PublicKey,
            kind: Type.Union([Type.Literal('individual'), Type.Literal('merchant'), Type.Literal('government')]),
            tier: Type.Integer({ minimum: 0, maximum: 2, description: '0 anonymous, 1 simplified KYC, 2 full KYC' }),
            id: Type.Optional(WalletId),
            convertIncoming: Type.Optional(Type.Boolean({ description: 'Send every incoming payment on to the holder\'s bank account (merchants). Default false.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: WalletView, 201: WalletView, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const id = body.id ?? newWalletId();
      const bank = request.principal!.id;
      const existing = platform.getWallet(id);
      if (existing !== undefined && existing.bank !== bank) return sendProblem(reply, 'wallet_already_exists');
      const result = await submitOne(sequencer, reply, {
        kind: 'x.open_wallet',
        id,
        bank,
        publicKey: body.publicKey,
        walletKind: body.kind,
        tier: body.tier,
        convertIncoming: body.convertIncoming ?? false,
      });
      if (result === null) return reply;
      return reply.code(result.existed ? 200 : 201).send(walletJson(platform.getWallet(id)!, platform, sequencer));
    },
  );

  app.get(
    '/v1/wallets',
    {
      config: { roles: ['operator', 'auditor', 'bank'] },
      schema: {
        summary: 'List wallets in opening order (a bank sees its own)',
        tags: ['wallets'],
        querystring: PageQuery,
        response: { 200: Type.Object({ wallets: Type.Array(WalletView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problems },
      },
    },
    async (request, reply) => {
      const page = parsePage(request.query);
      if (typeof page === 'string') return sendPageProblem(reply, page);
      const principal = request.principal!;
      const { items, next } = platform.listWallets(principal.role === 'bank' ? principal.id : null, page.cursor ?? 0, page.limit);
      return { wallets: items.map((w) => walletJson(w, platform, sequencer)), nextCursor: next === null ? null : String(next) };
    },
  );

  app.get(
    '/v1/wallets/:id',
    {
      config: { roles: ['operator', 'auditor', 'bank', 'merchant', 'government'] },
      schema: { summary: 'A wallet: status, balance, limits and what was spent today', tags: ['wallets'], params: IdParams, response: { 200: WalletView, ...problems } },
    },
    async (request, reply) => {
      const wallet = platform.getWallet(request.params.id);
      if (wallet === undefined || !mayReadWallet(request.principal!, wallet)) return sendProblem(reply, 'wallet_not_found');
      return walletJson(wallet, platform, sequencer);
    },
  );

  app.get(
    '/v1/wallets/:id/history',
    {
      config: { roles: ['operator', 'auditor', 'bank', 'merchant', 'government'] },
      schema: {
        summary: "The wallet's transfers, newest first",
        description: 'Payment transfers have ids pay:<paymentId> (and pay:<paymentId>:x for a part sent on to the payee\'s bank account); funding fund:<id>, defunding def:<id>.',
        tags: ['wallets'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: TransferPage, ...problems },
      },
    },
    async (request, reply) => {
      const wallet = platform.getWallet(request.params.id);
      if (wallet === undefined || !mayReadWallet(request.principal!, wallet)) return sendProblem(reply, 'wallet_not_found');
      const page = parsePage(request.query);
      if (typeof page === 'string') return sendPageProblem(reply, page);
      const transfers = sequencer.ledger.listAccountTransfers(walletAccount(wallet.id), page.cursor, page.limit + 1)!;
      return transferPage(transfers, page.limit);
    },
  );

  /** A wallet-management endpoint: the bank that holds the wallet sends one command. */
  function manage<B>(
    path: string,
    summary: string,
    body: ReturnType<typeof Type.Object>,
    toCommand: (wallet: Wallet, body: B, principal: Principal) => PlatformCommand,
    options: { description?: string; allowOperator?: boolean } = {},
  ): void {
    app.post(
      `/v1/wallets/:id/${path}`,
      {
        config: { roles: options.allowOperator === true ? ['bank', 'operator'] : ['bank'] },
        schema: { summary, ...(options.description === undefined ? {} : { description: options.description }), tags: ['wallets'], params: IdParams, body, response: { 200: WalletView, ...problems } },
        // Endpoints whose fields are all optional may be called without a body.
        preValidation: noBodyMeansEmpty,
      },
      async (request, reply) => {
        const principal = request.principal!;
        const wallet = principal.role === 'operator' ? platform.getWallet(request.params.id) : managed(principal, request.params.id);
        if (wallet === undefined) return sendProblem(reply, 'wallet_not_found');
        const result = await submitOne(sequencer, reply, toCommand(wallet, (request.body ?? {}) as B, principal));
        if (result === null) return reply;
        // A repeat (the same operation id, or a state the wallet is already in) changed nothing.
        if (result.existed) reply.header('idempotent-replayed', 'true');
        return walletJson(platform.getWallet(wallet.id)!, platform, sequencer);
      },
    );
  }

  const Reason = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 128, description: 'Why (kept in the audit trail; no personal data)' })) }, { additionalProperties: false });

  manage<{ reason?: string }>('freeze', 'Freeze a wallet: it can neither pay nor be paid (its bank; the operator may also freeze)', Reason, (w, b, p) => ({ kind: 'x.set_wallet_status', id: w.id, status: 'frozen', reason: b.reason ?? '', actor: p.id }), { allowOperator: true });
  manage<{ reason?: string }>('unfreeze', 'Unfreeze a wallet', Reason, (w, b, p) => ({ kind: 'x.set_wallet_status', id: w.id, status: 'active', reason: b.reason ?? '', actor: p.id }), { allowOperator: true });
  manage<{ sweepTo?: string }>(
    'close',
    "Close a wallet; its balance goes to the holder's bank account, or to another wallet (sweepTo)",
    Type.Object({ sweepTo: Type.Optional(WalletId) }, { additionalProperties: false }),
    (w, b) => ({ kind: 'x.close_wallet', id: w.id, sweepTo: b.sweepTo ?? '' }),
  );
  manage<{ publicKey: string; reason?: 'rotation' | 'recovery' }>(
    'key',
    "Replace the wallet's public key: rotation by the holder's request, or recovery after a lost device (bank)",
    Type.Object({ publicKey: PublicKey, reason: Type.Optional(Type.Union([Type.Literal('rotation'), Type.Literal('recovery')])) }, { additionalProperties: false }),
    (w, b) => ({ kind: 'x.set_wallet_key', id: w.id, publicKey: b.publicKey, reason: b.reason ?? 'rotation' }),
    { description: 'Payments signed with the old key are refused from then on (signature_invalid), including ones already in flight.' },
  );
  manage<{ tier: number }>('tier', "Change the wallet's KYC tier (bank)", Type.Object({ tier: Type.Integer({ minimum: 0, maximum: 2 }) }, { additionalProperties: false }), (w, b) => ({
    kind: 'x.set_wallet_tier',
    id: w.id,
    tier: b.tier,
  }));
  manage<{ convertIncoming: boolean }>(
    'conversion',
    "Choose whether every incoming payment goes on to the holder's bank account (merchant conversion)",
    Type.Object({ convertIncoming: Type.Boolean() }, { additionalProperties: false }),
    (w, b) => ({ kind: 'x.set_wallet_conversion', id: w.id, convertIncoming: b.convertIncoming }),
  );

  const AmountBody = Type.Object({ amount: PositiveAmount, id: Type.Optional(OperationId) }, { additionalProperties: false });
  for (const [path, kind, summary] of [
    ['fund', 'x.fund', "Move money from the holder's bank account into the wallet (the bank pays out of its digital tenge float)"],
    ['defund', 'x.defund', "Move money from the wallet to the holder's bank account"],
    ['bank-account/credit', 'x.credit_account', "Mirror money arriving on the holder's bank account (a cash deposit or a transfer at the bank)"],
    ['bank-account/debit', 'x.debit_account', "Mirror money leaving the holder's bank account other than into the wallet"],
  ] as const) {
    manage<{ amount: string; id?: string }>(
      path,
      summary,
      AmountBody,
      (w, b) => ({ kind, id: b.id ?? `op-${crypto.randomUUID()}`, wallet: w.id, amount: BigInt(b.amount) }),
      { description: 'Give an id to make a retry safe: the same id with the same fields is applied once.' },
    );
  }
};
