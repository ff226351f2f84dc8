// Proves that bad input over real HTTP always gets a 4xx RFC 9457 problem+json with a stable `code`, never a 5xx, and never changes a balance, a transfer or the journal.
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiErrorCodes } from '../src/api/problem.ts';
import { allResultCodes } from '../src/ledger/result-codes.ts';
import { describeEachBackend, startInProcess, testToken, type InProcess } from './support/servers.ts';

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
  /** Authorization header; null sends none. Defaults to the operator's bearer token. */
  readonly authorization?: string | null;
  /** Content-Encoding header, if any. */
  readonly contentEncoding?: string;
}

/** The port of the server under test: the current backend's (the backends run one after the other). */
let port = 0;

/** One request on a fresh connection (no keep-alive, so a refused body cannot poison the next request). */
function send(req: RawRequest): Promise<RawResponse> {
  const headers: Record<string, string | number> = {};
  const authorization = req.authorization === undefined ? `Bearer ${testToken}` : req.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (req.body !== undefined) {
    const contentType = req.contentType === undefined ? 'application/json' : req.contentType;
    if (contentType !== null) headers['content-type'] = contentType;
    headers['content-length'] = Buffer.byteLength(req.body);
  }
  if (req.contentEncoding !== undefined) headers['content-encoding'] = req.contentEncoding;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    // The server may answer (413, 401) and close before it has read a large body; that is fine.
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    outgoing.end(req.body);
  });
}

async function getJson(path: string): Promise<unknown> {
  const response = await send({ method: 'GET', path });
  expect(response.status, `GET ${path}: ${response.text}`).toBe(200);
  return JSON.parse(response.text) as unknown;
}

