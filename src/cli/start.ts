/**
 * `tengri start`: lock the data directory, recover the ledger from its journal, serve the API,
 * and shut down cleanly on SIGINT or SIGTERM (stop accepting, commit what is queued, close).
 */
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import pino from 'pino';
import { problem } from '../api/problem.ts';
import { capacityHeapBytes } from '../engine/capacity.ts';
import { buildApp } from '../api/app.ts';
import { openEngine } from '../engine/engine.ts';
import { PostgresStore } from '../store/postgres-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { seedPilot } from './seed.ts';
import { acquireLock, dataDir, ensureDataDir, operatorToken } from './data-dir.ts';

export interface StartOptions {
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly batchMax?: number;
  readonly batchWaitMs?: number;
  readonly logLevel?: string;
  readonly transfersMax?: number;
  readonly accountsMax?: number;
  readonly seed?: string;
  /** A PostgreSQL URL: the journal goes there instead of the data directory's SQLite file. */
  readonly db?: string;
  readonly dbSchema?: string;
  /** The URL other Tengri processes show clients to reach this one (default http://host:port). */
  readonly advertise?: string;
}

/** Lease timing on PostgreSQL: a dead leader is replaced within about leaseTtlMs + standbyPollMs. */
const leaseTtlMs = 3000;
const leaseRenewMs = 1000;
const standbyPollMs = 500;

export async function start(options: StartOptions): Promise<void> {
  const logger = pino({ level: options.logLevel ?? 'info', redact: ['req.headers.authorization'] });
  const dir = dataDir(options.data);
  ensureDataDir(dir);
  const releaseLock = acquireLock(dir);
  // The token is checked before anything is written, so a bad one fails a first start cleanly.
  const token = operatorToken(dir);
  let store: Store;
  let lease: { holder: string; token: bigint; store: PostgresStore; port: number } | null = null;
  if (options.db === undefined) {
    store = new SqliteStore(dir.databasePath);
  } else {
    const postgres = await PostgresStore.open(options.db, options.dbSchema === undefined ? {} : { schema: options.dbSchema });
    store = postgres;
    lease = await becomeLeader(postgres, options, logger);
  }
  const opened = await openEngine(store, {
    batchCommandsMax: options.batchMax,
    batchWaitMs: options.batchWaitMs,
    transfersMax: options.transfersMax,
    accountsMax: options.accountsMax,
  });
  const { sequencer } = opened;
  const capacity = sequencer.ledger.capacity;
  logger.info(
    {
      batches: opened.recoveredBatches,
      recoveryMs: Math.round(opened.recoveryMs),
      accounts: sequencer.ledger.accountCount,
      transfers: sequencer.ledger.transferCount,
      transfersMax: capacity.transfersMax,
      accountsMax: capacity.accountsMax,
    },
    'ledger recovered',
  );
  const heapLimit = getHeapStatistics().heap_size_limit;
  if (capacityHeapBytes(capacity) > heapLimit * 0.85) {
    logger.warn({ heapLimitMiB: Math.round(heapLimit / 2 ** 20) }, 'the record caps exceed what this heap can hold; raise --max-old-space-size or lower --transfers-max/--accounts-max');
  }
  if (token.source === 'generated') logger.info({ tokenFile: dir.tokenPath }, 'generated the operator token (mode 0600)');
  else logger.info({ source: token.source === 'file' ? dir.tokenPath : 'TENGRI_ADMIN_TOKEN' }, 'operator token loaded');

  if (options.seed === 'pilot') {
    const seeded = await seedPilot(opened.sequencer, opened.platform, join(dir.path, 'pilot-credentials.json'));
    if (seeded === null) logger.info('--seed pilot: the ledger already has banks; nothing seeded');
    else logger.info({ ...seeded.counts, credentials: seeded.credentialsPath }, 'seeded the pilot network');
  }
  let renewTimer: NodeJS.Timeout | null = null;
  if (lease !== null) {
    const held = lease;
    // Renew well before expiry; once the lease is lost, stop at once: a new leader may be writing.
    renewTimer = setInterval(() => {
      held.store.renewLease(held.holder, held.token, leaseTtlMs).then(
        (kept) => {
          if (!kept) {
            logger.fatal({ token: String(held.token) }, 'lost the writer lease to another process; exiting');
            void stop(70);
          }
        },
        (error: unknown) => logger.warn({ err: error }, 'could not renew the writer lease; retrying'),
      );
    }, leaseRenewMs);
    renewTimer.unref();
  }
  const app = await buildApp({ sequencer, adminToken: token.token, storeKind: store.kind, logger, webhooksFile: join(dir.path, 'webhooks.json') });
  let stopping = false;
  let exitCode = 0;
  const stop = async (code: number): Promise<void> => {
    // A fatal error during a shutdown already under way must still make the exit non-zero.
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    if (renewTimer !== null) clearInterval(renewTimer);
    if (code !== 0) {
      // A fatal stop (storage failure, lost lease) must not wait for clients: nothing more can be
      // committed here, and a new leader may already be serving.
      app.server.closeAllConnections();
      await Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    } else {
      await app.close();
    }
    await sequencer.close();
    if (lease !== null) await lease.store.releaseLease(lease.holder, lease.token).catch(() => false);
    await store.close();
    releaseLock();
    process.exit(exitCode);
  };
  sequencer.observe({
    onFatal(error) {
      logger.fatal({ err: error }, 'the sequencer stopped; exiting so a restart recovers from the journal');
      void stop(70);
    },
  });
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  const address = await app.listen({ host: options.host, port: lease === null ? options.port : lease.port });
  logger.info({ url: address, data: dir.path, store: store.kind }, 'listening');
}

