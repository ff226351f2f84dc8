/**
 * The central bank's side of the two tiers: onboarding banks and other participants, their
 * credentials and status, reserves (the mirror of each bank's RTGS balance), issuance caps, KYC
 * tiers; and the bank's side of issuance and redemption.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sequencer } from '../../engine/sequencer.ts';
import { bicPattern } from '../../platform/accounts.ts';
import type { Platform } from '../../platform/platform.ts';
import { newApiKey } from '../auth.ts';
import type { Role } from '../auth.ts';
import { parsePage, sendPageProblem } from '../pagination.ts';
import {
  BankView,
  NoBody,
  noBodyMeansEmpty,
  OperationId,
  ParticipantId,
  ParticipantView,
  PositiveAmount,
  TierView,
  WalletId,
  bankJson,
  participantJson,
  problems,
  submitOne,
  tierJson,
} from '../platform-views.ts';
import { sendProblem } from '../problem.ts';
import { PageQuery } from '../schemas.ts';

const IdParams = Type.Object({ id: ParticipantId });
const AmountBody = Type.Object(
  { amount: PositiveAmount, id: Type.Optional(OperationId) },
  { additionalProperties: false, description: 'id is optional; give one so that a retry after a lost response is not applied twice' },
);
const KeyResponse = Type.Object({ id: Type.String(), apiKey: Type.String({ description: 'Shown once; the platform keeps only its SHA-256' }) });
const OperationResponse = Type.Object({ id: Type.String(), bank: Type.String(), amount: Type.String(), reserves: Type.String(), cbdcFloat: Type.String(), issued: Type.String() });

function operationId(given: string | undefined): string {
  return given ?? `op-${crypto.randomUUID()}`;
}

export const bankRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer; platform: Platform }> = async (app, { sequencer, platform }) => {
  const readers: Role[] = ['operator', 'auditor', 'regulator'];

  app.post(
    '/v1/banks',
    {
      schema: {
        summary: 'Onboard an intermediary bank (operator); returns its API key once',
        tags: ['participants'],
        body: Type.Object(
          { id: ParticipantId, name: Type.String({ minLength: 1, maxLength: 128 }), bic: Type.String({ pattern: bicPattern, description: 'ISO 9362 BIC, 8 or 11 characters', examples: ['HSBKKZKX'] }) },
          { additionalProperties: false },
        ),
        response: { 201: KeyResponse, ...problems },
      },
    },
    async (request, reply) => {
      const { apiKey, keyHash } = newApiKey();
      const body = request.body;
      const result = await submitOne(sequencer, reply, { kind: 'x.register_participant', id: body.id, role: 'bank', name: body.name, bic: body.bic, wallet: '', keyHash });
      if (result === null) return reply;
      // A repeated onboarding cannot show the first key again: it is not stored.
      return reply.code(201).send({ id: body.id, apiKey });
    },
  );

  app.get(
    '/v1/banks',
    { config: { roles: readers }, schema: { summary: 'List banks', tags: ['participants'], response: { 200: Type.Object({ banks: Type.Array(BankView) }), ...problems } } },
    async () => ({ banks: platform.listBanks().map((b) => bankJson(b, sequencer)) }),
  );

  app.get(
    '/v1/banks/:id',
    {
      config: { roles: [...readers, 'bank'] },
      schema: { summary: 'A bank, its reserves, digital tenge float and net issuance', tags: ['participants'], params: IdParams, response: { 200: BankView, ...problems } },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const bank = platform.getBank(request.params.id);
      if (bank === undefined || (principal.role === 'bank' && principal.id !== bank.id)) return sendProblem(reply, 'bank_not_found');
      return bankJson(bank, sequencer);
    },
  );

  app.post(
    '/v1/banks/:id/reserves',
    {
      schema: {
        summary: "Top up a bank's reserve account (operator): the mirror of money arriving on its RTGS account",
        tags: ['issuance'],
        params: IdParams,
        body: AmountBody,
        response: { 200: OperationResponse, 201: OperationResponse, ...problems },
      },
    },
    async (request, reply) => {
      const id = operationId(request.body.id);
      const result = await submitOne(sequencer, reply, { kind: 'x.top_up_reserves', id, bank: request.params.id, amount: BigInt(request.body.amount) });
      if (result === null) return reply;
      const bank = bankJson(platform.getBank(request.params.id)!, sequencer);
      return reply.code(result.existed ? 200 : 201).send({ id, bank: bank.id, amount: BigInt(request.body.amount).toString(), reserves: bank.reserves, cbdcFloat: bank.cbdcFloat, issued: bank.issued });
    },
  );

  app.put(
    '/v1/banks/:id/issuance-cap',
    {
      schema: {
        summary: "Cap a bank's net issuance (operator); null removes the cap",
        tags: ['issuance'],
        params: IdParams,
        body: Type.Object({ cap: Type.Union([PositiveAmount, Type.Null()]) }, { additionalProperties: false }),
        response: { 200: BankView, ...problems },
      },
    },
    async (request, reply) => {
      const cap = request.body.cap === null ? -1n : BigInt(request.body.cap);
      const result = await submitOne(sequencer, reply, { kind: 'x.set_issuance_cap', bank: request.params.id, cap });
      if (result === null) return reply;
      return bankJson(platform.getBank(request.params.id)!, sequencer);
    },
  );

  for (const [action, status] of [
    ['suspend', 'suspended'],
    ['reinstate', 'active'],
  ] as const) {
    for (const kind of ['banks', 'participants'] as const) {
      app.post(
        `/v1/${kind}/:id/${action}`,
        {
          schema: {
            summary: `${action === 'suspend' ? 'Suspend' : 'Reinstate'} a ${kind === 'banks' ? 'bank' : 'participant'} (operator)`,
            description: 'A suspended participant\'s API key is refused; a suspended bank cannot issue, redeem, fund or open wallets, and its wallets can neither pay nor be paid.',
            tags: ['participants'],
            params: IdParams,
            body: NoBody,
            response: { 200: ParticipantView, ...problems },
          },
          preValidation: noBodyMeansEmpty,
        },
        async (request, reply) => {
          const participant = platform.getParticipant(request.params.id);
          if (participant === undefined || (kind === 'banks' && participant.role !== 'bank')) {
            return sendProblem(reply, kind === 'banks' ? 'bank_not_found' : 'participant_not_found');
          }
          const result = await submitOne(sequencer, reply, { kind: 'x.set_participant_status', id: request.params.id, status });
          if (result === null) return reply;
          return participantJson(platform.getParticipant(request.params.id)!);
        },
      );
    }
  }

  app.post(
    '/v1/participants',
    {
      config: { roles: ['operator', 'bank'] },
      schema: {
        summary: 'Register a merchant, government body, auditor or regulator; returns its API key once',
        description:
          'The operator registers any of these roles; a bank registers merchants and government bodies for wallets it holds. Merchants and government bodies act for one wallet of their kind (`wallet`); auditors and regulators have none. Banks are onboarded with POST /v1/banks.',
        tags: ['participants'],
        body: Type.Object(
          {
            id: ParticipantId,
            role: Type.Union([Type.Literal('merchant'), Type.Literal('government'), Type.Literal('auditor'), Type.Literal('regulator')]),
            name: Type.String({ minLength: 1, maxLength: 128 }),
            wallet: Type.Optional(WalletId),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), role: Type.String(), apiKey: Type.String() }), ...problems },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const body = request.body;
      if (principal.role === 'bank') {
        if (body.role !== 'merchant' && body.role !== 'government') return sendProblem(reply, 'forbidden');
        const wallet = body.wallet === undefined ? undefined : platform.getWallet(body.wallet);
        if (wallet === undefined || wallet.bank !== principal.id) return sendProblem(reply, 'wallet_not_found');
      }
      const { apiKey, keyHash } = newApiKey();
      const result = await submitOne(sequencer, reply, { kind: 'x.register_participant', id: body.id, role: body.role, name: body.name, bic: '', wallet: body.wallet ?? '', keyHash });
      if (result === null) return reply;
      return reply.code(201).send({ id: body.id, role: body.role, apiKey });
    },
  );

  app.get(
    '/v1/participants',
    {
      config: { roles: ['operator', 'auditor', 'bank'] },
      schema: {
        summary: 'List participants (a bank sees itself and the merchants and bodies of its wallets)',
        tags: ['participants'],
        querystring: PageQuery,
        response: { 200: Type.Object({ participants: Type.Array(ParticipantView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...problems },
      },
    },
    async (request, reply) => {
      const page = parsePage(request.query);
      if (typeof page === 'string') return sendPageProblem(reply, page);
      const principal = request.principal!;
      const { items, next } = platform.listParticipants(page.cursor ?? 0, page.limit, undefined, principal.role === 'bank' ? principal.id : undefined);
      return { participants: items.map(participantJson), nextCursor: next === null ? null : String(next) };
    },
  );

  app.get(
    '/v1/participants/:id',
    { config: { roles: ['operator', 'auditor', 'bank'] }, schema: { summary: 'A participant', tags: ['participants'], params: IdParams, response: { 200: ParticipantView, ...problems } } },
    async (request, reply) => {
      const principal = request.principal!;
      const participant = platform.getParticipant(request.params.id);
      if (participant === undefined || (principal.role === 'bank' && participant.bank !== principal.id)) return sendProblem(reply, 'participant_not_found');
      return participantJson(participant);
    },
  );

  app.post(
    '/v1/participants/:id/api-key',
    {
      config: { roles: ['operator', 'bank'] },
      schema: {
        summary: "Issue a new API key for a participant (the old one stops working); a bank may renew its own and its merchants' keys",
        tags: ['participants'],
        params: IdParams,
        body: NoBody,
        response: { 201: KeyResponse, ...problems },
      },
      preValidation: noBodyMeansEmpty,
    },
    async (request, reply) => {
      const principal = request.principal!;
      const participant = platform.getParticipant(request.params.id);
      if (participant === undefined || (principal.role === 'bank' && participant.bank !== principal.id)) return sendProblem(reply, 'participant_not_found');
      const { apiKey, keyHash } = newApiKey();
      const result = await submitOne(sequencer, reply, { kind: 'x.set_participant_key', id: participant.id, keyHash });
      if (result === null) return reply;
      return reply.code(201).send({ id: participant.id, apiKey });
    },
  );

  for (const [path, kind, summary] of [
    ['/v1/issuance', 'x.issue', 'Buy digital tenge with reserves (bank): reserves go to the central bank, new digital tenge to the bank, as one atomic pair'],
    ['/v1/redemption', 'x.redeem', 'Sell digital tenge back for reserves (bank): the digital tenge is withdrawn, reserves return, as one atomic pair'],
  ] as const) {
    app.post(
      path,
      {
        config: { roles: ['bank'] },
        schema: { summary, tags: ['issuance'], body: AmountBody, response: { 200: OperationResponse, 201: OperationResponse, ...problems } },
      },
      async (request, reply) => {
        const bankId = request.principal!.id;
        const id = operationId(request.body.id);
        const result = await submitOne(sequencer, reply, { kind, id, bank: bankId, amount: BigInt(request.body.amount) });
        if (result === null) return reply;
        const bank = bankJson(platform.getBank(bankId)!, sequencer);
        return reply.code(result.existed ? 200 : 201).send({ id, bank: bankId, amount: BigInt(request.body.amount).toString(), reserves: bank.reserves, cbdcFloat: bank.cbdcFloat, issued: bank.issued });
      },
    );
  }

  app.get(
    '/v1/tiers',
    { config: { roles: ['operator', 'auditor', 'regulator', 'bank', 'merchant', 'government'] }, schema: { summary: 'KYC tiers and their limits', tags: ['wallets'], response: { 200: Type.Object({ tiers: Type.Array(TierView) }), ...problems } } },
    async () => ({ tiers: platform.listTiers().map(tierJson) }),
  );

  app.put(
    '/v1/tiers/:tier',
    {
      schema: {
        summary: "Change a tier's limits (operator); applies to every wallet of the tier from the next command on",
        tags: ['wallets'],
        params: Type.Object({ tier: Type.Union([Type.Literal('0'), Type.Literal('1'), Type.Literal('2')]) }),
        body: Type.Object({ holdingLimit: PositiveAmount, perPaymentLimit: PositiveAmount, dailyLimit: PositiveAmount }, { additionalProperties: false }),
        response: { 200: TierView, ...problems },
      },
    },
    async (request, reply) => {
      const tier = Number(request.params.tier);
      const b = request.body;
      const result = await submitOne(sequencer, reply, { kind: 'x.set_tier_limits', tier, holdingMax: BigInt(b.holdingLimit), perPaymentMax: BigInt(b.perPaymentLimit), dailyMax: BigInt(b.dailyLimit) });
      if (result === null) return reply;
      return tierJson(platform.tier(tier)!);
    },
  );
};
