// Proves that bad input to every endpoint of the two-tier platform (banks, participants, issuance,
// tiers, wallets, payments, payment requests, events, webhooks, statements), sent over real HTTP
// with the right role's credentials, gets a 4xx RFC 9457 problem+json with a documented code and
// changes nothing (supply and journal, banks, wallets, participants, payments, events, webhooks);
// that calls with the wrong role are refused the same way; that `findDuplicateKey` agrees with a
// reference parser; and that a signed payment cannot be altered by one character into another
// payment that is accepted.
import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDuplicateKey } from '../src/api/json-duplicates.ts';
import { apiErrorCodes } from '../src/api/problem.ts';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { generateKeyPair, isValidPublicKey } from '../src/crypto/ed25519.ts';
import { signPayment } from '../src/crypto/payment-signature.ts';
import { edgeCases } from '../src/crypto/test-vectors.ts';
import { isWebhookUrl } from '../src/events/webhooks.ts';
import { allResultCodes } from '../src/ledger/result-codes.ts';
import { bicPattern, operationIdPattern, participantIdPattern, walletIdPattern } from '../src/platform/accounts.ts';
import { onboardBank, openWallet, signedPayment, startPlatform, type Client, type Holder } from './support/platform.ts';
import { seededRandom } from './support/seeded-random.ts';
import { describeEachBackend, testToken, type Backend, type InProcess } from './support/servers.ts';

// ---- real HTTP on loopback ------------------------------------------------------------------

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

interface RawRequest {
  readonly method: string;
  readonly path: string;
  /** Exact bytes of the body; absent means no body at all. */
  readonly body?: string | Buffer;
  /** Content-Type header; null sends none. Defaults to application/json when there is a body. */
  readonly contentType?: string | null;
  /** The bearer token; null sends no Authorization header. */
  readonly token: string | null;
  readonly contentEncoding?: string;
  readonly headers?: Record<string, string>;
}

/** Snapshot reads reuse connections; every request under test gets a fresh one. */
const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });

function send(port: number, req: RawRequest, agent: Agent | false = false): Promise<RawResponse> {
  const headers: Record<string, string | number> = { ...req.headers };
  if (req.token !== null) headers.authorization = `Bearer ${req.token}`;
  if (req.body !== undefined) {
    const contentType = req.contentType === undefined ? 'application/json' : req.contentType;
    if (contentType !== null) headers['content-type'] = contentType;
    headers['content-length'] = Buffer.byteLength(req.body);
  }
  if (req.contentEncoding !== undefined) headers['content-encoding'] = req.contentEncoding;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    // A stream that was opened by mistake must fail the test, not hang it.
    outgoing.setTimeout(10_000, () => outgoing.destroy(new Error(`no answer to ${req.method} ${req.path.slice(0, 80)}`)));
    // The server may answer (413, 401) and close before it has read a large body; that is fine.
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    outgoing.end(req.body);
  });
}

const knownCodes = new Set<string>([...Object.keys(apiErrorCodes), ...allResultCodes]);

function describeResponse(req: RawRequest, response: RawResponse): string {
  const body = req.body === undefined ? '' : typeof req.body === 'string' ? req.body.slice(0, 300) : `<${req.body.length} bytes>`;
  return `${req.method} ${req.path.slice(0, 120)} ${body} -> ${response.status} ${String(response.headers['content-type'])} ${response.text.slice(0, 300)}`;
}

/** Asserts a 4xx RFC 9457 problem with a documented code; returns the code. */
function expectDocumentedProblem(req: RawRequest, response: RawResponse): string {
  const context = describeResponse(req, response);
  expect(response.status, context).toBeGreaterThanOrEqual(400);
  expect(response.status, context).toBeLessThan(500);
  expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json(;|$)/);
  const problem = JSON.parse(response.text) as Record<string, unknown>;
  const code = String(problem.code);
  expect(knownCodes.has(code), context).toBe(true);
  expect(problem.type, context).toBe(`urn:tengri:problem:${code}`);
  expect(problem.status, context).toBe(response.status);
  expect(typeof problem.title === 'string' && problem.title.length > 0, context).toBe(true);
  expect(typeof problem.detail === 'string' && problem.detail.length > 0, context).toBe(true);
  return code;
}

// ---- the world the cases run against ----------------------------------------------------------

type Who = 'operator' | 'bankA' | 'bankB' | 'merchant' | 'government' | 'auditor' | 'regulator' | 'suspendedMerchant' | 'suspendedBank' | 'none' | 'wrongToken';
const holderNames = ['alice', 'ann', 'bob', 'shop', 'gov', 'icy', 'gone', 'dora'] as const;
type HolderName = (typeof holderNames)[number];

interface World {
  port: number;
  tokens: Record<Who, string | null>;
  holders: Record<HolderName, Holder>;
}

const world = { tokens: {}, holders: {} } as World;
const h = (name: HolderName): Holder => world.holders[name];
const id = (name: HolderName): string => world.holders[name].id;
let server: InProcess & Client;

/** A sequence far above every one used in the world: a payment refused for another reason never hits replay. */
const freshSequence = 1_000_000_000;

async function call(method: string, path: string, body: unknown, who: Who, expected: number): Promise<Record<string, unknown>> {
  const req: RawRequest = { method, path, token: world.tokens[who], ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
  const response = await send(world.port, req);
  expect(response.status, describeResponse(req, response)).toBe(expected);
  return JSON.parse(response.text) as Record<string, unknown>;
}

async function buildWorld(backend: Backend): Promise<void> {
  server = await startPlatform({ backend });
  world.port = Number(new URL(server.base).port);
  const bankA = await onboardBank(server, 'alpha-bank', 'ALPHKZKA', { reserves: 1_000_000n, issue: 600_000n });
  const bankB = await onboardBank(server, 'beta-bank', 'BETAKZKB', { reserves: 1_000_000n, issue: 400_000n });
  const delta = await onboardBank(server, 'delta-bank', 'DELTKZKD', { reserves: 100_000n, issue: 50_000n });
  world.tokens = { operator: testToken, bankA, bankB, merchant: null, government: null, auditor: null, regulator: null, suspendedMerchant: null, suspendedBank: delta, none: null, wrongToken: 'not-a-key-of-anyone-0123456789' };
  // Operations with known ids, so that a retry with other fields can be tried.
  await call('POST', '/v1/banks/alpha-bank/reserves', { amount: '1000', id: 'res-op-1' }, 'operator', 201);
  await call('POST', '/v1/issuance', { amount: '1000', id: 'iss-op-1' }, 'bankA', 201);
  await call('PUT', '/v1/banks/beta-bank/issuance-cap', { cap: '400000' }, 'operator', 200);

  world.holders = {
    alice: await openWallet(server, bankA, { fund: 100_000n }),
    ann: await openWallet(server, bankA, { tier: 0, fund: 1_000n }),
    bob: await openWallet(server, bankB, { fund: 50_000n }),
    shop: await openWallet(server, bankA, { kind: 'merchant' }),
    gov: await openWallet(server, bankB, { kind: 'government' }),
    icy: await openWallet(server, bankA, { fund: 1_000n }),
    gone: await openWallet(server, bankA, { fund: 500n }),
    dora: await openWallet(server, delta, { fund: 1_000n }),
  };
  await call('POST', `/v1/wallets/${id('alice')}/bank-account/credit`, { amount: '500', id: 'cr-op-1' }, 'bankA', 200);
  await call('POST', `/v1/wallets/${id('alice')}/fund`, { amount: '400', id: 'fund-op-1' }, 'bankA', 200);
  await call('POST', `/v1/wallets/${id('icy')}/freeze`, { reason: 'test' }, 'bankA', 200);
  await call('POST', `/v1/wallets/${id('gone')}/close`, undefined, 'bankA', 200);

  world.tokens.merchant = (await call('POST', '/v1/participants', { id: 'shop-merchant', role: 'merchant', name: 'Shop', wallet: id('shop') }, 'bankA', 201)).apiKey as string;
  world.tokens.government = (await call('POST', '/v1/participants', { id: 'city-hall', role: 'government', name: 'City hall', wallet: id('gov') }, 'bankB', 201)).apiKey as string;
  world.tokens.auditor = (await call('POST', '/v1/participants', { id: 'audit-office', role: 'auditor', name: 'Audit' }, 'operator', 201)).apiKey as string;
  world.tokens.regulator = (await call('POST', '/v1/participants', { id: 'reg-office', role: 'regulator', name: 'Regulator' }, 'operator', 201)).apiKey as string;
  world.tokens.suspendedMerchant = (await call('POST', '/v1/participants', { id: 'old-merchant', role: 'merchant', name: 'Old', wallet: id('shop') }, 'operator', 201)).apiKey as string;
  await call('POST', '/v1/participants/old-merchant/suspend', undefined, 'operator', 200);

  await call('POST', '/v1/payments', signedPayment(h('alice'), { id: 'pay-1', to: id('shop'), amount: 1000n }), 'none', 201);
  await call('POST', '/v1/payments', signedPayment(h('shop'), { id: 'ref-1', to: id('alice'), amount: 200n, refundOf: 'pay-1' }), 'none', 201);
  await call('POST', '/v1/payment-requests', { amount: '250', id: 'req-1', reference: 'order 1' }, 'merchant', 201);
  await call('POST', '/v1/payment-requests', { amount: '50', id: 'req-paid' }, 'merchant', 201);
  await call('POST', '/v1/payments', signedPayment(h('alice'), { id: 'pay-req', to: id('shop'), amount: 50n, request: 'req-paid' }), 'none', 201);
  await call('POST', '/v1/banks/delta-bank/suspend', undefined, 'operator', 200);
}

async function read(path: string, who: Who = 'operator'): Promise<unknown> {
  const req: RawRequest = { method: 'GET', path, token: world.tokens[who] };
  const response = await send(world.port, req, keepAlive);
  if (response.status !== 200) return { status: response.status, code: (JSON.parse(response.text) as { code?: unknown }).code };
  return JSON.parse(response.text) as unknown;
}

interface Snapshot {
  readonly day: string;
  readonly state: Record<string, unknown>;
}

/**
 * What a rejected request must leave alone, read in parallel. Every case: the supply report
 * (journal sequence and hash, per-asset totals and the platform's cross-checks), every bank and
 * every wallet of the world; the journal hash covers every journaled change (participants, keys,
 * payments, requests). `full` adds what is not journaled or not in those views: participants,
 * tiers, payments, payment requests, each bank's event count, today's statements, and the
 * webhooks (read with the bank keys, so a renewed key would show too).
 */
async function snapshot(full = false, extra: readonly [string, string, Who][] = []): Promise<Snapshot> {
  const day = new Date().toISOString().slice(0, 10);
  const reads: [string, string, Who][] = [
    ['supply', '/v1/supply', 'operator'],
    ['banks', '/v1/banks', 'operator'],
    ...holderNames.map((name): [string, string, Who] => [`wallet ${name}`, `/v1/wallets/${id(name)}`, 'operator']),
    ...extra,
  ];
  if (full) {
    reads.push(
      ['participants', '/v1/participants?limit=1000', 'operator'],
      ['tiers', '/v1/tiers', 'operator'],
      ...['pay-1', 'ref-1', 'pay-req'].map((payment): [string, string, Who] => [`payment ${payment}`, `/v1/payments/${payment}`, 'operator']),
      ...['req-1', 'req-paid'].map((request): [string, string, Who] => [`request ${request}`, `/v1/payment-requests/${request}`, 'operator']),
      ...['alpha-bank', 'beta-bank', 'delta-bank'].map((bank): [string, string, Who] => [`events ${bank}`, `/v1/events?bank=${bank}&limit=1`, 'operator']),
      ...['alpha-bank', 'beta-bank', 'delta-bank'].map((bank): [string, string, Who] => [`statement ${bank}`, `/v1/banks/${bank}/statement?date=${day}`, 'operator']),
      ...webhookReads,
    );
  }
  const values = await Promise.all(reads.map(([, path, who]) => read(path, who)));
  const state: Record<string, unknown> = {};
  reads.forEach(([key], index) => {
    const value = values[index];
    state[key] = key.startsWith('events ') ? (value as { last: unknown }).last : value;
  });
  return { day, state };
}

const webhookReads: [string, string, Who][] = [
  ['webhook alpha-bank', '/v1/webhook', 'bankA'],
  ['webhook beta-bank', '/v1/webhook', 'bankB'],
];

/** spentToday restarts at midnight UTC; it is compared only when both snapshots are of one day. */
function expectUnchanged(before: Snapshot, after: Snapshot, context: string): void {
  const strip = (s: Snapshot): Record<string, unknown> => {
    if (before.day === after.day) return s.state;
    const copy: Record<string, unknown> = { ...s.state };
    for (const key of Object.keys(copy)) if (key.startsWith('statement ')) delete copy[key];
    for (const name of holderNames) {
      const { spentToday: _, ...rest } = copy[`wallet ${name}`] as Record<string, unknown>;
      copy[`wallet ${name}`] = rest;
    }
    return copy;
  };
  expect(strip(after), context).toEqual(strip(before));
}

async function journalSequence(): Promise<number> {
  return ((await read('/v1/supply')) as { journal: { sequence: number } }).journal.sequence;
}

// ---- building bad cases -------------------------------------------------------------------------

type Lazy<T> = T | (() => T);
const force = <T>(value: Lazy<T>): T => (typeof value === 'function' ? (value as () => T)() : value);

interface Case {
  readonly name: string;
  readonly who: Who;
  readonly method: string;
  readonly path: Lazy<string>;
  readonly body?: Lazy<string | Buffer>;
  readonly contentType?: string | null;
  readonly contentEncoding?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
}

const cases: Case[] = [];
const add = (c: Case): void => {
  cases.push(c);
};

/** A JSON text spliced verbatim into a body (numbers JSON.stringify cannot write). */
class RawJson {
  constructor(readonly text: string) {}
}

function stringify(value: Record<string, unknown>): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_, n: string) => raws[Number(n)]!);
}

type BadValue = readonly [label: string, value: unknown, status: number, code: string];
const vf = 'validation_failed';
const bad = (label: string, value: unknown, status = 400, code = vf): BadValue => [label, value, status, code];

const wrongTypes: BadValue[] = [bad('as a number', 12), bad('as true', true), bad('as null', null), bad('as an array', ['x']), bad('as an object', { a: 1 })];

const idLike: BadValue[] = [
  bad('empty', ''),
  bad('with a space', 'ab cd'),
  bad("with a '.'", 'ab.cd'),
  bad("with a '/'", 'ab/cd'),
  bad("'..'", '..'),
  bad("with a ':'", 'ab:cd'),
  bad('non-ASCII', 'abé'),
  bad('with a lone surrogate', 'ab\ud800'),
  bad('with a NUL', 'ab\u0000'),
  bad('with a trailing newline', 'abc\n'),
];
const participantIdBad: BadValue[] = [
  ...wrongTypes,
  ...idLike,
  bad('in upper case', 'Alpha-bank'),
  bad('of one character', 'a'),
  bad("starting with '-'", '-abc'),
  bad('with an underscore', 'ab_cd'),
  bad('of 33 characters', 'a'.repeat(33)),
  bad('with a Cyrillic homoglyph', '\u0430lpha-bank'),
];
/** The id faults the platform most cares about, for secondary id fields. */
const idCompact: BadValue[] = [
  bad('as a number', 12),
  bad('as null', null),
  bad('empty', ''),
  bad("with a '.'", 'ab.cd'),
  bad("with a '/'", 'ab/cd'),
  bad("'..'", '..'),
  bad("with a ':'", 'ab:cd'),
  bad('with a lone surrogate', 'ab\ud800'),
];
const walletIdBad: BadValue[] = [...wrongTypes, ...idLike, bad('of 2 characters', 'ab'), bad('of 49 characters', 'w'.repeat(49)), bad('of 10,000 characters', 'w'.repeat(10_000))];
const operationIdBad: BadValue[] = [...wrongTypes, ...idLike, bad('of 57 characters', 'o'.repeat(57))];

/**
 * Bad amounts. Every amount field gets the compact list (wrong types, zero, negative, 2^63, exponent,
 * spaces, empty, non-ASCII digits, a lone surrogate); a few representative ones get the full list.
 */