/**
 * Waits to become the one writer of a PostgreSQL ledger. Until then the process is a standby: it
 * listens on its port and answers every request but /health with 503 `not_leader`, naming the
 * leader's URL, so clients and load balancers can go there. It polls the lease and takes it when
 * the leader's expires (a dead leader stops renewing). Returns the lease and the port to serve on.
 */
async function becomeLeader(
  store: PostgresStore,
  options: StartOptions,
  logger: pino.Logger,
): Promise<{ holder: string; token: bigint; store: PostgresStore; port: number }> {
  const standby = Fastify({ logger: false });
  let leader: string | null = null;
  standby.get('/health', async (_request, reply) => reply.code(503).send({ status: 'standby', leader }));
  standby.setNotFoundHandler(async (request, reply) => {
    const body = problem('not_leader', { instance: request.url.split('?')[0], detail: leader === null ? 'This process is a standby; the leader is not known yet.' : `This process is a standby; the leader is ${leader}.` });
    reply.header('retry-after', '1');
    if (leader !== null) reply.header('location', leader + request.url);
    return reply.code(503).type('application/problem+json; charset=utf-8').send({ ...body, leader });
  });
  const address = await standby.listen({ host: options.host, port: options.port });
  const port = Number(new URL(address).port);
  const advertised = options.advertise ?? `http://${options.host}:${port}`;
  const holder = `${advertised} pid ${process.pid} ${randomBytes(4).toString('hex')}`;
  for (;;) {
    const grant = await store.acquireLease(holder, leaseTtlMs);
    if (grant !== null) {
      logger.info({ token: String(grant.token) }, 'took the writer lease');
      // Every append from now on, recovery's genesis included, carries the token.
      store.setFencingToken(grant.token);
      await standby.close();
      return { holder, token: grant.token, store, port };
    }
    const info = await store.leaseInfo();
    const current = info === null ? null : info.holder.split(' pid ')[0] ?? null;
    if (current !== leader) {
      leader = current;
      logger.info({ url: address, leader }, 'standby');
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(standbyPollMs, Math.max(50, info?.remainingMs ?? standbyPollMs))));
  }
}
