/**
 * Core benchmark: durable transfers through the real engine in-process (openEngine, Sequencer,
 * Ledger) on a real store, at a given batch size. The store is SqliteStore in WAL mode with
 * synchronous = FULL (`--store sqlite`, the default) or PostgresStore (`--store postgres`) on a
 * fresh schema of the server at `--db`, else TENGRI_BENCH_POSTGRES_URL, else
 * postgres://postgres@127.0.0.1:5432/test; the schema is created for the scenario and dropped
 * afterwards. Both stores are driven the same way, through `Store.append` as the sequencer calls it.
 *
 * For each batch size B it opens a fresh store (temporary data directory or schema), creates the genesis records and
 * 10,000 funded accounts, and then submits transfers between random accounts (seeded PRNG, so every
 * run submits the same commands) as requests of exactly B commands, with the sequencer's
 * batchCommandsMax set to B so that every batch holds exactly one request:
 *
 * - B = 1: one request in flight at a time (closed loop). Latency is then the pure cost of one
 *   durable commit of one transfer, with no queueing in it.
 * - B > 1: two requests in flight, so that while one batch is applied and committed the next one
 *   is already queued and the sequencer never waits for the client. A request's latency thus
 *   includes waiting behind at most one other batch.
 *
 * Requests are generated before the timed window (so the load generator costs the core nothing)
 * and the window ends when the duration or the pre-generated requests run out, whichever is first.
 * A short warm-up (not counted) lets the JIT settle. Latency is measured per request from the
 * call to submit() to the resolution of its promise; the sequencer's own apply and commit times
 * per batch come from Sequencer.observe(). Afterwards it checks that every result was ok (and not
 * an idempotent repeat), takes the live state's digest, closes the engine and the store, lets the
 * live ledger go (as a restart would), recovers the journal into a new Ledger and compares state
 * digests; recovery throughput is reported as a bonus figure. Run with --expose-gc (as
 * `npm run bench` does), it collects garbage before the timed window and before recovery.
 *
 *   npx tsx bench/core.bench.ts [--store sqlite|postgres] [--db URL] [--sizes 1,100,8190] [--out file.json] [--cpu-profile prefix]
 *
 * --cpu-profile writes V8 CPU profiles of the timed window and of recovery only, as
 * <prefix>-<size>-window.cpuprofile and <prefix>-<size>-recovery.cpuprofile; summarise them with
 * `npx tsx bench/profile-summary.ts FILE` or open them in Chrome DevTools.
 *
 * Without --out it writes bench/results/core-<date>.json (core-postgres-<date>.json for PostgreSQL). `npm run bench` (bench/run.ts) runs each
 * batch size in its own process instead, so one scenario's heap and JIT state cannot affect the
 * next.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openEngine } from '../src/engine/engine.ts';
import { recover } from '../src/engine/recovery.ts';
import { Sequencer } from '../src/engine/sequencer.ts';
import type { Command, CommandResult, CreateTransfer } from '../src/ledger/types.ts';
import { stateDigest } from '../src/ledger/state-digest.ts';
import { PostgresStore } from '../src/store/postgres-store.ts';
import { SqliteStore } from '../src/store/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import type { Distribution, MachineInfo, PostgresInfo, StoreKind } from './support.ts';
import {
  benchPostgresUrl,
  cpuBusyShare,
  distribution,
  fileStamp,
  freshPostgresSchema,
  machineCpuTimes,
  machineInfo,
  parseStoreKind,
  postgresInfo,
  resultsDirectory,
  round,
  seededRandom,
  writeJson,
} from './support.ts';

export interface ScenarioOptions {
  readonly batchSize: number;
  /** Requests kept in flight (submitted and not yet resolved). */
  readonly inFlight: number;
  /** Upper bound of the timed window. */
  readonly durationMs: number;
  /** Upper bound of transfers submitted in the timed window (all of them generated beforehand). */
  readonly maxTransfers: number;
  /** Requests submitted before the timed window and not counted. */
  readonly warmupRequests: number;
  readonly accounts: number;
  readonly seed: number;
}

