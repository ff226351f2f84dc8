/**
 * `tengri relay`: the outbox relay (events/relay.ts) as its own process, beside `tengri start`.
 * It reads the outbox of the same ledger (the SQLite file of a data directory, or the PostgreSQL
 * schema) and keeps its position there, so it can be stopped, killed and restarted at any time:
 * it resumes after the last event JetStream acknowledged. Stops on SIGINT or SIGTERM.
 */
import pino from 'pino';
import { OutboxRelay } from '../events/relay.ts';
import { PostgresStore } from '../store/postgres-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { dataDir } from './data-dir.ts';
import { existsSync } from 'node:fs';

export interface RelayCommandOptions {
  readonly nats: string;
  readonly data: string;
  readonly db?: string;
  readonly dbSchema: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly name: string;
}

export async function relay(options: RelayCommandOptions): Promise<void> {
  const logger = pino({ level: 'info' });
  let store: Store;
  if (options.db !== undefined) {
    store = await PostgresStore.open(options.db, { schema: options.dbSchema });
  } else {
    const dir = dataDir(options.data);
    if (!existsSync(dir.databasePath)) throw new Error(`no ledger at ${dir.databasePath}: start it first (tengri start --data ${options.data})`);
    store = new SqliteStore(dir.databasePath);
  }
  const running = await OutboxRelay.start(store, { servers: options.nats, stream: options.stream, subjectPrefix: options.subjectPrefix, name: options.name, log: logger });
  logger.info({ nats: options.nats, stream: options.stream, position: running.position }, 'relay started');
  const report = setInterval(() => logger.info({ position: running.position, published: running.published }, 'relay progress'), 10_000);
  report.unref();
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(report);
    await running.stop();
    await store.close();
    logger.info({ position: running.position, published: running.published }, 'relay stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
