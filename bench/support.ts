/**
 * Helpers shared by the benchmarks: the description of the machine a run happened on, a seeded
 * PRNG, percentiles, and where results go. Benchmarks measure; they are not tests and assert no
 * targets, they only report whether each target was met.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';

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
