/**
 * Helpers for tests of the two-tier platform over real HTTP: a client bound to a base URL, and the
 * steps every scenario starts with (onboard a bank, give it reserves and digital tenge, open and
 * fund wallets whose keys the test holds, sign payments as their holders would).
 */
import { encodeBase64url } from '../../src/crypto/base64url.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { signPayment } from '../../src/crypto/payment-signature.ts';
import { startInProcess, testToken, type InProcess } from './servers.ts';

export interface Response<T = Record<string, unknown>> {
  readonly status: number;
  readonly json: T;
  readonly headers: Headers;
}

export interface Client {
  readonly base: string;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string | null): Promise<Response<T>>;
}

/** `token` undefined: the operator token; null: no Authorization header. */
export function client(base: string): Client {
  return {
    base,
    async call<T>(method: string, path: string, body?: unknown, token?: string | null): Promise<Response<T>> {
      const headers: Record<string, string> = {};
      const bearer = token === undefined ? testToken : token;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, json: (text === '' ? null : JSON.parse(text)) as T, headers: response.headers };
    },
  };
}

/** An in-process server listening on loopback, with a client for it. */
export async function startPlatform(options: Parameters<typeof startInProcess>[0] = {}): Promise<InProcess & Client> {
  const server = await startInProcess(options);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  const http = client(`http://127.0.0.1:${address.port}`);
  return Object.assign(server, { base: http.base, call: http.call });
}

export interface Holder {
  readonly id: string;
  readonly publicKey: string;
  readonly seed: Uint8Array;
  sequence: number;
}

let counter = 0;
/** A fresh id for tests that share one server: a prefix and a counter. */
export function uniqueId(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Onboards a bank (BIC derived from the id) and returns its API key. */
export async function onboardBank(http: Client, id: string, bic: string, options: { reserves?: bigint; issue?: bigint } = {}): Promise<string> {
  const created = await http.call<{ apiKey: string }>('POST', '/v1/banks', { id, name: `Bank ${id}`, bic });
  if (created.status !== 201) throw new Error(`onboarding ${id}: ${created.status} ${JSON.stringify(created.json)}`);
  const key = created.json.apiKey;
  if (options.reserves !== undefined) {
    const topUp = await http.call('POST', `/v1/banks/${id}/reserves`, { amount: String(options.reserves) });
    if (topUp.status !== 201) throw new Error(`reserves for ${id}: ${topUp.status} ${JSON.stringify(topUp.json)}`);
  }
  if (options.issue !== undefined) {
    const issued = await http.call('POST', '/v1/issuance', { amount: String(options.issue) }, key);
    if (issued.status !== 201) throw new Error(`issuance for ${id}: ${issued.status} ${JSON.stringify(issued.json)}`);
  }
  return key;
}

/** Opens a wallet at the bank with a new key pair; funds it (through the holder's bank account) when asked. */
export async function openWallet(
  http: Client,
  bankKey: string,
  options: { kind?: 'individual' | 'merchant' | 'government'; tier?: 0 | 1 | 2; fund?: bigint; convertIncoming?: boolean } = {},
): Promise<Holder> {
  const pair = generateKeyPair();
  const publicKey = encodeBase64url(pair.publicKey);
  const opened = await http.call<{ id: string }>(
    'POST',
    '/v1/wallets',
    { publicKey, kind: options.kind ?? 'individual', tier: options.tier ?? 2, ...(options.convertIncoming === undefined ? {} : { convertIncoming: options.convertIncoming }) },
    bankKey,
  );
  if (opened.status !== 201) throw new Error(`opening a wallet: ${opened.status} ${JSON.stringify(opened.json)}`);
  const holder: Holder = { id: opened.json.id, publicKey, seed: pair.seed, sequence: 0 };
  if (options.fund !== undefined && options.fund > 0n) {
    const credit = await http.call('POST', `/v1/wallets/${holder.id}/bank-account/credit`, { amount: String(options.fund) }, bankKey);
    if (credit.status !== 200) throw new Error(`crediting ${holder.id}: ${credit.status} ${JSON.stringify(credit.json)}`);
    const fund = await http.call('POST', `/v1/wallets/${holder.id}/fund`, { amount: String(options.fund) }, bankKey);
    if (fund.status !== 200) throw new Error(`funding ${holder.id}: ${fund.status} ${JSON.stringify(fund.json)}`);
  }
  return holder;
}

export interface PaymentFields {
  id?: string;
  to: string;
  amount: bigint | string;
  sequence?: number;
  expiresAt?: string;
  reference?: string;
  request?: string;
  refundOf?: string;
}

/** A payment signed by `from` (taking the next sequence unless one is given). */
export function signedPayment(from: Holder, fields: PaymentFields): Record<string, unknown> {
  const sequence = fields.sequence ?? ++from.sequence;
  if (sequence > from.sequence) from.sequence = sequence;
  const payment: Record<string, unknown> = {
    id: fields.id ?? uniqueId('pay'),
    from: from.id,
    to: fields.to,
    amount: String(fields.amount),
    sequence,
  };
  for (const key of ['expiresAt', 'reference', 'request', 'refundOf'] as const) if (fields[key] !== undefined) payment[key] = fields[key];
  payment.signature = signPayment(payment, from.seed);
  return payment;
}

export async function pay(http: Client, from: Holder, fields: PaymentFields): Promise<Response> {
  return http.call('POST', '/v1/payments', signedPayment(from, fields), null);
}
