/**
 * API benchmark: signed payments (`POST /v1/payments`) over real HTTP against the real server, on
 * SQLite or on PostgreSQL.
 *
 * It starts `node bin/tengri.js start --data <tmp> --port 0` as a child process (with
 * `--db <url> --db-schema <fresh schema>` for `--store postgres`; the schema is dropped
 * afterwards), reads its URL from the `listening` log line and waits for `/health` to answer 200
 * (on PostgreSQL: once it holds the writer lease). Over HTTP it onboards a bank, gives
 * it reserves and digital tenge, and opens and funds `connections × walletsPerConnection` payer
 * wallets (tier 2) and a few payee wallets that only receive. The payments are signed before they
 * are sent, outside the timed window: each payer wallet's sequences increase strictly, and each
 * autocannon connection has its own wallets and sends one request at a time, taking them in turn,
 * so every wallet's payments arrive in order and none is refused as a replay.
 *
 * autocannon (in this process) then drives `POST /v1/payments` at a fixed number of connections:
 * first a warm-up (not counted; its rate sizes the pool signed for the window), then the timed
 * window of a fixed duration. Reported: payments per second (2xx answers over the window), latency
 * from the moment the request is written to the moment its answer is complete (p50/p99/max, all
 * answers), the non-2xx answers by status and problem code, the server's own batches and commit
 * times (from /metrics), and how busy the machine's CPUs were during the window.
 *
 * Afterwards it checks that no payment was lost or invented:
 *
 * 1. every payment sent whose answer never came (in flight when autocannon stopped, or timed out)
 *    is looked up with `GET /v1/payments/{id}`;
 * 2. each payer wallet is read: as it only pays (a fixed amount each time) and never receives, the
 *    drop of its balance counts exactly the payments the ledger accepted from it. That count must
 *    equal the 2xx answers for it (plus the unanswered ones found in step 1), and `lastSequence`
 *    the highest sequence among them;
 * 3. the sequencer's own count of accepted `x.pay` commands (/metrics) must equal the same total,
 *    and `/v1/supply` must report every invariant holding;
 * 4. the server is stopped (SIGTERM) and started again on the same journal; after recovery every
 *    payer wallet and the journal head must read the same.
 *
 * Any difference makes the run fail (exit status 1): a benchmark that loses payments must not
 * produce a figure.
 *
 *   npx tsx bench/api.bench.ts [--store sqlite|postgres] [--db URL] [--connections 64]
 *     [--duration 10] [--warmup 3] [--out file.json]
 *
 * Without --out it writes bench/results/api-<store>-<date>.json. `npm run bench` (bench/run.ts)
 * runs it once per store, each in its own process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { client, onboardBank, openWallet, signedPayment, type Client, type Holder } from '../test/support/platform.ts';
import { spawnServer, testToken, type ServerProcess } from '../test/support/servers.ts';
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
  writeJson,
} from './support.ts';

export interface ApiScenarioOptions {
  readonly store: StoreKind;
  /** autocannon connections, each with one request outstanding at a time (no pipelining). */
  readonly connections: number;
  /** Payer wallets per connection, which it pays from in turn. */
  readonly walletsPerConnection: number;
  /** Wallets that only receive. */
  readonly payees: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** Every payment's amount, in tiyn. */
  readonly amount: bigint;
  /** What each payer wallet is funded with, in tiyn (below the tier-2 holding limit). */
  readonly funding: bigint;
  /** autocannon's per-request timeout. */
  readonly timeoutSeconds: number;
  /** Rate assumed to size the warm-up's pool of signed payments. */
  readonly warmupRateGuess: number;
}

export function defaultApiScenario(store: StoreKind): ApiScenarioOptions {
  return {
    store,
    connections: 64,
    walletsPerConnection: 2,
    payees: 8,
    warmupSeconds: 3,
    durationSeconds: 10,
    amount: 100n,
    funding: 100_000_000n,
    timeoutSeconds: 30,
    warmupRateGuess: 8000,
  };
}