function amountBad(options: { zeroIsRefused?: boolean; full?: boolean } = {}): BadValue[] {
  const zero = options.zeroIsRefused ?? true;
  const compact: BadValue[] = [
    ...wrongTypes,
    ...(zero ? [bad('"0"', '0', 422, 'amount_must_be_positive'), bad('"000" (leading zeros)', '000', 400, 'validation_failed')] : []),
    bad('"-1"', '-1'),
    bad('2^63 "9223372036854775808"', '9223372036854775808', 422, 'amount_exceeds_maximum'),
    bad('of 20 digits', '10000000000000000000'),
    bad('"1e3"', '1e3'),
    bad('" 1"', ' 1'),
    bad('"1.0"', '1.0'),
    bad('empty', ''),
    bad('with fullwidth digits', '\uff11\uff10'),
    bad('with a lone surrogate', '1\ud800'),
  ];
  if (options.full !== true) return compact;
  return [
    ...compact,
    bad('as a JSON number beyond 2^63', new RawJson('9223372036854775808')),
    bad('as 1e400', new RawJson('1e400')),
    bad('as a float', 1.5),
    bad('"-0"', '-0'),
    bad('19 nines', '9999999999999999999', 422, 'amount_exceeds_maximum'),
    bad('"1 "', '1 '),
    bad('"+1"', '+1'),
    bad('"0x10"', '0x10'),
    bad('"1,000"', '1,000'),
    bad('"1_000"', '1_000'),
    bad('"Infinity"', 'Infinity'),
    bad('"NaN"', 'NaN'),
    bad('with Arabic-Indic digits', '\u0661\u0660'),
    bad('with a trailing newline', '1\n'),
  ];
}

const timeBad: BadValue[] = [
  ...wrongTypes,
  bad('February 30', '2026-02-30T00:00:00Z'),
  bad('February 29 of 2027', '2027-02-29T00:00:00Z'),
  bad('day 00', '2026-01-00T00:00:00Z'),
  bad('month 13', '2026-13-01T00:00:00Z'),
  bad('month 00', '2026-00-10T00:00:00Z'),
  bad('hour 24', '2026-12-31T24:00:00Z'),
  bad('minute 60', '2026-12-31T23:60:00Z'),
  bad('a leap second', '2026-12-31T23:59:60Z'),
  bad('without Z', '2026-12-31T23:59:59'),
  bad('with +00:00', '2026-12-31T23:59:59+00:00'),
  bad('with +05:00', '2026-12-31T23:59:59+05:00'),
  bad("with a lower-case 'z'", '2026-12-31T23:59:59z'),
  bad("with a lower-case 't'", '2026-12-31t23:59:59Z'),
  bad("with a space for 'T'", '2026-12-31 23:59:59Z'),
  bad('with microseconds', '2026-12-31T23:59:59.123456Z'),
  bad('with a comma before the fraction', '2026-12-31T23:59:59,5Z'),
  bad('without seconds', '2026-12-31T23:59Z'),
  bad('a date only', '2026-12-31'),
  bad('year 0000', '0000-01-01T00:00:00Z'),
  bad('before 1970', '1969-12-31T23:59:59Z'),
  bad('a six-digit year', '+020026-12-31T00:00:00Z'),
  bad('with fullwidth digits', '\uff12\uff10\uff12\uff16-12-31T00:00:00Z'),
  bad('empty', ''),
  bad('with a trailing newline', '2026-12-31T23:59:59Z\n'),
  bad('as a Unix time', '1798761599'),
];

function textBad(loneSurrogate: readonly [number, string] | null): BadValue[] {
  return [
    ...wrongTypes,
    bad('of 129 characters', 'r'.repeat(129)),
    bad('of 129 emoji', '\u{1f600}'.repeat(129)),
    bad('of 1 MiB', 'r'.repeat(1024 * 1024)),
    ...(loneSurrogate === null
      ? []
      : [bad('with a lone high surrogate', 'a\ud800b', ...loneSurrogate), bad('with a lone low surrogate', '\udc00', ...loneSurrogate), bad('with reversed surrogates', '\ude00\ud83d', ...loneSurrogate)]),
  ];
}

const nameBad: BadValue[] = [...wrongTypes, bad('empty', ''), bad('of 129 characters', 'n'.repeat(129)), bad('of 129 emoji', '\u{1f600}'.repeat(129)), bad('with a lone surrogate', 'Bank \ud800', 400, 'name_invalid')];

const bicBad: BadValue[] = [
  ...wrongTypes,
  bad('in lower case', 'gammkzkg'),
  bad('of 7 characters', 'GAMMKZK'),
  bad('of 9 characters', 'GAMMKZKG1'),
  bad('of 12 characters', 'GAMMKZKGXXXX'),
  bad('with a digit in the institution code', 'GAM1KZKG'),
  bad('non-ASCII', 'G\u00c4MMKZKG'),
  bad('with a space', 'GAMM KZKG'),
  bad('with a trailing newline', 'GAMMKZKG\n'),
  bad('empty', ''),
  bad('already in use', 'ALPHKZKA', 409, 'bic_in_use'),
];

const freshKey = (): string => encodeBase64url(generateKeyPair().publicKey);
const keyOf = (bytes: number[]): string => encodeBase64url(new Uint8Array(bytes));
const edwardsP = [0xed, ...new Array<number>(30).fill(0xff), 0x7f];
/** Public keys of small or mixed order from "Taming the many EdDSAs" (noble's edge cases), which registration must refuse. */
const edgeCaseKeys = [...new Set(edgeCases().filter((c) => !isValidPublicKey(c.publicKey)).map((c) => encodeBase64url(c.publicKey)))];

function publicKeyBad(): BadValue[] {
  const pki = 'public_key_invalid';
  const valid = freshKey();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(valid.at(-1)!);
  return [
    ...wrongTypes,
    bad('empty', ''),
    bad('of 31 bytes', encodeBase64url(new Uint8Array(31).fill(7))),
    bad('of 33 bytes', encodeBase64url(new Uint8Array(33).fill(7))),
    bad('padded with =', `${valid}=`),
    bad("in the standard alphabet ('+')", `${valid.slice(0, 42)}+`),
    bad("in the standard alphabet ('/')", `/${valid.slice(1)}`),
    bad('in hex', Buffer.from(generateKeyPair().publicKey).toString('hex')),
    bad('with a space', ` ${valid.slice(1)}`),
    bad('non-ASCII', `\u00e9${valid.slice(1)}`),
    bad('with non-zero unused bits', `${valid.slice(0, 42)}${alphabet[last | 1]}`, 400, pki),
    bad('the identity point (small order)', keyOf([1, ...new Array<number>(31).fill(0)]), 400, pki),
    bad('all zero bytes (small order)', keyOf(new Array<number>(32).fill(0)), 400, pki),
    bad('the point of order 2 (y = -1)', keyOf([0xec, ...edwardsP.slice(1)]), 400, pki),
    bad('y = p (non-canonical)', keyOf(edwardsP), 400, pki),
    bad('y = p + 1 (non-canonical identity)', keyOf([0xee, ...edwardsP.slice(1)]), 400, pki),
    ...edgeCaseKeys.slice(0, 6).map((key, index) => bad(`edge-case vector key ${index + 1} (small or mixed order)`, key, 400, pki)),
  ];
}

const tierBad: BadValue[] = [
  bad('3', 3),
  bad('-1', -1),
  bad('1.5', 1.5),
  bad('"2"', '2'),
  bad('null', null),
  bad('true', true),
  bad('[2]', [2]),
  bad('2^53', 9007199254740992),
  bad('1e400', new RawJson('1e400')),
];
const boolBad: BadValue[] = [bad('"true"', 'true'), bad('1', 1), bad('0', 0), bad('null', null), bad('"yes"', 'yes'), bad('[]', []), bad('{}', {})];
const enumBad = (valid: string): BadValue[] => [...wrongTypes, bad('empty', ''), bad('in upper case', valid.toUpperCase()), bad('with a trailing space', `${valid} `), bad('unknown', 'something-else')];

interface Field {
  readonly name: string;
  readonly required: boolean;
  readonly bad: readonly BadValue[];
}

interface BodyEndpoint {
  readonly label: string;
  readonly who: Who;
  readonly method: 'POST' | 'PUT' | 'DELETE';
  readonly path: Lazy<string>;
  /** A body that would be accepted, to which one bad thing is done; null for endpoints without a body schema. */
  readonly valid: (() => Record<string, unknown>) | null;
  readonly fields: readonly Field[];
  /** Whether {} (and so null and an empty body) is a valid body. */
  readonly allOptional?: boolean;
  /** Every syntax and media-type case, not only the core ones (the parser is shared by all routes). */
  readonly full?: boolean;
  /** Signs the body (payments). */
  readonly finish?: (body: Record<string, unknown>) => Record<string, unknown>;
}

function escapeFirstCharacter(key: string): string {
  return `\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}`;
}

/** Cases every JSON body endpoint gets: syntax, shape, media type, encoding, and each field made bad in turn. */
function bodyCases(e: BodyEndpoint): void {
  const finish = e.finish ?? ((body: Record<string, unknown>) => body);
  const P = (name: string, body: Lazy<string | Buffer>, status: number, code: string, extra: Partial<Case> = {}): void =>
    add({ name: `${e.label}: ${name}`, who: e.who, method: e.method, path: e.path, body, status, code, ...extra });
  const validObject = (): Record<string, unknown> => (e.valid === null ? { note: 'x' } : finish(e.valid()));
  const validText = (): string => stringify(validObject());
  const withExtra = (extra: string): string => {
    const text = validText();
    return text === '{}' ? `{${extra}}` : `${text.slice(0, -1)},${extra}}`;
  };
  const duplicate = (escaped: boolean): string => {
    const object = validObject();
    const [key, value] = Object.entries(object)[0] ?? ['reason', 'a'];
    return withExtra(`"${escaped ? escapeFirstCharacter(key) : key}":${stringify({ v: value }).slice(5, -1)}`);
  };

  const full = e.full === true;
  P('malformed JSON', '{"amount": ', 400, 'malformed_json');
  P('a duplicate key written with a \\u escape', () => duplicate(true), 400, 'json_duplicate_key');
  P('text/plain', validText, 415, 'unsupported_media_type', { contentType: 'text/plain' });
  if (full || e.valid === null) {
    P('JSON followed by garbage', () => `${validText()} x`, 400, 'malformed_json');
    P('a duplicate key', () => duplicate(false), 400, 'json_duplicate_key');
    P('a __proto__ key', () => withExtra('"__proto__":{"admin":true}'), 400, 'malformed_json');
    P('bytes that are not UTF-8', () => Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 400, 'malformed_json');
  }
  if (full) {
    P('two JSON documents', () => `${validText()}${validText()}`, 400, 'malformed_json');
    P('single-quoted pseudo-JSON', "{'amount': '1'}", 400, 'malformed_json');
    P('a trailing comma', () => withExtra('').replace(/,}$/, ',}'), 400, 'malformed_json');
    P('a comment', () => `/* c */${validText()}`, 400, 'malformed_json');
    P('a constructor.prototype key', () => withExtra('"constructor":{"prototype":{"admin":true}}'), 400, 'malformed_json');
    P('no content type', validText, 415, 'unsupported_media_type', { contentType: null });
    P('a latin1 charset', validText, 415, 'unsupported_media_type', { contentType: 'application/json; charset=latin1' });
    P('a gzip content encoding', validText, 415, 'unsupported_media_type', { contentEncoding: 'gzip' });
    P('form content type', 'amount=1', 415, 'unsupported_media_type', { contentType: 'application/x-www-form-urlencoded' });
    P('a lone surrogate as raw UTF-8 (CESU) bytes', () => Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 400, 'malformed_json');
  }
  if (e.valid === null) return;

  if (e.allOptional !== true) {
    P('JSON null', 'null', 400, vf);
    if (full) P('an empty body', '', 400, vf);
    if (full) P('a whitespace-only body', ' \r\n\t', 400, vf);
  }
  P('a JSON array of the body', () => `[${validText()}]`, 400, vf);
  P('an unknown field', () => stringify(finish({ ...e.valid!(), extra: 1 })), 400, vf);
  if (full) {
    P('a JSON string', '"x"', 400, vf);
    P('a JSON number', '42', 400, vf);
    P('JSON true', 'true', 400, vf);
    P('an unknown field that only differs in case', () => {
      const [first] = Object.keys(e.valid!());
      return stringify(finish({ ...e.valid!(), [(first ?? 'reason').toUpperCase()]: 'x' }));
    }, 400, vf);
  }
  for (const field of e.fields) {
    if (field.required) {
      P(`without ${field.name}`, () => {
        const body = e.valid!();
        delete body[field.name];
        return stringify(finish(body));
      }, 400, vf);
    }
    for (const [label, value, status, code] of field.bad) {
      P(`${field.name} ${label}`, () => stringify(finish({ ...e.valid!(), [field.name]: value })), status, code);
    }
  }
}

/**
 * Cases of a path parameter: each bad value as one path segment. `upper` is the answer to an id in
 * upper case (valid syntax for wallet and operation ids, so it is simply not found there).
 */
function pathCases(
  label: string,
  who: Who,
  method: string,
  path: (segment: string) => string,
  body: Lazy<string> | undefined,
  options: { upper?: readonly [number, string]; extra?: readonly [string, string, number, string][] } = {},
): void {
  const segments: [string, string, number, string][] = [
    ['percent-encoded ..', '%2e%2e', 400, vf],
    ["with an encoded '/'", 'ab%2Fcd', 400, vf],
    ["with a ':'", 'ab:cd', 400, vf],
    ["with a '.'", 'ab.cd', 400, vf],
    ['in upper case', 'ALPHA', ...(options.upper ?? [400, vf])],
    ['with an encoded NUL', 'ab%00', 400, vf],
    ['an encoded lone surrogate (CESU-8)', 'ab%ED%A0%80', 400, vf],
    ['bad percent-encoding', 'ab%ZZ', 400, vf],
    ['of 201 characters', 'a'.repeat(201), 400, vf],
    ...(options.extra ?? []),
  ];
  for (const [name, segment, status, code] of segments) {
    add({ name: `${label}: path id ${name}`, who, method, path: () => path(segment), ...(body === undefined ? {} : { body }), status, code });
  }
}

/** Cases of a query string. */
function queryCases(label: string, who: Who, path: Lazy<string>, queries: readonly [string, string, number, string][]): void {
  for (const [name, query, status, code] of queries) add({ name: `${label}: ${name}`, who, method: 'GET', path: () => `${force(path)}?${query}`, status, code });
}

const pageQueries: [string, string, number, string][] = [
  ['limit 0', 'limit=0', 400, vf],
  ['limit 1001', 'limit=1001', 400, vf],
  ['limit of 5 digits', 'limit=10000', 400, vf],
  ['negative limit', 'limit=-1', 400, vf],
  ['limit not a number', 'limit=abc', 400, vf],
  ['limit 1e3', 'limit=1e3', 400, vf],
  ['limit with a space', 'limit=%201', 400, vf],
  ['empty limit', 'limit=', 400, vf],
  ['limit twice', 'limit=1&limit=2', 400, vf],
  ['limit as a nested object', 'limit[a]=1', 400, vf],
  ['limit with a bad percent-encoding', 'limit=%ZZ', 400, vf],
  ['cursor 0', 'cursor=0', 400, 'cursor_invalid'],
  ['cursor beyond the safe integers', 'cursor=9999999999999999', 400, 'cursor_invalid'],
  ['cursor of 17 digits', 'cursor=12345678901234567', 400, vf],
  ['cursor not a number', 'cursor=abc', 400, vf],
  ['negative cursor', 'cursor=-5', 400, vf],
  ['an unknown parameter', 'offset=10', 400, vf],
  ['a __proto__ parameter', '__proto__=1', 400, vf],
];

// ---- the table: banks, participants, issuance, tiers ------------------------------------------

