/**
 * What a bank hears about its wallets: events (payments in and out, funding, freezes, ...) as a
 * JSON page, as a server-sent event stream that resumes from `Last-Event-ID`, and as webhooks;
 * and the bank's statement for a day.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { EventHub } from '../../events/hub.ts';
import { isWebhookUrl, type WebhookDispatcher } from '../../events/webhooks.ts';
import { pageLimitMax } from '../../limits.ts';
import type { Platform } from '../../platform/platform.ts';
import type { PlatformEvent } from '../../platform/types.ts';
import type { Principal } from '../auth.ts';
import { EventView, NoBody, ParticipantId, eventJson, noBodyMeansEmpty, problems } from '../platform-views.ts';
import { sendProblem } from '../problem.ts';
import { Amount } from '../schemas.ts';

const streamBufferMax = 8 * 1024 * 1024;
/** Events written per catch-up step, and the unsent bytes at which catch-up waits for the reader. */
const catchUpChunk = 500;
const catchUpBufferMax = 1024 * 1024;
/** Live events held while a stream catches up; beyond it the stream ends and the reader resumes. */
const waitingMax = 100_000;
/** Open streams per caller (participant, or the operator). */
const streamsPerCallerMax = 8;
const heartbeatMs = 15_000;
const dayMs = 86_400_000;

const Statement = Type.Object({
  bank: Type.String(),
  date: Type.String(),
  openingReserves: Amount,
  closingReserves: Amount,
  openingCbdcFloat: Amount,
  closingCbdcFloat: Amount,
  openingWalletHoldings: Amount,
  closingWalletHoldings: Amount,
  openingDeposits: Amount,
  closingDeposits: Amount,
  reservesToppedUp: Amount,
  issued: Amount,
  redeemed: Amount,
  funded: Amount,
  defunded: Amount,
  bankAccountCredits: Amount,
  bankAccountDebits: Amount,
  paymentsOut: Type.Integer(),
  paymentsOutAmount: Amount,
  paymentsIn: Type.Integer(),
  paymentsInAmount: Amount,
  convertedToBankAccounts: Amount,
  walletsOpened: Type.Integer(),
  walletsClosed: Type.Integer(),
});

