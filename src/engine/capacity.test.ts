// Proves the default record caps fit the heap the process has, so `ledger_full` comes before the
// heap runs out, and never exceed the fixed maxima.
import { expect, it } from 'vitest';
import { accountsInMemoryDefault, transfersInMemoryDefault } from '../limits.ts';
import { capacityForHeap, capacityHeapBytes } from './capacity.ts';

it('scales the caps down to a small heap and caps them on a large one', () => {
  const small = capacityForHeap(512 * 1024 * 1024);
  expect(capacityHeapBytes(small)).toBeLessThan(512 * 1024 * 1024);
  expect(small.transfersMax).toBeLessThan(transfersInMemoryDefault);
  const huge = capacityForHeap(64 * 1024 ** 3);
  expect(huge).toEqual({ transfersMax: transfersInMemoryDefault, accountsMax: accountsInMemoryDefault });
  const node20Default = capacityForHeap(4144 * 1024 * 1024);
  expect(capacityHeapBytes(node20Default)).toBeLessThan(0.85 * 4144 * 1024 * 1024);
});
