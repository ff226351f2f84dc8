/**
 * `npm run bench`: runs every benchmark, each in its own Node process so that one cannot change
 * another's heap, JIT state or resident memory, and writes one JSON report to
 * bench/results/bench-<date>.json and bench/results/latest.json, with the machine it ran on.
 * SQLite and PostgreSQL are measured in the same run, side by side:
 *
 *   1. core, batch size 1, SQLite then PostgreSQL  (bench/core.bench.ts --store S --sizes 1)
 *   2. core, batch size 100, SQLite then PostgreSQL
 *   3. core, batch size 8190, SQLite then PostgreSQL
 *   4. API, SQLite             (bench/api.bench.ts --store sqlite: a real server, payments over HTTP)
 *   5. API, PostgreSQL         (bench/api.bench.ts --store postgres)
 *   6. memory, core only       (bench/memory.bench.ts --mode core)
 *   7. memory, engine          (bench/memory.bench.ts --mode engine)
 *
 * Every child runs as `node --expose-gc --import tsx ...`: the memory benchmark needs gc() to
 * measure held memory, and the core benchmark uses it to start the timed window and recovery
 * from a collected heap. PostgreSQL is the server at `--db`, else TENGRI_BENCH_POSTGRES_URL, else
 * postgres://postgres@127.0.0.1:5432/test; each scenario works in a fresh schema that it drops
 * afterwards. Without a server the run stops at once and says so; `--stores sqlite` runs without.
 *
 * It prints a Markdown summary for docs/PERFORMANCE.md. The targets are reported, not enforced:
 * the exit code is non-zero only when a benchmark fails (an error, a rejected transfer, a
 * recovered state that differs from the live one, or an API run whose ledger does not hold
 * exactly the payments answered 2xx).
 *
 *   npm run bench [-- --sizes 1,100,8190] [-- --stores sqlite,postgres] [-- --db URL] [-- --no-api] [-- --no-memory]
 *
 * A run with other sizes or stores, or without the API or memory benchmarks, writes
 * bench-<date>-partial.json and leaves latest.json alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiReport, ApiResult } from './api.bench.ts';
import type { CoreReport, ScenarioResult } from './core.bench.ts';
import type { MemoryReport } from './memory.bench.ts';
import type { PostgresInfo, StoreKind } from './support.ts';
import { benchPostgresUrl, fileStamp, machineInfo, mebibyte, parseStoreKind, postgresInfo, repositoryRoot, resultsDirectory, storeKinds, writeJson } from './support.ts';

/** The issue's targets. A benchmark, not a test: missing one is reported, not failed. */
export const targets = {
  durableTransfersPerSecondAt8190: 300_000,
  rssBytesFor1MAccounts: 1024 * mebibyte,
} as const;

interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const defaultSizes = '1,100,8190';
const defaultStores = storeKinds.join(',');

