/**
 * Ed25519 verifications (and signatures) per second on one core: the platform's verifier
 * (libsodium through sodium-native, src/crypto/ed25519.ts) against node:crypto (OpenSSL), the
 * one it was chosen over. Not part of `npm run bench`; its figures are in docs/CRYPTO.md.
 *
 *   npx tsx bench/ed25519.bench.ts [--seconds 2] [--rounds 5]
 *
 * Setup: 1024 key pairs from a fixed seed, each signing the canonical JSON of one sample payment
 * (about 150 bytes), so every verification sees a different key, message and signature, as a
 * verification worker would. Each variant runs for --seconds per round, rounds interleaved (so a
 * slow moment of the machine hits every variant alike); the table gives the median and the best
 * round. Everything runs on the main thread, synchronously: one core.
 *
 * node:crypto needs a KeyObject per public key. "cached key" imports all keys before timing (the
 * best case, a warm cache of registered keys); "raw key" imports the 32 raw bytes on every
 * verification, as a stateless verifier handed raw keys must.
 */
import { createPrivateKey, createPublicKey, sign as opensslSign, verify as opensslVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import sodium from 'sodium-native';
import { encodeBase64url } from '../src/crypto/base64url.ts';
import { keyPairFromSeed, sign, verify, verifyBatch, type VerifyItem } from '../src/crypto/ed25519.ts';
import { signPayment, signingBytes, verifyPayment } from '../src/crypto/payment-signature.ts';
import { seededRandom } from './support.ts';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const seconds = option('seconds', 2);
const rounds = option('rounds', 5);
const keyCount = 1024;

const random = seededRandom(20_261_125);
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

interface Fixture extends VerifyItem {
  readonly seed: Uint8Array;
  readonly publicKeyObject: KeyObject;
  readonly privateKeyObject: KeyObject;
  readonly payment: Record<string, unknown>;
  readonly publicKeyText: string;
}

const fixtures: Fixture[] = [];
for (let i = 0; i < keyCount; i++) {
  const seed = new Uint8Array(32).map(() => Math.floor(random() * 256));
  const { publicKey } = keyPairFromSeed(seed);
  const payment = {
    id: `pay-${String(i).padStart(6, '0')}`,
    payer: `w:holder-${i}`,
    payee: 'w:merchant-0042',
    asset: 'KZT',
    amount: String(Math.floor(random() * 10_000_000)),
    sequence: i + 1,
    reference: 'school lunch',
  };
  const message = signingBytes(payment);
  const signed = { ...payment, signature: signPayment(payment, seed) };
  fixtures.push({
    seed,
    publicKey,
    message,
    signature: sign(message, seed),
    publicKeyObject: createPublicKey({ key: Buffer.concat([spkiPrefix, publicKey]), format: 'der', type: 'spki' }),
    privateKeyObject: createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' }),
    payment: signed,
    publicKeyText: encodeBase64url(publicKey),
  });
}

/** Runs `operation(fixture)` over the fixtures for `seconds`; returns operations per second. */
function measure(operation: (fixture: Fixture) => boolean): number {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  let ok = true;
  const started = performance.now();
  while (performance.now() < deadline) {
    for (let i = 0; i < 64; i++) ok = operation(fixtures[(count + i) % keyCount]!) && ok;
    count += 64;
  }
  const elapsed = (performance.now() - started) / 1000;
  if (!ok) throw new Error('an operation failed: the benchmark is broken');
  return count / elapsed;
}

const variants: readonly [string, (fixture: Fixture) => boolean][] = [
  ['verify: sodium-native, src/crypto verify()', (f) => verify(f.message, f.signature, f.publicKey)],
  ['verify: sodium-native, raw binding', (f) => sodium.crypto_sign_verify_detached(f.signature, f.message, f.publicKey)],
  ['verify: node:crypto, cached KeyObject', (f) => opensslVerify(null, f.message, f.publicKeyObject, f.signature)],
  [
    'verify: node:crypto, raw key imported each time',
    (f) => opensslVerify(null, f.message, createPublicKey({ key: Buffer.concat([spkiPrefix, f.publicKey]), format: 'der', type: 'spki' }), f.signature),
  ],
  ['verifyPayment (canonical JSON + base64url + verify)', (f) => verifyPayment(f.payment, f.publicKeyText)],
  ['sign: sodium-native, src/crypto sign() from the seed', (f) => sign(f.message, f.seed).length === 64],
  ['sign: node:crypto, cached KeyObject', (f) => opensslSign(null, f.message, f.privateKeyObject).length === 64],
];

/** verifyBatch over batches of 64 items; returns signatures verified per second. */
function measureBatch(): number {
  const batches: VerifyItem[][] = [];
  for (let start = 0; start < keyCount; start += 64) batches.push(fixtures.slice(start, start + 64));
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let count = 0;
  while (performance.now() < deadline) {
    const results = verifyBatch(batches[(count / 64) % batches.length]!);
    if (!results.every(Boolean)) throw new Error('verifyBatch failed: the benchmark is broken');
    count += 64;
  }
  return count / ((performance.now() - started) / 1000);
}

// Warm-up: let the JIT settle on every path before timing.
for (const [, operation] of variants) for (const fixture of fixtures) operation(fixture);

const batchName = 'verifyBatch, batches of 64 (per signature)';
const names = [...variants.map(([name]) => name), batchName];
const samples = new Map<string, number[]>(names.map((name) => [name, []]));
measureBatch();
for (let round = 0; round < rounds; round++) {
  for (const [name, operation] of variants) samples.get(name)!.push(measure(operation));
  samples.get(batchName)!.push(measureBatch());
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const cpu = os.cpus()[0]?.model.trim() ?? 'unknown';
console.log(`# Ed25519 on one core — ${new Date().toISOString()}`);
console.log(`${cpu}, ${os.availableParallelism()} CPUs available, load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
console.log(`Node ${process.version}, OpenSSL ${process.versions.openssl}, sodium-native ${sodiumNativeVersion()} (libsodium 1.0.21)`);
console.log(`${keyCount} keys, ${rounds} rounds of ${seconds} s per variant\n`);
console.log('| operation | median /s | best /s |');
console.log('|---|---:|---:|');
for (const name of names) {
  const values = samples.get(name)!;
  console.log(`| ${name} | ${Math.round(median(values)).toLocaleString('en-US')} | ${Math.round(Math.max(...values)).toLocaleString('en-US')} |`);
}

function sodiumNativeVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../node_modules/sodium-native/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
