// Proves a payment signature covers exactly the canonical JSON of the payment without its
// `signature` field: it survives key reordering and whitespace in the JSON text, fails on any
// change to any field, answers false (never throws) for malformed input, and reproduces the
// worked example of docs/CRYPTO.md byte for byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBase64url } from './base64url.ts';
import { CanonicalJsonError, canonicalJson } from './canonical-json.ts';
import { keyPairFromSeed } from './ed25519.ts';
import { signPayment, signingBytes, verifyPayment } from './payment-signature.ts';
import { hexToBytes } from './test-vectors.ts';

// RFC 8032 §7.1 TEST 1: a published key, so anyone can reproduce the example.
const testSeed = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const testPublicKey = encodeBase64url(keyPairFromSeed(testSeed).publicKey);
const otherPair = keyPairFromSeed(new Uint8Array(32).fill(9));

/** JSON values that canonical JSON accepts (numbers below 2^53, well-formed strings). */
const jsonValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -(2 ** 53 - 1), max: 2 ** 53 - 1 }),
    fc.string({ unit: 'binary', maxLength: 10 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Payments of the shape POST /v1/payments takes, plus arbitrary extra fields. */
const payment = fc
  .record(
    {
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
      from: fc.stringMatching(/^w_[a-z2-7]{16}$/),
      to: fc.stringMatching(/^w_[a-z2-7]{16}$/),
      amount: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String),
      sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      expiresAt: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
      reference: fc.string({ unit: 'binary', maxLength: 20 }),
      refundOf: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
    },
    { requiredKeys: ['id', 'from', 'to', 'amount', 'sequence'] },
  )
  .chain((base) => fc.dictionary(fc.string({ maxLength: 6 }), jsonValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...base }) as Record<string, unknown>));

function signed(value: Record<string, unknown>): Record<string, unknown> {
  return { ...value, signature: signPayment(value, testSeed) };
}

/** A JSON text of the same object with keys in reverse order and two-space indentation. */
function reorderedText(value: unknown): string {
  const reverse = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(reverse);
    if (typeof item !== 'object' || item === null) return item;
    return Object.fromEntries(Object.entries(item).reverse().map(([key, inner]) => [key, reverse(inner)]));
  };
  return JSON.stringify(reverse(value), null, 2);
}

describe('the worked example of docs/CRYPTO.md', () => {
  const example = {
    id: 'pay-0001',
    from: 'w_eexs74aikzogwg6m',
    to: 'w_snpr6mcw7ryf5hip',
    amount: '150000',
    sequence: 1,
    expiresAt: '2026-12-31T23:59:59Z',
    reference: 'обед',
  };
  const canonical = '{"amount":"150000","expiresAt":"2026-12-31T23:59:59Z","from":"w_eexs74aikzogwg6m","id":"pay-0001","reference":"обед","sequence":1,"to":"w_snpr6mcw7ryf5hip"}';
  const signature = '-Nubn0Ne0BRPyHr08hG175oxYcS67Riuu7K426NJUDh_zCcxSEId-krdqH5h1BxTsp6D02MdVsmCIc_NE1fJCg';
  const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'CRYPTO.md'), 'utf8');

  it('has the canonical bytes, public key and signature the document shows', () => {
    expect(testPublicKey).toBe('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo');
    expect(new TextDecoder().decode(signingBytes(example))).toBe(canonical);
    expect(signingBytes(example).length).toBe(160);
    expect(Buffer.from(signingBytes(example)).toString('hex')).toMatch(/^7b22616d6f756e74223a22/);
    expect(signPayment(example, testSeed)).toBe(signature);
    expect(verifyPayment({ ...example, signature }, testPublicKey)).toBe(true);
    const signatureHex = Buffer.from(signature, 'base64url').toString('hex');
    for (const text of [canonical, signature, signatureHex, testPublicKey, Buffer.from(signingBytes(example)).toString('hex'), '160 bytes']) expect(docs).toContain(text);
  });
});