bodyCases({
  label: 'POST /v1/banks',
  full: true,
  who: 'operator',
  method: 'POST',
  path: '/v1/banks',
  valid: () => ({ id: 'gamma-bank', name: 'Gamma', bic: 'GAMMKZKG' }),
  fields: [
    { name: 'id', required: true, bad: participantIdBad },
    { name: 'name', required: true, bad: nameBad },
    { name: 'bic', required: true, bad: bicBad },
  ],
});
add({ name: 'POST /v1/banks: an existing bank id with other fields', who: 'operator', method: 'POST', path: '/v1/banks', body: '{"id":"alpha-bank","name":"Gamma","bic":"GAMMKZKG"}', status: 409, code: 'exists_with_different_fields' });
add({ name: 'POST /v1/banks: the id of a merchant', who: 'operator', method: 'POST', path: '/v1/banks', body: '{"id":"shop-merchant","name":"Gamma","bic":"GAMMKZKG"}', status: 409, code: 'exists_with_different_fields' });
add({ name: 'POST /v1/banks: an existing bank again (its key is not shown twice)', who: 'operator', method: 'POST', path: '/v1/banks', body: '{"id":"alpha-bank","name":"Bank alpha-bank","bic":"ALPHKZKA"}', status: 409, code: 'exists_with_different_fields' });
add({ name: 'POST /v1/banks: a 10 MiB body', who: 'operator', method: 'POST', path: '/v1/banks', body: () => stringify({ id: 'gamma-bank', name: 'n'.repeat(10 * 1024 * 1024), bic: 'GAMMKZKG' }), status: 413, code: 'body_too_large' });
add({ name: 'POST /v1/banks: 100,000 nested arrays', who: 'operator', method: 'POST', path: '/v1/banks', body: '['.repeat(100_000) + ']'.repeat(100_000), status: 400, code: vf });
add({ name: 'POST /v1/banks: 100,000 nested objects', who: 'operator', method: 'POST', path: '/v1/banks', body: '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), status: 400, code: vf });

const reservesPath = (bank: string): string => `/v1/banks/${bank}/reserves`;
bodyCases({
  label: 'POST /v1/banks/{id}/reserves',
  who: 'operator',
  method: 'POST',
  path: reservesPath('alpha-bank'),
  valid: () => ({ amount: '1', id: 'res-new' }),
  fields: [
    { name: 'amount', required: true, bad: [...amountBad({ full: true }), bad('that overflows the reserve account', '9223372036854775807', 422, 'overflows_balance')] },
    { name: 'id', required: false, bad: operationIdBad },
  ],
});
add({ name: 'POST /v1/banks/{id}/reserves: an unknown bank', who: 'operator', method: 'POST', path: reservesPath('no-bank'), body: '{"amount":"1"}', status: 404, code: 'bank_not_found' });
add({ name: 'POST /v1/banks/{id}/reserves: a participant that is not a bank', who: 'operator', method: 'POST', path: reservesPath('shop-merchant'), body: '{"amount":"1"}', status: 404, code: 'bank_not_found' });
add({ name: 'POST /v1/banks/{id}/reserves: an operation id reused with another amount', who: 'operator', method: 'POST', path: reservesPath('alpha-bank'), body: '{"amount":"2","id":"res-op-1"}', status: 409, code: 'exists_with_different_fields' });
add({ name: 'POST /v1/banks/{id}/reserves: an operation id reused for another bank', who: 'operator', method: 'POST', path: reservesPath('beta-bank'), body: '{"amount":"1000","id":"res-op-1"}', status: 409, code: 'exists_with_different_fields' });
pathCases('POST /v1/banks/{id}/reserves', 'operator', 'POST', (s) => reservesPath(s), '{"amount":"1"}');

const capPath = (bank: string): string => `/v1/banks/${bank}/issuance-cap`;
bodyCases({
  label: 'PUT /v1/banks/{id}/issuance-cap',
  who: 'operator',
  method: 'PUT',
  path: capPath('beta-bank'),
  valid: () => ({ cap: '500000' }),
  fields: [{ name: 'cap', required: true, bad: amountBad({ zeroIsRefused: false }).filter(([label]) => label !== 'as null') }],
});
add({ name: 'PUT /v1/banks/{id}/issuance-cap: an unknown bank', who: 'operator', method: 'PUT', path: capPath('no-bank'), body: '{"cap":"1"}', status: 404, code: 'bank_not_found' });
add({ name: 'PUT /v1/banks/{id}/issuance-cap: a participant that is not a bank', who: 'operator', method: 'PUT', path: capPath('shop-merchant'), body: '{"cap":"1"}', status: 404, code: 'bank_not_found' });
pathCases('PUT /v1/banks/{id}/issuance-cap', 'operator', 'PUT', (s) => capPath(s), '{"cap":"1"}');

for (const action of ['suspend', 'reinstate'] as const) {
  for (const kind of ['banks', 'participants'] as const) {
    const label = `POST /v1/${kind}/{id}/${action}`;
    const target = kind === 'banks' ? 'alpha-bank' : 'shop-merchant';
    const notFound = kind === 'banks' ? 'bank_not_found' : 'participant_not_found';
    // No body schema: any JSON body is accepted and ignored (unknown fields included, a known gap not
    // asserted here), so only JSON syntax and media type are tried.
    bodyCases({ label, who: 'operator', method: 'POST', path: `/v1/${kind}/${target}/${action}`, valid: null, fields: [] });
    add({ name: `${label}: an unknown id`, who: 'operator', method: 'POST', path: `/v1/${kind}/nobody-here/${action}`, status: 404, code: notFound });
    if (kind === 'banks') add({ name: `${label}: a participant that is not a bank`, who: 'operator', method: 'POST', path: `/v1/banks/shop-merchant/${action}`, status: 404, code: notFound });
    pathCases(label, 'operator', 'POST', (s) => `/v1/${kind}/${s}/${action}`, undefined);
  }
}

bodyCases({
  label: 'POST /v1/participants (operator)',
  who: 'operator',
  method: 'POST',
  path: '/v1/participants',
  valid: () => ({ id: 'new-auditor', role: 'auditor', name: 'New auditor' }),
  fields: [
    { name: 'id', required: true, bad: participantIdBad },
    { name: 'role', required: true, bad: [...enumBad('auditor'), bad('"bank"', 'bank'), bad('"operator"', 'operator')] },
    { name: 'name', required: true, bad: nameBad },
    { name: 'wallet', required: false, bad: idCompact },
  ],
});
const participant = (body: Record<string, unknown>) => () => stringify({ id: 'new-party', name: 'New party', ...body });
for (const [name, who, body, status, code] of [
  ['a merchant without a wallet', 'operator', participant({ role: 'merchant' }), 404, 'wallet_not_found'],
  ['a merchant for an unknown wallet', 'operator', participant({ role: 'merchant', wallet: 'w_nobody' }), 404, 'wallet_not_found'],
  ['a merchant for an individual wallet', 'operator', () => participant({ role: 'merchant', wallet: id('alice') })(), 400, 'participant_role_invalid'],
  ['a government body for a merchant wallet', 'operator', () => participant({ role: 'government', wallet: id('shop') })(), 400, 'participant_role_invalid'],
  ['an auditor with a wallet', 'operator', () => participant({ role: 'auditor', wallet: id('alice') })(), 400, 'participant_role_invalid'],
  ['a regulator with a wallet', 'operator', () => participant({ role: 'regulator', wallet: id('gov') })(), 400, 'participant_role_invalid'],
  ['an existing participant id', 'operator', () => stringify({ id: 'shop-merchant', role: 'merchant', name: 'Shop', wallet: id('shop') }), 409, 'exists_with_different_fields'],
  ['the id of a bank', 'operator', participant({ id: 'alpha-bank', role: 'auditor' }), 409, 'exists_with_different_fields'],
  ['a bank registering an auditor', 'bankA', participant({ role: 'auditor' }), 403, 'forbidden'],
  ['a bank registering a regulator', 'bankA', participant({ role: 'regulator' }), 403, 'forbidden'],
  ['a bank registering a merchant for another bank\u2019s wallet', 'bankA', () => participant({ role: 'government', wallet: id('gov') })(), 404, 'wallet_not_found'],
  ['a bank registering a merchant without a wallet', 'bankA', participant({ role: 'merchant' }), 404, 'wallet_not_found'],
  ['a bank registering a merchant for an unknown wallet', 'bankA', participant({ role: 'merchant', wallet: 'w_nobody' }), 404, 'wallet_not_found'],
  ['a bank registering a merchant for an individual wallet', 'bankA', () => participant({ role: 'merchant', wallet: id('alice') })(), 400, 'participant_role_invalid'],
  ['a bank registering a merchant with a bad id', 'bankA', () => participant({ id: 'A.B', role: 'merchant', wallet: id('shop') })(), 400, vf],
] as const) {
  add({ name: `POST /v1/participants: ${name}`, who, method: 'POST', path: '/v1/participants', body, status, code });
}
queryCases('GET /v1/participants', 'operator', '/v1/participants', pageQueries);
queryCases('GET /v1/participants (bank)', 'bankA', '/v1/participants', pageQueries.slice(0, 4));
pathCases('GET /v1/participants/{id}', 'operator', 'GET', (s) => `/v1/participants/${s}`, undefined, { extra: [['unknown', 'nobody-here', 404, 'participant_not_found']] });
add({ name: 'GET /v1/participants/{id}: a bank reading another bank\u2019s merchant', who: 'bankB', method: 'GET', path: '/v1/participants/shop-merchant', status: 404, code: 'participant_not_found' });
add({ name: 'GET /v1/participants/{id}: a bank reading another bank', who: 'bankA', method: 'GET', path: '/v1/participants/beta-bank', status: 404, code: 'participant_not_found' });
add({ name: 'GET /v1/participants/{id}: a bank reading the auditor', who: 'bankA', method: 'GET', path: '/v1/participants/audit-office', status: 404, code: 'participant_not_found' });

bodyCases({ label: 'POST /v1/participants/{id}/api-key', who: 'operator', method: 'POST', path: '/v1/participants/shop-merchant/api-key', valid: null, fields: [] });
add({ name: 'POST /v1/participants/{id}/api-key: an unknown participant', who: 'operator', method: 'POST', path: '/v1/participants/nobody-here/api-key', status: 404, code: 'participant_not_found' });
add({ name: 'POST /v1/participants/{id}/api-key: a bank renewing another bank\u2019s merchant', who: 'bankB', method: 'POST', path: '/v1/participants/shop-merchant/api-key', status: 404, code: 'participant_not_found' });
add({ name: 'POST /v1/participants/{id}/api-key: a bank renewing another bank', who: 'bankA', method: 'POST', path: '/v1/participants/beta-bank/api-key', status: 404, code: 'participant_not_found' });
add({ name: 'POST /v1/participants/{id}/api-key: a bank renewing the auditor', who: 'bankA', method: 'POST', path: '/v1/participants/audit-office/api-key', status: 404, code: 'participant_not_found' });
pathCases('POST /v1/participants/{id}/api-key', 'operator', 'POST', (s) => `/v1/participants/${s}/api-key`, undefined);

for (const [path, beyond, beyondCode] of [
  ['/v1/issuance', '99999999999', 'insufficient_reserves'],
  ['/v1/redemption', '99999999999', 'insufficient_float'],
] as const) {
  bodyCases({
    label: `POST ${path}`,
    who: 'bankA',
    method: 'POST',
    path,
    valid: () => ({ amount: '1', id: 'op-new' }),
    fields: [
      { name: 'amount', required: true, bad: [...amountBad({ full: path === '/v1/issuance' }), bad('beyond what the bank holds', beyond, 422, beyondCode)] },
      { name: 'id', required: false, bad: operationIdBad },
    ],
  });
}
add({ name: 'POST /v1/issuance: beyond the issuance cap', who: 'bankB', method: 'POST', path: '/v1/issuance', body: '{"amount":"1"}', status: 422, code: 'issuance_cap_exceeded' });
add({ name: 'POST /v1/issuance: an operation id reused with another amount', who: 'bankA', method: 'POST', path: '/v1/issuance', body: '{"amount":"2","id":"iss-op-1"}', status: 409, code: 'exists_with_different_fields' });
add({ name: 'POST /v1/issuance: another bank\u2019s operation id', who: 'bankB', method: 'POST', path: '/v1/issuance', body: '{"amount":"1000","id":"iss-op-1"}', status: 409, code: 'exists_with_different_fields' });
add({ name: 'POST /v1/issuance: a suspended bank', who: 'suspendedBank', method: 'POST', path: '/v1/issuance', body: '{"amount":"1"}', status: 403, code: 'participant_suspended' });
add({ name: 'POST /v1/redemption: a suspended bank', who: 'suspendedBank', method: 'POST', path: '/v1/redemption', body: '{"amount":"1"}', status: 403, code: 'participant_suspended' });

const currentTier2 = { holdingLimit: '500000000', perPaymentLimit: '200000000', dailyLimit: '500000000' };
bodyCases({
  label: 'PUT /v1/tiers/{tier}',
  who: 'operator',
  method: 'PUT',
  path: '/v1/tiers/2',
  valid: () => ({ ...currentTier2 }),
  fields: ['holdingLimit', 'perPaymentLimit', 'dailyLimit'].map((name) => ({ name, required: true, bad: amountBad({ full: name === 'holdingLimit' }) })),
});
for (const [name, tier, status, code] of [
  ['3', '3', 400, vf],
  ['-1', '-1', 400, vf],
  ['01', '01', 400, vf],
  ['1.0', '1.0', 400, vf],
  ['x', 'x', 400, vf],
  ['an encoded space and 1', '%201', 400, vf],
  ['bad percent-encoding', '%ZZ', 400, vf],
  ['empty', '', 400, vf],
] as const) {
  add({ name: `PUT /v1/tiers/{tier}: tier ${name}`, who: 'operator', method: 'PUT', path: `/v1/tiers/${tier}`, body: stringify(currentTier2), status, code });
}

pathCases('GET /v1/banks/{id}', 'operator', 'GET', (s) => `/v1/banks/${s}`, undefined, {
  extra: [
    ['unknown', 'no-bank', 404, 'bank_not_found'],
    ['a merchant', 'shop-merchant', 404, 'bank_not_found'],
  ],
});
add({ name: 'GET /v1/banks/{id}: a bank reading another bank', who: 'bankA', method: 'GET', path: '/v1/banks/beta-bank', status: 404, code: 'bank_not_found' });

// ---- wallets --------------------------------------------------------------------------------

bodyCases({
  label: 'POST /v1/wallets',
  full: true,
  who: 'bankA',
  method: 'POST',
  path: '/v1/wallets',
  valid: () => ({ publicKey: freshKey(), kind: 'individual', tier: 1, id: 'w_new_wallet' }),
  fields: [
    { name: 'publicKey', required: true, bad: publicKeyBad() },
    { name: 'kind', required: true, bad: enumBad('individual') },
    { name: 'tier', required: true, bad: tierBad },
    { name: 'id', required: false, bad: walletIdBad },
    { name: 'convertIncoming', required: false, bad: boolBad },
  ],
});
add({ name: 'POST /v1/wallets: the id of another bank\u2019s wallet', who: 'bankA', method: 'POST', path: '/v1/wallets', body: () => stringify({ publicKey: freshKey(), kind: 'individual', tier: 2, id: id('bob') }), status: 409, code: 'wallet_already_exists' });
add({ name: 'POST /v1/wallets: the id of an own wallet with another key', who: 'bankA', method: 'POST', path: '/v1/wallets', body: () => stringify({ publicKey: freshKey(), kind: 'individual', tier: 2, id: id('alice') }), status: 409, code: 'wallet_already_exists' });
add({ name: 'POST /v1/wallets: the id of an own wallet with another tier', who: 'bankA', method: 'POST', path: '/v1/wallets', body: () => stringify({ publicKey: h('alice').publicKey, kind: 'individual', tier: 1, id: id('alice') }), status: 409, code: 'wallet_already_exists' });
add({ name: 'POST /v1/wallets: the id of a closed wallet', who: 'bankA', method: 'POST', path: '/v1/wallets', body: () => stringify({ publicKey: freshKey(), kind: 'individual', tier: 2, id: id('gone') }), status: 409, code: 'wallet_already_exists' });
add({ name: 'POST /v1/wallets: a suspended bank', who: 'suspendedBank', method: 'POST', path: '/v1/wallets', body: () => stringify({ publicKey: freshKey(), kind: 'individual', tier: 2 }), status: 403, code: 'participant_suspended' });

queryCases('GET /v1/wallets', 'operator', '/v1/wallets', pageQueries);
queryCases('GET /v1/wallets (bank)', 'bankA', '/v1/wallets', pageQueries.slice(0, 4));
const walletReadExtras = (): [string, string, number, string][] => [['unknown', 'w_nobody', 404, 'wallet_not_found']];
pathCases('GET /v1/wallets/{id}', 'operator', 'GET', (s) => `/v1/wallets/${s}`, undefined, { upper: [404, 'wallet_not_found'], extra: walletReadExtras() });
pathCases('GET /v1/wallets/{id}/history', 'operator', 'GET', (s) => `/v1/wallets/${s}/history`, undefined, { upper: [404, 'wallet_not_found'], extra: walletReadExtras() });
queryCases('GET /v1/wallets/{id}/history', 'operator', () => `/v1/wallets/${id('alice')}/history`, pageQueries);
for (const [who, wallet, status, code] of [
  ['bankB', 'alice', 404, 'wallet_not_found'],
  ['merchant', 'alice', 404, 'wallet_not_found'],
  ['government', 'shop', 404, 'wallet_not_found'],
  ['regulator', 'alice', 403, 'forbidden'],
] as const) {
  add({ name: `GET /v1/wallets/{id}: ${who} reading ${wallet}`, who, method: 'GET', path: () => `/v1/wallets/${id(wallet)}`, status, code });
  add({ name: `GET /v1/wallets/{id}/history: ${who} reading ${wallet}`, who, method: 'GET', path: () => `/v1/wallets/${id(wallet)}/history`, status, code });
}
// The wallet is looked up before the page is read.
add({ name: 'GET /v1/wallets/{id}/history: an unknown wallet with limit 0', who: 'operator', method: 'GET', path: '/v1/wallets/w_nobody/history?limit=0', status: 404, code: 'wallet_not_found' });

const walletPath = (name: HolderName, action: string) => (): string => `/v1/wallets/${id(name)}/${action}`;
const reasonBad = textBad([422, 'reference_invalid']);

interface ManageSpec {
  readonly action: string;
  readonly target: HolderName;
  readonly valid: () => Record<string, unknown>;
  readonly fields: readonly Field[];
  readonly allOptional?: boolean;
  readonly operatorMayCall?: boolean;
  readonly closedCode?: readonly [number, string];
  readonly extra?: readonly [string, Who, HolderName, Lazy<string>, number, string][];
}

const amountOps = (full = false): Field[] => [
  { name: 'amount', required: true, bad: amountBad({ full }) },
  { name: 'id', required: false, bad: operationIdBad },
];

const manageSpecs: ManageSpec[] = [
  {
    action: 'freeze',
    target: 'alice',
    valid: () => ({ reason: 'fraud check' }),
    fields: [{ name: 'reason', required: false, bad: reasonBad }],
    allOptional: true,
    operatorMayCall: true,
    closedCode: [409, 'wallet_closed'],
  },
  {
    action: 'unfreeze',
    target: 'icy',
    valid: () => ({ reason: 'cleared' }),
    fields: [{ name: 'reason', required: false, bad: reasonBad }],
    allOptional: true,
    operatorMayCall: true,
    closedCode: [409, 'wallet_closed'],
  },
  {
    action: 'close',
    target: 'alice',
    valid: () => ({ sweepTo: id('bob') }),
    fields: [{ name: 'sweepTo', required: false, bad: idCompact }],
    allOptional: true,
    extra: [
      ['sweepTo an unknown wallet', 'bankA', 'alice', '{"sweepTo":"w_nobody"}', 422, 'sweep_target_invalid'],
      ['sweepTo itself', 'bankA', 'alice', () => stringify({ sweepTo: id('alice') }), 422, 'sweep_target_invalid'],
      ['sweepTo a frozen wallet', 'bankA', 'alice', () => stringify({ sweepTo: id('icy') }), 422, 'sweep_target_invalid'],
      ['sweepTo a closed wallet', 'bankA', 'alice', () => stringify({ sweepTo: id('gone') }), 422, 'sweep_target_invalid'],
      ['a closed wallet, closed again with another sweepTo', 'bankA', 'gone', () => stringify({ sweepTo: id('alice') }), 409, 'exists_with_different_fields'],
    ],
  },
  {
    action: 'key',
    target: 'alice',
    valid: () => ({ publicKey: freshKey(), reason: 'rotation' }),
    fields: [
      { name: 'publicKey', required: true, bad: publicKeyBad().filter((_, index) => index % 2 === 0) },
      { name: 'reason', required: false, bad: enumBad('rotation') },
    ],
    closedCode: [409, 'wallet_closed'],
  },
  {
    action: 'tier',
    target: 'alice',
    valid: () => ({ tier: 1 }),
    fields: [{ name: 'tier', required: true, bad: tierBad }],
    closedCode: [409, 'wallet_closed'],
  },
  {
    action: 'conversion',
    target: 'alice',
    valid: () => ({ convertIncoming: true }),
    fields: [{ name: 'convertIncoming', required: true, bad: boolBad }],
    closedCode: [409, 'wallet_closed'],
  },
  {
    action: 'fund',
    target: 'alice',
    valid: () => ({ amount: '1', id: 'fund-new' }),
    fields: amountOps(true),
    closedCode: [409, 'wallet_closed'],
    extra: [
      ['beyond the bank account', 'bankA', 'alice', '{"amount":"1000"}', 422, 'insufficient_deposit'],
      ['beyond the bank\u2019s float', 'bankA', 'alice', '{"amount":"99999999"}', 422, 'insufficient_float'],
      ['beyond the holding limit of tier 0', 'bankA', 'ann', '{"amount":"10000001"}', 422, 'holding_limit_exceeded'],
      ['a frozen wallet', 'bankA', 'icy', '{"amount":"1"}', 409, 'wallet_frozen'],
      ['an operation id reused with another amount', 'bankA', 'alice', '{"amount":"1","id":"fund-op-1"}', 409, 'exists_with_different_fields'],
      ['an operation id reused for another wallet', 'bankA', 'ann', '{"amount":"400","id":"fund-op-1"}', 409, 'exists_with_different_fields'],
    ],
  },
  {
    action: 'defund',
    target: 'alice',
    valid: () => ({ amount: '1', id: 'defund-new' }),
    fields: amountOps(),
    closedCode: [409, 'wallet_closed'],
    extra: [
      ['beyond the balance', 'bankA', 'alice', '{"amount":"99999999"}', 422, 'insufficient_funds'],
      ['a frozen wallet', 'bankA', 'icy', '{"amount":"1"}', 409, 'wallet_frozen'],
    ],
  },
  {
    action: 'bank-account/credit',
    target: 'alice',
    valid: () => ({ amount: '1', id: 'cr-new' }),
    fields: amountOps(),
    extra: [
      ['an operation id reused with another amount', 'bankA', 'alice', '{"amount":"1","id":"cr-op-1"}', 409, 'exists_with_different_fields'],
      ['2^63-1, which overflows the bank money account', 'bankA', 'alice', '{"amount":"9223372036854775807"}', 422, 'overflows_balance'],
    ],
  },
  {
    action: 'bank-account/debit',
    target: 'alice',
    valid: () => ({ amount: '1', id: 'dr-new' }),
    fields: amountOps(),
    extra: [['beyond the bank account', 'bankA', 'alice', '{"amount":"99999999"}', 422, 'insufficient_deposit']],
  },
];

for (const spec of manageSpecs) {
  const label = `POST /v1/wallets/{id}/${spec.action}`;
  const validText = (): string => stringify(spec.valid());
  bodyCases({ label, who: 'bankA', method: 'POST', path: walletPath(spec.target, spec.action), valid: spec.valid, fields: spec.fields, full: spec.action === 'fund', ...(spec.allOptional === true ? { allOptional: true } : {}) });
  add({ name: `${label}: an unknown wallet`, who: 'bankA', method: 'POST', path: `/v1/wallets/w_nobody/${spec.action}`, body: validText, status: 404, code: 'wallet_not_found' });
  add({ name: `${label}: another bank\u2019s wallet`, who: 'bankB', method: 'POST', path: walletPath(spec.target, spec.action), body: validText, status: 404, code: 'wallet_not_found' });
  add({ name: `${label}: a wallet of a suspended bank, by another bank`, who: 'bankA', method: 'POST', path: walletPath('dora', spec.action), body: validText, status: 404, code: 'wallet_not_found' });
  if (spec.operatorMayCall === true) add({ name: `${label}: an unknown wallet, by the operator`, who: 'operator', method: 'POST', path: `/v1/wallets/w_nobody/${spec.action}`, body: validText, status: 404, code: 'wallet_not_found' });
  if (spec.closedCode !== undefined) add({ name: `${label}: a closed wallet`, who: 'bankA', method: 'POST', path: walletPath('gone', spec.action), body: validText, status: spec.closedCode[0], code: spec.closedCode[1] });
  for (const [name, who, target, body, status, code] of spec.extra ?? []) add({ name: `${label}: ${name}`, who, method: 'POST', path: walletPath(target, spec.action), body, status, code });
  pathCases(label, 'bankA', 'POST', (s) => `/v1/wallets/${s}/${spec.action}`, validText, { upper: [404, 'wallet_not_found'] });
}

// ---- payments -------------------------------------------------------------------------------

/** Signs a body as `signer` would; a body canonical JSON cannot represent keeps a signature of something else. */
function signAs(signer: HolderName) {
  return (body: Record<string, unknown>): Record<string, unknown> => {
    let signature: string;
    try {
      signature = signPayment(body, h(signer).seed);
    } catch {
      signature = signPayment({ unrelated: true }, h(signer).seed);
    }
    return { ...body, signature };
  };
}
const paymentBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'pay-new',
  from: id('alice'),
  to: id('shop'),
  amount: '1',
  sequence: freshSequence,
  ...overrides,
});