/** The scenarios `npm run bench` runs, chosen so the whole run stays within about three minutes. */
export function defaultScenario(batchSize: number): ScenarioOptions {
  const large = batchSize >= 1000;
  return {
    batchSize,
    inFlight: batchSize === 1 ? 1 : 2,
    durationMs: large ? 10_000 : 5_000,
    // About 300 full batches at 8190; more than a 5 s window can use at smaller sizes.
    maxTransfers: large ? batchSize * 300 : Math.max(100_000, Math.min(batchSize * 20_000, 1_500_000)),
    warmupRequests: large ? 10 : batchSize === 1 ? 50 : 200,
    accounts: 10_000,
    seed: 0x7e4621 + batchSize,
  };
}

export interface ScenarioResult {
  /** The journal store the scenario ran on. */
  readonly store: StoreKind;
  readonly options: ScenarioOptions;
  readonly endedBy: 'duration' | 'count';
  readonly setupMs: number;
  readonly generateMs: number;
  readonly measured: {
    readonly requests: number;
    readonly transfers: number;
    readonly durationMs: number;
    readonly transfersPerSecond: number;
    readonly batchesPerSecond: number;
  };
  /** Per request, from submit() to the resolution of its promise. */
  readonly commitLatencyMs: Distribution;
  /** Per batch, as the sequencer reports it (timed window only). */
  readonly sequencer: {
    readonly batches: number;
    readonly commandsPerBatch: { readonly min: number; readonly mean: number; readonly max: number };
    readonly applyMs: Distribution;
    readonly commitMs: Distribution;
    /** Share of the window's wall time spent in Ledger.apply, in the store append, and elsewhere. */
    readonly applyShare: number;
    readonly commitShare: number;
    readonly otherShare: number;
  };
  /** Share of all the machine's CPUs busy during the window (every process: this one, PostgreSQL, anything else running). */
  readonly machineCpuBusy: number | null;
  /** os.loadavg() (1, 5 and 15 minutes) before and after the window. */
  readonly loadAverage: { readonly before: number[]; readonly after: number[] };
  /** Garbage collection pauses during the timed window. */
  readonly gc: { readonly pauses: number; readonly totalMs: number; readonly maxMs: number };
  readonly verification: {
    readonly allOk: boolean;
    readonly notOk: Record<string, number>;
    readonly journalBatches: number;
    readonly transfersInLedger: number;
    /** SQLite: the database file and its WAL after close; PostgreSQL: the schema's tables with indexes and TOAST. */
    readonly databaseBytes: number;
    readonly stateDigest: string;
    /** Time stateDigest() took over the live ledger (it walks every account's transfers). */
    readonly stateDigestMs: number;
    readonly recoveredDigestMatches: boolean;
    readonly recoveryMs: number;
    readonly recoveredCommands: number;
    readonly recoveryCommandsPerSecond: number;
  };
}

export interface CoreReport {
  readonly benchmark: 'core';
  readonly date: string;
  readonly machine: MachineInfo;
  readonly store: StoreKind;
  /** The server and its durability settings, for `--store postgres`. */
  readonly postgres: PostgresInfo | null;
  readonly scenarios: ScenarioResult[];
}

/** Where a scenario keeps its journal. */
export type StoreChoice = { readonly kind: 'sqlite' } | { readonly kind: 'postgres'; readonly url: string };

/** A fresh, empty journal for one scenario: opened (and re-opened for recovery), measured, then removed. */
interface Storage {
  readonly kind: StoreKind;
  open(): Promise<Store>;
  bytes(): Promise<number>;
  dispose(): Promise<void>;
}

