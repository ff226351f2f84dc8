/**
 * `tengri start`: lock the data directory, recover the ledger from its journal, serve the API,
 * and shut down cleanly on SIGINT or SIGTERM (stop accepting, commit what is queued, close).
 *
 * On SQLite the process is the writer. On PostgreSQL (`--db`) it starts as a replica that serves
 * reads and forwards writes, and becomes the writer when it takes the writer lease (see
 * cli/leadership.ts); with `--follow` it never does.
 */
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { capacityHeapBytes, defaultCapacity } from '../engine/capacity.ts';
import { buildApp } from '../api/app.ts';
import type { LeaderLink } from '../api/forward.ts';
import { openEngine, openReplica, type OpenedEngine } from '../engine/engine.ts';
import { OutboxRelay } from '../events/relay.ts';
import { storeWebhookPersistence } from '../events/webhooks.ts';
import { Leadership } from './leadership.ts';
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
  /** The URL other Tengri processes use to reach this one (default: the address it listens on). */
  readonly advertise?: string;
  /** With --db: never take the writer lease; serve reads and forward writes (a pure API process). */
  readonly follow?: boolean;
  /** NATS server URL: the writer runs the outbox relay to JetStream in-process. */
  readonly nats?: string;
}

/** Lease timing on PostgreSQL: a dead leader is replaced within about leaseTtlMs + leasePollMs. */
const leaseTtlMs = 3000;
const leaseRenewMs = 1000;
const leasePollMs = 500;
/** How often a replica looks for new journal batches (at once when a forwarded write waits). */
const replicaTailMs = 50;

export async function start(options: StartOptions): Promise<void> {
  if (options.db !== undefined && options.advertise === undefined && !['127.0.0.1', 'localhost', '::1'].includes(options.host)) {
    // Other processes forward writes to the advertised URL; the address it listens on would name
    // the loopback interface of this host.
    throw new Error(`--db with --host ${options.host} needs --advertise <url>: the URL other Tengri processes reach this one at`);
  }
  const logger = pino({ level: options.logLevel ?? 'info', redact: ['req.headers.authorization'] });
  const dir = dataDir(options.data);
  ensureDataDir(dir);
  const releaseLock = acquireLock(dir);
  // The token is checked before anything is written, so a bad one fails a first start cleanly.
  const token = operatorToken(dir);
  const engineOptions = {
    batchCommandsMax: options.batchMax,
    batchWaitMs: options.batchWaitMs,
    transfersMax: options.transfersMax,
    accountsMax: options.accountsMax,
  };
  let store: Store;
  let postgres: PostgresStore | null = null;
  let opened: OpenedEngine;
  if (options.db === undefined) {
    if (options.follow === true) throw new Error('--follow needs --db: only a PostgreSQL ledger has a leader to follow');
    store = new SqliteStore(dir.databasePath);
    opened = await openEngine(store, engineOptions);
  } else {
    postgres = await PostgresStore.open(options.db, options.dbSchema === undefined ? {} : { schema: options.dbSchema });
    store = postgres;
    // Every process on PostgreSQL starts as a replica; the one that takes the writer lease is
    // promoted in place (see cli/leadership.ts).
    opened = await openReplica(postgres, engineOptions);
  }
  const { sequencer } = opened;
  // The caps this process applies as the writer (a replica replays without caps).
  const fitting = defaultCapacity();
  const capacity = { transfersMax: options.transfersMax ?? fitting.transfersMax, accountsMax: options.accountsMax ?? fitting.accountsMax };
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

  let relay: OutboxRelay | null = null;
  let leadership: Leadership | null = null;
  // Where this process is reached; known once listening (the port may be 0).
  const link: LeaderLink = {
    get self() {
      return advertised;
    },
    leader: () => leadership?.leader() ?? null,
    caughtUp: (sequence, timeoutMs) => leadership?.caughtUp(sequence, timeoutMs) ?? Promise.resolve(true),
  };
  let advertised = options.advertise ?? '';
  const app = await buildApp({
    sequencer,
    adminToken: token.token,
    storeKind: store.kind,
    logger,
    ...(postgres === null ? { webhooksFile: join(dir.path, 'webhooks.json') } : { webhooks: storeWebhookPersistence(postgres), leaderLink: link }),
  });

  /** What the writer does once it writes: seed the pilot network, start the outbox relay. */
  const asWriter = async (): Promise<void> => {
    if (options.seed === 'pilot') {
      const seeded = await seedPilot(opened.sequencer, opened.platform, join(dir.path, 'pilot-credentials.json'));
      if (seeded === null) logger.info('--seed pilot: the ledger already has banks; nothing seeded');
      else logger.info({ ...seeded.counts, credentials: seeded.credentialsPath }, 'seeded the pilot network');
    }
    if (options.nats !== undefined) {
      // NATS being away must not stop payments: the outbox keeps the events, and the relay
      // starts (and catches up) as soon as NATS answers.
      const servers = options.nats;
      void (async () => {
        for (let attempt = 1; !stopping; attempt++) {
          try {
            const started = await OutboxRelay.start(store, { servers, log: logger });
            if (stopping) {
              await started.stop();
              return;
            }
            relay = started;
            sequencer.observe({ onBatch: () => relay?.poke() });
            logger.info({ nats: servers, position: started.position }, 'outbox relay to NATS JetStream started');
            return;
          } catch (error) {
            if (attempt === 1 || attempt % 20 === 0) logger.warn({ err: error, attempt }, 'could not start the outbox relay to NATS JetStream; retrying');
            await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)));
          }
        }
      })();
    }
  };

  let stopping = false;
  let exitCode = 0;
  const stop = async (code: number): Promise<void> => {
    // A fatal error during a shutdown already under way must still make the exit non-zero.
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    if (code !== 0) {
      // A fatal stop (storage failure, lost lease) must not wait for clients: nothing more can be
      // committed here, and a new leader may already be serving.
      app.server.closeAllConnections();
      await Promise.race([app.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    } else {
      await app.close();
    }
    // Stop competing for the lease first, so a process that is shutting down never takes it; a
    // leader gives the lease up only after its last batch is committed.
    const held = leadership as Leadership | null;
    held?.halt();
    const stopRelay = relay as OutboxRelay | null;
    await sequencer.close();
    if (stopRelay !== null) await Promise.race([stopRelay.stop(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (held !== null) await held.stop();
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
  const address = await app.listen({ host: options.host, port: options.port });
  advertised = options.advertise ?? address;
  if (postgres === null) {
    try {
      await asWriter();
    } catch (error) {
      logger.fatal({ err: error }, 'could not start as the writer');
      await stop(70);
      return;
    }
    logger.info({ url: address, data: dir.path, store: store.kind, role: 'leader' }, 'listening');
    return;
  }
  leadership = new Leadership(postgres, sequencer, {
    holder: `${advertised} pid ${process.pid} ${randomBytes(4).toString('hex')}`,
    self: advertised,
    follow: options.follow === true,
    leaseTtlMs,
    leaseRenewMs,
    leasePollMs,
    tailMs: replicaTailMs,
    log: logger,
    engine: engineOptions,
    onPromoted: asWriter,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'lost the writer role or could not keep the replica; exiting so a restart recovers from the journal');
      void stop(70);
    },
  });
  // A first (or only) process takes the lease in this first round, so it answers as the leader
  // from the moment it says it is listening.
  await leadership.start();
  logger.info({ url: address, data: dir.path, store: store.kind, role: leadership.isLeader ? 'leader' : 'replica', leader: leadership.leader(), follow: options.follow === true, advertise: advertised }, 'listening');
}