bodyCases({
  label: 'POST /v1/payments',
  full: true,
  who: 'none',
  method: 'POST',
  path: '/v1/payments',
  valid: () => paymentBody({ expiresAt: '2099-01-01T00:00:00Z', reference: 'coffee' }),
  finish: signAs('alice'),
  fields: [
    { name: 'id', required: true, bad: operationIdBad },
    { name: 'from', required: true, bad: walletIdBad },
    { name: 'to', required: true, bad: idCompact },
    { name: 'amount', required: true, bad: amountBad({ full: true }) },
    {
      name: 'sequence',
      required: true,
      bad: [bad('0', 0), bad('-1', -1), bad('1.5', 1.5), bad('"5"', '5'), bad('2^53', 2 ** 53), bad('null', null), bad('true', true), bad('1e400', new RawJson('1e400')), bad('replayed', 1, 409, 'sequence_replayed')],
    },
    { name: 'expiresAt', required: false, bad: [...timeBad, bad('in the past', '2000-01-01T00:00:00Z', 422, 'payment_expired'), bad('one millisecond after the epoch', '1970-01-01T00:00:00.001Z', 422, 'payment_expired')] },
    // A reference canonical JSON cannot encode cannot be signed.
    { name: 'reference', required: false, bad: textBad([400, 'payment_invalid']) },
    { name: 'request', required: false, bad: [...idCompact, bad('of 57 characters', 'r'.repeat(57))] },
    { name: 'refundOf', required: false, bad: idCompact },
  ],
});

const signedText = (signer: HolderName, overrides: Record<string, unknown>) => (): string => stringify(signAs(signer)(paymentBody(overrides)));
const resign = (change: (signed: Record<string, unknown>) => Record<string, unknown>) => (): string => stringify(change(signAs('alice')(paymentBody())));
const paymentCases: [string, Lazy<string>, number, string][] = [
  ['without a signature', () => stringify(paymentBody()), 400, vf],
  ['signature empty', resign((p) => ({ ...p, signature: '' })), 400, 'signature_malformed'],
  ['signature padded', resign((p) => ({ ...p, signature: `${String(p.signature)}==` })), 400, 'signature_malformed'],
  ['signature of 85 characters', resign((p) => ({ ...p, signature: String(p.signature).slice(0, 85) })), 400, 'signature_malformed'],
  ['signature of 87 characters', resign((p) => ({ ...p, signature: `${String(p.signature)}A` })), 400, 'signature_malformed'],
  ["signature in the standard alphabet ('+')", resign((p) => ({ ...p, signature: `+${String(p.signature).slice(1)}` })), 400, 'signature_malformed'],
  ['signature with non-zero unused bits', resign((p) => ({ ...p, signature: `${String(p.signature).slice(0, 85)}${String(p.signature).at(-1) === 'B' ? 'C' : 'B'}` })), 400, 'signature_malformed'],
  ['signature in hex', resign((p) => ({ ...p, signature: Buffer.from(String(p.signature), 'base64url').toString('hex') })), 400, 'signature_malformed'],
  ['signature with a space', resign((p) => ({ ...p, signature: ` ${String(p.signature).slice(1)}` })), 400, 'signature_malformed'],
  ['signature as a number', resign((p) => ({ ...p, signature: 1 })), 400, vf],
  ['signature as null', resign((p) => ({ ...p, signature: null })), 400, vf],
  ['signature of 64 zero bytes', resign((p) => ({ ...p, signature: 'A'.repeat(86) })), 403, 'signature_invalid'],
  ['signature of another payment', resign((p) => ({ ...p, signature: signPayment(paymentBody({ amount: '2' }), h('alice').seed) })), 403, 'signature_invalid'],
  ['signed by another key', signedText('bob', {}), 403, 'signature_invalid'],
  ['amount changed after signing', resign((p) => ({ ...p, amount: '2' })), 403, 'signature_invalid'],
  ['amount changed to "01" after signing', resign((p) => ({ ...p, amount: '01' })), 400, 'validation_failed'],
  ['payee changed after signing', resign((p) => ({ ...p, to: id('bob') })), 403, 'signature_invalid'],
  ['sequence changed after signing', resign((p) => ({ ...p, sequence: freshSequence + 1 })), 403, 'signature_invalid'],
  ['id changed after signing', resign((p) => ({ ...p, id: 'pay-other' })), 403, 'signature_invalid'],
  ['a reference added after signing', resign((p) => ({ ...p, reference: 'x' })), 403, 'signature_invalid'],
  ['an expiry added after signing', resign((p) => ({ ...p, expiresAt: '2099-01-01T00:00:00Z' })), 403, 'signature_invalid'],
  // Anonymous callers are not told which wallets exist.
  ['from an unknown wallet', signedText('alice', { from: 'w_nobody' }), 403, 'signature_invalid'],
  ['to an unknown wallet', signedText('alice', { to: 'w_nobody' }), 422, 'payee_not_found'],
  ['to itself', () => signedText('alice', { to: id('alice') })(), 422, 'payee_is_payer'],
  ['beyond the balance', signedText('alice', { amount: '99999999' }), 422, 'insufficient_funds'],
  ['beyond the per-payment limit of tier 0', () => signedText('ann', { from: id('ann'), amount: '5000001' })(), 422, 'per_payment_limit_exceeded'],
  ['from a frozen wallet', () => signedText('icy', { from: id('icy') })(), 409, 'wallet_frozen'],
  ['from a closed wallet', () => signedText('gone', { from: id('gone') })(), 409, 'wallet_closed'],
  ['to a frozen wallet', () => signedText('alice', { to: id('icy') })(), 422, 'payee_not_active'],
  ['to a closed wallet', () => signedText('alice', { to: id('gone') })(), 422, 'payee_not_active'],
  ['from a wallet of a suspended bank', () => signedText('dora', { from: id('dora') })(), 409, 'bank_suspended'],
  ['to a wallet of a suspended bank', () => signedText('alice', { to: id('dora') })(), 422, 'payee_bank_suspended'],
  ['paying an unknown request', signedText('alice', { request: 'req-nope' }), 404, 'payment_request_not_found'],
  ['paying a request already paid', signedText('alice', { request: 'req-paid', amount: '50' }), 409, 'payment_request_not_open'],
  ['paying a request with another amount', signedText('alice', { request: 'req-1', amount: '249' }), 422, 'payment_request_mismatch'],
  ['paying a request to another payee', () => signedText('alice', { request: 'req-1', amount: '250', to: id('bob') })(), 422, 'payment_request_mismatch'],
  ['refunding an unknown payment', () => signedText('shop', { from: id('shop'), to: id('alice'), refundOf: 'pay-nope' })(), 422, 'refund_original_not_found'],
  ['refunding a refund', () => signedText('alice', { from: id('alice'), to: id('shop'), refundOf: 'ref-1' })(), 422, 'refund_original_not_found'],
  ['a refund by the payer', signedText('alice', { refundOf: 'pay-1' }), 422, 'refund_parties_mismatch'],
  ['a refund to someone else', () => signedText('shop', { from: id('shop'), to: id('bob'), refundOf: 'pay-1' })(), 422, 'refund_parties_mismatch'],
  ['a refund beyond what remains', () => signedText('shop', { from: id('shop'), to: id('alice'), refundOf: 'pay-1', amount: '801' })(), 422, 'refund_exceeds_remaining'],
  ['the id of an existing payment with another amount', signedText('alice', { id: 'pay-1', amount: '2' }), 409, 'exists_with_different_fields'],
  ['the id of an existing payment from another payer', () => signedText('bob', { id: 'pay-1', from: id('bob'), amount: '1000' })(), 409, 'exists_with_different_fields'],
  ['the id of an existing payment with another sequence', signedText('alice', { id: 'pay-1', amount: '1000' }), 409, 'exists_with_different_fields'],
  ['a signed unknown field', signedText('alice', { memo: 'hi' }), 400, vf],
  ['a signed nested object', signedText('alice', { reference: { text: 'hi' } }), 400, vf],
  ['a duplicate amount (the first is signed)', () => signedText('alice', {})().replace('"amount":"1"', '"amount":"1","amount":"1000"'), 400, 'json_duplicate_key'],
  ['a duplicate amount written with an escape', () => signedText('alice', {})().replace('"amount":"1"', '"amount":"1","\\u0061mount":"1000"'), 400, 'json_duplicate_key'],
  ['a duplicate signature', () => signedText('alice', {})().replace('"signature":', '"signature":"AAAA","signature":'), 400, 'json_duplicate_key'],
];
for (const [name, body, status, code] of paymentCases) add({ name: `POST /v1/payments: ${name}`, who: 'none', method: 'POST', path: '/v1/payments', body, status, code });
add({ name: 'POST /v1/payments: with a bearer token of the payer\u2019s bank, still unsigned', who: 'bankA', method: 'POST', path: '/v1/payments', body: () => stringify(paymentBody()), status: 400, code: vf });