/** Server-side figures over a stretch of time, from the difference of two /metrics readings. */
export interface ServerWindow {
  readonly batches: number;
  readonly commandsPerBatch: number;
  readonly commitMsMean: number;
  readonly applyMsMean: number;
  /** CPU seconds of the server process per second of wall time (1 = one core busy). */
  readonly cpuCores: number;
}

export interface PhaseResult {
  readonly durationMs: number;
  readonly endedBy: 'duration' | 'count';
  /** Connections that sent every payment signed for them before the end (0 when the duration ended the phase in time). */
  readonly connectionsOutOfPayments: number;
  readonly sent: number;
  readonly answered: number;
  readonly answered2xx: number;
  readonly non2xx: number;
  /** Answers by HTTP status. */
  readonly statuses: Record<string, number>;
  /** Non-2xx answers by problem code. */
  readonly problemCodes: Record<string, number>;
  /** Sent, never answered (in flight at the end, or timed out). */
  readonly unanswered: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly paymentsPerSecond: number;
  /** From writing the request to its complete answer, every answer. */
  readonly latencyMs: Distribution;
  /** autocannon's own histogram (whole milliseconds) for comparison. */
  readonly autocannonLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly average: number };
  readonly server: ServerWindow;
  /** Share of all CPUs of the machine busy during the phase (every process, from /proc/stat). */
  readonly machineCpuBusy: number | null;
  /** CPU seconds of this process (autocannon) per second of wall time. */
  readonly loadGeneratorCores: number;
  /** os.loadavg() before and after the phase (1, 5 and 15 minutes). */
  readonly loadAverage: { readonly before: number[]; readonly after: number[] };
}

export interface ApiResult {
  readonly store: StoreKind;
  readonly options: Omit<ApiScenarioOptions, 'amount' | 'funding'> & { readonly amount: string; readonly funding: string };
  readonly setup: {
    readonly serverStartMs: number;
    readonly walletsMs: number;
    readonly payerWallets: number;
    readonly payeeWallets: number;
    readonly signed: number;
    readonly signMs: number;
    readonly windowPoolPerConnection: number;
  };
  readonly warmup: PhaseResult;
  readonly measured: PhaseResult;
  readonly verification: {
    readonly ok: boolean;
    readonly failures: string[];
    /** Payments the ledger holds, counted from the payer wallets' balances. */
    readonly acceptedByLedger: number;
    readonly answered2xx: number;
    /** Unanswered payments that the ledger turned out to hold. */
    readonly acceptedUnanswered: number;
    readonly lost: number;
    readonly unexpected: number;
    /** The sequencer's count of x.pay commands applied ok (/metrics). */
    readonly acceptedBySequencer: number;
    readonly invariantsHold: boolean;
    readonly journalSequence: number;
    /** From spawning the server again to its answering /health on the recovered ledger. */
    readonly afterRestart: { readonly walletsMatch: boolean; readonly journalSequence: number; readonly restartMs: number; readonly invariantsHold: boolean };
  };
}

export interface ApiReport {
  readonly benchmark: 'api';
  readonly date: string;
  readonly machine: MachineInfo;
  readonly postgres: PostgresInfo | null;
  readonly result: ApiResult;
}

/** The signed payments one connection sends, in order, and what became of each. */
interface Feed {
  readonly ids: string[];
  readonly bodies: string[];
  /** Index of the paying wallet in the payer list. */
  readonly payer: Int32Array;
  readonly sequence: Float64Array;
  /** -1 not sent, 0 sent and not answered, else the HTTP status of the answer. */
  readonly status: Int16Array;
  next: number;
}

interface Payer {
  readonly holder: Holder;
  readonly id: string;
}