async function freshStorage(choice: StoreChoice, batchSize: number): Promise<Storage> {
  if (choice.kind === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), `tengri-bench-${batchSize}-`));
    const databasePath = join(directory, 'ledger.sqlite');
    return {
      kind: 'sqlite',
      open: async () => new SqliteStore(databasePath),
      bytes: async () => fileSize(databasePath) + fileSize(`${databasePath}-wal`),
      dispose: async () => rmSync(directory, { recursive: true, force: true }),
    };
  }
  const fresh = await freshPostgresSchema(choice.url, `core${batchSize}`);
  return {
    kind: 'postgres',
    open: () => PostgresStore.open(choice.url, { schema: fresh.schema }),
    bytes: () => fresh.bytes(),
    dispose: () => fresh.drop(),
  };
}

const asset = 'KZT';
const fundingPerAccount = 100_000_000_000n; // 1 billion tenge in tiyn: never runs out in a run.
const setupBatchCommands = 8190;

export interface RunHooks {
  readonly log?: (line: string) => void;
  /** Writes V8 CPU profiles of the timed window and of recovery to `<prefix>-window.cpuprofile` and `<prefix>-recovery.cpuprofile`. */
  readonly cpuProfilePrefix?: string;
}

export async function runScenario(options: ScenarioOptions, choice: StoreChoice = { kind: 'sqlite' }, hooks: RunHooks = {}): Promise<ScenarioResult> {
  const log = hooks.log ?? ((): void => {});
  const profiler = hooks.cpuProfilePrefix === undefined ? null : await CpuProfiler.start();
  let storage: Storage | null = null;
  try {
    storage = await freshStorage(choice, options.batchSize);
    // The live ledger is unreachable once runLive returns, so recovery below runs as after a
    // restart, without a second full ledger on the heap for the garbage collector to walk.
    const { verification: live, ...result } = await runLive(options, storage, profiler, hooks, log);
    collectGarbage();

    const reopened = await storage.open();
    await profiler?.begin();
    const recoveryStart = performance.now();
    const recovered = await recover(reopened);
    const recoveryMs = performance.now() - recoveryStart;
    await profiler?.end(`${hooks.cpuProfilePrefix}-recovery.cpuprofile`);
    await reopened.close();
    const recoveredDigest = stateDigest(recovered.ledger);
    log(`  recovery: ${recovered.commands} commands in ${round(recoveryMs, 1)} ms, digest ${recoveredDigest === live.stateDigest ? 'matches' : 'DIFFERS'}`);
    return {
      ...result,
      verification: {
        ...live,
        recoveredDigestMatches: recoveredDigest === live.stateDigest,
        recoveryMs: round(recoveryMs, 1),
        recoveredCommands: recovered.commands,
        recoveryCommandsPerSecond: Math.round((recovered.commands / recoveryMs) * 1000),
      },
    };
  } finally {
    profiler?.close();
    await storage?.dispose();
  }
}

type LiveVerification = Omit<ScenarioResult['verification'], 'recoveredDigestMatches' | 'recoveryMs' | 'recoveredCommands' | 'recoveryCommandsPerSecond'>;
type LiveResult = Omit<ScenarioResult, 'verification'> & { readonly verification: LiveVerification };