pathCases('GET /v1/payments/{id}', 'operator', 'GET', (s) => `/v1/payments/${s}`, undefined, { upper: [404, 'payment_not_found'], extra: [['unknown', 'pay-nope', 404, 'payment_not_found']] });
for (const [who, status, code] of [
  ['bankB', 404, 'payment_not_found'],
  ['government', 404, 'payment_not_found'],
  ['regulator', 403, 'forbidden'],
] as const) {
  add({ name: `GET /v1/payments/{id}: ${who} reading a payment between others`, who, method: 'GET', path: '/v1/payments/pay-1', status, code });
}

bodyCases({
  label: 'POST /v1/payment-requests',
  full: true,
  who: 'merchant',
  method: 'POST',
  path: '/v1/payment-requests',
  valid: () => ({ amount: '100', id: 'req-new', reference: 'order 2', expiresAt: '2099-01-01T00:00:00Z' }),
  fields: [
    { name: 'amount', required: true, bad: amountBad() },
    { name: 'id', required: false, bad: operationIdBad },
    { name: 'wallet', required: false, bad: idCompact },
    { name: 'reference', required: false, bad: textBad([422, 'reference_invalid']) },
    { name: 'expiresAt', required: false, bad: timeBad.filter((_, index) => index % 3 === 0) },
  ],
});
for (const [name, who, body, status, code] of [
  ['a merchant naming another wallet', 'merchant', () => stringify({ amount: '1', wallet: id('alice') }), 404, 'wallet_not_found'],
  ['a merchant naming an unknown wallet', 'merchant', '{"amount":"1","wallet":"w_nobody"}', 404, 'wallet_not_found'],
  ['a government body naming a merchant wallet', 'government', () => stringify({ amount: '1', wallet: id('shop') }), 404, 'wallet_not_found'],
  ['a bank without a wallet', 'bankA', '{"amount":"1"}', 404, 'wallet_not_found'],
  ['a bank naming another bank\u2019s wallet', 'bankA', () => stringify({ amount: '1', wallet: id('bob') }), 404, 'wallet_not_found'],
  ['a bank naming an unknown wallet', 'bankA', '{"amount":"1","wallet":"w_nobody"}', 404, 'wallet_not_found'],
  ['a bank naming a frozen wallet', 'bankA', () => stringify({ amount: '1', wallet: id('icy') }), 409, 'wallet_frozen'],
  ['a bank naming a closed wallet', 'bankA', () => stringify({ amount: '1', wallet: id('gone') }), 409, 'wallet_closed'],
  ['an existing request id with another amount', 'merchant', '{"amount":"251","id":"req-1","reference":"order 1"}', 409, 'exists_with_different_fields'],
  ['an existing request id with another reference', 'merchant', '{"amount":"250","id":"req-1","reference":"order 2"}', 409, 'exists_with_different_fields'],
  ['already expired', 'merchant', '{"amount":"1","expiresAt":"2000-01-01T00:00:00Z"}', 422, 'payment_request_expired'],
  ['a suspended merchant', 'suspendedMerchant', '{"amount":"1"}', 403, 'participant_suspended'],
] as const) {
  add({ name: `POST /v1/payment-requests: ${name}`, who, method: 'POST', path: '/v1/payment-requests', body, status, code });
}
pathCases('GET /v1/payment-requests/{id}', 'operator', 'GET', (s) => `/v1/payment-requests/${s}`, undefined, { upper: [404, 'payment_request_not_found'], extra: [['unknown', 'req-nope', 404, 'payment_request_not_found']] });
for (const [who, status, code] of [
  ['bankB', 404, 'payment_request_not_found'],
  ['government', 404, 'payment_request_not_found'],
  ['regulator', 403, 'forbidden'],
] as const) {
  add({ name: `GET /v1/payment-requests/{id}: ${who} reading another\u2019s request`, who, method: 'GET', path: '/v1/payment-requests/req-1', status, code });
}

// ---- events, webhooks, statements -------------------------------------------------------------

const eventQueries: [string, string, number, string][] = [
  ['after -1', 'after=-1', 400, vf],
  ['after not a number', 'after=abc', 400, vf],
  ['after of 16 digits', 'after=1234567890123456', 400, vf],
  ['after 1e3', 'after=1e3', 400, vf],
  ['after twice', 'after=1&after=2', 400, vf],
  ['an unknown bank', 'bank=no-bank', 404, 'bank_not_found'],
  ["a bank id with a '.'", 'bank=alpha.bank', 400, vf],
  ['a bank id in upper case', 'bank=Alpha-bank', 400, vf],
  ['a participant that is not a bank', 'bank=shop-merchant', 404, 'bank_not_found'],
  ['an unknown parameter', 'bank=alpha-bank&since=1', 400, vf],
  ['a __proto__ parameter', 'bank=alpha-bank&__proto__=1', 400, vf],
];
queryCases('GET /v1/events', 'operator', '/v1/events', [
  ...eventQueries,
  ['no bank (operator)', 'limit=1', 400, vf],
  ['limit 0', 'bank=alpha-bank&limit=0', 400, vf],
  ['limit 1001', 'bank=alpha-bank&limit=1001', 400, vf],
  ['limit of 5 digits', 'bank=alpha-bank&limit=10000', 400, vf],
  ['limit not a number', 'bank=alpha-bank&limit=x', 400, vf],
]);
queryCases('GET /v1/events (bank)', 'bankA', '/v1/events', [
  ['another bank', 'bank=beta-bank', 404, 'bank_not_found'],
  ['limit 0', 'limit=0', 400, vf],
  ['after -1', 'after=-1', 400, vf],
]);
// Only requests the stream must refuse: a valid one would stay open.
queryCases('GET /v1/events/stream', 'operator', '/v1/events/stream', [
  ...eventQueries,
  ['no bank (operator)', 'after=0', 400, vf],
  ['limit (not a stream parameter)', 'bank=alpha-bank&limit=1', 400, vf],
  ['after beyond the last event', 'bank=alpha-bank&after=999999999999999', 400, vf],
]);
queryCases('GET /v1/events/stream (bank)', 'bankA', '/v1/events/stream', [['another bank', 'bank=beta-bank', 404, 'bank_not_found']]);
for (const [name, lastEventId] of [
  ['not an event id', 'x'],
  ['another bank\u2019s event', 'beta-bank:1'],
  ['a sequence that is not a number', 'alpha-bank:abc'],
  ['a sequence of 16 digits', 'alpha-bank:1234567890123456'],
  ['a negative sequence', 'alpha-bank:-1'],
  ['beyond the last event', 'alpha-bank:999999999999999'],
  ['empty', ''],
] as const) {
  add({ name: `GET /v1/events/stream: Last-Event-ID ${name}`, who: 'bankA', method: 'GET', path: '/v1/events/stream', headers: { 'last-event-id': lastEventId }, status: 400, code: vf });
}

bodyCases({
  label: 'PUT /v1/webhook',
  full: true,
  who: 'bankA',
  method: 'PUT',
  path: '/v1/webhook',
  valid: () => ({ url: 'http://127.0.0.1:9/hook' }),
  fields: [
    {
      name: 'url',
      required: true,
      bad: [
        ...wrongTypes,
        ...[
          ['empty', ''],
          ['not a URL', 'not a url'],
          ['relative', '/hook'],
          ['without a host', 'http://'],
          ['ftp', 'ftp://example.com/hook'],
          ['file', 'file:///etc/passwd'],
          ['javascript', 'javascript:alert(1)'],
          ['data', 'data:text/plain,x'],
          ['with credentials', 'http://user:pass@example.com/hook'],
          ['with a user name', 'https://user@example.com/hook'],
          ['with a space in the host', 'http://exa mple.com/'],
          ['with a bad port', 'http://example.com:99999/'],
        ].map(([label, url]) => bad(label!, url, 400, 'webhook_url_invalid')),
        bad('of 2049 characters', `https://example.com/${'a'.repeat(2029)}`),
        bad('of 1 MiB', `https://example.com/${'a'.repeat(1024 * 1024)}`),
      ],
    },
  ],
});
add({ name: 'PUT /v1/webhook: a suspended bank', who: 'suspendedBank', method: 'PUT', path: '/v1/webhook', body: '{"url":"http://127.0.0.1:9/hook"}', status: 403, code: 'participant_suspended' });
add({ name: 'GET /v1/webhook: none registered', who: 'bankA', method: 'GET', path: '/v1/webhook', status: 404, code: 'webhook_not_found' });
add({ name: 'DELETE /v1/webhook: none registered', who: 'bankA', method: 'DELETE', path: '/v1/webhook', status: 404, code: 'webhook_not_found' });
bodyCases({ label: 'DELETE /v1/webhook', who: 'bankA', method: 'DELETE', path: '/v1/webhook', valid: null, fields: [] });

const statementPath = (bank: string): string => `/v1/banks/${bank}/statement`;
queryCases('GET /v1/banks/{id}/statement', 'operator', statementPath('alpha-bank'), [
  ['February 30', 'date=2026-02-30', 400, vf],
  ['February 29 of 2027', 'date=2027-02-29', 400, vf],
  ['month 13', 'date=2026-13-01', 400, vf],
  ['day 00', 'date=2026-01-00', 400, vf],
  ['a two-digit year', 'date=26-01-01', 400, vf],
  ['single-digit month and day', 'date=2026-1-1', 400, vf],
  ['a date-time', 'date=2026-01-01T00:00:00Z', 400, vf],
  ['slashes', 'date=2026%2F01%2F01', 400, vf],
  ['empty', 'date=', 400, vf],
  ['twice', 'date=2026-01-01&date=2026-01-02', 400, vf],
  ['fullwidth digits', 'date=%EF%BC%92026-01-01', 400, vf],
  ['an unknown parameter', 'day=2026-01-01', 400, vf],
]);
pathCases('GET /v1/banks/{id}/statement', 'operator', 'GET', (s) => statementPath(s), undefined, { extra: [['unknown', 'no-bank', 404, 'bank_not_found']] });
add({ name: 'GET /v1/banks/{id}/statement: a bank reading another bank', who: 'bankA', method: 'GET', path: statementPath('beta-bank'), status: 404, code: 'bank_not_found' });
add({ name: 'GET /v1/banks/{id}/statement: a bank reading an unknown bank', who: 'bankA', method: 'GET', path: statementPath('no-bank'), status: 404, code: 'bank_not_found' });

// ---- wrong roles and bad credentials ----------------------------------------------------------

type ApiRole = 'operator' | 'bank' | 'merchant' | 'government' | 'auditor' | 'regulator';
const roleCaller: Record<ApiRole, Who> = { operator: 'operator', bank: 'bankA', merchant: 'merchant', government: 'government', auditor: 'auditor', regulator: 'regulator' };

interface Endpoint {
  /** The path template, as the OpenAPI document names it. */
  readonly label: string;
  readonly method: string;
  readonly path: Lazy<string>;
  /** A body the allowed roles would have accepted. */
  readonly body?: Lazy<string>;
  readonly roles: readonly ApiRole[];
}

const readersOfWallets: ApiRole[] = ['operator', 'auditor', 'bank', 'merchant', 'government'];
const endpoints: Endpoint[] = [
  { label: '/v1/banks', method: 'POST', path: '/v1/banks', body: '{"id":"gamma-bank","name":"Gamma","bic":"GAMMKZKG"}', roles: ['operator'] },
  { label: '/v1/banks', method: 'GET', path: '/v1/banks', roles: ['operator', 'auditor', 'regulator'] },
  { label: '/v1/banks/{id}', method: 'GET', path: '/v1/banks/alpha-bank', roles: ['operator', 'auditor', 'regulator', 'bank'] },
  { label: '/v1/banks/{id}/reserves', method: 'POST', path: '/v1/banks/alpha-bank/reserves', body: '{"amount":"1"}', roles: ['operator'] },
  { label: '/v1/banks/{id}/issuance-cap', method: 'PUT', path: '/v1/banks/alpha-bank/issuance-cap', body: '{"cap":"1"}', roles: ['operator'] },
  { label: '/v1/banks/{id}/suspend', method: 'POST', path: '/v1/banks/alpha-bank/suspend', roles: ['operator'] },
  { label: '/v1/banks/{id}/reinstate', method: 'POST', path: '/v1/banks/delta-bank/reinstate', roles: ['operator'] },
  { label: '/v1/participants/{id}/suspend', method: 'POST', path: '/v1/participants/shop-merchant/suspend', roles: ['operator'] },
  { label: '/v1/participants/{id}/reinstate', method: 'POST', path: '/v1/participants/old-merchant/reinstate', roles: ['operator'] },
  { label: '/v1/participants', method: 'POST', path: '/v1/participants', body: () => stringify({ id: 'new-merchant', role: 'merchant', name: 'New', wallet: id('shop') }), roles: ['operator', 'bank'] },
  { label: '/v1/participants', method: 'GET', path: '/v1/participants', roles: ['operator', 'auditor', 'bank'] },
  { label: '/v1/participants/{id}', method: 'GET', path: '/v1/participants/shop-merchant', roles: ['operator', 'auditor', 'bank'] },
  { label: '/v1/participants/{id}/api-key', method: 'POST', path: '/v1/participants/shop-merchant/api-key', roles: ['operator', 'bank'] },
  { label: '/v1/issuance', method: 'POST', path: '/v1/issuance', body: '{"amount":"1"}', roles: ['bank'] },
  { label: '/v1/redemption', method: 'POST', path: '/v1/redemption', body: '{"amount":"1"}', roles: ['bank'] },
  { label: '/v1/tiers', method: 'GET', path: '/v1/tiers', roles: ['operator', 'auditor', 'regulator', 'bank', 'merchant', 'government'] },
  { label: '/v1/tiers/{tier}', method: 'PUT', path: '/v1/tiers/2', body: '{"holdingLimit":"1","perPaymentLimit":"1","dailyLimit":"1"}', roles: ['operator'] },
  { label: '/v1/wallets', method: 'POST', path: '/v1/wallets', body: () => stringify({ publicKey: freshKey(), kind: 'individual', tier: 2 }), roles: ['bank'] },
  { label: '/v1/wallets', method: 'GET', path: '/v1/wallets', roles: ['operator', 'auditor', 'bank'] },
  { label: '/v1/wallets/{id}', method: 'GET', path: () => `/v1/wallets/${id('shop')}`, roles: readersOfWallets },
  { label: '/v1/wallets/{id}/history', method: 'GET', path: () => `/v1/wallets/${id('shop')}/history`, roles: readersOfWallets },
  { label: '/v1/wallets/{id}/freeze', method: 'POST', path: walletPath('alice', 'freeze'), roles: ['bank', 'operator'] },
  { label: '/v1/wallets/{id}/unfreeze', method: 'POST', path: walletPath('icy', 'unfreeze'), roles: ['bank', 'operator'] },
  { label: '/v1/wallets/{id}/close', method: 'POST', path: walletPath('alice', 'close'), roles: ['bank'] },
  { label: '/v1/wallets/{id}/key', method: 'POST', path: walletPath('alice', 'key'), body: () => stringify({ publicKey: freshKey() }), roles: ['bank'] },
  { label: '/v1/wallets/{id}/tier', method: 'POST', path: walletPath('alice', 'tier'), body: '{"tier":1}', roles: ['bank'] },
  { label: '/v1/wallets/{id}/conversion', method: 'POST', path: walletPath('alice', 'conversion'), body: '{"convertIncoming":true}', roles: ['bank'] },
  ...(['fund', 'defund', 'bank-account/credit', 'bank-account/debit'] as const).map((action): Endpoint => ({ label: `/v1/wallets/{id}/${action}`, method: 'POST', path: walletPath('alice', action), body: '{"amount":"1"}', roles: ['bank'] })),
  { label: '/v1/payments/{id}', method: 'GET', path: '/v1/payments/pay-1', roles: readersOfWallets },
  { label: '/v1/payment-requests', method: 'POST', path: '/v1/payment-requests', body: () => stringify({ amount: '1', wallet: id('shop') }), roles: ['merchant', 'government', 'bank'] },
  { label: '/v1/payment-requests/{id}', method: 'GET', path: '/v1/payment-requests/req-1', roles: readersOfWallets },
  { label: '/v1/events', method: 'GET', path: '/v1/events?bank=alpha-bank', roles: ['bank', 'operator', 'auditor'] },
  { label: '/v1/events/stream', method: 'GET', path: '/v1/events/stream?bank=alpha-bank', roles: ['bank', 'operator', 'auditor'] },
  { label: '/v1/webhook', method: 'PUT', path: '/v1/webhook', body: '{"url":"http://127.0.0.1:9/hook"}', roles: ['bank'] },
  { label: '/v1/webhook', method: 'GET', path: '/v1/webhook', roles: ['bank'] },
  { label: '/v1/webhook', method: 'DELETE', path: '/v1/webhook', roles: ['bank'] },
  { label: '/v1/banks/{id}/statement', method: 'GET', path: '/v1/banks/alpha-bank/statement', roles: ['bank', 'operator', 'auditor', 'regulator'] },
];

