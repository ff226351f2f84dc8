// Proves a freeze ordered by the central bank binds the wallet's bank: only the operator lifts it,
// and until then the bank can neither close the wallet nor replace its key; and that merchants and
// government bodies stop working when their bank is suspended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { onboardBank, openWallet, pay, startPlatform } from './support/platform.ts';

let server: Awaited<ReturnType<typeof startPlatform>>;
let bankKey: string;
let otherBankKey: string;

beforeAll(async () => {
  server = await startPlatform();
  bankKey = await onboardBank(server, 'freeze-bank', 'FRZBKZKA', { reserves: 10_000_000n, issue: 5_000_000n });
  otherBankKey = await onboardBank(server, 'other-bank', 'OTHRKZKA', { reserves: 10_000_000n, issue: 5_000_000n });
});
afterAll(async () => server.close());

describe('a central-bank freeze', () => {
  it('is lifted only by the operator; meanwhile the bank cannot close the wallet or replace its key', async () => {
    const holder = await openWallet(server, bankKey, { fund: 20_000n });
    const payee = await openWallet(server, bankKey);
    const frozen = await server.call<{ status: string }>('POST', `/v1/wallets/${holder.id}/freeze`, { reason: 'court order 42' });
    expect(frozen.status).toBe(200);
    expect(frozen.json.status).toBe('frozen');

    const before = await server.call('GET', `/v1/wallets/${holder.id}`, undefined, bankKey);
    for (const [path, body] of [
      ['unfreeze', {}],
      ['close', {}],
      ['close', { sweepTo: payee.id }],
      ['key', { publicKey: encodeBase64url(generateKeyPair().publicKey), reason: 'recovery' }],
    ] as const) {
      const refused = await server.call<{ code: string }>('POST', `/v1/wallets/${holder.id}/${path}`, body, bankKey);
      expect(refused.status, path).toBe(409);
      expect(refused.json.code, path).toBe('frozen_by_central_bank');
    }
    expect((await server.call('GET', `/v1/wallets/${holder.id}`, undefined, bankKey)).json).toEqual(before.json);
    expect((await pay(server, holder, { to: payee.id, amount: 100n })).json).toMatchObject({ code: 'wallet_frozen' });

    // The freeze and who ordered it are in the bank's events.
    const events = await server.call<{ events: { type: string; wallet: string; detail: string | null }[] }>('GET', '/v1/events?limit=1000', undefined, bankKey);
    expect(events.json.events.filter((e) => e.wallet === holder.id && e.type === 'wallet.frozen')).toEqual([
      expect.objectContaining({ detail: 'by operator: court order 42' }),
    ]);

    const lifted = await server.call<{ status: string }>('POST', `/v1/wallets/${holder.id}/unfreeze`, {});
    expect(lifted.json.status).toBe('active');
    expect((await pay(server, holder, { to: payee.id, amount: 100n })).status).toBe(201);
    // A freeze the bank ordered itself, the bank may lift.
    expect((await server.call('POST', `/v1/wallets/${holder.id}/freeze`, {}, bankKey)).status).toBe(200);
    expect((await server.call<{ status: string }>('POST', `/v1/wallets/${holder.id}/unfreeze`, {}, bankKey)).json.status).toBe('active');
  });

  it('refuses to sweep a closing wallet into a wallet of a suspended bank', async () => {
    const closing = await openWallet(server, bankKey, { fund: 5_000n });
    const elsewhere = await openWallet(server, otherBankKey);
    expect((await server.call('POST', '/v1/banks/other-bank/suspend')).status).toBe(200);
    try {
      const refused = await server.call<{ code: string }>('POST', `/v1/wallets/${closing.id}/close`, { sweepTo: elsewhere.id }, bankKey);
      expect(refused.status).toBe(422);
      expect(refused.json.code).toBe('payee_bank_suspended');
      expect((await server.call<{ status: string; balance: string }>('GET', `/v1/wallets/${closing.id}`, undefined, bankKey)).json).toMatchObject({ status: 'active', balance: '5000' });
    } finally {
      expect((await server.call('POST', '/v1/banks/other-bank/reinstate')).status).toBe(200);
    }
  });
});

