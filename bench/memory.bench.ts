/**
 * Memory benchmark: resident memory with 1,000,000 accounts held.
 *
 * Modes:
 * - core: the Ledger alone (as createLedger makes it, with the platform extension but no platform
 *   records), in-process: genesis, then Ledger.apply of create_account commands in
 *   batches of 8190. Then, as a second figure, 1,000,000 transfers (issuance to random accounts,
 *   8190 per batch) to show what each transfer held in memory costs.
 * - engine: the same accounts through the real engine (SqliteStore in a temporary directory,
 *   openEngine, Sequencer.submit in requests of 8190, two in flight): what a running node holds,
 *   including SQLite's page cache and the sequencer.
 *
 * After creating the accounts it forces full garbage collections and reads process.memoryUsage():
 * RSS is the figure the target is about (at most 1 GiB for 1,000,000 accounts). It needs
 * `--expose-gc`; run without it, it re-runs itself in a child process with the flag, which also
 * keeps its RSS clean of whatever the caller had loaded.
 *
 *   npx tsx bench/memory.bench.ts [--mode core|engine] [--accounts 1000000] [--transfers 1000000] [--out file.json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { genesisCommands, openEngine } from '../src/engine/engine.ts';
import type { Command, CommandResult } from '../src/ledger/types.ts';
import { createLedger } from '../src/platform/index.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import type { MachineInfo } from './support.ts';
import { fileStamp, gibibyte, machineInfo, mebibyte, resultsDirectory, round, seededRandom, writeJson } from './support.ts';

export type MemoryMode = 'core' | 'engine';

export interface MemorySnapshot {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
}

export interface MemoryReport {
  readonly benchmark: 'memory';
  readonly mode: MemoryMode;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly accounts: number;
  readonly batchCommands: number;
  /** After the modules are loaded and a full GC, before any account exists. */
  readonly baseline: MemorySnapshot;
  /** After the accounts are created and full GCs. */
  readonly withAccounts: MemorySnapshot;
  /** Peak RSS of the whole process so far (getrusage), including garbage not yet collected. */
  readonly peakRssBytes: number;
  readonly createMs: number;
  readonly accountsPerSecond: number;
  /** Growth of the JS heap per account (heapUsed difference / accounts). */
  readonly heapBytesPerAccount: number;
  readonly rssBytesPerAccount: number;
  readonly target: { readonly rssMaxBytes: number; readonly met: boolean };
  /** Core mode only: memory held per transfer, from `transfers` transfers applied after the accounts. */
  readonly transfers: null | {
    readonly count: number;
    readonly withTransfers: MemorySnapshot;
    readonly heapBytesPerTransfer: number;
    readonly applyMs: number;
  };
}

export const rssTargetBytes = gibibyte;
const batchCommands = 8190;

function snapshot(): MemorySnapshot {
  const gc = (globalThis as { gc?: () => void }).gc!;
  // A few full collections, so garbage left by the setup does not count as held memory.
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal, externalBytes: usage.external, arrayBuffersBytes: usage.arrayBuffers };
}

function accountCommands(from: number, to: number): Command[] {
  const commands: Command[] = [];
  for (let i = from; i < to; i++) {
    commands.push({ kind: 'create_account', id: `acct:${String(i).padStart(7, '0')}`, asset: 'KZT', allowNegative: false, maxBalance: null });
  }
  return commands;
}

function expectAllOk(results: readonly CommandResult[], what: string): void {
  for (const result of results) {
    if (!result.ok || result.existed) throw new Error(`${what}: ${JSON.stringify(result)}`);
  }
}