const badCredentials: [string, (token: string) => Record<string, string>, Who | null][] = [
  ['no credentials', () => ({}), 'none'],
  ['an unknown key', () => ({}), 'wrongToken'],
  ['a suspended merchant\u2019s key', () => ({}), 'suspendedMerchant'],
  ['a suspended bank\u2019s key', () => ({}), 'suspendedBank'],
  ['the operator token without "Bearer"', (token) => ({ authorization: token }), null],
  ['the operator token as HTTP Basic', (token) => ({ authorization: `Basic ${Buffer.from(`operator:${token}`).toString('base64')}` }), null],
  ['the operator token with a suffix', (token) => ({ authorization: `Bearer ${token}x` }), null],
  ['a 600-character bearer', () => ({ authorization: `Bearer ${'x'.repeat(600)}` }), null],
  ['two bearer tokens', (token) => ({ authorization: `Bearer ${token}, Bearer ${token}` }), null],
];

// ---- random input ---------------------------------------------------------------------------

const participantIdRe = new RegExp(participantIdPattern);
const walletIdRe = new RegExp(walletIdPattern);
const operationIdRe = new RegExp(operationIdPattern);
const bicRe = new RegExp(bicPattern);
const amountRe = /^[0-9]{1,19}$/;
const timeRe = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?Z$/;
const keyRe = /^[A-Za-z0-9_-]{43}$/;

const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme-ascii', maxLength: 80 }), fc.string({ unit: fc.constantFrom(...'aZ09-_.:/%\\" \u00e9\ud800'.split('')), maxLength: 20 }));
const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);
const stringNotMatching = (re: RegExp) => anyString.filter((s) => !re.test(s));
const badAmount = (zeroIsRefused: boolean) =>
  fc.oneof(
    notAString,
    stringNotMatching(amountRe),
    fc.constantFrom(...(zeroIsRefused ? ['0', '00', '0000000000000000000'] : []), '9223372036854775808', '9999999999999999999'),
    fc.bigInt({ min: 2n ** 63n, max: 10n ** 19n - 1n }).map(String),
  );
const codePoints = (s: string): number => [...s].length;
const badText = (maxLength: number) =>
  fc.oneof(
    notAString,
    fc.string({ unit: 'binary', minLength: maxLength + 1, maxLength: maxLength + 40 }).filter((s) => codePoints(s) > maxLength),
    fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\ud800', '\udfff', '\ude00\ud83d')).map(([s, lone]) => s + lone),
  );
const badTier = fc.oneof(notAString.filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2)), anyString);
const badBool = fc.oneof(notAString.filter((v) => typeof v !== 'boolean'), anyString);
const badEnum = (valid: readonly string[]) => fc.oneof(notAString, anyString.filter((s) => !valid.includes(s)));

interface FuzzField {
  readonly name: string;
  readonly bad: fc.Arbitrary<unknown>;
}

interface FuzzEndpoint {
  readonly label: string;
  readonly who: Who;
  readonly method: string;
  readonly path: () => string;
  readonly valid: () => Record<string, unknown>;
  readonly fields: readonly FuzzField[];
  /** Keys of a body made only of optional fields ({} is valid): such bodies are not bad input. */
  readonly optionalOnly?: readonly string[];
  readonly finish?: (body: Record<string, unknown>) => Record<string, unknown>;
}

const amountField = (name = 'amount', zeroIsRefused = true): FuzzField => ({ name, bad: badAmount(zeroIsRefused) });
const opIdField: FuzzField = { name: 'id', bad: fc.oneof(notAString, stringNotMatching(operationIdRe)) };
const walletIdField = (name: string): FuzzField => ({ name, bad: fc.oneof(notAString, stringNotMatching(walletIdRe)) });
const keyField: FuzzField = { name: 'publicKey', bad: fc.oneof(notAString, stringNotMatching(keyRe), fc.constantFrom(...publicKeyBad().map(([, value]) => value).filter((v) => typeof v === 'string' && keyRe.test(v)))) };

const fuzzEndpoints: FuzzEndpoint[] = [
  {
    label: 'POST /v1/banks',
    who: 'operator',
    method: 'POST',
    path: () => '/v1/banks',
    valid: () => ({ id: 'gamma-bank', name: 'Gamma', bic: 'GAMMKZKG' }),
    fields: [
      { name: 'id', bad: fc.oneof(notAString, stringNotMatching(participantIdRe)) },
      { name: 'name', bad: fc.oneof(badText(128), fc.constant('')) },
      { name: 'bic', bad: fc.oneof(notAString, stringNotMatching(bicRe), fc.constant('ALPHKZKA')) },
    ],
  },
  { label: 'POST /v1/banks/{id}/reserves', who: 'operator', method: 'POST', path: () => reservesPath('alpha-bank'), valid: () => ({ amount: '1', id: 'res-fuzz' }), fields: [amountField(), opIdField] },
  { label: 'PUT /v1/banks/{id}/issuance-cap', who: 'operator', method: 'PUT', path: () => capPath('beta-bank'), valid: () => ({ cap: '500000' }), fields: [{ name: 'cap', bad: badAmount(false).filter((v) => v !== null) }] },
  {
    label: 'POST /v1/participants',
    who: 'operator',
    method: 'POST',
    path: () => '/v1/participants',
    valid: () => ({ id: 'new-auditor', role: 'auditor', name: 'New' }),
    fields: [
      { name: 'id', bad: fc.oneof(notAString, stringNotMatching(participantIdRe)) },
      { name: 'role', bad: badEnum(['merchant', 'government', 'auditor', 'regulator']) },
      { name: 'name', bad: fc.oneof(badText(128), fc.constant('')) },
      walletIdField('wallet'),
    ],
  },
  { label: 'POST /v1/issuance', who: 'bankA', method: 'POST', path: () => '/v1/issuance', valid: () => ({ amount: '1', id: 'iss-fuzz' }), fields: [amountField(), opIdField] },
  { label: 'POST /v1/redemption', who: 'bankA', method: 'POST', path: () => '/v1/redemption', valid: () => ({ amount: '1', id: 'red-fuzz' }), fields: [amountField(), opIdField] },
  { label: 'PUT /v1/tiers/{tier}', who: 'operator', method: 'PUT', path: () => '/v1/tiers/1', valid: () => ({ holdingLimit: '1', perPaymentLimit: '1', dailyLimit: '1' }), fields: [amountField('holdingLimit'), amountField('perPaymentLimit'), amountField('dailyLimit')] },
  {
    label: 'POST /v1/wallets',
    who: 'bankA',
    method: 'POST',
    path: () => '/v1/wallets',
    valid: () => ({ publicKey: freshKey(), kind: 'individual', tier: 1 }),
    fields: [keyField, { name: 'kind', bad: badEnum(['individual', 'merchant', 'government']) }, { name: 'tier', bad: badTier }, walletIdField('id'), { name: 'convertIncoming', bad: badBool }],
  },
  { label: 'freeze', who: 'bankA', method: 'POST', path: walletPath('alice', 'freeze'), valid: () => ({ reason: 'x' }), fields: [{ name: 'reason', bad: badText(128) }], optionalOnly: ['reason'] },
  { label: 'unfreeze', who: 'bankA', method: 'POST', path: walletPath('icy', 'unfreeze'), valid: () => ({ reason: 'x' }), fields: [{ name: 'reason', bad: badText(128) }], optionalOnly: ['reason'] },
  { label: 'close', who: 'bankA', method: 'POST', path: walletPath('alice', 'close'), valid: () => ({ sweepTo: id('bob') }), fields: [walletIdField('sweepTo')], optionalOnly: ['sweepTo'] },
  { label: 'key', who: 'bankA', method: 'POST', path: walletPath('alice', 'key'), valid: () => ({ publicKey: freshKey() }), fields: [keyField, { name: 'reason', bad: badEnum(['rotation', 'recovery']) }] },
  { label: 'tier', who: 'bankA', method: 'POST', path: walletPath('alice', 'tier'), valid: () => ({ tier: 1 }), fields: [{ name: 'tier', bad: badTier }] },
  { label: 'conversion', who: 'bankA', method: 'POST', path: walletPath('alice', 'conversion'), valid: () => ({ convertIncoming: true }), fields: [{ name: 'convertIncoming', bad: badBool }] },
  ...(['fund', 'defund', 'bank-account/credit', 'bank-account/debit'] as const).map(
    (action): FuzzEndpoint => ({ label: action, who: 'bankA', method: 'POST', path: walletPath('alice', action), valid: () => ({ amount: '1', id: `${action.replace('/', '-')}-fuzz` }), fields: [amountField(), opIdField] }),
  ),
  {
    label: 'POST /v1/payments',
    who: 'none',
    method: 'POST',
    path: () => '/v1/payments',
    valid: () => paymentBody({ reference: 'r', expiresAt: '2099-01-01T00:00:00Z' }),
    finish: signAs('alice'),
    fields: [
      opIdField,
      walletIdField('from'),
      walletIdField('to'),
      amountField(),
      { name: 'sequence', bad: fc.oneof(notAString.filter((v) => !(typeof v === 'number' && Number.isSafeInteger(v) && v > 2)), anyString) },
      { name: 'expiresAt', bad: fc.oneof(notAString, stringNotMatching(timeRe), fc.constantFrom('2026-02-30T00:00:00Z', '2000-01-01T00:00:00Z')) },
      { name: 'reference', bad: badText(128) },
      { name: 'request', bad: fc.oneof(notAString, stringNotMatching(operationIdRe)) },
      { name: 'refundOf', bad: fc.oneof(notAString, stringNotMatching(operationIdRe)) },
      { name: 'signature', bad: fc.oneof(notAString, anyString) },
    ],
  },
  {
    label: 'POST /v1/payment-requests',
    who: 'merchant',
    method: 'POST',
    path: () => '/v1/payment-requests',
    valid: () => ({ amount: '1', id: 'req-fuzz', reference: 'r', expiresAt: '2099-01-01T00:00:00Z' }),
    fields: [amountField(), opIdField, walletIdField('wallet'), { name: 'reference', bad: badText(128) }, { name: 'expiresAt', bad: fc.oneof(notAString, stringNotMatching(timeRe), fc.constant('2026-02-30T00:00:00Z')) }],
  },
  {
    label: 'PUT /v1/webhook',
    who: 'bankA',
    method: 'PUT',
    path: () => '/v1/webhook',
    valid: () => ({ url: 'http://127.0.0.1:9/hook' }),
    fields: [{ name: 'url', bad: fc.oneof(notAString, anyString.filter((s) => !isWebhookUrl(s)), fc.webUrl().map((u) => `${u}/${'a'.repeat(2048)}`)) }],
  },
];

/** Body-less actions ignore any JSON body (a known gap), so only text that is not JSON is tried on them. */
const bodylessEndpoints = [
  { label: 'reinstate an active bank', who: 'operator' as Who, method: 'POST', path: () => '/v1/banks/alpha-bank/reinstate' },
  { label: 'reinstate an active merchant', who: 'operator' as Who, method: 'POST', path: () => '/v1/participants/shop-merchant/reinstate' },
  { label: 'remove a webhook', who: 'bankA' as Who, method: 'DELETE', path: () => '/v1/webhook' },
];

function isJsonAcceptedByServer(text: string): boolean {
  try {
    JSON.parse(text.replace(/^\ufeff/, ''));
    return true;
  } catch {
    return false;
  }
}

/** Whether a JSON value is a body an all-optional endpoint would accept. */
function mayBeValidOptionalBody(value: unknown, keys: readonly string[]): boolean {
  if (value === null) return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value).every((key) => keys.includes(key));
}

// ---- the tests ------------------------------------------------------------------------------

afterAll(() => keepAlive.destroy());

