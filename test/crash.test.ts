// Proves crash safety for real: a `tengri start` process under steady transfer load is SIGKILLed at
// random moments more than 20 times and restarted, and afterwards every acknowledged transfer is
// present exactly once, no linked chain is half-applied, balances add up, and `tengri verify` passes.
// It runs once with the journal in SQLite and once in PostgreSQL (`tengri start --db`), where each
// restarted process must first wait for the killed one's writer lease to expire.
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { seededRandom } from './support/seeded-random.ts';
import { describeEachBackend, runCli, spawnedJournal, spawnServer, temporaryDirectory, testToken, untilLeader, type Backend, type ServerProcess, type SpawnedJournal } from './support/servers.ts';

/** SIGKILLs under load; the issue asks for at least 20. */
const kills = 22;
/** Concurrent client loops, each with at most one batch request in flight. */
const loopCount = 4;
/** Users' accounts, besides the issuance account. */
const userCount = 8;
const issuance = 'cb:issuance';
const funding = 1_000_000n;
/** More than all the money the test could ever issue, so a leg debiting it from a user always fails. */
const impossibleAmount = '100000000000000';
/** Set TENGRI_CRASH_SEED to replay the same kill delays and the same request contents. */
const seed = process.env.TENGRI_CRASH_SEED === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(process.env.TENGRI_CRASH_SEED);

const users = Array.from({ length: userCount }, (_, index) => `user:${index}`);
const accountIds = [issuance, ...users];

// ---- bookkeeping of what the clients sent and what the server acknowledged ---------------------

interface Leg {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly amount: string;
  readonly pending: boolean;
}

type Unit =
  | { readonly kind: 'single'; readonly leg: Leg }
  | { readonly kind: 'chain'; readonly prefix: string; readonly legs: readonly Leg[]; readonly failing: boolean };

interface BatchRequest {
  readonly units: readonly Unit[];
  /** How many times it was sent; more than once only after a connection failure. */
  attempts: number;
}

interface BatchResult {
  readonly id: string;
  readonly status: 'created' | 'exists' | 'rejected';
  readonly code?: string;
}

interface TransferJson {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly amount: string;
  readonly pending: boolean;
  readonly status: string;
  readonly sequence: number;
}

interface AccountJson {
  readonly balance: string;
  readonly pendingDebits: string;
  readonly pendingCredits: string;
}

interface Generation {
  readonly index: number;
  readonly server: ServerProcess;
  /** Set just before the SIGKILL: failures after it are expected, failures before it are bugs. */
  killed: boolean;
  /** Requests acknowledged by this process, in order. */
  readonly acknowledged: BatchRequest[];
}

/** What the clients of one run (one backend) sent and what its servers acknowledged. */
interface Bookkeeping {
  readonly submitted: Map<string, Leg>;
  readonly chains: Map<string, { legs: readonly Leg[]; failing: boolean }>;
  readonly acknowledged: Set<string>;
  readonly rejected: Set<string>;
  /** Ids of requests that were in flight at a kill and never got an answer (they may or may not exist). */
  readonly unanswered: Set<string>;
  readonly anomalies: string[];
  readonly stats: {
    requests: number;
    interrupted: number;
    retried: number;
    retriesFoundCommitted: number;
    rejectedSingles: number;
    failingChains: number;
    replayedAfterRestart: number;
  };
}

function newBookkeeping(): Bookkeeping {
  return {
    submitted: new Map(),
    chains: new Map(),
    acknowledged: new Set(),
    rejected: new Set(),
    unanswered: new Set(),
    anomalies: [],
    stats: { requests: 0, interrupted: 0, retried: 0, retriesFoundCommitted: 0, rejectedSingles: 0, failingChains: 0, replayedAfterRestart: 0 },
  };
}

// ---- helpers ------------------------------------------------------------------------------------