describe('a suspended bank', () => {
  it('stops the merchants and government bodies that bank with it', async () => {
    const shop = await openWallet(server, otherBankKey, { kind: 'merchant' });
    const created = await server.call<{ apiKey: string }>('POST', '/v1/participants', { id: 'suspended-shop', role: 'merchant', name: 'Shop', wallet: shop.id }, otherBankKey);
    expect(created.status).toBe(201);
    const merchantKey = created.json.apiKey;
    expect((await server.call('GET', `/v1/wallets/${shop.id}`, undefined, merchantKey)).status).toBe(200);
    expect((await server.call('POST', '/v1/banks/other-bank/suspend')).status).toBe(200);
    try {
      for (const [method, path, body] of [
        ['GET', `/v1/wallets/${shop.id}`, undefined],
        ['POST', '/v1/payment-requests', { amount: '1000' }],
      ] as const) {
        const refused = await server.call<{ code: string }>(method, path, body, merchantKey);
        expect(refused.status, path).toBe(403);
        expect(refused.json.code, path).toBe('participant_suspended');
      }
    } finally {
      expect((await server.call('POST', '/v1/banks/other-bank/reinstate')).status).toBe(200);
    }
    expect((await server.call('GET', `/v1/wallets/${shop.id}`, undefined, merchantKey)).status).toBe(200);
  });
});

describe('a central-bank freeze on a wallet its bank froze already', () => {
  it('is recorded and binds the bank all the same', async () => {
    const holder = await openWallet(server, bankKey, { fund: 10_000n });
    expect((await server.call('POST', `/v1/wallets/${holder.id}/freeze`, { reason: 'fraud check' }, bankKey)).status).toBe(200);
    const ordered = await server.call('POST', `/v1/wallets/${holder.id}/freeze`, { reason: 'court order 43' });
    expect(ordered.status).toBe(200);
    expect(ordered.headers.get('idempotent-replayed')).toBeNull();
    const refused = await server.call<{ code: string }>('POST', `/v1/wallets/${holder.id}/unfreeze`, {}, bankKey);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('frozen_by_central_bank');
    expect((await server.call<{ code: string }>('POST', `/v1/wallets/${holder.id}/close`, {}, bankKey)).json.code).toBe('frozen_by_central_bank');
    const events = await server.call<{ events: { type: string; wallet: string; detail: string | null }[] }>('GET', '/v1/events?limit=1000', undefined, bankKey);
    expect(events.json.events.filter((e) => e.wallet === holder.id && e.type === 'wallet.frozen').map((e) => e.detail)).toEqual(['fraud check', 'by operator: court order 43']);
    // A second operator freeze changes nothing.
    expect((await server.call('POST', `/v1/wallets/${holder.id}/freeze`, {})).headers.get('idempotent-replayed')).toBe('true');
  });

  it('cannot be imitated by a participant called operator: the id is reserved', async () => {
    const refused = await server.call<{ code: string }>('POST', '/v1/banks', { id: 'operator', name: 'Impostor', bic: 'IMPSKZKA' });
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe('id_invalid');
  });

  it('accepts operation ids of the full documented length (56 characters) for every money operation', async () => {
    const holder = await openWallet(server, bankKey, { fund: 10_000n });
    for (const path of ['bank-account/credit', 'fund', 'defund', 'bank-account/debit']) {
      const id = `${path.replace('/', '-')}-`.padEnd(56, 'x');
      const response = await server.call('POST', `/v1/wallets/${holder.id}/${path}`, { id, amount: '100' }, bankKey);
      expect(response.status, path).toBe(200);
    }
  });
});
