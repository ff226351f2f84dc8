/**
 * Transfers: one at a time, in batches with linked chains, two-phase post and void. A transfer id
 * is chosen by the client, so a retry after a lost response is safe: the same id with the same
 * fields answers the first result (200 instead of 201), with different fields it is refused.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Sequencer } from '../../engine/sequencer.ts';
import type { CreateTransfer } from '../../ledger/types.ts';
import { isManagedAccount, isManagedTransfer } from '../../platform/accounts.ts';
import { sendProblem, type ApiErrorCode } from '../problem.ts';
import { parsePage, sendPageProblem, transferPage } from '../pagination.ts';
import { BatchBody, EmptyBody, PageQuery, TransferPage, BatchResponse, IdParams, PostBody, TransferBody, TransferView, type BatchItemType } from '../schemas.ts';
import { transferJson } from '../views.ts';

function toCommand(item: BatchItemType): CreateTransfer {
  return {
    kind: 'create_transfer',
    id: item.id,
    debit: item.debit,
    credit: item.credit,
    amount: BigInt(item.amount),
    pending: item.pending ?? false,
    timeoutSeconds: item.timeoutSeconds ?? 0,
    code: item.code ?? 0,
    reference: item.reference ?? '',
    linked: item.linked ?? false,
  };
}

/** Raw transfers may not use platform ids or touch platform accounts (wallets, banks, reserves). */
export function platformConflict(item: { id: string; debit: string; credit: string }): ApiErrorCode | null {
  if (isManagedTransfer(item.id)) return 'id_reserved';
  if (isManagedAccount(item.debit) || isManagedAccount(item.credit)) return 'account_managed_by_platform';
  return null;
}

export const transferRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer }> = async (app, { sequencer }) => {
  const ledger = sequencer.ledger;
  const problems = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } };

  app.post(
    '/v1/transfers',
    {
      schema: {
        summary: 'Move money from one account to another, or reserve it (pending: true)',
        tags: ['ledger'],
        body: TransferBody,
        response: { 200: TransferView, 201: TransferView, ...problems },
      },
    },
    async (request, reply) => {
      const conflict = platformConflict(request.body);
      if (conflict !== null) return sendProblem(reply, conflict);
      const [result] = await sequencer.submit([toCommand(request.body)]);
      if (!result!.ok) return sendProblem(reply, result!.code);
      return reply.code(result!.existed ? 200 : 201).send(transferJson(ledger.getTransfer(request.body.id)!));
    },
  );

  app.post(
    '/v1/transfers/batch',
    {
      schema: {
        summary: 'Submit up to 8190 transfers applied in order in one batch',
        description: 'Items with linked: true form a chain with the next item that succeeds or fails as one. One result per item, in order; code is present only on rejected items.',
        tags: ['ledger'],
        body: BatchBody,
        response: { 200: BatchResponse, ...problems },
      },
    },
    async (request, reply) => {
      const items = request.body.transfers;
      for (const [index, item] of items.entries()) {
        const conflict = platformConflict(item);
        if (conflict !== null) return sendProblem(reply, conflict, { errors: [{ path: `body/transfers/${index}`, message: `transfer ${item.id}` }] });
      }
      const results = await sequencer.submit(items.map(toCommand));
      return {
        results: results.map((result, index) =>
          result.ok
            ? { id: items[index]!.id, status: result.existed ? 'exists' : 'created' }
            : { id: items[index]!.id, status: 'rejected', code: result.code },
        ),
      };
    },
  );

  app.get(
    '/v1/transfers',
    {
      schema: {
        summary: 'All transfers of the ledger, newest first',
        description: 'Cursor-paginated like an account history: pass nextCursor back as cursor for the next (older) page.',
        tags: ['ledger'],
        querystring: PageQuery,
        response: { 200: TransferPage, ...problems },
      },
    },
    async (request, reply) => {
      const page = parsePage(request.query);
      if (typeof page === 'string') return sendPageProblem(reply, page);
      return transferPage(ledger.listTransfers(page.cursor, page.limit + 1), page.limit);
    },
  );

  app.get(
    '/v1/transfers/:id',
    { schema: { summary: 'Read a transfer', tags: ['ledger'], params: IdParams, response: { 200: TransferView, ...problems } } },
    async (request, reply) => {
      const transfer = ledger.getTransfer(request.params.id);
      if (transfer === undefined) return sendProblem(reply, 'transfer_not_found');
      return transferJson(transfer);
    },
  );

  app.post(
    '/v1/transfers/:id/post',
    {
      schema: {
        summary: 'Post a pending transfer, fully or partly (amount); the rest of the reservation is released',
        description: 'Repeating the same post answers 200 with the same transfer.',
        tags: ['ledger'],
        params: IdParams,
        body: PostBody,
        response: { 200: TransferView, ...problems },
      },
      // The body is optional: no body posts the full amount.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const amount = request.body.amount;
      const [result] = await sequencer.submit([
        { kind: 'post_pending', pendingId: request.params.id, amount: amount === undefined ? null : BigInt(amount) },
      ]);
      if (!result!.ok) return sendProblem(reply, result!.code);
      return transferJson(ledger.getTransfer(request.params.id)!);
    },
  );

  app.post(
    '/v1/transfers/:id/void',
    {
      schema: {
        summary: 'Void a pending transfer, releasing its reservation',
        description: 'Repeating the void answers 200 with the same transfer. The body, if any, must be an empty object.',
        tags: ['ledger'],
        params: IdParams,
        body: EmptyBody,
        response: { 200: TransferView, ...problems },
      },
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const [result] = await sequencer.submit([{ kind: 'void_pending', pendingId: request.params.id }]);
      if (!result!.ok) return sendProblem(reply, result!.code);
      return transferJson(ledger.getTransfer(request.params.id)!);
    },
  );
};
