/**
 * The signature a wallet holder puts on a payment. The holder signs with Ed25519 the UTF-8 bytes
 * of the RFC 8785 canonical JSON of the payment object without its `signature` field, and puts
 * the 64-byte signature in that field as unpadded base64url. The public key, a raw 32-byte
 * Ed25519 key in base64url, is the one registered for the paying wallet: the verifier takes it
 * from the platform's records, never from the payment itself.
 *
 * Because the canonical form is computed from the parsed object, a payment verifies whatever the
 * key order and whitespace of the JSON text it arrived in, and fails on any change to any field
 * value, key or nesting. What the fields are and what they mean (the per-wallet sequence number
 * against replay among them) is the payments domain's business; this module signs whatever plain
 * JSON object it is given. docs/CRYPTO.md has a worked example.
 */
import { Base64urlError, decodeBase64url, encodeBase64url } from './base64url.ts';
import { CanonicalJsonError, canonicalJsonBytes } from './canonical-json.ts';
import { publicKeyBytes, sign, signatureBytes, verify } from './ed25519.ts';

/** The field of a payment that carries the holder's signature and is left out of what is signed. */
export const signatureField = 'signature';

/**
 * The bytes a holder signs: UTF-8 of the canonical JSON of `payment` without its `signature`
 * field. Throws `CanonicalJsonError` for a payment that is not a plain JSON object or that holds
 * anything RFC 8785 cannot represent faithfully (see canonical-json.ts).
 */
export function signingBytes(payment: unknown): Uint8Array {
  if (typeof payment !== 'object' || payment === null || Array.isArray(payment)) {
    throw new CanonicalJsonError('object_not_plain', '', 'a payment must be a JSON object');
  }
  // Copy the property descriptors rather than the values, so that the copy keeps everything that
  // makes the original unrepresentable (its prototype, accessors, symbol keys) for the checks.
  const descriptors: Record<PropertyKey, PropertyDescriptor> = Object.getOwnPropertyDescriptors(payment);
  delete descriptors[signatureField];
  return canonicalJsonBytes(Object.create(Object.getPrototypeOf(payment) as object | null, descriptors));
}

/** The base64url Ed25519 signature of `payment` (any existing `signature` field is ignored). */
export function signPayment(payment: unknown, seed: Uint8Array): string {
  return encodeBase64url(sign(signingBytes(payment), seed));
}

/**
 * Whether `payment` carries in its `signature` field a valid signature by `publicKey` (base64url
 * of the raw 32-byte key). False, never an exception, for anything that is not such a payment: a
 * missing, non-string or non-canonical signature or key, a payment that is not a plain JSON
 * object or holds a value RFC 8785 cannot represent. Throws only on a bug (an error of another
 * kind than the two typed decoding errors).
 */
export function verifyPayment(payment: unknown, publicKey: unknown): boolean {
  if (typeof publicKey !== 'string') return false;
  if (typeof payment !== 'object' || payment === null || Array.isArray(payment)) return false;
  const signatureDescriptor = Object.getOwnPropertyDescriptor(payment, signatureField);
  const signatureText: unknown = signatureDescriptor?.value;
  if (typeof signatureText !== 'string') return false;
  try {
    const publicKeyRaw = decodeBase64url(publicKey, publicKeyBytes);
    const signature = decodeBase64url(signatureText, signatureBytes);
    return verify(signingBytes(payment), signature, publicKeyRaw);
  } catch (error) {
    if (error instanceof Base64urlError || error instanceof CanonicalJsonError) return false;
    throw error;
  }
}
