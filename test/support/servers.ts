/**
 * Test helpers that run Tengri for real: in-process (the real engine and the real Fastify app,
 * reachable by `inject()` or by HTTP on loopback, with its journal in a real SQLite file in a
 * temporary directory or in a fresh schema of a real PostgreSQL server), or as a separate
 * `tengri start` process that a test may kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { openEngine } from '../../src/engine/engine.ts';
import type { Sequencer, SequencerOptions } from '../../src/engine/sequencer.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { freshSchema, postgresUrl, type TestPostgres } from './postgres.ts';

export const testToken = 'test-operator-token-0123456789';
export const repositoryRoot = resolve(import.meta.dirname, '../..');

export function temporaryDirectory(prefix = 'tengri-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The journal backends that the store contract, the crash test and the API suites run against. */
export const backends = ['sqlite', 'postgres'] as const;
export type Backend = (typeof backends)[number];

let sharedPostgres: Promise<TestPostgres> | null = null;

/**
 * The PostgreSQL server of the calling test file, found (or started, see postgres.ts) on first use
 * and kept until `releaseTestPostgres()`. When none can be had, it rejects with postgres.ts's loud
 * error naming the test file: the PostgreSQL runs fail, they never skip.
 */
export function testPostgres(): Promise<TestPostgres> {
  if (sharedPostgres === null) {
    const file = expect.getState().testPath;
    sharedPostgres = postgresUrl(`the PostgreSQL runs of ${file === undefined ? 'this test file' : relative(repositoryRoot, file)}`);
  }
  return sharedPostgres;
}

/** Stops an embedded cluster started by `testPostgres()` (nothing for a running server). Idempotent. */
export async function releaseTestPostgres(): Promise<void> {
  const shared = sharedPostgres;
  sharedPostgres = null;
  const server = await shared?.catch(() => null);
  await server?.stop();
}

/**
 * Declares `suite` once per backend, each inside `describe('on <backend>')`, so every test name
 * says which backend it ran on. The suite starts its servers with that backend (e.g.
 * `startInProcess({ backend })`). The file's PostgreSQL server is released after everything in
 * the file has run. `concurrent` runs the backends' suites at the same time (for suites that
 * mostly wait on other processes and share no state between backends); by default one after the other.
 */
export function describeEachBackend(suite: (backend: Backend) => void, options: { concurrent?: boolean } = {}): void {
  afterAll(releaseTestPostgres);
  (options.concurrent === true ? describe.concurrent : describe).each(backends)('on %s', suite);
}

export interface InProcess {
  readonly backend: Backend;
  readonly app: FastifyInstance;
  readonly sequencer: Sequencer;
  readonly store: SqliteStore | PostgresStore;
  readonly directory: string;
  readonly auth: { authorization: string };
  close(): Promise<void>;
}

/**
 * Starts the engine and the app in this process. `backend` 'sqlite' (the default) keeps the
 * journal in `<directory>/ledger.sqlite`; 'postgres' keeps it in a fresh schema on the file's
 * PostgreSQL server (`testPostgres()`), which `close()` drops again. An in-process PostgresStore
 * has no fencing token: it may append while nobody holds the writer lease, as in a fresh schema.
 */