async function postJson(path: string, body?: unknown): Promise<RawResponse> {
  return send({ method: 'POST', path, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function mustPost(path: string, body: unknown, status: number): Promise<void> {
  const response = await postJson(path, body);
  expect(response.status, `POST ${path} ${JSON.stringify(body)}: ${response.text}`).toBe(status);
}

const knownCodes = new Set<string>([...Object.keys(apiErrorCodes), ...allResultCodes]);

/** Asserts an RFC 9457 problem with the given status and code, and returns its body. */
function expectProblem(response: RawResponse, status: number, code: string): Record<string, unknown> {
  const context = `${response.status} ${String(response.headers['content-type'])} ${response.text.slice(0, 300)}`;
  expect(response.status, context).toBe(status);
  expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json(;|$)/);
  const body = JSON.parse(response.text) as Record<string, unknown>;
  expect(body.code, context).toBe(code);
  expect(body.type).toBe(`urn:tengri:problem:${code}`);
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe('string');
  expect((body.title as string).length).toBeGreaterThan(0);
  expect(typeof body.detail).toBe('string');
  expect((body.detail as string).length).toBeGreaterThan(0);
  return body;
}

// ---- the ledger the cases run against -------------------------------------------------------

const accountIds = ['cb:issuance', 'alice', 'bob', 'dave', 'carol', 'icy', 'capped'] as const;
const transferIds = ['t-issue', 't-posted', 'p-open', 'p-voided', 'p-posted', 'p-icy'] as const;

/** Everything that bad input must leave alone: every account, every seeded transfer, the supply report and the journal head. */
async function snapshot(): Promise<unknown> {
  const accounts: Record<string, unknown> = {};
  for (const id of accountIds) accounts[id] = await getJson(`/v1/accounts/${encodeURIComponent(id)}`);
  const transfers: Record<string, unknown> = {};
  for (const id of transferIds) transfers[id] = await getJson(`/v1/transfers/${id}`);
  const supply = await getJson('/v1/supply');
  const assets = await getJson('/v1/assets');
  return { accounts, transfers, supply, assets };
}

async function journalSequence(): Promise<number> {
  const supply = (await getJson('/v1/supply')) as { journal: { sequence: number } };
  return supply.journal.sequence;
}

// Everything below runs once on each journal backend: SQLite, and PostgreSQL on a real server.
describeEachBackend((backend) => {
  let server: InProcess;

  beforeAll(async () => {
    server = await startInProcess({ backend });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;

    await mustPost('/v1/assets', { code: 'USD', scale: 2 }, 201);
    for (const id of ['alice', 'bob', 'dave', 'icy']) await mustPost('/v1/accounts', { id, asset: 'KZT' }, 201);
    await mustPost('/v1/accounts', { id: 'carol', asset: 'USD' }, 201);
    await mustPost('/v1/accounts', { id: 'capped', asset: 'KZT', maxBalance: '100' }, 201);
    await mustPost('/v1/transfers', { id: 't-issue', debit: 'cb:issuance', credit: 'alice', amount: '10000' }, 201);
    await mustPost('/v1/transfers', { id: 't-icy', debit: 'cb:issuance', credit: 'icy', amount: '500' }, 201);
    await mustPost('/v1/transfers', { id: 't-posted', debit: 'alice', credit: 'bob', amount: '100', code: 7, reference: 'rent' }, 201);
    await mustPost('/v1/transfers', { id: 'p-open', debit: 'alice', credit: 'bob', amount: '300', pending: true }, 201);
    await mustPost('/v1/transfers', { id: 'p-voided', debit: 'alice', credit: 'bob', amount: '50', pending: true }, 201);
    await mustPost('/v1/transfers/p-voided/void', undefined, 200);
    await mustPost('/v1/transfers', { id: 'p-posted', debit: 'alice', credit: 'bob', amount: '70', pending: true }, 201);
    await mustPost('/v1/transfers/p-posted/post', undefined, 200);
    await mustPost('/v1/transfers', { id: 'p-icy', debit: 'icy', credit: 'bob', amount: '200', pending: true }, 201);
    await mustPost('/v1/accounts/icy/freeze', undefined, 200);
  });

  afterAll(async () => {
    await server?.close();
  });

  describe('the seeded ledger', () => {
    it('is in the state the cases below assume', async () => {
      const alice = (await getJson('/v1/accounts/alice')) as Record<string, unknown>;
      expect(alice).toMatchObject({ balance: '9830', pendingDebits: '300', available: '9530', status: 'active' });
      expect(await getJson('/v1/accounts/bob')).toMatchObject({ balance: '170', pendingCredits: '500' });
      expect(await getJson('/v1/accounts/icy')).toMatchObject({ balance: '500', pendingDebits: '200', status: 'frozen' });
      expect(await getJson('/v1/accounts/dave')).toMatchObject({ balance: '0', available: '0' });
      expect(await getJson('/v1/transfers/p-open')).toMatchObject({ status: 'pending', amount: '300' });
      expect(await getJson('/v1/transfers/p-voided')).toMatchObject({ status: 'voided' });
      expect(await getJson('/v1/transfers/p-posted')).toMatchObject({ status: 'posted', postedAmount: '70' });
      const supply = (await getJson('/v1/supply')) as { invariantsHold: boolean; assets: { asset: string; inCirculation: string; pending: string }[] };
      expect(supply.invariantsHold).toBe(true);
      expect(supply.assets.find((asset) => asset.asset === 'KZT')).toMatchObject({ inCirculation: '10500', pending: '500' });
    });
  });

  // ---- the table ------------------------------------------------------------------------------

  interface BadCase extends RawRequest {
    readonly name: string;
    readonly status: number;
    readonly code: string;
  }

  // Each case gets its own transfer id, so a case the server wrongly accepts cannot change the outcome of later ones.
  let transferNumber = 0;
  const transfer = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: `bad-${++transferNumber}`,
    debit: 'alice',
    credit: 'bob',
    amount: '1',
    ...fields,
  });
  const json = (value: unknown): string => JSON.stringify(value);
  const withoutField = (name: string): string => {
    const body = transfer();
    delete body[name];
    return json(body);
  };
  const postTransfer = (name: string, body: string, status: number, code: string, extra: Partial<RawRequest> = {}): BadCase => ({
    name,
    method: 'POST',
    path: '/v1/transfers',
    body,
    status,
    code,
    ...extra,
  });
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const batchOf = (count: number, fields: Record<string, unknown> = {}): string =>
    json({ transfers: Array.from({ length: count }, (_, index) => transfer({ id: `batch-${index}`, ...fields })) });

  const cases: BadCase[] = [
    // Malformed or mistyped bodies.
    postTransfer('malformed JSON', '{"id": "bad-1", "debit": ', 400, 'malformed_json'),
    postTransfer('JSON followed by garbage', `${json(transfer())} trailing`, 400, 'malformed_json'),
    postTransfer('single-quoted pseudo-JSON', "{'id': 'bad-1'}", 400, 'malformed_json'),
    postTransfer('a __proto__ key', '{"id":"bad-1","debit":"alice","credit":"bob","amount":"1","__proto__":{"admin":true}}', 400, 'malformed_json'),
    postTransfer('a constructor.prototype key', '{"id":"bad-1","debit":"alice","credit":"bob","amount":"1","constructor":{"prototype":{"x":1}}}', 400, 'malformed_json'),
    postTransfer('empty body with a JSON content type', '', 400, 'validation_failed'),
    postTransfer('whitespace-only body', '   \n ', 400, 'validation_failed'),
    postTransfer('empty body without a content type', '', 400, 'validation_failed', { contentType: null }),
    postTransfer('JSON null', 'null', 400, 'validation_failed'),
    postTransfer('JSON array', json([transfer()]), 400, 'validation_failed'),
    postTransfer('JSON string', json('transfer'), 400, 'validation_failed'),
    postTransfer('JSON number', '42', 400, 'validation_failed'),
    postTransfer('deeply nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), 400, 'validation_failed'),
    postTransfer('missing id', withoutField('id'), 400, 'validation_failed'),
    postTransfer('missing debit', withoutField('debit'), 400, 'validation_failed'),
    postTransfer('missing credit', withoutField('credit'), 400, 'validation_failed'),
    postTransfer('missing amount', withoutField('amount'), 400, 'validation_failed'),
    postTransfer('id is a number', json(transfer({ id: 12 })), 400, 'validation_failed'),
    postTransfer('debit is null', json(transfer({ debit: null })), 400, 'validation_failed'),
    postTransfer('credit is an object', json(transfer({ credit: { id: 'bob' } })), 400, 'validation_failed'),
    postTransfer('pending as the string "true" (no coercion)', json(transfer({ pending: 'true' })), 400, 'validation_failed'),
    postTransfer('code as a string (no coercion)', json(transfer({ code: '7' })), 400, 'validation_failed'),
    postTransfer('timeoutSeconds not an integer', json(transfer({ pending: true, timeoutSeconds: 1.5 })), 400, 'validation_failed'),
    postTransfer('timeoutSeconds beyond 366 days', json(transfer({ pending: true, timeoutSeconds: 366 * 24 * 3600 + 1 })), 400, 'validation_failed'),
    postTransfer('negative timeoutSeconds', json(transfer({ pending: true, timeoutSeconds: -1 })), 400, 'validation_failed'),
    postTransfer('code above 65535', json(transfer({ code: 65_536 })), 400, 'validation_failed'),
    postTransfer('negative code', json(transfer({ code: -1 })), 400, 'validation_failed'),
    postTransfer('an unknown field', json(transfer({ memo: 'hi' })), 400, 'validation_failed'),
    postTransfer('linked on the single-transfer endpoint', json(transfer({ linked: true })), 400, 'validation_failed'),
    postTransfer('id with a space', json(transfer({ id: 'bad 1' })), 400, 'validation_failed'),
    postTransfer('id with a slash', json(transfer({ id: 'bad/1' })), 400, 'validation_failed'),
    postTransfer('id of 65 characters', json(transfer({ id: 'x'.repeat(65) })), 400, 'validation_failed'),
    postTransfer('empty id', json(transfer({ id: '' })), 400, 'validation_failed'),
    postTransfer('non-ASCII id', json(transfer({ id: 'плохой' })), 400, 'validation_failed'),
    postTransfer('reference of 129 characters', json(transfer({ reference: 'r'.repeat(129) })), 400, 'validation_failed'),
    postTransfer('huge reference (1 MiB)', json(transfer({ reference: 'r'.repeat(1024 * 1024) })), 400, 'validation_failed'),
    // A lone surrogate cannot be stored as UTF-8: the journal would keep U+FFFD instead of what was acknowledged.
    postTransfer('reference with a lone surrogate', '{"id":"bad-1","debit":"alice","credit":"bob","amount":"1","reference":"a\\ud800b"}', 400, 'validation_failed'),

    // Amounts.
    postTransfer('amount as a JSON number (no coercion)', json(transfer({ amount: 100 })), 400, 'validation_failed'),
    postTransfer('amount as a JSON float', json(transfer({ amount: 1.5 })), 400, 'validation_failed'),
    postTransfer('amount as a number beyond 2^53', '{"id":"bad-1","debit":"alice","credit":"bob","amount":9223372036854775808}', 400, 'validation_failed'),
    postTransfer('amount as a boolean', json(transfer({ amount: true })), 400, 'validation_failed'),
    postTransfer('non-integer amount', json(transfer({ amount: '1.5' })), 400, 'validation_failed'),
    postTransfer('amount in exponent notation', json(transfer({ amount: '1e3' })), 400, 'validation_failed'),
    postTransfer('hexadecimal amount', json(transfer({ amount: '0x10' })), 400, 'validation_failed'),
    postTransfer('amount with a plus sign', json(transfer({ amount: '+5' })), 400, 'validation_failed'),
    postTransfer('amount with spaces', json(transfer({ amount: ' 5' })), 400, 'validation_failed'),
    postTransfer('empty amount', json(transfer({ amount: '' })), 400, 'validation_failed'),
    postTransfer('amount of 41 digits', json(transfer({ amount: '1'.repeat(41) })), 400, 'validation_failed'),
    postTransfer('zero amount', json(transfer({ amount: '0' })), 422, 'amount_must_be_positive'),
    postTransfer('amount "-0"', json(transfer({ amount: '-0' })), 422, 'amount_must_be_positive'),
    postTransfer('negative amount', json(transfer({ amount: '-5' })), 422, 'amount_must_be_positive'),
    postTransfer('amount below the 64-bit range', json(transfer({ amount: '-9223372036854775809' })), 422, 'amount_must_be_positive'),
    postTransfer('amount 2^63, just beyond the 64-bit range', json(transfer({ amount: '9223372036854775808' })), 422, 'amount_exceeds_maximum'),
    postTransfer('amount of 40 digits', json(transfer({ amount: '9'.repeat(40) })), 422, 'amount_exceeds_maximum'),
    postTransfer('amount 2^63-1 from an account that holds less', json(transfer({ credit: 'dave', amount: '9223372036854775807' })), 422, 'insufficient_funds'),
    postTransfer('amount that would push the credit balance beyond 64 bits', json(transfer({ amount: '9223372036854775807' })), 422, 'overflows_balance'),

    // Ledger rules.
    postTransfer('unknown debit account', json(transfer({ debit: 'nobody' })), 422, 'debit_account_not_found'),
    postTransfer('unknown credit account', json(transfer({ credit: 'nobody' })), 422, 'credit_account_not_found'),
    postTransfer('the same account on both sides', json(transfer({ credit: 'alice' })), 422, 'accounts_must_be_different'),
    postTransfer('asset mismatch (KZT to USD)', json(transfer({ credit: 'carol' })), 422, 'accounts_must_have_the_same_asset'),
    postTransfer('insufficient funds', json(transfer({ debit: 'dave', amount: '1' })), 422, 'insufficient_funds'),
    postTransfer('more than the available balance (pending reserved)', json(transfer({ amount: '9531' })), 422, 'insufficient_funds'),
    postTransfer('timeoutSeconds on a transfer that is not pending', json(transfer({ timeoutSeconds: 60 })), 422, 'timeout_reserved_for_pending_transfer'),
    postTransfer('debit from a frozen account', json(transfer({ debit: 'icy' })), 422, 'debit_account_not_active'),
    postTransfer('credit to a frozen account', json(transfer({ credit: 'icy' })), 422, 'credit_account_not_active'),
    postTransfer('pending debit from a frozen account', json(transfer({ debit: 'icy', pending: true })), 422, 'debit_account_not_active'),
    postTransfer('beyond the holding limit', json(transfer({ credit: 'capped', amount: '101' })), 422, 'limit_exceeded'),
    postTransfer('the same id with a different amount', json({ id: 't-posted', debit: 'alice', credit: 'bob', amount: '101', code: 7, reference: 'rent' }), 409, 'exists_with_different_fields'),
    postTransfer('the same id with a different reference', json({ id: 't-posted', debit: 'alice', credit: 'bob', amount: '100', code: 7, reference: 'Rent' }), 409, 'exists_with_different_fields'),
    postTransfer('the same id made pending', json({ id: 't-posted', debit: 'alice', credit: 'bob', amount: '100', code: 7, reference: 'rent', pending: true }), 409, 'exists_with_different_fields'),
    postTransfer('the id of a pending transfer with other accounts', json({ id: 'p-open', debit: 'bob', credit: 'alice', amount: '300', pending: true }), 409, 'exists_with_different_fields'),

    // Content type, size.
    postTransfer('text/plain content type', json(transfer()), 415, 'unsupported_media_type', { contentType: 'text/plain' }),
    postTransfer('a UTF-16 charset', json(transfer()), 415, 'unsupported_media_type', { contentType: 'application/json; charset=utf-16' }),
    postTransfer('a gzip content encoding', json(transfer()), 415, 'unsupported_media_type', { contentEncoding: 'gzip' }),
    {
      name: 'bytes that are not UTF-8 in a reference',
      method: 'POST',
      path: '/v1/transfers',
      body: Buffer.concat([Buffer.from('{"id":"bad-utf8","debit":"alice","credit":"bob","amount":"1","reference":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]),
      status: 400,
      code: 'malformed_json',
    },
    postTransfer('XML content type', '<transfer/>', 415, 'unsupported_media_type', { contentType: 'application/xml' }),
    postTransfer('form content type', 'id=bad-1&amount=1', 415, 'unsupported_media_type', { contentType: 'application/x-www-form-urlencoded' }),
    postTransfer('a body without a content type', json(transfer()), 415, 'unsupported_media_type', { contentType: null }),
    postTransfer('a 10 MiB body', json(transfer({ reference: 'r'.repeat(10 * 1024 * 1024) })), 413, 'body_too_large'),

    // Credentials.
    postTransfer('no token', json(transfer()), 401, 'unauthorized', { authorization: null }),
    postTransfer('a wrong token', json(transfer()), 401, 'unauthorized', { authorization: 'Bearer wrong-token-wrong-token-0000' }),
    postTransfer('the token minus its last character', json(transfer()), 401, 'unauthorized', { authorization: `Bearer ${testToken.slice(0, -1)}` }),
    postTransfer('the token with a suffix', json(transfer()), 401, 'unauthorized', { authorization: `Bearer ${testToken}x` }),
    postTransfer('an empty bearer', json(transfer()), 401, 'unauthorized', { authorization: 'Bearer ' }),
    postTransfer('the token without the Bearer scheme', json(transfer()), 401, 'unauthorized', { authorization: testToken }),
    postTransfer('the token as HTTP Basic outside /docs', json(transfer()), 401, 'unauthorized', { authorization: basic('operator', testToken) }),
    postTransfer('a 600-character bearer', json(transfer()), 401, 'unauthorized', { authorization: `Bearer ${'x'.repeat(600)}` }),
    postTransfer('a 10 MiB body without a token', json(transfer({ reference: 'r'.repeat(10 * 1024 * 1024) })), 401, 'unauthorized', { authorization: null }),
    { name: 'GET /v1/supply without a token', method: 'GET', path: '/v1/supply', authorization: null, status: 401, code: 'unauthorized' },
    { name: 'GET /v1/accounts/alice with a wrong token', method: 'GET', path: '/v1/accounts/alice', authorization: 'Bearer not-the-operator-token-at-all', status: 401, code: 'unauthorized' },
    { name: 'freeze without a token', method: 'POST', path: '/v1/accounts/alice/freeze', authorization: null, status: 401, code: 'unauthorized' },
    { name: 'post a pending transfer without a token', method: 'POST', path: '/v1/transfers/p-open/post', authorization: null, status: 401, code: 'unauthorized' },
    { name: 'void a pending transfer with a wrong token', method: 'POST', path: '/v1/transfers/p-open/void', authorization: 'Bearer nope-nope-nope-nope-nope', status: 401, code: 'unauthorized' },

    // Batches.
    { name: 'a batch of 8191 items', method: 'POST', path: '/v1/transfers/batch', body: batchOf(8191), status: 400, code: 'batch_too_large' },
    { name: 'an empty batch', method: 'POST', path: '/v1/transfers/batch', body: json({ transfers: [] }), status: 400, code: 'validation_failed' },
    { name: 'a batch that is not an array', method: 'POST', path: '/v1/transfers/batch', body: json({ transfers: transfer() }), status: 400, code: 'validation_failed' },
    { name: 'a bare array as a batch', method: 'POST', path: '/v1/transfers/batch', body: json([transfer()]), status: 400, code: 'validation_failed' },
    { name: 'a batch with an unknown top-level field', method: 'POST', path: '/v1/transfers/batch', body: json({ transfers: [transfer()], atomic: true }), status: 400, code: 'validation_failed' },
    { name: 'a batch item with a numeric amount', method: 'POST', path: '/v1/transfers/batch', body: json({ transfers: [transfer({ id: 'ok-1' }), transfer({ id: 'bad-2', amount: 5 })] }), status: 400, code: 'validation_failed' },
    { name: 'a batch item with an unknown field', method: 'POST', path: '/v1/transfers/batch', body: json({ transfers: [transfer({ id: 'ok-1' }), transfer({ id: 'bad-2', note: 'x' })] }), status: 400, code: 'validation_failed' },
    { name: 'a batch item with linked as a string', method: 'POST', path: '/v1/transfers/batch', body: json({ transfers: [transfer({ linked: 'true' }), transfer({ id: 'bad-2' })] }), status: 400, code: 'validation_failed' },
    { name: 'malformed JSON in a batch', method: 'POST', path: '/v1/transfers/batch', body: '{"transfers":[{"id":"x"},]}', status: 400, code: 'malformed_json' },

    // Post and void.
    { name: 'post an unknown transfer', method: 'POST', path: '/v1/transfers/nothing-here/post', status: 404, code: 'pending_transfer_not_found' },
    { name: 'void an unknown transfer', method: 'POST', path: '/v1/transfers/nothing-here/void', status: 404, code: 'pending_transfer_not_found' },
    { name: 'post a transfer that is not pending', method: 'POST', path: '/v1/transfers/t-posted/post', status: 409, code: 'pending_transfer_not_pending' },
    { name: 'void a transfer that is not pending', method: 'POST', path: '/v1/transfers/t-posted/void', status: 409, code: 'pending_transfer_not_pending' },
    { name: 'post more than the pending amount', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: '301' }), status: 422, code: 'amount_exceeds_pending_amount' },
    { name: 'post a zero amount', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: '0' }), status: 422, code: 'amount_must_be_positive' },
    { name: 'post a negative amount', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: '-1' }), status: 422, code: 'amount_must_be_positive' },
    { name: 'post an amount beyond 64 bits', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: '9223372036854775808' }), status: 422, code: 'amount_exceeds_maximum' },
    { name: 'post an amount as a JSON number', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: 100 }), status: 400, code: 'validation_failed' },
    { name: 'post a non-integer amount', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: '1.5' }), status: 400, code: 'validation_failed' },
    { name: 'post with an unknown field', method: 'POST', path: '/v1/transfers/p-open/post', body: json({ amount: '10', force: true }), status: 400, code: 'validation_failed' },
    { name: 'post with an array body', method: 'POST', path: '/v1/transfers/p-open/post', body: json([]), status: 400, code: 'validation_failed' },
    { name: 'post with malformed JSON', method: 'POST', path: '/v1/transfers/p-open/post', body: '{amount: 10}', status: 400, code: 'malformed_json' },
    { name: 'post with a text/plain body', method: 'POST', path: '/v1/transfers/p-open/post', body: '{"amount":"10"}', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
    { name: 'void with malformed JSON', method: 'POST', path: '/v1/transfers/p-open/void', body: 'not json', status: 400, code: 'malformed_json' },
    { name: 'post a voided transfer', method: 'POST', path: '/v1/transfers/p-voided/post', status: 409, code: 'pending_transfer_already_voided' },
    { name: 'void a posted transfer', method: 'POST', path: '/v1/transfers/p-posted/void', status: 409, code: 'pending_transfer_already_posted' },
    { name: 'post a posted transfer with another amount', method: 'POST', path: '/v1/transfers/p-posted/post', body: json({ amount: '69' }), status: 409, code: 'pending_transfer_already_posted' },
    { name: 'post a pending transfer whose debit account is frozen', method: 'POST', path: '/v1/transfers/p-icy/post', status: 422, code: 'debit_account_not_active' },

    // Path ids.
    { name: 'GET a transfer id with a space', method: 'GET', path: '/v1/transfers/a%20b', status: 400, code: 'validation_failed' },
    { name: 'GET a transfer id with an encoded slash', method: 'GET', path: '/v1/transfers/a%2Fb', status: 400, code: 'validation_failed' },
    { name: 'GET a transfer id of 65 characters', method: 'GET', path: `/v1/transfers/${'a'.repeat(65)}`, status: 400, code: 'validation_failed' },
    { name: 'GET a transfer id of 300 characters', method: 'GET', path: `/v1/transfers/${'a'.repeat(300)}`, status: 400, code: 'validation_failed' },
    { name: 'GET a transfer id that is not valid percent-encoding', method: 'GET', path: '/v1/transfers/%ff', status: 400, code: 'validation_failed' },
    { name: 'GET an account id with a truncated percent escape', method: 'GET', path: '/v1/accounts/ab%', status: 400, code: 'validation_failed' },
    { name: 'GET an account id with non-ASCII letters', method: 'GET', path: `/v1/accounts/${encodeURIComponent('алиса')}`, status: 400, code: 'validation_failed' },
    { name: 'GET an unknown account', method: 'GET', path: '/v1/accounts/nobody', status: 404, code: 'account_not_found' },
    { name: 'GET an unknown transfer', method: 'GET', path: '/v1/transfers/nothing-here', status: 404, code: 'transfer_not_found' },
    { name: 'post a path id with bad characters', method: 'POST', path: '/v1/transfers/p*open/post', status: 400, code: 'validation_failed' },
    { name: 'void a path id of 300 characters', method: 'POST', path: `/v1/transfers/${'p'.repeat(300)}/void`, status: 400, code: 'validation_failed' },
    { name: 'freeze a path id with bad characters', method: 'POST', path: '/v1/accounts/al%24ce/freeze', status: 400, code: 'validation_failed' },
    { name: 'freeze an unknown account', method: 'POST', path: '/v1/accounts/nobody/freeze', status: 404, code: 'account_not_found' },
    { name: 'unfreeze an unknown account', method: 'POST', path: '/v1/accounts/nobody/unfreeze', status: 404, code: 'account_not_found' },

    // Pagination.
    { name: 'limit 0', method: 'GET', path: '/v1/accounts/alice/transfers?limit=0', status: 400, code: 'validation_failed' },
    { name: 'limit 1001', method: 'GET', path: '/v1/accounts/alice/transfers?limit=1001', status: 400, code: 'validation_failed' },
    { name: 'limit 99999', method: 'GET', path: '/v1/accounts/alice/transfers?limit=99999', status: 400, code: 'validation_failed' },
    { name: 'limit not a number', method: 'GET', path: '/v1/accounts/alice/transfers?limit=ten', status: 400, code: 'validation_failed' },
    { name: 'negative limit', method: 'GET', path: '/v1/accounts/alice/transfers?limit=-1', status: 400, code: 'validation_failed' },
    { name: 'non-integer limit', method: 'GET', path: '/v1/accounts/alice/transfers?limit=1.5', status: 400, code: 'validation_failed' },
    { name: 'limit given twice', method: 'GET', path: '/v1/accounts/alice/transfers?limit=1&limit=2', status: 400, code: 'validation_failed' },
    { name: 'limit as a nested object', method: 'GET', path: '/v1/accounts/alice/transfers?limit[a]=1', status: 400, code: 'validation_failed' },
    { name: 'cursor 0', method: 'GET', path: '/v1/accounts/alice/transfers?cursor=0', status: 400, code: 'cursor_invalid' },
    { name: 'cursor beyond the safe integers', method: 'GET', path: '/v1/accounts/alice/transfers?cursor=9999999999999999', status: 400, code: 'cursor_invalid' },
    { name: 'cursor of 17 digits', method: 'GET', path: '/v1/accounts/alice/transfers?cursor=12345678901234567', status: 400, code: 'validation_failed' },
    { name: 'cursor not a number', method: 'GET', path: '/v1/accounts/alice/transfers?cursor=abc', status: 400, code: 'validation_failed' },
    { name: 'negative cursor', method: 'GET', path: '/v1/accounts/alice/transfers?cursor=-5', status: 400, code: 'validation_failed' },
    { name: 'empty cursor', method: 'GET', path: '/v1/accounts/alice/transfers?cursor=', status: 400, code: 'validation_failed' },
    { name: 'an unknown query parameter', method: 'GET', path: '/v1/accounts/alice/transfers?offset=10', status: 400, code: 'validation_failed' },
    { name: 'a __proto__ query parameter', method: 'GET', path: '/v1/accounts/alice/transfers?__proto__=1', status: 400, code: 'validation_failed' },
    { name: 'transfers of an unknown account', method: 'GET', path: '/v1/accounts/nobody/transfers', status: 404, code: 'account_not_found' },

    // Accounts.
    { name: 'account without an asset', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1' }), status: 400, code: 'validation_failed' },
    { name: 'account without an id', method: 'POST', path: '/v1/accounts', body: json({ asset: 'KZT' }), status: 400, code: 'validation_failed' },
    { name: 'account with a lower-case asset code', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'kzt' }), status: 400, code: 'validation_failed' },
    { name: 'account with an unknown asset', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'EUR' }), status: 422, code: 'asset_not_found' },
    { name: 'account with an id with bad characters', method: 'POST', path: '/v1/accounts', body: json({ id: 'new 1', asset: 'KZT' }), status: 400, code: 'validation_failed' },
    { name: 'account with allowNegative as a string', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'KZT', allowNegative: 'yes' }), status: 400, code: 'validation_failed' },
    { name: 'account with maxBalance as a number', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'KZT', maxBalance: 100 }), status: 400, code: 'validation_failed' },
    { name: 'account with a negative maxBalance', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'KZT', maxBalance: '-1' }), status: 422, code: 'max_balance_invalid' },
    { name: 'account with maxBalance beyond 64 bits', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'KZT', maxBalance: '9223372036854775808' }), status: 422, code: 'max_balance_invalid' },
    { name: 'account with maxBalance and allowNegative', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'KZT', maxBalance: '5', allowNegative: true }), status: 422, code: 'max_balance_invalid' },
    { name: 'account with an unknown field', method: 'POST', path: '/v1/accounts', body: json({ id: 'new-1', asset: 'KZT', owner: 'x' }), status: 400, code: 'validation_failed' },
    { name: 'existing account id with another asset', method: 'POST', path: '/v1/accounts', body: json({ id: 'alice', asset: 'USD' }), status: 409, code: 'exists_with_different_fields' },
    { name: 'existing account id with another limit', method: 'POST', path: '/v1/accounts', body: json({ id: 'capped', asset: 'KZT', maxBalance: '101' }), status: 409, code: 'exists_with_different_fields' },
    { name: 'existing issuance account without allowNegative', method: 'POST', path: '/v1/accounts', body: json({ id: 'cb:issuance', asset: 'KZT' }), status: 409, code: 'exists_with_different_fields' },

    // Assets.
    { name: 'asset with a lower-case code', method: 'POST', path: '/v1/assets', body: json({ code: 'eur', scale: 2 }), status: 400, code: 'validation_failed' },
    { name: 'asset with a one-letter code', method: 'POST', path: '/v1/assets', body: json({ code: 'E', scale: 2 }), status: 400, code: 'validation_failed' },
    { name: 'asset with a 25-character code', method: 'POST', path: '/v1/assets', body: json({ code: `E${'U'.repeat(24)}`, scale: 2 }), status: 400, code: 'validation_failed' },
    { name: 'asset with scale 19', method: 'POST', path: '/v1/assets', body: json({ code: 'EUR', scale: 19 }), status: 400, code: 'validation_failed' },
    { name: 'asset with a negative scale', method: 'POST', path: '/v1/assets', body: json({ code: 'EUR', scale: -1 }), status: 400, code: 'validation_failed' },
    { name: 'asset with scale as a string', method: 'POST', path: '/v1/assets', body: json({ code: 'EUR', scale: '2' }), status: 400, code: 'validation_failed' },
    { name: 'asset with a fractional scale', method: 'POST', path: '/v1/assets', body: json({ code: 'EUR', scale: 2.5 }), status: 400, code: 'validation_failed' },
    { name: 'asset with an overflowing scale', method: 'POST', path: '/v1/assets', body: '{"code":"EUR","scale":1e400}', status: 400, code: 'validation_failed' },
    { name: 'asset without a scale', method: 'POST', path: '/v1/assets', body: json({ code: 'EUR' }), status: 400, code: 'validation_failed' },
    { name: 'asset with an unknown field', method: 'POST', path: '/v1/assets', body: json({ code: 'EUR', scale: 2, name: 'Euro' }), status: 400, code: 'validation_failed' },
    { name: 'existing asset with another scale', method: 'POST', path: '/v1/assets', body: json({ code: 'KZT', scale: 3 }), status: 409, code: 'exists_with_different_fields' },

    // Routes.
    { name: 'an unknown route', method: 'GET', path: '/v1/balances', status: 404, code: 'route_not_found' },
    { name: 'a known path with an unsupported method', method: 'DELETE', path: '/v1/accounts/alice', status: 404, code: 'route_not_found' },
    { name: 'PUT on the transfers collection', method: 'PUT', path: '/v1/transfers', body: json(transfer()), status: 404, code: 'route_not_found' },
  ];

  describe('bad input over real HTTP', () => {
    it('has unique case names', () => {
      expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    });

    it.each(cases)('$name -> $status $code', async (badCase) => {
      const before = await snapshot();
      const response = await send(badCase);
      expect(response.status, `${badCase.method} ${badCase.path.slice(0, 80)}: ${response.status} ${response.text.slice(0, 300)}`).toBeLessThan(500);
      const problem = expectProblem(response, badCase.status, badCase.code);
      if (badCase.status === 401) expect(response.headers['www-authenticate']).toBe('Bearer realm="tengri"');
      if (badCase.code === 'validation_failed') expect(Array.isArray(problem.errors) && problem.errors.length > 0).toBe(true);
      expect(await snapshot()).toEqual(before);
    });

    it('a batch whose items are all rejected answers 200 with one code per item and changes nothing', async () => {
      const before = await snapshot();
      const response = await postJson('/v1/transfers/batch', {
        transfers: [
          transfer({ id: 'rb-1', amount: '0' }),
          transfer({ id: 'rb-2', credit: 'alice' }),
          transfer({ id: 'rb-3', credit: 'carol' }),
          transfer({ id: 'rb-4', debit: 'dave' }),
          transfer({ id: 'rb-5', amount: '9223372036854775808' }),
          transfer({ id: 'rb-6', credit: 'icy' }),
          { id: 't-posted', debit: 'alice', credit: 'bob', amount: '1' },
          transfer({ id: 'rb-7', linked: true }),
          transfer({ id: 'rb-8', debit: 'nobody' }),
          transfer({ id: 'rb-9', linked: true }),
        ],
      });
      expect(response.status, response.text).toBe(200);
      expect(JSON.parse(response.text)).toEqual({
        results: [
          { id: 'rb-1', status: 'rejected', code: 'amount_must_be_positive' },
          { id: 'rb-2', status: 'rejected', code: 'accounts_must_be_different' },
          { id: 'rb-3', status: 'rejected', code: 'accounts_must_have_the_same_asset' },
          { id: 'rb-4', status: 'rejected', code: 'insufficient_funds' },
          { id: 'rb-5', status: 'rejected', code: 'amount_exceeds_maximum' },
          { id: 'rb-6', status: 'rejected', code: 'credit_account_not_active' },
          { id: 't-posted', status: 'rejected', code: 'exists_with_different_fields' },
          { id: 'rb-7', status: 'rejected', code: 'linked_event_failed' },
          { id: 'rb-8', status: 'rejected', code: 'debit_account_not_found' },
          { id: 'rb-9', status: 'rejected', code: 'linked_event_chain_open' },
        ],
      });
      expect(await snapshot()).toEqual(before);
    });
  });

  // ---- random input -----------------------------------------------------------------------------

  const bodyEndpoints = ['/v1/transfers', '/v1/transfers/batch', '/v1/accounts', '/v1/assets'] as const;

  /** Non-string JSON values: always invalid where the schema wants a string. */
  const notAString = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue(), { maxKeys: 3 }),
  );

  /** Valid-looking bodies with exactly one thing wrong: a required string field holds a non-string, or an unknown field is added. */
  const nearlyValid = fc.oneof(
    fc.record({ field: fc.constantFrom('id', 'debit', 'credit', 'amount'), value: notAString }).map(({ field, value }) => ({
      path: '/v1/transfers',
      body: JSON.stringify({ ...transfer({ id: 'fuzz-1' }), [field]: value }),
    })),
    fc.record({ field: fc.constantFrom('id', 'debit', 'credit', 'amount'), value: notAString }).map(({ field, value }) => ({
      path: '/v1/transfers/batch',
      body: JSON.stringify({ transfers: [transfer({ id: 'fuzz-0' }), { ...transfer({ id: 'fuzz-1' }), [field]: value }] }),
    })),
    fc.record({ field: fc.constantFrom('id', 'asset'), value: notAString }).map(({ field, value }) => ({
      path: '/v1/accounts',
      body: JSON.stringify({ id: 'fuzz-account', asset: 'KZT', [field]: value }),
    })),
    fc.record({ value: fc.oneof(fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.double({ min: 0.1, max: 17.9, noInteger: true })) }).map(
      ({ value }) => ({ path: '/v1/assets', body: JSON.stringify({ code: 'FUZZ', scale: value }) }),
    ),
    fc
      .record({
        endpoint: fc.constantFrom(...bodyEndpoints),
        key: fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !['id', 'debit', 'credit', 'amount', 'pending', 'timeoutSeconds', 'code', 'reference', 'linked', 'asset', 'allowNegative', 'maxBalance', 'scale', 'transfers'].includes(key)),
        value: fc.jsonValue(),
      })
      .map(({ endpoint, key, value }) => {
        const valid: Record<(typeof bodyEndpoints)[number], Record<string, unknown>> = {
          '/v1/transfers': transfer({ id: 'fuzz-1' }),
          '/v1/transfers/batch': { transfers: [transfer({ id: 'fuzz-1' })] },
          '/v1/accounts': { id: 'fuzz-account', asset: 'KZT' },
          '/v1/assets': { code: 'FUZZ', scale: 2 },
        };
        const body = { ...valid[endpoint] };
        Object.defineProperty(body, key, { value, enumerable: true, configurable: true, writable: true });
        return { path: endpoint, body: JSON.stringify(body) };
      }),
  );

  describe('random bodies', () => {
    let sequenceBefore = 0;
    let stateBefore: unknown;
    beforeEach(async () => {
      sequenceBefore = await journalSequence();
      stateBefore = await snapshot();
    });

    async function expectRejected(path: string, body: string): Promise<void> {
      const response = await send({ method: 'POST', path, body });
      const context = `POST ${path} ${body.slice(0, 200)} -> ${response.status} ${response.text.slice(0, 200)}`;
      expect(response.status, context).toBeGreaterThanOrEqual(400);
      expect(response.status, context).toBeLessThan(500);
      expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json(;|$)/);
      const problem = JSON.parse(response.text) as { code?: unknown; status?: unknown; type?: unknown };
      expect(knownCodes.has(String(problem.code)), context).toBe(true);
      expect(problem.status, context).toBe(response.status);
      expect(problem.type, context).toBe(`urn:tengri:problem:${String(problem.code)}`);
      // Nothing was journaled, so no balance, transfer or account changed.
      expect(await journalSequence(), context).toBe(sequenceBefore);
    }

    const endpoint = fc.constantFrom(...bodyEndpoints);
    const runs = { numRuns: 200 };

    it('arbitrary JSON documents are refused with a 4xx problem', async () => {
      await fc.assert(fc.asyncProperty(endpoint, fc.json(), (path, body) => expectRejected(path, body)), runs);
      expect(await snapshot()).toEqual(stateBefore);
    });

    it('arbitrary values serialised as JSON are refused with a 4xx problem', async () => {
      await fc.assert(
        fc.asyncProperty(endpoint, fc.anything(), (path, value) => expectRejected(path, JSON.stringify(value) ?? '')),
        runs,
      );
      expect(await snapshot()).toEqual(stateBefore);
    });

    it('arbitrary strings sent as JSON are refused with a 4xx problem', async () => {
      await fc.assert(
        fc.asyncProperty(endpoint, fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme-ascii', maxLength: 200 })), (path, body) =>
          expectRejected(path, body),
        ),
        runs,
      );
      expect(await snapshot()).toEqual(stateBefore);
    });

    it('valid-looking bodies with one wrongly typed or unknown field are refused with a 4xx problem', async () => {
      await fc.assert(fc.asyncProperty(nearlyValid, ({ path, body }) => expectRejected(path, body)), runs);
      expect(await snapshot()).toEqual(stateBefore);
    });
  });
});