export async function runMemory(mode: MemoryMode, accounts: number, transferCount: number): Promise<MemoryReport> {
  const date = new Date();
  const machine = machineInfo();
  const baseline = snapshot();
  let withAccounts: MemorySnapshot;
  let createMs: number;
  let transfers: MemoryReport['transfers'] = null;

  if (mode === 'core') {
    // The ledger as the engine makes it (with the platform extension, which the genesis batch
    // needs for the default KYC tiers); it holds no platform records here.
    const ledger = createLedger();
    let timestamp = Date.now();
    expectAllOk(ledger.apply(genesisCommands, timestamp++).results, 'genesis');
    const genesisAccounts = ledger.accountCount;
    const start = performance.now();
    for (let i = 0; i < accounts; i += batchCommands) {
      expectAllOk(ledger.apply(accountCommands(i, Math.min(accounts, i + batchCommands)), timestamp++).results, 'create_account');
    }
    createMs = performance.now() - start;
    withAccounts = snapshot();
    if (ledger.accountCount !== genesisAccounts + accounts) throw new Error(`expected ${genesisAccounts + accounts} accounts, have ${ledger.accountCount}`);

    if (transferCount > 0) {
      const random = seededRandom(0x3e3);
      const applyStart = performance.now();
      for (let i = 0; i < transferCount; i += batchCommands) {
        const commands: Command[] = [];
        for (let j = i; j < Math.min(transferCount, i + batchCommands); j++) {
          const credit = `acct:${String((random() * accounts) | 0).padStart(7, '0')}`;
          commands.push({ kind: 'create_transfer', id: `issue:${j}`, debit: 'cb:issuance', credit, amount: 100n, pending: false, timeoutSeconds: 0, code: 1, reference: '' });
        }
        expectAllOk(ledger.apply(commands, timestamp++).results, 'create_transfer');
      }
      const applyMs = performance.now() - applyStart;
      const withTransfers = snapshot();
      if (ledger.transferCount !== transferCount) throw new Error('transfer count');
      transfers = {
        count: transferCount,
        withTransfers,
        heapBytesPerTransfer: Math.round((withTransfers.heapUsedBytes - withAccounts.heapUsedBytes) / transferCount),
        applyMs: round(applyMs, 1),
      };
    }
  } else {
    const directory = mkdtempSync(join(tmpdir(), 'tengri-bench-memory-'));
    try {
      const store = new SqliteStore(join(directory, 'ledger.sqlite'));
      const { sequencer } = await openEngine(store, { batchCommandsMax: batchCommands });
      const genesisAccounts = sequencer.ledger.accountCount;
      const start = performance.now();
      let next = 0;
      const inFlight: Promise<void>[] = [];
      const submitNext = async (): Promise<void> => {
        while (next < accounts) {
          const from = next;
          next = Math.min(accounts, next + batchCommands);
          expectAllOk(await sequencer.submit(accountCommands(from, next)), 'create_account');
        }
      };
      for (let i = 0; i < 2; i++) inFlight.push(submitNext());
      await Promise.all(inFlight);
      createMs = performance.now() - start;
      withAccounts = snapshot();
      if (sequencer.ledger.accountCount !== genesisAccounts + accounts) throw new Error('account count');
      await sequencer.close();
      await store.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  return {
    benchmark: 'memory',
    mode,
    date: date.toISOString(),
    machine,
    accounts,
    batchCommands,
    baseline,
    withAccounts,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    createMs: round(createMs, 1),
    accountsPerSecond: Math.round((accounts / createMs) * 1000),
    heapBytesPerAccount: Math.round((withAccounts.heapUsedBytes - baseline.heapUsedBytes) / accounts),
    rssBytesPerAccount: Math.round((withAccounts.rssBytes - baseline.rssBytes) / accounts),
    target: { rssMaxBytes: rssTargetBytes, met: withAccounts.rssBytes <= rssTargetBytes },
    transfers,
  };
}

export function describeMemory(report: MemoryReport): string {
  const mib = (bytes: number): string => `${(bytes / mebibyte).toFixed(1)} MiB`;
  const parts = [
    `memory (${report.mode}): ${report.accounts.toLocaleString('en-US')} accounts: RSS ${mib(report.withAccounts.rssBytes)}`,
    `(target ≤ ${mib(report.target.rssMaxBytes)}: ${report.target.met ? 'met' : 'MISSED'}), heapUsed ${mib(report.withAccounts.heapUsedBytes)},`,
    `${report.heapBytesPerAccount} heap bytes/account, peak RSS ${mib(report.peakRssBytes)}, created at ${report.accountsPerSecond.toLocaleString('en-US')}/s`,
  ];
  if (report.transfers !== null) {
    parts.push(`; ${report.transfers.count.toLocaleString('en-US')} transfers add ${report.transfers.heapBytesPerTransfer} heap bytes each (RSS ${mib(report.transfers.withTransfers.rssBytes)})`);
  }
  return parts.join(' ');
}

async function main(): Promise<void> {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    // Re-run with --expose-gc, keeping the loader flags (tsx) this process was started with.
    const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
    process.exitCode = child.status ?? 1;
    return;
  }
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'core' },
      accounts: { type: 'string', default: '1000000' },
      transfers: { type: 'string', default: '1000000' },
      out: { type: 'string' },
    },
  });
  const mode = values.mode;
  if (mode !== 'core' && mode !== 'engine') throw new Error(`--mode must be core or engine, not ${mode}`);
  const accounts = Number(values.accounts);
  const transfers = mode === 'core' ? Number(values.transfers) : 0;
  if (!Number.isSafeInteger(accounts) || accounts < 1) throw new Error('--accounts must be a positive integer');
  if (!Number.isSafeInteger(transfers) || transfers < 0) throw new Error('--transfers must be a non-negative integer');
  const report = await runMemory(mode, accounts, transfers);
  process.stderr.write(describeMemory(report) + '\n');
  const out = values.out ?? join(resultsDirectory, `memory-${mode}-${fileStamp(new Date(report.date))}.json`);
  writeJson(resolve(out), report);
  process.stderr.write(`wrote ${out}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main();
}
