/**
 * Test helpers that run Tengri for real: in-process (a real SQLite file in a temporary directory,
 * the real engine and the real Fastify app, reachable by `inject()` or by HTTP on loopback), or
 * as a separate `tengri start` process that a test may kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { openEngine } from '../../src/engine/engine.ts';
import type { Sequencer, SequencerOptions } from '../../src/engine/sequencer.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

export const testToken = 'test-operator-token-0123456789';
export const repositoryRoot = resolve(import.meta.dirname, '../..');

export function temporaryDirectory(prefix = 'tengri-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface InProcess {
  readonly app: FastifyInstance;
  readonly sequencer: Sequencer;
  readonly store: SqliteStore;
  readonly directory: string;
  readonly auth: { authorization: string };
  close(): Promise<void>;
}

export async function startInProcess(options: SequencerOptions & { directory?: string; keep?: boolean } = {}): Promise<InProcess> {
  const directory = options.directory ?? temporaryDirectory();
  const store = new SqliteStore(join(directory, 'ledger.sqlite'));
  const { sequencer } = await openEngine(store, options);
  const app = await buildApp({ sequencer, adminToken: testToken, storeKind: store.kind });
  await app.ready();
  return {
    app,
    sequencer,
    store,
    directory,
    auth: { authorization: `Bearer ${testToken}` },
    async close() {
      await app.close();
      await sequencer.close();
      await store.close();
      if (options.keep !== true && options.directory === undefined) rmSync(directory, { recursive: true, force: true });
    },
  };
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
export function spawnServer(directory: string, extraArguments: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(repositoryRoot, 'bin/tengri.js'), 'start', '--data', directory, '--port', '0', ...extraArguments], {
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
  return new Promise((resolveStart, rejectStart) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`server did not start within ${timeoutMs} ms: ${errors}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'listening' && typeof entry.url === 'string') {
            clearTimeout(timer);
            resolveStart({ url: entry.url, token: testToken, child, exited, stderr: () => errors });
          }
        } catch {
          // not a log line
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rejectStart(new Error(`server exited (${code}) before listening: ${errors}`));
    });
  });
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
