/**
 * Ed25519 (RFC 8032, pure variant) for the signatures of wallet holders: key generation, signing,
 * and the one verification rule that every path uses — the API, the worker threads, offline
 * devices and `tengri verify`. The rule is libsodium's `crypto_sign_verify_detached` (through
 * `sodium-native`) with the signature and key lengths checked first; docs/CRYPTO.md says why it
 * was chosen over node:crypto (OpenSSL) and lists every test vector on which the two disagree.
 * Nothing else in the platform may verify an Ed25519 signature: a second verifier with other
 * edge-case rules would let two nodes disagree about whether a payment was authorised.
 *
 * What the rule accepts (pinned by ed25519-vectors.test.ts): the cofactorless equation
 * [S]B = R + [k]A, with S < L, R and A canonically encoded, and neither R nor A of small order.
 * Public keys with a small-order component that are not themselves of small order ("mixed order")
 * are accepted; `isValidPublicKey` refuses them, for use when a key is registered.
 *
 * Inputs are byte arrays. A private key is the RFC 8032 32-byte seed; libsodium's 64-byte form
 * (seed followed by the public key) exists only inside `sign`, for the duration of one call,
 * so no caller can pair a seed with the wrong public key (which leaks the private scalar when two
 * signatures over one message are made with different public keys).
 */
import { verifyBatchItemsMax } from '../limits.ts';
import sodium from 'sodium-native';
import { Base64urlError, decodeBase64url, encodeBase64url } from './base64url.ts';

export { Base64urlError, decodeBase64url, encodeBase64url };
export type { Base64urlErrorCode } from './base64url.ts';

export const publicKeyBytes = 32;
export const seedBytes = 32;
export const signatureBytes = 64;
const secretKeyBytes = 64;

/**
 * Most signatures one `verifyBatch` call checks. It bounds the time one call holds a worker
 * (about 4.5 s at the measured 14,600 verifications per second). It belongs in src/limits.ts once
 * the verification pool that uses it lands.
 */
export { verifyBatchItemsMax };

if (
  sodium.crypto_sign_BYTES !== signatureBytes ||
  sodium.crypto_sign_PUBLICKEYBYTES !== publicKeyBytes ||
  sodium.crypto_sign_SEEDBYTES !== seedBytes ||
  sodium.crypto_sign_SECRETKEYBYTES !== secretKeyBytes
) {
  throw new Error('sodium-native reports Ed25519 sizes other than RFC 8032: refusing to start');
}

export interface Ed25519KeyPair {
  /** The 32-byte encoding of the public point A. */
  readonly publicKey: Uint8Array;
  /** The 32-byte RFC 8032 private key (the seed hashed into the scalar and the nonce prefix). */
  readonly seed: Uint8Array;
}

export interface VerifyItem {
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly publicKey: Uint8Array;
}

function assertBytes(value: Uint8Array, length: number, what: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (value.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${value.length}`);
}

/** A new key pair from the operating system's random source (libsodium's `randombytes_buf`). */
export function generateKeyPair(): Ed25519KeyPair {
  const seed = new Uint8Array(seedBytes);
  sodium.randombytes_buf(seed);
  return keyPairFromSeed(seed);
}

/** The key pair of an RFC 8032 private key. Deterministic: the same seed gives the same key. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  assertBytes(seed, seedBytes, 'seed');
  const publicKey = new Uint8Array(publicKeyBytes);
  const secretKey = new Uint8Array(secretKeyBytes);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  sodium.sodium_memzero(secretKey);
  return { publicKey, seed: seed.slice() };
}

/**
 * The 64-byte Ed25519 signature (R ‖ S) of `message` under the private key `seed`. Deterministic
 * (RFC 8032): the same seed and message always give the same signature.
 */
export function sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
  assertBytes(seed, seedBytes, 'seed');
  const publicKey = new Uint8Array(publicKeyBytes);
  const secretKey = new Uint8Array(secretKeyBytes);
  const signature = new Uint8Array(signatureBytes);
  try {
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
    sodium.crypto_sign_detached(signature, message, secretKey);
  } finally {
    sodium.sodium_memzero(secretKey);
  }
  return signature;
}

/**
 * Whether `signature` is a valid signature of `message` by `publicKey` under the platform's one
 * verification rule. A signature that is not exactly 64 bytes or a key that is not exactly 32 is
 * simply not valid (false): the libsodium binding would otherwise throw on short input and read
 * only the first 64 bytes of a longer signature, accepting appended garbage.
 */
export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) {
    throw new TypeError('message, signature and publicKey must be Uint8Arrays');
  }
  if (signature.length !== signatureBytes || publicKey.length !== publicKeyBytes) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}

/**
 * `verify` of each item, in order: result i belongs to item i. One invalid item does not affect
 * the others. Pure and synchronous, so a worker thread can run it on its share of a batch.
 */
export function verifyBatch(items: readonly VerifyItem[]): boolean[] {
  if (items.length > verifyBatchItemsMax) {
    throw new RangeError(`verifyBatch takes at most ${verifyBatchItemsMax} items, got ${items.length}: split the batch`);
  }
  const results = new Array<boolean>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    results[i] = verify(item.message, item.signature, item.publicKey);
  }
  return results;
}

/**
 * Whether `publicKey` is a key a wallet may register: a canonical encoding of a point of prime
 * order L (not of small order, and without a small-order component). Every key made by
 * `generateKeyPair` passes. `verify` alone also accepts mixed-order keys, which only a signer who
 * built one on purpose can hold, and with them signatures whose validity depends on the hash
 * value modulo 8 (edge case 3 of ed25519-vectors.test.ts). Refusing such keys at registration
 * removes that class. It does not make verification rules interchangeable: with any key, a
 * signer can still build signatures (a mixed-order R) that cofactored verifiers accept and this
 * rule rejects, which is why there is one rule everywhere.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('publicKey must be a Uint8Array');
  if (publicKey.length !== publicKeyBytes) return false;
  return sodium.crypto_core_ed25519_is_valid_point(publicKey);
}
