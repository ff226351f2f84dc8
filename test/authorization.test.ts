// Proves who may call what. The policy is the matrix in docs/AUTHORIZATION.md (one source of
// truth: this file parses it). Every route of docs/openapi.json is called by every kind of caller
// (none, a wrong key, the operator, two banks, a merchant, a government body, an auditor, a
// regulator and a suspended bank) against a running server with a small world of banks, wallets,
// participants, payments and payment requests. An allowed call must reach its handler and, for a
// write, actually change what it says; a denied call must answer exactly the documented status and
// code and change nothing (the journal head and the targeted resource are compared before and
// after). A route in openapi.json without a row in the matrix fails the test.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { onboardBank, openWallet, signedPayment, startPlatform, type Client, type Holder } from './support/platform.ts';
import { testToken, type InProcess } from './support/servers.ts';

// ---- the policy, parsed from docs/AUTHORIZATION.md ----------------------------------------------

const roles = ['operator', 'bank', 'merchant', 'government', 'auditor', 'regulator'] as const;
type Role = (typeof roles)[number];
/** any: allowed on every resource; own: on the caller's own only; denied: 403 forbidden. */
type Permission = 'any' | 'own' | 'denied';
type Others = { readonly status: number; readonly code: string } | 'filtered' | 'none';

interface Row {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly public: boolean;
  readonly permissions: Readonly<Record<Role, Permission>>;
  readonly others: Others;
}

const repository = join(import.meta.dirname, '..');
const matrixColumns = ['Route', 'Auth', ...roles, "Others' resource"];

function parseMatrix(markdown: string): { rows: Row[]; errors: string[] } {
  const rows: Row[] = [];
  const errors: string[] = [];
  const section = markdown.split(/^## Matrix\s*$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) return { rows, errors: ['docs/AUTHORIZATION.md has no "## Matrix" section'] };
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  const cellsOf = (line: string): string[] => line.split('|').slice(1, -1).map((cell) => cell.trim());
  const header = cellsOf(lines[0] ?? '');
  if (JSON.stringify(header) !== JSON.stringify(matrixColumns)) errors.push(`matrix header is ${JSON.stringify(header)}, expected ${JSON.stringify(matrixColumns)}`);
  for (const line of lines.slice(2)) {
    const cells = cellsOf(line);
    const route = /^`(GET|POST|PUT|PATCH|DELETE) (\/\S*)`$/.exec(cells[0] ?? '');
    if (route === null || cells.length !== matrixColumns.length) {
      errors.push(`malformed matrix row: ${line}`);
      continue;
    }
    const auth = cells[1];
    if (auth !== 'public' && auth !== 'token') errors.push(`${cells[0]}: Auth must be public or token, not ${auth}`);
    const permissions = {} as Record<Role, Permission>;
    roles.forEach((role, index) => {
      // Footnote markers (¹ ²) explain a cell; they do not change it.
      const cell = (cells[index + 2] ?? '').replace(/\s*[¹²³⁴⁵⁶⁷⁸⁹⁰]+$/, '');
      const permission = ({ '✓': 'any', own: 'own', '✗': 'denied' } as const)[cell as '✓' | 'own' | '✗'];
      if (permission === undefined) errors.push(`${cells[0]} × ${role}: unknown cell ${JSON.stringify(cell)}`);
      else if (permission === 'own' && role !== 'bank' && role !== 'merchant' && role !== 'government') errors.push(`${cells[0]} × ${role}: only banks, merchants and government bodies own resources`);
      permissions[role] = permission ?? 'denied';
    });
    const otherCell = cells[matrixColumns.length - 1]!;
    const notFound = /^`([45][0-9]{2}) ([a-z_]+)`$/.exec(otherCell);
    const others: Others = otherCell === '—' ? 'none' : otherCell === 'filtered' ? 'filtered' : notFound !== null ? { status: Number(notFound[1]), code: notFound[2]! } : 'none';
    if (otherCell !== '—' && otherCell !== 'filtered' && notFound === null) errors.push(`${cells[0]}: unknown Others' resource ${JSON.stringify(otherCell)}`);
    const hasOwn = roles.some((role) => permissions[role] === 'own');
    if (!hasOwn && others !== 'none') errors.push(`${cells[0]}: Others' resource given but no role is limited to its own`);
    if (auth === 'public' && roles.some((role) => permissions[role] !== 'any')) errors.push(`${cells[0]}: a public route is ✓ for every role`);
    rows.push({ route: `${route[1]} ${route[2]}`, method: route[1]!, path: route[2]!, public: auth === 'public', permissions, others });
  }
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.route)) errors.push(`${row.route} appears twice`);
    seen.add(row.route);
  }
  return { rows, errors };
}

const matrix = parseMatrix(readFileSync(join(repository, 'docs', 'AUTHORIZATION.md'), 'utf8'));

