/**
 * The platform ledger: the ledger core with the two-tier platform as its extension. Everything
 * that opens a journal (the engine, recovery, `tengri verify`) builds its ledger here, so the
 * platform's commands always replay the same way.
 */
import { isValidPublicKey } from '../crypto/ed25519.ts';
import { decodeBase64url } from '../crypto/base64url.ts';
import { Ledger } from '../ledger/ledger.ts';
import { Platform, type PlatformOptions } from './platform.ts';

export function isValidWalletKey(publicKey: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicKey)) return false;
  try {
    return isValidPublicKey(decodeBase64url(publicKey, 32));
  } catch {
    return false;
  }
}

export function createLedger(options: PlatformOptions = {}): Ledger {
  return new Ledger(new Platform({ isValidPublicKey: isValidWalletKey, ...options }));
}

/** The platform of a ledger made by `createLedger`. */
export function platformOf(ledger: Ledger): Platform {
  if (!(ledger.extension instanceof Platform)) throw new Error('this ledger has no platform');
  return ledger.extension;
}

export { Platform };