const bankId = 'benchbank';
const bankBic = 'BNCHKZKA';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function runApiScenario(options: ApiScenarioOptions, postgresUrl: string | null): Promise<ApiResult> {
  const directory = mkdtempSync(join(tmpdir(), `tengri-bench-api-${options.store}-`));
  const schema = options.store === 'postgres' ? await freshPostgresSchema(postgresUrl!, 'api') : null;
  const serverArguments = schema === null ? [] : ['--db', postgresUrl!, '--db-schema', schema.schema];
  let server: ServerProcess | null = null;
  try {
    let started = performance.now();
    server = await spawnServer(directory, serverArguments, 60_000);
    await untilHealthy(server);
    const serverStartMs = performance.now() - started;
    const http = client(server.url);
    log(`  server ${server.url} (${options.store}) up in ${Math.round(serverStartMs)} ms`);

    // Setup over HTTP: one bank, payer wallets funded, payee wallets empty.
    started = performance.now();
    const payerCount = options.connections * options.walletsPerConnection;
    const total = options.funding * BigInt(payerCount);
    const bankKey = await onboardBank(http, bankId, bankBic, { reserves: total, issue: total });
    const payers = await mapLimited(payerCount, 8, async () => {
      const holder = await openWallet(http, bankKey, { tier: 2, fund: options.funding });
      return { holder, id: holder.id };
    });
    const payees = await mapLimited(options.payees, 8, async () => (await openWallet(http, bankKey, { tier: 2 })).id);
    const walletsMs = performance.now() - started;
    log(`  ${payerCount} payer and ${payees.length} payee wallets opened and funded in ${Math.round(walletsMs)} ms`);

    let signed = 0;
    let signMs = 0;
    const sign = (phase: string, perConnection: number): Feed[] => {
      const start = performance.now();
      const feeds = Array.from({ length: options.connections }, (_, connection) => signFeed(options, phase, connection, perConnection, payers, payees));
      signMs += performance.now() - start;
      signed += perConnection * options.connections;
      return feeds;
    };

    const warmupPool = Math.ceil((options.warmupRateGuess * options.warmupSeconds) / options.connections);
    const warmupFeeds = sign('w', warmupPool);
    const warmup = await drive(http, warmupFeeds, options.warmupSeconds, options.timeoutSeconds);
    log(`  warm-up: ${describePhase(warmup)}`);

    // Enough signed payments for twice the warm-up's rate; if they run out, the window ends early.
    const windowPool = Math.ceil((Math.max(2 * warmup.paymentsPerSecond, 2000) * options.durationSeconds) / options.connections);
    const windowFeeds = sign('m', windowPool);
    const measured = await drive(http, windowFeeds, options.durationSeconds, options.timeoutSeconds);
    log(`  window: ${describePhase(measured)}`);

    const verification = await verify(options, server, serverArguments, directory, http, bankKey, payers, [...warmupFeeds, ...windowFeeds], warmup.answered2xx + measured.answered2xx);
    server = verification.server;
    log(`  verification: ${verification.result.ok ? 'ok' : `FAILED: ${verification.result.failures.join('; ')}`}`);
    return {
      store: options.store,
      options: { ...options, amount: String(options.amount), funding: String(options.funding) },
      setup: { serverStartMs: round(serverStartMs, 1), walletsMs: round(walletsMs, 1), payerWallets: payerCount, payeeWallets: payees.length, signed, signMs: round(signMs, 1), windowPoolPerConnection: windowPool },
      warmup,
      measured,
      verification: verification.result,
    };
  } finally {
    if (server !== null) await stopServer(server, 'SIGTERM');
    rmSync(directory, { recursive: true, force: true });
    await schema?.drop();
  }
}

function signFeed(options: ApiScenarioOptions, phase: string, connection: number, count: number, payers: readonly Payer[], payees: readonly string[]): Feed {
  const feed: Feed = {
    ids: new Array<string>(count),
    bodies: new Array<string>(count),
    payer: new Int32Array(count),
    sequence: new Float64Array(count),
    status: new Int16Array(count).fill(-1),
    next: 0,
  };
  const first = connection * options.walletsPerConnection;
  for (let i = 0; i < count; i++) {
    const payerIndex = first + (i % options.walletsPerConnection);
    const payer = payers[payerIndex]!;
    const id = `${phase}-${connection}-${i}`;
    const payment = signedPayment(payer.holder, { id, to: payees[(payerIndex + i) % payees.length]!, amount: options.amount });
    feed.ids[i] = id;
    feed.bodies[i] = JSON.stringify(payment);
    feed.payer[i] = payerIndex;
    feed.sequence[i] = payment.sequence as number;
  }
  return feed;
}