/** Setup, warm-up and the timed window on a fresh ledger; closes the engine and the store. */
async function runLive(options: ScenarioOptions, storage: Storage, profiler: CpuProfiler | null, hooks: RunHooks, log: (line: string) => void): Promise<LiveResult> {
  const { batchSize } = options;
  const setupStart = performance.now();
  const store = await storage.open();
  // Setup runs through its own sequencer with full-size batches, so that the accounts of the
  // batch-size-1 scenario do not take 20,000 fsyncs; the measured sequencer then takes over the
  // same ledger, store and journal head.
  const setup = await openEngine(store, { batchCommandsMax: setupBatchCommands });
  const accountIds: string[] = [];
  for (let i = 0; i < options.accounts; i++) accountIds.push(`acct:${String(i).padStart(6, '0')}`);
  const setupCommands: Command[][] = [
    accountIds.map((id) => ({ kind: 'create_account', id, asset, allowNegative: false, maxBalance: null })),
    accountIds.map((id, i) => ({
      kind: 'create_transfer', id: `fund:${i}`, debit: 'cb:issuance', credit: id,
      amount: fundingPerAccount, pending: false, timeoutSeconds: 0, code: 1, reference: 'funding',
    })),
  ];
  for (const commands of setupCommands) {
    const requests: Promise<CommandResult[]>[] = [];
    for (let i = 0; i < commands.length; i += setupBatchCommands) {
      requests.push(setup.sequencer.submit(commands.slice(i, i + setupBatchCommands)));
    }
    await drainOk(requests, 'setup');
  }
  await setup.sequencer.close();
  const sequencer = new Sequencer(setup.sequencer.ledger, store, setup.sequencer.journalHead, { batchCommandsMax: batchSize });
  const setupMs = performance.now() - setupStart;

  // Generate every request up front, so the timed window measures only the engine.
  const random = seededRandom(options.seed);
  let transferNumber = 0;
  const nextRequest = (): CreateTransfer[] => {
    const commands = new Array<CreateTransfer>(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const debit = (random() * options.accounts) | 0;
      let credit = (random() * (options.accounts - 1)) | 0;
      if (credit >= debit) credit++;
      commands[i] = {
        kind: 'create_transfer',
        id: `tr:${batchSize}:${++transferNumber}`,
        debit: accountIds[debit]!,
        credit: accountIds[credit]!,
        amount: BigInt(1 + ((random() * 100_000) | 0)),
        pending: false,
        timeoutSeconds: 0,
        code: 1,
        reference: '',
      };
    }
    return commands;
  };
  const generateStart = performance.now();
  const warmup: (CreateTransfer[] | undefined)[] = Array.from({ length: options.warmupRequests }, nextRequest);
  const maxRequests = Math.max(1, Math.floor(options.maxTransfers / batchSize));
  const pool: (CreateTransfer[] | undefined)[] = Array.from({ length: maxRequests }, nextRequest);
  const generateMs = performance.now() - generateStart;

  const notOk = new Map<string, number>();
  const check = (results: readonly CommandResult[]): void => {
    for (const result of results) {
      if (result.ok && !result.existed) continue;
      const key = result.ok ? 'existed' : result.code;
      notOk.set(key, (notOk.get(key) ?? 0) + 1);
    }
  };

  await pump(sequencer.submit.bind(sequencer), warmup, options.inFlight, Number.POSITIVE_INFINITY, null, check);
  log(`  warm-up: ${options.warmupRequests} requests`);

  // The timed window.
  const batchApply: number[] = [];
  const batchCommit: number[] = [];
  const batchCommands: number[] = [];
  let measuring = false;
  sequencer.observe({
    onBatch(info) {
      if (!measuring) return;
      batchApply.push(info.applyMs);
      batchCommit.push(info.commitMs);
      batchCommands.push(info.commands.length);
    },
  });
  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    if (measuring) for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const latencies = new Float64Array(maxRequests);
  collectGarbage();
  await profiler?.begin();
  const loadBefore = loadavg();
  const cpuBefore = machineCpuTimes();
  measuring = true;
  const windowStart = performance.now();
  const submitted = await pump(sequencer.submit.bind(sequencer), pool, options.inFlight, windowStart + options.durationMs, latencies, check);
  const windowMs = performance.now() - windowStart;
  measuring = false;
  const machineCpuBusy = cpuBusyShare(cpuBefore, machineCpuTimes());
  const loadAfter = loadavg();
  await profiler?.end(`${hooks.cpuProfilePrefix}-window.cpuprofile`);
  // Let the observer deliver the last gc entries of the window.
  await new Promise((resolveTimeout) => setTimeout(resolveTimeout, 10));
  gcObserver.disconnect();
  pool.length = 0;

  const transfers = submitted * batchSize;
  const applyTotal = batchApply.reduce((a, b) => a + b, 0);
  const commitTotal = batchCommit.reduce((a, b) => a + b, 0);
  log(`  window: ${transfers} transfers in ${round(windowMs, 1)} ms`);

  // The live state, to compare with the state recovered from the journal.
  await sequencer.close();
  const ledger = sequencer.ledger;
  const digestStart = performance.now();
  const liveDigest = stateDigest(ledger);
  const digestMs = performance.now() - digestStart;
  await store.close();
  const databaseBytes = await storage.bytes();

  return {
    store: storage.kind,
    options,
    endedBy: submitted >= maxRequests ? 'count' : 'duration',
    setupMs: round(setupMs, 1),
    generateMs: round(generateMs, 1),
    measured: {
      requests: submitted,
      transfers,
      durationMs: round(windowMs, 1),
      transfersPerSecond: Math.round((transfers / windowMs) * 1000),
      batchesPerSecond: round((batchApply.length / windowMs) * 1000, 1),
    },
    commitLatencyMs: distribution(latencies.subarray(0, submitted)),
    sequencer: {
      batches: batchApply.length,
      commandsPerBatch: {
        min: batchCommands.length === 0 ? 0 : Math.min(...batchCommands),
        mean: round(batchCommands.reduce((a, b) => a + b, 0) / Math.max(1, batchCommands.length), 1),
        max: batchCommands.length === 0 ? 0 : Math.max(...batchCommands),
      },
      applyMs: distribution(batchApply),
      commitMs: distribution(batchCommit),
      applyShare: round(applyTotal / windowMs),
      commitShare: round(commitTotal / windowMs),
      otherShare: round(Math.max(0, 1 - (applyTotal + commitTotal) / windowMs)),
    },
    machineCpuBusy,
    loadAverage: { before: loadBefore.map((v) => round(v, 2)), after: loadAfter.map((v) => round(v, 2)) },
    gc: {
      pauses: gcPauses.length,
      totalMs: round(gcPauses.reduce((a, b) => a + b, 0), 1),
      maxMs: round(gcPauses.reduce((a, b) => Math.max(a, b), 0), 1),
    },
    verification: {
      allOk: notOk.size === 0,
      notOk: Object.fromEntries(notOk),
      journalBatches: sequencer.journalHead?.sequence ?? 0,
      transfersInLedger: ledger.transferCount,
      databaseBytes,
      stateDigest: liveDigest,
      stateDigestMs: round(digestMs, 1),
    },
  };
}

