/** Health, metrics, the OpenAPI document and the supply report. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { Sequencer } from '../../engine/sequencer.ts';
import { toHex } from '../../engine/journal-chain.ts';
import { withPlatformChecks } from '../../engine/recovery.ts';
import { checkInvariants } from '../../ledger/invariants.ts';
import { sendProblem } from '../problem.ts';
import type { LeaderLink } from '../forward.ts';
import { HealthView, SupplyView } from '../schemas.ts';

export const systemRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer; metrics: Registry; version: string; storeKind: string; leaderLink?: LeaderLink }> = async (
  app,
  { sequencer, metrics, version, storeKind, leaderLink },
) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: { summary: 'Liveness and role (leader or replica); 200 once recovery is done', tags: ['system'], security: [], response: { 200: HealthView, 503: { $ref: 'Problem#' } } },
    },
    async (request, reply) => {
      const journalSequence = sequencer.journalHead?.sequence ?? 0;
      if (sequencer.status === 'replica') return { status: 'ok' as const, role: 'replica' as const, version, store: storeKind, journalSequence, leader: leaderLink?.leader() ?? null };
      if (sequencer.status !== 'open') return sendProblem(reply, 'engine_unavailable', { detail: `The sequencer is ${sequencer.status}.` });
      return { status: 'ok' as const, role: 'leader' as const, version, store: storeKind, journalSequence };
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['system'], produces: ['text/plain'] } }, async (request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });

  app.get('/openapi.json', { schema: { summary: 'This API as OpenAPI 3.1', tags: ['system'] } }, async () => app.swagger());

  app.get(
    '/v1/supply',
    {
      config: { roles: ['operator', 'auditor', 'regulator'] },
      schema: {
        summary: 'Money in circulation per asset, and whether every invariant holds',
        description: 'Recomputed from every account on each call: balances sum to zero per asset, no account breaks its flags or limits, pending totals match the pending transfers.',
        tags: ['ledger'],
        response: { 200: SupplyView, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } },
      },
    },
    async () => {
      const report = withPlatformChecks(sequencer.ledger, checkInvariants(sequencer.ledger));
      const head = sequencer.journalHead;
      return {
        invariantsHold: report.ok,
        violations: [...report.violations],
        journal: { sequence: head?.sequence ?? 0, hash: head === null ? '' : toHex(head.hash) },
        assets: report.assets.map((asset) => ({
          asset: asset.asset,
          scale: asset.scale,
          inCirculation: asset.inCirculation.toString(),
          pending: asset.pending.toString(),
          accounts: asset.accounts,
          balancesSumToZero: asset.balancesSumToZero,
          invariantsHold: asset.invariantsHold,
          issuanceAccounts: asset.issuanceAccounts.map((account) => ({ id: account.id, balance: account.balance.toString() })),
          issuanceAccountCount: asset.issuanceAccountCount,
        })),
      };
    },
  );
};
