/**
 * Helpers shared by the benchmarks: the description of the machine a run happened on, a seeded
 * PRNG, percentiles, where results go, and the PostgreSQL server the benchmarks that compare
 * stores use (a fresh schema per run, dropped afterwards). Benchmarks measure; they are not tests
 * and assert no targets, they only report whether each target was met.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export const repositoryRoot = resolve(import.meta.dirname, '..');
export const resultsDirectory = resolve(repositoryRoot, 'bench/results');

export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical CPUs the OS reports (os.cpus().length). */
  readonly cpuCount: number;
  /** CPUs this process may use (os.availableParallelism()), which a container may restrict. */
  readonly availableParallelism: number;
  readonly totalMemoryBytes: number;
  readonly platform: string;
  readonly osRelease: string;
  readonly arch: string;
  readonly node: string;
  readonly v8: string;
  readonly sqlite: string;
  readonly betterSqlite3: string;
  readonly temporaryDirectory: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    platform: os.platform(),
    osRelease: os.release(),
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
    sqlite,
    betterSqlite3: packageVersion('better-sqlite3'),
    temporaryDirectory: os.tmpdir(),
  };
}

function packageVersion(name: string): string {
  try {
    // Read the installed package's own manifest rather than the range in our package.json.
    const path = resolve(repositoryRoot, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export { seededRandom } from '../test/support/seeded-random.ts';

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly total: number;
}

/** Nearest-rank percentiles over the samples (which it sorts in place). */
export function distribution(samples: Float64Array | number[]): Distribution {
  const sorted = samples instanceof Float64Array ? samples.sort() : Float64Array.from(samples).sort();
  const count = sorted.length;
  if (count === 0) return { count: 0, mean: 0, p50: 0, p99: 0, max: 0, total: 0 };
  let total = 0;
  for (let i = 0; i < count; i++) total += sorted[i]!;
  const rank = (p: number): number => sorted[Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1))]!;
  return { count, mean: round(total / count), p50: round(rank(0.5)), p99: round(rank(0.99)), max: round(sorted[count - 1]!), total: round(total) };
}

/** Rounds to 3 decimals, enough for milliseconds and rates in a report. */
export function round(value: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** A file-name-safe UTC timestamp, e.g. 2025-01-31T12-00-00Z. */
export function fileStamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

export const mebibyte = 1024 * 1024;
export const gibibyte = 1024 * mebibyte;

/** The journal stores a benchmark can run on. */
export type StoreKind = 'sqlite' | 'postgres';
export const storeKinds: readonly StoreKind[] = ['sqlite', 'postgres'];

export function parseStoreKind(value: string): StoreKind {
  if (value === 'sqlite' || value === 'postgres') return value;
  throw new Error(`--store must be sqlite or postgres, not ${JSON.stringify(value)}`);
}

export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

/** The PostgreSQL server to benchmark: `--db`, else TENGRI_BENCH_POSTGRES_URL, else the local default. */
export function benchPostgresUrl(flag: string | undefined): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnvironment = process.env.TENGRI_BENCH_POSTGRES_URL;
  return fromEnvironment !== undefined && fromEnvironment !== '' ? fromEnvironment : defaultPostgresUrl;
}

/** The URL without its password, for reports. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export interface PostgresInfo {
  readonly url: string;
  readonly serverVersion: string;
  readonly synchronousCommit: string;
  readonly fsync: string;
  readonly walSyncMethod: string;
  readonly fullPageWrites: string;
  readonly sharedBuffers: string;
  readonly commitDelay: string;
  /** The node-postgres client. */
  readonly pg: string;
}

async function withPostgres<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server's version and the settings that decide what a durable commit costs. */
export async function postgresInfo(url: string): Promise<PostgresInfo> {
  return withPostgres(url, async (client) => {
    const setting = async (name: string): Promise<string> => (await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])).rows[0]!.value;
    return {
      url: redactUrl(url),
      serverVersion: await setting('server_version'),
      synchronousCommit: await setting('synchronous_commit'),
      fsync: await setting('fsync'),
      walSyncMethod: await setting('wal_sync_method'),
      fullPageWrites: await setting('full_page_writes'),
      sharedBuffers: await setting('shared_buffers'),
      commitDelay: await setting('commit_delay'),
      pg: packageVersion('pg'),
    };
  });
}

/**
 * A new schema name for one benchmark run on `url` (PostgresStore.open creates the schema), and
 * a cleanup that drops it with everything in it and then runs a CHECKPOINT, so that the server's
 * background writes of what the run left behind (up to a few hundred MB at batch size 8190) are
 * done before the next scenario starts instead of competing with it for the disk. The CHECKPOINT
 * needs a superuser or pg_checkpoint; without either it is skipped. The name is checked to be
 * unused.
 */
export async function freshPostgresSchema(url: string, label: string): Promise<{ readonly schema: string; bytes(): Promise<number>; drop(): Promise<void> }> {
  const schema = `tengri_bench_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const exists = await withPostgres(url, async (client) => (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1);
  if (exists) throw new Error(`schema ${schema} already exists`);
  return {
    schema,
    /** Bytes on disk of every table of the schema, with their indexes and TOAST. */
    bytes: () =>
      withPostgres(url, async (client) => {
        const result = await client.query<{ bytes: string | null }>(
          `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
          [schema],
        );
        return Number(result.rows[0]?.bytes ?? 0);
      }),
    drop: () =>
      withPostgres(url, async (client) => {
        await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
        await client.query('CHECKPOINT').catch(() => {});
      }),
  };
}

/** Busy and total CPU time of the whole machine (all CPUs), from /proc/stat; null elsewhere. */
export function machineCpuTimes(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Share of all the machine's CPU time that was busy between two readings of machineCpuTimes(). */
export function cpuBusyShare(before: { busy: number; total: number } | null, after: { busy: number; total: number } | null): number | null {
  if (before === null || after === null || after.total === before.total) return null;
  return round((after.busy - before.busy) / (after.total - before.total), 2);
}
