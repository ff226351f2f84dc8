// Proves strict base64url has exactly one accepted text per byte string: encoding round-trips,
// and padding, foreign characters, impossible lengths, non-zero unused bits and wrong decoded
// lengths are each refused with their own error code.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Base64urlError, base64urlLength, decodeBase64url, encodeBase64url, type Base64urlErrorCode } from './base64url.ts';

function errorCode(run: () => unknown): Base64urlErrorCode | 'none' {
  try {
    run();
    return 'none';
  } catch (error) {
    if (error instanceof Base64urlError) return error.code;
    throw error;
  }
}

describe('base64url', () => {
  it('encodes the RFC 4648 §10 test strings without padding, url-safe', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [text, encoded] of cases) {
      expect(encodeBase64url(new TextEncoder().encode(text))).toBe(encoded);
      expect(new TextDecoder().decode(decodeBase64url(encoded))).toBe(text);
    }
    expect(encodeBase64url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe('-_-_');
  });

  it('round-trips any bytes, including views into a larger buffer, and the text has the predicted length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(8), (bytes, offset) => {
        const backing = new Uint8Array(bytes.length + offset + 3);
        backing.set(bytes, offset);
        const view = backing.subarray(offset, offset + bytes.length);
        const text = encodeBase64url(view);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(text.length).toBe(base64urlLength(bytes.length));
        expect(decodeBase64url(text)).toEqual(bytes);
        expect(decodeBase64url(text, bytes.length)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('returns a plain Uint8Array of its own', () => {
    const decoded = decodeBase64url('Zm9v');
    expect(Object.getPrototypeOf(decoded)).toBe(Uint8Array.prototype);
    expect(decoded.byteOffset).toBe(0);
    expect(decoded.buffer.byteLength).toBe(3);
  });

  it('refuses each kind of non-canonical or invalid text with its code', () => {
    const cases: [string, number | undefined, Base64urlErrorCode][] = [
      ['Zg==', undefined, 'padding'],
      ['Zm8=', undefined, 'padding'],
      ['Zg=', undefined, 'padding'],
      ['Zm9v+', undefined, 'alphabet'],
      ['Zm9v/w', undefined, 'alphabet'],
      ['Zm 9v', undefined, 'alphabet'],
      ['Zm9v\n', undefined, 'alphabet'],
      ['Zm9vé', undefined, 'alphabet'],
      ['Z', undefined, 'non_canonical'],
      ['Zm9vY', undefined, 'non_canonical'],
      ['Zh', undefined, 'non_canonical'], // 'h' leaves 4 unused bits set
      ['Zm9', undefined, 'non_canonical'], // '9' leaves 2 unused bits set
      ['Zm8', 3, 'length'],
      ['Zm9vYmFy', 5, 'length'],
      ['', 1, 'length'],
    ];
    for (const [text, length, code] of cases) expect([text, errorCode(() => decodeBase64url(text, length))]).toEqual([text, code]);
  });

  it('accepts exactly the texts that encodeBase64url produces (arbitrary strings over the alphabet and more)', () => {
    const alphabet = fc.constantFrom(...'AQgwZz09_-+/=.'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 16 }), (text) => {
        const code = errorCode(() => decodeBase64url(text));
        if (code === 'none') expect(encodeBase64url(decodeBase64url(text))).toBe(text);
        else expect(code).not.toBe('length');
      }),
      { numRuns: 3000 },
    );
  });

  it('checks the length before decoding, so an oversized text is refused cheaply', () => {
    expect(errorCode(() => decodeBase64url('A'.repeat(10_000_000), 32))).toBe('length');
  });
});
