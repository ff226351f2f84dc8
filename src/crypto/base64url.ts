/**
 * Base64url (RFC 4648 §5) without padding, strict: every byte string has exactly one accepted
 * text, so a key or signature cannot be re-encoded into a second form that also decodes (which
 * would let two different texts stand for one signature). Decoding rejects padding, characters
 * outside the url-safe alphabet, lengths no byte string encodes to, non-zero unused trailing bits,
 * and, when the caller states it, the wrong decoded length. Node's own `Buffer.from(text,
 * 'base64url')` accepts all of these silently, so it is only used after the checks.
 */

export type Base64urlErrorCode =
  /** The text contains `=`: padding is not part of the format. */
  | 'padding'
  /** A character outside `A-Z a-z 0-9 - _`. */
  | 'alphabet'
  /** Not the one encoding of its bytes: a length of 4n+1 characters, or unused bits that are not zero. */
  | 'non_canonical'
  /** Decodes to a different number of bytes than the caller requires. */
  | 'length';

/** Raised for text that is not the canonical base64url encoding of the expected bytes. */
export class Base64urlError extends Error {
  override readonly name = 'Base64urlError';
  readonly code: Base64urlErrorCode;

  constructor(code: Base64urlErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const alphabetPattern = /^[A-Za-z0-9_-]*$/;

/** Characters of the unpadded base64url encoding of `byteLength` bytes. */
export function base64urlLength(byteLength: number): number {
  return Math.ceil((byteLength * 4) / 3);
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes canonical unpadded base64url. With `byteLength`, the text must decode to exactly that
 * many bytes; its length is checked before anything is decoded, so an oversized input costs
 * nothing. Returns a fresh Uint8Array (not a view of Node's shared Buffer pool).
 */
export function decodeBase64url(text: string, byteLength?: number): Uint8Array {
  if (byteLength !== undefined && text.length !== base64urlLength(byteLength)) {
    throw new Base64urlError('length', `expected ${base64urlLength(byteLength)} base64url characters (${byteLength} bytes), got ${text.length}`);
  }
  if (text.includes('=')) throw new Base64urlError('padding', 'base64url text must not be padded with "="');
  if (!alphabetPattern.test(text)) throw new Base64urlError('alphabet', 'base64url text may only contain A-Z, a-z, 0-9, "-" and "_"');
  if (text.length % 4 === 1) throw new Base64urlError('non_canonical', 'no byte string encodes to a base64url text of 4n+1 characters');
  const decoded = Buffer.from(text, 'base64url');
  // The only remaining ambiguity is in the unused low bits of the last character; the encoding of
  // the decoded bytes has them zero, so comparing with it catches exactly the non-zero ones.
  if (decoded.toString('base64url') !== text) {
    throw new Base64urlError('non_canonical', 'the unused bits of the last base64url character must be zero');
  }
  return new Uint8Array(decoded);
}
