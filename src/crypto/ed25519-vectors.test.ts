// Proves the platform's one Ed25519 verification rule (libsodium through sodium-native, lengths
// checked first) gives Wycheproof's expected answer on all 151 cases, and pins exactly which
// ZIP-215 and "Taming the many EdDSAs" edge-case signatures it accepts — and where node:crypto
// (OpenSSL) answers differently — so any change of behaviour fails here; and that the verifier
// also loads in a worker thread.
import { createHash, createPublicKey, verify as opensslVerifyRaw } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import sodium from 'sodium-native';
import { describe, expect, it } from 'vitest';
import { isValidPublicKey, verify } from './ed25519.ts';
import { edgeCases, vectorFileSha256, vectorsDirectory, wycheproofCases, zip215Cases, type VerifyVector } from './test-vectors.ts';

/** node:crypto's verifier, used here only as the reference the choice was made against. */
function opensslVerify({ message, signature, publicKey }: VerifyVector): boolean {
  const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
  const key = createPublicKey({ key: Buffer.concat([spkiPrefix, publicKey]), format: 'der', type: 'spki' });
  return opensslVerifyRaw(null, message, key, signature);
}

function accepted<T extends VerifyVector>(cases: readonly T[], verifier: (vector: T) => boolean, id: (vector: T) => number): number[] {
  return cases.filter(verifier).map(id);
}

const wycheproof = wycheproofCases();
const zip215 = zip215Cases();
const edges = edgeCases();

describe('vector files', () => {
  it.each(Object.entries(vectorFileSha256))('%s has the SHA-256 recorded in vectors/SOURCES.md', (name, sha256) => {
    expect(createHash('sha256').update(readFileSync(join(vectorsDirectory, name))).digest('hex')).toBe(sha256);
  });

  it('hold the expected number of cases', () => {
    expect(wycheproof.length).toBe(151);
    expect(wycheproof.filter((test) => test.result === 'valid').length).toBe(88);
    expect(wycheproof.filter((test) => test.result === 'invalid').length).toBe(63);
    // This Wycheproof release marks no case "acceptable", so every case has one required answer.
    expect(wycheproof.filter((test) => test.result === 'acceptable').length).toBe(0);
    expect(zip215.length).toBe(196);
    expect(edges.length).toBe(12);
  });
});

describe('Wycheproof ed25519_test.json', () => {
  it.each(wycheproof.map((test) => [test.tcId, test.flags.join(','), test.comment || '-', test] as const))(
    'tcId %i [%s] %s',
    (_tcId, _flags, _comment, test) => {
      expect(verify(test.message, test.signature, test.publicKey)).toBe(test.result === 'valid');
    },
  );

  it('node:crypto (OpenSSL) agrees on every case too', () => {
    const disagreements = wycheproof.filter((test) => opensslVerify(test) !== (test.result === 'valid')).map((test) => test.tcId);
    expect(disagreements).toEqual([]);
  });

  it('needs the length checks: the raw binding throws on short signatures and accepts appended bytes', () => {
    // Without verify()'s length check, tcId 33, 34 and 37 (a valid signature followed by extra
    // bytes) would be accepted, because the binding hands libsodium only the first 64 bytes.
    const raw = (test: VerifyVector): boolean | 'throws' => {
      try {
        return sodium.crypto_sign_verify_detached(test.signature, test.message, test.publicKey);
      } catch {
        return 'throws';
      }
    };
    const wrongLength = wycheproof.filter((test) => test.signature.length !== 64);
    expect(wrongLength.map((test) => [test.tcId, raw(test)])).toEqual([
      [30, 'throws'],
      [31, 'throws'],
      [32, 'throws'],
      [33, true],
      [34, true],
      [35, false],
      [36, false],
      [37, true],
      [38, 'throws'],
      [39, 'throws'],
      [40, 'throws'],
      [41, 'throws'],
    ]);
    for (const test of wrongLength) expect(verify(test.message, test.signature, test.publicKey)).toBe(false);
  });
});

describe('ZIP-215 vectors (small-order and non-canonical A and R, S = 0)', () => {
  it('the platform verifier accepts none of the 196', () => {
    expect(accepted(zip215, (test) => verify(test.message, test.signature, test.publicKey), (test) => test.index)).toEqual([]);
  });

  it('which includes rejecting the three that the legacy (pre-ZIP-215 zcashd) rules accepted', () => {
    expect(zip215.filter((test) => test.validLegacy).map((test) => test.index)).toEqual([16, 19, 75]);
    expect(zip215.every((test) => test.validZip215)).toBe(true);
  });

  it('node:crypto (OpenSSL) accepts exactly these twelve', () => {
    expect(accepted(zip215, opensslVerify, (test) => test.index)).toEqual([0, 16, 19, 28, 43, 73, 75, 76, 112, 130, 168, 182]);
  });
});

describe('the universal signature of the identity key (docs/CRYPTO.md, "Why this matters")', () => {
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const constant = new Uint8Array(64);
  constant[0] = 1; // R = the identity, S = 0

  it('node:crypto accepts it for any message; the platform verifier for none', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (message) => {
        expect(opensslVerify({ message, signature: constant, publicKey: identity })).toBe(true);
        expect(verify(message, constant, identity)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('edge cases of "Taming the many EdDSAs" (eprint 2020/1244)', () => {
  it('the platform verifier accepts only case 3 (mixed-order A and R that satisfy the cofactorless equation)', () => {
    expect(accepted(edges, (test) => verify(test.message, test.signature, test.publicKey), (test) => test.index)).toEqual([3]);
  });

  it('node:crypto (OpenSSL) also accepts cases 0, 1, 2 (a small-order A or R) and 11 (A encoded as x = 0 with the sign bit set)', () => {
    expect(accepted(edges, opensslVerify, (test) => test.index)).toEqual([0, 1, 2, 3, 11]);
  });

  it('isValidPublicKey accepts only the prime-order keys among the edge cases (those of 6 and 7)', () => {
    expect(edges.filter((test) => isValidPublicKey(test.publicKey)).map((test) => test.index)).toEqual([6, 7]);
  });

  it('isValidPublicKey accepts every Wycheproof key', () => {
    expect(wycheproof.every((test) => isValidPublicKey(test.publicKey))).toBe(true);
  });
});

describe('sodium-native in a worker thread', () => {
  it('loads and verifies there too, as the verification pool will need', async () => {
    // A plain CommonJS worker, so that it needs no TypeScript loader: it checks RFC 8032 TEST 1.
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const sodium = require(workerData.sodiumPath);
      const hex = (text) => Buffer.from(text, 'hex');
      parentPort.postMessage(sodium.crypto_sign_verify_detached(hex(workerData.signature), hex(''), hex(workerData.publicKey)));
    `;
    const worker = new Worker(source, {
      eval: true,
      workerData: {
        sodiumPath: createRequire(import.meta.url).resolve('sodium-native'),
        publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
        signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      },
    });
    const result = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(result).toBe(true);
  });
});