function runChild(script: string, args: string[], nodeFlags: string[] = []): void {
  const started = performance.now();
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], { cwd: repositoryRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (child.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (status ${child.status}, signal ${child.signal}) after ${seconds} s`);
  process.stderr.write(`  (${seconds} s)\n`);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: defaultSizes },
      stores: { type: 'string', default: defaultStores },
      db: { type: 'string' },
      'no-api': { type: 'boolean', default: false },
      'no-memory': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
  const stores = values.stores.split(',').map((store) => parseStoreKind(store.trim()));
  const date = new Date();
  const loadAverageAtStart = os.loadavg();
  let postgres: PostgresInfo | null = null;
  if (stores.includes('postgres')) {
    const url = benchPostgresUrl(values.db);
    try {
      postgres = await postgresInfo(url);
    } catch (error) {
      throw new Error(
        `no PostgreSQL server at ${url} (${error instanceof Error ? error.message : String(error)}): start one, pass --db URL or set TENGRI_BENCH_POSTGRES_URL, or run --stores sqlite`,
      );
    }
    // The children read the URL from the environment, as a standalone run of them would.
    if (values.db !== undefined) process.env.TENGRI_BENCH_POSTGRES_URL = values.db;
  }
  const scratch = mkdtempSync(join(os.tmpdir(), 'tengri-bench-run-'));
  const started = performance.now();
  try {
    const scenarios: ScenarioResult[] = [];
    // Each size on both stores one after the other, so that each pair ran in the same conditions.
    for (const size of sizes) {
      for (const store of stores) {
        process.stderr.write(`\n== core, ${store}, batch size ${size}\n`);
        const out = join(scratch, `core-${store}-${size}.json`);
        runChild('bench/core.bench.ts', ['--store', store, '--sizes', String(size), '--out', out], ['--expose-gc']);
        scenarios.push(...readJson<CoreReport>(out).scenarios);
      }
    }
    const api: ApiResult[] = [];
    if (!values['no-api']) {
      for (const store of stores) {
        process.stderr.write(`\n== API, ${store}\n`);
        const out = join(scratch, `api-${store}.json`);
        runChild('bench/api.bench.ts', ['--store', store, '--out', out]);
        api.push(readJson<ApiReport>(out).result);
      }
    }
    const memory: MemoryReport[] = [];
    if (!values['no-memory']) {
      for (const mode of ['core', 'engine'] as const) {
        process.stderr.write(`\n== memory, ${mode}\n`);
        const out = join(scratch, `memory-${mode}.json`);
        runChild('bench/memory.bench.ts', ['--mode', mode, '--out', out], ['--expose-gc']);
        memory.push(readJson<MemoryReport>(out));
      }
    }

    const targetRows: Target[] = [];
    for (const large of scenarios.filter((s) => s.options.batchSize === 8190)) {
      targetRows.push({
        name: `durable transfers per second at batch size 8190 (${storeName(large.store)})`,
        target: `≥ ${targets.durableTransfersPerSecondAt8190.toLocaleString('en-US')}`,
        measured: large.measured.transfersPerSecond.toLocaleString('en-US'),
        met: large.measured.transfersPerSecond >= targets.durableTransfersPerSecondAt8190,
      });
    }
    for (const report of memory) {
      targetRows.push({
        name: `RSS with 1,000,000 accounts (${report.mode})`,
        target: `≤ ${(targets.rssBytesFor1MAccounts / mebibyte).toFixed(0)} MiB`,
        measured: `${(report.withAccounts.rssBytes / mebibyte).toFixed(0)} MiB`,
        met: report.withAccounts.rssBytes <= targets.rssBytesFor1MAccounts,
      });
    }
    const report = {
      benchmark: 'tengri',
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      date: date.toISOString(),
      durationSeconds: Math.round((performance.now() - started) / 1000),
      machine: machineInfo(),
      postgres,
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
      targets: targetRows,
      core: scenarios,
      api,
      memory,
    };
    // Only a complete run replaces latest.json; a partial one is kept under its own name.
    const complete = values.sizes === defaultSizes && stores.join(',') === defaultStores && !values['no-api'] && !values['no-memory'];
    const file = join(resultsDirectory, `bench-${fileStamp(date)}${complete ? '' : '-partial'}.json`);
    writeJson(file, report);
    if (complete) writeJson(join(resultsDirectory, 'latest.json'), report);
    process.stderr.write(`\nwrote ${file}${complete ? ' and bench/results/latest.json' : ''} (${report.durationSeconds} s in all)\n\n`);
    process.stdout.write(markdown(report.machine, postgres, loadAverageAtStart, report.loadAverageAtEnd, scenarios, api, memory, targetRows) + '\n');
    const failed = scenarios.some((s) => !s.verification.allOk || !s.verification.recoveredDigestMatches) || api.some((a) => !a.verification.ok);
    process.exitCode = failed ? 1 : 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function storeName(store: StoreKind): string {
  return store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
}

function markdown(
  machine: ReturnType<typeof machineInfo>,
  postgres: PostgresInfo | null,
  loadAtStart: number[],
  loadAtEnd: number[],
  scenarios: ScenarioResult[],
  api: ApiResult[],
  memory: MemoryReport[],
  targetRows: Target[],
): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(' / ');
  const lines = [
    `Machine: ${machine.cpuModel}, ${machine.cpuCount} CPUs, ${(machine.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${machine.platform} ${machine.osRelease}, Node ${machine.node}, SQLite ${machine.sqlite} (better-sqlite3 ${machine.betterSqlite3})` +
      (postgres === null ? '' : `, PostgreSQL ${postgres.serverVersion} (synchronous_commit ${postgres.synchronousCommit}, fsync ${postgres.fsync}, wal_sync_method ${postgres.walSyncMethod}; pg ${postgres.pg})`),
    `Load average (1 / 5 / 15 min): ${load(loadAtStart)} at start, ${load(loadAtEnd)} at end`,
    '',
    '| store | batch size | in flight | transfers/s | commit p50 (ms) | commit p99 (ms) | commit max (ms) | apply p50 (ms/batch) | store append p50 (ms/batch) | time in apply / append / other | recovery (commands/s) | machine CPU busy |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const s of scenarios) {
    const share = (value: number): string => `${Math.round(value * 100)}%`;
    lines.push(
      `| ${storeName(s.store)} | ${n(s.options.batchSize)} | ${s.options.inFlight} | ${n(s.measured.transfersPerSecond)} | ${s.commitLatencyMs.p50} | ${s.commitLatencyMs.p99} | ${s.commitLatencyMs.max} | ${s.sequencer.applyMs.p50} | ${s.sequencer.commitMs.p50} | ${share(s.sequencer.applyShare)} / ${share(s.sequencer.commitShare)} / ${share(s.sequencer.otherShare)} | ${n(s.verification.recoveryCommandsPerSecond)} | ${s.machineCpuBusy === null ? '?' : share(s.machineCpuBusy)} |`,
    );
  }
  if (api.length > 0) {
    lines.push(
      '',
      '| API (`POST /v1/payments`) | connections | payments/s | p50 (ms) | p99 (ms) | max (ms) | non-2xx | server batches (commands each) | server commit mean (ms) | server CPU (cores) | machine CPU busy | verified |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const a of api) {
      const m = a.measured;
      const busy = m.machineCpuBusy === null ? '?' : `${Math.round(m.machineCpuBusy * 100)}%`;
      const verified = a.verification.ok ? `yes: ${n(a.verification.acceptedByLedger)} in the ledger = ${n(a.verification.answered2xx)} 2xx + ${a.verification.acceptedUnanswered} unanswered` : `NO: ${a.verification.failures.join('; ')}`;
      lines.push(
        `| ${storeName(a.store)} | ${a.options.connections} | ${n(m.paymentsPerSecond)} | ${m.latencyMs.p50} | ${m.latencyMs.p99} | ${m.latencyMs.max} | ${m.non2xx} | ${n(m.server.batches)} (${m.server.commandsPerBatch}) | ${m.server.commitMsMean} | ${m.server.cpuCores} | ${busy} | ${verified} |`,
      );
    }
  }
  if (memory.length > 0) {
    lines.push('', '| memory mode | accounts | RSS (MiB) | heap used (MiB) | heap bytes/account | peak RSS (MiB) |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const m of memory) {
      const mib = (bytes: number): string => (bytes / mebibyte).toFixed(0);
      lines.push(`| ${m.mode} | ${n(m.accounts)} | ${mib(m.withAccounts.rssBytes)} | ${mib(m.withAccounts.heapUsedBytes)} | ${m.heapBytesPerAccount} | ${mib(m.peakRssBytes)} |`);
    }
  }
  if (targetRows.length > 0) {
    lines.push('', '| target | required | measured | met |', '| --- | ---: | ---: | --- |');
    for (const t of targetRows) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}

await main();