export const eventRoutes: FastifyPluginAsyncTypebox<{ platform: Platform; hub: EventHub; webhooks: WebhookDispatcher }> = async (app, { platform, hub, webhooks }) => {
  /** The bank whose events the caller asks for: its own for a bank, `?bank=` for the operator and auditor. */
  function bankOf(principal: Principal, requested: string | undefined): string | null {
    if (principal.role === 'bank') return requested === undefined || requested === principal.id ? principal.id : null;
    return requested ?? null;
  }

  const bankMissing = { errors: [{ path: 'querystring/bank', message: 'the operator and the auditor name the bank whose events they read' }] };

  /** Open event streams, ended when the server closes (otherwise they would hold it open). */
  const streams = new Set<() => void>();
  const openStreams = new Map<string, number>();
  app.addHook('preClose', async () => {
    for (const stop of [...streams]) stop();
  });

  app.get(
    '/v1/events',
    {
      config: { roles: ['bank', 'operator', 'auditor'] },
      schema: {
        summary: "A bank's events after a given number, oldest first",
        description: `Events are numbered per bank from 1 in commit order; pass the last seq you processed as after. limit is 1 to ${pageLimitMax}. firstAvailable tells when older events are no longer kept.`,
        tags: ['events'],
        querystring: Type.Object(
          { after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), bank: Type.Optional(ParticipantId) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ events: Type.Array(EventView), last: Type.Integer(), firstAvailable: Type.Integer() }), ...problems },
      },
    },
    async (request, reply) => {
      if (request.principal!.role !== 'bank' && request.query.bank === undefined) return sendProblem(reply, 'validation_failed', bankMissing);
      const bank = bankOf(request.principal!, request.query.bank);
      if (bank === null || platform.getBank(bank) === undefined) return sendProblem(reply, 'bank_not_found');
      const limit = Number(request.query.limit ?? '100');
      if (limit < 1 || limit > pageLimitMax) return sendProblem(reply, 'validation_failed', { errors: [{ path: 'querystring/limit', message: `must be 1 to ${pageLimitMax}` }] });
      const committed = hub.committed(bank);
      const { events, firstKept } = platform.bankEvents(bank, Number(request.query.after ?? '0'), limit, committed);
      return { events: events.map(eventJson), last: committed, firstAvailable: firstKept };
    },
  );

  app.get(
    '/v1/events/stream',
    {
      config: { roles: ['bank', 'operator', 'auditor'] },
      schema: {
        summary: "Server-sent events: a bank's events as they commit, resuming after Last-Event-ID",
        description: 'Each message has id <bank>:<seq>, event <type> and the event as JSON data. Reconnect with the Last-Event-ID header (browsers do this by themselves) or ?after=<seq> to resume without gaps. A comment line is sent every 15 s.',
        tags: ['events'],
        querystring: Type.Object({ after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })), bank: Type.Optional(ParticipantId) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      if (principal.role !== 'bank' && request.query.bank === undefined) return sendProblem(reply, 'validation_failed', bankMissing);
      const bank = bankOf(principal, request.query.bank);
      if (bank === null || platform.getBank(bank) === undefined) return sendProblem(reply, 'bank_not_found');
      const lastEventId = request.headers['last-event-id'];
      let after = Number(request.query.after ?? '0');
      if (typeof lastEventId === 'string') {
        const match = /^([a-z0-9-]+):([0-9]{1,15})$/.exec(lastEventId);
        if (match === null || match[1] !== bank) return sendProblem(reply, 'validation_failed', { errors: [{ path: 'headers/last-event-id', message: 'must be an id of this bank\'s stream' }] });
        after = Number(match[2]);
      }
      if (after > hub.committed(bank)) {
        return sendProblem(reply, 'validation_failed', { errors: [{ path: 'last-event-id', message: `after the last event ${hub.committed(bank)} of this bank` }] });
      }
      // A stream lasts only as long as the credentials that opened it: a renewed key or a
      // suspension ends it (the operator token cannot change while the process runs).
      const participant = principal.role === 'operator' ? undefined : platform.getParticipant(principal.id);
      const stillAuthorised = (): boolean => {
        if (participant === undefined) return true;
        const now = platform.getParticipant(participant.id);
        return now !== undefined && now.status === 'active' && now.keyVersion === participant.keyVersion;
      };
      const caller = principal.id;
      if ((openStreams.get(caller) ?? 0) >= streamsPerCallerMax) return sendProblem(reply, 'too_many_streams');
      openStreams.set(caller, (openStreams.get(caller) ?? 0) + 1);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write(': tengri events\n\n');
      let closed = false;
      let unsubscribe: (() => void) | null = null;
      let heartbeat: NodeJS.Timeout | null = null;
      const stop = (): void => {
        if (closed) return;
        closed = true;
        streams.delete(stop);
        openStreams.set(caller, (openStreams.get(caller) ?? 1) - 1);
        unsubscribe?.();
        if (heartbeat !== null) clearInterval(heartbeat);
        raw.end();
      };
      streams.add(stop);
      raw.on('close', stop);
      request.raw.on('close', stop);
      const write = (event: PlatformEvent): void => {
        if (closed || event.seq <= after) return;
        if (!stillAuthorised()) return stop();
        after = event.seq;
        raw.write(`id: ${event.bank}:${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(eventJson(event))}\n\n`);
      };
      // Live events that arrive while the stream catches up wait here (bounded), so none falls
      // between the catch-up and the live part.
      let live = false;
      const waiting: PlatformEvent[] = [];
      unsubscribe = hub.subscribe(bank, (event) => {
        if (closed) return;
        if (live) {
          write(event);
          // A reader that does not keep up is cut off rather than buffered without bound; it
          // reconnects with Last-Event-ID and catches up from the kept events.
          if (raw.writableLength > streamBufferMax) stop();
        } else if (waiting.push(event) > waitingMax) {
          stop();
        }
      });
      // Catch up in chunks, waiting for the socket to drain, so a long backlog neither blocks the
      // event loop (which the sequencer shares) nor piles up in memory.
      const upTo = hub.committed(bank);
      while (!closed && after < upTo) {
        const { events } = platform.bankEvents(bank, after, catchUpChunk, upTo);
        if (events.length === 0) break;
        for (const event of events) write(event);
        if (raw.writableLength > catchUpBufferMax) await new Promise<void>((resume) => {
          const done = (): void => {
            raw.off('drain', done);
            raw.off('close', done);
            resume();
          };
          raw.on('drain', done);
          raw.on('close', done);
        });
        else await new Promise<void>((resume) => setImmediate(resume));
      }
      for (const event of waiting) write(event);
      waiting.length = 0;
      live = true;
      if (!closed) {
        heartbeat = setInterval(() => {
          if (raw.writableLength < streamBufferMax) raw.write(': keep-alive\n\n');
        }, heartbeatMs);
        heartbeat.unref();
      }
    },
  );

  app.put(
    '/v1/webhook',
    {
      config: { roles: ['bank'] },
      schema: {
        summary: "Register the bank's webhook URL; returns the signing secret once",
        description:
          'Every event committed from now on is POSTed to the URL as JSON, in order, at least once, with headers Tengri-Event-Id and Tengri-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. Failures are retried with exponential backoff up to 5 minutes apart. Registering again replaces the URL and the secret.',
        tags: ['events'],
        body: Type.Object({ url: Type.String({ maxLength: 2048 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ url: Type.String(), secret: Type.String(), delivered: Type.Integer() }), ...problems },
      },
    },
    async (request, reply) => {
      if (!isWebhookUrl(request.body.url)) return sendProblem(reply, 'webhook_url_invalid');
      return webhooks.register(request.principal!.id, request.body.url);
    },
  );

  const WebhookStatusView = Type.Object({
    url: Type.String(),
    delivered: Type.Integer(),
    pending: Type.Integer(),
    failures: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  });

  app.get(
    '/v1/webhook',
    { config: { roles: ['bank'], leader: true }, schema: { summary: "The bank's webhook and its delivery state", tags: ['events'], response: { 200: WebhookStatusView, ...problems } } },
    async (request, reply) => {
      const status = webhooks.status(request.principal!.id);
      if (status === null) return sendProblem(reply, 'webhook_not_found');
      return status;
    },
  );

  app.delete(
    '/v1/webhook',
    { config: { roles: ['bank'] }, schema: { summary: "Remove the bank's webhook", tags: ['events'], body: NoBody, response: { 204: Type.Null(), ...problems } }, preValidation: noBodyMeansEmpty },
    async (request, reply) => {
      if (!(await webhooks.remove(request.principal!.id))) return sendProblem(reply, 'webhook_not_found');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/banks/:id/statement',
    {
      config: { roles: ['bank', 'operator', 'auditor', 'regulator'] },
      schema: {
        summary: "A bank's statement for one UTC day: opening and closing balances and the day's totals",
        tags: ['events'],
        params: Type.Object({ id: ParticipantId }),
        querystring: Type.Object({ date: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'UTC day; today by default' })) }, { additionalProperties: false }),
        response: { 200: Statement, ...problems },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      if (principal.role === 'bank' && principal.id !== request.params.id) return sendProblem(reply, 'bank_not_found');
      const date = request.query.date ?? new Date().toISOString().slice(0, 10);
      const ms = Date.parse(`${date}T00:00:00Z`);
      if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
        return sendProblem(reply, 'validation_failed', { errors: [{ path: 'querystring/date', message: 'not a real date' }] });
      }
      const s = platform.statement(request.params.id, Math.floor(ms / dayMs));
      if (s === undefined) return sendProblem(reply, 'bank_not_found');
      return {
        bank: request.params.id,
        date,
        openingReserves: s.openingReserve.toString(),
        closingReserves: s.closingReserve.toString(),
        openingCbdcFloat: s.openingFloat.toString(),
        closingCbdcFloat: s.closingFloat.toString(),
        openingWalletHoldings: s.openingWalletHoldings.toString(),
        closingWalletHoldings: s.closingWalletHoldings.toString(),
        openingDeposits: s.openingDeposits.toString(),
        closingDeposits: s.closingDeposits.toString(),
        reservesToppedUp: s.reservesToppedUp.toString(),
        issued: s.issued.toString(),
        redeemed: s.redeemed.toString(),
        funded: s.funded.toString(),
        defunded: s.defunded.toString(),
        bankAccountCredits: s.accountCredits.toString(),
        bankAccountDebits: s.accountDebits.toString(),
        paymentsOut: s.paymentsOut,
        paymentsOutAmount: s.paymentsOutAmount.toString(),
        paymentsIn: s.paymentsIn,
        paymentsInAmount: s.paymentsInAmount.toString(),
        convertedToBankAccounts: s.convertedToBankAccounts.toString(),
        walletsOpened: s.walletsOpened,
        walletsClosed: s.walletsClosed,
      };
    },
  );
};