/** A full collection when the process runs with --expose-gc (as `npm run bench` starts it); else nothing. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Submits the requests in order keeping `inFlight` of them outstanding, until they run out or
 * `deadline` (a performance.now() time) passes; then waits for the outstanding ones. Records each
 * request's latency when `latencies` is given. Resolves with the number of requests submitted.
 */
function pump(
  submit: (commands: readonly Command[]) => Promise<CommandResult[]>,
  requests: (CreateTransfer[] | undefined)[],
  inFlight: number,
  deadline: number,
  latencies: Float64Array | null,
  check: (results: readonly CommandResult[]) => void,
): Promise<number> {
  return new Promise((resolvePump, rejectPump) => {
    let next = 0;
    let outstanding = 0;
    let failed = false;
    const fill = (): void => {
      while (!failed && outstanding < inFlight && next < requests.length && performance.now() < deadline) {
        const index = next++;
        const commands = requests[index]!;
        requests[index] = undefined; // The ledger keeps what it needs; let the command objects go.
        outstanding++;
        const started = performance.now();
        submit(commands).then(
          (results) => {
            if (latencies !== null) latencies[index] = performance.now() - started;
            outstanding--;
            check(results);
            fill();
          },
          (error: unknown) => {
            failed = true;
            rejectPump(error);
          },
        );
      }
      if (outstanding === 0 && !failed) resolvePump(next);
    };
    fill();
  });
}

