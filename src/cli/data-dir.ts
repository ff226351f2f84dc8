/**
 * The data directory: the SQLite journal, the operator token and a lock that keeps a second
 * process from writing the same ledger.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isUsableToken, tokenRule } from '../api/auth.ts';

export interface DataDir {
  readonly path: string;
  readonly databasePath: string;
  readonly tokenPath: string;
  readonly lockPath: string;
}

export function dataDir(path: string): DataDir {
  const absolute = resolve(path);
  return {
    path: absolute,
    databasePath: join(absolute, 'ledger.sqlite'),
    tokenPath: join(absolute, 'admin-token'),
    lockPath: join(absolute, 'tengri.lock'),
  };
}

export function ensureDataDir(dir: DataDir): void {
  mkdirSync(dir.path, { recursive: true, mode: 0o700 });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the writer lock of the data directory. A lock left by a process that no longer runs
 * (after a crash) is taken over; a lock of a live process is an error naming that process.
 */
export function acquireLock(dir: DataDir): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(dir.lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(dir.lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(dir.lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new Error(`the data directory ${dir.path} is in use by process ${holder}`);
      }
      rmSync(dir.lockPath, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dir.path}`);
}

export interface OperatorToken {
  readonly token: string;
  readonly source: 'environment' | 'file' | 'generated';
}

/** TENGRI_ADMIN_TOKEN if set; else the token file; else a new random token written with mode 0600. */
export function operatorToken(dir: DataDir, environment: NodeJS.ProcessEnv = process.env): OperatorToken {
  const fromEnvironment = environment.TENGRI_ADMIN_TOKEN;
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    if (!isUsableToken(fromEnvironment)) throw new Error(`TENGRI_ADMIN_TOKEN: ${tokenRule}`);
    return { token: fromEnvironment, source: 'environment' };
  }
  if (existsSync(dir.tokenPath)) {
    const token = readFileSync(dir.tokenPath, 'utf8').trim();
    if (!isUsableToken(token)) throw new Error(`${dir.tokenPath}: ${tokenRule}`);
    return { token, source: 'file' };
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(dir.tokenPath, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, source: 'generated' };
}
