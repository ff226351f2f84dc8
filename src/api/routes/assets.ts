/** Asset registry: `POST /v1/assets`, `GET /v1/assets`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sequencer } from '../../engine/sequencer.ts';
import { sendProblem } from '../problem.ts';
import { AssetBody, AssetView } from '../schemas.ts';

export const assetRoutes: FastifyPluginAsyncTypebox<{ sequencer: Sequencer }> = async (app, { sequencer }) => {
  app.post(
    '/v1/assets',
    {
      schema: {
        summary: 'Register an asset (idempotent: the same code and scale again answers 200)',
        tags: ['ledger'],
        body: AssetBody,
        response: { 200: AssetView, 201: AssetView, '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } },
      },
    },
    async (request, reply) => {
      const [result] = await sequencer.submit([{ kind: 'create_asset', code: request.body.code, scale: request.body.scale }]);
      if (!result!.ok) return sendProblem(reply, result!.code);
      return reply.code(result!.existed ? 200 : 201).send(sequencer.ledger.getAsset(request.body.code)!);
    },
  );
  app.get(
    '/v1/assets',
    { config: { roles: ['operator', 'auditor', 'regulator'] }, schema: { summary: 'List assets', tags: ['ledger'], response: { 200: Type.Object({ assets: Type.Array(AssetView) }), '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' } } } },
    async () => ({ assets: sequencer.ledger.listAssets() }),
  );
};
