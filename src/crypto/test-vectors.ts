/**
 * Loads the Ed25519 test vectors checked in under src/crypto/vectors/ (copied from the project's
 * corpus; vectors/SOURCES.md names each file's origin, commit, licence and SHA-256) into typed
 * records, checking their shape as it goes, for the tests and the benchmark. Not used at run time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const vectorsDirectory = join(import.meta.dirname, 'vectors');

/** SHA-256 of each vector file as recorded in vectors/SOURCES.md; a test checks them. */
export const vectorFileSha256: Readonly<Record<string, string>> = {
  'wycheproof_ed25519_test.json': '752d2ea7d7c6cf4736381b6cbacb61f8182b126ab7cd9b058f00c50084975536',
  'noble_zip215.json': 'b2716ff6e90fed207942f9d000a6c83cc5c133096a63f3b12104da91b5f771cb',
  'noble_edge-cases.json': 'edb206629fc6614cb881ecf01f4007240f25aedec3f31e4047d15b8d02aefcad',
  'rfc8032_section7_1.json': 'eafc06dd919f181398d71b926f5bae246211b775c8d49a10d49fbbb18d2e3958',
  'rfc8032_test_sha_abc.computed.json': '98e4ee572a9caccc622d16be4a20e22d724f2b28dfda5db0aaf45bec9790344f',
  'supercop_sign_input_first64.txt': '1b23f511606abff22d1ce7d660375e491cdabb80a24c31f609bd3e7d31b324e0',
};

export function hexToBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`not lower-case hex of whole bytes: ${hex.slice(0, 20)}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(join(vectorsDirectory, name), 'utf8')) as unknown;
}

function field(record: unknown, name: string): unknown {
  if (typeof record !== 'object' || record === null || !(name in record)) throw new Error(`vector lacks "${name}"`);
  return (record as Record<string, unknown>)[name];
}

function stringField(record: unknown, name: string): string {
  const value = field(record, name);
  if (typeof value !== 'string') throw new Error(`vector field "${name}" is not a string`);
  return value;
}

function arrayField(record: unknown, name: string): unknown[] {
  const value = field(record, name);
  if (!Array.isArray(value)) throw new Error(`vector field "${name}" is not an array`);
  return value;
}

export interface VerifyVector {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface WycheproofCase extends VerifyVector {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly result: 'valid' | 'invalid' | 'acceptable';
}

export function wycheproofCases(): WycheproofCase[] {
  const file = readJson('wycheproof_ed25519_test.json');
  const cases: WycheproofCase[] = [];
  for (const group of arrayField(file, 'testGroups')) {
    const publicKey = hexToBytes(stringField(field(group, 'publicKey'), 'pk'));
    for (const test of arrayField(group, 'tests')) {
      const result = stringField(test, 'result');
      const tcId = field(test, 'tcId');
      if (result !== 'valid' && result !== 'invalid' && result !== 'acceptable') throw new Error(`unknown result ${result}`);
      if (typeof tcId !== 'number') throw new Error('tcId is not a number');
      cases.push({
        tcId,
        comment: stringField(test, 'comment'),
        flags: arrayField(test, 'flags').map(String),
        result,
        publicKey,
        message: hexToBytes(stringField(test, 'msg')),
        signature: hexToBytes(stringField(test, 'sig')),
      });
    }
  }
  return cases;
}

export interface Zip215Case extends VerifyVector {
  readonly index: number;
  readonly validLegacy: boolean;
  readonly validZip215: boolean;
}

/** ZIP-215 vectors (from ed25519-zebra by way of noble-ed25519); every one signs "Zcash". */
export function zip215Cases(): Zip215Case[] {
  const message = new TextEncoder().encode('Zcash');
  const file = readJson('noble_zip215.json');
  if (!Array.isArray(file)) throw new Error('noble_zip215.json is not an array');
  return file.map((entry, index) => ({
    index,
    publicKey: hexToBytes(stringField(entry, 'vk_bytes')),
    signature: hexToBytes(stringField(entry, 'sig_bytes')),
    message,
    validLegacy: field(entry, 'valid_legacy') === true,
    validZip215: field(entry, 'valid_zip215') === true,
  }));
}

export interface EdgeCase extends VerifyVector {
  readonly index: number;
}

/** The twelve cases of "Taming the many EdDSAs" (eprint 2020/1244), as noble-ed25519 ships them. */
export function edgeCases(): EdgeCase[] {
  const file = readJson('noble_edge-cases.json');
  if (!Array.isArray(file)) throw new Error('noble_edge-cases.json is not an array');
  return file.map((entry, index) => ({
    index,
    publicKey: hexToBytes(stringField(entry, 'pub_key')),
    message: hexToBytes(stringField(entry, 'message')),
    signature: hexToBytes(stringField(entry, 'signature')),
  }));
}

export interface SignVector extends VerifyVector {
  readonly name: string;
  readonly seed: Uint8Array;
}

function signVector(entry: unknown): SignVector {
  return {
    name: stringField(entry, 'name'),
    seed: hexToBytes(stringField(entry, 'priv')),
    publicKey: hexToBytes(stringField(entry, 'pub')),
    message: hexToBytes(stringField(entry, 'msg')),
    signature: hexToBytes(stringField(entry, 'sig')),
  };
}

/**
 * RFC 8032 §7.1 TEST 1, 2, 3, 1024 and SHA(abc). The corpus computed SHA(abc)'s signature with
 * OpenSSL rather than copying it; it equals the RFC's printed value (dc2a4459…1177331a704), as
 * several independent implementations' test suites also record.
 */
export function rfc8032Vectors(): SignVector[] {
  return [...arrayField(readJson('rfc8032_section7_1.json'), 'vectors').map(signVector), signVector(readJson('rfc8032_test_sha_abc.computed.json'))];
}

/** The first 64 lines of SUPERCOP's sign.input: "seed‖pk:pk:msg:sig‖msg:". */
export function supercopVectors(): SignVector[] {
  const lines = readFileSync(join(vectorsDirectory, 'supercop_sign_input_first64.txt'), 'utf8').split('\n').filter((line) => line !== '');
  return lines.map((line, index) => {
    const [seedAndPublicKey, publicKey, message, signatureAndMessage] = line.split(':');
    if (seedAndPublicKey === undefined || publicKey === undefined || message === undefined || signatureAndMessage === undefined) {
      throw new Error(`SUPERCOP line ${index + 1} has too few fields`);
    }
    if (seedAndPublicKey.slice(64) !== publicKey || signatureAndMessage.slice(128) !== message) {
      throw new Error(`SUPERCOP line ${index + 1} is inconsistent`);
    }
    return {
      name: `SUPERCOP line ${index + 1}`,
      seed: hexToBytes(seedAndPublicKey.slice(0, 64)),
      publicKey: hexToBytes(publicKey),
      message: hexToBytes(message),
      signature: hexToBytes(signatureAndMessage.slice(0, 128)),
    };
  });
}