describe('signingBytes', () => {
  it('is the canonical JSON of the payment without its signature field, whatever that field holds', () => {
    fc.assert(
      fc.property(payment, jsonValue, (value, anything) => {
        const expected = canonicalJson(value);
        expect(new TextDecoder().decode(signingBytes(value))).toBe(expected);
        expect(new TextDecoder().decode(signingBytes({ ...value, signature: anything }))).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what canonical JSON refuses, and anything that is not a JSON object', () => {
    for (const bad of [null, 'x', 1, [1], { amount: 1n }, { n: NaN }, new Date(0), { nested: new Map() }]) {
      expect(() => signingBytes(bad)).toThrow(CanonicalJsonError);
    }
    // A signature field does not hide the rest: a getter elsewhere is still refused.
    const withGetter = Object.defineProperty({ signature: 'x' }, 'amount', { get: () => '1', enumerable: true });
    expect(() => signingBytes(withGetter)).toThrow(CanonicalJsonError);
  });
});

describe('signPayment and verifyPayment', () => {
  it('round-trip, and the signature survives key reordering and whitespace in the JSON text', () => {
    fc.assert(
      fc.property(payment, (value) => {
        const document = signed(value);
        expect(verifyPayment(document, testPublicKey)).toBe(true);
        expect(verifyPayment(JSON.parse(reorderedText(document)), testPublicKey)).toBe(true);
        expect(verifyPayment(JSON.parse(JSON.stringify(document)), testPublicKey)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fails on any change of any field: its value, its name, a removed or an added field', () => {
    fc.assert(
      fc.property(payment, fc.nat(), jsonValue, (value, pick, replacement) => {
        const document = signed(value);
        const keys = Object.keys(value);
        const key = keys[pick % keys.length]!;
        const changed = { ...document, [key]: replacement };
        if (canonicalJson(replacement) !== canonicalJson(document[key])) expect(verifyPayment(changed, testPublicKey)).toBe(false);
        const { [key]: removedValue, ...removed } = document;
        expect(verifyPayment(removed, testPublicKey)).toBe(false);
        expect(verifyPayment({ ...removed, [`${key}_`]: removedValue }, testPublicKey)).toBe(false);
        expect(verifyPayment({ ...document, [`${key}~extra`]: null }, testPublicKey)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('fails on the smallest changes to the money fields', () => {
    const document = signed({ id: 'pay-1', from: 'w_aaaaaaaaaaaaaaaa', to: 'w_bbbbbbbbbbbbbbbb', amount: '150000', sequence: 7, expiresAt: '2026-12-31T23:59:59Z' });
    expect(verifyPayment(document, testPublicKey)).toBe(true);
    for (const change of [
      { amount: '150001' },
      { amount: '1500000' },
      { amount: 150000 },
      { sequence: 8 },
      { sequence: '7' },
      { to: 'w_cccccccccccccccc' },
      { from: 'w_bbbbbbbbbbbbbbbb' },
      { expiresAt: '2027-12-31T23:59:59Z' },
      { expiresAt: '2026-12-31T23:59:59.000Z' },
      { refundOf: 'pay-0' },
    ]) {
      expect(verifyPayment({ ...document, ...change }, testPublicKey)).toBe(false);
    }
  });

  it('fails under another key', () => {
    const document = signed({ id: 'pay-1', amount: '1' });
    expect(verifyPayment(document, encodeBase64url(otherPair.publicKey))).toBe(false);
  });

  it('answers false for malformed signatures and keys (padding, alphabet, length, unused bits)', () => {
    const document = signed({ id: 'pay-1', amount: '1' });
    const signature = document.signature as string;
    const lastSignatureChar = signature.at(-1)!;
    const badSignatures: unknown[] = [
      undefined,
      null,
      42,
      '',
      `${signature}==`,
      signature.replaceAll('-', '+').replaceAll('_', '/') + (signature.includes('-') || signature.includes('_') ? '' : '+'),
      signature.slice(0, -1),
      `${signature}A`,
      `${signature.slice(0, -1)}${lastSignatureChar === 'B' ? 'C' : 'B'}`, // last char of 86 carries 4 unused bits
      Buffer.from(signature, 'base64url').toString('hex'),
    ];
    for (const bad of badSignatures) expect(verifyPayment({ ...document, signature: bad }, testPublicKey)).toBe(false);
    const { signature: _signature, ...unsigned } = document;
    expect(verifyPayment(unsigned, testPublicKey)).toBe(false);
    const badKeys: unknown[] = [undefined, null, 42, '', `${testPublicKey}=`, testPublicKey.slice(0, -1), `${testPublicKey}A`, testPublicKey.replace('_', '/'), 'A'.repeat(43)];
    for (const bad of badKeys) expect(verifyPayment(document, bad)).toBe(false);
  });

  it('answers false for payments canonical JSON cannot represent, even when otherwise signed', () => {
    const document = signed({ id: 'pay-1', amount: '1' });
    for (const extra of [{ n: NaN }, { n: 2 ** 53 }, { s: 'a\ud800' }, { d: new Date(0) }, { b: 1n }]) {
      expect(verifyPayment({ ...document, ...extra }, testPublicKey)).toBe(false);
    }
    for (const notAnObject of [null, undefined, 'x', 1, [document], new Map(Object.entries(document))]) {
      expect(verifyPayment(notAnObject, testPublicKey)).toBe(false);
    }
  });

  it('never throws, whatever the input', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    const signatureLike = fc.oneof(fc.string(), fc.constant(signed({ a: 1 }).signature), anything);
    fc.assert(
      fc.property(anything, signatureLike, fc.oneof(fc.constant(testPublicKey), fc.string(), anything), (value, signature, key) => {
        const document = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.assign(value, { signature }) : value;
        expect(typeof verifyPayment(document, key)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
