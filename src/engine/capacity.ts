/**
 * How many transfers and accounts the writer may hold, derived from the heap it actually has.
 * Every record lives in the writer's heap (measured: about 335 bytes per transfer and 215 per
 * account, docs/PERFORMANCE.md); a cap sized for a larger heap than the process got would let the
 * heap run out before `ledger_full`, and recovery (which replays without a cap) would then run out
 * again on every restart. So the defaults are the smaller of the fixed maxima in limits.ts and
 * what fits in the heap with room to spare.
 */
import { getHeapStatistics } from 'node:v8';
import { accountsInMemoryDefault, transfersInMemoryDefault } from '../limits.ts';

/** Conservative per-record heap costs, above the measured ones. */
export const transferHeapBytes = 400;
export const accountHeapBytes = 300;

export interface Capacity {
  readonly transfersMax: number;
  readonly accountsMax: number;
}

export function capacityForHeap(heapLimitBytes: number): Capacity {
  return {
    transfersMax: Math.max(1, Math.min(transfersInMemoryDefault, Math.floor((heapLimitBytes * 0.55) / transferHeapBytes))),
    accountsMax: Math.max(1, Math.min(accountsInMemoryDefault, Math.floor((heapLimitBytes * 0.25) / accountHeapBytes))),
  };
}

export function defaultCapacity(): Capacity {
  return capacityForHeap(getHeapStatistics().heap_size_limit);
}

/** Heap bytes a capacity needs when full; start warns when it exceeds the heap limit. */
export function capacityHeapBytes(capacity: Capacity): number {
  return capacity.transfersMax * transferHeapBytes + capacity.accountsMax * accountHeapBytes;
}