// The world and everything run against it, once on each journal backend: SQLite, and PostgreSQL on
// a real server (the backends run one after the other, each with a world of its own).
describeEachBackend((backend) => {
  beforeAll(() => buildWorld(backend), 60_000);

  afterAll(async () => {
    await server?.close();
  });

  describe('the platform world', () => {
    it('is in the state the cases assume', async () => {
      const alice = (await read(`/v1/wallets/${id('alice')}`)) as Record<string, unknown>;
      expect(alice).toMatchObject({ status: 'active', tier: 2, bankAccountBalance: '100', lastSequence: 2 });
      expect(await read(`/v1/wallets/${id('icy')}`)).toMatchObject({ status: 'frozen' });
      expect(await read(`/v1/wallets/${id('gone')}`)).toMatchObject({ status: 'closed' });
      expect(await read(`/v1/wallets/${id('ann')}`)).toMatchObject({ tier: 0, balance: '1000' });
      expect(await read('/v1/payments/pay-1')).toMatchObject({ status: 'partially_refunded', amount: '1000', refunded: '200' });
      expect(await read('/v1/payment-requests/req-paid')).toMatchObject({ status: 'paid' });
      expect(await read('/v1/banks/beta-bank')).toMatchObject({ issued: '400000', issuanceCap: '400000' });
      expect(await read('/v1/banks/delta-bank')).toMatchObject({ status: 'suspended' });
      expect(await read('/v1/participants/old-merchant')).toMatchObject({ status: 'suspended' });
      expect(await read('/v1/tiers')).toMatchObject({ tiers: [{ tier: 0 }, { tier: 1 }, { tier: 2, ...currentTier2 }] });
      expect(edgeCaseKeys.length).toBeGreaterThan(0);
      const supply = (await read('/v1/supply')) as { invariantsHold: boolean };
      expect(supply.invariantsHold).toBe(true);
    });
  });

  function toRequest(c: Case): RawRequest {
    return {
      method: c.method,
      path: force(c.path),
      token: world.tokens[c.who],
      ...(c.body === undefined ? {} : { body: force(c.body) }),
      ...(c.contentType === undefined ? {} : { contentType: c.contentType }),
      ...(c.contentEncoding === undefined ? {} : { contentEncoding: c.contentEncoding }),
      ...(c.headers === undefined ? {} : { headers: c.headers }),
    };
  }

  describe('bad input to the platform endpoints over real HTTP', () => {
    // Nothing may change, so every case is compared with the state before the first; after a case
    // that did change something, with the state it left (so that only that case fails).
    let baseline: Snapshot;
    let fullBefore: Snapshot;
    beforeAll(async () => {
      fullBefore = await snapshot(true);
      baseline = await snapshot(false, webhookReads);
    });

    it('has unique case names', () => {
      const names = cases.map((c) => c.name);
      expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    });

    it.each(cases)('$name -> $status $code', async (c) => {
      const req = toRequest(c);
      const response = await send(world.port, req);
      const after = await snapshot(false, req.path.startsWith('/v1/webhook') ? webhookReads : []);
      const before = { day: baseline.day, state: Object.fromEntries(Object.keys(after.state).map((key) => [key, baseline.state[key]])) };
      baseline = { day: after.day, state: { ...baseline.state, ...after.state } };
      const context = describeResponse(req, response);
      expectUnchanged(before, after, context);
      const code = expectDocumentedProblem(req, response);
      expect([response.status, code], context).toEqual([c.status, c.code]);
      if (c.status === 401) expect(response.headers['www-authenticate']).toBe('Bearer realm="tengri"');
      if (c.code === vf) expect(Array.isArray((JSON.parse(response.text) as { errors?: unknown }).errors), context).toBe(true);
    });

    it('left everything as it was, including what is not journaled', async () => {
      expectUnchanged(fullBefore, await snapshot(true), 'after every bad case');
    });
  });

  describe('wrong roles and bad credentials', () => {
    let fullBefore: Snapshot;
    beforeAll(async () => {
      fullBefore = await snapshot(true);
    });

    it('covers every platform operation of the OpenAPI document, with role calls and with hand-written bad input', async () => {
      const document = (await read('/openapi.json')) as { paths: Record<string, Record<string, unknown>> };
      const platformPrefixes = ['/v1/banks', '/v1/participants', '/v1/issuance', '/v1/redemption', '/v1/tiers', '/v1/wallets', '/v1/payments', '/v1/payment-requests', '/v1/events', '/v1/webhook'];
      const operations = Object.entries(document.paths)
        .filter(([path]) => platformPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)))
        .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      expect(operations.length).toBeGreaterThanOrEqual(40);
      // POST /v1/payments is public: the payer's signature is its authority.
      expect([...endpoints.map((e) => `${e.method} ${e.label}`), 'POST /v1/payments'].sort()).toEqual(operations);
      // Every operation that takes any input gets hand-written bad cases; the rest only credentials.
      const inputless = ['GET /v1/banks', 'GET /v1/tiers'];
      const withoutCases = operations.filter((operation) => !inputless.includes(operation) && !cases.some((c) => c.name.startsWith(`${operation}:`) || c.name.startsWith(`${operation} (`)));
      expect(withoutCases).toEqual([]);
    });

    it.each(endpoints.map((e) => [`${e.method} ${e.label}`, e] as const))(
      '%s refuses every other role and bad credentials without a 5xx',
      async (_name, e) => {
        const before = await snapshot(false, webhookReads);
        for (const role of Object.keys(roleCaller) as ApiRole[]) {
          if (e.roles.includes(role)) continue;
          const req: RawRequest = { method: e.method, path: force(e.path), token: world.tokens[roleCaller[role]], ...(e.body === undefined ? {} : { body: force(e.body) }) };
          const response = await send(world.port, req);
          expect([response.status, expectDocumentedProblem(req, response)], `${role}: ${describeResponse(req, response)}`).toEqual([403, 'forbidden']);
        }
        for (const [label, headers, who] of badCredentials) {
          const req: RawRequest = { method: e.method, path: force(e.path), token: who === null ? null : world.tokens[who], headers: headers(testToken), ...(e.body === undefined ? {} : { body: force(e.body) }) };
          const response = await send(world.port, req);
          const code = expectDocumentedProblem(req, response);
          const expected = who === 'suspendedMerchant' || who === 'suspendedBank' ? [403, 'participant_suspended'] : [401, 'unauthorized'];
          expect([response.status, code], `${label}: ${describeResponse(req, response)}`).toEqual(expected);
        }
        expectUnchanged(before, await snapshot(false, webhookReads), `${e.method} ${force(e.path)}`);
      },
    );

    it('left everything as it was', async () => {
      expectUnchanged(fullBefore, await snapshot(true), 'after every wrong-role call');
    });
  });

  describe('random bodies, paths and queries', () => {
    let sequenceBefore = 0;
    let stateBefore: Snapshot;

    beforeAll(async () => {
      sequenceBefore = await journalSequence();
      stateBefore = await snapshot(true);
    });

    /** Refused, and nothing journaled; after a request that did change the journal, later runs are judged on their own. */
    async function expectRefused(req: RawRequest): Promise<void> {
      const response = await send(world.port, req);
      const sequence = await journalSequence();
      const before = sequenceBefore;
      sequenceBefore = sequence;
      expect(sequence, `journal changed by ${describeResponse(req, response)}`).toBe(before);
      expectDocumentedProblem(req, response);
    }

    const byLabel = new Map(fuzzEndpoints.map((e) => [e.label, e]));
    const endpointOf = (label: string): FuzzEndpoint => byLabel.get(label)!;
    const fuzzEndpoint = fc.constantFrom(...fuzzEndpoints.map((e) => e.label));
    const runs = (numRuns: number) => ({ numRuns });

    it('arbitrary JSON documents are refused with a 4xx problem', async () => {
      await fc.assert(
        fc.asyncProperty(fuzzEndpoint, fc.oneof(fc.json(), fc.json({ stringUnit: 'binary' })), async (label, text) => {
          const e = endpointOf(label);
          if (e.optionalOnly !== undefined) fc.pre(!mayBeValidOptionalBody(JSON.parse(text), e.optionalOnly));
          await expectRefused({ method: e.method, path: e.path(), token: world.tokens[e.who], body: text });
        }),
        runs(200),
      );
    });

    it('arbitrary texts are refused with a 4xx problem', async () => {
      const all = new Map<string, { who: Who; method: string; path: () => string; optionalOnly?: readonly string[]; bodyless?: true }>([
        ...fuzzEndpoints.map((e) => [e.label, e] as const),
        ...bodylessEndpoints.map((e) => [e.label, { ...e, bodyless: true as const }] as const),
      ]);
      const anyEndpoint = fc.constantFrom(...all.keys());
      const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), fc.string({ unit: fc.constantFrom(...'{}[]":,\\ u0a1-e.tfn'.split('')), maxLength: 40 }));
      await fc.assert(
        fc.asyncProperty(anyEndpoint, text, async (label, body) => {
          const e = all.get(label)!;
          if (e.bodyless === true || e.optionalOnly !== undefined) {
            fc.pre(body.trim() !== '' && body.replace(/^\ufeff/, '').trim() !== '');
            if (isJsonAcceptedByServer(body)) fc.pre(e.bodyless !== true && !mayBeValidOptionalBody(JSON.parse(body.replace(/^\ufeff/, '')), e.optionalOnly ?? []));
          }
          await expectRefused({ method: e.method, path: e.path(), token: world.tokens[e.who], body });
        }),
        runs(200),
      );
    });

    it('valid bodies with one field made bad (and sometimes an unknown field) are refused with a 4xx problem', async () => {
      const nearlyValid = fuzzEndpoint.chain((endpoint) =>
        fc
          .record({
            endpoint: fc.constant(endpoint),
            field: fc.constantFrom(...endpointOf(endpoint).fields.map((f) => f.name)),
            extra: fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })), { freq: 4 }),
          })
          .chain(({ endpoint, field, extra }) => endpointOf(endpoint).fields.find((f) => f.name === field)!.bad.map((value) => ({ endpoint, field, value, extra }))),
      );
      const put = (body: Record<string, unknown>, key: string, value: unknown): void => {
        Object.defineProperty(body, key, { value, enumerable: true, configurable: true, writable: true });
      };
      await fc.assert(
        fc.asyncProperty(nearlyValid, async ({ endpoint, field, value, extra }) => {
          const e = endpointOf(endpoint);
          const body: Record<string, unknown> = { ...e.valid() };
          // A bad signature is put on after signing; every other bad field is signed.
          if (field !== 'signature') put(body, field, value);
          if (extra !== null && !(extra[0] in body) && extra[0] !== 'signature') put(body, extra[0], extra[1]);
          const finished = e.finish === undefined ? body : e.finish(body);
          if (field === 'signature') put(finished, field, value);
          await expectRefused({ method: e.method, path: e.path(), token: world.tokens[e.who], body: JSON.stringify(finished) });
        }),
        runs(200),
      );
    });

    /** A path segment: any text percent-encoded byte by byte, or raw path characters. */
    const segment = fc
      .oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).map((s) => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('')),
        fc.string({ unit: fc.constantFrom(...'%./:-_aZ09~!$&\'()*+,;=@'.split('')), minLength: 1, maxLength: 30 }),
        fc.string({ unit: fc.constantFrom('%', '2', 'e', 'E', 'F', 'f', 'Z', '0', '.', '/'), minLength: 1, maxLength: 12 }),
      )
      .filter((s) => !/^(alpha-bank|beta-bank|delta-bank|shop-merchant|city-hall|audit-office|reg-office|old-merchant|pay-1|ref-1|pay-req|req-1|req-paid|req-expired)$/.test(s) && !s.startsWith('w_'));
    const pathEndpoints = new Map<string, { who: Who; method: string; path: (s: string) => string; body?: string }>([
      ['GET /v1/wallets/{id}', { who: 'operator', method: 'GET', path: (s) => `/v1/wallets/${s}` }],
      ['GET /v1/wallets/{id}/history', { who: 'operator', method: 'GET', path: (s) => `/v1/wallets/${s}/history` }],
      ['GET /v1/banks/{id}', { who: 'operator', method: 'GET', path: (s) => `/v1/banks/${s}` }],
      ['GET /v1/banks/{id}/statement', { who: 'operator', method: 'GET', path: (s) => `/v1/banks/${s}/statement` }],
      ['GET /v1/participants/{id}', { who: 'operator', method: 'GET', path: (s) => `/v1/participants/${s}` }],
      ['GET /v1/payments/{id}', { who: 'operator', method: 'GET', path: (s) => `/v1/payments/${s}` }],
      ['GET /v1/payment-requests/{id}', { who: 'operator', method: 'GET', path: (s) => `/v1/payment-requests/${s}` }],
      ['POST /v1/banks/{id}/reserves', { who: 'operator', method: 'POST', path: (s) => `/v1/banks/${s}/reserves`, body: '{"amount":"1"}' }],
      ['PUT /v1/banks/{id}/issuance-cap', { who: 'operator', method: 'PUT', path: (s) => `/v1/banks/${s}/issuance-cap`, body: '{"cap":"1"}' }],
      ['POST /v1/banks/{id}/suspend', { who: 'operator', method: 'POST', path: (s) => `/v1/banks/${s}/suspend` }],
      ['POST /v1/participants/{id}/suspend', { who: 'operator', method: 'POST', path: (s) => `/v1/participants/${s}/suspend` }],
      ['POST /v1/participants/{id}/api-key', { who: 'operator', method: 'POST', path: (s) => `/v1/participants/${s}/api-key` }],
      ['PUT /v1/tiers/{tier}', { who: 'operator', method: 'PUT', path: (s) => `/v1/tiers/${s}`, body: stringify(currentTier2) }],
      ['POST /v1/wallets/{id}/freeze (operator)', { who: 'operator', method: 'POST', path: (s) => `/v1/wallets/${s}/freeze` }],
      ['POST /v1/wallets/{id}/close', { who: 'bankA', method: 'POST', path: (s) => `/v1/wallets/${s}/close` }],
      ['POST /v1/wallets/{id}/fund', { who: 'bankA', method: 'POST', path: (s) => `/v1/wallets/${s}/fund`, body: '{"amount":"1"}' }],
      ['POST /v1/wallets/{id}/key', { who: 'bankA', method: 'POST', path: (s) => `/v1/wallets/${s}/key`, body: `{"publicKey":"${freshKey()}"}` }],
    ]);

    it('arbitrary path parameters are refused with a 4xx problem', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...pathEndpoints.keys()), segment, async (label, s) => {
          const e = pathEndpoints.get(label)!;
          // Tiers 0, 1 and 2 exist (the body holds tier 2's current limits, which would change tiers 0 and 1).
          fc.pre(!(label.includes('tiers') && /^(0|1|2|%3[012])$/i.test(s)));
          await expectRefused({ method: e.method, path: e.path(s), token: world.tokens[e.who], ...(e.body === undefined ? {} : { body: e.body }) });
        }),
        runs(200),
      );
    });

    it('arbitrary query strings never get a 5xx and change nothing', async () => {
      const listEndpoints = new Map<string, { who: Who; path: () => string }>([
        ['GET /v1/wallets', { who: 'operator', path: () => '/v1/wallets' }],
        ['GET /v1/participants', { who: 'operator', path: () => '/v1/participants' }],
        ['GET /v1/events', { who: 'bankA', path: () => '/v1/events' }],
        ['GET /v1/wallets/{id}/history', { who: 'operator', path: () => `/v1/wallets/${id('alice')}/history` }],
        ['GET /v1/banks/{id}/statement', { who: 'operator', path: () => '/v1/banks/alpha-bank/statement' }],
      ]);
      const query = fc.oneof(
        fc.string({ unit: fc.constantFrom(...'limit=cursor&after=bank=date=0123456789-%ZZ[]._ alpha-bank'.split('')), maxLength: 40 }),
        fc.webQueryParameters(),
        fc.string({ unit: 'binary', maxLength: 60 }),
      );
      // Characters a request line cannot hold are percent-encoded as UTF-8 bytes (a lone surrogate as U+FFFD).
      const encode = (q: string): string => q.replace(/[^\x21-\x7e]|#/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...listEndpoints.keys()), query, async (label, q) => {
          const e = listEndpoints.get(label)!;
          const req: RawRequest = { method: 'GET', path: `${e.path()}?${encode(q)}`, token: world.tokens[e.who] };
          const response = await send(world.port, req);
          expect(response.status, describeResponse(req, response)).toBeLessThan(500);
          if (response.status !== 200) expectDocumentedProblem(req, response);
          expect(await journalSequence(), describeResponse(req, response)).toBe(sequenceBefore);
        }),
        runs(200),
      );
    });

    it('leaves the world as it was', async () => {
      expectUnchanged(stateBefore, await snapshot(true), 'after all random input');
    });
  });
});

// ---- findDuplicateKey against a reference parser -------------------------------------------------

/**
 * A small recursive-descent JSON parser (RFC 8259) that decodes every key and reports the first key
 * that appears twice in one object, in text order. Throws on text that is not JSON.
 */
function referenceDuplicate(text: string): string | null {
  let i = 0;
  let found: string | null = null;
  const fail = (): never => {
    throw new SyntaxError(`not JSON at ${i}`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expectChar = (c: string): void => {
    if (text[i] !== c) fail();
    i++;
  };
  const string = (): string => {
    expectChar('"');
    let out = '';
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c.charCodeAt(0) < 0x20) fail();
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        fail();
      }
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = string();
        if (found === null && keys.has(key)) found = key;
        keys.add(key);
        ws();
        expectChar(':');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expectChar('}');
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expectChar(']');
        return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(text.slice(i, i + 400));
    if (literal === null) fail();
    i += literal![0].length;
  };
  value();
  ws();
  if (i !== text.length) fail();
  return found;
}