export async function startInProcess(options: SequencerOptions & { backend?: Backend; directory?: string; keep?: boolean } = {}): Promise<InProcess> {
  const { backend = 'sqlite', directory: givenDirectory, keep, ...engineOptions } = options;
  const directory = givenDirectory ?? temporaryDirectory();
  const cleanups: (() => void | Promise<void>)[] = [];
  if (keep !== true && givenDirectory === undefined) cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  // Undone in reverse order, each step even when an earlier one failed (the first failure is thrown).
  const cleanUp = async (): Promise<void> => {
    let failure: unknown = null;
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
  };
  try {
    let store: SqliteStore | PostgresStore;
    if (backend === 'postgres') {
      const database = await testPostgres();
      const schema = freshSchema(database.url);
      cleanups.push(() => schema.drop());
      store = await PostgresStore.open(database.url, { schema: schema.schema });
    } else {
      store = new SqliteStore(join(directory, 'ledger.sqlite'));
    }
    const opened = store;
    cleanups.push(() => opened.close());
    const { sequencer } = await openEngine(store, engineOptions);
    cleanups.push(() => sequencer.close());
    const app = await buildApp({ sequencer, adminToken: testToken, storeKind: store.kind });
    cleanups.push(() => app.close());
    await app.ready();
    return { backend, app, sequencer, store, directory, auth: { authorization: `Bearer ${testToken}` }, close: cleanUp };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

export interface ServerProcess {
  readonly url: string;
  readonly token: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<number | string>;
  stderr(): string;
}

/** Runs `node bin/tengri.js start --port 0` on `directory` and resolves once it listens. */
/** A running `tengri` process whose JSON log lines are watched. */
export interface WatchedProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<number | string>;
  stderr(): string;
  /**
   * Resolves with the log line's `url` field (or '' when it has none) once the process logs `msg`
   * (at once if it already did); rejects if the process exits first or `timeoutMs` passes.
   */
  when(msg: string, timeoutMs?: number): Promise<string>;
}

/** Runs `node bin/tengri.js <args>` with the test operator token and watches its log lines. */
export function watchTengri(args: string[]): WatchedProcess {
  const child = spawn(process.execPath, [join(repositoryRoot, 'bin/tengri.js'), ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, TENGRI_ADMIN_TOKEN: testToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<number | string>((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown'));
  });
  const seen = new Map<string, string>();
  const waiters: { msg: string; resolve: (url: string) => void }[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let entry: { msg?: unknown; url?: unknown };
      try {
        entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
      } catch {
        continue; // not a log line
      }
      if (typeof entry.msg !== 'string') continue;
      const url = typeof entry.url === 'string' ? entry.url : '';
      seen.set(entry.msg, url);
      for (const waiter of waiters.filter((w) => w.msg === entry.msg)) waiter.resolve(url);
    }
  });
  return {
    child,
    exited,
    stderr: () => errors,
    when(msg, timeoutMs = 30_000) {
      const url = seen.get(msg);
      if (url !== undefined) return Promise.resolve(url);
      return new Promise((resolveWhen, rejectWhen) => {
        const timer = setTimeout(() => rejectWhen(new Error(`tengri ${args[0]} did not log "${msg}" within ${timeoutMs} ms: ${errors}`)), timeoutMs);
        waiters.push({
          msg,
          resolve: (found) => {
            clearTimeout(timer);
            resolveWhen(found);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          rejectWhen(new Error(`tengri ${args[0]} exited (${code}) before it logged "${msg}": ${errors}`));
        });
      });
    },
  };
}

/** Runs `node bin/tengri.js start --port 0` on `directory` and resolves once it listens. */
export async function spawnServer(directory: string, extraArguments: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  const watched = watchTengri(['start', '--data', directory, '--port', '0', ...extraArguments]);
  try {
    const url = await watched.when('listening', timeoutMs);
    return { url, token: testToken, child: watched.child, exited: watched.exited, stderr: watched.stderr };
  } catch (error) {
    watched.child.kill('SIGKILL');
    throw error;
  }
}

const scratch: string[] = [];

/** A temporary directory that `removeScratchDirectories()` (called in a file's afterAll) removes. */
export function scratchDirectory(): string {
  const directory = temporaryDirectory();
  scratch.push(directory);
  return directory;
}

export function removeScratchDirectories(): void {
  for (const directory of scratch.splice(0)) rmSync(directory, { recursive: true, force: true });
}

export async function untilLeader(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing';
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.url} exited (${server.child.exitCode ?? server.child.signalCode}) before it led: ${server.stderr()}`);
    }
    try {
      const response = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2000) });
      const text = await response.text();
      if (response.status === 200 && (JSON.parse(text) as { role?: unknown }).role === 'leader') return;
      last = `${response.status} ${text}`;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`${server.url} did not become the leader within ${timeoutMs} ms; /health last answered ${last}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/** Runs `node bin/tengri.js <args>` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(repositoryRoot, 'bin/tengri.js'), ...args], { cwd: repositoryRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}

export interface SpawnedJournal {
  /** For `tengri start` and `tengri verify` alike: none for SQLite, `--db <url> --db-schema <schema>` for PostgreSQL. */
  readonly arguments: readonly string[];
  /** Drops the PostgreSQL schema (nothing for SQLite: its file goes with the data directory). */
  drop(): Promise<void>;
}

/**
 * Where `tengri start` processes spawned by a test keep their journal: the data directory's SQLite
 * file, or a fresh schema on the file's PostgreSQL server (`testPostgres()`). With `--db`, the data
 * directory still holds the lock file, the operator token and the webhook registrations; a process
 * restarted after a SIGKILL leads only once its predecessor's writer lease has expired (3 s): see
 * `untilLeader`.
 */
export async function spawnedJournal(backend: Backend): Promise<SpawnedJournal> {
  if (backend === 'sqlite') return { arguments: [], drop: async () => {} };
  const database = await testPostgres();
  const schema = freshSchema(database.url);
  return { arguments: ['--db', database.url, '--db-schema', schema.schema], drop: () => schema.drop() };
}