/** Runs autocannon over the feeds (one connection each) for `seconds`, or until a feed runs out. */
async function drive(http: Client, feeds: Feed[], seconds: number, timeoutSeconds: number): Promise<PhaseResult> {
  const poolSize = feeds[0]!.bodies.length;
  const latencies: number[] = [];
  const problemCodes = new Map<string, number>();
  const statuses = new Map<string, number>();
  let assigned = 0;
  const metricsBefore = parseMetrics(await metricsText(http));
  const cpuBefore = machineCpuTimes();
  const loadBefore = loadavg();
  const ownCpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = await new Promise<autocannon.Result>((resolveRun, rejectRun) => {
    const instance = autocannon(
      {
        url: `${http.base}/v1/payments`,
        method: 'POST',
        connections: feeds.length,
        duration: seconds,
        // A connection that has sent its whole feed stops (its last answer is awaited first).
        maxConnectionRequests: poolSize,
        timeout: timeoutSeconds,
        setupClient(connectionClient) {
          const feed = feeds[assigned++];
          if (feed === undefined) throw new Error('more autocannon connections than feeds');
          let inFlight = -1;
          connectionClient.setRequests([
            {
              method: 'POST',
              path: '/v1/payments',
              headers: { 'content-type': 'application/json' },
              setupRequest(request) {
                // A request still in flight here was never answered (a timeout or a reconnect):
                // its status stays 0 and verification looks it up.
                const index = feed.next++;
                if (index >= feed.bodies.length) throw new Error('a connection ran out of signed payments (maxConnectionRequests should have stopped it)');
                feed.status[index] = 0;
                inFlight = index;
                return { ...request, body: feed.bodies[index]! };
              },
              onResponse(status, body) {
                if (inFlight < 0) return;
                feed.status[inFlight] = status;
                inFlight = -1;
                statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
                if (status < 200 || status > 299) {
                  let code = 'unparsable';
                  try {
                    code = String((JSON.parse(body) as { code?: unknown }).code);
                  } catch {
                    // keep 'unparsable'
                  }
                  problemCodes.set(code, (problemCodes.get(code) ?? 0) + 1);
                }
              },
            },
          ]);
        },
      },
      (error, finished) => (error === null || error === undefined ? resolveRun(finished) : rejectRun(error instanceof Error ? error : new Error(String(error)))),
    );
    instance.on('response', (_connection, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
  const durationMs = performance.now() - start;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const cpuAfter = machineCpuTimes();
  await settle(http);
  const metricsAfter = parseMetrics(await metricsText(http));

  let sent = 0;
  let answered = 0;
  let answered2xx = 0;
  let unanswered = 0;
  for (const feed of feeds) {
    for (let i = 0; i < feed.next; i++) {
      const status = feed.status[i]!;
      sent++;
      if (status === 0) unanswered++;
      else {
        answered++;
        if (status >= 200 && status <= 299) answered2xx++;
      }
    }
  }
  const batches = metricsAfter.batches - metricsBefore.batches;
  const perBatch = (sum: 'batchCommandsSum' | 'commitSecondsSum' | 'applySecondsSum'): number => (batches === 0 ? 0 : (metricsAfter[sum] - metricsBefore[sum]) / batches);
  return {
    durationMs: round(durationMs, 1),
    endedBy: feeds.every((feed) => feed.next >= poolSize) ? 'count' : 'duration',
    connectionsOutOfPayments: feeds.filter((feed) => feed.next >= poolSize).length,
    sent,
    answered,
    answered2xx,
    non2xx: answered - answered2xx,
    statuses: Object.fromEntries(statuses),
    problemCodes: Object.fromEntries(problemCodes),
    unanswered,
    errors: result.errors,
    timeouts: result.timeouts,
    paymentsPerSecond: Math.round((answered2xx / durationMs) * 1000),
    latencyMs: distribution(latencies),
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, average: result.latency.average },
    server: {
      batches,
      commandsPerBatch: round(perBatch('batchCommandsSum'), 1),
      commitMsMean: round(perBatch('commitSecondsSum') * 1000),
      applyMsMean: round(perBatch('applySecondsSum') * 1000),
      cpuCores: round((metricsAfter.cpuSeconds - metricsBefore.cpuSeconds) / (durationMs / 1000), 2),
    },
    machineCpuBusy: cpuBusyShare(cpuBefore, cpuAfter),
    loadGeneratorCores: round((ownCpu.user + ownCpu.system) / 1000 / durationMs, 2),
    loadAverage: { before: loadBefore.map((v) => round(v, 2)), after: loadavg().map((v) => round(v, 2)) },
  };
}

function describePhase(phase: PhaseResult): string {
  return [
    `${phase.paymentsPerSecond.toLocaleString('en-US')} payments/s (${phase.answered2xx} 2xx in ${phase.durationMs} ms, ended by ${phase.endedBy}),`,
    `latency p50 ${phase.latencyMs.p50} ms p99 ${phase.latencyMs.p99} ms max ${phase.latencyMs.max} ms,`,
    `non-2xx ${phase.non2xx}${phase.non2xx > 0 ? ` ${JSON.stringify(phase.problemCodes)}` : ''}, unanswered ${phase.unanswered}, errors ${phase.errors};`,
    `server: ${phase.server.batches} batches of ${phase.server.commandsPerBatch} commands, commit ${phase.server.commitMsMean} ms, ${phase.server.cpuCores} cores;`,
    `autocannon ${phase.loadGeneratorCores} cores; machine CPU busy ${phase.machineCpuBusy === null ? '?' : `${Math.round(phase.machineCpuBusy * 100)}%`}`,
  ].join(' ');
}

interface VerificationOutcome {
  readonly result: ApiResult['verification'];
  /** The server running after the restart (the caller stops it). */
  readonly server: ServerProcess | null;
}

async function verify(
  options: ApiScenarioOptions,
  server: ServerProcess,
  serverArguments: string[],
  directory: string,
  http: Client,
  bankKey: string,
  payers: readonly Payer[],
  feeds: readonly Feed[],
  answered2xx: number,
): Promise<VerificationOutcome> {
  const failures: string[] = [];
  // What the client knows: per payer, the payments answered 2xx, plus the unanswered ones the
  // ledger turns out to hold.
  const expectedCount = new Float64Array(payers.length);
  const expectedLast = new Float64Array(payers.length);
  let acceptedUnanswered = 0;
  const unanswered: { feed: Feed; index: number }[] = [];
  for (const feed of feeds) {
    for (let i = 0; i < feed.next; i++) {
      const status = feed.status[i]!;
      if (status === 0) unanswered.push({ feed, index: i });
      else if (status >= 200 && status <= 299) accept(feed, i);
    }
  }
  function accept(feed: Feed, index: number): void {
    const payer = feed.payer[index]!;
    expectedCount[payer]!++;
    expectedLast[payer] = Math.max(expectedLast[payer]!, feed.sequence[index]!);
  }
  for (const { feed, index } of unanswered) {
    const found = await http.call('GET', `/v1/payments/${feed.ids[index]}`);
    if (found.status === 200) {
      acceptedUnanswered++;
      accept(feed, index);
    } else if (found.status !== 404) {
      failures.push(`GET /v1/payments/${feed.ids[index]} answered ${found.status}`);
    }
  }

  const readWallets = async (reader: Client): Promise<{ balance: bigint; lastSequence: number }[]> =>
    mapLimited(payers.length, 8, async (i) => {
      const wallet = await reader.call<{ balance: string; lastSequence: number }>('GET', `/v1/wallets/${payers[i]!.id}`, undefined, bankKey);
      if (wallet.status !== 200) throw new Error(`reading wallet ${payers[i]!.id}: ${wallet.status} ${JSON.stringify(wallet.json)}`);
      return { balance: BigInt(wallet.json.balance), lastSequence: wallet.json.lastSequence };
    });
  const wallets = await readWallets(http);
  let acceptedByLedger = 0;
  let lost = 0;
  let unexpected = 0;
  wallets.forEach((wallet, i) => {
    const spent = options.funding - wallet.balance;
    if (spent < 0n || spent % options.amount !== 0n) {
      failures.push(`wallet ${payers[i]!.id}: balance ${wallet.balance} is not the funding less whole payments`);
      return;
    }
    const count = Number(spent / options.amount);
    acceptedByLedger += count;
    if (count < expectedCount[i]!) lost += expectedCount[i]! - count;
    if (count > expectedCount[i]!) unexpected += count - expectedCount[i]!;
    if (wallet.lastSequence !== expectedLast[i]) failures.push(`wallet ${payers[i]!.id}: lastSequence ${wallet.lastSequence}, expected ${expectedLast[i]}`);
  });
  if (lost > 0) failures.push(`${lost} payments answered 2xx are missing from the ledger`);
  if (unexpected > 0) failures.push(`${unexpected} payments are in the ledger that no 2xx answer reported`);
  if (acceptedByLedger !== answered2xx + acceptedUnanswered) {
    failures.push(`the ledger holds ${acceptedByLedger} payments; answered 2xx ${answered2xx}, accepted while unanswered ${acceptedUnanswered}`);
  }
  const metrics = parseMetrics(await metricsText(http));
  if (metrics.payOk !== acceptedByLedger) failures.push(`the sequencer applied ${metrics.payOk} payments, the wallets show ${acceptedByLedger}`);
  const supply = await http.call<{ invariantsHold: boolean; journal: { sequence: number } }>('GET', '/v1/supply');
  if (supply.status !== 200 || !supply.json.invariantsHold) failures.push(`/v1/supply: ${supply.status}, invariants ${supply.status === 200 ? 'violated' : 'unknown'}`);

  // Stop and start again on the same journal: what was acknowledged must survive recovery.
  const exit = await stopServer(server, 'SIGTERM');
  if (exit !== 0) failures.push(`the server exited with ${exit} on SIGTERM`);
  const restartStart = performance.now();
  const restarted = await spawnServer(directory, serverArguments, 60_000);
  await untilHealthy(restarted);
  const restartMs = round(performance.now() - restartStart, 1);
  const again = client(restarted.url);
  const walletsAfter = await readWallets(again);
  const walletsMatch = walletsAfter.every((wallet, i) => wallet.balance === wallets[i]!.balance && wallet.lastSequence === wallets[i]!.lastSequence);
  if (!walletsMatch) failures.push('after a restart the payer wallets read differently');
  const supplyAfter = await again.call<{ invariantsHold: boolean; journal: { sequence: number } }>('GET', '/v1/supply');
  if (supplyAfter.status !== 200 || supplyAfter.json.journal.sequence !== supply.json.journal.sequence) {
    failures.push(`after a restart the journal head is ${supplyAfter.json.journal?.sequence}, before it was ${supply.json.journal.sequence}`);
  }
  if (supplyAfter.status !== 200 || !supplyAfter.json.invariantsHold) failures.push('after a restart the invariants do not hold');
  return {
    server: restarted,
    result: {
      ok: failures.length === 0,
      failures,
      acceptedByLedger,
      answered2xx,
      acceptedUnanswered,
      lost,
      unexpected,
      acceptedBySequencer: metrics.payOk,
      invariantsHold: supply.status === 200 && supply.json.invariantsHold,
      journalSequence: supply.json.journal.sequence,
      afterRestart: { walletsMatch, journalSequence: supplyAfter.json.journal?.sequence ?? 0, restartMs, invariantsHold: supplyAfter.status === 200 && supplyAfter.json.invariantsHold },
    },
  };
}

/**
 * Waits until /health answers 200: at once on SQLite; on PostgreSQL once the process holds the
 * writer lease (until then it answers 503 as a standby).
 */
async function untilHealthy(server: ServerProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'nothing';
  while (performance.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`the server exited before it was healthy: ${server.stderr()}`);
    try {
      const response = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(2000) });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`the server was not healthy within ${timeoutMs} ms; /health last answered ${last}`);
}

/** Sends `signal` and waits for the exit (SIGKILL after 20 s). Resolves with the exit code or signal. */
async function stopServer(server: ServerProcess, signal: NodeJS.Signals): Promise<number | string> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill(signal);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 20_000);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the sequencer's queue is empty and its count of applied payments stays put. */
async function settle(http: Client): Promise<void> {
  let previous = -1;
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const metrics = parseMetrics(await metricsText(http));
    if (metrics.queue === 0 && metrics.payOk === previous) return;
    previous = metrics.queue === 0 ? metrics.payOk : -1;
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 100));
  }
  throw new Error('the server did not settle within 10 s after the load stopped');
}

