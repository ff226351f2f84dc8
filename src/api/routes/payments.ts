/**
 * Payments signed by the payer's key. The signature is the authority, so `POST /v1/payments`
 * needs no bearer token: the server verifies Ed25519 over the RFC 8785 canonical JSON of the body
 * without its `signature` field, with the payer wallet's registered key, before the payment
 * reaches the sequencer; the sequencer then checks sequence, expiry, statuses and limits in the
 * same step that moves the money, and that the key has not changed since it was verified.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { decodeBase64url } from '../../crypto/base64url.ts';
import { signatureBytes } from '../../crypto/ed25519.ts';
import { CanonicalJsonError } from '../../crypto/canonical-json.ts';
import { signingBytes, verifyPayment } from '../../crypto/payment-signature.ts';
import type { Sequencer } from '../../engine/sequencer.ts';
import { referenceLengthMax } from '../../limits.ts';
import type { Platform } from '../../platform/platform.ts';
import type { Principal } from '../auth.ts';
import {
  OperationId,
  PaymentRequestView,
  PaymentView,
  PositiveAmount,
  Rfc3339Utc,
  WalletId,
  mayReadWallet,
  parseUtc,
  paymentJson,
  paymentRequestJson,
  problems,
  submitOne,
} from '../platform-views.ts';
import { sendProblem } from '../problem.ts';

export const PaymentBody = Type.Object(
  {
    id: OperationId,
    from: WalletId,
    to: WalletId,
    amount: PositiveAmount,
    sequence: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Strictly greater than the last sequence the payer used; gaps allowed' }),
    expiresAt: Type.Optional(Rfc3339Utc),
    reference: Type.Optional(Type.String({ maxLength: referenceLengthMax })),
    request: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,56}$', description: 'The payment request this payment pays' })),
    refundOf: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,56}$', description: 'The payment this one refunds (sent by its payee back to its payer)' })),
    signature: Type.String({ description: 'Ed25519 signature, base64url, over the RFC 8785 canonical JSON of this object without signature' }),
  },
  { additionalProperties: false },
);

export const paymentRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer; platform: Platform }> = async (app, { sequencer, platform }) => {
  function mayReadPayment(principal: Principal, from: string, to: string): boolean {
    if (principal.role === 'operator' || principal.role === 'auditor') return true;
    for (const id of [from, to]) {
      const wallet = platform.getWallet(id);
      if (wallet !== undefined && mayReadWallet(principal, wallet)) return true;
    }
    return false;
  }

  app.post(
    '/v1/payments',
    {
      config: { public: true },
      schema: {
        summary: 'Pay from a wallet, signed by its holder (no bearer token: the signature is the authority)',
        description:
          'A payment with `request` pays a payment request (to and amount must match it); one with `refundOf` refunds (part of) an earlier payment, from its payee back to its payer. The same payment sent again answers 200 with the original result and changes nothing.',
        tags: ['payments'],
        security: [],
        body: PaymentBody,
        response: { 200: PaymentView, 201: PaymentView, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      try {
        decodeBase64url(body.signature, signatureBytes);
      } catch {
        return sendProblem(reply, 'signature_malformed');
      }
      try {
        signingBytes(body);
      } catch (error) {
        if (error instanceof CanonicalJsonError) return sendProblem(reply, 'payment_invalid', { detail: error.message });
        throw error;
      }
      // An unknown payer gets the same answer as a wrong signature: this endpoint needs no
      // credentials, so it must not tell anyone which wallet ids exist.
      const wallet = platform.getWallet(body.from);
      if (wallet === undefined) return sendProblem(reply, 'signature_invalid');
      // An exact repeat of a committed payment is an idempotent retry (200) once it verifies with
      // the wallet's current key; after a key change, GET /v1/payments/{id} tells its fate.
      if (!verifyPayment(body, wallet.publicKey)) return sendProblem(reply, 'signature_invalid');
      let expiresAt = 0;
      if (body.expiresAt !== undefined) {
        const parsed = parseUtc(body.expiresAt);
        if (parsed === null) return sendProblem(reply, 'validation_failed', { errors: [{ path: 'body/expiresAt', message: 'not a real instant' }] });
        expiresAt = parsed;
      }
      const result = await submitOne(sequencer, reply, {
        kind: 'x.pay',
        id: body.id,
        from: body.from,
        to: body.to,
        amount: BigInt(body.amount),
        sequence: body.sequence,
        expiresAt,
        reference: body.reference ?? '',
        request: body.request ?? '',
        refundOf: body.refundOf ?? '',
        keyVersion: wallet.keyVersion,
      });
      if (result === null) return reply;
      return reply.code(result.existed ? 200 : 201).send(paymentJson(platform.getPayment(body.id)!));
    },
  );

  app.get(
    '/v1/payments/:id',
    {
      config: { roles: ['operator', 'auditor', 'bank', 'merchant', 'government'] },
      schema: {
        summary: 'A payment (for the banks and merchants of its wallets, the operator and the auditor)',
        tags: ['payments'],
        params: Type.Object({ id: OperationId }),
        response: { 200: PaymentView, ...problems },
      },
    },
    async (request, reply) => {
      const payment = platform.getPayment(request.params.id);
      if (payment === undefined || !mayReadPayment(request.principal!, payment.from, payment.to)) return sendProblem(reply, 'payment_not_found');
      return paymentJson(payment);
    },
  );

  app.post(
    '/v1/payment-requests',
    {
      config: { roles: ['merchant', 'government', 'bank'] },
      schema: {
        summary: 'Ask to be paid: a merchant (or its bank) creates a request that a wallet pays with request: <id>',
        description: 'A merchant or government body requests payment into its own wallet; a bank names one of its wallets. The id is random unless given.',
        tags: ['payments'],
        body: Type.Object(
          {
            amount: PositiveAmount,
            id: Type.Optional(OperationId),
            wallet: Type.Optional(WalletId),
            reference: Type.Optional(Type.String({ maxLength: referenceLengthMax })),
            expiresAt: Type.Optional(Rfc3339Utc),
          },
          { additionalProperties: false },
        ),
        response: { 200: PaymentRequestView, 201: PaymentRequestView, ...problems },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const body = request.body;
      const walletId = principal.role === 'bank' ? body.wallet : principal.wallet;
      const wallet = walletId === undefined || walletId === null ? undefined : platform.getWallet(walletId);
      if (wallet === undefined || (principal.role === 'bank' ? wallet.bank !== principal.id : body.wallet !== undefined && body.wallet !== wallet.id)) {
        return sendProblem(reply, 'wallet_not_found');
      }
      let expiresAt = 0;
      if (body.expiresAt !== undefined) {
        const parsed = parseUtc(body.expiresAt);
        if (parsed === null) return sendProblem(reply, 'validation_failed', { errors: [{ path: 'body/expiresAt', message: 'not a real instant' }] });
        expiresAt = parsed;
      }
      const id = body.id ?? `pr_${crypto.randomUUID().replaceAll('-', '')}`;
      const result = await submitOne(sequencer, reply, { kind: 'x.create_payment_request', id, wallet: wallet.id, amount: BigInt(body.amount), reference: body.reference ?? '', expiresAt });
      if (result === null) return reply;
      return reply.code(result.existed ? 200 : 201).send(paymentRequestJson(platform.getPaymentRequest(id)!));
    },
  );

  app.get(
    '/v1/payment-requests/:id',
    {
      config: { roles: ['operator', 'auditor', 'bank', 'merchant', 'government'] },
      schema: { summary: 'A payment request and whether it was paid', tags: ['payments'], params: Type.Object({ id: OperationId }), response: { 200: PaymentRequestView, ...problems } },
    },
    async (request, reply) => {
      const found = platform.getPaymentRequest(request.params.id);
      const wallet = found === undefined ? undefined : platform.getWallet(found.wallet);
      if (found === undefined || wallet === undefined || !mayReadWallet(request.principal!, wallet)) return sendProblem(reply, 'payment_request_not_found');
      return paymentRequestJson(found);
    },
  );
};
