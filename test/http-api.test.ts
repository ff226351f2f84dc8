// Proves the HTTP API's happy paths work as a user would use them: auth, assets, accounts, transfers, linked batches, two-phase post/void/expiry, pagination, supply, OpenAPI, metrics, freezing, holding limits and issuance accounts.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/store.ts';
import { describeEachBackend, startInProcess, testToken, type InProcess } from './support/servers.ts';

type Method = 'GET' | 'POST';
type Json = Record<string, unknown>;

// Every suite below runs once on each journal backend: SQLite, and PostgreSQL on a real server.
describeEachBackend((backend) => {
  let server: InProcess;

  beforeAll(async () => {
    server = await startInProcess({ backend });
  });

  afterAll(async () => {
    await server?.close();
  });

  function call(method: Method, url: string, body?: unknown, headers: Record<string, string> = server.auth): Promise<LightMyRequestResponse> {
    return server.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as Json }) });
  }

  /** Calls and asserts the status, returning the parsed JSON body. */
  async function expectStatus(method: Method, url: string, body: unknown, status: number): Promise<Json> {
    const response = await call(method, url, body);
    expect(response.statusCode, `${method} ${url} ${JSON.stringify(body)} -> ${response.body.slice(0, 400)}`).toBe(status);
    return response.json<Json>();
  }

  async function expectProblem(method: Method, url: string, body: unknown, status: number, code: string): Promise<Json> {
    const response = await call(method, url, body);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<Json>();
    expect(problem).toMatchObject({ type: `urn:tengri:problem:${code}`, status, code });
    return problem;
  }

  async function account(id: string): Promise<Json> {
    return expectStatus('GET', `/v1/accounts/${encodeURIComponent(id)}`, undefined, 200);
  }

  async function balances(...ids: string[]): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    for (const id of ids) result[id] = (await account(id)).balance as string;
    return result;
  }

  async function openAccount(id: string, fields: Json = {}): Promise<void> {
    await expectStatus('POST', '/v1/accounts', { id, asset: 'KZT', ...fields }, 201);
  }

  async function issue(id: string, to: string, amount: string): Promise<Json> {
    return expectStatus('POST', '/v1/transfers', { id, debit: 'cb:issuance', credit: to, amount }, 201);
  }

  const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  describe('health and authentication', () => {
    it('GET /health needs no token and reports the role', async () => {
      const response = await server.app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok', role: 'leader', version: '0.1.0', store: backend, journalSequence: server.sequencer.journalHead!.sequence });
      expect(server.sequencer.journalHead!.sequence).toBeGreaterThan(0);
    });

    const protectedEndpoints: { method: Method; url: string; body?: Json }[] = [
      { method: 'GET', url: '/metrics' },
      { method: 'GET', url: '/openapi.json' },
      { method: 'GET', url: '/v1/supply' },
      { method: 'GET', url: '/v1/assets' },
      { method: 'POST', url: '/v1/assets', body: { code: 'AUTHX', scale: 2 } },
      { method: 'POST', url: '/v1/accounts', body: { id: 'auth-probe', asset: 'KZT' } },
      { method: 'GET', url: '/v1/accounts/cb:issuance' },
      { method: 'GET', url: '/v1/accounts/cb:issuance/transfers' },
      { method: 'POST', url: '/v1/accounts/cb:issuance/freeze' },
      { method: 'POST', url: '/v1/accounts/cb:issuance/unfreeze' },
      { method: 'POST', url: '/v1/transfers', body: { id: 'auth-probe', debit: 'cb:issuance', credit: 'auth-probe', amount: '1' } },
      { method: 'POST', url: '/v1/transfers/batch', body: { transfers: [{ id: 'auth-probe-2', debit: 'cb:issuance', credit: 'auth-probe', amount: '1' }] } },
      { method: 'GET', url: '/v1/transfers/auth-probe' },
      { method: 'POST', url: '/v1/transfers/auth-probe/post' },
      { method: 'POST', url: '/v1/transfers/auth-probe/void' },
    ];
    const wrongCredentials: { name: string; headers: Record<string, string> }[] = [
      { name: 'no token', headers: {} },
      { name: 'a wrong token', headers: { authorization: 'Bearer this-is-not-the-operator-token' } },
      { name: 'the right token with the wrong scheme', headers: { authorization: `Token ${testToken}` } },
    ];

    for (const credentials of wrongCredentials) {
      it.each(protectedEndpoints)(`$method $url answers 401 with ${credentials.name}`, async ({ method, url, body }) => {
        const response = await call(method, url, body, credentials.headers);
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.headers['www-authenticate']).toBe('Bearer realm="tengri"');
        expect(response.json()).toMatchObject({ type: 'urn:tengri:problem:unauthorized', status: 401, code: 'unauthorized' });
      });
    }

    it('requests refused for lack of credentials changed nothing', async () => {
      await expectProblem('GET', '/v1/accounts/auth-probe', undefined, 404, 'account_not_found');
      await expectProblem('GET', '/v1/transfers/auth-probe', undefined, 404, 'transfer_not_found');
      await expectProblem('GET', '/v1/transfers/auth-probe-2', undefined, 404, 'transfer_not_found');
      expect((await account('cb:issuance')).status).toBe('active');
      const assets = await expectStatus('GET', '/v1/assets', undefined, 200);
      expect((assets.assets as Json[]).map((asset) => asset.code)).not.toContain('AUTHX');
    });

    it('/docs asks for HTTP Basic and accepts the token as the password', async () => {
      const anonymous = await server.app.inject({ method: 'GET', url: '/docs' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Basic realm="tengri", charset="UTF-8"');
      expect(anonymous.json()).toMatchObject({ code: 'unauthorized' });

      const basic = (password: string): string => `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`;
      const wrong = await server.app.inject({ method: 'GET', url: '/docs', headers: { authorization: basic('wrong-password-wrong-password') } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['www-authenticate']).toBe('Basic realm="tengri", charset="UTF-8"');

      const right = await server.app.inject({ method: 'GET', url: '/docs', headers: { authorization: basic(testToken) } });
      expect(right.statusCode).toBe(200);
      expect(right.headers['content-type']).toMatch(/^text\/html/);
      expect(right.body).toContain('Swagger UI');

      const bearer = await server.app.inject({ method: 'GET', url: '/docs', headers: server.auth });
      expect(bearer.statusCode).toBe(200);

      // Basic is only for the docs UI: the API itself still wants the bearer token.
      const basicOnApi = await server.app.inject({ method: 'GET', url: '/v1/supply', headers: { authorization: basic(testToken) } });
      expect(basicOnApi.statusCode).toBe(401);
    });
  });

  describe('assets', () => {
    it('lists the genesis asset, creates a new one idempotently and refuses a conflicting one', async () => {
      const initial = await expectStatus('GET', '/v1/assets', undefined, 200);
      expect(initial.assets).toContainEqual({ code: 'KZT', scale: 2 });
      expect(initial.assets).not.toContainEqual(expect.objectContaining({ code: 'USD' }));

      expect(await expectStatus('POST', '/v1/assets', { code: 'USD', scale: 2 }, 201)).toEqual({ code: 'USD', scale: 2 });
      expect(await expectStatus('POST', '/v1/assets', { code: 'USD', scale: 2 }, 200)).toEqual({ code: 'USD', scale: 2 });
      await expectProblem('POST', '/v1/assets', { code: 'USD', scale: 0 }, 409, 'exists_with_different_fields');
      expect(await expectStatus('POST', '/v1/assets', { code: 'GOLD_G', scale: 0 }, 201)).toEqual({ code: 'GOLD_G', scale: 0 });

      const listed = await expectStatus('GET', '/v1/assets', undefined, 200);
      const codes = (listed.assets as Json[]).map((asset) => asset.code as string);
      expect(codes).toEqual([...codes].sort());
      expect(listed.assets).toContainEqual({ code: 'USD', scale: 2 });
      expect(listed.assets).toContainEqual({ code: 'GOLD_G', scale: 0 });
      expect(codes.filter((code) => code === 'USD')).toHaveLength(1);
    });
  });

  describe('accounts', () => {
    it('creates an account, answers 200 to the same request again and 409 to different fields', async () => {
      const created = await expectStatus('POST', '/v1/accounts', { id: 'acc:alice', asset: 'KZT' }, 201);
      expect(created).toEqual({
        id: 'acc:alice',
        asset: 'KZT',
        balance: '0',
        pendingDebits: '0',
        pendingCredits: '0',
        available: '0',
        allowNegative: false,
        maxBalance: null,
        status: 'active',
        createdAt: expect.stringMatching(isoTime),
      });
      expect(await expectStatus('POST', '/v1/accounts', { id: 'acc:alice', asset: 'KZT' }, 200)).toEqual(created);
      expect(await expectStatus('POST', '/v1/accounts', { id: 'acc:alice', asset: 'KZT', allowNegative: false }, 200)).toEqual(created);
      await expectProblem('POST', '/v1/accounts', { id: 'acc:alice', asset: 'KZT', maxBalance: '100' }, 409, 'exists_with_different_fields');
      await expectProblem('POST', '/v1/accounts', { id: 'acc:alice', asset: 'KZT', allowNegative: true }, 409, 'exists_with_different_fields');
      expect(await account('acc:alice')).toEqual(created);
      await expectProblem('GET', '/v1/accounts/acc:nobody', undefined, 404, 'account_not_found');
    });

    it('reports a holding limit as a string', async () => {
      const created = await expectStatus('POST', '/v1/accounts', { id: 'acc:limited', asset: 'KZT', maxBalance: '5000' }, 201);
      expect(created).toMatchObject({ maxBalance: '5000', allowNegative: false });
    });
  });

  describe('single transfers', () => {
    beforeAll(async () => {
      await openAccount('st:alice');
      await openAccount('st:bob');
    });

    it('creates a transfer (201), answers a retry with the same body 200 with the same record, and refuses a different body (409)', async () => {
      const body = { id: 'st-1', debit: 'cb:issuance', credit: 'st:alice', amount: '10000', code: 7, reference: 'initial issuance' };
      const created = await expectStatus('POST', '/v1/transfers', body, 201);
      expect(created).toEqual({
        id: 'st-1',
        debit: 'cb:issuance',
        credit: 'st:alice',
        asset: 'KZT',
        amount: '10000',
        pending: false,
        status: 'posted',
        postedAmount: null,
        timeoutSeconds: 0,
        expiresAt: null,
        resolvedAt: null,
        code: 7,
        reference: 'initial issuance',
        timestamp: expect.stringMatching(isoTime),
        sequence: expect.any(Number),
      });
      expect(await balances('st:alice')).toEqual({ 'st:alice': '10000' });

      const retried = await expectStatus('POST', '/v1/transfers', body, 200);
      expect(retried).toEqual(created);
      expect(await balances('st:alice')).toEqual({ 'st:alice': '10000' });

      await expectProblem('POST', '/v1/transfers', { ...body, amount: '10001' }, 409, 'exists_with_different_fields');
      await expectProblem('POST', '/v1/transfers', { ...body, reference: 'other' }, 409, 'exists_with_different_fields');
      await expectProblem('POST', '/v1/transfers', { ...body, credit: 'st:bob' }, 409, 'exists_with_different_fields');
      expect(await balances('st:alice', 'st:bob')).toEqual({ 'st:alice': '10000', 'st:bob': '0' });
      expect(await expectStatus('GET', '/v1/transfers/st-1', undefined, 200)).toEqual(created);
    });

    it('moves money between accounts and assigns increasing sequences', async () => {
      const first = await expectStatus('POST', '/v1/transfers', { id: 'st-2', debit: 'st:alice', credit: 'st:bob', amount: '2500' }, 201);
      const second = await expectStatus('POST', '/v1/transfers', { id: 'st-3', debit: 'st:bob', credit: 'st:alice', amount: '500' }, 201);
      expect(second.sequence as number).toBe((first.sequence as number) + 1);
      expect(await account('st:alice')).toMatchObject({ balance: '8000', available: '8000' });
      expect(await account('st:bob')).toMatchObject({ balance: '2000', available: '2000' });
      await expectProblem('POST', '/v1/transfers', { id: 'st-4', debit: 'st:bob', credit: 'st:alice', amount: '2001' }, 422, 'insufficient_funds');
      await expectProblem('GET', '/v1/transfers/st-4', undefined, 404, 'transfer_not_found');
      expect(await balances('st:alice', 'st:bob')).toEqual({ 'st:alice': '8000', 'st:bob': '2000' });
    });

    it('keeps a non-ASCII reference exactly as sent', async () => {
      const reference = 'Оплата аренды 🏠 №5';
      const created = await expectStatus('POST', '/v1/transfers', { id: 'st-5', debit: 'st:alice', credit: 'st:bob', amount: '1', reference }, 201);
      expect(created.reference).toBe(reference);
      expect((await expectStatus('GET', '/v1/transfers/st-5', undefined, 200)).reference).toBe(reference);
      expect(await expectStatus('POST', '/v1/transfers', { id: 'st-5', debit: 'st:alice', credit: 'st:bob', amount: '1', reference }, 200)).toEqual(created);
    });
  });

  describe('batches with linked chains', () => {
    beforeAll(async () => {
      await openAccount('lb:alice');
      await openAccount('lb:bob');
      await openAccount('lb:carol');
      await issue('lb-issue', 'lb:alice', '1000');
    });

    it('applies a successful chain and independent items together', async () => {
      const response = await expectStatus(
        'POST',
        '/v1/transfers/batch',
        {
          transfers: [
            { id: 'lb-1', debit: 'lb:alice', credit: 'lb:bob', amount: '100', linked: true },
            { id: 'lb-2', debit: 'lb:bob', credit: 'lb:carol', amount: '40' },
            { id: 'lb-3', debit: 'lb:alice', credit: 'lb:carol', amount: '10' },
            { id: 'lb-issue', debit: 'cb:issuance', credit: 'lb:alice', amount: '1000' },
          ],
        },
        200,
      );
      expect(response).toEqual({
        results: [
          { id: 'lb-1', status: 'created' },
          { id: 'lb-2', status: 'created' },
          { id: 'lb-3', status: 'created' },
          { id: 'lb-issue', status: 'exists' },
        ],
      });
      expect(await balances('lb:alice', 'lb:bob', 'lb:carol')).toEqual({ 'lb:alice': '890', 'lb:bob': '60', 'lb:carol': '50' });
    });

    it('rolls back a whole chain when one member fails: the failing item gets its own code, the others linked_event_failed', async () => {
      const response = await expectStatus(
        'POST',
        '/v1/transfers/batch',
        {
          transfers: [
            { id: 'lb-4', debit: 'lb:alice', credit: 'lb:bob', amount: '5' },
            { id: 'lb-5', debit: 'lb:alice', credit: 'lb:bob', amount: '300', linked: true },
            { id: 'lb-6', debit: 'lb:bob', credit: 'lb:carol', amount: '200', linked: true },
            { id: 'lb-7', debit: 'lb:carol', credit: 'lb:alice', amount: '9999', linked: true },
            { id: 'lb-8', debit: 'lb:carol', credit: 'lb:bob', amount: '1' },
            { id: 'lb-9', debit: 'lb:carol', credit: 'lb:alice', amount: '7' },
          ],
        },
        200,
      );
      expect(response).toEqual({
        results: [
          { id: 'lb-4', status: 'created' },
          { id: 'lb-5', status: 'rejected', code: 'linked_event_failed' },
          { id: 'lb-6', status: 'rejected', code: 'linked_event_failed' },
          { id: 'lb-7', status: 'rejected', code: 'insufficient_funds' },
          { id: 'lb-8', status: 'rejected', code: 'linked_event_failed' },
          { id: 'lb-9', status: 'created' },
        ],
      });
      // Only lb-4 and lb-9 moved money.
      expect(await balances('lb:alice', 'lb:bob', 'lb:carol')).toEqual({ 'lb:alice': '892', 'lb:bob': '65', 'lb:carol': '43' });
      for (const id of ['lb-5', 'lb-6', 'lb-7', 'lb-8']) await expectProblem('GET', `/v1/transfers/${id}`, undefined, 404, 'transfer_not_found');
      // The rolled-back ids are free: the same chain without the failing amount now succeeds.
      const retry = await expectStatus(
        'POST',
        '/v1/transfers/batch',
        {
          transfers: [
            { id: 'lb-5', debit: 'lb:alice', credit: 'lb:bob', amount: '300', linked: true },
            { id: 'lb-6', debit: 'lb:bob', credit: 'lb:carol', amount: '200' },
          ],
        },
        200,
      );
      expect(retry).toEqual({ results: [{ id: 'lb-5', status: 'created' }, { id: 'lb-6', status: 'created' }] });
      expect(await balances('lb:alice', 'lb:bob', 'lb:carol')).toEqual({ 'lb:alice': '592', 'lb:bob': '165', 'lb:carol': '243' });
    });

    it('refuses a chain left open at the end of the batch', async () => {
      const response = await expectStatus(
        'POST',
        '/v1/transfers/batch',
        {
          transfers: [
            { id: 'lb-10', debit: 'lb:alice', credit: 'lb:bob', amount: '2' },
            { id: 'lb-11', debit: 'lb:alice', credit: 'lb:bob', amount: '3', linked: true },
            { id: 'lb-12', debit: 'lb:bob', credit: 'lb:carol', amount: '4', linked: true },
          ],
        },
        200,
      );
      expect(response).toEqual({
        results: [
          { id: 'lb-10', status: 'created' },
          { id: 'lb-11', status: 'rejected', code: 'linked_event_failed' },
          { id: 'lb-12', status: 'rejected', code: 'linked_event_chain_open' },
        ],
      });
      expect(await balances('lb:alice', 'lb:bob', 'lb:carol')).toEqual({ 'lb:alice': '590', 'lb:bob': '167', 'lb:carol': '243' });
    });

    it('accepts a batch of exactly 8190 items', async () => {
      await openAccount('lb:many');
      const transfers = Array.from({ length: 8190 }, (_, index) => ({ id: `lb-many-${index}`, debit: 'cb:issuance', credit: 'lb:many', amount: '1' }));
      const response = await expectStatus('POST', '/v1/transfers/batch', { transfers }, 200);
      const results = response.results as Json[];
      expect(results).toHaveLength(8190);
      expect(results.every((result, index) => result.id === `lb-many-${index}` && result.status === 'created')).toBe(true);
      expect((await account('lb:many')).balance).toBe('8190');
    });
  });

  describe('two-phase transfers', () => {
    beforeAll(async () => {
      await openAccount('tp:payer');
      await openAccount('tp:payee');
      await issue('tp-issue', 'tp:payer', '10000');
    });

    const pending = (id: string, amount: string, extra: Json = {}): Promise<Json> =>
      expectStatus('POST', '/v1/transfers', { id, debit: 'tp:payer', credit: 'tp:payee', amount, pending: true, ...extra }, 201);

    it('reserves on create and moves the full amount on post; a repeated post is idempotent', async () => {
      const created = await pending('tp-1', '1000');
      expect(created).toMatchObject({ status: 'pending', pending: true, postedAmount: null, resolvedAt: null, expiresAt: null });
      expect(await account('tp:payer')).toMatchObject({ balance: '10000', pendingDebits: '1000', available: '9000' });
      expect(await account('tp:payee')).toMatchObject({ balance: '0', pendingCredits: '1000', available: '0' });

      const posted = await expectStatus('POST', '/v1/transfers/tp-1/post', undefined, 200);
      expect(posted).toMatchObject({ id: 'tp-1', status: 'posted', amount: '1000', postedAmount: '1000', resolvedAt: expect.stringMatching(isoTime) });
      expect(posted.sequence).toBe(created.sequence);
      expect(await account('tp:payer')).toMatchObject({ balance: '9000', pendingDebits: '0', available: '9000' });
      expect(await account('tp:payee')).toMatchObject({ balance: '1000', pendingCredits: '0' });

      expect(await expectStatus('POST', '/v1/transfers/tp-1/post', undefined, 200)).toEqual(posted);
      expect(await expectStatus('POST', '/v1/transfers/tp-1/post', { amount: '1000' }, 200)).toEqual(posted);
      expect(await balances('tp:payer', 'tp:payee')).toEqual({ 'tp:payer': '9000', 'tp:payee': '1000' });
      await expectProblem('POST', '/v1/transfers/tp-1/void', undefined, 409, 'pending_transfer_already_posted');
    });

    it('posts part of a reservation and releases the rest', async () => {
      await pending('tp-2', '1000');
      const posted = await expectStatus('POST', '/v1/transfers/tp-2/post', { amount: '400' }, 200);
      expect(posted).toMatchObject({ status: 'posted', amount: '1000', postedAmount: '400' });
      expect(await account('tp:payer')).toMatchObject({ balance: '8600', pendingDebits: '0', available: '8600' });
      expect(await account('tp:payee')).toMatchObject({ balance: '1400', pendingCredits: '0' });
      expect(await expectStatus('POST', '/v1/transfers/tp-2/post', { amount: '400' }, 200)).toEqual(posted);
      await expectProblem('POST', '/v1/transfers/tp-2/post', { amount: '500' }, 409, 'pending_transfer_already_posted');
      await expectProblem('POST', '/v1/transfers/tp-2/post', undefined, 409, 'pending_transfer_already_posted');
      expect(await balances('tp:payer', 'tp:payee')).toEqual({ 'tp:payer': '8600', 'tp:payee': '1400' });
    });

    it('accepts an empty JSON body on post, as curl sends it', async () => {
      await pending('tp-3', '10');
      const response = await server.app.inject({
        method: 'POST',
        url: '/v1/transfers/tp-3/post',
        headers: { ...server.auth, 'content-type': 'application/json' },
        payload: '',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ status: 'posted', postedAmount: '10' });
      expect(await balances('tp:payer', 'tp:payee')).toEqual({ 'tp:payer': '8590', 'tp:payee': '1410' });
    });

    it('voids a reservation; a repeated void is idempotent and a post after the void is refused', async () => {
      await pending('tp-4', '700');
      expect(await account('tp:payer')).toMatchObject({ pendingDebits: '700', available: '7890' });
      const voided = await expectStatus('POST', '/v1/transfers/tp-4/void', undefined, 200);
      expect(voided).toMatchObject({ status: 'voided', postedAmount: null, resolvedAt: expect.stringMatching(isoTime) });
      expect(await account('tp:payer')).toMatchObject({ balance: '8590', pendingDebits: '0', available: '8590' });
      expect(await account('tp:payee')).toMatchObject({ balance: '1410', pendingCredits: '0' });
      expect(await expectStatus('POST', '/v1/transfers/tp-4/void', undefined, 200)).toEqual(voided);
      await expectProblem('POST', '/v1/transfers/tp-4/post', undefined, 409, 'pending_transfer_already_voided');
      expect(await balances('tp:payer', 'tp:payee')).toEqual({ 'tp:payer': '8590', 'tp:payee': '1410' });
    });

    it('a reservation counts against the available balance', async () => {
      await pending('tp-5', '8000');
      await expectProblem(
        'POST',
        '/v1/transfers',
        { id: 'tp-6', debit: 'tp:payer', credit: 'tp:payee', amount: '591' },
        422,
        'insufficient_funds',
      );
      await expectStatus('POST', '/v1/transfers', { id: 'tp-6', debit: 'tp:payer', credit: 'tp:payee', amount: '590' }, 201);
      await expectStatus('POST', '/v1/transfers/tp-5/void', undefined, 200);
      expect(await account('tp:payer')).toMatchObject({ balance: '8000', pendingDebits: '0', available: '8000' });
    });

    it('a pending transfer with timeoutSeconds 1 expires by itself and releases its reservation', async () => {
      await openAccount('tp:short');
      await issue('tp-short-issue', 'tp:short', '500');
      const created = await expectStatus(
        'POST',
        '/v1/transfers',
        { id: 'tp-exp', debit: 'tp:short', credit: 'tp:payee', amount: '300', pending: true, timeoutSeconds: 1 },
        201,
      );
      const createdAt = Date.parse(created.timestamp as string);
      expect(created).toMatchObject({ status: 'pending', timeoutSeconds: 1 });
      expect(Date.parse(created.expiresAt as string)).toBe(createdAt + 1000);
      expect(await account('tp:short')).toMatchObject({ pendingDebits: '300', available: '200' });

      await sleep(300);
      expect((await expectStatus('GET', '/v1/transfers/tp-exp', undefined, 200)).status).toBe('pending');

      // Nothing is sent to the ledger meanwhile: the engine must expire it on its own.
      await sleep(1700);
      const expired = await expectStatus('GET', '/v1/transfers/tp-exp', undefined, 200);
      expect(expired).toMatchObject({ status: 'expired', postedAmount: null });
      expect(Date.parse(expired.resolvedAt as string)).toBeGreaterThanOrEqual(createdAt + 1000);
      expect(await account('tp:short')).toMatchObject({ balance: '500', pendingDebits: '0', available: '500' });
      expect((await account('tp:payee')).pendingCredits).toBe('0');
      await expectProblem('POST', '/v1/transfers/tp-exp/post', undefined, 409, 'pending_transfer_expired');
      await expectProblem('POST', '/v1/transfers/tp-exp/void', undefined, 409, 'pending_transfer_expired');
    });
  });

  describe('pagination of an account history', () => {
    const count = 23;

    beforeAll(async () => {
      await openAccount('pg:holder');
      await openAccount('pg:other');
      const transfers = Array.from({ length: count }, (_, index) => ({ id: `pg-${index}`, debit: 'cb:issuance', credit: 'pg:holder', amount: String(index + 1) }));
      await expectStatus('POST', '/v1/transfers/batch', { transfers }, 200);
      // A transfer that does not touch pg:holder must not appear in its history.
      await issue('pg-unrelated', 'pg:other', '1');
    });

    it('walks newest-first across pages until nextCursor is null, without duplicates or gaps', async () => {
      const seen: Json[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const url = `/v1/accounts/pg:holder/transfers?limit=5${cursor === null ? '' : `&cursor=${cursor}`}`;
        const body = await expectStatus('GET', url, undefined, 200);
        const transfers = body.transfers as Json[];
        pageSizes.push(transfers.length);
        seen.push(...transfers);
        cursor = body.nextCursor as string | null;
        if (cursor === null) break;
        expect(cursor).toBe(String(transfers[transfers.length - 1]!.sequence));
      }
      expect(cursor).toBeNull();
      expect(pageSizes).toEqual([5, 5, 5, 5, 3]);
      expect(seen.map((transfer) => transfer.id)).toEqual(Array.from({ length: count }, (_, index) => `pg-${count - 1 - index}`));
      const sequences = seen.map((transfer) => transfer.sequence as number);
      for (let i = 1; i < sequences.length; i++) expect(sequences[i]!).toBeLessThan(sequences[i - 1]!);
      expect(new Set(sequences).size).toBe(count);
    });

    it('returns everything on one page with the default limit, and no cursor when the page is exactly full', async () => {
      const all = await expectStatus('GET', '/v1/accounts/pg:holder/transfers', undefined, 200);
      expect((all.transfers as Json[]).length).toBe(count);
      expect(all.nextCursor).toBeNull();
      const exact = await expectStatus('GET', `/v1/accounts/pg:holder/transfers?limit=${count}`, undefined, 200);
      expect((exact.transfers as Json[]).length).toBe(count);
      expect(exact.nextCursor).toBeNull();
      const oneShort = await expectStatus('GET', `/v1/accounts/pg:holder/transfers?limit=${count - 1}`, undefined, 200);
      expect((oneShort.transfers as Json[]).length).toBe(count - 1);
      const last = await expectStatus('GET', `/v1/accounts/pg:holder/transfers?limit=5&cursor=${String(oneShort.nextCursor)}`, undefined, 200);
      expect(last).toEqual({ transfers: [expect.objectContaining({ id: 'pg-0', amount: '1' })], nextCursor: null });
    });

    it('an account without transfers has an empty history', async () => {
      await openAccount('pg:empty');
      expect(await expectStatus('GET', '/v1/accounts/pg:empty/transfers', undefined, 200)).toEqual({ transfers: [], nextCursor: null });
    });
  });

  describe('supply', () => {
    it('reports minus the issuance balance as the money in circulation, and that every invariant holds', async () => {
      await openAccount('sp:holder');
      await issue('sp-1', 'sp:holder', '12345');
      await expectStatus('POST', '/v1/transfers', { id: 'sp-2', debit: 'sp:holder', credit: 'cb:issuance', amount: '45' }, 201);
      await expectStatus('POST', '/v1/transfers', { id: 'sp-3', debit: 'sp:holder', credit: 'cb:issuance', amount: '100', pending: true }, 201);

      const supply = await expectStatus('GET', '/v1/supply', undefined, 200);
      const issuance = await account('cb:issuance');
      const kzt = (supply.assets as Json[]).find((asset) => asset.asset === 'KZT');
      expect(supply.invariantsHold).toBe(true);
      expect(supply.violations).toEqual([]);
      expect(kzt).toMatchObject({ scale: 2, balancesSumToZero: true });
      expect(BigInt(kzt!.inCirculation as string)).toBeGreaterThan(0n);
      expect(BigInt(kzt!.inCirculation as string)).toBe(-BigInt(issuance.balance as string));
      expect(BigInt(kzt!.pending as string)).toBeGreaterThanOrEqual(100n);
      expect(supply.journal).toEqual({ sequence: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

      // Redeeming money (crediting the issuance account) takes it out of circulation.
      await expectStatus('POST', '/v1/transfers/sp-3/post', undefined, 200);
      const after = await expectStatus('GET', '/v1/supply', undefined, 200);
      const kztAfter = (after.assets as Json[]).find((asset) => asset.asset === 'KZT')!;
      expect(BigInt(kztAfter.inCirculation as string)).toBe(BigInt(kzt!.inCirculation as string) - 100n);
      expect(BigInt(kztAfter.pending as string)).toBe(BigInt(kzt!.pending as string) - 100n);
      expect((after.journal as Json).sequence).toBe(((supply.journal as Json).sequence as number) + 1);
      expect(after.invariantsHold).toBe(true);
    });
  });

  describe('OpenAPI and metrics', () => {
    it('GET /openapi.json is OpenAPI 3.1 and lists every route', async () => {
      const document = await expectStatus('GET', '/openapi.json', undefined, 200);
      expect(document.openapi).toBe('3.1.0');
      expect(document.info).toMatchObject({ title: 'Tengri ledger API', version: '0.1.0' });
      const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
        .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      expect(operations).toEqual(
        [
          'GET /health',
          'GET /metrics',
          'GET /openapi.json',
          'GET /v1/supply',
          'GET /v1/assets',
          'POST /v1/assets',
          'POST /v1/accounts',
          'GET /v1/accounts',
          'GET /v1/accounts/{id}',
          'GET /v1/accounts/{id}/transfers',
          'POST /v1/accounts/{id}/freeze',
          'POST /v1/accounts/{id}/unfreeze',
          'POST /v1/transfers',
          'POST /v1/transfers/batch',
          'GET /v1/transfers',
          'GET /v1/transfers/{id}',
          'POST /v1/transfers/{id}/post',
          'POST /v1/transfers/{id}/void',
          'POST /v1/banks',
          'GET /v1/banks',
          'GET /v1/banks/{id}',
          'POST /v1/banks/{id}/reserves',
          'PUT /v1/banks/{id}/issuance-cap',
          'POST /v1/banks/{id}/suspend',
          'POST /v1/banks/{id}/reinstate',
          'GET /v1/banks/{id}/statement',
          'POST /v1/participants',
          'GET /v1/participants',
          'GET /v1/participants/{id}',
          'POST /v1/participants/{id}/suspend',
          'POST /v1/participants/{id}/reinstate',
          'POST /v1/participants/{id}/api-key',
          'POST /v1/issuance',
          'POST /v1/redemption',
          'GET /v1/tiers',
          'PUT /v1/tiers/{tier}',
          'POST /v1/wallets',
          'GET /v1/wallets',
          'GET /v1/wallets/{id}',
          'GET /v1/wallets/{id}/history',
          'POST /v1/wallets/{id}/freeze',
          'POST /v1/wallets/{id}/unfreeze',
          'POST /v1/wallets/{id}/close',
          'POST /v1/wallets/{id}/key',
          'POST /v1/wallets/{id}/tier',
          'POST /v1/wallets/{id}/conversion',
          'POST /v1/wallets/{id}/fund',
          'POST /v1/wallets/{id}/defund',
          'POST /v1/wallets/{id}/bank-account/credit',
          'POST /v1/wallets/{id}/bank-account/debit',
          'POST /v1/payments',
          'GET /v1/payments/{id}',
          'POST /v1/payment-requests',
          'GET /v1/payment-requests/{id}',
          'GET /v1/events',
          'GET /v1/events/stream',
          'PUT /v1/webhook',
          'GET /v1/webhook',
          'DELETE /v1/webhook',
        ].sort(),
      );
      const paths = document.paths as Record<string, Record<string, Json>>;
      expect(paths['/health']!.get!.security).toEqual([]);
      expect(document.security).toEqual([{ operator: [] }]);
    });

    it('GET /metrics counts commands by kind and result', async () => {
      const read = async (): Promise<string> => {
        const response = await call('GET', '/metrics');
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toMatch(/^text\/plain/);
        return response.body;
      };
      const value = (text: string, labels: string): number => {
        const line = text.split('\n').find((candidate) => candidate.startsWith(`tengri_commands_total{${labels}} `));
        return line === undefined ? 0 : Number(line.split(' ')[1]);
      };
      await openAccount('mt:holder');
      const before = await read();
      expect(before).toContain('# TYPE tengri_commands_total counter');
      await issue('mt-1', 'mt:holder', '5');
      await expectStatus('POST', '/v1/transfers', { id: 'mt-1', debit: 'cb:issuance', credit: 'mt:holder', amount: '5' }, 200);
      await expectProblem('POST', '/v1/transfers', { id: 'mt-2', debit: 'mt:holder', credit: 'cb:issuance', amount: '6' }, 422, 'insufficient_funds');
      const after = await read();
      expect(value(after, 'kind="create_transfer",result="ok"') - value(before, 'kind="create_transfer",result="ok"')).toBe(1);
      expect(value(after, 'kind="create_transfer",result="exists"') - value(before, 'kind="create_transfer",result="exists"')).toBe(1);
      expect(value(after, 'kind="create_transfer",result="insufficient_funds"') - value(before, 'kind="create_transfer",result="insufficient_funds"')).toBe(1);
      expect(after).toMatch(/^tengri_journal_sequence \d+$/m);
    });
  });

  describe('freezing accounts', () => {
    beforeAll(async () => {
      await openAccount('fz:alice');
      await openAccount('fz:bob');
      await issue('fz-issue', 'fz:alice', '1000');
      await expectStatus('POST', '/v1/transfers', { id: 'fz-pending', debit: 'fz:alice', credit: 'fz:bob', amount: '100', pending: true }, 201);
      await expectStatus('POST', '/v1/transfers', { id: 'fz-pending-2', debit: 'fz:alice', credit: 'fz:bob', amount: '50', pending: true }, 201);
    });

    it('a frozen account can neither send nor receive until it is unfrozen', async () => {
      expect(await expectStatus('POST', '/v1/accounts/fz:alice/freeze', undefined, 200)).toMatchObject({ id: 'fz:alice', status: 'frozen', balance: '1000' });
      expect(await expectStatus('POST', '/v1/accounts/fz:alice/freeze', undefined, 200)).toMatchObject({ status: 'frozen' });
      expect((await account('fz:alice')).status).toBe('frozen');

      await expectProblem('POST', '/v1/transfers', { id: 'fz-1', debit: 'fz:alice', credit: 'fz:bob', amount: '1' }, 422, 'debit_account_not_active');
      await expectProblem('POST', '/v1/transfers', { id: 'fz-2', debit: 'cb:issuance', credit: 'fz:alice', amount: '1' }, 422, 'credit_account_not_active');
      await expectProblem('POST', '/v1/transfers/fz-pending/post', undefined, 422, 'debit_account_not_active');
      // Releasing a reservation is still allowed: it gives the frozen account its money back.
      expect(await expectStatus('POST', '/v1/transfers/fz-pending-2/void', undefined, 200)).toMatchObject({ status: 'voided' });
      expect(await account('fz:alice')).toMatchObject({ balance: '1000', pendingDebits: '100', available: '900' });
      expect(await account('fz:bob')).toMatchObject({ balance: '0', pendingCredits: '100' });

      expect(await expectStatus('POST', '/v1/accounts/fz:alice/unfreeze', undefined, 200)).toMatchObject({ status: 'active' });
      expect(await expectStatus('POST', '/v1/accounts/fz:alice/unfreeze', undefined, 200)).toMatchObject({ status: 'active' });
      await expectStatus('POST', '/v1/transfers', { id: 'fz-1', debit: 'fz:alice', credit: 'fz:bob', amount: '1' }, 201);
      await expectStatus('POST', '/v1/transfers/fz-pending/post', undefined, 200);
      expect(await balances('fz:alice', 'fz:bob')).toEqual({ 'fz:alice': '899', 'fz:bob': '101' });
    });

    it('freezing the receiving side blocks credits to it', async () => {
      await expectStatus('POST', '/v1/accounts/fz:bob/freeze', undefined, 200);
      await expectProblem('POST', '/v1/transfers', { id: 'fz-3', debit: 'fz:alice', credit: 'fz:bob', amount: '1' }, 422, 'credit_account_not_active');
      await expectStatus('POST', '/v1/accounts/fz:bob/unfreeze', undefined, 200);
      await expectStatus('POST', '/v1/transfers', { id: 'fz-3', debit: 'fz:alice', credit: 'fz:bob', amount: '1' }, 201);
      expect(await balances('fz:alice', 'fz:bob')).toEqual({ 'fz:alice': '898', 'fz:bob': '102' });
    });
  });

  describe('holding limits', () => {
    it('refuses a credit that would take the balance above maxBalance, and counts pending credits', async () => {
      await openAccount('hl:wallet', { maxBalance: '1000' });
      await issue('hl-1', 'hl:wallet', '600');
      await expectProblem('POST', '/v1/transfers', { id: 'hl-2', debit: 'cb:issuance', credit: 'hl:wallet', amount: '401' }, 422, 'limit_exceeded');
      await issue('hl-2', 'hl:wallet', '400');
      expect(await account('hl:wallet')).toMatchObject({ balance: '1000', maxBalance: '1000' });
      await expectProblem('POST', '/v1/transfers', { id: 'hl-3', debit: 'cb:issuance', credit: 'hl:wallet', amount: '1' }, 422, 'limit_exceeded');

      await openAccount('hl:pending', { maxBalance: '1000' });
      await expectStatus('POST', '/v1/transfers', { id: 'hl-4', debit: 'cb:issuance', credit: 'hl:pending', amount: '800', pending: true }, 201);
      await expectProblem('POST', '/v1/transfers', { id: 'hl-5', debit: 'cb:issuance', credit: 'hl:pending', amount: '201' }, 422, 'limit_exceeded');
      await expectStatus('POST', '/v1/transfers/hl-4/void', undefined, 200);
      await issue('hl-5', 'hl:pending', '201');
      expect(await account('hl:pending')).toMatchObject({ balance: '201', pendingCredits: '0' });
    });
  });

  describe('accounts that may go negative', () => {
    it('an issuance account with allowNegative goes below zero, an ordinary account cannot', async () => {
      await expectStatus('POST', '/v1/assets', { code: 'NEGT', scale: 0 }, 201);
      const issuer = await expectStatus('POST', '/v1/accounts', { id: 'ng:issuer', asset: 'NEGT', allowNegative: true }, 201);
      expect(issuer).toMatchObject({ allowNegative: true, maxBalance: null, balance: '0' });
      await expectStatus('POST', '/v1/accounts', { id: 'ng:holder', asset: 'NEGT' }, 201);

      await expectStatus('POST', '/v1/transfers', { id: 'ng-1', debit: 'ng:issuer', credit: 'ng:holder', amount: '5000' }, 201);
      expect(await account('ng:issuer')).toMatchObject({ balance: '-5000', available: '-5000' });
      await expectStatus('POST', '/v1/transfers', { id: 'ng-2', debit: 'ng:issuer', credit: 'ng:holder', amount: '9223372036854770000', pending: true }, 201);
      expect(await account('ng:issuer')).toMatchObject({ balance: '-5000', pendingDebits: '9223372036854770000' });
      await expectStatus('POST', '/v1/transfers/ng-2/void', undefined, 200);

      await expectProblem('POST', '/v1/transfers', { id: 'ng-3', debit: 'ng:holder', credit: 'ng:issuer', amount: '5001' }, 422, 'insufficient_funds');
      await expectStatus('POST', '/v1/transfers', { id: 'ng-3', debit: 'ng:holder', credit: 'ng:issuer', amount: '5000' }, 201);
      expect(await balances('ng:issuer', 'ng:holder')).toEqual({ 'ng:issuer': '0', 'ng:holder': '0' });

      await expectStatus('POST', '/v1/transfers', { id: 'ng-4', debit: 'ng:issuer', credit: 'ng:holder', amount: '700' }, 201);
      const supply = await expectStatus('GET', '/v1/supply', undefined, 200);
      expect((supply.assets as Json[]).find((asset) => asset.asset === 'NEGT')).toEqual({
        asset: 'NEGT',
        scale: 0,
        inCirculation: '700',
        pending: '0',
        accounts: 2,
        invariantsHold: true,
        issuanceAccounts: [{ id: 'ng:issuer', balance: '-700' }],
        issuanceAccountCount: 1,
        balancesSumToZero: true,
      });
      expect(supply.invariantsHold).toBe(true);
    });
  });

  describe('overload and durability', () => {
    // Proves the bounded queue answers 503 with Retry-After over real HTTP, applies nothing of the
    // refused request, and that reads wait for an append in flight instead of showing undurable state.
    it('answers 503 engine_overloaded with Retry-After when the queue is full, and applies nothing of it', async () => {
      const small = await startInProcess({ backend, queueCommandsMax: 2, batchWaitMs: 200 });
      try {
        await small.app.listen({ host: '127.0.0.1', port: 0 });
        const address = small.app.server.address();
        const base = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';
        const headers = { ...small.auth, 'content-type': 'application/json' };
        const post = (body: unknown) => fetch(`${base}/v1/transfers/batch`, { method: 'POST', headers, body: JSON.stringify(body) });
        const accounts = await fetch(`${base}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id: 'q:a', asset: 'KZT' }) });
        expect(accounts.status).toBe(201);
        const item = (id: string) => ({ id, debit: 'cb:issuance', credit: 'q:a', amount: '100' });
        // The first request fills the queue while the sequencer waits 200 ms for the batch to fill.
        const first = post({ transfers: [item('q-1'), item('q-2')] });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const refused = await post({ transfers: [item('q-3')] });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await refused.json()).toMatchObject({ code: 'engine_overloaded', status: 503 });
        expect((await first).status).toBe(200);
        const q3 = await fetch(`${base}/v1/transfers/q-3`, { headers: small.auth });
        expect(q3.status).toBe(404);
        const balance = (await (await fetch(`${base}/v1/accounts/q:a`, { headers: small.auth })).json()) as { balance: string };
        expect(balance.balance).toBe('200');
      } finally {
        await small.close();
      }
    });

    it('accepts the bearer scheme in any letter case', async () => {
      const response = await call('GET', '/v1/assets', undefined, { authorization: `bearer ${testToken}` });
      expect(response.statusCode).toBe(200);
    });

    it('makes reads wait for a journal append in flight', async () => {
      const slow = await startInProcess({ backend });
      try {
        const store: Store = slow.store;
        const original = store.append.bind(store);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        store.append = async (...args: Parameters<typeof original>) => {
          await gate;
          return original(...args);
        };
        const created = slow.app.inject({ method: 'POST', url: '/v1/accounts', headers: slow.auth, payload: { id: 'slow:a', asset: 'KZT' } });
        await new Promise((resolve) => setTimeout(resolve, 20));
        let readDone = false;
        const read = slow.app.inject({ method: 'GET', url: '/v1/accounts/slow:a', headers: slow.auth }).then((response) => {
          readDone = true;
          return response;
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        // The account exists in memory, but its batch is not durable: the read is still waiting.
        expect(readDone).toBe(false);
        release();
        expect((await created).statusCode).toBe(201);
        expect((await read).statusCode).toBe(200);
      } finally {
        await slow.close();
      }
    });
  });

  describe('supply per asset', () => {
    // Proves /v1/supply names, per asset, the accounts that can create it and their balances, so an
    // operator sees any account besides cb:issuance that mints KZT, and reports invariants per asset.
    it('lists the issuance accounts of each asset and whether its invariants hold', async () => {
      const supply = await expectStatus('GET', '/v1/supply', undefined, 200);
      const assets = supply.assets as { asset: string; inCirculation: string; invariantsHold: boolean; issuanceAccounts: { id: string; balance: string }[]; issuanceAccountCount: number }[];
      const kzt = assets.find((asset) => asset.asset === 'KZT')!;
      expect(kzt.invariantsHold).toBe(true);
      const issuanceIds = kzt.issuanceAccounts.map((account) => account.id);
      expect(issuanceIds).toContain('cb:issuance');
      expect(kzt.issuanceAccountCount).toBe(kzt.issuanceAccounts.length);
      const issued = kzt.issuanceAccounts.reduce((sum, account) => sum + BigInt(account.balance), 0n);
      expect(BigInt(kzt.inCirculation)).toBe(-issued);
      expect(assets.every((asset) => asset.invariantsHold)).toBe(true);
    });
  });

  describe('ledger-wide listings', () => {
    // Proves accounts can be listed in creation order and all transfers newest first, each page
    // exactly once across cursors, on a ledger of its own so the totals are known.
    it('pages through every account and every transfer exactly once', async () => {
      const own = await startInProcess({ backend });
      try {
        const inject = (method: Method, url: string, payload?: Json) => own.app.inject({ method, url, headers: own.auth, ...(payload === undefined ? {} : { payload }) });
        for (let i = 0; i < 7; i++) expect((await inject('POST', '/v1/accounts', { id: `list:${i}`, asset: 'KZT' })).statusCode).toBe(201);
        for (let i = 0; i < 11; i++) {
          expect((await inject('POST', '/v1/transfers', { id: `list-t${i}`, debit: 'cb:issuance', credit: `list:${i % 7}`, amount: String(i + 1) })).statusCode).toBe(201);
        }
        const accountIds: string[] = [];
        let cursor: string | null = null;
        do {
          const response = await inject('GET', `/v1/accounts?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
          expect(response.statusCode).toBe(200);
          const page = response.json<{ accounts: { id: string }[]; nextCursor: string | null }>();
          expect(page.accounts.length).toBeLessThanOrEqual(3);
          accountIds.push(...page.accounts.map((account) => account.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect(accountIds).toEqual(['cb:issuance', 'cb:reserves', ...Array.from({ length: 7 }, (_, i) => `list:${i}`)]);

        const transferIds: string[] = [];
        cursor = null;
        do {
          const response = await inject('GET', `/v1/transfers?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
          expect(response.statusCode).toBe(200);
          const page = response.json<{ transfers: { id: string; sequence: number }[]; nextCursor: string | null }>();
          transferIds.push(...page.transfers.map((transfer) => transfer.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect(transferIds).toEqual(Array.from({ length: 11 }, (_, i) => `list-t${10 - i}`));
        expect((await inject('GET', '/v1/transfers?limit=0')).statusCode).toBe(400);
        expect((await inject('GET', '/v1/accounts?cursor=0')).json()).toMatchObject({ code: 'cursor_invalid' });
      } finally {
        await own.close();
      }
    });
  });
});