const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const openApiPaths = (JSON.parse(readFileSync(join(repository, 'docs', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> }).paths;
const openApiRoutes = Object.entries(openApiPaths).flatMap(([path, item]) =>
  Object.keys(item)
    .filter((key) => httpMethods.includes(key))
    .map((method) => `${method.toUpperCase()} ${path}`),
);

// ---- callers and whose resources they touch -------------------------------------------------------

const callers = ['none', 'wrong', 'operator', 'bankA', 'bankB', 'merchant', 'government', 'auditor', 'regulator', 'suspended'] as const;
type Caller = (typeof callers)[number];
const roleOf: Readonly<Record<Exclude<Caller, 'none' | 'wrong'>, Role>> = {
  operator: 'operator',
  bankA: 'bank',
  bankB: 'bank',
  merchant: 'merchant',
  government: 'government',
  auditor: 'auditor',
  regulator: 'regulator',
  suspended: 'bank',
};

/**
 * Whose resource a call targets. A: bank A and its individual wallet; B: bank B and its
 * individual wallet; M: the merchant's wallet (at bank A); G: the government body's wallet (at bank
 * B). Each party's payment and payment request are visible only to that party (and its bank).
 */
type Party = 'A' | 'B' | 'M' | 'G';
type Owner = 'bankA' | 'bankB' | 'merchant' | 'government';
const ownParty: Readonly<Record<Owner, Party>> = { bankA: 'A', bankB: 'B', merchant: 'M', government: 'G' };
/** Resources of someone else that each owner must not reach (the merchant also not another wallet of its own bank). */
const foreignParties: Readonly<Record<Owner, readonly Party[]>> = { bankA: ['B'], bankB: ['A', 'M'], merchant: ['A', 'B'], government: ['A', 'B'] };

// ---- the world ----------------------------------------------------------------------------------

const bankIds = { A: 'authz-bank-a', B: 'authz-bank-b', C: 'authz-bank-c' } as const;
const ledger = { asset: 'AUTHZ', source: 'authz:source', sink: 'authz:sink', transfer: 'authz:t0' } as const;
const wrongToken = `tk_${'x'.repeat(43)}`;

interface World {
  server: InProcess & Client;
  tokens: Record<Caller, string | null>;
  wallets: Record<Party | 'A2' | 'B2', Holder>;
  participants: { M: string; G: string; auditor: string; regulator: string };
  payments: Record<Party, string>;
  requests: Record<Party, string>;
  hook: string;
}

let world: World;
let receiver: Server;
let counter = 0;
const fresh = (prefix: string): string => `${prefix}-${++counter}`;

interface Answer {
  readonly status: number;
  readonly json: any;
  readonly text: string;
  readonly contentType: string;
  readonly headers: Headers;
}

/** One HTTP call; an event stream is cut off once its headers arrived. `token` null: no credentials. */
async function send(method: string, path: string, body: unknown, token: string | null, stream = false): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const response = await fetch(`${world.server.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal });
  const contentType = response.headers.get('content-type') ?? '';
  if (stream && contentType.startsWith('text/event-stream')) {
    controller.abort();
    return { status: response.status, json: null, text: '', contentType, headers: response.headers };
  }
  const text = await response.text();
  return { status: response.status, json: contentType.includes('json') && text !== '' ? JSON.parse(text) : null, text, contentType, headers: response.headers };
}

/** A call that must succeed with `status`; returns the JSON body. */
async function must(method: string, path: string, body: unknown, status: number, token: string | null = testToken): Promise<any> {
  const answer = await send(method, path, body, token);
  if (answer.status !== status) throw new Error(`${method} ${path} ${JSON.stringify(body)}: expected ${status}, got ${answer.status} ${answer.text.slice(0, 300)}`);
  return answer.json;
}

const bankOf = (party: Party): string => (party === 'A' || party === 'M' ? bankIds.A : bankIds.B);
const bankKeyOf = (party: Party): string => (party === 'A' || party === 'M' ? world.tokens.bankA! : world.tokens.bankB!);
const bankCallerOf = (caller: Caller): string | null => (caller === 'bankA' ? bankIds.A : caller === 'bankB' ? bankIds.B : null);
const participantOf = (party: Party): string => (party === 'A' || party === 'M' ? world.participants.M : world.participants.G);
const walletView = (id: string): Promise<any> => must('GET', `/v1/wallets/${id}`, undefined, 200);
const statusOf = async (path: string): Promise<number> => (await send('GET', path, undefined, testToken)).status;

function newPublicKey(): string {
  return encodeBase64url(generateKeyPair().publicKey);
}

/** A new wallet at the party's bank; `credit` lands on the holder's bank account, `fund` then moves into the wallet. */
async function freshWallet(party: Party, options: { credit?: number; fund?: number } = {}): Promise<string> {
  const holder = await openWallet(world.server, bankKeyOf(party), { tier: 2 });
  const credit = (options.credit ?? 0) + (options.fund ?? 0);
  if (credit > 0) await must('POST', `/v1/wallets/${holder.id}/bank-account/credit`, { amount: String(credit) }, 200, bankKeyOf(party));
  if ((options.fund ?? 0) > 0) await must('POST', `/v1/wallets/${holder.id}/fund`, { amount: String(options.fund) }, 200, bankKeyOf(party));
  return holder.id;
}

/** A BIC nobody uses yet (6 letters and 2 more characters). */
function freshBic(): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const n = ++counter;
  return `AZ${letters[Math.floor(n / 676) % 26]}${letters[Math.floor(n / 26) % 26]}${letters[n % 26]}ZKZ`;
}

async function freshBank(): Promise<{ id: string; key: string }> {
  const id = fresh('authz-new-bank');
  return { id, key: await onboardBank(world.server, id, freshBic()) };
}

/** A merchant (party A or M) or a government body (B or G) registered by the operator on the party's wallet. */
async function freshParticipant(party: Party): Promise<{ id: string; key: string; wallet: string }> {
  const id = fresh('authz-actor');
  const merchant = party === 'A' || party === 'M';
  const wallet = merchant ? world.wallets.M.id : world.wallets.G.id;
  const created = await must('POST', '/v1/participants', { id, role: merchant ? 'merchant' : 'government', name: `Actor ${id}`, wallet }, 201);
  return { id, key: created.apiKey as string, wallet };
}

/**
 * A resource for a write to target: new for an allowed call (which changes it); shared between the
 * denied calls of one route and party, since a denied call must leave it as it was (checked).
 */
const victims = new Map<string, Promise<unknown>>();
function victim<T>(key: string, allowed: boolean, make: () => Promise<T>): Promise<T> {
  if (allowed) return make();
  if (!victims.has(key)) victims.set(key, make());
  return victims.get(key) as Promise<T>;
}

async function webhookUrls(): Promise<{ A: unknown; B: unknown }> {
  const of = async (key: string): Promise<unknown> => {
    const answer = await send('GET', '/v1/webhook', undefined, key);
    return answer.status === 200 ? answer.json.url : answer.json?.code;
  };
  return { A: await of(world.tokens.bankA!), B: await of(world.tokens.bankB!) };
}

async function bankViews(): Promise<unknown[]> {
  return Promise.all(Object.values(bankIds).map((id) => must('GET', `/v1/banks/${id}`, undefined, 200)));
}

// ---- probes: for each route, a request against a party's resource and what it must do ---------

interface Context {
  readonly caller: Caller;
  readonly party: Party;
  /** Whether the call is expected to be allowed (it then sets up exactly what it needs to succeed). */
  readonly allowed: boolean;
}

interface Probe {
  readonly path: string;
  readonly body?: unknown;
  readonly stream?: boolean;
  /** The answer of an allowed call: a status (200 by default), or a status and problem code. */
  readonly ok?: number | { readonly status: number; readonly code: string };
  /** Checks that an allowed call did what it says. */
  readonly verify?: (answer: Answer) => Promise<void> | void;
  /** What the call could change; compared before and after a denied call. */
  readonly state?: () => Promise<unknown>;
  /** Restores shared fixtures after an allowed call. */
  readonly cleanup?: () => Promise<void>;
}

type ProbeFactory = (context: Context) => Promise<Probe>;

/** Wallet-management endpoints: a wallet of the party (a new one for an allowed call), prepared by `setup`, changed by the call. */
function walletAction(
  action: string,
  options: { fund?: number; credit?: number; body?: () => unknown; setup?: (wallet: string, context: Context) => Promise<void>; expect: (view: any, body: any) => void },
): ProbeFactory {
  return async (context) => {
    const wallet = await victim(`wallet ${action} ${context.party}`, context.allowed, async () => {
      const id = await freshWallet(context.party, options);
      await options.setup?.(id, context);
      return id;
    });
    const body = options.body?.() ?? {};
    return {
      path: `/v1/wallets/${wallet}/${action}`,
      body,
      verify: async (answer) => {
        options.expect(answer.json, body);
        options.expect(await walletView(wallet), body);
      },
      state: () => walletView(wallet),
    };
  };
}

/** Freshly created pending ledger transfer, for post and void. */
async function pendingTransfer(): Promise<string> {
  const id = fresh('authz:pending');
  await must('POST', '/v1/transfers', { id, debit: ledger.source, credit: ledger.sink, amount: '3', pending: true }, 201);
  return id;
}

async function freshAccount(): Promise<string> {
  const id = fresh('authz:account');
  await must('POST', '/v1/accounts', { id, asset: ledger.asset }, 201);
  return id;
}

/** For events and the event stream: a bank's own events, another bank's, or (operator, auditor) bank A's. */
function eventsProbe(stream: boolean): ProbeFactory {
  return async ({ caller, party }) => {
    const bank = bankOf(party);
    // A bank asking for its own events need not name itself; anyone else names the bank.
    const query = [...(bankCallerOf(caller) === bank ? [] : [`bank=${bank}`]), ...(stream ? [] : ['limit=1000'])];
    return {
      path: `/v1/events${stream ? '/stream' : ''}${query.length === 0 ? '' : `?${query.join('&')}`}`,
      stream,
      verify: (answer) => {
        if (stream) {
          expect(answer.contentType).toMatch(/^text\/event-stream/);
          return;
        }
        expect(answer.json.events.length).toBeGreaterThan(0);
        for (const event of answer.json.events) expect(event.bank).toBe(bank);
      },
    };
  };
}

const probes: Record<string, ProbeFactory> = {
  // system
  'GET /health': async () => ({ path: '/health', verify: (a) => expect(a.json.status).toBe('ok') }),
  'GET /metrics': async () => ({ path: '/metrics', verify: (a) => expect(a.text).toContain('tengri_') }),
  'GET /openapi.json': async () => ({ path: '/openapi.json', verify: (a) => expect(a.json.openapi).toBe('3.1.0') }),
  'GET /v1/supply': async () => ({ path: '/v1/supply', verify: (a) => expect(a.json.invariantsHold).toBe(true) }),

  // ledger
  'POST /v1/assets': async () => {
    const code = `AZ_${++counter}`;
    const codes = async (): Promise<string[]> => (await must('GET', '/v1/assets', undefined, 200)).assets.map((asset: { code: string }) => asset.code);
    return { path: '/v1/assets', body: { code, scale: 2 }, ok: 201, verify: async () => expect(await codes()).toContain(code), state: async () => (await codes()).includes(code) };
  },
  'GET /v1/assets': async () => ({ path: '/v1/assets', verify: (a) => expect(a.json.assets.map((asset: { code: string }) => asset.code)).toContain(ledger.asset) }),
  'POST /v1/accounts': async () => {
    const id = fresh('authz:new-account');
    return { path: '/v1/accounts', body: { id, asset: ledger.asset }, ok: 201, verify: async () => expect(await statusOf(`/v1/accounts/${id}`)).toBe(200), state: () => statusOf(`/v1/accounts/${id}`) };
  },
  'GET /v1/accounts': async () => ({ path: '/v1/accounts?limit=1000', verify: (a) => expect(a.json.accounts.map((account: { id: string }) => account.id)).toContain(ledger.sink) }),
  'GET /v1/accounts/{id}': async () => ({ path: `/v1/accounts/${ledger.sink}`, verify: (a) => expect(a.json.id).toBe(ledger.sink) }),
  'GET /v1/accounts/{id}/transfers': async () => ({ path: `/v1/accounts/${ledger.sink}/transfers`, verify: (a) => expect(a.json.transfers.length).toBeGreaterThan(0) }),
  'POST /v1/accounts/{id}/freeze': async ({ allowed }) => {
    const id = await victim('account to freeze', allowed, freshAccount);
    const view = (): Promise<any> => must('GET', `/v1/accounts/${id}`, undefined, 200);
    return { path: `/v1/accounts/${id}/freeze`, verify: async () => expect((await view()).status).toBe('frozen'), state: view };
  },
  'POST /v1/accounts/{id}/unfreeze': async ({ allowed }) => {
    const id = await victim('account to unfreeze', allowed, async () => {
      const account = await freshAccount();
      await must('POST', `/v1/accounts/${account}/freeze`, undefined, 200);
      return account;
    });
    const view = (): Promise<any> => must('GET', `/v1/accounts/${id}`, undefined, 200);
    return { path: `/v1/accounts/${id}/unfreeze`, verify: async () => expect((await view()).status).toBe('active'), state: view };
  },
  'POST /v1/transfers': async () => {
    const id = fresh('authz:transfer');
    return {
      path: '/v1/transfers',
      body: { id, debit: ledger.source, credit: ledger.sink, amount: '1' },
      ok: 201,
      verify: async () => expect((await must('GET', `/v1/transfers/${id}`, undefined, 200)).status).toBe('posted'),
      state: () => statusOf(`/v1/transfers/${id}`),
    };
  },
  'GET /v1/transfers': async () => ({ path: '/v1/transfers?limit=1000', verify: (a) => expect(a.json.transfers.map((t: { id: string }) => t.id)).toContain(ledger.transfer) }),
  'POST /v1/transfers/batch': async () => {
    const id = fresh('authz:batch');
    return {
      path: '/v1/transfers/batch',
      body: { transfers: [{ id, debit: ledger.source, credit: ledger.sink, amount: '1' }] },
      verify: async (a) => {
        expect(a.json.results).toEqual([{ id, status: 'created' }]);
        expect(await statusOf(`/v1/transfers/${id}`)).toBe(200);
      },
      state: () => statusOf(`/v1/transfers/${id}`),
    };
  },
  'GET /v1/transfers/{id}': async () => ({ path: `/v1/transfers/${ledger.transfer}`, verify: (a) => expect(a.json.id).toBe(ledger.transfer) }),
  'POST /v1/transfers/{id}/post': async ({ allowed }) => {
    const id = await victim('transfer to post', allowed, pendingTransfer);
    const view = (): Promise<any> => must('GET', `/v1/transfers/${id}`, undefined, 200);
    return { path: `/v1/transfers/${id}/post`, body: {}, verify: async () => expect((await view()).status).toBe('posted'), state: view };
  },
  'POST /v1/transfers/{id}/void': async ({ allowed }) => {
    const id = await victim('transfer to void', allowed, pendingTransfer);
    const view = (): Promise<any> => must('GET', `/v1/transfers/${id}`, undefined, 200);
    return { path: `/v1/transfers/${id}/void`, body: {}, verify: async () => expect((await view()).status).toBe('voided'), state: view };
  },

  // banks and participants
  'POST /v1/banks': async () => {
    const id = fresh('authz-onboarded');
    return {
      path: '/v1/banks',
      body: { id, name: `Bank ${id}`, bic: freshBic() },
      ok: 201,
      verify: async (a) => {
        expect(a.json.id).toBe(id);
        expect((await must('GET', `/v1/banks/${id}`, undefined, 200, a.json.apiKey)).id).toBe(id);
      },
      state: () => statusOf(`/v1/banks/${id}`),
    };
  },
  'GET /v1/banks': async () => ({ path: '/v1/banks', verify: (a) => expect(a.json.banks.map((b: { id: string }) => b.id)).toEqual(expect.arrayContaining([bankIds.A, bankIds.B])) }),
  'GET /v1/banks/{id}': async ({ party }) => ({ path: `/v1/banks/${bankOf(party)}`, verify: (a) => expect(a.json.id).toBe(bankOf(party)) }),
  'POST /v1/banks/{id}/reserves': async () => {
    const before = BigInt((await must('GET', `/v1/banks/${bankIds.A}`, undefined, 200)).reserves);
    return {
      path: `/v1/banks/${bankIds.A}/reserves`,
      body: { amount: '1', id: fresh('authz-reserves') },
      ok: 201,
      verify: async () => expect(BigInt((await must('GET', `/v1/banks/${bankIds.A}`, undefined, 200)).reserves)).toBe(before + 1n),
      state: bankViews,
    };
  },
  'PUT /v1/banks/{id}/issuance-cap': async ({ allowed }) => {
    const bank = await victim('bank to cap', allowed, freshBank);
    const view = (): Promise<any> => must('GET', `/v1/banks/${bank.id}`, undefined, 200);
    return { path: `/v1/banks/${bank.id}/issuance-cap`, body: { cap: '123' }, verify: async () => expect((await view()).issuanceCap).toBe('123'), state: view };
  },
  'POST /v1/banks/{id}/suspend': async ({ allowed }) => {
    const bank = await victim('bank to suspend', allowed, freshBank);
    return {
      path: `/v1/banks/${bank.id}/suspend`,
      verify: async (a) => {
        expect(a.json.status).toBe('suspended');
        expect((await send('GET', `/v1/banks/${bank.id}`, undefined, bank.key)).json.code).toBe('participant_suspended');
      },
      state: async () => [await must('GET', `/v1/participants/${bank.id}`, undefined, 200), (await send('GET', `/v1/banks/${bank.id}`, undefined, bank.key)).status],
    };
  },
  'POST /v1/participants/{id}/suspend': async ({ party, allowed }) => {
    const actor = await victim(`participant to suspend ${party}`, allowed, () => freshParticipant(party));
    return {
      path: `/v1/participants/${actor.id}/suspend`,
      verify: async (a) => {
        expect(a.json.status).toBe('suspended');
        expect((await send('GET', `/v1/wallets/${actor.wallet}`, undefined, actor.key)).json.code).toBe('participant_suspended');
      },
      state: async () => [await must('GET', `/v1/participants/${actor.id}`, undefined, 200), (await send('GET', `/v1/wallets/${actor.wallet}`, undefined, actor.key)).status],
    };
  },
  'POST /v1/banks/{id}/reinstate': async ({ allowed }) => {
    const bank = await victim('bank to reinstate', allowed, async () => {
      const suspended = await freshBank();
      await must('POST', `/v1/banks/${suspended.id}/suspend`, undefined, 200);
      return suspended;
    });
    return {
      path: `/v1/banks/${bank.id}/reinstate`,
      verify: async (a) => {
        expect(a.json.status).toBe('active');
        await must('GET', `/v1/banks/${bank.id}`, undefined, 200, bank.key);
      },
      state: async () => [await must('GET', `/v1/participants/${bank.id}`, undefined, 200), (await send('GET', `/v1/banks/${bank.id}`, undefined, bank.key)).status],
    };
  },
  'POST /v1/participants/{id}/reinstate': async ({ party, allowed }) => {
    const actor = await victim(`participant to reinstate ${party}`, allowed, async () => {
      const suspended = await freshParticipant(party);
      await must('POST', `/v1/participants/${suspended.id}/suspend`, undefined, 200);
      return suspended;
    });
    return {
      path: `/v1/participants/${actor.id}/reinstate`,
      verify: async (a) => {
        expect(a.json.status).toBe('active');
        await must('GET', `/v1/wallets/${actor.wallet}`, undefined, 200, actor.key);
      },
      state: async () => [await must('GET', `/v1/participants/${actor.id}`, undefined, 200), (await send('GET', `/v1/wallets/${actor.wallet}`, undefined, actor.key)).status],
    };
  },
  'POST /v1/participants': async ({ caller, party }) => {
    const id = fresh('authz-registered');
    const merchant = party === 'A' || party === 'M';
    const wallet = merchant ? world.wallets.M.id : world.wallets.G.id;
    // The operator registers any role (here an auditor); a bank a merchant or body for a wallet.
    const body = caller === 'operator' ? { id, role: 'auditor', name: `Auditor ${id}` } : { id, role: merchant ? 'merchant' : 'government', name: `Actor ${id}`, wallet };
    return {
      path: '/v1/participants',
      body,
      ok: 201,
      verify: async (a) => {
        expect(a.json).toMatchObject({ id, role: body.role });
        const registered = await must('GET', `/v1/participants/${id}`, undefined, 200);
        if (caller === 'operator') {
          await must('GET', '/v1/banks', undefined, 200, a.json.apiKey);
        } else {
          expect(registered.bank).toBe(bankCallerOf(caller));
          expect((await must('GET', `/v1/wallets/${wallet}`, undefined, 200, a.json.apiKey)).id).toBe(wallet);
          // A bank registers only merchants and government bodies.
          for (const role of ['auditor', 'regulator']) {
            const other = fresh('authz-registered');
            const refused = await send('POST', '/v1/participants', { id: other, role, name: 'Not for banks' }, world.tokens[caller]);
            expect([refused.status, refused.json.code]).toEqual([403, 'forbidden']);
            expect(await statusOf(`/v1/participants/${other}`)).toBe(404);
          }
        }
      },
      state: () => statusOf(`/v1/participants/${id}`),
    };
  },
  'GET /v1/participants': async ({ caller }) => ({
    path: '/v1/participants?limit=1000',
    verify: (a) => {
      const listed: { id: string; bank: string | null }[] = a.json.participants;
      const ids = listed.map((p) => p.id);
      const bank = bankCallerOf(caller);
      if (bank === null) {
        expect(ids).toEqual(expect.arrayContaining([bankIds.A, bankIds.B, world.participants.M, world.participants.G, world.participants.auditor, world.participants.regulator]));
      } else {
        // A bank sees itself and the merchants and bodies of its wallets, nobody else.
        for (const p of listed) expect(p.bank).toBe(bank);
        expect(ids).toContain(bank);
        expect(ids).toContain(bank === bankIds.A ? world.participants.M : world.participants.G);
      }
    },
  }),
  'GET /v1/participants/{id}': async ({ party }) => ({ path: `/v1/participants/${participantOf(party)}`, verify: (a) => expect(a.json.id).toBe(participantOf(party)) }),
  'POST /v1/participants/{id}/api-key': async ({ party, allowed }) => {
    const actor = await victim(`participant to re-key ${party}`, allowed, () => freshParticipant(party));
    const keyWorks = async (key: string): Promise<number> => (await send('GET', `/v1/wallets/${actor.wallet}`, undefined, key)).status;
    return {
      path: `/v1/participants/${actor.id}/api-key`,
      ok: 201,
      verify: async (a) => {
        expect(a.json.id).toBe(actor.id);
        expect(await keyWorks(actor.key)).toBe(401);
        expect(await keyWorks(a.json.apiKey)).toBe(200);
      },
      state: async () => [await must('GET', `/v1/participants/${actor.id}`, undefined, 200), await keyWorks(actor.key)],
    };
  },
  'POST /v1/issuance': async ({ caller }) => {
    const bank = bankCallerOf(caller);
    const before = bank === null ? 0n : BigInt((await must('GET', `/v1/banks/${bank}`, undefined, 200)).issued);
    return {
      path: '/v1/issuance',
      body: { amount: '1', id: fresh('authz-issue') },
      ok: 201,
      verify: async (a) => {
        expect(a.json.bank).toBe(bank);
        expect(BigInt((await must('GET', `/v1/banks/${bank}`, undefined, 200)).issued)).toBe(before + 1n);
      },
      state: bankViews,
    };
  },
  'POST /v1/redemption': async ({ caller }) => {
    const bank = bankCallerOf(caller);
    const before = bank === null ? 0n : BigInt((await must('GET', `/v1/banks/${bank}`, undefined, 200)).issued);
    return {
      path: '/v1/redemption',
      body: { amount: '1', id: fresh('authz-redeem') },
      ok: 201,
      verify: async (a) => {
        expect(a.json.bank).toBe(bank);
        expect(BigInt((await must('GET', `/v1/banks/${bank}`, undefined, 200)).issued)).toBe(before - 1n);
      },
      state: bankViews,
    };
  },
  'GET /v1/tiers': async () => ({ path: '/v1/tiers', verify: (a) => expect(a.json.tiers.map((t: { tier: number }) => t.tier)).toEqual([0, 1, 2]) }),
  'PUT /v1/tiers/{tier}': async () => {
    const tiers = async (): Promise<any[]> => (await must('GET', '/v1/tiers', undefined, 200)).tiers;
    const original = (await tiers())[0];
    const limits = { holdingLimit: original.holdingLimit, perPaymentLimit: original.perPaymentLimit, dailyLimit: original.dailyLimit };
    const changed = { ...limits, dailyLimit: String(BigInt(limits.dailyLimit) + 1n) };
    return {
      path: '/v1/tiers/0',
      body: changed,
      verify: async () => expect((await tiers())[0]).toMatchObject(changed),
      state: tiers,
      cleanup: async () => void (await must('PUT', '/v1/tiers/0', limits, 200)),
    };
  },

  // wallets
  'POST /v1/wallets': async ({ caller, party, allowed }) => {
    const bank = bankCallerOf(caller);
    // A bank asking for another bank's wallet id gets it refused; anyone else tries a new id.
    const taken = allowed || bank === null ? null : world.wallets[party].id;
    const id = taken ?? fresh('w_authz');
    return {
      path: '/v1/wallets',
      body: { id, publicKey: newPublicKey(), kind: 'individual', tier: 2 },
      ok: 201,
      verify: async (a) => {
        expect(a.json).toMatchObject({ id, bank, status: 'active' });
        expect((await walletView(id)).bank).toBe(bank);
      },
      state: async () => (taken === null ? statusOf(`/v1/wallets/${id}`) : walletView(taken)),
    };
  },
  'GET /v1/wallets': async ({ caller }) => ({
    path: '/v1/wallets?limit=1000',
    verify: (a) => {
      const listed: { id: string; bank: string }[] = a.json.wallets;
      const bank = bankCallerOf(caller);
      const ids = listed.map((w) => w.id);
      if (bank === null) {
        expect(ids).toEqual(expect.arrayContaining(Object.values(world.wallets).map((w) => w.id)));
      } else {
        for (const w of listed) expect(w.bank).toBe(bank);
        const own = bank === bankIds.A ? [world.wallets.A, world.wallets.A2, world.wallets.M] : [world.wallets.B, world.wallets.B2, world.wallets.G];
        expect(ids).toEqual(expect.arrayContaining(own.map((w) => w.id)));
      }
    },
  }),
  'GET /v1/wallets/{id}': async ({ party }) => ({ path: `/v1/wallets/${world.wallets[party].id}`, verify: (a) => expect(a.json).toMatchObject({ id: world.wallets[party].id, bank: bankOf(party) }) }),
  'GET /v1/wallets/{id}/history': async ({ party }) => ({ path: `/v1/wallets/${world.wallets[party].id}/history`, verify: (a) => expect(a.json.transfers.length).toBeGreaterThan(0) }),
  'POST /v1/wallets/{id}/freeze': walletAction('freeze', { body: () => ({ reason: 'authz' }), expect: (v) => expect(v.status).toBe('frozen') }),
  'POST /v1/wallets/{id}/unfreeze': walletAction('unfreeze', {
    // Frozen by whoever lifts it: the operator for the operator's cell, else the wallet's bank.
    setup: async (wallet, { caller, party }) => void (await must('POST', `/v1/wallets/${wallet}/freeze`, {}, 200, caller === 'operator' ? testToken : bankKeyOf(party))),
    expect: (v) => expect(v.status).toBe('active'),
  }),
  'POST /v1/wallets/{id}/close': walletAction('close', { fund: 10, expect: (v) => expect(v).toMatchObject({ status: 'closed', balance: '0', bankAccountBalance: '10' }) }),
  'POST /v1/wallets/{id}/key': walletAction('key', {
    body: () => ({ publicKey: newPublicKey(), reason: 'rotation' }),
    expect: (v, b) => expect(v).toMatchObject({ publicKey: b.publicKey, keyVersion: 2 }),
  }),
  'POST /v1/wallets/{id}/tier': walletAction('tier', { body: () => ({ tier: 1 }), expect: (v) => expect(v.tier).toBe(1) }),
  'POST /v1/wallets/{id}/conversion': walletAction('conversion', { body: () => ({ convertIncoming: true }), expect: (v) => expect(v.convertIncoming).toBe(true) }),
  'POST /v1/wallets/{id}/fund': walletAction('fund', { credit: 10, body: () => ({ amount: '1' }), expect: (v) => expect(v).toMatchObject({ balance: '1', bankAccountBalance: '9' }) }),
  'POST /v1/wallets/{id}/defund': walletAction('defund', { fund: 10, body: () => ({ amount: '1' }), expect: (v) => expect(v).toMatchObject({ balance: '9', bankAccountBalance: '1' }) }),
  'POST /v1/wallets/{id}/bank-account/credit': walletAction('bank-account/credit', { body: () => ({ amount: '1' }), expect: (v) => expect(v).toMatchObject({ balance: '0', bankAccountBalance: '1' }) }),
  'POST /v1/wallets/{id}/bank-account/debit': walletAction('bank-account/debit', { credit: 10, body: () => ({ amount: '1' }), expect: (v) => expect(v).toMatchObject({ balance: '0', bankAccountBalance: '9' }) }),

  // payments
  'POST /v1/payments': async () => {
    const id = fresh('authz-pay');
    return {
      path: '/v1/payments',
      body: signedPayment(world.wallets.A, { id, to: world.wallets.A2.id, amount: 1n }),
      ok: 201,
      verify: async (a) => {
        expect(a.json).toMatchObject({ id, status: 'completed', amount: '1' });
        expect((await must('GET', `/v1/payments/${id}`, undefined, 200)).id).toBe(id);
      },
    };
  },
  'GET /v1/payments/{id}': async ({ caller, party }) => ({
    path: `/v1/payments/${world.payments[party]}`,
    verify: async (a) => {
      expect(a.json.id).toBe(world.payments[party]);
      // The payee's bank sees a payment that came from another bank's wallet.
      if (caller === 'bankB') expect((await must('GET', `/v1/payments/${world.payments.G}`, undefined, 200, world.tokens.bankB)).from).toBe(world.wallets.A.id);
    },
  }),
  'POST /v1/payment-requests': async ({ caller, party, allowed }) => {
    const id = fresh('authz-request');
    const wallet = world.wallets[party].id;
    // A merchant asks without naming its wallet; a government body names its own; a bank names one of its wallets.
    const body = caller === 'merchant' && allowed ? { amount: '5', id } : { amount: '5', id, wallet };
    return {
      path: '/v1/payment-requests',
      body,
      ok: 201,
      verify: async (a) => {
        expect(a.json).toMatchObject({ id, wallet, status: 'open' });
        expect((await must('GET', `/v1/payment-requests/${id}`, undefined, 200)).wallet).toBe(wallet);
      },
      state: () => statusOf(`/v1/payment-requests/${id}`),
    };
  },
  'GET /v1/payment-requests/{id}': async ({ party }) => ({ path: `/v1/payment-requests/${world.requests[party]}`, verify: (a) => expect(a.json.id).toBe(world.requests[party]) }),

  // events and webhooks
  'GET /v1/events': eventsProbe(false),
  'GET /v1/events/stream': eventsProbe(true),
  'PUT /v1/webhook': async ({ caller }) => {
    const url = `${world.hook}/${fresh('hook')}`;
    const key = world.tokens[caller];
    return {
      path: '/v1/webhook',
      body: { url },
      verify: async (a) => {
        expect(a.json.url).toBe(url);
        expect(a.json.secret).toMatch(/^whsec_/);
        expect((await must('GET', '/v1/webhook', undefined, 200, key)).url).toBe(url);
      },
      state: webhookUrls,
      // Bank B stays without a webhook for the cells after this one.
      cleanup: async () => {
        if (caller === 'bankB') await must('DELETE', '/v1/webhook', undefined, 204, key);
      },
    };
  },
  'GET /v1/webhook': async ({ caller }) => ({
    path: '/v1/webhook',
    ok: caller === 'bankB' ? { status: 404, code: 'webhook_not_found' } : 200,
    verify: (a) => {
      if (caller === 'bankA') expect(a.json.url.startsWith(world.hook)).toBe(true);
    },
    state: webhookUrls,
  }),
  'DELETE /v1/webhook': async ({ caller }) => ({
    path: '/v1/webhook',
    ok: caller === 'bankB' ? { status: 404, code: 'webhook_not_found' } : 204,
    verify: async () => {
      if (caller === 'bankA') expect((await send('GET', '/v1/webhook', undefined, world.tokens.bankA)).json.code).toBe('webhook_not_found');
    },
    state: webhookUrls,
    cleanup: async () => {
      if (caller === 'bankA') await must('PUT', '/v1/webhook', { url: `${world.hook}/a` }, 200, world.tokens.bankA);
    },
  }),
  'GET /v1/banks/{id}/statement': async ({ party }) => ({ path: `/v1/banks/${bankOf(party)}/statement`, verify: (a) => expect(a.json.bank).toBe(bankOf(party)) }),
};

// ---- running one cell ---------------------------------------------------------------------------

function journalSequence(): number {
  return world.server.sequencer.journalHead?.sequence ?? 0;
}

function describeAnswer(answer: Answer): string {
  return `${answer.status} ${answer.text.slice(0, 300)}`;
}

async function expectAllowed(row: Row, caller: Caller, party: Party): Promise<void> {
  const probe = await probes[row.route]!({ caller, party, allowed: true });
  const answer = await send(row.method, probe.path, probe.body, world.tokens[caller], probe.stream);
  const where = `${row.method} ${probe.path} as ${caller} (${party}'s resource) should be allowed`;
  const ok = probe.ok ?? 200;
  if (typeof ok === 'number') {
    expect(answer.status, `${where}: ${describeAnswer(answer)}`).toBe(ok);
  } else {
    expect([answer.status, answer.json?.code], `${where}: ${describeAnswer(answer)}`).toEqual([ok.status, ok.code]);
  }
  await probe.verify?.(answer);
  await probe.cleanup?.();
}

async function expectDenied(row: Row, caller: Caller, party: Party, status: number, code: string): Promise<void> {
  const probe = await probes[row.route]!({ caller, party, allowed: false });
  // A write that is refused must be shown to leave its target as it was, not only the journal.
  if (row.method !== 'GET') expect(probe.state, `${row.route} needs a state() for its denied cells`).toBeDefined();
  const journal = journalSequence();
  const before = await probe.state?.();
  const answer = await send(row.method, probe.path, probe.body, world.tokens[caller], probe.stream);
  const where = `${row.method} ${probe.path} as ${caller} (${party}'s resource) should be ${status} ${code}`;
  expect([answer.status, answer.json?.code], `${where}: ${describeAnswer(answer)}`).toEqual([status, code]);
  expect(answer.contentType, where).toMatch(/^application\/problem\+json/);
  if (status === 401) expect(answer.headers.get('www-authenticate'), where).toMatch(/^Bearer /);
  expect(journalSequence(), `${where}: nothing may be journaled`).toBe(journal);
  expect(await probe.state?.(), `${where}: nothing may change`).toEqual(before);
}

async function checkCell(row: Row, caller: Caller): Promise<void> {
  if (probes[row.route] === undefined) throw new Error(`no probe for ${row.route}`);
  if (row.public) return expectAllowed(row, caller, 'A');
  if (caller === 'none' || caller === 'wrong') return expectDenied(row, caller, 'A', 401, 'unauthorized');
  if (caller === 'suspended') return expectDenied(row, caller, 'A', 403, 'participant_suspended');
  const permission = row.permissions[roleOf[caller]];
  if (permission === 'denied') return expectDenied(row, caller, 'A', 403, 'forbidden');
  if (permission === 'any') return expectAllowed(row, caller, 'A');
  const owner = caller as Owner;
  await expectAllowed(row, caller, ownParty[owner]);
  const others = row.others;
  if (typeof others === 'object') {
    for (const party of foreignParties[owner]) await expectDenied(row, caller, party, others.status, others.code);
  }
}

// ---- the tests ----------------------------------------------------------------------------------

describe('the policy table in docs/AUTHORIZATION.md', () => {
  it('is well formed', () => {
    expect(matrix.errors).toEqual([]);
  });

  it('has a row for every route of docs/openapi.json and none for a route that does not exist', () => {
    const rows = matrix.rows.map((row) => row.route);
    expect(openApiRoutes.length).toBeGreaterThan(0);
    expect(
      openApiRoutes.filter((route) => !rows.includes(route)),
      'routes in docs/openapi.json without a row in the docs/AUTHORIZATION.md matrix',
    ).toEqual([]);
    expect(
      rows.filter((route) => !openApiRoutes.includes(route)),
      'rows in the docs/AUTHORIZATION.md matrix for routes not in docs/openapi.json',
    ).toEqual([]);
  });

  it('has a probe in this test for every row, and no probe without a row', () => {
    const rows = matrix.rows.map((row) => row.route);
    expect(rows.filter((route) => probes[route] === undefined)).toEqual([]);
    expect(Object.keys(probes).filter((route) => !rows.includes(route))).toEqual([]);
  });
});

describe('authorization matrix: every route × every caller', () => {
  beforeAll(async () => {
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    if (typeof address !== 'object' || address === null) throw new Error('webhook receiver is not listening');

    const server = await startPlatform();
    world = { server, hook: `http://127.0.0.1:${address.port}/hooks` } as World;
    const bankA = await onboardBank(server, bankIds.A, 'AZAAKZA1', { reserves: 10_000_000n, issue: 5_000_000n });
    const bankB = await onboardBank(server, bankIds.B, 'AZAAKZB1', { reserves: 10_000_000n, issue: 5_000_000n });
    const bankC = await onboardBank(server, bankIds.C, 'AZAAKZC1', { reserves: 1_000n, issue: 100n });
    const wallets = {
      A: await openWallet(server, bankA, { fund: 1_000_000n }),
      A2: await openWallet(server, bankA, { fund: 1_000n }),
      M: await openWallet(server, bankA, { kind: 'merchant', fund: 1_000n }),
      B: await openWallet(server, bankB, { fund: 1_000_000n }),
      B2: await openWallet(server, bankB, { fund: 1_000n }),
      G: await openWallet(server, bankB, { kind: 'government', fund: 1_000n }),
    };
    const register = async (id: string, role: string, wallet?: string): Promise<string> =>
      (await must('POST', '/v1/participants', { id, role, name: `The ${role}`, ...(wallet === undefined ? {} : { wallet }) }, 201)).apiKey;
    const participants = { M: 'authz-merchant', G: 'authz-government', auditor: 'authz-auditor', regulator: 'authz-regulator' };
    const tokens: Record<Caller, string | null> = {
      none: null,
      wrong: wrongToken,
      operator: testToken,
      bankA,
      bankB,
      merchant: await register(participants.M, 'merchant', wallets.M.id),
      government: await register(participants.G, 'government', wallets.G.id),
      auditor: await register(participants.auditor, 'auditor'),
      regulator: await register(participants.regulator, 'regulator'),
      suspended: bankC,
    };
    Object.assign(world, { tokens, wallets, participants });
    await must('POST', `/v1/banks/${bankIds.C}/suspend`, undefined, 200);

    const pay = async (from: Holder, to: Holder, id: string): Promise<string> => {
      await must('POST', '/v1/payments', signedPayment(from, { id, to: to.id, amount: 100n }), 201, null);
      return id;
    };
    // Each visible only to its party: A and B stay inside their bank; M pays the merchant; G pays
    // the government body across banks (so bank B sees a payment from bank A's wallet).
    world.payments = {
      A: await pay(wallets.A, wallets.A2, 'authz-pay-a'),
      B: await pay(wallets.B, wallets.B2, 'authz-pay-b'),
      M: await pay(wallets.A, wallets.M, 'authz-pay-m'),
      G: await pay(wallets.A, wallets.G, 'authz-pay-g'),
    };
    const request = async (id: string, token: string | null, wallet?: string): Promise<string> => {
      await must('POST', '/v1/payment-requests', { id, amount: '250', ...(wallet === undefined ? {} : { wallet }) }, 201, token);
      return id;
    };
    world.requests = {
      A: await request('authz-request-a', bankA, wallets.A.id),
      B: await request('authz-request-b', bankB, wallets.B.id),
      M: await request('authz-request-m', tokens.merchant),
      G: await request('authz-request-g', tokens.government),
    };
    // Bank A has a webhook, bank B has none.
    await must('PUT', '/v1/webhook', { url: `${world.hook}/a` }, 200, bankA);

    // A small ledger of its own for the raw ledger endpoints.
    await must('POST', '/v1/assets', { code: ledger.asset, scale: 2 }, 201);
    await must('POST', '/v1/accounts', { id: ledger.source, asset: ledger.asset, allowNegative: true }, 201);
    await must('POST', '/v1/accounts', { id: ledger.sink, asset: ledger.asset }, 201);
    await must('POST', '/v1/transfers', { id: ledger.transfer, debit: ledger.source, credit: ledger.sink, amount: '100' }, 201);
  });

  afterAll(async () => {
    await world?.server.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  for (const row of matrix.rows) {
    for (const caller of callers) {
      it(`${row.route} × ${caller}`, () => checkCell(row, caller));
    }
  }
});