async function metricsText(http: Client): Promise<string> {
  const response = await fetch(`${http.base}/metrics`, { headers: { authorization: `Bearer ${testToken}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

interface Metrics {
  readonly payOk: number;
  readonly queue: number;
  readonly batches: number;
  readonly batchCommandsSum: number;
  readonly commitSecondsSum: number;
  readonly applySecondsSum: number;
  readonly cpuSeconds: number;
}

function parseMetrics(text: string): Metrics {
  const value = (pattern: RegExp): number => {
    const match = pattern.exec(text);
    return match === null ? 0 : Number(match[1]);
  };
  return {
    payOk: value(/^tengri_commands_total\{[^}]*kind="x\.pay"[^}]*result="ok"[^}]*\} (\S+)$/m),
    queue: value(/^tengri_queue_commands (\S+)$/m),
    batches: value(/^tengri_batches_total (\S+)$/m),
    batchCommandsSum: value(/^tengri_batch_commands_sum (\S+)$/m),
    commitSecondsSum: value(/^tengri_commit_seconds_sum (\S+)$/m),
    applySecondsSum: value(/^tengri_apply_seconds_sum (\S+)$/m),
    cpuSeconds: value(/^process_cpu_seconds_total (\S+)$/m),
  };
}

/** Runs `task(0..count-1)` with at most `limit` at once; results in index order. */
async function mapLimited<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'sqlite' },
      db: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const store = parseStoreKind(values.store);
  const defaults = defaultApiScenario(store);
  const positive = (text: string | undefined, fallback: number, name: string): number => {
    if (text === undefined) return fallback;
    const parsed = Number(text);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive whole number`);
    return parsed;
  };
  const options: ApiScenarioOptions = {
    ...defaults,
    connections: positive(values.connections, defaults.connections, 'connections'),
    durationSeconds: positive(values.duration, defaults.durationSeconds, 'duration'),
    warmupSeconds: positive(values.warmup, defaults.warmupSeconds, 'warmup'),
  };
  const url = store === 'postgres' ? benchPostgresUrl(values.db) : null;
  const postgres = url === null ? null : await postgresInfo(url);
  const date = new Date();
  log(`API benchmark, ${store}${postgres === null ? '' : ` (PostgreSQL ${postgres.serverVersion} at ${postgres.url})`}, ${options.connections} connections, ${options.durationSeconds} s`);
  const result = await runApiScenario(options, url);
  const report: ApiReport = { benchmark: 'api', date: date.toISOString(), machine: machineInfo(), postgres, result };
  const out = values.out ?? join(resultsDirectory, `api-${store}-${fileStamp(date)}.json`);
  writeJson(resolve(out), report);
  log(`wrote ${out}`);
  process.exitCode = result.verification.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main();
}