/** A key or string written in JSON with a chosen escape for each character. */
const jsonChars = ['a', 'b', 'A', '0', ' ', '"', '\\', '/', '{', '}', '[', ']', ':', ',', '\u00e9', '\u20ac', '\u{1f600}', '\u0000', '\n', '\t', '\ud800', '\udc00', '\u2028'];
const shortEscapes: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
function writeChar(c: string, how: number): string {
  const units = [...Array(c.length).keys()].map((k) => c.charCodeAt(k));
  const uEscape = (upper: boolean): string => units.map((u) => `\\u${u.toString(16).padStart(4, '0')}`).map((s) => (upper ? s.toUpperCase().replace('\\U', '\\u') : s)).join('');
  const mustEscape = c === '"' || c === '\\' || c.charCodeAt(0) < 0x20;
  switch (how % 4) {
    case 0:
      return mustEscape ? (shortEscapes[c] ?? uEscape(false)) : c;
    case 1:
      return uEscape(false);
    case 2:
      return uEscape(true);
    default:
      return shortEscapes[c] ?? (mustEscape ? uEscape(true) : c);
  }
}
const jsonString = fc.array(fc.tuple(fc.constantFrom(...jsonChars), fc.nat(3)), { maxLength: 3 }).map((parts) => `"${parts.map(([c, how]) => writeChar(c, how)).join('')}"`);
const space = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n  ');

/** JSON texts whose objects draw keys from a small set, each written with its own escapes: duplicates are common. */
const jsonWithRepeats: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('true', 'false', 'null', '0', '-1.5e3', '12'),
    jsonString,
    fc.tuple(space, fc.array(fc.tuple(tie('value'), space), { maxLength: 4 })).map(([s, items]) => `[${s}${items.map(([v, t]) => `${v}${t}`).join(',')}]`),
    fc
      .tuple(space, fc.array(fc.tuple(jsonString, space, space, tie('value'), space), { maxLength: 5 }))
      .map(([s, entries]) => `{${s}${entries.map(([k, a, b, v, c]) => `${k}${a}:${b}${v}${c}`).join(',')}}`),
  ),
})).value;

/** An fc.json() document with one key of one of its objects repeated (written the same or with escapes). */
const jsonWithInjectedRepeat = fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.integer(), fc.nat(3)).map(([value, seed, how]) => {
  const random = seededRandom(seed);
  let injected = false;
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${write(x)}`);
      const keys = Object.keys(v);
      if (keys.length > 0 && random() < 0.5) {
        const key = keys[Math.floor(random() * keys.length)]!;
        const written = `"${[...key].map((c) => writeChar(c, how)).join('')}"`;
        entries.splice(Math.floor(random() * (entries.length + 1)), 0, `${written}:${write(random() < 0.5 ? null : '{"x":"}"}')}`);
        injected = true;
      }
      return `{${entries.join(',')}}`;
    }
    return JSON.stringify(v);
  };
  const text = write(value);
  return injected ? text : `{"k":${text},"\\u006b":1}`;
});

describe('findDuplicateKey', () => {
  function agrees(text: string): void {
    expect(() => JSON.parse(text), text).not.toThrow();
    expect(findDuplicateKey(text), text).toBe(referenceDuplicate(text));
  }

  it('the reference parser finds what it should', () => {
    expect(referenceDuplicate('{"a":1,"a":2}')).toBe('a');
    expect(referenceDuplicate('{"a":1,"\\u0061":2}')).toBe('a');
    expect(referenceDuplicate('{"a":{"a":1},"b":[{"a":1,"b":2}]}')).toBeNull();
    expect(referenceDuplicate('[{"x":1},{"x":2}]')).toBeNull();
    expect(referenceDuplicate('{"a":"{\\"a\\":1,\\"a\\":2}"}')).toBeNull();
    expect(referenceDuplicate('{"\\ud83d\\ude00":1,"\u{1f600}":2}')).toBe('\u{1f600}');
    expect(() => referenceDuplicate('{"a":1,}')).toThrow();
  });

  it('agrees with the reference on hand-picked texts', () => {
    for (const text of [
      '{}',
      '[]',
      '"{\\"a\\":1,\\"a\\":2}"',
      '{"a":1,"b":2}',
      '{"a":1,"a":1}',
      '{"a" : 1 , "a" : 2}',
      '{"a":1,"\\u0061":2}',
      '{"\\u0061":1,"a":2}',
      '{"\\/":1,"/":2}',
      '{"\\\\":1,"\\u005c":2}',
      '{"\\"":1,"\\u0022":2}',
      '{"\\n":1,"\\u000a":2,"\\u000A":3}',
      '{"a\\"b":1,"a\\"b":2}',
      '{"a":{"a":{"a":1}},"b":{"a":2}}',
      '{"a":[{"a":1},{"a":2}],"b":3}',
      '{"x":"}","x":1}',
      '{"x":"{","y":"\\"","x":1}',
      '{"x":"\\\\","y":1,"x":2}',
      '[{"x":1,"y":{"z":[],"z":{}}}]',
      '{"\\ud800":1,"\\uD800":2}',
      '{"\ud800":1,"\\ud800":2}',
      '{"\\ud83d\\ude00":1,"\u{1f600}":2}',
      '{"":1,"":2}',
      '{"a":[],"b":{},"a":null}',
      '{"__proto__":1,"__proto__":2}',
      '{"constructor":1,"toString":2,"constructor":3}',
      ' \n{"a":1}\t',
    ]) {
      agrees(text);
    }
  });

  it('agrees with the reference on arbitrary JSON documents', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), fc.json({ stringUnit: 'binary' })), agrees), { numRuns: 2000 });
  });

  it('agrees with the reference on texts built with repeated and escaped keys, nested objects in arrays, and strings holding braces, quotes and backslashes', () => {
    let withDuplicate = 0;
    let without = 0;
    fc.assert(
      fc.property(jsonWithRepeats, (text) => {
        agrees(text);
        if (referenceDuplicate(text) === null) without++;
        else withDuplicate++;
      }),
      { numRuns: 3000 },
    );
    expect(withDuplicate).toBeGreaterThan(100);
    expect(without).toBeGreaterThan(100);
  });

  it('finds a key injected a second time into an arbitrary JSON document', () => {
    fc.assert(
      fc.property(jsonWithInjectedRepeat, (text) => {
        agrees(text);
        expect(findDuplicateKey(text), text).not.toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on text JSON.parse accepts', () => {
    const jsonish = fc.string({ unit: fc.constantFrom(...'{}[]":,\\ u0a1-e.tfnrl/bU'.split('')), maxLength: 30 });
    fc.assert(
      fc.property(fc.oneof(jsonish, fc.json(), jsonWithRepeats, fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s))), (text) => {
        let parsed = true;
        try {
          JSON.parse(text);
        } catch {
          parsed = false;
        }
        if (!parsed) return;
        expect(() => findDuplicateKey(text), text).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- signed payments: random payments, and one-character mutations ----------------------------

describeEachBackend((backend) => {
  describe('the payment signing path', () => {
    let pay: InProcess & Client;
    let payPort = 0;
    let payer: Holder;
    let payee: Holder;
    let other: Holder;
    let frozen: Holder;

    beforeAll(async () => {
      pay = await startPlatform({ backend });
      payPort = Number(new URL(pay.base).port);
      const bank1 = await onboardBank(pay, 'one-bank', 'ONEBKZKA', { reserves: 10_000_000n, issue: 5_000_000n });
      const bank2 = await onboardBank(pay, 'two-bank', 'TWOBKZKB', { reserves: 1_000_000n, issue: 500_000n });
      payer = await openWallet(pay, bank1, { fund: 1_000_000n });
      payee = await openWallet(pay, bank1, { kind: 'merchant' });
      other = await openWallet(pay, bank2, { fund: 10_000n });
      frozen = await openWallet(pay, bank2, { fund: 10n });
      const frozenResponse = await pay.call('POST', `/v1/wallets/${frozen.id}/freeze`, undefined, bank2);
      expect(frozenResponse.status).toBe(200);
      const request = await pay.call('POST', '/v1/payment-requests', { amount: '77', id: 'fuzz-req', wallet: payee.id }, bank1);
      expect(request.status).toBe(201);
      const first = await pay.call('POST', '/v1/payments', signedPayment(payer, { id: 'fuzz-first', to: payee.id, amount: 500n }), null);
      expect(first.status).toBe(201);
    }, 60_000);

    afterAll(async () => {
      await pay?.close();
    });

    async function post(body: string | Buffer): Promise<RawResponse> {
      return send(payPort, { method: 'POST', path: '/v1/payments', token: null, body });
    }

    async function paymentView(paymentId: string): Promise<Record<string, unknown> | null> {
      const response = await send(payPort, { method: 'GET', path: `/v1/payments/${paymentId}`, token: testToken });
      return response.status === 200 ? (JSON.parse(response.text) as Record<string, unknown>) : null;
    }

    /** What the platform must record for an accepted payment. */
    function expectedView(body: Record<string, unknown>): Record<string, unknown> {
      return {
        id: body.id,
        from: body.from,
        to: body.to,
        amount: BigInt(body.amount as string).toString(),
        sequence: body.sequence,
        expiresAt: body.expiresAt === undefined ? null : new Date(Date.parse(body.expiresAt as string)).toISOString(),
        reference: body.reference ?? '',
        request: body.request ?? null,
        refundOf: body.refundOf ?? null,
      };
    }

    async function expectInvariants(): Promise<void> {
      const response = await send(payPort, { method: 'GET', path: '/v1/supply', token: testToken });
      const supply = JSON.parse(response.text) as { invariantsHold: boolean; violations: string[] };
      expect(supply.violations).toEqual([]);
      expect(supply.invariantsHold).toBe(true);
    }

    it('random payments, signed by their payer, are accepted or refused only with documented codes', async () => {
      let accepted = 0;
      const wallets = () => [payer, payee, other, frozen];
      const walletRef = fc.oneof(fc.nat(3).map((n) => wallets()[n]!.id), fc.constantFrom('w_nobody', 'ab', ''), anyString);
      const future = fc.date({ min: new Date('2030-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
      const time = fc.oneof(future, future.map((t) => t.replace('.000Z', 'Z')), fc.constantFrom('2000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2030-01-01T00:00:00'), anyString);
      // Weighted towards payments that can succeed, so both outcomes are exercised.
      const usually = <T, U>(good: fc.Arbitrary<T>, other: fc.Arbitrary<U>) => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: other });
      const sometimes = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
      const payment = fc.record({
        id: usually(fc.stringMatching(/^[A-Za-z0-9_-]{1,56}$/), fc.oneof(anyString, notAString)),
        fromIndex: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(3) }),
        to: usually(fc.constantFrom(1, 2).map((n) => wallets()[n]!.id), walletRef),
        amount: usually(fc.bigInt({ min: 1n, max: 3000n }).map(String), fc.oneof(fc.constantFrom('0', '00012', '9223372036854775808', '9223372036854775807', '-1', '1e3', ' 1'), anyString, notAString)),
        sequence: usually(fc.nat(3).map((gap) => ({ next: gap })), fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(2 ** 53), fc.double(), anyString)),
        expiresAt: sometimes(time),
        reference: sometimes(fc.oneof(fc.string({ unit: 'binary', maxLength: 140 }), fc.string({ unit: 'grapheme', maxLength: 130 }), notAString)),
        request: sometimes(fc.oneof(fc.constantFrom('fuzz-req', 'nope'), anyString)),
        refundOf: sometimes(fc.oneof(fc.constantFrom('fuzz-first', 'nope'), anyString)),
        extra: sometimes(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))),
      });
      await fc.assert(
        fc.asyncProperty(payment, async (p) => {
          const from = wallets()[p.fromIndex]!;
          const body: Record<string, unknown> = { id: p.id, from: from.id, to: p.to, amount: p.amount };
          body.sequence = typeof p.sequence === 'object' && p.sequence !== null && 'next' in p.sequence ? from.sequence + 1 + p.sequence.next : p.sequence;
          for (const key of ['expiresAt', 'reference', 'request', 'refundOf'] as const) if (p[key] !== undefined) body[key] = p[key];
          if (p.extra !== undefined && !(p.extra[0] in body)) Object.defineProperty(body, p.extra[0], { value: p.extra[1], enumerable: true, configurable: true, writable: true });
          let signature: string;
          try {
            signature = signPayment(body, from.seed);
          } catch {
            signature = 'A'.repeat(86); // canonical JSON cannot hold this body: nothing can sign it
          }
          const req: RawRequest = { method: 'POST', path: '/v1/payments', token: null, body: JSON.stringify({ ...body, signature }) };
          const response = await send(payPort, req);
          if (response.status === 201 || response.status === 200) {
            const view = JSON.parse(response.text) as Record<string, unknown>;
            expect(view, describeResponse(req, response)).toMatchObject(expectedView(body));
            expect(await paymentView(String(body.id))).toMatchObject(expectedView(body));
            if (response.status === 201) {
              accepted++;
              from.sequence = body.sequence as number;
            }
          } else {
            expectDocumentedProblem(req, response);
          }
        }),
        { numRuns: 300 },
      );
      expect(accepted).toBeGreaterThan(5);
      await expectInvariants();
    });

    /** Offsets of the characters of a JSON text that are structural ({ } [ ] : ,), outside strings. */
    function structuralPositions(text: string): number[] {
      const positions: number[] = [];
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') {
          inString = true;
        } else if (c !== undefined && '{}[]:,'.includes(c)) {
          positions.push(i);
        }
      }
      return positions;
    }

    it('no one-character change to a signed payment is accepted as a payment with other content', async () => {
      const interesting = [...' \t\n"\\{}[]:,0123456789-_.eEuU+aAzZ/='.split(''), '\u00e9', '\ud800', '\u0000'];
      const mutation = fc.record({
        position: fc.nat(),
        kind: fc.constantFrom('replace', 'insert', 'delete', 'whitespace'),
        char: fc.oneof(fc.constantFrom(...interesting), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      });
      const shape = fc.record({
        amount: fc.bigInt({ min: 1n, max: 50n }),
        reference: fc.option(fc.string({ maxLength: 12 })),
        expires: fc.boolean(),
        layout: fc.constantFrom('compact', 'spaced', 'reordered'),
      });
      let refused = 0;
      let identical = 0;
      let counter = 0;
      await fc.assert(
        fc.asyncProperty(shape, mutation, async (s, m) => {
          const body = signedPayment(payer, {
            id: `mut-${process.pid}-${++counter}`,
            to: payee.id,
            amount: s.amount,
            ...(s.reference === null ? {} : { reference: s.reference }),
            ...(s.expires ? { expiresAt: '2099-06-30T12:00:00.5Z' } : {}),
          });
          const ordered = s.layout === 'reordered' ? Object.fromEntries(Object.entries(body).reverse()) : body;
          const text = s.layout === 'spaced' ? JSON.stringify(ordered, null, 1) : JSON.stringify(ordered);
          let mutated: string;
          if (m.kind === 'whitespace') {
            // One JSON whitespace character after a structural character (outside strings): the same document.
            const structural = structuralPositions(text);
            const at = structural[m.position % structural.length]! + 1;
            mutated = text.slice(0, at) + ' \t\n\r'[m.position % 4]! + text.slice(at);
          } else {
            const at = m.position % (text.length + (m.kind === 'insert' ? 1 : 0));
            mutated = m.kind === 'delete' ? text.slice(0, at) + text.slice(at + 1) : m.kind === 'insert' ? text.slice(0, at) + m.char + text.slice(at) : text.slice(0, at) + m.char + text.slice(at + 1);
          }
          fc.pre(mutated !== text);
          const req: RawRequest = { method: 'POST', path: '/v1/payments', token: null, body: mutated };
          const response = await post(mutated);
          let consumed = false;
          if (response.status === 200 || response.status === 201) {
            // Accepted: then it must be the very payment that was signed (only whitespace or an equivalent escape changed).
            const context = describeResponse(req, response);
            expect(JSON.parse(mutated), context).toEqual(JSON.parse(text));
            expect(JSON.parse(response.text), context).toMatchObject(expectedView(body));
            consumed = true;
            identical++;
          } else {
            expect(m.kind, `whitespace between tokens must not matter: ${describeResponse(req, response)}`).not.toBe('whitespace');
            expectDocumentedProblem(req, response);
            refused++;
          }
          // The original is still what the platform records under this id: 201 unless the identical mutation took it first.
          const original = await post(text);
          expect(original.status, `${describeResponse({ ...req, body: text }, original)} after ${mutated}`).toBe(consumed ? 200 : 201);
          expect(await paymentView(String(body.id))).toMatchObject(expectedView(body));
        }),
        { numRuns: 300 },
      );
      expect(refused).toBeGreaterThan(100);
      expect(identical).toBeGreaterThan(20);
      await expectInvariants();
    });
  });
});
