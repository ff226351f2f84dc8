/**
 * `tengri keygen` and `tengri sign`: what a wallet holder needs to pay by hand with curl. The key
 * file holds the raw 32-byte Ed25519 private key (RFC 8032 seed) and the public key, both in
 * base64url; it is written with mode 0600 and should never leave the holder's machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeBase64url, encodeBase64url } from '../crypto/base64url.ts';
import { generateKeyPair, keyPairFromSeed, publicKeyBytes, seedBytes } from '../crypto/ed25519.ts';
import { signPayment, signatureField } from '../crypto/payment-signature.ts';

export interface KeyFile {
  readonly publicKey: string;
  readonly privateKey: string;
}

export function keygen(out: string | undefined): KeyFile {
  const pair = generateKeyPair();
  const key: KeyFile = { publicKey: encodeBase64url(pair.publicKey), privateKey: encodeBase64url(pair.seed) };
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

export function readKeyFile(path: string): { publicKey: Uint8Array; seed: Uint8Array } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // Not the parser's message: it quotes the start of the file, which may be a key.
    throw new Error(`${path}: not a JSON key file made by tengri keygen`);
  }
  const privateKey = (parsed as { privateKey?: unknown }).privateKey;
  if (typeof privateKey !== 'string') throw new Error(`${path}: no privateKey`);
  const pair = keyPairFromSeed(decodeBase64url(privateKey, seedBytes));
  const publicKey = (parsed as { publicKey?: unknown }).publicKey;
  if (publicKey !== undefined && publicKey !== encodeBase64url(pair.publicKey)) throw new Error(`${path}: publicKey does not belong to privateKey`);
  if (pair.publicKey.length !== publicKeyBytes) throw new Error(`${path}: bad key`);
  return pair;
}

/**
 * Signs a payment given as JSON text: returns the payment with its `signature` set (any existing
 * one is replaced). Refuses text that is not one JSON object with no repeated keys, so what is
 * signed is exactly what the server will read.
 */
export function signPaymentText(text: string, keyPath: string): Record<string, unknown> {
  let payment: unknown;
  try {
    payment = JSON.parse(text);
  } catch (error) {
    throw new Error(`the payment is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof payment !== 'object' || payment === null || Array.isArray(payment)) throw new Error('the payment must be a JSON object');
  const { seed } = readKeyFile(keyPath);
  const unsigned = { ...(payment as Record<string, unknown>) };
  delete unsigned[signatureField];
  return { ...unsigned, [signatureField]: signPayment(unsigned, seed) };
}
