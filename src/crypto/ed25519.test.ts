// Proves signing matches the RFC 8032 and SUPERCOP known answers byte for byte, that a signature
// verifies under its own key and message and fails after any single bit flip in message,
// signature or key, and that verifyBatch, key generation and input checks behave as documented.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  isValidPublicKey,
  keyPairFromSeed,
  publicKeyBytes,
  seedBytes,
  sign,
  signatureBytes,
  verify,
  verifyBatch,
  verifyBatchItemsMax,
  type VerifyItem,
} from './ed25519.ts';
import { bytesToHex, rfc8032Vectors, supercopVectors } from './test-vectors.ts';

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

describe('known answers', () => {
  const rfc = rfc8032Vectors();

  it('has the five RFC 8032 §7.1 Ed25519 tests', () => {
    expect(rfc.map((vector) => vector.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
  });

  it.each([...rfc, ...supercopVectors()].map((vector) => [vector.name, vector] as const))(
    '%s: public key and signature match byte for byte, and the signature verifies',
    (_name, vector) => {
      expect(bytesToHex(keyPairFromSeed(vector.seed).publicKey)).toBe(bytesToHex(vector.publicKey));
      expect(bytesToHex(sign(vector.message, vector.seed))).toBe(bytesToHex(vector.signature));
      expect(verify(vector.message, vector.signature, vector.publicKey)).toBe(true);
    },
  );
});

describe('properties', () => {
  const seed = fc.uint8Array({ minLength: seedBytes, maxLength: seedBytes });
  const message = fc.uint8Array({ maxLength: 300 });

  it('a signature verifies under its key and message, and signing is deterministic', () => {
    fc.assert(
      fc.property(seed, message, (secret, text) => {
        const { publicKey } = keyPairFromSeed(secret);
        const signature = sign(text, secret);
        expect(signature.length).toBe(signatureBytes);
        expect(verify(text, signature, publicKey)).toBe(true);
        expect(sign(text, secret)).toEqual(signature);
      }),
      { numRuns: 300 },
    );
  });

  it('any single bit flip in the message, the signature or the public key makes verification fail', () => {
    fc.assert(
      fc.property(seed, fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.constantFrom('message', 'signature', 'publicKey'), (secret, text, bitSeed, where) => {
        const { publicKey } = keyPairFromSeed(secret);
        const signature = sign(text, secret);
        switch (where) {
          case 'message':
            expect(verify(flipBit(text, bitSeed % (text.length * 8)), signature, publicKey)).toBe(false);
            break;
          case 'signature':
            expect(verify(text, flipBit(signature, bitSeed % (signatureBytes * 8)), publicKey)).toBe(false);
            break;
          case 'publicKey':
            expect(verify(text, signature, flipBit(publicKey, bitSeed % (publicKeyBytes * 8)))).toBe(false);
            break;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('every one of the 512 single-bit flips of one signature fails, and so does every flip of its key', () => {
    const { publicKey, seed: secret } = generateKeyPair();
    const text = new TextEncoder().encode('{"amount":"150000"}');
    const signature = sign(text, secret);
    for (let bit = 0; bit < signatureBytes * 8; bit++) expect(verify(text, flipBit(signature, bit), publicKey), `bit ${bit}`).toBe(false);
    for (let bit = 0; bit < publicKeyBytes * 8; bit++) expect(verify(text, signature, flipBit(publicKey, bit)), `key bit ${bit}`).toBe(false);
  });

  it('a signature of one message by one key does not verify another message or under another key', () => {
    fc.assert(
      fc.property(seed, seed, message, message, (secretA, secretB, textA, textB) => {
        fc.pre(bytesToHex(secretA) !== bytesToHex(secretB) && bytesToHex(textA) !== bytesToHex(textB));
        const signature = sign(textA, secretA);
        expect(verify(textB, signature, keyPairFromSeed(secretA).publicKey)).toBe(false);
        expect(verify(textA, signature, keyPairFromSeed(secretB).publicKey)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('keys', () => {
  it('generateKeyPair gives a 32-byte seed and its 32-byte public key, a new one each time', () => {
    const first = generateKeyPair();
    const second = generateKeyPair();
    expect(first.seed.length).toBe(seedBytes);
    expect(first.publicKey.length).toBe(publicKeyBytes);
    expect(keyPairFromSeed(first.seed).publicKey).toEqual(first.publicKey);
    expect(bytesToHex(first.seed)).not.toBe(bytesToHex(second.seed));
    expect(isValidPublicKey(first.publicKey)).toBe(true);
  });

  it('keyPairFromSeed copies the seed, so the caller may wipe its own', () => {
    const secret = new Uint8Array(seedBytes).fill(7);
    const pair = keyPairFromSeed(secret);
    secret.fill(0);
    expect(pair.seed).toEqual(new Uint8Array(seedBytes).fill(7));
  });

  it('isValidPublicKey refuses wrong lengths, the identity and a non-canonical encoding', () => {
    expect(isValidPublicKey(new Uint8Array(31))).toBe(false);
    expect(isValidPublicKey(new Uint8Array(33))).toBe(false);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(isValidPublicKey(identity)).toBe(false);
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[0] = 0xed;
    nonCanonical[31] = 0x7f; // y = p: a non-canonical encoding of y = 0 (a point of order 4)
    expect(isValidPublicKey(nonCanonical)).toBe(false);
  });
});

describe('input checks', () => {
  const pair = keyPairFromSeed(new Uint8Array(seedBytes).fill(1));
  const text = new Uint8Array([1, 2, 3]);
  const signature = sign(text, pair.seed);

  it('verify answers false, without throwing, for a signature or key of the wrong length', () => {
    for (const length of [0, 32, 63, 65, 96, 128]) {
      const wrong = new Uint8Array(length);
      wrong.set(signature.subarray(0, Math.min(length, signatureBytes)));
      expect(verify(text, wrong, pair.publicKey)).toBe(false);
    }
    expect(verify(text, signature, pair.publicKey.subarray(0, 31))).toBe(false);
    expect(verify(text, signature, new Uint8Array([...pair.publicKey, 0]))).toBe(false);
  });

  it('verify accepts views into larger buffers', () => {
    const backing = new Uint8Array(200);
    backing.set(signature, 5);
    backing.set(pair.publicKey, 100);
    backing.set(text, 150);
    expect(verify(backing.subarray(150, 153), backing.subarray(5, 69), backing.subarray(100, 132))).toBe(true);
  });

  it('sign and keyPairFromSeed refuse a seed of the wrong length; non-byte arguments are bugs (TypeError)', () => {
    expect(() => sign(text, new Uint8Array(64))).toThrow(RangeError);
    expect(() => sign(text, new Uint8Array(31))).toThrow(RangeError);
    expect(() => keyPairFromSeed(new Uint8Array(0))).toThrow(RangeError);
    expect(() => sign('abc' as unknown as Uint8Array, pair.seed)).toThrow(TypeError);
    expect(() => verify(text, 'abc' as unknown as Uint8Array, pair.publicKey)).toThrow(TypeError);
  });
});

describe('verifyBatch', () => {
  it('gives verify() of each item in order; one bad item does not affect the others', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.nat(4)), { maxLength: 40 }), (specs) => {
        const pairs = [keyPairFromSeed(new Uint8Array(seedBytes).fill(3)), keyPairFromSeed(new Uint8Array(seedBytes).fill(4))] as const;
        const items: VerifyItem[] = specs.map(([text, fault]) => {
          const signature = sign(text, pairs[0].seed);
          switch (fault) {
            case 0:
              return { message: text, signature, publicKey: pairs[0].publicKey };
            case 1:
              return { message: new Uint8Array([...text, 0]), signature, publicKey: pairs[0].publicKey };
            case 2:
              return { message: text, signature, publicKey: pairs[1].publicKey };
            case 3:
              return { message: text, signature: signature.subarray(0, 63), publicKey: pairs[0].publicKey };
            default:
              return { message: text, signature: flipBit(signature, 100), publicKey: pairs[0].publicKey };
          }
        });
        const results = verifyBatch(items);
        expect(results).toEqual(specs.map(([, fault]) => fault === 0));
        expect(results).toEqual(items.map((item) => verify(item.message, item.signature, item.publicKey)));
      }),
      { numRuns: 100 },
    );
  });

  it('takes an empty batch, and refuses one larger than verifyBatchItemsMax', () => {
    expect(verifyBatch([])).toEqual([]);
    const item: VerifyItem = { message: new Uint8Array(), signature: new Uint8Array(64), publicKey: new Uint8Array(32) };
    expect(() => verifyBatch(new Array<VerifyItem>(verifyBatchItemsMax + 1).fill(item))).toThrow(RangeError);
  });
});
