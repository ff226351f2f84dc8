/**
 * `buildApp(options)` assembles the HTTP API around an opened engine and returns the Fastify
 * instance without listening (STYLE 4); `cli/start.ts` listens, tests use `inject()` or port 0.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Sequencer } from '../engine/sequencer.ts';
import { EngineOverloadedError, EngineUnavailableError } from '../engine/sequencer.ts';
import { bodyBytesMax } from '../limits.ts';
import { StoreFencedError } from '../store/postgres-store.ts';
import { hubFor } from '../events/hub.ts';
import { fileWebhookPersistence, WebhookDispatcher, type WebhookPersistence } from '../events/webhooks.ts';
import { platformOf } from '../platform/index.ts';
import { registerAuth } from './auth.ts';
import { findDuplicateKey } from './json-duplicates.ts';
import { forwardToLeader, journalSequenceHeader, type LeaderLink } from './forward.ts';
import { createMetrics } from './metrics.ts';
import { problem, sendProblem } from './problem.ts';
import { accountRoutes } from './routes/accounts.ts';
import { assetRoutes } from './routes/assets.ts';
import { bankRoutes } from './routes/banks.ts';
import { eventRoutes } from './routes/events.ts';
import { paymentRoutes } from './routes/payments.ts';
import { walletRoutes } from './routes/wallets.ts';
import { systemRoutes } from './routes/system.ts';
import { transferRoutes } from './routes/transfers.ts';
import { Problem } from './schemas.ts';

export const version = '0.1.0';

export interface AppOptions {
  readonly sequencer: Sequencer;
  readonly adminToken: string;
  readonly storeKind: string;
  /** Where webhook registrations are kept (in the data directory); in memory only when null. */
  readonly webhooksFile?: string | null;
  /** On a replica: how to reach the leader, to which writes are forwarded. */
  readonly leaderLink?: LeaderLink;
  /** Where webhook registrations are kept, when not in a file (the store's metadata on PostgreSQL). */
  readonly webhooks?: WebhookPersistence;
  /** A pino logger; none by default. Per-request logging is off because it costs throughput. */
  readonly logger?: FastifyBaseLogger;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyBytesMax,
    // Slow or stalled clients must not hold sockets forever.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, useDefaults: false } },
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises before any route runs (bad percent-encoding, over-long path
    // parameters) get the same problem shape as every other bad input.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply, 'validation_failed', { errors: [{ path: 'params', message: error.message.slice(0, 200) }] });
    },
    // Broken HTTP framing never reaches Fastify; answer it with a problem body and close.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy(error);
      const body = JSON.stringify(problem('malformed_request'));
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // An empty JSON body (as curl sends for `-X POST` with a JSON content type) means "no body", so
  // post and void can be called without one; anything else goes through Fastify's safe parser.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Only JSON is accepted; without this, text/plain bodies would be parsed as strings.
  app.removeContentTypeParser('text/plain');
  // Bytes that are not UTF-8 are refused rather than silently replaced with U+FFFD; so are other
  // charsets and compressed bodies, which would otherwise be misread.
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    const encoding = request.headers['content-encoding'];
    if ((charset !== undefined && charset.toLowerCase() !== 'utf-8') || (encoding !== undefined && encoding.toLowerCase() !== 'identity')) {
      return done(Object.assign(new Error('unsupported charset or content encoding'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), undefined);
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(Object.assign(new Error('body is not UTF-8'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    return jsonParser(request, text, (error, value) => {
      if (error !== null) return done(error, undefined);
      const duplicate = findDuplicateKey(text);
      if (duplicate !== null) return done(Object.assign(new Error(`duplicate key ${JSON.stringify(duplicate).slice(0, 80)}`), { statusCode: 400, code: 'TENGRI_JSON_DUPLICATE_KEY' }), undefined);
      return done(null, value);
    });
  });

  const platform = platformOf(options.sequencer.ledger);
  // A replica passes writes (and the few reads only the leader can answer) to the leader before
  // anything else runs: the leader authenticates them against its own, newest, state.
  const link = options.leaderLink;
  if (link !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      if (options.sequencer.status !== 'replica' || request.routeOptions.url === undefined) return;
      if (request.method === 'GET' || request.method === 'HEAD') {
        if (request.routeOptions.config.leader !== true) return;
      }
      return forwardToLeader(request, reply, link);
    });
  }
  // Every answer to a write names a journal batch that holds its effect, so a replica that
  // forwarded it can wait until it has replayed that batch (read your writes).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && options.sequencer.status === 'open') {
      reply.header(journalSequenceHeader, String(options.sequencer.journalHead?.sequence ?? 0));
    }
    return payload;
  });
  registerAuth(app, options.adminToken, platform);
  app.addSchema(Problem);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const errors = error.validation.slice(0, 20).map((issue) => ({
        path: `${error.validationContext ?? 'body'}${issue.instancePath}`,
        message: issue.message ?? 'invalid',
      }));
      const tooMany = error.validation.some((issue) => issue.keyword === 'maxItems' && issue.instancePath === '/transfers');
      return sendProblem(reply, tooMany ? 'batch_too_large' : 'validation_failed', { errors });
    }
    if (error instanceof EngineOverloadedError) {
      reply.header('retry-after', String(error.retryAfterSeconds));
      return sendProblem(reply, 'engine_overloaded');
    }
    if (error instanceof EngineUnavailableError || error instanceof StoreFencedError) {
      // StoreFencedError: this process lost the writer lease (it is about to exit); a metadata
      // write such as a webhook registration was refused and changed nothing.
      reply.header('retry-after', '5');
      return sendProblem(reply, 'engine_unavailable');
    }
    switch (error.code) {
      case 'TENGRI_JSON_DUPLICATE_KEY':
        return sendProblem(reply, 'json_duplicate_key', { detail: error.message });
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, 'malformed_json');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, 'body_too_large');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, 'unsupported_media_type');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendProblem(reply, 'malformed_request');
      default:
        break;
    }
    if (error instanceof SyntaxError || error.statusCode === 400) return sendProblem(reply, 'malformed_json');
    if (typeof error.statusCode === 'number' && error.statusCode === 413) return sendProblem(reply, 'body_too_large');
    // Any other client error raised by Fastify stays a client error, with its own status.
    if (typeof error.statusCode === 'number' && error.statusCode > 400 && error.statusCode < 500) {
      return sendProblem(reply, 'malformed_request', { status: error.statusCode, detail: error.message.slice(0, 200) });
    }
    request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    return sendProblem(reply, 'internal_error');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 'route_not_found'));

  // Reads never show state that is not durable: they wait for an append in flight, and after a
  // storage failure (the in-memory state may be ahead of the journal) they are refused until the
  // process restarts and recovers.
  app.addHook('preHandler', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    if (options.sequencer.status === 'failed') {
      reply.header('retry-after', '5');
      return sendProblem(reply, 'engine_unavailable');
    }
    if (request.method === 'GET') await options.sequencer.settled();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tengri ledger API',
        version,
        description: 'Double-entry ledger engine of the Tengri retail CBDC platform. Amounts are strings of minor units. Errors are RFC 9457 problem+json with a stable code.',
      },
      components: { securitySchemes: { operator: { type: 'http', scheme: 'bearer', description: 'The operator token (TENGRI_ADMIN_TOKEN or <data dir>/admin-token)' } } },
      security: [{ operator: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = createMetrics(options.sequencer);
  await app.register(systemRoutes, { sequencer: options.sequencer, metrics, version, storeKind: options.storeKind, ...(link === undefined ? {} : { leaderLink: link }) });
  await app.register(assetRoutes, { sequencer: options.sequencer });
  await app.register(accountRoutes, { sequencer: options.sequencer });
  await app.register(transferRoutes, { sequencer: options.sequencer });
  const hub = hubFor(platform, options.sequencer);
  const persistence = options.webhooks ?? (options.webhooksFile === undefined || options.webhooksFile === null ? null : fileWebhookPersistence(options.webhooksFile));
  const webhooks = new WebhookDispatcher(platform, hub, persistence, options.logger);
  await webhooks.attach(options.sequencer);
  app.addHook('onClose', async () => webhooks.close());
  await app.register(bankRoutes, { sequencer: options.sequencer, platform });
  await app.register(walletRoutes, { sequencer: options.sequencer, platform });
  await app.register(paymentRoutes, { sequencer: options.sequencer, platform });
  await app.register(eventRoutes, { platform, hub, webhooks });
  return app;
}