async function drainOk(requests: Promise<CommandResult[]>[], what: string): Promise<void> {
  for (const results of await Promise.all(requests)) {
    const bad = results.find((result) => !result.ok);
    if (bad !== undefined) throw new Error(`${what} failed: ${JSON.stringify(bad)}`);
  }
  requests.length = 0;
}

/** Profiles chosen stretches of this process through the inspector, without `--cpu-prof` profiling all of it. */
class CpuProfiler {
  private constructor(private readonly session: Session) {}

  static async start(): Promise<CpuProfiler> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    return new CpuProfiler(session);
  }

  async begin(): Promise<void> {
    await this.session.post('Profiler.start');
  }

  async end(path: string): Promise<void> {
    const { profile } = await this.session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
  }

  close(): void {
    this.session.disconnect();
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function describeScenario(result: ScenarioResult): string {
  const { options, measured, commitLatencyMs: latency, sequencer, verification } = result;
  return [
    `${result.store}, batch ${options.batchSize}: ${measured.transfersPerSecond.toLocaleString('en-US')} transfers/s`,
    `(${measured.transfers} in ${measured.durationMs} ms, ${sequencer.batches} batches, ended by ${result.endedBy})`,
    `latency p50 ${latency.p50} ms p99 ${latency.p99} ms max ${latency.max} ms;`,
    `apply p50 ${sequencer.applyMs.p50} ms, commit p50 ${sequencer.commitMs.p50} ms;`,
    `time: apply ${Math.round(sequencer.applyShare * 100)}% commit ${Math.round(sequencer.commitShare * 100)}% other ${Math.round(sequencer.otherShare * 100)}%;`,
    `gc ${result.gc.totalMs} ms; machine CPU busy ${result.machineCpuBusy === null ? '?' : `${Math.round(result.machineCpuBusy * 100)}%`}, load ${result.loadAverage.after[0]};`,
    `all ok: ${verification.allOk}; recovery ${verification.recoveryCommandsPerSecond.toLocaleString('en-US')} commands/s, digest ${verification.recoveredDigestMatches ? 'matches' : 'DIFFERS'}`,
  ].join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1,100,8190' },
      store: { type: 'string', default: 'sqlite' },
      db: { type: 'string' },
      out: { type: 'string' },
      'cpu-profile': { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1 || size > 65_536) throw new Error(`bad batch size ${size}`);
  }
  const store = parseStoreKind(values.store);
  const choice: StoreChoice = store === 'sqlite' ? { kind: 'sqlite' } : { kind: 'postgres', url: benchPostgresUrl(values.db) };
  const postgres = choice.kind === 'postgres' ? await postgresInfo(choice.url) : null;
  const date = new Date();
  const scenarios: ScenarioResult[] = [];
  for (const size of sizes) {
    process.stderr.write(`core benchmark, ${store}, batch size ${size}${postgres === null ? '' : ` (PostgreSQL ${postgres.serverVersion} at ${postgres.url})`}\n`);
    const profile = values['cpu-profile'];
    const result = await runScenario(defaultScenario(size), choice, {
      log: (line) => process.stderr.write(line + '\n'),
      ...(profile === undefined ? {} : { cpuProfilePrefix: `${profile}-${size}` }),
    });
    process.stderr.write(describeScenario(result) + '\n');
    scenarios.push(result);
  }
  const report: CoreReport = { benchmark: 'core', date: date.toISOString(), machine: machineInfo(), store, postgres, scenarios };
  const out = values.out ?? join(resultsDirectory, `core-${store === 'sqlite' ? '' : `${store}-`}${fileStamp(date)}.json`);
  writeJson(resolve(out), report);
  process.stderr.write(`wrote ${out}\n`);
  const failed = scenarios.some((s) => !s.verification.allOk || !s.verification.recoveredDigestMatches);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main();
}
