/** Accounts: create, read, freeze and unfreeze, and the cursor-paginated transfer history. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Sequencer } from '../../engine/sequencer.ts';
import type { AccountStatus } from '../../ledger/types.ts';
import { pageLimitDefault, pageLimitMax } from '../../limits.ts';
import { isManagedAccount } from '../../platform/accounts.ts';
import { sendProblem } from '../problem.ts';
import { parsePage, sendPageProblem, transferPage } from '../pagination.ts';
import { AccountBody, AccountPage, AccountView, IdParams, PageQuery, TransferPage } from '../schemas.ts';
import { accountJson } from '../views.ts';

export const accountRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer }> = async (app, { sequencer }) => {
  const ledger = sequencer.ledger;

  app.post(
    '/v1/accounts',
    {
      schema: {
        summary: 'Open an account (idempotent: the same fields again answer 200)',
        tags: ['ledger'],
        body: AccountBody,
        response: { 200: AccountView, 201: AccountView, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (isManagedAccount(body.id)) return sendProblem(reply, 'id_reserved');
      const [result] = await sequencer.submit([
        {
          kind: 'create_account',
          id: body.id,
          asset: body.asset,
          allowNegative: body.allowNegative ?? false,
          maxBalance: body.maxBalance === undefined ? null : BigInt(body.maxBalance),
        },
      ]);
      if (!result!.ok) return sendProblem(reply, result!.code);
      return reply.code(result!.existed ? 200 : 201).send(accountJson(ledger.getAccount(body.id)!));
    },
  );

  app.get(
    '/v1/accounts',
    {
      schema: {
        summary: 'List accounts in creation order',
        description: `Cursor-paginated: pass the nextCursor of one page as cursor to get the next page. limit is 1 to ${pageLimitMax}, default ${pageLimitDefault}.`,
        tags: ['ledger'],
        querystring: PageQuery,
        response: { 200: AccountPage, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const page = parsePage(request.query);
      if (typeof page === 'string') return sendPageProblem(reply, page);
      const after = page.cursor ?? 0;
      const accounts = ledger.listAccounts(after, page.limit + 1);
      const more = accounts.length > page.limit;
      const shown = more ? accounts.slice(0, page.limit) : accounts;
      return { accounts: shown.map(accountJson), nextCursor: more ? String(after + shown.length) : null };
    },
  );

  app.get(
    '/v1/accounts/:id',
    { schema: { summary: 'Read an account and its balances', tags: ['ledger'], params: IdParams, response: { 200: AccountView, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } } } },
    async (request, reply) => {
      const account = ledger.getAccount(request.params.id);
      if (account === undefined) return sendProblem(reply, 'account_not_found');
      return accountJson(account);
    },
  );

  app.get(
    '/v1/accounts/:id/transfers',
    {
      schema: {
        summary: 'Transfers of an account, newest first',
        description: `Cursor-paginated: pass the nextCursor of one page as cursor to get the next older page. limit is 1 to ${pageLimitMax}, default ${pageLimitDefault}.`,
        tags: ['ledger'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: TransferPage, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const page = parsePage(request.query);
      if (typeof page === 'string') return sendPageProblem(reply, page);
      const transfers = ledger.listAccountTransfers(request.params.id, page.cursor, page.limit + 1);
      if (transfers === undefined) return sendProblem(reply, 'account_not_found');
      return transferPage(transfers, page.limit);
    },
  );

  const setStatus = (path: string, status: AccountStatus, summary: string): void => {
    app.post(
      path,
      { schema: { summary, tags: ['ledger'], params: IdParams, response: { 200: AccountView, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } } } },
      async (request, reply) => {
        if (isManagedAccount(request.params.id)) return sendProblem(reply, 'account_managed_by_platform');
        const [result] = await sequencer.submit([{ kind: 'set_account_status', id: request.params.id, status }]);
        if (!result!.ok) return sendProblem(reply, result!.code);
        return accountJson(ledger.getAccount(request.params.id)!);
      },
    );
  };
  setStatus('/v1/accounts/:id/freeze', 'frozen', 'Freeze an account: no transfer may debit or credit it until unfrozen');
  setStatus('/v1/accounts/:id/unfreeze', 'active', 'Unfreeze an account');
};
