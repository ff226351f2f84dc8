/**
 * The hash chain over journal batches, which makes the journal a tamper-evident audit log:
 * hash = SHA-256(previousHash[32] || sequence u64 || timestamp u64 || count u32 || body), all
 * big-endian. Changing, removing or reordering any stored batch breaks every later hash.
 */
import { createHash } from 'node:crypto';
import type { JournalBatch } from '../store/store.ts';

export const genesisHash: Uint8Array = new Uint8Array(32);

export function batchHash(previousHash: Uint8Array, sequence: number, timestamp: number, count: number, body: Uint8Array): Uint8Array {
  const header = Buffer.allocUnsafe(20);
  header.writeBigUInt64BE(BigInt(sequence), 0);
  header.writeBigUInt64BE(BigInt(timestamp), 8);
  header.writeUInt32BE(count, 16);
  return new Uint8Array(createHash('sha256').update(previousHash).update(header).update(body).digest());
}

export function makeBatch(previousHash: Uint8Array, sequence: number, timestamp: number, count: number, body: Uint8Array): JournalBatch {
  return { sequence, timestamp, count, previousHash, hash: batchHash(previousHash, sequence, timestamp, count, body), body };
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
