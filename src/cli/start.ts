/**
 * `tengri start`: lock the data directory, recover the ledger from its journal, serve the API,
 * and shut down cleanly on SIGINT or SIGTERM (stop accepting, commit what is queued, close).
 */
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import pino from 'pino';
import { capacityHeapBytes } from '../engine/capacity.ts';
import { buildApp } from '../api/app.ts';
import { openEngine } from '../engine/engine.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
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
}

export async function start(options: StartOptions): Promise<void> {
  const logger = pino({ level: options.logLevel ?? 'info', redact: ['req.headers.authorization'] });
  const dir = dataDir(options.data);
  ensureDataDir(dir);
  const releaseLock = acquireLock(dir);
  // The token is checked before anything is written, so a bad one fails a first start cleanly.
  const token = operatorToken(dir);
  const store = new SqliteStore(dir.databasePath);
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
  const app = await buildApp({ sequencer, adminToken: token.token, storeKind: store.kind, logger, webhooksFile: join(dir.path, 'webhooks.json') });
  let stopping = false;
  let exitCode = 0;
  const stop = async (code: number): Promise<void> => {
    // A fatal error during a shutdown already under way must still make the exit non-zero.
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    logger.info('shutting down');
    await app.close();
    await sequencer.close();
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
  logger.info({ url: address, data: dir.path, store: store.kind }, 'listening');
}