function between(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function call<T>(url: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${testToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, json: (await response.json()) as T };
}

async function forEachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function legsOf(unit: Unit): readonly Leg[] {
  return unit.kind === 'single' ? [unit.leg] : unit.legs;
}

function batchBody(units: readonly Unit[]) {
  return {
    transfers: units.flatMap((unit) =>
      legsOf(unit).map((leg, index, legs) => ({
        id: leg.id,
        debit: leg.debit,
        credit: leg.credit,
        amount: leg.amount,
        ...(leg.pending ? { pending: true } : {}),
        ...(unit.kind === 'chain' && index < legs.length - 1 ? { linked: true } : {}),
      })),
    ),
  };
}

/** A batch mixing single transfers (some bound to fail for lack of funds) and linked chains. */
function makeRequest({ chains, submitted }: Bookkeeping, random: () => number, loop: number, counter: { next: number }): BatchRequest {
  const units: Unit[] = [];
  const unitCount = between(random, 1, 8);
  for (let u = 0; u < unitCount; u++) {
    const n = counter.next++;
    if (random() < 0.3) {
      // A chain issuance -> a -> b -> ... moving the same amount along distinct neighbours, so it
      // always has the funds; a failing chain asks for an impossible amount on its last leg.
      const failing = random() < 0.2;
      const prefix = `${failing ? 'f' : 'c'}:${loop}:${n}`;
      const length = between(random, 2, 4);
      const path = [issuance];
      while (path.length <= length) {
        const candidate = pick(random, users);
        if (candidate !== path[path.length - 1]) path.push(candidate);
      }
      const amount = String(between(random, 1, 50_000));
      const legs: Leg[] = [];
      for (let k = 0; k < length; k++) {
        legs.push({ id: `${prefix}.${k}`, debit: path[k]!, credit: path[k + 1]!, amount: failing && k === length - 1 ? impossibleAmount : amount, pending: false });
      }
      units.push({ kind: 'chain', prefix, legs, failing });
      chains.set(prefix, { legs, failing });
      for (const leg of legs) submitted.set(leg.id, leg);
      continue;
    }
    const roll = random();
    const id = `s:${loop}:${n}`;
    const debit = pick(random, users);
    let leg: Leg;
    if (roll < 0.65) {
      let credit = pick(random, users);
      while (credit === debit) credit = pick(random, users);
      // Now and then a large amount, which may find too little money.
      const amount = random() < 0.1 ? between(random, 500_000, 3_000_000) : between(random, 1, 30_000);
      leg = { id, debit, credit, amount: String(amount), pending: false };
    } else if (roll < 0.82) {
      leg = { id, debit: issuance, credit: debit, amount: String(between(random, 1, 30_000)), pending: false };
    } else if (roll < 0.94) {
      leg = { id, debit, credit: issuance, amount: String(between(random, 1, 20_000)), pending: false };
    } else {
      leg = { id, debit: issuance, credit: debit, amount: String(between(random, 1, 10_000)), pending: true };
    }
    units.push({ kind: 'single', leg });
    submitted.set(id, leg);
  }
  return { units, attempts: 0 };
}

/**
 * Checks one answer to a batch against what the ledger must say, and records acknowledgements.
 * On a first attempt nothing can already exist; on a retry after a crash, 'exists' means the
 * earlier attempt was committed although its answer was lost, and a chain must come back whole:
 * all created or all existing, never a mix.
 */
function recordResults({ acknowledged, rejected, unanswered, anomalies, stats }: Bookkeeping, request: BatchRequest, results: readonly BatchResult[], generation: Generation): void {
  const where = `server ${generation.index}, attempt ${request.attempts}`;
  const legs = request.units.flatMap(legsOf);
  if (results.length !== legs.length || results.some((result, index) => result.id !== legs[index]!.id)) {
    anomalies.push(`${where}: results do not match the items one for one: ${JSON.stringify(results)}`);
    return;
  }
  const retry = request.attempts > 1;
  let offset = 0;
  for (const unit of request.units) {
    const unitLegs = legsOf(unit);
    const unitResults = results.slice(offset, offset + unitLegs.length);
    offset += unitLegs.length;
    const statuses = unitResults.map((result) => (result.status === 'rejected' ? `rejected:${result.code}` : result.status));
    const label = unit.kind === 'single' ? unit.leg.id : unit.prefix;
    if (unit.kind === 'chain' && unit.failing) {
      const expected = unitLegs.map((_, index) => (index === unitLegs.length - 1 ? 'rejected:insufficient_funds' : 'rejected:linked_event_failed'));
      if (JSON.stringify(statuses) !== JSON.stringify(expected)) anomalies.push(`${where}: failing chain ${label} answered ${statuses.join(',')}`);
    } else if (unit.kind === 'chain') {
      const whole = statuses.every((status) => status === 'created') || (retry && statuses.every((status) => status === 'exists'));
      if (!whole) anomalies.push(`${where}: chain ${label} answered ${statuses.join(',')}`);
    } else {
      const status = statuses[0]!;
      const allowed = status === 'created' || (retry && status === 'exists') || (status === 'rejected:insufficient_funds' && unit.leg.debit !== issuance);
      if (!allowed) anomalies.push(`${where}: transfer ${label} answered ${status}`);
    }
    for (const result of unitResults) {
      unanswered.delete(result.id);
      if (result.status === 'rejected') {
        rejected.add(result.id);
      } else {
        if (rejected.has(result.id)) anomalies.push(`${where}: ${result.id} was rejected before and is now ${result.status}`);
        acknowledged.add(result.id);
        if (result.status === 'exists') stats.retriesFoundCommitted++;
      }
    }
    if (unit.kind === 'single' && statuses[0] === 'rejected:insufficient_funds') stats.rejectedSingles++;
    if (unit.kind === 'chain' && unit.failing) stats.failingChains++;
  }
  generation.acknowledged.push(request);
}

/** The units of a request that were acknowledged (created or existing), for replay after a restart. */
function acknowledgedUnits({ acknowledged }: Bookkeeping, request: BatchRequest): Unit[] {
  return request.units.filter((unit) => legsOf(unit).every((leg) => acknowledged.has(leg.id)));
}

async function readHistory(url: string, account: string): Promise<TransferJson[]> {
  const transfers: TransferJson[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query: string = cursor === null ? 'limit=1000' : `limit=1000&cursor=${cursor}`;
    const page = await call<{ transfers: TransferJson[]; nextCursor: string | null }>(url, 'GET', `/v1/accounts/${account}/transfers?${query}`);
    expect(page.status).toBe(200);
    transfers.push(...page.json.transfers);
    cursor = page.json.nextCursor;
    if (cursor === null) return transfers;
  }
}

// ---- the test -----------------------------------------------------------------------------------

// The two backends run at the same time, each with its own server processes, data directory and
// bookkeeping: a PostgreSQL restart spends most of its time waiting for the killed leader's writer
// lease to lapse, time in which the SQLite run gets on with its own kills.
describeEachBackend((backend) => {
  const servers: ServerProcess[] = [];
  let directory: string | null = null;
  let journal: SpawnedJournal | null = null;

  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    if (directory !== null) rmSync(directory, { recursive: true, force: true });
    await journal?.drop();
  });

  // PostgreSQL: every restart after a SIGKILL waits up to ~3.5 s for the dead leader's lease to lapse.
  const timeout: Record<Backend, number> = { sqlite: 240_000, postgres: 360_000 };

  // The test asserts with its own `expect`, as tests that run concurrently should.
  it(`acknowledged transfers survive ${kills} SIGKILLs under load, exactly once, with whole chains`, { timeout: timeout[backend] }, async ({ expect }) => {
    const started = performance.now();
    console.log(`crash test (${backend}) seed ${seed} (replay with TENGRI_CRASH_SEED=${seed})`);
    const book = newBookkeeping();
    const { submitted, chains, acknowledged, rejected, unanswered, anomalies, stats } = book;
    const data = temporaryDirectory('tengri-crash-');
    directory = data;
    const spawned = await spawnedJournal(backend);
    journal = spawned;
    // A process serves the load only once it leads (on PostgreSQL: once it holds the writer lease).
    const start = async (): Promise<ServerProcess> => {
      const server = await spawnServer(data, [...spawned.arguments]);
      servers.push(server);
      await untilLeader(server);
      return server;
    };
    try {
      const random = seededRandom(seed);
      let generation: Generation = { index: 0, server: await start(), killed: false, acknowledged: [] };

      // Accounts and their first money, before any crash.
      for (const user of users) {
        const created = await call(generation.server.url, 'POST', '/v1/accounts', { id: user, asset: 'KZT' });
        expect(created.status).toBe(201);
      }
      const fundingLegs: Leg[] = users.map((user) => ({ id: `seed:${user}`, debit: issuance, credit: user, amount: String(funding), pending: false }));
      const fundingRequest: BatchRequest = { units: fundingLegs.map((leg) => ({ kind: 'single', leg })), attempts: 1 };
      for (const leg of fundingLegs) submitted.set(leg.id, leg);
      const funded = await call<{ results: BatchResult[] }>(generation.server.url, 'POST', '/v1/transfers/batch', batchBody(fundingRequest.units));
      expect(funded.status).toBe(200);
      recordResults(book, fundingRequest, funded.json.results, generation);
      expect(acknowledged.size).toBe(userCount);

      // The load: each loop sends one batch at a time to whichever server is up. A request cut off
      // by a kill is unanswered; the loop resends most of them, with the same ids, after the restart.
      let live: Promise<Generation> = Promise.resolve(generation);
      let stopping = false;
      const loop = async (index: number): Promise<void> => {
        const loopRandom = seededRandom(seed ^ Math.imul(index + 1, 0x9e3779b1));
        const counter = { next: 0 };
        let retry: BatchRequest | null = null;
        while (!stopping) {
          const current = await live;
          if (stopping) break;
          const request: BatchRequest = retry ?? makeRequest(book, loopRandom, index, counter);
          retry = null;
          request.attempts++;
          stats.requests++;
          if (request.attempts > 1) stats.retried++;
          let answer: { status: number; json: { results: BatchResult[] } };
          try {
            answer = await call<{ results: BatchResult[] }>(current.server.url, 'POST', '/v1/transfers/batch', batchBody(request.units));
          } catch (error) {
            if (!current.killed) anomalies.push(`server ${current.index} failed a request while alive: ${String(error)}`);
            stats.interrupted++;
            for (const leg of request.units.flatMap(legsOf)) if (!acknowledged.has(leg.id) && !rejected.has(leg.id)) unanswered.add(leg.id);
            if (loopRandom() < 0.6) retry = request;
            // The kill replaced `live` before it happened, so the next turn waits for the restart.
            if (!current.killed) await sleep(50);
            continue;
          }
          if (answer.status !== 200) {
            anomalies.push(`server ${current.index} answered ${answer.status}: ${JSON.stringify(answer.json)}`);
            continue;
          }
          recordResults(book, request, answer.json.results, current);
        }
      };
      const loops = Array.from({ length: loopCount }, (_, index) => loop(index));

      for (let kill = 1; kill <= kills; kill++) {
        await sleep(between(random, 50, 400));
        let ready!: (next: Generation) => void;
        live = new Promise<Generation>((resolve) => (ready = resolve));
        generation.killed = true;
        generation.server.child.kill('SIGKILL');
        expect(await generation.server.exited).toBe('SIGKILL');

        const server = await start();
        const previous = generation;
        generation = { index: kill, server, killed: false, acknowledged: [] };

        // What was acknowledged just before the kill is the most at risk: resend the last few
        // acknowledged requests (their acknowledged units) and expect every item to exist already.
        for (const request of previous.acknowledged.slice(-3)) {
          const units = acknowledgedUnits(book, request);
          if (units.length === 0) continue;
          const replay = await call<{ results: BatchResult[] }>(server.url, 'POST', '/v1/transfers/batch', batchBody(units));
          expect(replay.status, JSON.stringify(replay.json)).toBe(200);
          const notExisting = replay.json.results.filter((result) => result.status !== 'exists');
          if (notExisting.length > 0) anomalies.push(`after restart ${kill}: acknowledged transfers answered ${JSON.stringify(notExisting)}`);
          stats.replayedAfterRestart += replay.json.results.length;
        }
        const supply = await call<{ invariantsHold: boolean; violations: string[] }>(server.url, 'GET', '/v1/supply');
        expect(supply.json, `invariants after restart ${kill}`).toMatchObject({ invariantsHold: true, violations: [] });
        ready(generation);
      }

      // Stop the load, then stop the server cleanly and start it once more for the final checks.
      await sleep(between(random, 50, 400));
      stopping = true;
      await Promise.all(loops);
      generation.server.child.kill('SIGTERM');
      expect(await generation.server.exited).toBe(0);
      const final = await start();
      const url = final.url;

      // Every transfer in the ledger, read through each account's history, page by page.
      const found = new Map<string, TransferJson>();
      const seen = new Map<string, Map<string, number>>();
      const balances = new Map<string, { balance: bigint; pendingDebits: bigint; pendingCredits: bigint }>();
      for (const account of accountIds) {
        const history = await readHistory(url, account);
        const counts = new Map<string, number>();
        const totals = { balance: 0n, pendingDebits: 0n, pendingCredits: 0n };
        for (let i = 0; i < history.length; i++) {
          const transfer = history[i]!;
          if (i > 0 && transfer.sequence >= history[i - 1]!.sequence) anomalies.push(`history of ${account} is not newest first at ${transfer.id}`);
          if (transfer.debit !== account && transfer.credit !== account) anomalies.push(`history of ${account} holds ${transfer.id}, which does not touch it`);
          counts.set(transfer.id, (counts.get(transfer.id) ?? 0) + 1);
          const earlier = found.get(transfer.id);
          if (earlier !== undefined && earlier.sequence !== transfer.sequence) anomalies.push(`${transfer.id} has two sequences`);
          found.set(transfer.id, transfer);
          const amount = BigInt(transfer.amount);
          const sign = transfer.credit === account ? 1n : -1n;
          if (transfer.status === 'posted') totals.balance += sign * amount;
          else if (transfer.status === 'pending') {
            if (sign > 0n) totals.pendingCredits += amount;
            else totals.pendingDebits += amount;
          }
        }
        seen.set(account, counts);
        balances.set(account, totals);
      }

      // Everything in the ledger was sent by a client, with exactly the fields it was sent with,
      // and appears once in the debit account's history and once in the credit account's.
      const sequences = new Set<number>();
      for (const transfer of found.values()) {
        sequences.add(transfer.sequence);
        const sent = submitted.get(transfer.id);
        if (sent === undefined) {
          anomalies.push(`${transfer.id} is in the ledger but was never sent`);
          continue;
        }
        const fields = { debit: transfer.debit, credit: transfer.credit, amount: transfer.amount, pending: transfer.pending, status: transfer.status };
        const expected = { debit: sent.debit, credit: sent.credit, amount: sent.amount, pending: sent.pending, status: sent.pending ? 'pending' : 'posted' };
        if (JSON.stringify(fields) !== JSON.stringify(expected)) anomalies.push(`${transfer.id} is stored as ${JSON.stringify(fields)}, sent as ${JSON.stringify(expected)}`);
        for (const account of accountIds) {
          const count = seen.get(account)!.get(transfer.id) ?? 0;
          const touches = account === transfer.debit || account === transfer.credit;
          if (count !== (touches ? 1 : 0)) anomalies.push(`${transfer.id} appears ${count} times in the history of ${account}`);
        }
      }
      if (sequences.size !== found.size) anomalies.push(`${found.size} transfers share ${sequences.size} sequences`);

      // Every acknowledged transfer is there, readable by id with its fields; nothing rejected is.
      const missing = [...acknowledged].filter((id) => !found.has(id));
      expect(missing, 'acknowledged transfers missing after the crashes').toEqual([]);
      await forEachLimited([...acknowledged], 8, async (id) => {
        const read = await call<TransferJson>(url, 'GET', `/v1/transfers/${id}`);
        const sent = submitted.get(id)!;
        if (read.status !== 200 || read.json.debit !== sent.debit || read.json.credit !== sent.credit || read.json.amount !== sent.amount) {
          anomalies.push(`GET /v1/transfers/${id} answered ${read.status} ${JSON.stringify(read.json)}`);
        }
      });
      const resurrected = [...rejected].filter((id) => found.has(id));
      expect(resurrected, 'rejected transfers present in the ledger').toEqual([]);
      const unknown = await call<{ code: string }>(url, 'GET', '/v1/transfers/never-sent');
      expect(unknown.status).toBe(404);

      // No chain is half-applied: all of its transfers exist or none does; failing chains never apply.
      let wholeChains = 0;
      for (const [prefix, chain] of chains) {
        const present = chain.legs.filter((leg) => found.has(leg.id)).length;
        if (present !== 0 && present !== chain.legs.length) anomalies.push(`chain ${prefix} is half-applied: ${present} of ${chain.legs.length}`);
        if (chain.failing && present !== 0) anomalies.push(`failing chain ${prefix} was applied`);
        if (present === chain.legs.length) wholeChains++;
      }

      // Balances are exactly the sum of the transfers found, and sum to zero.
      let total = 0n;
      for (const account of accountIds) {
        const read = await call<AccountJson>(url, 'GET', `/v1/accounts/${account}`);
        expect(read.status).toBe(200);
        const computed = balances.get(account)!;
        expect(
          { balance: read.json.balance, pendingDebits: read.json.pendingDebits, pendingCredits: read.json.pendingCredits },
          `balances of ${account}`,
        ).toEqual({ balance: String(computed.balance), pendingDebits: String(computed.pendingDebits), pendingCredits: String(computed.pendingCredits) });
        total += BigInt(read.json.balance);
      }
      expect(total).toBe(0n);
      const supply = await call<{ invariantsHold: boolean; assets: { asset: string; inCirculation: string }[] }>(url, 'GET', '/v1/supply');
      expect(supply.json.invariantsHold).toBe(true);
      const inCirculation = String(-balances.get(issuance)!.balance);
      expect(supply.json.assets).toEqual([expect.objectContaining({ asset: 'KZT', inCirculation }), expect.objectContaining({ asset: 'KZT_RES', inCirculation: '0' })]);

      expect(anomalies).toEqual([]);

      // The offline check agrees, on the journal the crashes left behind.
      final.child.kill('SIGTERM');
      expect(await final.exited).toBe(0);
      const verified = await runCli(['verify', '--data', data, ...spawned.arguments, '--json']);
      expect(verified.code, verified.stderr).toBe(0);
      const report = JSON.parse(verified.stdout) as { ok: boolean; transfers: number; accounts: number; supply: { asset: string; inCirculation: string }[] };
      expect(report).toMatchObject({ ok: true, transfers: found.size, accounts: accountIds.length + 1, supply: [{ asset: 'KZT', inCirculation }, { asset: 'KZT_RES', inCirculation: '0' }] }); // + cb:reserves from genesis

      const lostAcknowledgements = [...unanswered].filter((id) => found.has(id)).length;
      console.log(
        `crash test (${backend}): ${kills} SIGKILLs in ${Math.round((performance.now() - started) / 1000)} s; ${stats.requests} batch requests, ` +
          `${stats.interrupted} cut off by a kill, ${stats.retried} resent (${stats.retriesFoundCommitted} items already committed); ` +
          `${acknowledged.size} transfers acknowledged, ${found.size} in the ledger (${lostAcknowledgements} committed but never answered); ` +
          `${wholeChains} whole chains, ${stats.failingChains} failing chains rolled back, ${stats.rejectedSingles} singles rejected; ` +
          `${stats.replayedAfterRestart} acknowledged items resent after restarts`,
      );
      expect(stats.interrupted, 'some requests should have been in flight at a kill').toBeGreaterThan(0);
    } catch (error) {
      console.error(`crash test (${backend}) failed with seed ${seed}; replay with TENGRI_CRASH_SEED=${seed}`);
      if (anomalies.length > 0) console.error(`${anomalies.length} anomalies, the first:\n${anomalies.slice(0, 20).join('\n')}`);
      throw error;
    }
  });
}, { concurrent: true });
